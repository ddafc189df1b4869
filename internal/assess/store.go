package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

// placeholders is "?, ?, …" n times.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func (s *Service) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// loadSettings reads the rules, or the defaults.
func loadSettings(ctx context.Context, q db.Querier) (Settings, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT value FROM assess_settings WHERE key = 'rules'`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("assess: read settings: %w", err)
	}
	st := DefaultSettings()
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return Settings{}, fmt.Errorf("assess: decode settings: %w", err)
	}
	return st, nil
}

// unitsOf lists the assessed units (active, of the assessed kinds) by code.
func unitsOf(ctx context.Context, q db.Querier, kinds []string) ([]Unit, error) {
	if len(kinds) == 0 {
		kinds = DefaultSettings().Kinds
	}
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	rows, err := q.QueryContext(ctx, `SELECT id, code, name, kind FROM units WHERE active = TRUE AND kind IN (`+placeholders(len(kinds))+`) ORDER BY sort_order, code`, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: list units: %w", err)
	}
	defer rows.Close()
	var out []Unit
	for rows.Next() {
		var u Unit
		if err := rows.Scan(&u.ID, &u.Code, &u.Name, &u.Kind); err != nil {
			return nil, fmt.Errorf("assess: scan unit: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Units lists the assessed units.
func (s *Service) Units(ctx context.Context) ([]Unit, error) {
	st, err := loadSettings(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	return unitsOf(ctx, s.DB, st.Kinds)
}

func (s *Service) unitName(ctx context.Context, id int64) (string, error) {
	var name string
	err := s.DB.QueryRowContext(ctx, `SELECT name FROM units WHERE id = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNotFound("unit_not_found", fmt.Sprintf("单位 %d 不存在", id), fmt.Sprintf("unit %d not found", id))
	}
	if err != nil {
		return "", fmt.Errorf("assess: unit %d: %w", id, err)
	}
	return name, nil
}

const periodCols = `id, key, kind, start_on, end_on, state, version, published_at, published_on, signed_off_at, signed_off_by`

func scanPeriod(row interface{ Scan(...any) error }) (*Period, error) {
	var p Period
	var pub, signed sql.NullTime
	var pubOn sql.NullString
	if err := row.Scan(&p.ID, &p.Key, &p.Kind, &p.Start, &p.End, &p.State, &p.Version, &pub, &pubOn, &signed, &p.SignedOffBy); err != nil {
		return nil, err
	}
	if pub.Valid {
		t := pub.Time.UTC()
		p.PublishedAt = &t
	}
	if pubOn.Valid {
		p.PublishedOn, _ = workday.ParseDate(pubOn.String)
	}
	if signed.Valid {
		t := signed.Time.UTC()
		p.SignedOffAt = &t
	}
	if mp, err := metric.ParsePeriod(p.Key); err == nil {
		p.Label = mp.Label()
	}
	return &p, nil
}

