package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

// DefaultRaterGroups are leaders 50 %, peer units 30 %, service recipients
// 20 % (rated by the office's staff accounts).
func DefaultRaterGroups() []RaterGroup {
	return []RaterGroup{
		{Code: "leaders", Name: "领导", Role: string(auth.RoleLeader), Weight: 50},
		{Code: "peers", Name: "互评单位", Role: string(auth.RoleUnitHead), Weight: 30},
		{Code: "recipients", Name: "服务对象", Role: string(auth.RoleViewer), Weight: 20},
	}
}

func validYear(y int) error {
	if y < 2000 || y > 2100 {
		return invalid("year", fmt.Sprintf("年度 %d 无效", y), fmt.Sprintf("year %d is out of range", y))
	}
	return nil
}

// SaveScheme creates or replaces a year's scheme. Weights must add up (see
// CheckWeights); a scheme with declarations or ratings cannot be replaced,
// nor one whose year is signed off.
func (s *Service) SaveScheme(ctx context.Context, a Actor, sc Scheme) (*Scheme, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以制定考评方案", "only a supervisor sets schemes")
	}
	if err := validYear(sc.Year); err != nil {
		return nil, err
	}
	sc.Name = strings.TrimSpace(sc.Name)
	if sc.Name == "" || len([]rune(sc.Name)) > 200 {
		return nil, invalid("name", "方案名称必填，不超过 200 字", "name is required, at most 200 characters")
	}
	if sc.BonusCap < 0 || sc.DeductionCap < 0 || sc.OverdueDeduction < 0 {
		return nil, invalid("bonus_cap", "加减分上限不能为负", "caps cannot be negative")
	}
	if sc.ExcellentQuota <= 0 || sc.ExcellentQuota > 100 {
		return nil, invalid("excellent_quota", "优秀比例须在 0–100 之间", "excellent_quota must be within 0–100")
	}
	if sc.DeclarationDeadline.IsZero() {
		sc.DeclarationDeadline = workday.DateOf(sc.Year, time.December, 31)
	}
	if len(sc.Criteria) == 0 || len(sc.Criteria) > 500 {
		return nil, invalid("criteria", "考评方案须有 1–500 项指标", "a scheme needs 1–500 criteria")
	}
	codes := map[string]Criterion{}
	for i, c := range sc.Criteria {
		f := fmt.Sprintf("criteria[%d]", i)
		c.Code, c.Name, c.Parent = strings.TrimSpace(c.Code), strings.TrimSpace(c.Name), strings.TrimSpace(c.Parent)
		if c.Code == "" || len(c.Code) > 40 || c.Name == "" {
			return nil, invalid(f, f+"：code 与 name 必填", f+": code and name are required")
		}
		if _, dup := codes[c.Code]; dup {
			return nil, invalid(f, fmt.Sprintf("%s：指标代码 %s 重复", f, c.Code), fmt.Sprintf("%s: code %s appears twice", f, c.Code))
		}
		if c.Weight <= 0 || c.Weight > 100 {
			return nil, invalid(f, fmt.Sprintf("%s：权重须大于 0 且不超过 100", f), fmt.Sprintf("%s: weight must be above 0 and at most 100", f))
		}
		sc.Criteria[i] = c
		codes[c.Code] = c
	}
	for i, c := range sc.Criteria {
		f := fmt.Sprintf("criteria[%d]", i)
		if c.Parent != "" {
			p, ok := codes[c.Parent]
			if !ok || p.Parent != "" {
				return nil, invalid(f, fmt.Sprintf("%s：上级指标 %s 须为方案中的一级指标", f, c.Parent), fmt.Sprintf("%s: parent %s must be a level-1 criterion of the scheme", f, c.Parent))
			}
		}
	}
	if field, zh, en, ok := CheckWeights(sc.Criteria); !ok {
		return nil, invalid(field, zh, en)
	}
	for i := range sc.Criteria {
		c := &sc.Criteria[i]
		leaf := true
		for _, d := range sc.Criteria {
			if d.Parent == c.Code {
				leaf = false
			}
		}
		f := fmt.Sprintf("criteria[%d]", i)
		if !leaf {
			c.Method = ""
			continue
		}
		switch c.Method {
		case MethodMetric:
			m, ok := s.Metrics.Get(c.Metric)
			if !ok {
				return nil, invalid(f, fmt.Sprintf("%s：指标 %q 未登记", f, c.Metric), fmt.Sprintf("%s: metric %q is not registered", f, c.Metric))
			}
			if c.Rule == nil {
				c.Rule = &Rule{Kind: RuleRank}
			}
			c.Rule.Lower = m.Direction == metric.LowerBetter
			switch c.Rule.Kind {
			case RuleLinear:
				if c.Rule.Floor == c.Rule.Target {
					return nil, invalid(f, f+"：线性规则的 floor 与 target 不能相同", f+": a linear rule needs floor and target apart")
				}
			case RuleStepped:
				if len(c.Rule.Steps) == 0 {
					return nil, invalid(f, f+"：阶梯规则至少需要一档", f+": a stepped rule needs at least one step")
				}
				for _, st := range c.Rule.Steps {
					if st.Share < 0 || st.Share > 1 {
						return nil, invalid(f, f+"：阶梯得分比例须在 0–1", f+": step shares must be 0–1")
					}
				}
			case RuleRank:
			default:
				return nil, invalid(f, f+"：rule.kind 须为 linear、stepped 或 rank", f+": rule.kind must be linear, stepped or rank")
			}
		case MethodDeclaration, MethodRating:
			c.Metric, c.Rule = "", nil
		case MethodSpotCheck:
			c.Metric, c.Rule = "", nil
			if c.SpotRate <= 0 || c.SpotRate > 1 {
				c.SpotRate = 0.1
			}
		default:
			return nil, invalid(f, f+"：二级指标的 method 须为 metric、declaration、spot_check 或 rating", f+": a level-2 criterion's method must be metric, declaration, spot_check or rating")
		}
		if c.FalseDeduction < 0 {
			return nil, invalid(f, f+"：false_deduction 不能为负", f+": false_deduction cannot be negative")
		}
	}
	if len(sc.RaterGroups) == 0 {
		sc.RaterGroups = DefaultRaterGroups()
	}
	gsum := 0.0
	for i, g := range sc.RaterGroups {
		if g.Code == "" || g.Name == "" || !slices.Contains(auth.AllRoles, auth.Role(g.Role)) || g.Weight <= 0 {
			f := fmt.Sprintf("rater_groups[%d]", i)
			return nil, invalid(f, f+"：须有 code、name、有效的 role 与正权重", f+": needs code, name, a known role and a positive weight")
		}
		gsum += g.Weight
	}
	if math.Abs(gsum-100) > 1e-6 {
		return nil, invalid("rater_groups", fmt.Sprintf("评议组权重之和须为 100，实际为 %g", round2(gsum)), fmt.Sprintf("rater group weights must sum to 100; they sum to %g", round2(gsum)))
	}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, sc.Year); err != nil {
			return err
		}
		old, err := loadScheme(ctx, tx, sc.Year)
		if err != nil {
			return err
		}
		if old != nil {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM assess_declarations d JOIN assess_criteria c ON c.id = d.criterion_id WHERE c.scheme_id = ?)
				+ (SELECT COUNT(*) FROM assess_ratings r JOIN assess_criteria c ON c.id = r.criterion_id WHERE c.scheme_id = ?)`, old.ID, old.ID).Scan(&n); err != nil {
				return fmt.Errorf("assess: scheme use: %w", err)
			}
			if n > 0 {
				return conflict("scheme_in_use", fmt.Sprintf("%d 年方案已有 %d 条申报或评分，不能整体替换", sc.Year, n),
					fmt.Sprintf("the %d scheme already has %d declarations or ratings; it cannot be replaced", sc.Year, n))
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM assess_schemes WHERE id = ?`, old.ID); err != nil {
				return fmt.Errorf("assess: replace scheme: %w", err)
			}
		}
		id, err := db.InsertID(ctx, tx, `INSERT INTO assess_schemes (year, name, bonus_cap, deduction_cap, excellent_quota, overdue_deduction, declaration_deadline, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sc.Year, sc.Name, sc.BonusCap, sc.DeductionCap, sc.ExcellentQuota, sc.OverdueDeduction, sc.DeclarationDeadline, a.Username, s.stamp())
		if err != nil {
			return fmt.Errorf("assess: store scheme: %w", err)
		}
		for i, c := range sc.Criteria {
			rule := "{}"
			if c.Rule != nil {
				b, _ := json.Marshal(c.Rule)
				rule = string(b)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_criteria (scheme_id, code, name, parent_code, weight, method, metric_code, rule, spot_rate, false_deduction, sort_order)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, c.Code, c.Name, c.Parent, c.Weight, c.Method, c.Metric, rule, c.SpotRate, c.FalseDeduction, i); err != nil {
				return fmt.Errorf("assess: store criterion %s: %w", c.Code, err)
			}
		}
		for _, g := range sc.RaterGroups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_rater_groups (scheme_id, code, name, role, weight) VALUES (?, ?, ?, ?, ?)`, id, g.Code, g.Name, g.Role, g.Weight); err != nil {
				return fmt.Errorf("assess: store rater group %s: %w", g.Code, err)
			}
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.scheme", fmt.Sprintf("scheme:%d", sc.Year), fmt.Sprintf("%s, %d criteria", sc.Name, len(sc.Criteria))))
	})
	if err != nil {
		return nil, err
	}
	return s.Scheme(ctx, sc.Year)
}

