package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

// The supervision figures of issue 3, on a generated office.
const (
	superviseUnits    = 300
	superviseTasks    = 20000
	superviseReports  = 200000
	superviseLiaisons = 20
	superviseClients  = 20
	benchPassword     = "Bench@2026x"
)

// superviseData is what the generator made and the load needs.
type superviseData struct {
	// tasksByUnit are the open tasks of each liaison's unit.
	tasksByUnit map[int64][]int64
	liaisons    []liaison
	units       []int64
	took        time.Duration
}

type liaison struct {
	user string
	unit int64
}

var benchAreas = []string{"four_plus_two", "big_section", "unified_finance", "informatization", "gov_info", "party_building", "emergency"}

// generateSupervision fills a fresh, migrated database with bulk SQL: 300
// units with two people each, accounts (a supervisor and 20 liaisons),
// 20,000 open tasks with milestones, their lights as the deadline engine
// computes them today, 200,000 progress reports and the tasks' first events.
func generateSupervision(ctx context.Context, d *db.DB) (*superviseData, error) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(3, 20000))
	loc := time.FixedZone("Asia/Shanghai", 8*3600)
	now := time.Now().UTC().Truncate(time.Microsecond)
	today := workday.FromTime(now, loc)
	cal := workday.New()
	th := deadline.DefaultThresholds()
	out := &superviseData{tasksByUnit: map[int64][]int64{}}

	// Units and people.
	var root int64
	err := d.InTx(ctx, func(tx *db.Tx) (err error) {
		root, err = db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES ('ROOT', '示范市人民政府办公室', 'office', 0, TRUE, ?, ?)`, now, now)
		if err != nil {
			return err
		}
		rows := make([][]any, 0, superviseUnits-1)
		for i := 1; i < superviseUnits; i++ {
			kind := []string{"section", "affiliate", "district", "branch"}[i%4]
			rows = append(rows, []any{root, fmt.Sprintf("U%03d", i), fmt.Sprintf("基准单位%03d", i), kind, i, true, now, now})
		}
		return insertRows(ctx, tx, "units", []string{"parent_id", "code", "name", "kind", "sort_order", "active", "created_at", "updated_at"}, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: units: %w", err)
	}
	out.units, err = ids(ctx, d, `SELECT id FROM units ORDER BY id`)
	if err != nil {
		return nil, err
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		var rows [][]any
		for i, u := range out.units {
			rows = append(rows, []any{u, fmt.Sprintf("负责人%03d", i), now, now}, []any{u, fmt.Sprintf("联络员%03d", i), now, now})
		}
		return insertRows(ctx, tx, "people", []string{"unit_id", "name", "created_at", "updated_at"}, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: people: %w", err)
	}
	owners, err := firstPeople(ctx, d)
	if err != nil {
		return nil, err
	}

	// Accounts: a supervisor and the liaisons.
	as := benchAuth(d)
	if err := addBenchUser(ctx, as, "bench_sup", auth.RoleSupervisor, root); err != nil {
		return nil, fmt.Errorf("bench: accounts: %w", err)
	}
	for i := 0; i < superviseLiaisons; i++ {
		l := liaison{user: fmt.Sprintf("bench_lia%02d", i), unit: out.units[1+i]}
		if err := addBenchUser(ctx, as, l.user, auth.RoleLiaison, l.unit); err != nil {
			return nil, fmt.Errorf("bench: accounts: %w", err)
		}
		out.liaisons = append(out.liaisons, l)
	}

	// Tasks, with their lights computed as the service would today.
	type gen struct {
		unit   int64
		start  workday.Date
		due    workday.Date
		source supervise.Source
	}
	gens := make([]gen, superviseTasks)
	cols := []string{"source", "area", "title", "description", "acceptance", "lead_unit_id", "owner_id", "priority", "cadence", "weight",
		"start_on", "due_on", "baseline_due_on", "state", "version", "progress", "assigned_on", "accepted_at", "last_report_on",
		"planned_investment", "completed_investment", "stage", "location",
		"light", "light_code", "light_reason_zh", "light_reason_en", "overdue_workdays", "light_on", "created_at", "updated_at"}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		rows := make([][]any, 0, 200)
		for i := range superviseTasks {
			unit := out.units[1+i%(superviseUnits-1)]
			startOn := today.AddDays(-30 - rng.IntN(120))
			due := today.AddDays(-20 + rng.IntN(220))
			if due <= startOn {
				due = startOn + 30
			}
			src := []supervise.Source{supervise.SourcePlan, supervise.SourcePlan, supervise.SourceProject, supervise.SourceAssigned, supervise.SourceConcern, supervise.SourceFinding}[i%6]
			cadence := []deadline.Cadence{deadline.CadenceWeekly, deadline.CadenceBiweekly, deadline.CadenceMonthly}[i%3]
			state := supervise.StateInProgress
			switch i % 20 {
			case 0:
				state = supervise.StateAssigned
			case 1, 2, 3:
				state = supervise.StateAccepted
			}
			lastReport := today.AddDays(-rng.IntN(25))
			progress := rng.IntN(95)
			if state != supervise.StateInProgress {
				progress, lastReport = 0, 0
			}
			t := &supervise.Task{Start: startOn, Due: due, AssignedOn: startOn, State: state, Progress: progress, Cadence: cadence, LastReportOn: lastReport}
			res := supervise.EvaluateTask(cal, th, t, today)
			p := res.Primary()
			var planned, completed any
			stage, location := "", ""
			if src == supervise.SourceProject {
				pv := int64(1+rng.IntN(300)) * 1_000_000
				planned, completed = pv, pv*int64(progress)/100
				stage, location = "construction", fmt.Sprintf("第%d片区", i%7+1)
			}
			var accepted any
			if state != supervise.StateAssigned {
				accepted = now
			}
			rows = append(rows, []any{string(src), benchAreas[i%len(benchAreas)], fmt.Sprintf("基准任务%05d：推进重点工作", i),
				"基准测试生成的任务", "按期完成", unit, owners[unit], "normal", string(cadence), 1,
				startOn, due, due, string(state), 1, progress, startOn, accepted, lastReport,
				planned, completed, stage, location,
				string(res.Light), p.Code, p.Text.ZH, p.Text.EN, res.OverdueWorkdays, today, now, now})
			gens[i] = gen{unit: unit, start: startOn, due: due, source: src}
			if len(rows) == cap(rows) {
				if err := insertRows(ctx, tx, "tasks", cols, rows); err != nil {
					return err
				}
				rows = rows[:0]
			}
		}
		return insertRows(ctx, tx, "tasks", cols, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: tasks: %w", err)
	}
	taskIDs, err := ids(ctx, d, `SELECT id FROM tasks ORDER BY id`)
	if err != nil || len(taskIDs) != superviseTasks {
		return nil, fmt.Errorf("bench: read task ids: %d, %v", len(taskIDs), err)
	}
	liaisonUnits := map[int64]bool{}
	for _, l := range out.liaisons {
		liaisonUnits[l.unit] = true
	}
	for i, id := range taskIDs {
		if liaisonUnits[gens[i].unit] && i%20 != 0 { // accepted or in progress: they take reports
			out.tasksByUnit[gens[i].unit] = append(out.tasksByUnit[gens[i].unit], id)
		}
	}

	// Milestones, events and reports.
	err = d.InTx(ctx, func(tx *db.Tx) error {
		ms := make([][]any, 0, 500)
		evs := make([][]any, 0, 500)
		for i, id := range taskIDs {
			g := gens[i]
			mid := g.start + (g.due-g.start)/2
			var done any
			if mid < today {
				done = mid
			}
			ms = append(ms, []any{id, 1, "中期节点", mid, done, "", now, now})
			evs = append(evs, []any{id, now, "bench", "create", "", "draft", "", "due " + g.due.String()},
				[]any{id, now, "bench", "assign", "draft", "assigned", "", ""})
			if len(ms) >= 250 {
				if err := insertRows(ctx, tx, "task_milestones", []string{"task_id", "seq", "name", "due_on", "done_on", "evidence", "created_at", "updated_at"}, ms); err != nil {
					return err
				}
				if err := insertRows(ctx, tx, "task_events", []string{"task_id", "at", "actor", "kind", "from_state", "to_state", "note", "detail"}, evs); err != nil {
					return err
				}
				ms, evs = ms[:0], evs[:0]
			}
		}
		if err := insertRows(ctx, tx, "task_milestones", []string{"task_id", "seq", "name", "due_on", "done_on", "evidence", "created_at", "updated_at"}, ms); err != nil {
			return err
		}
		return insertRows(ctx, tx, "task_events", []string{"task_id", "at", "actor", "kind", "from_state", "to_state", "note", "detail"}, evs)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: milestones and events: %w", err)
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		rows := make([][]any, 0, 500)
		per := superviseReports / superviseTasks
		for i, id := range taskIDs {
			g := gens[i]
			for k := range per {
				on := g.start + workday.Date(k*max(1, int(today-g.start))/per)
				rows = append(rows, []any{id, g.unit, 5 + 9*k, "按计划推进，完成阶段性工作", on, "bench", now})
				if len(rows) == cap(rows) {
					if err := insertRows(ctx, tx, "task_reports", []string{"task_id", "unit_id", "percent", "text", "reported_on", "created_by_name", "created_at"}, rows); err != nil {
						return err
					}
					rows = rows[:0]
				}
			}
		}
		return insertRows(ctx, tx, "task_reports", []string{"task_id", "unit_id", "percent", "text", "reported_on", "created_by_name", "created_at"}, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("bench: reports: %w", err)
	}
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		return nil, fmt.Errorf("bench: analyze: %w", err)
	}
	out.took = time.Since(start)
	return out, nil
}

// insertRows inserts rows with multi-row INSERT statements (bounded so both
// engines' parameter limits hold).
func insertRows(ctx context.Context, tx *db.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, 4000/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for len(rows) > 0 {
		n := min(per, len(rows))
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, n*len(cols))
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(one)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

func ids(ctx context.Context, d *db.DB, q string) ([]int64, error) {
	rows, err := d.QueryContext(ctx, q)
	if err != nil {
		return nil, err
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

// superviseFigures are one engine's results.
type superviseFigures struct {
	engine        string
	gen           time.Duration
	battleMap     *Latencies
	battleMapNote string
	page          *Latencies
	tasks         Latencies // the plain list, measured when the battle map is missing
	filtered      Latencies
	reports       Latencies
	remind        string
}

// measureSupervision generates the data into a fresh database (SQLite in a
// new data directory, or PostgreSQL at pgURL, a fresh schema), starts the
// binary on it and takes the figures.
func measureSupervision(bin, engine, pgURL string, log io.Writer) (*superviseFigures, error) {
	ctx := context.Background()
	f := &superviseFigures{engine: engine}
	fresh, err := openFresh(ctx, "supervise", engine, pgURL)
	if err != nil {
		return nil, err
	}
	defer fresh.Remove()
	fmt.Fprintf(log, "  generating %d units, %d tasks, %d reports on %s …\n", superviseUnits, superviseTasks, superviseReports, engine)
	data, err := generateSupervision(ctx, fresh.DB)
	fresh.CloseDB()
	if err != nil {
		return nil, err
	}
	f.gen = data.took
	s, err := fresh.Start(bin)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	sup, err := s.Login("bench_sup", benchPassword)
	if err != nil {
		return nil, err
	}
	tokens := make([]string, len(data.liaisons))
	for i, l := range data.liaisons {
		if tokens[i], err = s.Login(l.user, benchPassword); err != nil {
			return nil, err
		}
	}

	get := func(path string) func() (*http.Request, error) {
		return func() (*http.Request, error) { return authed(s.URL+path, sup) }
	}
	// The scheduler runs every due job at start, the reminder pass over all
	// open tasks among them: wait for it (it also keeps the writer busy)
	// and take its own timing.
	fmt.Fprintf(log, "  waiting for the scheduler's reminder pass on %s …\n", engine)
	dsn := "file:" + filepath.Join(fresh.dataDir, db.FileName) + "?mode=ro&_pragma=busy_timeout(10000)"
	if engine == "PostgreSQL" {
		dsn = fresh.env[0][len("BIAOGAN_DATABASE_URL="):]
	}
	if took, result, err := waitJob(engine, dsn, "supervise.remind", 3*time.Minute); err != nil {
		f.remind = "not measured: " + err.Error()
	} else {
		f.remind = fmt.Sprintf("%s (the scheduler's first pass in the binary, planning and sending every reminder due; job_runs: %q)", ms(took), result)
	}

	// The battle map, if the build has it.
	st, first, err := status(s, "/api/v1/battlemap", sup)
	if err != nil {
		return nil, err
	}
	if st == http.StatusOK {
		fmt.Fprintf(log, "  battle map on %s (first answer %s) …\n", engine, ms(first))
		Load(4, 2*time.Second, get("/api/v1/battlemap"))
		l := Load(superviseClients, 10*time.Second, get("/api/v1/battlemap"))
		f.battleMap = &l
		if st, _, err := status(s, "/battlemap", sup); err == nil && st == http.StatusOK {
			Load(4, time.Second, get("/battlemap"))
			p := Load(superviseClients, 10*time.Second, get("/battlemap"))
			f.page = &p
		}
	} else {
		f.battleMapNote = fmt.Sprintf("`GET /api/v1/battlemap` answered %d in this build: measured `GET /api/v1/tasks?limit=50` instead", st)
		Load(4, 2*time.Second, get("/api/v1/tasks?limit=50"))
		f.tasks = Load(superviseClients, 10*time.Second, get("/api/v1/tasks?limit=50"))
	}

	// Filtered task lists, a different filter on each request.
	fmt.Fprintf(log, "  filtered task lists on %s …\n", engine)
	filters := []string{
		"/api/v1/tasks?area=emergency&light=red&limit=50",
		fmt.Sprintf("/api/v1/tasks?unit=%d&limit=50", data.units[5]),
		"/api/v1/tasks?source=project&overdue=true&limit=50",
		"/api/v1/tasks?light=yellow&limit=50&offset=100",
		"/api/v1/tasks?area=gov_info&source=plan&limit=50",
	}
	var n atomic.Int64
	filtered := func() (*http.Request, error) {
		return authed(s.URL+filters[int(n.Add(1))%len(filters)], sup)
	}
	Load(4, 2*time.Second, filtered)
	f.filtered = Load(superviseClients, 10*time.Second, filtered)

	// Progress reports from 20 liaisons at once, each for tasks of their
	// own unit.
	fmt.Fprintf(log, "  progress reports on %s …\n", engine)
	var seq atomic.Int64
	report := func(client int) (*http.Request, error) {
		l := data.liaisons[client%len(data.liaisons)]
		ts := data.tasksByUnit[l.unit]
		k := seq.Add(1)
		id := ts[int(k)%len(ts)]
		body, _ := json.Marshal(map[string]any{"percent": 10 + int(k%90), "text": "基准测试进展报送", "next_steps": "继续推进"})
		r, err := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/tasks/%d/reports", s.URL, id), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+tokens[client%len(tokens)])
		r.Header.Set("Content-Type", "application/json")
		return r, nil
	}
	f.reports = LoadEach(superviseClients, 10*time.Second, report, func(st int) bool { return st == http.StatusCreated })

	return f, nil
}

// waitJob waits until the scheduler in the running binary has run job
// once (it runs every due job at start) and returns what it recorded: the
// pass's own duration and result. dsn opens the same database read-only.
func waitJob(engine, dsn, name string, timeout time.Duration) (time.Duration, string, error) {
	driver := "sqlite"
	if engine == "PostgreSQL" {
		driver = "pgx"
	}
	d, err := sql.Open(driver, dsn)
	if err != nil {
		return 0, "", err
	}
	defer d.Close()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var msTook int64
		var result, lastErr string
		var ok sql.NullTime
		err := d.QueryRow(`SELECT last_duration_ms, last_result, last_error, last_ok_at FROM job_runs WHERE name = '`+name+`'`).Scan(&msTook, &result, &lastErr, &ok)
		switch {
		case err == nil && ok.Valid:
			return time.Duration(msTook) * time.Millisecond, result, nil
		case err == nil && lastErr != "":
			return 0, "", fmt.Errorf("%s failed: %s", name, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, "", fmt.Errorf("%s did not run within %s", name, timeout)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// superviseSection measures SQLite and, when pgURL is set, PostgreSQL, and
// writes the section of BENCHMARKS.md.
func superviseSection(bin, pgURL string, log io.Writer) (string, error) {
	fmt.Fprintln(log, "supervision (issue 3) …")
	figs, err := perEngine("supervision", bin, pgURL, log, measureSupervision)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("## Supervision (issue 3)\n\n")
	fmt.Fprintf(&b, "Generated with bulk SQL into a fresh database before the binary starts: %d units with 2 people each, a supervisor and %d liaisons, "+
		"%d open tasks (assigned, accepted or in progress; 7 areas; due dates from 20 days ago to 200 days ahead, lights as the deadline engine gives them today), "+
		"one milestone and two events each, and %d progress reports. %d concurrent clients, 10 s per figure after a warm-up.\n\n",
		superviseUnits, superviseLiaisons, superviseTasks, superviseReports, superviseClients)
	mdHeader(&b, line([]string{"figure"}, cells(figs, func(f *superviseFigures) string { return f.engine }), "goal")...)
	row := func(name, goal string, cell func(*superviseFigures) string) {
		mdRow(&b, line([]string{name}, cells(figs, cell), goal)...)
	}
	row("generating the data (bulk SQL)", "", func(f *superviseFigures) string { return fmt.Sprintf("%.1f s", f.gen.Seconds()) })
	row("battle map JSON, `GET /api/v1/battlemap`", "p99 ≤ 50 ms on SQLite", func(f *superviseFigures) string {
		if f.battleMap == nil {
			return "— (" + f.battleMapNote + "; list: " + lat(f.tasks) + ")"
		}
		return lat(*f.battleMap)
	})
	row("battle map page, `GET /battlemap`", "", func(f *superviseFigures) string {
		if f.page == nil {
			return "— (no page in this build)"
		}
		return lat(*f.page)
	})
	row("filtered task list, `GET /api/v1/tasks?…` (5 filters in turn: area+light, unit, source+overdue, light+offset, area+source)", "", func(f *superviseFigures) string { return lat(f.filtered) })
	row(fmt.Sprintf("progress report, `POST /api/v1/tasks/{id}/reports`, %d liaisons each on their unit's tasks", superviseLiaisons), "", func(f *superviseFigures) string {
		return fmt.Sprintf("**%.0f req/s**, p50 %s, p99 %s (%d errors)", f.reports.RPS, ms(f.reports.P50), ms(f.reports.P99), f.reports.Errors)
	})
	row(fmt.Sprintf("reminder pass over %d open tasks", superviseTasks), "< 2 s", func(f *superviseFigures) string { return f.remind })
	if pgURL == "" {
		b.WriteString(noPostgres)
	}
	b.WriteString("\n")
	return b.String(), nil
}
