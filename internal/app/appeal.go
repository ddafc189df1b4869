package app

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// wireAppeal wires 12345 诉求 (issue 6): the work orders, their pages and
// API, metrics, reminders, the demo, and the Open311 backend.
func (a *App) wireAppeal(ws *web.Server) error {
	key := appeal.DevKey()
	if v := a.Cfg.PIIKey; v != "" {
		k, err := appeal.ParseKey(v)
		if err != nil {
			return fmt.Errorf("app: %w", err)
		}
		key = k
	} else {
		a.Log.Warn("BIAOGAN_PII_KEY is not set: citizens' personal data is encrypted with the built-in development key; set 32 hex digits in production")
	}
	pii, err := appeal.NewPII(key)
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	svc := appeal.New(a.DB, a.Audit, a.Cal, pii, a.Now)
	svc.Log = a.Log
	svc.Tasks = appealTasks{a}
	ctx := context.Background()
	if err := svc.Register(ctx, ws); err != nil {
		return fmt.Errorf("app: appeal: %w", err)
	}
	a.Open311Backend = appeal.Open311{S: svc}
	if err := a.Metrics.Register(svc.Metrics()...); err != nil {
		return fmt.Errorf("app: appeal metrics: %w", err)
	}
	svc.Notes = appealNotes{a}
	a.Jobs.Register(JobAppealRemind, JobInterval, pass(svc.RemindPass))
	a.demoHooks = append(a.demoHooks, func(ctx context.Context, now time.Time) error {
		return loadAppealDemo(ctx, a, svc, now)
	})
	return nil
}

// JobAppealRemind sends the deadline reminders of open 12345 orders.
const JobAppealRemind = "appeal.remind"

// DemoAppeals is how many appeals the demo generates: BIAOGAN_DEMO_APPEALS,
// default 200000 (2000 inside tests).
func DemoAppeals() int {
	if v := os.Getenv("BIAOGAN_DEMO_APPEALS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
	}
	if testing.Testing() {
		return 2000
	}
	return 200000
}

func loadAppealDemo(ctx context.Context, a *App, svc *appeal.Service, now time.Time) error {
	unit := func(code string) int64 {
		u, err := a.Org.UnitByCode(ctx, code)
		if err != nil {
			return 0
		}
		return u.ID
	}
	if err := appeal.SeedRules(ctx, svc, unit); err != nil {
		return fmt.Errorf("app: appeal demo rules: %w", err)
	}
	n := DemoAppeals()
	if n == 0 {
		return nil
	}
	start := time.Now()
	cfg := appeal.GenConfig{N: n, Days: 730, End: workday.FromTime(now, a.Cfg.Location), Seed: 2026, Unit: unit}
	// All of it before the server starts, so the demo is the same on every
	// run: the showcases the assess demo publishes read these orders.
	if _, err := svc.Generate(ctx, cfg); err != nil {
		return fmt.Errorf("app: appeal demo: %w", err)
	}
	a.Log.Info("demo appeals loaded", "appeals", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// appealNotes sends appeal reminders to the people of a unit who handle
// appeals (liaisons and unit heads) through notify.
type appealNotes struct{ a *App }

func (x appealNotes) NotifyUnit(ctx context.Context, tx *db.Tx, unitID int64, kind, link, subject, titleZH, titleEN, bodyZH, bodyEN string) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE u.unit_id = ? AND NOT u.disabled AND r.role IN ('liaison','unit_head') ORDER BY u.id`, unitID)
	if err != nil {
		return fmt.Errorf("app: appeal recipients: %w", err)
	}
	var to []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		to = append(to, id)
	}
	rows.Close()
	if len(to) == 0 {
		return nil
	}
	return x.a.Notify.Send(ctx, tx, notify.Message{To: to, Kind: kind, Level: notify.LevelNone, Link: link, Subject: subject,
		Title: notify.Text{ZH: titleZH, EN: titleEN}, Body: notify.Text{ZH: bodyZH, EN: bodyEN}})
}

// appealTasks escalates orders to a supervision task through supervise.
type appealTasks struct{ a *App }

func (x appealTasks) CreateAppealTask(ctx context.Context, actor audit.Entry, t appeal.EscalatedTask) (int64, error) {
	var owner int64
	if err := x.a.DB.QueryRowContext(ctx, `SELECT id FROM people WHERE unit_id = ? AND active ORDER BY id LIMIT 1`, t.UnitID).Scan(&owner); err != nil {
		return 0, fmt.Errorf("app: appeal escalation: unit %d has no person to own the task: %w", t.UnitID, err)
	}
	// The area: "appeal" when the office keeps one, else the first active.
	var area string
	if err := x.a.DB.QueryRowContext(ctx, `SELECT code FROM task_areas WHERE active ORDER BY CASE WHEN code = 'appeal' THEN 0 ELSE 1 END, sort_order LIMIT 1`).Scan(&area); err != nil {
		return 0, fmt.Errorf("app: appeal escalation: no task area: %w", err)
	}
	sa := supervise.Actor{UserID: actor.ActorID, Username: actor.Actor, IP: actor.IP, Supervisor: true}
	task, err := x.a.Tasks.Create(ctx, sa, supervise.NewTask{Title: t.Title, Area: area, Source: supervise.Source("appeal"), Description: t.Description,
		LeadUnitID: t.UnitID, OwnerID: owner, Start: workday.FromTime(x.a.Now(), x.a.Cfg.Location), DueWorkdays: t.DueWorkdays, Assign: true})
	if err != nil {
		return 0, err
	}
	return task.ID, nil
}
