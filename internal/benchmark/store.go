package benchmark

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

const peerCols = `id, name, kind, region, unit_id, population, staff, learn, contacts, active`

func scanPeer(sc interface{ Scan(...any) error }) (*Peer, error) {
	var p Peer
	var unit, pop, staff sql.NullInt64
	if err := sc.Scan(&p.ID, &p.Name, &p.Kind, &p.Region, &unit, &pop, &staff, &p.Learn, &p.Contacts, &p.Active); err != nil {
		return nil, err
	}
	p.UnitID, p.Population, p.Staff = ptr(unit), ptr(pop), ptr(staff)
	return &p, nil
}

func ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func null(p *int64) any {
	if p == nil || *p == 0 {
		return nil
	}
	return *p
}

func listPeers(ctx context.Context, q db.Querier) ([]Peer, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+peerCols+` FROM peers ORDER BY active DESC, kind, name`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list peers: %w", err)
	}
	defer rows.Close()
	var out []Peer
	for rows.Next() {
		p, err := scanPeer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

func loadPeer(ctx context.Context, q db.Querier, id int64) (*Peer, error) {
	p, err := scanPeer(q.QueryRowContext(ctx, `SELECT `+peerCols+` FROM peers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("benchmark: load peer %d: %w", id, err)
	}
	return p, nil
}

const indicatorSQLCols = `id, code, name, measure, direction, category, frequency, source, definition, formula, owner_unit_id, weight, peer_id, lead_periods, stage, stage_since, active,
	latest_period, latest_value, score, rank_us, subjects, gap, gap_pct, best_subject, best_unit`

func fptr(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}

func scanIndicator(sc interface{ Scan(...any) error }) (*Indicator, error) {
	var in Indicator
	var owner, peer sql.NullInt64
	var latest, score, gap, gapPct sql.NullFloat64
	if err := sc.Scan(&in.ID, &in.Code, &in.Name, &in.Unit, &in.Direction, &in.Category, &in.Frequency, &in.Source, &in.Definition,
		&in.Formula, &owner, &in.Weight, &peer, &in.LeadPeriods, &in.Stage, &in.StageSince, &in.Active,
		&in.LatestPeriod, &latest, &score, &in.Rank, &in.Of, &gap, &gapPct, &in.BestSubject, &in.BestUnit); err != nil {
		return nil, err
	}
	in.OwnerUnitID, in.PeerID = ptr(owner), ptr(peer)
	in.LatestValue, in.Score, in.Gap, in.GapPct = fptr(latest), fptr(score), fptr(gap), fptr(gapPct)
	in.StageSince = in.StageSince.UTC()
	return &in, nil
}

func loadIndicator(ctx context.Context, q db.Querier, id int64) (*Indicator, error) {
	in, err := scanIndicator(q.QueryRowContext(ctx, `SELECT `+indicatorSQLCols+` FROM indicators WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errIndicatorNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("benchmark: load indicator %d: %w", id, err)
	}
	return in, nil
}

// listIndicators returns the indicators (of one category when given), with
// their rollups, in one query.
func listIndicators(ctx context.Context, q db.Querier, category string) ([]*Indicator, error) {
	query := `SELECT ` + indicatorSQLCols + ` FROM indicators`
	var args []any
	if category != "" {
		query += ` WHERE category = ?`
		args = append(args, category)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY category, code`, args...)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list indicators: %w", err)
	}
	defer rows.Close()
	var out []*Indicator
	for rows.Next() {
		in, err := scanIndicator(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// loadSeries reads every observation of one indicator.
func loadSeries(ctx context.Context, q db.Querier, indicatorID int64) (Series, error) {
	rows, err := q.QueryContext(ctx, `SELECT subject_kind, subject_id, period, value FROM observations WHERE indicator_id = ? ORDER BY period`, indicatorID)
	if err != nil {
		return Series{}, fmt.Errorf("benchmark: load observations of %d: %w", indicatorID, err)
	}
	defer rows.Close()
	s := Series{Values: map[string]map[Subject]float64{}}
	for rows.Next() {
		var sub Subject
		var p string
		var v float64
		if err := rows.Scan(&sub.Kind, &sub.ID, &p, &v); err != nil {
			return Series{}, err
		}
		m := s.Values[p]
		if m == nil {
			m = map[Subject]float64{}
			s.Values[p] = m
			s.Periods = append(s.Periods, p)
		}
		m[sub] = v
	}
	return s, rows.Err()
}

// loadAllSeries reads the observations of every indicator from period
// since on (periods compare as text: "2024" is before "2024-01",
// "2024-Q1" and "2024-H1"), in one query.
func loadAllSeries(ctx context.Context, q db.Querier, since string) (map[int64]*Series, error) {
	rows, err := q.QueryContext(ctx, `SELECT indicator_id, CASE subject_kind WHEN 'us' THEN 0 WHEN 'unit' THEN 1 ELSE 2 END, subject_id, period, value
		FROM observations WHERE indicator_id > 0 AND period >= ? ORDER BY indicator_id, period`, since)
	if err != nil {
		return nil, fmt.Errorf("benchmark: load observations: %w", err)
	}
	defer rows.Close()
	out := map[int64]*Series{}
	var cur *Series
	var curID int64
	// Periods repeat across rows and indicators: read them into one
	// buffer and keep one string per period.
	intern := map[string]string{}
	var raw sql.RawBytes
	kinds := [3]SubjectKind{SubjectUs, SubjectUnit, SubjectPeer}
	var m map[Subject]float64
	last := ""
	for rows.Next() {
		var id, sid int64
		var kind int
		var v float64
		if err := rows.Scan(&id, &kind, &sid, &raw, &v); err != nil {
			return nil, err
		}
		p, ok := intern[string(raw)]
		if !ok {
			p = string(raw)
			intern[p] = p
		}
		if cur == nil || id != curID {
			cur = &Series{Values: map[string]map[Subject]float64{}}
			out[id], curID, last = cur, id, ""
		}
		if p != last {
			m = cur.Values[p]
			if m == nil {
				m = make(map[Subject]float64, 24)
				cur.Values[p] = m
				cur.Periods = append(cur.Periods, p)
			}
			last = p
		}
		if kind < 0 || kind > 2 {
			kind = 2
		}
		m[Subject{Kind: kinds[kind], ID: sid}] = v
	}
	return out, rows.Err()
}

// names returns the names of peers and units by id.
func names(ctx context.Context, q db.Querier) (peers, units map[int64]string, err error) {
	peers, units = map[int64]string{}, map[int64]string{}
	for _, t := range []struct {
		query string
		m     map[int64]string
	}{{`SELECT id, name FROM peers`, peers}, {`SELECT id, name FROM units`, units}} {
		rows, err := q.QueryContext(ctx, t.query)
		if err != nil {
			return nil, nil, fmt.Errorf("benchmark: names: %w", err)
		}
		for rows.Next() {
			var id int64
			var n string
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, nil, err
			}
			t.m[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return peers, units, nil
}

func listObservations(ctx context.Context, q db.Querier, indicatorID int64, period string, limit int) ([]Observation, error) {
	query := `SELECT id, indicator_id, subject_kind, subject_id, period, value, note, evidence, fixed, updated_at FROM observations WHERE indicator_id = ?`
	args := []any{indicatorID}
	if period != "" {
		query += ` AND period = ?`
		args = append(args, period)
	}
	query += ` ORDER BY period DESC, subject_kind DESC, subject_id`
	if limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list observations: %w", err)
	}
	defer rows.Close()
	var out []Observation
	for rows.Next() {
		var o Observation
		var sub Subject
		if err := rows.Scan(&o.ID, &o.IndicatorID, &sub.Kind, &sub.ID, &o.Period, &o.Value, &o.Note, &o.Evidence, &o.Fixed, &o.UpdatedAt); err != nil {
			return nil, err
		}
		o.Subject, o.UpdatedAt = sub.String(), o.UpdatedAt.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

func observationHistory(ctx context.Context, q db.Querier, obsID int64) ([]HistoryEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT value, note, replaced_at FROM observation_history WHERE observation_id = ? ORDER BY replaced_at DESC, id DESC`, obsID)
	if err != nil {
		return nil, fmt.Errorf("benchmark: observation history: %w", err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		if err := rows.Scan(&h.Value, &h.Note, &h.ReplacedAt); err != nil {
			return nil, err
		}
		h.ReplacedAt = h.ReplacedAt.UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// upsertObservation stores one value, keeping a replaced one in history.
// It reports whether the value changed.
func upsertObservation(ctx context.Context, tx *db.Tx, in NewObservation, fixed bool, by *int64, now time.Time) (bool, error) {
	var id int64
	var old float64
	var oldNote, oldEv string
	var wasFixed bool
	err := tx.QueryRowContext(ctx, `SELECT id, value, note, evidence, fixed FROM observations WHERE indicator_id = ? AND subject_kind = ? AND subject_id = ? AND period = ?`,
		in.IndicatorID, in.Subject.Kind, in.Subject.ID, in.Period).Scan(&id, &old, &oldNote, &oldEv, &wasFixed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err := tx.ExecContext(ctx, `INSERT INTO observations (indicator_id, subject_kind, subject_id, period, value, note, evidence, fixed, created_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.IndicatorID, in.Subject.Kind, in.Subject.ID, in.Period, in.Value, in.Note, in.Evidence, fixed, by, now)
		if db.IsUniqueViolation(err) {
			// Someone stored the same cell at the same moment: theirs won.
			return false, apperr.Conflict("observation_conflict", fmt.Sprintf("%s 的 %s 期数值刚被他人录入，请刷新后再试 / the %s value for %s was just entered by someone else; reload and try again",
				in.Subject, in.Period, in.Period, in.Subject))
		}
		if err != nil {
			return false, fmt.Errorf("benchmark: insert observation: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("benchmark: read observation: %w", err)
	}
	if old == in.Value && oldNote == in.Note && oldEv == in.Evidence && wasFixed == fixed {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO observation_history (observation_id, value, note, evidence, replaced_by, replaced_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, old, oldNote, oldEv, by, now); err != nil {
		return false, fmt.Errorf("benchmark: keep old value: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE observations SET value = ?, note = ?, evidence = ?, fixed = ?, created_by = ?, updated_at = ? WHERE id = ?`,
		in.Value, in.Note, in.Evidence, fixed, by, now, id); err != nil {
		return false, fmt.Errorf("benchmark: update observation: %w", err)
	}
	return old != in.Value, nil
}

func listTargets(ctx context.Context, q db.Querier, indicatorID int64) ([]*Target, error) {
	query := `SELECT t.id, t.indicator_id, i.name, t.target_value, t.baseline, t.due_on, t.peer_id, t.note, t.attained_on FROM targets t JOIN indicators i ON i.id = t.indicator_id`
	var args []any
	if indicatorID != 0 {
		query += ` WHERE t.indicator_id = ?`
		args = append(args, indicatorID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY t.due_on, t.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list targets: %w", err)
	}
	var out []*Target
	byID := map[int64]*Target{}
	for rows.Next() {
		var t Target
		var peer sql.NullInt64
		var att sql.NullString
		if err := rows.Scan(&t.ID, &t.IndicatorID, &t.Indicator, &t.TargetValue, &t.Baseline, &t.Due, &peer, &t.Note, &att); err != nil {
			rows.Close()
			return nil, err
		}
		t.PeerID = ptr(peer)
		if att.Valid && att.String != "" {
			t.AttainedOn, _ = workday.ParseDate(att.String)
		}
		t.Path, t.TaskIDs = []Step{}, []int64{}
		out = append(out, &t)
		byID[t.ID] = &t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	squery := `SELECT s.target_id, s.seq, s.title, s.due_on, s.lead_unit_id, s.owner_id, s.task_id, u.name, p.name FROM target_steps s
		JOIN units u ON u.id = s.lead_unit_id JOIN people p ON p.id = s.owner_id`
	if indicatorID != 0 {
		squery += ` JOIN targets t ON t.id = s.target_id WHERE t.indicator_id = ?`
	}
	rows, err = q.QueryContext(ctx, squery+` ORDER BY s.target_id, s.seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list steps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Step
		var tid int64
		var task sql.NullInt64
		if err := rows.Scan(&tid, &st.Seq, &st.Title, &st.Due, &st.LeadUnitID, &st.OwnerID, &task, &st.UnitName, &st.OwnerName); err != nil {
			return nil, err
		}
		st.TaskID = ptr(task)
		if t := byID[tid]; t != nil {
			t.Path = append(t.Path, st)
			if st.TaskID != nil {
				t.TaskIDs = append(t.TaskIDs, *st.TaskID)
			}
		}
	}
	return out, rows.Err()
}

func stageHistory(ctx context.Context, q db.Querier, indicatorID int64) ([]StageChange, error) {
	rows, err := q.QueryContext(ctx, `SELECT indicator_id, from_stage, to_stage, period, changed_at FROM stage_history WHERE indicator_id = ? ORDER BY changed_at DESC, id DESC`, indicatorID)
	if err != nil {
		return nil, fmt.Errorf("benchmark: stage history: %w", err)
	}
	defer rows.Close()
	var out []StageChange
	for rows.Next() {
		var c StageChange
		if err := rows.Scan(&c.IndicatorID, &c.From, &c.To, &c.Period, &c.At); err != nil {
			return nil, err
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// unitRecipients are the accounts that hear for a unit: its liaisons and
// its head.
func unitRecipients(ctx context.Context, q db.Querier, unitID int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE u.disabled = FALSE AND r.role IN ('liaison','unit_head') AND u.unit_id = ? ORDER BY u.id`, unitID)
	if err != nil {
		return nil, fmt.Errorf("benchmark: unit recipients: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func listActivities(ctx context.Context, q db.Querier, peerID int64) ([]Activity, error) {
	query := `SELECT a.id, a.peer_id, COALESCE(p.name, ''), a.kind, a.title, a.held_on, a.people, a.findings, a.report FROM learning_activities a LEFT JOIN peers p ON p.id = a.peer_id`
	var args []any
	if peerID != 0 {
		query += ` WHERE a.peer_id = ?`
		args = append(args, peerID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY a.held_on DESC, a.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list activities: %w", err)
	}
	var out []Activity
	byID := map[int64]int{}
	for rows.Next() {
		var a Activity
		var peer sql.NullInt64
		if err := rows.Scan(&a.ID, &peer, &a.PeerName, &a.Kind, &a.Title, &a.HeldOn, &a.People, &a.Findings, &a.Report); err != nil {
			rows.Close()
			return nil, err
		}
		a.PeerID, a.Files = ptr(peer), []FileInfo{}
		byID[a.ID] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	rows, err = q.QueryContext(ctx, `SELECT id, activity_id, name, size FROM learning_files ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list learning files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f FileInfo
		var act int64
		if err := rows.Scan(&f.ID, &act, &f.Name, &f.Size); err != nil {
			return nil, err
		}
		if i, ok := byID[act]; ok {
			out[i].Files = append(out[i].Files, f)
		}
	}
	return out, rows.Err()
}

func listCategories(ctx context.Context, q db.Querier) ([]Category, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, name_en, sort_order FROM benchmark_categories ORDER BY sort_order, name`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: list categories: %w", err)
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.Name, &c.NameEN, &c.SortOrder); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
