package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/demo"
	"github.com/biaogan/biaogan/internal/org"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

// TestDemoCampaign loads the whole demo, campaign included, and checks the
// battle map it makes: about 120 campaign tasks over the seven areas, about
// 40 instructions, 213 key projects with investment, six months of reports
// and a mix of every light.
func TestDemoCampaign(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	now := time.Date(2026, 11, 25, 7, 30, 0, 0, time.UTC) // 15:30 in Beijing
	al := audit.New(d)
	s := auth.DefaultSettings()
	s.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	as := auth.NewService(d, al, s, nil)
	o := org.New(d, al, time.Now)
	tasks := supervise.New(d, al, workday.New(), func() time.Time { return now })
	start := time.Now()
	loaded, err := demo.LoadIfEmpty(ctx, o, as, tasks, now)
	if err != nil || !loaded {
		t.Fatalf("load: %v %v", loaded, err)
	}
	t.Logf("demo with campaign loaded in %s", time.Since(start).Round(time.Millisecond))

	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := d.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	plan := count(`SELECT COUNT(*) FROM tasks WHERE source = 'plan'`)
	if plan < 110 || plan > 130 {
		t.Errorf("%d campaign tasks, want about 120", plan)
	}
	for _, area := range []string{"four_plus_two", "big_section", "unified_finance", "informatization", "gov_info", "party_building", "emergency"} {
		if n := count(`SELECT COUNT(*) FROM tasks WHERE source = 'plan' AND area = ?`, area); n < 12 {
			t.Errorf("area %s has %d campaign tasks", area, n)
		}
	}
	if n := count(`SELECT COUNT(*) FROM instructions`); n < 35 || n > 45 {
		t.Errorf("%d instructions, want about 40", n)
	}
	if n := count(`SELECT COUNT(DISTINCT leader) FROM instructions`); n != 3 {
		t.Errorf("%d leaders", n)
	}
	if n := count(`SELECT COUNT(*) FROM tasks WHERE source = 'project' AND planned_investment > 0 AND location <> '' AND stage <> ''`); n != demo.ProjectCount {
		t.Errorf("%d key projects with investment, stage and location, want %d", n, demo.ProjectCount)
	}
	if n := count(`SELECT COUNT(DISTINCT lead_unit_id) FROM tasks WHERE source = 'project'`); n != 7 {
		t.Errorf("projects in %d districts", n)
	}
	if n := count(`SELECT COUNT(*) FROM task_reports WHERE completed_investment IS NOT NULL`); n < demo.ProjectCount*3 {
		t.Errorf("%d investment reports", n)
	}
	today := workday.FromTime(now, tasks.Loc)
	sixMonths := today.AddDays(-190).String()
	if first := count(`SELECT COUNT(*) FROM task_reports WHERE reported_on < ?`, today.AddDays(-150).String()); first == 0 {
		t.Error("no reports from five or six months ago")
	}
	if n := count(`SELECT COUNT(*) FROM task_reports WHERE reported_on < ? OR reported_on >= ?`, sixMonths, today.String()); n != 0 {
		t.Errorf("%d reports outside the six months before today", n)
	}
	if n := count(`SELECT COUNT(*) FROM task_events WHERE at > ?`, now); n != 0 {
		t.Errorf("%d events in the future", n)
	}
	for _, kind := range []string{"create", "assign", "accept", "report", "milestone_done", "submit", "sign_off", "return", "extension_approve",
		"extension_refuse", "cancel", "reopen", supervise.EventLookBackPass, supervise.EventLookBackFail} {
		if n := count(`SELECT COUNT(*) FROM task_events WHERE kind = ?`, kind); n == 0 {
			t.Errorf("no %s events", kind)
		}
	}

	// Look-backs: decided once their day came, a few failed; the rest wait.
	if n := count(`SELECT COUNT(*) FROM task_lookbacks WHERE state = 'passed'`); n < 30 {
		t.Errorf("%d look-backs passed", n)
	}
	if n := count(`SELECT COUNT(*) FROM task_lookbacks WHERE state = 'pending' AND due_on < ?`, today.AddDays(-7).String()); n != 0 {
		t.Errorf("%d look-backs left undecided more than a week after their day", n)
	}

	// The battle map: every light, in proportions an office would recognise.
	lights := map[string]int{}
	total := 0
	rows, err := d.QueryContext(ctx, `SELECT light, COUNT(*) FROM tasks WHERE state NOT IN ('draft','cancelled') GROUP BY light`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var l string
		var n int
		rows.Scan(&l, &n)
		lights[l] = n
		total += n
	}
	rows.Close()
	t.Logf("lights: %v of %d", lights, total)
	share := func(l string) float64 { return float64(lights[l]) / float64(total) }
	if share("green") < 0.25 || share("yellow") < 0.08 || share("red") < 0.05 || share("done") < 0.15 || share("red") > 0.25 {
		t.Errorf("lights %v of %d: not a realistic mix", lights, total)
	}
	if n := count(`SELECT COUNT(*) FROM tasks WHERE state NOT IN ('signed_off','cancelled') AND light_on <> ?`, today.String()); n != 0 {
		t.Errorf("%d open tasks with stale lights", n)
	}
	if d.Dialect == db.SQLite {
		var sync int
		if err := d.W.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
			t.Errorf("synchronous = %d after the load (%v), want 2 (FULL)", sync, err)
		}
	}
	// The records are real: the audit chain holds.
	if v, err := al.Verify(ctx); err != nil || v.BadID != 0 || v.Checked < 3000 {
		t.Errorf("audit chain: %+v %v", v, err)
	}
}
