package assess

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

var demoDone = []string{
	"完成市政府常务会议材料审核", "报送本周政务信息 3 篇", "督办重点任务 2 项并现场核实", "完成来文办理 12 件",
	"组织召开专题协调会", "完成年度目标任务分解", "配合完成迎检材料准备", "整理归档会议纪要",
	"完成 12345 工单回访 20 件", "推进信息化项目联调", "完成月度数据分析报告", "开展安全生产检查",
}

var demoProblems = []string{"", "", "", "部分配合单位材料报送滞后", "系统接口联调进度偏慢", "人手紧张，需统筹调配"}

// DemoScheme is the demo's year-end scheme for a year.
func DemoScheme(year int, deadline workday.Date) Scheme {
	return Scheme{Year: year, Name: fmt.Sprintf("示范市政府办公室 %d 年度综合考评方案", year), BonusCap: 5, DeductionCap: 10, ExcellentQuota: 30, OverdueDeduction: 0.5,
		DeclarationDeadline: deadline,
		Criteria: []Criterion{
			{Code: "A", Name: "重点工作", Weight: 40},
			{Code: "A1", Name: "每日报及时率", Parent: "A", Weight: 10, Method: MethodMetric, Metric: MetricDailyPunctuality, Rule: &Rule{Kind: RuleLinear, Floor: 60, Target: 100}},
			{Code: "A2", Name: "按期办结率", Parent: "A", Weight: 10, Method: MethodMetric, Metric: "supervise.on_time_rate", Rule: &Rule{Kind: RuleStepped, Steps: []Step{{At: 95, Share: 1}, {At: 85, Share: 0.8}, {At: 70, Share: 0.5}}}},
			{Code: "A3", Name: "重点任务推进（自主申报）", Parent: "A", Weight: 20, Method: MethodDeclaration, FalseDeduction: 2},
			{Code: "B", Name: "专业抽查", Weight: 20},
			{Code: "B1", Name: "申报与任务抽查核实", Parent: "B", Weight: 20, Method: MethodSpotCheck, SpotRate: 0.2},
			{Code: "C", Name: "综合评比", Weight: 40},
			{Code: "C1", Name: "综合评价", Parent: "C", Weight: 40, Method: MethodRating},
		},
		RaterGroups: DefaultRaterGroups(),
	}
}

