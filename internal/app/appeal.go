package app

import (
	"context"
	"fmt"
	"os"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// wireAppeal wires 12345 诉求 (issue 6): the work orders, their pages and
// API, metrics, reminders, the demo, and the Open311 backend.
func (a *App) wireAppeal(ws *web.Server) error {
	key := appeal.DevKey()
	if v := os.Getenv("BIAOGAN_PII_KEY"); v != "" {
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
	return nil
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
