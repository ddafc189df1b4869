package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

// The 考评 figures of issue 5.
var (
	assessUnits   = 300
	assessTasks   = 100000
	assessRatings = 30000
	assessClients = 20
	assessRuns    = 5
	assessLoadFor = 10 * time.Second
)

// assessData is what the generator made.
type assessData struct {
	year     int
	month    string
	criteria int
	ratings  int
	tasks    int
	took     time.Duration
}

// generateAssess fills a fresh, migrated database: 300 assessed units,
// accounts, 100,000 tasks of this year (most signed off, some late, some
// open), this month's daily reports, a scheme of 10 level-1 × 6 level-2
// criteria (metric rules, declarations, a spot check, ratings), a
// declaration per unit and declaration criterion, 30,000 ratings and some
// bonuses and deductions.
func generateAssess(ctx context.Context, d *db.DB) (*assessData, error) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(5, 300))
	loc := time.FixedZone("Asia/Shanghai", 8*3600)
	now := time.Now().UTC().Truncate(time.Microsecond)
	today := workday.FromTime(now, loc)
	cal := workday.New()
	year := today.Year()
	out := &assessData{year: year, month: today.String()[:7]}
	kinds := []string{"section", "affiliate", "district", "outpost"}

	var units []int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		root, err := db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES ('ROOT', '示范市人民政府办公室', 'office', 0, TRUE, ?, ?)`, now, now)
		if err != nil {
			return err
		}
		var rows [][]any
		for i := 1; i <= assessUnits; i++ {
			rows = append(rows, []any{root, fmt.Sprintf("U%03d", i), fmt.Sprintf("考评单位%03d", i), kinds[i%4], i, true, now, now})
		}
		return insertRows(ctx, tx, "units", []string{"parent_id", "code", "name", "kind", "sort_order", "active", "created_at", "updated_at"}, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: assess units: %w", err)
	}
	if units, err = ids(ctx, d, `SELECT id FROM units WHERE kind <> 'office' ORDER BY id`); err != nil {
		return nil, err
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		var rows [][]any
		for i, u := range units {
			rows = append(rows, []any{u, fmt.Sprintf("负责人%03d", i), now, now})
		}
		return insertRows(ctx, tx, "people", []string{"unit_id", "name", "created_at", "updated_at"}, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: assess people: %w", err)
	}
	owners, err := firstPeople(ctx, d)
	if err != nil {
		return nil, err
	}

	as := benchAuth(d)
	for _, a := range []struct {
		name string
		role auth.Role
	}{{"bench_sup", auth.RoleSupervisor}, {"bench_viewer", auth.RoleViewer}} {
		if err := addBenchUser(ctx, as, a.name, a.role, units[0]); err != nil {
			return nil, fmt.Errorf("bench: assess account: %w", err)
		}
	}

	// Tasks of this year, due from January to today's month end.
	jan := workday.DateOf(year, time.January, 1)
	span := today.Sub(jan) + 25
	err = d.InTx(ctx, func(tx *db.Tx) error {
		var rows [][]any
		for i := 0; i < assessTasks; i++ {
			u := units[rng.IntN(len(units))]
			due := jan.AddDays(rng.IntN(span))
			start := due.AddDays(-30 - rng.IntN(60))
			state, light := "signed_off", "done"
			var signed any
			var signedAt any
			switch {
			case due.After(today) || rng.IntN(10) == 0:
				state, light = "in_progress", "green"
			default:
				s := due.AddDays(-rng.IntN(10))
				if rng.IntN(6) == 0 {
					s = cal.AddWorkdays(due, 1+rng.IntN(8))
				}
				if s.After(today) {
					s = today
				}
				signed, signedAt = s, s.Time(loc).UTC()
			}
			rows = append(rows, []any{"plan", benchAreas[i%len(benchAreas)], fmt.Sprintf("考评基准任务%06d", i), u, owners[u], start, due, due, state, 1, signed, signedAt, light, due.AddDays(-20), now, now})
		}
		return insertRows(ctx, tx, "tasks", []string{"source", "area", "title", "lead_unit_id", "owner_id", "start_on", "due_on", "baseline_due_on", "state", "weight",
			"signed_off_on", "signed_off_at", "light", "assigned_on", "created_at", "updated_at"}, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: assess tasks: %w", err)
	}
	out.tasks = assessTasks

	// This month's daily reports.
	err = d.InTx(ctx, func(tx *db.Tx) error {
		var rows [][]any
		first := workday.DateOf(year, today.Month(), 1)
		for day := first; day.Before(today); day = day.AddDays(1) {
			if !cal.IsWorkday(day) {
				continue
			}
			for _, u := range units {
				if rng.IntN(10) == 0 {
					continue
				}
				rows = append(rows, []any{u, day, "完成当日工作", "[]", rng.IntN(8) != 0, "bench", day.Time(loc).Add(16 * time.Hour).UTC()})
			}
		}
		return insertRows(ctx, tx, "assess_daily_reports", []string{"unit_id", "day", "done", "task_lines", "on_time", "filed_by_name", "filed_at"}, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: assess daily reports: %w", err)
	}

	// The scheme: 10 level-1 criteria of 10, each with 6 level-2 criteria.
	metrics := []struct{ code, rule string }{
		{"supervise.on_time_rate", `{"kind":"linear","floor":60,"target":100}`},
		{"supervise.overdue_count", `{"kind":"rank","lower":true}`},
		{"supervise.completed", `{"kind":"rank"}`},
		{"supervise.overdue_workdays", `{"kind":"stepped","steps":[{"at":0,"share":1},{"at":10,"share":0.6}],"lower":true}`},
		{"assess.daily_punctuality", `{"kind":"linear","floor":60,"target":100}`},
	}
	var ratingCrit, declCrit []int64
	err = d.InTx(ctx, func(tx *db.Tx) error {
		sid, err := db.InsertID(ctx, tx, `INSERT INTO assess_schemes (year, name, bonus_cap, deduction_cap, excellent_quota, overdue_deduction, declaration_deadline, created_by, created_at)
			VALUES (?, '基准考评方案', 5, 10, 30, 0.1, ?, 'bench', ?)`, year, workday.DateOf(year, time.December, 31), now)
		if err != nil {
			return err
		}
		for _, g := range [][]any{{"leaders", "领导", "leader", 50.0}, {"peers", "互评单位", "unit_head", 30.0}, {"recipients", "服务对象", "viewer", 20.0}} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_rater_groups (scheme_id, code, name, role, weight) VALUES (?, ?, ?, ?, ?)`, append([]any{sid}, g...)...); err != nil {
				return err
			}
		}
		sort := 0
		for i := 0; i < 10; i++ {
			l1 := fmt.Sprintf("C%02d", i)
			sort++
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_criteria (scheme_id, code, name, parent_code, weight, sort_order) VALUES (?, ?, ?, '', 10, ?)`, sid, l1, "一级指标"+l1, sort); err != nil {
				return err
			}
			for j, w := range []float64{2, 2, 2, 2, 1, 1} {
				code := fmt.Sprintf("%s.%d", l1, j)
				method, metric, rule, rate := "metric", "", "{}", 0.0
				switch j {
				case 0, 1, 2:
					m := metrics[(i*3+j)%len(metrics)]
					metric, rule = m.code, m.rule
				case 3:
					method = "declaration"
				case 4:
					method, rate = "spot_check", 0.1
				case 5:
					method = "rating"
				}
				sort++
				id, err := db.InsertID(ctx, tx, `INSERT INTO assess_criteria (scheme_id, code, name, parent_code, weight, method, metric_code, rule, spot_rate, false_deduction, sort_order)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`, sid, code, "二级指标"+code, l1, w, method, metric, rule, rate, sort)
				if err != nil {
					return err
				}
				switch method {
				case "rating":
					ratingCrit = append(ratingCrit, id)
				case "declaration":
					declCrit = append(declCrit, id)
				}
				out.criteria++
			}
		}
		var drows [][]any
		for _, c := range declCrit {
			for _, u := range units {
				v := float64(1 + rng.IntN(2))
				drows = append(drows, []any{c, u, v, "台账", "approved", v, "bench", now})
			}
		}
		if err := insertRows(ctx, tx, "assess_declarations", []string{"criterion_id", "unit_id", "claimed", "evidence", "state", "score", "created_by", "created_at"}, drows); err != nil {
			return err
		}
		// Ratings: every rater scores every unit on every rating criterion.
		raters := max(1, assessRatings/(len(ratingCrit)*len(units)))
		groups := []string{"leaders", "peers", "recipients"}
		var rrows [][]any
		for _, c := range ratingCrit {
			for k := 0; k < raters; k++ {
				for _, u := range units {
					rrows = append(rrows, []any{c, groups[k%3], int64(1000 + k), u, 60 + 40*rng.Float64(), now})
				}
			}
		}
		out.ratings = len(rrows)
		if err := insertRows(ctx, tx, "assess_ratings", []string{"criterion_id", "group_code", "rater_id", "unit_id", "score", "created_at"}, rrows); err != nil {
			return err
		}
		var arows [][]any
		for i := 0; i < 200; i++ {
			kind, cat := "bonus", "commendation"
			if i%3 == 0 {
				kind, cat = "deduction", "accountability"
			}
			arows = append(arows, []any{year, units[rng.IntN(len(units))], kind, cat, float64(1 + rng.IntN(3)), "基准", "bench", now})
		}
		return insertRows(ctx, tx, "assess_adjustments", []string{"year", "unit_id", "kind", "category", "points", "reason", "created_by", "created_at"}, arows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: assess scheme: %w", err)
	}
	out.took = time.Since(start)
	return out, nil
}

type assessFigures struct {
	engine   string
	data     *assessData
	evalRuns []time.Duration
	pubRuns  []time.Duration
	page     Latencies
	api      Latencies
}

func measureAssess(bin, engine, pgURL string, log io.Writer) (*assessFigures, error) {
	ctx := context.Background()
	f := &assessFigures{engine: engine}
	fresh, err := openFresh(ctx, "assess", engine, pgURL)
	if err != nil {
		return nil, err
	}
	defer fresh.Remove()
	fmt.Fprintf(log, "  generating %d units, %d tasks, %d ratings on %s …\n", assessUnits, assessTasks, assessRatings, engine)
	data, err := generateAssess(ctx, fresh.DB)
	fresh.CloseDB()
	if err != nil {
		return nil, err
	}
	f.data = data
	s, err := fresh.Start(bin)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	sup, err := s.Login("bench_sup", benchPassword)
	if err != nil {
		return nil, err
	}
	viewer, err := s.Login("bench_viewer", benchPassword)
	if err != nil {
		return nil, err
	}
	// Let the scheduler's first passes over the generated tasks finish.
	time.Sleep(5 * time.Second)

	fmt.Fprintf(log, "  year-end computation on %s …\n", engine)
	for i := 0; i < assessRuns; i++ {
		st, took, err := status(s, fmt.Sprintf("/api/v1/evaluations/%d", data.year), sup)
		if err != nil {
			return nil, err
		}
		if st != http.StatusOK {
			return nil, fmt.Errorf("bench: evaluation answered %d", st)
		}
		f.evalRuns = append(f.evalRuns, took)
	}
	fmt.Fprintf(log, "  publishing %s on %s …\n", data.month, engine)
	for i := 0; i < assessRuns; i++ {
		body := map[string]string{}
		if i > 0 {
			body["reason"] = fmt.Sprintf("基准重发 %d", i)
		}
		st, took, err := s.postJSON("/api/v1/periods/"+data.month+"/publish", sup, body)
		if err != nil {
			return nil, err
		}
		if st != http.StatusOK {
			return nil, fmt.Errorf("bench: publish answered %d", st)
		}
		f.pubRuns = append(f.pubRuns, took)
	}
	fmt.Fprintf(log, "  showcase page, %d clients on %s …\n", assessClients, engine)
	page := func() (*http.Request, error) { return authed(s.URL+"/assess/showcase/"+data.month, viewer) }
	Load(4, 2*time.Second, page)
	f.page = Load(assessClients, assessLoadFor, page)
	api := func() (*http.Request, error) { return authed(s.URL+"/api/v1/showcase/"+data.month, viewer) }
	f.api = Load(assessClients, assessLoadFor, api)
	return f, nil
}

// assessSection measures the figures of the assess issue on SQLite and,
// when pgURL is set, PostgreSQL; it returns the BENCHMARKS.md section.
func assessSection(bin, pgURL string, log io.Writer) (string, error) {
	fmt.Fprintln(log, "assess (issue 5) …")
	figs, err := perEngine("assess", bin, pgURL, log, measureAssess)
	if err != nil {
		return "", err
	}
	lite := figs[0]
	var b strings.Builder
	b.WriteString("## 考评 — assessment (issue 5)\n\n")
	fmt.Fprintf(&b, "Generated office: %d assessed units, %d tasks of this year, a scheme of 10 level-1 criteria with %d level-2 criteria (metric rules over the registry, declarations, a spot check, ratings), %d ratings, this month's daily reports. ",
		assessUnits, lite.data.tasks, lite.data.criteria, lite.data.ratings)
	b.WriteString("The year-end computation is `GET /api/v1/evaluations/{year}` as a supervisor (live: the registry's metrics for the year, declarations, spot items, ratings and adjustments read set-based, scored in Go, 18,000 trace lines serialised); publishing is `POST /api/v1/periods/{YYYY-MM}/publish` (computes the showcase and freezes the snapshot; runs after the first are re-publications with a reason).\n\n")
	mdHeader(&b, line([]string{"figure", "goal"}, cells(figs, func(f *assessFigures) string { return f.engine }))...)
	row := func(name, goal string, v func(f *assessFigures) string) {
		mdRow(&b, line([]string{name, goal}, cells(figs, v))...)
	}
	row("data generation (bulk SQL, not a product figure)", "", func(f *assessFigures) string { return ms(f.data.took) })
	row(fmt.Sprintf("year-end computation, %d units × %d level-2 criteria, %d tasks, %d ratings", assessUnits, lite.data.criteria, lite.data.tasks, lite.data.ratings), "< 1 s", func(f *assessFigures) string { return medianMax(f.evalRuns) })
	row("publishing a month", "< 1 s", func(f *assessFigures) string { return medianMax(f.pubRuns) })
	row(fmt.Sprintf("showcase page `GET /assess/showcase/{month}`, %d clients, %s", assessClients, assessLoadFor), "p99", func(f *assessFigures) string { return lat(f.page) })
	row(fmt.Sprintf("showcase JSON `GET /api/v1/showcase/{month}`, %d clients, %s", assessClients, assessLoadFor), "", func(f *assessFigures) string { return lat(f.api) })
	b.WriteString("\n")
	return b.String(), nil
}