// Scheme returns a year's scheme.
func (s *Service) Scheme(ctx context.Context, year int) (*Scheme, error) {
	sc, err := loadScheme(ctx, s.DB, year)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound("scheme_not_found", fmt.Sprintf("%d 年尚无考评方案", year), fmt.Sprintf("there is no scheme for %d", year))
	}
	return sc, nil
}

func (sc *Scheme) criterion(code string) (Criterion, bool) {
	for _, c := range sc.Leaves() {
		if c.Code == code {
			return c, true
		}
	}
	return Criterion{}, false
}

// Declare stores a unit's self-declaration (自主申报) for a declaration
// criterion, up to the scheme's deadline; a second one before review
// replaces the first.
func (s *Service) Declare(ctx context.Context, a Actor, year int, code string, claimed float64, evidence string) (*Declaration, error) {
	if !a.Reporter && !a.System {
		return nil, forbidden("unit_only", "只有单位可以自主申报", "only a unit declares")
	}
	if a.UnitID == 0 {
		return nil, errNoUnit()
	}
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return nil, err
	}
	c, ok := sc.criterion(code)
	if !ok || c.Method != MethodDeclaration {
		return nil, invalid("criterion", fmt.Sprintf("%s 不是本方案的自主申报指标", code), fmt.Sprintf("%s is not a declaration criterion of the scheme", code))
	}
	if s.Today().After(sc.DeclarationDeadline) {
		return nil, invalid("deadline", fmt.Sprintf("申报已于 %s 截止", sc.DeclarationDeadline), fmt.Sprintf("declarations closed on %s", sc.DeclarationDeadline))
	}
	if claimed < 0 || claimed > c.Weight {
		return nil, invalid("claimed", fmt.Sprintf("申报分须在 0–%g 之间", c.Weight), fmt.Sprintf("claimed must be within 0–%g", c.Weight))
	}
	evidence = strings.TrimSpace(evidence)
	if evidence == "" || len([]rune(evidence)) > 5000 {
		return nil, invalid("evidence", "佐证材料说明必填，不超过 5000 字", "evidence is required, at most 5000 characters")
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, year); err != nil {
			return err
		}
		var state string
		err := tx.QueryRowContext(ctx, `SELECT id, state FROM assess_declarations WHERE criterion_id = ? AND unit_id = ?`, c.ID, a.UnitID).Scan(&id, &state)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id, err = db.InsertID(ctx, tx, `INSERT INTO assess_declarations (criterion_id, unit_id, claimed, evidence, state, created_by, created_at) VALUES (?, ?, ?, ?, 'submitted', ?, ?)`,
				c.ID, a.UnitID, claimed, evidence, a.Username, s.stamp())
			if err != nil {
				return fmt.Errorf("assess: store declaration: %w", err)
			}
		case err != nil:
			return fmt.Errorf("assess: find declaration: %w", err)
		case state != DeclSubmitted:
			return conflict("declaration_reviewed", "申报已审核，不能再修改", "the declaration has been reviewed and cannot change")
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE assess_declarations SET claimed = ?, evidence = ? WHERE id = ?`, claimed, evidence, id); err != nil {
				return fmt.Errorf("assess: update declaration: %w", err)
			}
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.declare", fmt.Sprintf("declaration:%d", id), fmt.Sprintf("%s claimed %g", code, claimed)))
	})
	if err != nil {
		return nil, err
	}
	return s.declaration(ctx, id)
}

func (s *Service) declaration(ctx context.Context, id int64) (*Declaration, error) {
	var schemeID int64
	err := s.DB.QueryRowContext(ctx, `SELECT c.scheme_id FROM assess_declarations d JOIN assess_criteria c ON c.id = d.criterion_id WHERE d.id = ?`, id).Scan(&schemeID)
	if err != nil {
		return nil, errNotFound("declaration_not_found", fmt.Sprintf("申报 %d 不存在", id), fmt.Sprintf("declaration %d not found", id))
	}
	ds, err := listDeclarations(ctx, s.DB, schemeID, 0)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].ID == id {
			return &ds[i], nil
		}
	}
	return nil, errNotFound("declaration_not_found", fmt.Sprintf("申报 %d 不存在", id), fmt.Sprintf("declaration %d not found", id))
}

func schemeYearOf(ctx context.Context, q db.Querier, declID int64) (int, float64, error) {
	var year int
	var weight float64
	err := q.QueryRowContext(ctx, `SELECT s.year, c.weight FROM assess_declarations d JOIN assess_criteria c ON c.id = d.criterion_id
		JOIN assess_schemes s ON s.id = c.scheme_id WHERE d.id = ?`, declID).Scan(&year, &weight)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, errNotFound("declaration_not_found", fmt.Sprintf("申报 %d 不存在", declID), fmt.Sprintf("declaration %d not found", declID))
	}
	return year, weight, err
}

// ReviewDeclaration approves a declaration (score = claimed) or adjusts it
// to score (supervisor).
func (s *Service) ReviewDeclaration(ctx context.Context, a Actor, id int64, score *float64, note string) (*Declaration, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以审核申报", "only a supervisor reviews declarations")
	}
	year, weight, err := schemeYearOf(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if score != nil && (*score < 0 || *score > weight) {
		return nil, invalid("score", fmt.Sprintf("核定分须在 0–%g 之间", weight), fmt.Sprintf("score must be within 0–%g", weight))
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, year); err != nil {
			return err
		}
		var claimed float64
		if err := tx.QueryRowContext(ctx, `SELECT claimed FROM assess_declarations WHERE id = ?`, id).Scan(&claimed); err != nil {
			return fmt.Errorf("assess: declaration %d: %w", id, err)
		}
		state, v := DeclApproved, claimed
		if score != nil && *score != claimed {
			state, v = DeclAdjusted, *score
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assess_declarations SET state = ?, score = ?, review_note = ?, reviewed_by = ?, reviewed_at = ? WHERE id = ?`,
			state, v, strings.TrimSpace(note), a.Username, s.stamp(), id); err != nil {
			return fmt.Errorf("assess: review declaration %d: %w", id, err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.declaration.review", fmt.Sprintf("declaration:%d", id), fmt.Sprintf("%s %g (claimed %g)", state, v, claimed)))
	})
	if err != nil {
		return nil, err
	}
	return s.declaration(ctx, id)
}