// getPeriod reads a stored period; nil when it was never opened.
func getPeriod(ctx context.Context, q db.Querier, key string) (*Period, error) {
	p, err := scanPeriod(q.QueryRowContext(ctx, `SELECT `+periodCols+` FROM assess_periods WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("assess: period %s: %w", key, err)
	}
	return p, nil
}

// ensurePeriod opens the period if it is not stored yet.
func (s *Service) ensurePeriod(ctx context.Context, tx *db.Tx, mp metric.Period) (*Period, error) {
	key := mp.String()
	p, err := getPeriod(ctx, tx, key)
	if err != nil || p != nil {
		return p, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO assess_periods (key, kind, start_on, end_on, state, version, created_at) VALUES (?, ?, ?, ?, 'open', 0, ?) ON CONFLICT DO NOTHING`,
		key, string(mp.Kind), mp.Start, mp.End, s.stamp()); err != nil {
		return nil, fmt.Errorf("assess: open period %s: %w", key, err)
	}
	return getPeriod(ctx, tx, key)
}

// snapshot reads the latest published data of a period into v.
func snapshot(ctx context.Context, q db.Querier, periodID int64, version int, v any) error {
	var raw string
	if err := q.QueryRowContext(ctx, `SELECT data FROM assess_snapshots WHERE period_id = ? AND version = ?`, periodID, version).Scan(&raw); err != nil {
		return fmt.Errorf("assess: read snapshot %d/%d: %w", periodID, version, err)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("assess: decode snapshot %d/%d: %w", periodID, version, err)
	}
	return nil
}

const schemeCols = `id, year, name, bonus_cap, deduction_cap, excellent_quota, overdue_deduction, declaration_deadline`

// loadScheme reads a year's scheme with its criteria and rater groups; nil
// when there is none.
func loadScheme(ctx context.Context, q db.Querier, year int) (*Scheme, error) {
	var sc Scheme
	err := q.QueryRowContext(ctx, `SELECT `+schemeCols+` FROM assess_schemes WHERE year = ?`, year).Scan(&sc.ID, &sc.Year, &sc.Name,
		&sc.BonusCap, &sc.DeductionCap, &sc.ExcellentQuota, &sc.OverdueDeduction, &sc.DeclarationDeadline)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("assess: scheme %d: %w", year, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, code, name, parent_code, weight, method, metric_code, rule, spot_rate, false_deduction
		FROM assess_criteria WHERE scheme_id = ? ORDER BY sort_order, id`, sc.ID)
	if err != nil {
		return nil, fmt.Errorf("assess: criteria of %d: %w", year, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Criterion
		var rule string
		if err := rows.Scan(&c.ID, &c.Code, &c.Name, &c.Parent, &c.Weight, &c.Method, &c.Metric, &rule, &c.SpotRate, &c.FalseDeduction); err != nil {
			return nil, fmt.Errorf("assess: scan criterion: %w", err)
		}
		if rule != "" && rule != "{}" {
			c.Rule = &Rule{}
			if err := json.Unmarshal([]byte(rule), c.Rule); err != nil {
				return nil, fmt.Errorf("assess: rule of %s: %w", c.Code, err)
			}
		}
		sc.Criteria = append(sc.Criteria, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	grows, err := q.QueryContext(ctx, `SELECT code, name, role, weight FROM assess_rater_groups WHERE scheme_id = ? ORDER BY id`, sc.ID)
	if err != nil {
		return nil, fmt.Errorf("assess: rater groups of %d: %w", year, err)
	}
	defer grows.Close()
	for grows.Next() {
		var g RaterGroup
		if err := grows.Scan(&g.Code, &g.Name, &g.Role, &g.Weight); err != nil {
			return nil, fmt.Errorf("assess: scan rater group: %w", err)
		}
		sc.RaterGroups = append(sc.RaterGroups, g)
	}
	return &sc, grows.Err()
}

// evalInputs are the year's scoring inputs, read with a few set-based
// queries.
type evalInputs struct {
	decls   []Declaration
	spots   []SpotItem
	ratings map[int64]map[int64]map[string][]float64 // criterion → unit → group → scores
	adjs    []Adjustment
}

func loadInputs(ctx context.Context, q db.Querier, sc *Scheme) (*evalInputs, error) {
	in := &evalInputs{ratings: map[int64]map[int64]map[string][]float64{}}
	var err error
	if in.decls, err = listDeclarations(ctx, q, sc.ID, 0); err != nil {
		return nil, err
	}
	if in.spots, err = listSpotItems(ctx, q, sc.ID, 0); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT r.criterion_id, r.unit_id, r.group_code, r.score FROM assess_ratings r
		JOIN assess_criteria c ON c.id = r.criterion_id WHERE c.scheme_id = ?`, sc.ID)
	if err != nil {
		return nil, fmt.Errorf("assess: ratings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, uid int64
		var g string
		var v float64
		if err := rows.Scan(&cid, &uid, &g, &v); err != nil {
			return nil, fmt.Errorf("assess: scan rating: %w", err)
		}
		byUnit := in.ratings[cid]
		if byUnit == nil {
			byUnit = map[int64]map[string][]float64{}
			in.ratings[cid] = byUnit
		}
		if byUnit[uid] == nil {
			byUnit[uid] = map[string][]float64{}
		}
		byUnit[uid][g] = append(byUnit[uid][g], v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if in.adjs, err = listAdjustments(ctx, q, sc.Year, 0); err != nil {
		return nil, err
	}
	return in, nil
}

func listDeclarations(ctx context.Context, q db.Querier, schemeID, unitID int64) ([]Declaration, error) {
	query := `SELECT d.id, d.criterion_id, c.code, d.unit_id, u.name, d.claimed, d.evidence, d.state, d.score, d.review_note
		FROM assess_declarations d JOIN assess_criteria c ON c.id = d.criterion_id JOIN units u ON u.id = d.unit_id
		WHERE c.scheme_id = ?`
	args := []any{schemeID}
	if unitID != 0 {
		query += ` AND d.unit_id = ?`
		args = append(args, unitID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: declarations: %w", err)
	}
	defer rows.Close()
	var out []Declaration
	for rows.Next() {
		var d Declaration
		var score sql.NullFloat64
		if err := rows.Scan(&d.ID, &d.CriterionID, &d.Criterion, &d.UnitID, &d.UnitName, &d.Claimed, &d.Evidence, &d.State, &score, &d.ReviewNote); err != nil {
			return nil, fmt.Errorf("assess: scan declaration: %w", err)
		}
		if score.Valid {
			d.Score = &score.Float64
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func listSpotItems(ctx context.Context, q db.Querier, schemeID, checkID int64) ([]SpotItem, error) {
	query := `SELECT i.id, i.spot_check_id, i.unit_id, u.name, i.kind, i.ref_id, i.result, i.note
		FROM assess_spot_items i JOIN assess_spot_checks k ON k.id = i.spot_check_id JOIN units u ON u.id = i.unit_id
		WHERE k.scheme_id = ?`
	args := []any{schemeID}
	if checkID != 0 {
		query += ` AND k.id = ?`
		args = append(args, checkID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY i.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: spot items: %w", err)
	}
	defer rows.Close()
	var out []SpotItem
	for rows.Next() {
		var it SpotItem
		if err := rows.Scan(&it.ID, &it.CheckID, &it.UnitID, &it.UnitName, &it.Kind, &it.RefID, &it.Result, &it.Note); err != nil {
			return nil, fmt.Errorf("assess: scan spot item: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func listAdjustments(ctx context.Context, q db.Querier, year int, personID int64) ([]Adjustment, error) {
	query := `SELECT a.id, a.year, a.unit_id, u.name, a.person_id, COALESCE(p.name, ''), a.kind, a.category, a.points, a.reason
		FROM assess_adjustments a JOIN units u ON u.id = a.unit_id LEFT JOIN people p ON p.id = a.person_id WHERE `
	var args []any
	if personID != 0 {
		query += `a.person_id = ?`
		args = append(args, personID)
	} else {
		query += `a.year = ?`
		args = append(args, year)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: adjustments: %w", err)
	}
	defer rows.Close()
	var out []Adjustment
	for rows.Next() {
		var a Adjustment
		var pid sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Year, &a.UnitID, &a.UnitName, &pid, &a.PersonName, &a.Kind, &a.Category, &a.Points, &a.Reason); err != nil {
			return nil, fmt.Errorf("assess: scan adjustment: %w", err)
		}
		if pid.Valid {
			a.PersonID = &pid.Int64
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func listObjections(ctx context.Context, q db.Querier, key string) ([]Objection, error) {
	query := `SELECT o.id, o.period_key, o.unit_id, u.name, o.text, o.state, o.answer, o.created_at FROM assess_objections o JOIN units u ON u.id = o.unit_id`
	var args []any
	if key != "" {
		query += ` WHERE o.period_key = ?`
		args = append(args, key)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY o.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: objections: %w", err)
	}
	defer rows.Close()
	var out []Objection
	for rows.Next() {
		var o Objection
		if err := rows.Scan(&o.ID, &o.Period, &o.UnitID, &o.UnitName, &o.Text, &o.State, &o.Answer, &o.CreatedAt); err != nil {
			return nil, fmt.Errorf("assess: scan objection: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func listComments(ctx context.Context, q db.Querier, key string) ([]Comment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, period_key, unit_id, text, author, created_at FROM assess_comments WHERE period_key = ? ORDER BY id`, key)
	if err != nil {
		return nil, fmt.Errorf("assess: comments: %w", err)
	}
	defer rows.Close()
	var out []Comment
	for rows.Next() {
		var c Comment
		var uid sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Period, &uid, &c.Text, &c.Author, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("assess: scan comment: %w", err)
		}
		if uid.Valid {
			c.UnitID = &uid.Int64
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func listAchievements(ctx context.Context, q db.Querier, key string, unitID int64) ([]Achievement, error) {
	query := `SELECT a.id, a.period_key, a.unit_id, u.name, a.title, a.text, a.state, a.review_note, a.created_at
		FROM assess_achievements a JOIN units u ON u.id = a.unit_id WHERE a.period_key = ?`
	args := []any{key}
	if unitID != 0 {
		query += ` AND a.unit_id = ?`
		args = append(args, unitID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: achievements: %w", err)
	}
	defer rows.Close()
	var out []Achievement
	idx := map[int64]int{}
	for rows.Next() {
		var a Achievement
		if err := rows.Scan(&a.ID, &a.Period, &a.UnitID, &a.UnitName, &a.Title, &a.Text, &a.State, &a.ReviewNote, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("assess: scan achievement: %w", err)
		}
		idx[a.ID] = len(out)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	prows, err := q.QueryContext(ctx, `SELECT p.id, p.achievement_id FROM assess_photos p JOIN assess_achievements a ON a.id = p.achievement_id
		WHERE a.period_key = ? ORDER BY p.id`, key)
	if err != nil {
		return nil, fmt.Errorf("assess: photos: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var id, aid int64
		if err := prows.Scan(&id, &aid); err != nil {
			return nil, fmt.Errorf("assess: scan photo: %w", err)
		}
		if i, ok := idx[aid]; ok {
			out[i].PhotoIDs = append(out[i].PhotoIDs, id)
		}
	}
	return out, prows.Err()
}

const dailyCols = `r.id, r.unit_id, u.name, r.day, r.done, r.moved, r.problems, r.tomorrow, r.task_lines, r.on_time, r.filed_by_name, r.filed_at`

func scanDaily(row interface{ Scan(...any) error }) (*DailyReport, error) {
	var d DailyReport
	var lines string
	if err := row.Scan(&d.ID, &d.UnitID, &d.UnitName, &d.Day, &d.Done, &d.Moved, &d.Problems, &d.Tomorrow, &lines, &d.OnTime, &d.FiledByName, &d.FiledAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(lines), &d.TaskLines); err != nil {
		return nil, fmt.Errorf("assess: task lines of report %d: %w", d.ID, err)
	}
	if d.TaskLines == nil {
		d.TaskLines = []ReportLine{}
	}
	return &d, nil
}

// DailyFilter selects daily reports.
type DailyFilter struct {
	UnitID   int64
	From, To workday.Date
	Limit    int
}

// ListDaily lists daily reports, newest first.
func (s *Service) ListDaily(ctx context.Context, f DailyFilter) ([]DailyReport, error) {
	query := `SELECT ` + dailyCols + ` FROM assess_daily_reports r JOIN units u ON u.id = r.unit_id WHERE 1=1`
	var args []any
	if f.UnitID != 0 {
		query += ` AND r.unit_id = ?`
		args = append(args, f.UnitID)
	}
	if !f.From.IsZero() {
		query += ` AND r.day >= ?`
		args = append(args, f.From)
	}
	if !f.To.IsZero() {
		query += ` AND r.day <= ?`
		args = append(args, f.To)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	query += fmt.Sprintf(` ORDER BY r.day DESC, u.code LIMIT %d`, f.Limit)
	rows, err := s.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("assess: daily reports: %w", err)
	}
	defer rows.Close()
	out := []DailyReport{}
	for rows.Next() {
		d, err := scanDaily(rows)
		if err != nil {
			return nil, fmt.Errorf("assess: scan daily report: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// computeMetrics computes several metrics for one period concurrently
// (each is one set-based query; on PostgreSQL and SQLite's reader pool
// they run side by side).
func (s *Service) computeMetrics(ctx context.Context, codes []string, p metric.Period) (map[string]metric.Values, error) {
	out := make(map[string]metric.Values, len(codes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var first error
	sem := make(chan struct{}, 4)
	for _, code := range codes {
		wg.Add(1)
		go func(code string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := s.Metrics.Compute(ctx, code, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			out[code] = v
		}(code)
	}
	wg.Wait()
	return out, first
}