// LoadDemo adds the demo's assessment history: daily reports since the
// start of last year (the last working days' with their task reports
// pulled in), this year's months published up to last month, the first
// half year's exhibition, last year evaluated and signed off, and this
// year's scheme with some declarations. Deterministic for a given now.
func (s *Service) LoadDemo(ctx context.Context, now time.Time) error {
	began := time.Now()
	defer func() { slog.Info("assess demo loaded", "took", time.Since(began).Round(time.Millisecond)) }()
	today := workday.FromTime(now, s.Loc)
	rng := rand.New(rand.NewPCG(2026, 5))
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	units, err := unitsOf(ctx, s.DB, st.Kinds)
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return nil
	}
	sys := SystemActor("demo")
	// Each unit's diligence decides how often it files, and on time.
	diligence := map[int64]float64{}
	for _, u := range units {
		diligence[u.ID] = 0.72 + 0.28*rng.Float64()
	}
	lastYear := today.Year() - 1
	start := workday.DateOf(lastYear, time.January, 1)
	type row struct {
		unit   int64
		day    workday.Date
		onTime bool
		done   string
		prob   string
		lines  string
	}
	var rows []row
	for d := start; d.Before(today); d = d.AddDays(1) {
		if !s.Cal.IsWorkday(d) {
			continue
		}
		recent := today.Sub(d) <= 14
		for _, u := range units {
			p := diligence[u.ID]
			if rng.Float64() > p {
				continue
			}
			r := row{unit: u.ID, day: d, onTime: rng.Float64() < p+0.05, done: demoDone[rng.IntN(len(demoDone))], prob: demoProblems[rng.IntN(len(demoProblems))], lines: "[]"}
			if recent && s.Reports != nil {
				ls, err := s.Reports.UnitReports(ctx, u.ID, d)
				if err != nil {
					return err
				}
				if len(ls) > 0 {
					r.lines = mustJSON(ls)
				}
			}
			rows = append(rows, r)
		}
	}
	filedAt := func(r row) time.Time {
		t := s.dueAt(r.day, st).Add(-time.Duration(30+rng.IntN(300)) * time.Minute)
		if !r.onTime {
			t = s.dueAt(r.day, st).Add(time.Duration(20+rng.IntN(600)) * time.Minute)
		}
		return t.UTC()
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		const per = 11
		for i := 0; i < len(rows); i += 400 {
			chunk := rows[i:min(i+400, len(rows))]
			args := make([]any, 0, len(chunk)*per)
			vals := make([]string, len(chunk))
			for k, r := range chunk {
				vals[k] = "(" + placeholders(per) + ")"
				args = append(args, r.unit, r.day, r.done, "", r.prob, "按计划推进", r.lines, r.onTime, nil, "demo", filedAt(r))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_daily_reports (unit_id, day, done, moved, problems, tomorrow, task_lines, on_time, filed_by, filed_by_name, filed_at) VALUES `+
				strings.Join(vals, ", "), args...); err != nil {
				return fmt.Errorf("assess: demo daily reports: %w", err)
			}
		}
		return s.Audit.WriteTx(ctx, tx, sys.entry("assess.demo", "assess:daily", fmt.Sprintf("%d daily reports", len(rows))))
	})
	if err != nil {
		return err
	}

	// Last year: scheme, declarations, a spot check, ratings, bonuses and
	// deductions; published and signed off.
	if _, err := s.SaveScheme(ctx, sys, DemoScheme(lastYear, workday.DateOf(lastYear, time.December, 20))); err != nil {
		return err
	}
	sc, err := s.Scheme(ctx, lastYear)
	if err != nil {
		return err
	}
	var a3, c1 int64
	for _, c := range sc.Criteria {
		switch c.Code {
		case "A3":
			a3 = c.ID
		case "C1":
			c1 = c.ID
		}
	}
	base := map[int64]float64{}
	for _, u := range units {
		base[u.ID] = 70 + 25*diligence[u.ID] - 10*rng.Float64()
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		at := workday.DateOf(lastYear, time.December, 10).Time(s.Loc).UTC()
		for _, u := range units {
			claimed := float64(14 + rng.IntN(7))
			score := claimed
			state := DeclApproved
			if rng.IntN(4) == 0 {
				score, state = claimed-float64(1+rng.IntN(3)), DeclAdjusted
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_declarations (criterion_id, unit_id, claimed, evidence, state, score, review_note, reviewed_by, reviewed_at, created_by, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'supervisor', ?, 'demo', ?)`, a3, u.ID, claimed, "年度重点任务台账、会议纪要及成果材料", state, score, "", at, at); err != nil {
				return fmt.Errorf("assess: demo declaration: %w", err)
			}
		}
		// Ratings as imported from the panels' paper ballots: 5 leaders, 8
		// peer units' heads, 6 service recipients (ballot n is rater −n).
		groups := []struct {
			code string
			n    int
		}{{"leaders", 5}, {"peers", 8}, {"recipients", 6}}
		var args []any
		var vals []string
		rater := int64(0)
		for _, g := range groups {
			for k := 0; k < g.n; k++ {
				rater--
				for _, u := range units {
					v := metric.Round(min(100, max(40, base[u.ID]+8*rng.NormFloat64())), 1)
					vals = append(vals, "("+placeholders(7)+")")
					args = append(args, c1, g.code, rater, nil, u.ID, v, at)
				}
			}
		}
		for i := 0; i < len(vals); i += 300 {
			j := min(i+300, len(vals))
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_ratings (criterion_id, group_code, rater_id, rater_unit_id, unit_id, score, created_at) VALUES `+strings.Join(vals[i:j], ", "), args[i*7:j*7]...); err != nil {
				return fmt.Errorf("assess: demo ratings: %w", err)
			}
		}
		return s.Audit.WriteTx(ctx, tx, sys.entry("assess.demo", fmt.Sprintf("scheme:%d", lastYear), "declarations and ratings"))
	})
	if err != nil {
		return err
	}
	spot, err := s.DrawSpotCheck(ctx, sys, lastYear, 0.2, seedFor(lastYear))
	if err != nil {
		return err
	}
	// The checkers' verdicts, in one transaction: one declaration in
	// seventeen was found false.
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		at := workday.DateOf(lastYear, time.December, 15).Time(s.Loc).UTC()
		for i, it := range spot.Items {
			res, note := "ok", "材料齐全，核实无误"
			if it.Kind == "declaration" && i%17 == 5 {
				res, note = "false", "申报成果与台账不符"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE assess_spot_items SET result = ?, note = ?, checked_by = 'supervisor', checked_at = ? WHERE id = ?`, res, note, at, it.ID); err != nil {
				return fmt.Errorf("assess: demo verdict: %w", err)
			}
		}
		return s.Audit.WriteTx(ctx, tx, sys.entry("assess.demo", fmt.Sprintf("spotcheck:%d", spot.ID), fmt.Sprintf("%d verdicts", len(spot.Items))))
	})
	if err != nil {
		return err
	}
	var people []struct{ id, unit int64 }
	prow, err := s.DB.QueryContext(ctx, `SELECT p.id, p.unit_id FROM people p JOIN units u ON u.id = p.unit_id WHERE u.kind IN ('section','district') ORDER BY p.id LIMIT 40`)
	if err != nil {
		return fmt.Errorf("assess: demo people: %w", err)
	}
	for prow.Next() {
		var p struct{ id, unit int64 }
		if err := prow.Scan(&p.id, &p.unit); err != nil {
			prow.Close()
			return err
		}
		people = append(people, p)
	}
	prow.Close()
	adjs := []AdjustmentInput{
		{UnitID: units[0].ID, Category: "province_first", Points: 3, Reason: "政务信息工作获全省第一"},
		{UnitID: units[3%len(units)].ID, Category: "advanced_collective", Points: 2, Reason: "获评全市机关先进集体"},
	}
	if len(people) >= 3 {
		adjs = append(adjs,
			AdjustmentInput{PersonID: people[2].id, Category: "advanced_individual", Points: 1, Reason: "获评全市优秀公务员"},
			AdjustmentInput{PersonID: people[len(people)-1].id, Category: "accountability", Points: 2, Reason: "文件办理延误被通报（失职问责）"},
			AdjustmentInput{PersonID: people[len(people)/2].id, Category: "commendation", Points: 1, Reason: "防汛工作受市政府通报表扬"})
	}
	for _, in := range adjs {
		in.Year = lastYear
		if _, err := s.AddAdjustment(ctx, sys, in); err != nil {
			return err
		}
	}
	if _, err := s.Publish(ctx, sys, fmt.Sprint(lastYear), ""); err != nil {
		return err
	}
	if _, err := s.SignOff(ctx, sys, lastYear); err != nil {
		return err
	}

	// This year: months published up to last month, the first half year's
	// exhibition with achievements, and the scheme open for declarations.
	this := today.Year()
	for m := time.January; m < today.Month(); m++ {
		if _, err := s.Publish(ctx, sys, metric.MonthOf(workday.DateOf(this, m, 1)).String(), ""); err != nil {
			return err
		}
	}
	h1 := metric.HalfYearOf(workday.DateOf(this, time.January, 1))
	if today.After(h1.End) {
		titles := []string{"建成全市统一的督查督办平台", "政务信息采用量同比增长 30%", "12345 热线满意度达 98%", "完成机关办公用房整合", "出台公文处理规范"}
		for i, u := range units {
			if i%3 != 0 {
				continue
			}
			ua := sys
			ua.UnitID, ua.Reporter = u.ID, true
			ach, err := s.SubmitAchievement(ctx, ua, AchievementInput{Period: h1.String(), Title: titles[i%len(titles)], Text: "上半年围绕“对标争先”部署，形成可复制的经验做法。"})
			if err != nil {
				return err
			}
			if _, err := s.ReviewAchievement(ctx, sys, ach.ID, true, "同意展示"); err != nil {
				return err
			}
		}
		if _, err := s.Publish(ctx, sys, h1.String(), ""); err != nil {
			return err
		}
	}
	deadline := workday.DateOf(this, time.December, 20)
	if _, err := s.SaveScheme(ctx, sys, DemoScheme(this, deadline)); err != nil {
		return err
	}
	if !today.After(deadline) {
		for i, u := range units {
			if i%4 != 0 {
				continue
			}
			ua := sys
			ua.UnitID, ua.Reporter = u.ID, true
			if _, err := s.Declare(ctx, ua, this, "A3", float64(15+i%5), "重点任务推进台账及佐证材料"); err != nil {
				return err
			}
		}
	}
	return nil
}