// Declarations lists a year's declarations (unitID 0: all).
func (s *Service) Declarations(ctx context.Context, year int, unitID int64) ([]Declaration, error) {
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return nil, err
	}
	out, err := listDeclarations(ctx, s.DB, sc.ID, unitID)
	if out == nil {
		out = []Declaration{}
	}
	return out, err
}

// DrawSpotCheck draws a reproducible sample (专业抽查): per unit, rate of
// its declarations and of its tasks due in the year (at least one of each
// when it has any), by a generator seeded with the recorded seed. A zero
// seed picks one from the clock.
func (s *Service) DrawSpotCheck(ctx context.Context, a Actor, year int, rate float64, seed int64) (*SpotCheck, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以组织抽查", "only a supervisor draws spot checks")
	}
	if rate <= 0 || rate > 1 {
		return nil, invalid("rate", "抽查比例须大于 0 且不超过 1", "rate must be above 0 and at most 1")
	}
	if seed == 0 {
		seed = s.Now().UnixNano() & math.MaxInt32
	}
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	units, err := unitsOf(ctx, s.DB, st.Kinds)
	if err != nil {
		return nil, err
	}
	decls, err := listDeclarations(ctx, s.DB, sc.ID, 0)
	if err != nil {
		return nil, err
	}
	declBy := map[int64][]int64{}
	for _, d := range decls {
		declBy[d.UnitID] = append(declBy[d.UnitID], d.ID)
	}
	taskBy := map[int64][]int64{}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, lead_unit_id FROM tasks WHERE state NOT IN ('draft','cancelled') AND due_on >= ? AND due_on <= ?`,
		workday.DateOf(year, time.January, 1), workday.DateOf(year, time.December, 31))
	if err != nil {
		return nil, fmt.Errorf("assess: tasks of %d: %w", year, err)
	}
	for rows.Next() {
		var id, uid int64
		if err := rows.Scan(&id, &uid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("assess: scan task: %w", err)
		}
		taskBy[uid] = append(taskBy[uid], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, year); err != nil {
			return err
		}
		var err error
		id, err = db.InsertID(ctx, tx, `INSERT INTO assess_spot_checks (scheme_id, seed, rate, drawn_by, drawn_at) VALUES (?, ?, ?, ?, ?)`, sc.ID, seed, rate, a.Username, s.stamp())
		if err != nil {
			return fmt.Errorf("assess: store spot check: %w", err)
		}
		for _, u := range units {
			for _, pick := range []struct {
				kind string
				ids  []int64
				salt int64
			}{{"declaration", Sample(declBy[u.ID], rate, seed, u.ID), 0}, {"task", Sample(taskBy[u.ID], rate, seed^0x5a5a, u.ID), 1}} {
				for _, ref := range pick.ids {
					if _, err := tx.ExecContext(ctx, `INSERT INTO assess_spot_items (spot_check_id, unit_id, kind, ref_id, result) VALUES (?, ?, ?, ?, 'pending')`, id, u.ID, pick.kind, ref); err != nil {
						return fmt.Errorf("assess: store spot item: %w", err)
					}
				}
			}
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.spotcheck.draw", fmt.Sprintf("spotcheck:%d", id), fmt.Sprintf("year %d seed %d rate %g", year, seed, rate)))
	})
	if err != nil {
		return nil, err
	}
	return s.SpotCheck(ctx, id)
}

// SpotCheck returns a draw with its items.
func (s *Service) SpotCheck(ctx context.Context, id int64) (*SpotCheck, error) {
	var sc SpotCheck
	var schemeID int64
	err := s.DB.QueryRowContext(ctx, `SELECT k.id, s.year, k.seed, k.rate, k.scheme_id FROM assess_spot_checks k JOIN assess_schemes s ON s.id = k.scheme_id WHERE k.id = ?`, id).
		Scan(&sc.ID, &sc.Year, &sc.Seed, &sc.Rate, &schemeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound("spot_check_not_found", fmt.Sprintf("抽查 %d 不存在", id), fmt.Sprintf("spot check %d not found", id))
	}
	if err != nil {
		return nil, fmt.Errorf("assess: spot check %d: %w", id, err)
	}
	if sc.Items, err = listSpotItems(ctx, s.DB, schemeID, id); err != nil {
		return nil, err
	}
	if sc.Items == nil {
		sc.Items = []SpotItem{}
	}
	return &sc, nil
}

// SpotItems lists a year's sampled items.
func (s *Service) SpotItems(ctx context.Context, year int) ([]SpotItem, error) {
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return nil, err
	}
	out, err := listSpotItems(ctx, s.DB, sc.ID, 0)
	if out == nil {
		out = []SpotItem{}
	}
	return out, err
}

// CheckItem records a checker's verdict on a sampled item: ok or false
// (a false declaration scores nothing, deducts by rule and flags the unit).
func (s *Service) CheckItem(ctx context.Context, a Actor, id int64, result, note string) (*SpotItem, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以核查", "only a supervisor checks items")
	}
	if result != "ok" && result != "false" {
		return nil, invalid("result", "result 须为 ok 或 false", "result must be ok or false")
	}
	var year int
	var checkID int64
	err := s.DB.QueryRowContext(ctx, `SELECT s.year, i.spot_check_id FROM assess_spot_items i JOIN assess_spot_checks k ON k.id = i.spot_check_id
		JOIN assess_schemes s ON s.id = k.scheme_id WHERE i.id = ?`, id).Scan(&year, &checkID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound("spot_item_not_found", fmt.Sprintf("抽查项 %d 不存在", id), fmt.Sprintf("spot item %d not found", id))
	}
	if err != nil {
		return nil, fmt.Errorf("assess: spot item %d: %w", id, err)
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, year); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assess_spot_items SET result = ?, note = ?, checked_by = ?, checked_at = ? WHERE id = ?`, result, strings.TrimSpace(note), a.Username, s.stamp(), id); err != nil {
			return fmt.Errorf("assess: check item %d: %w", id, err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.spotcheck.item", fmt.Sprintf("spotitem:%d", id), result))
	})
	if err != nil {
		return nil, err
	}
	sc, err := s.SpotCheck(ctx, checkID)
	if err != nil {
		return nil, err
	}
	for i := range sc.Items {
		if sc.Items[i].ID == id {
			return &sc.Items[i], nil
		}
	}
	return nil, errNotFound("spot_item_not_found", "抽查项不存在", "spot item not found")
}

