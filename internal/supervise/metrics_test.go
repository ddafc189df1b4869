package supervise_test

import (
	"math"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

// TestMetrics builds a month of work with a fixed clock and checks every
// figure for both units (on SQLite and, with BIAOGAN_TEST_DATABASE_URL, on
// PostgreSQL).
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	reg := metric.New(e.d, e.clock.Now)
	if err := reg.Register(e.svc.Metrics()...); err != nil {
		t.Fatal(err)
	}
	if len(reg.List()) != 8 {
		t.Fatalf("%d metrics registered", len(reg.List()))
	}
	sup := e.supervisor()
	mk := func(title string, unit, owner int64, due string, cadence deadline.Cadence) *supervise.Task {
		in := supervise.NewTask{Title: title, Area: "emergency", Source: supervise.SourcePlan, LeadUnitID: unit, OwnerID: owner,
			Start: workday.MustParseDate("2026-03-02"), Due: workday.MustParseDate(due), Cadence: cadence, Assign: true}
		task := e.create(in)
		e.transition(e.actorFor(task), task.ID, supervise.ActionAccept, "")
		return task
	}
	finish := func(task *supervise.Task, on string) {
		e.clock.SetDate(on)
		e.report(task, 100)
		e.transition(e.actorFor(task), task.ID, supervise.ActionSubmit, "")
		e.transition(sup, task.ID, supervise.ActionSignOff, "")
	}

	e.clock.SetDate("2026-03-02") // a Monday
	t1 := mk("按期办结", e.unitA, e.ownerA, "2026-03-13", deadline.CadenceWeekly)
	t2 := mk("逾期办结", e.unitA, e.ownerA, "2026-03-13", "")
	t3 := mk("逾期未办结", e.unitA, e.ownerA, "2026-03-20", deadline.CadenceWeekly)
	t4 := mk("获批延期", e.unitB, e.ownerB, "2026-03-16", "")
	t5 := mk("撤销", e.unitB, e.ownerB, "2026-03-31", "")
	draft := e.newTask("草稿")
	draft.Due = workday.MustParseDate("2026-03-20")
	e.create(draft)

	e.clock.SetDate("2026-03-05")
	e.report(t1, 50)
	e.report(t3, 30)
	e.clock.SetDate("2026-03-10")
	ext, err := e.svc.RequestExtension(e.ctx, e.liaison(e.unitB), t4.ID, supervise.NewExtension{Reason: "等待审批", NewDue: workday.MustParseDate("2026-04-10")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DecideExtension(e.ctx, sup, ext.ID, supervise.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	e.transition(sup, t5.ID, supervise.ActionCancel, "不再需要")
	finish(t1, "2026-03-12")
	finish(t2, "2026-03-18") // 3 working days late: 16, 17, 18 March
	e.clock.SetDate("2026-03-25")

	march, _ := metric.ParsePeriod("2026-03")
	a, b := e.unitA, e.unitB
	want := map[string]metric.Values{
		supervise.MetricTasksDue:   {a: 3},               // t1, t2, t3; t4 moved to April, t5 cancelled, the draft never assigned
		supervise.MetricCompleted:  {a: 2},               // t1, t2
		supervise.MetricOnTimeRate: {a: 100.0 / 3, b: 0}, // t1 of t1–t3; t4 missed its original date
		// t2 signed off late, t3 still open; b's only task now falls due in April.
		supervise.MetricOverdueCount:    {a: 2},
		supervise.MetricOverdueWorkdays: {a: 3 + 3}, // t2: 16–18 March; t3: 23–25 March
		// t1: one weekly period (2–9 March), reported; t3: three (2–9,
		// 10–16, 17–23 March), one reported.
		supervise.MetricReportPunctuality: {a: 50},
		supervise.MetricLookBackPassRate:  {},
		supervise.MetricExtensionRate:     {a: 0, b: 100},
	}
	all, err := reg.ComputeAll(e.ctx, march)
	if err != nil {
		t.Fatal(err)
	}
	for code, w := range want {
		if !sameValues(all[code], w) {
			t.Errorf("%s in March = %v, want %v", code, all[code], w)
		}
	}
	april, _ := metric.ParsePeriod("2026-04")
	if v, err := reg.Compute(e.ctx, supervise.MetricTasksDue, april); err != nil || !sameValues(v, metric.Values{b: 1}) {
		t.Errorf("tasks due in April = %v (%v)", v, err)
	}
	// Seen on 16 March, only t1's and t2's due dates are behind: t2 was
	// signed off late, t1 on time.
	early := march
	early.Today = workday.MustParseDate("2026-03-16")
	if v, err := reg.Compute(e.ctx, supervise.MetricOverdueCount, early); err != nil || !sameValues(v, metric.Values{a: 1}) {
		t.Errorf("overdue as of 16 March = %v (%v)", v, err)
	}
	// The first half of 2026 holds everything March does.
	h1, _ := metric.ParsePeriod("2026-H1")
	if v, err := reg.Compute(e.ctx, supervise.MetricCompleted, h1); err != nil || !sameValues(v, metric.Values{a: 2}) {
		t.Errorf("completed in H1 = %v (%v)", v, err)
	}
	// A month without work has no figures at all.
	feb, _ := metric.ParsePeriod("2026-02")
	all, err = reg.ComputeAll(e.ctx, feb)
	if err != nil {
		t.Fatal(err)
	}
	for code, v := range all {
		if len(v) != 0 {
			t.Errorf("%s in February = %v", code, v)
		}
	}
	_ = t3
}

// TestMetricLookBackPassRate checks the look-back figure: decided
// look-backs planned in the period, superseded ones left out.
func TestMetricLookBackPassRate(t *testing.T) {
	e := newEnv(t)
	task := e.inProgress(e.newTask("回头看"))
	now := time.Now().UTC()
	err := e.d.InTx(e.ctx, func(tx *db.Tx) error {
		for _, l := range []struct{ state, due string }{{"passed", "2026-03-05"}, {"failed", "2026-03-06"}, {"passed", "2026-03-09"}, {"superseded", "2026-03-09"}, {"passed", "2026-04-01"}} {
			if _, err := tx.ExecContext(e.ctx, `INSERT INTO task_lookbacks (task_id, signed_off_on, workdays, due_on, state, created_at) VALUES (?, ?, 20, ?, ?, ?)`,
				task.ID, "2026-02-01", l.due, l.state, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := metric.New(e.d, e.clock.Now)
	if err := reg.Register(e.svc.Metrics()...); err != nil {
		t.Fatal(err)
	}
	march, _ := metric.ParsePeriod("2026-03")
	v, err := reg.Compute(e.ctx, supervise.MetricLookBackPassRate, march)
	if err != nil || !sameValues(v, metric.Values{e.unitA: 200.0 / 3}) {
		t.Fatalf("look-back pass rate = %v (%v)", v, err)
	}
}

func sameValues(got, want metric.Values) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || math.Abs(g-w) > 1e-9 {
			return false
		}
	}
	return true
}