// RatingInput is one score.
type RatingInput struct {
	Year      int
	Criterion string
	UnitID    int64
	Score     float64
}

// Rate stores a rater's score (0–100) of another unit on a rating
// criterion; the rater's group follows from their role. Rating one's own
// unit is refused.
func (s *Service) Rate(ctx context.Context, a Actor, in RatingInput) (*Rating, error) {
	rs, err := s.RateMany(ctx, a, in.Year, []RatingInput{in})
	if err != nil {
		return nil, err
	}
	return &rs[0], nil
}

// RateMany stores several scores of one year at once: all or none.
func (s *Service) RateMany(ctx context.Context, a Actor, year int, ins []RatingInput) ([]Rating, error) {
	if !a.Rater && !a.System {
		return nil, forbidden("rater_only", "您不在评议范围内", "you are not a rater")
	}
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return nil, err
	}
	group := ""
	for _, g := range sc.RaterGroups {
		if slices.Contains(a.Roles, auth.Role(g.Role)) {
			group = g.Code
			break
		}
	}
	if group == "" {
		return nil, forbidden("no_rater_group", "您的角色不属于任何评议组", "your role belongs to no rater group")
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	units, err := unitsOf(ctx, s.DB, st.Kinds)
	if err != nil {
		return nil, err
	}
	out := make([]Rating, 0, len(ins))
	for _, in := range ins {
		c, ok := sc.criterion(in.Criterion)
		if !ok || c.Method != MethodRating {
			return nil, invalid("criterion", fmt.Sprintf("%s 不是本方案的综合评比指标", in.Criterion), fmt.Sprintf("%s is not a rating criterion of the scheme", in.Criterion))
		}
		if math.IsNaN(in.Score) || in.Score < 0 || in.Score > 100 {
			return nil, invalid("score", fmt.Sprintf("评分须在 0–100 之间，收到 %g", in.Score), fmt.Sprintf("score must be within 0–100, got %g", in.Score))
		}
		if a.UnitID != 0 && in.UnitID == a.UnitID {
			return nil, invalid("unit_id", "不能为本单位评分", "you cannot rate your own unit")
		}
		if !slices.ContainsFunc(units, func(u Unit) bool { return u.ID == in.UnitID }) {
			return nil, invalid("unit_id", fmt.Sprintf("单位 %d 不在考评范围内", in.UnitID), fmt.Sprintf("unit %d is not assessed", in.UnitID))
		}
		r := Rating{CriterionID: c.ID, Group: group, RaterID: a.UserID, UnitID: in.UnitID, Score: in.Score}
		if a.UnitID != 0 {
			u := a.UnitID
			r.RaterUnitID = &u
		}
		out = append(out, r)
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, year); err != nil {
			return err
		}
		for i := range out {
			r := &out[i]
			id, err := db.InsertID(ctx, tx, `INSERT INTO assess_ratings (criterion_id, group_code, rater_id, rater_unit_id, unit_id, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (criterion_id, rater_id, unit_id) DO UPDATE SET score = excluded.score, created_at = excluded.created_at`,
				r.CriterionID, group, a.UserID, nullID(a.UnitID), r.UnitID, r.Score, s.stamp())
			if err != nil {
				return fmt.Errorf("assess: store rating: %w", err)
			}
			r.ID = id
			if err := s.Audit.WriteTx(ctx, tx, a.entry("assess.rate", fmt.Sprintf("rating:%d", id), fmt.Sprintf("criterion %d unit %d score %g", r.CriterionID, r.UnitID, r.Score))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Ratings lists a year's ratings (rater ids included: for supervisors).
func (s *Service) Ratings(ctx context.Context, year int) ([]Rating, error) {
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT r.id, r.criterion_id, r.group_code, r.rater_id, r.rater_unit_id, r.unit_id, r.score FROM assess_ratings r
		JOIN assess_criteria c ON c.id = r.criterion_id WHERE c.scheme_id = ? ORDER BY r.id`, sc.ID)
	if err != nil {
		return nil, fmt.Errorf("assess: ratings: %w", err)
	}
	defer rows.Close()
	out := []Rating{}
	for rows.Next() {
		var r Rating
		var ru sql.NullInt64
		if err := rows.Scan(&r.ID, &r.CriterionID, &r.Group, &r.RaterID, &ru, &r.UnitID, &r.Score); err != nil {
			return nil, fmt.Errorf("assess: scan rating: %w", err)
		}
		if ru.Valid {
			r.RaterUnitID = &ru.Int64
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AdjustmentInput is a bonus or deduction for a unit, or for a person.
type AdjustmentInput struct {
	Year     int
	UnitID   int64
	PersonID int64
	Category string
	Points   float64
	Reason   string
}

// AddAdjustment records a bonus or deduction (supervisor). A person's
// commendation or accountability record counts for the person's unit.
func (s *Service) AddAdjustment(ctx context.Context, a Actor, in AdjustmentInput) (*Adjustment, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以登记加减分", "only a supervisor records bonuses and deductions")
	}
	if err := validYear(in.Year); err != nil {
		return nil, err
	}
	kind, ok := Categories[in.Category]
	if !ok {
		return nil, invalid("category", "category 须为 commendation、advanced_collective、advanced_individual、province_first、accountability、other_bonus 或 other_deduction",
			"category must be commendation, advanced_collective, advanced_individual, province_first, accountability, other_bonus or other_deduction")
	}
	if in.Points <= 0 || in.Points > 100 {
		return nil, invalid("points", "分值须大于 0 且不超过 100", "points must be above 0 and at most 100")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || len([]rune(in.Reason)) > 2000 {
		return nil, invalid("reason", "事由必填，不超过 2000 字", "reason is required, at most 2000 characters")
	}
	if in.PersonID != 0 {
		err := s.DB.QueryRowContext(ctx, `SELECT unit_id FROM people WHERE id = ?`, in.PersonID).Scan(&in.UnitID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalid("person_id", fmt.Sprintf("人员 %d 不存在", in.PersonID), fmt.Sprintf("person %d not found", in.PersonID))
		}
		if err != nil {
			return nil, fmt.Errorf("assess: person %d: %w", in.PersonID, err)
		}
	}
	if in.UnitID == 0 {
		return nil, invalid("unit_id", "须指定单位或人员", "unit_id or person_id is required")
	}
	if _, err := s.unitName(ctx, in.UnitID); err != nil {
		return nil, invalid("unit_id", fmt.Sprintf("单位 %d 不存在", in.UnitID), fmt.Sprintf("unit %d not found", in.UnitID))
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, in.Year); err != nil {
			return err
		}
		var pid any
		if in.PersonID != 0 {
			pid = in.PersonID
		}
		var err error
		id, err = db.InsertID(ctx, tx, `INSERT INTO assess_adjustments (year, unit_id, person_id, kind, category, points, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.Year, in.UnitID, pid, kind, in.Category, in.Points, in.Reason, a.Username, s.stamp())
		if err != nil {
			return fmt.Errorf("assess: store adjustment: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.adjustment", fmt.Sprintf("adjustment:%d", id), fmt.Sprintf("%d unit %d %s %g", in.Year, in.UnitID, in.Category, in.Points)))
	})
	if err != nil {
		return nil, err
	}
	all, err := listAdjustments(ctx, s.DB, in.Year, 0)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("assess: adjustment %d vanished", id)
}

// Adjustments lists a year's bonuses and deductions, or a person's.
func (s *Service) Adjustments(ctx context.Context, year int, personID int64) ([]Adjustment, error) {
	out, err := listAdjustments(ctx, s.DB, year, personID)
	if out == nil {
		out = []Adjustment{}
	}
	return out, err
}

// ComputeEvaluation scores every unit for a year from a few set-based
// reads: one metric computation per metric used, then declarations, spot
// items, ratings and adjustments in one query each; the scoring is in Go.
func (s *Service) ComputeEvaluation(ctx context.Context, year int) (*Evaluation, error) {
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	units, err := unitsOf(ctx, s.DB, st.Kinds)
	if err != nil {
		return nil, err
	}
	in, err := loadInputs(ctx, s.DB, sc)
	if err != nil {
		return nil, err
	}
	yp := metric.YearOf(workday.DateOf(year, time.January, 1))
	yp.Today = s.Today()
	var mvals map[string]metric.Values
	need := map[string]bool{}
	for _, c := range sc.Leaves() {
		if c.Method == MethodMetric {
			need[c.Metric] = true
		}
	}
	const overdue = "supervise.overdue_count"
	if _, ok := s.Metrics.Get(overdue); ok && sc.OverdueDeduction > 0 {
		need[overdue] = true
	}
	codes := make([]string, 0, len(need))
	for code := range need {
		codes = append(codes, code)
	}
	if mvals, err = s.computeMetrics(ctx, codes, yp); err != nil {
		return nil, err
	}
	// Inputs by unit.
	declBy := map[int64]map[int64]Declaration{} // criterion → unit
	declByID := map[int64]Declaration{}
	for _, d := range in.decls {
		if declBy[d.CriterionID] == nil {
			declBy[d.CriterionID] = map[int64]Declaration{}
		}
		declBy[d.CriterionID][d.UnitID] = d
		declByID[d.ID] = d
	}
	type spotTally struct{ ok, bad, pending int }
	spotBy := map[int64]*spotTally{}
	falseDecl := map[int64]bool{}
	for _, it := range in.spots {
		t := spotBy[it.UnitID]
		if t == nil {
			t = &spotTally{}
			spotBy[it.UnitID] = t
		}
		switch it.Result {
		case "ok":
			t.ok++
		case "false":
			t.bad++
			if it.Kind == "declaration" {
				falseDecl[it.RefID] = true
			}
		default:
			t.pending++
		}
	}
	critByID := map[int64]Criterion{}
	for _, c := range sc.Criteria {
		critByID[c.ID] = c
	}
	adjBy := map[int64][]Adjustment{}
	for _, a := range in.adjs {
		adjBy[a.UnitID] = append(adjBy[a.UnitID], a)
	}
	// Rank shares of metric criteria.
	rankShare := map[string]map[int64]float64{}
	for _, c := range sc.Leaves() {
		if c.Method != MethodMetric || c.Rule == nil || c.Rule.Kind != RuleRank {
			continue
		}
		if _, done := rankShare[c.Metric]; done {
			continue
		}
		dir := metric.HigherBetter
		if c.Rule.Lower {
			dir = metric.LowerBetter
		}
		rk := metric.Rank(dir, mvals[c.Metric])
		m := map[int64]float64{}
		for _, r := range rk {
			m[r.UnitID] = RankShare(r.Rank, len(rk))
		}
		rankShare[c.Metric] = m
	}
	ev := &Evaluation{Year: year, Scheme: sc.Name, At: s.stamp()}
	leaves := sc.Leaves()
	results := make([]Result, 0, len(units))
	for _, u := range units {
		r := Result{UnitID: u.ID, UnitName: u.Name, Trace: make([]TraceLine, 0, len(sc.Criteria)+2)}
		falseDeduct := 0.0
		for _, c := range leaves {
			tl := TraceLine{Criterion: c.Code, Method: c.Method, Weight: c.Weight}
			share := 0.0
			switch c.Method {
			case MethodMetric:
				v, ok := mvals[c.Metric][u.ID]
				switch {
				case !ok:
					share = 1
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("%s: no data (full marks)", c.Metric))
				case c.Rule == nil || c.Rule.Kind == RuleRank:
					share = rankShare[c.Metric][u.ID]
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("%s = %g (rank share %.3f)", c.Metric, metric.Round(v, 2), share))
				case c.Rule.Kind == RuleLinear:
					share = Linear(v, c.Rule.Floor, c.Rule.Target)
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("%s = %g (linear %g→%g)", c.Metric, metric.Round(v, 2), c.Rule.Floor, c.Rule.Target))
				case c.Rule.Kind == RuleStepped:
					share = Stepped(v, c.Rule.Steps, c.Rule.Lower)
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("%s = %g (stepped share %g)", c.Metric, metric.Round(v, 2), share))
				}
			case MethodDeclaration:
				d, ok := declBy[c.ID][u.ID]
				switch {
				case !ok:
					tl.Inputs = append(tl.Inputs, "no declaration")
				case falseDecl[d.ID]:
					falseDeduct += c.FalseDeduction
					r.Flagged = true
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("declaration #%d found false by spot check (deduct %g)", d.ID, c.FalseDeduction))
				case d.Score == nil:
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("declaration #%d claimed %g, not reviewed", d.ID, d.Claimed))
				default:
					share = *d.Score / c.Weight
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("declaration #%d claimed %g, %s %g", d.ID, d.Claimed, d.State, *d.Score))
				}
			case MethodSpotCheck:
				t := spotBy[u.ID]
				if t == nil || t.ok+t.bad == 0 {
					share = 1
					tl.Inputs = append(tl.Inputs, "no checked sample (full marks)")
				} else {
					share = float64(t.ok) / float64(t.ok+t.bad)
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("sampled items: %d verified, %d false, %d pending", t.ok, t.bad, t.pending))
				}
			case MethodRating:
				wsum, sum := 0.0, 0.0
				for _, g := range sc.RaterGroups {
					xs := in.ratings[c.ID][u.ID][g.Code]
					m, ok := TrimmedMean(xs)
					if !ok {
						tl.Inputs = append(tl.Inputs, fmt.Sprintf("%s: no ratings", g.Code))
						continue
					}
					wsum += g.Weight
					sum += g.Weight * m
					trim := ""
					if len(xs) >= 5 {
						trim = ", highest and lowest dropped"
					}
					tl.Inputs = append(tl.Inputs, fmt.Sprintf("%s: %d ratings, trimmed mean %.2f%s (weight %g)", g.Code, len(xs), m, trim, g.Weight))
				}
				if wsum > 0 {
					share = sum / wsum / 100
				}
			}
			tl.Points = round2(c.Weight * clamp01(share))
			r.Base += tl.Points
			r.Trace = append(r.Trace, tl)
		}
		// Bonuses and deductions.
		bonus := TraceLine{Criterion: "bonus", Inputs: []string{}}
		deduct := TraceLine{Criterion: "deduction", Inputs: []string{}}
		for _, a := range adjBy[u.ID] {
			who := ""
			if a.PersonName != "" {
				who = " (" + a.PersonName + ")"
			}
			line := fmt.Sprintf("#%d %s%s %g: %s", a.ID, a.Category, who, a.Points, a.Reason)
			if a.Kind == KindBonus {
				r.Bonus += a.Points
				bonus.Inputs = append(bonus.Inputs, line)
			} else {
				r.Deduction += a.Points
				deduct.Inputs = append(deduct.Inputs, line)
			}
		}
		if v, ok := mvals[overdue][u.ID]; ok && v > 0 {
			d := v * sc.OverdueDeduction
			r.Deduction += d
			deduct.Inputs = append(deduct.Inputs, fmt.Sprintf("%s = %g × %g", overdue, v, sc.OverdueDeduction))
		}
		if falseDeduct > 0 {
			r.Deduction += falseDeduct
			deduct.Inputs = append(deduct.Inputs, fmt.Sprintf("false declarations %g", falseDeduct))
		}
		if r.Bonus > sc.BonusCap {
			bonus.Inputs = append(bonus.Inputs, fmt.Sprintf("capped at %g (was %g)", sc.BonusCap, round2(r.Bonus)))
			r.Bonus = sc.BonusCap
		}
		if r.Deduction > sc.DeductionCap {
			deduct.Inputs = append(deduct.Inputs, fmt.Sprintf("capped at %g (was %g)", sc.DeductionCap, round2(r.Deduction)))
			r.Deduction = sc.DeductionCap
		}
		r.Bonus, r.Deduction, r.Base = round2(r.Bonus), round2(r.Deduction), round2(r.Base)
		bonus.Points, deduct.Points = r.Bonus, -r.Deduction
		r.Trace = append(r.Trace, bonus, deduct)
		r.Score = round2(r.Base + r.Bonus - r.Deduction)
		results = append(results, r)
	}
	scores := make([]float64, len(results))
	ids := make([]int64, len(results))
	for i, r := range results {
		scores[i], ids[i] = r.Score, r.UnitID
	}
	order, rank := CompetitionRanks(scores, ids)
	ev.Items = make([]Result, 0, len(results))
	for _, k := range order {
		r := results[k]
		r.Rank = rank[k]
		ev.Items = append(ev.Items, r)
	}
	Grades(ev.Items, sc.ExcellentQuota)
	return ev, nil
}

// EvaluationOf returns the published evaluation of a year, or live for
// those who run the cadence.
func (s *Service) EvaluationOf(ctx context.Context, year int, live bool) (*Evaluation, error) {
	if err := validYear(year); err != nil {
		return nil, err
	}
	p, err := getPeriod(ctx, s.DB, fmt.Sprint(year))
	if err != nil {
		return nil, err
	}
	if p != nil && p.Published() {
		var ev Evaluation
		if err := snapshot(ctx, s.DB, p.ID, p.Version, &ev); err != nil {
			return nil, err
		}
		ev.SignedOff = p.SignedOff()
		return &ev, nil
	}
	if !live {
		return nil, errNotFound("not_published", fmt.Sprintf("%d 年考评结果尚未发布", year), fmt.Sprintf("the %d evaluation is not published yet", year))
	}
	return s.ComputeEvaluation(ctx, year)
}

// seedFor is a deterministic seed for a year (the demo's draws).
func seedFor(year int) int64 { return int64(rand.New(rand.NewPCG(uint64(year), 5)).Int32()) }
