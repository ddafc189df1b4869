package app

import (
	"context"
	"fmt"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/jobs"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
)

// JobInterval is how often the scheduled passes run. Each pass reads only
// the items whose planned day has come, so running often is cheap.
const JobInterval = 10 * time.Minute

// Names of the scheduled jobs (job_runs.name).
const (
	JobRemind   = "supervise.remind"   // reminders 3 and 1 working days before, on the day, every N overdue
	JobEscalate = "supervise.escalate" // supervision notices blue → yellow → red
	JobLookBack = "supervise.lookback" // look-backs falling due, to their reviewers
)

// notifyAdapter delivers supervise's notices through notify: supervise
// declares the interface, app wires the provider.
type notifyAdapter struct{ n *notify.Service }

func (x notifyAdapter) Notify(ctx context.Context, tx *db.Tx, ns ...supervise.Notice) error {
	msgs := make([]notify.Message, len(ns))
	for i, n := range ns {
		msgs[i] = notify.Message{To: n.To, Kind: n.Kind, Level: notify.Level(n.Level), Link: n.Link, Subject: n.Subject,
			Title: notify.Text{ZH: n.Title.ZH, EN: n.Title.EN}, Body: notify.Text{ZH: n.Body.ZH, EN: n.Body.EN}}
	}
	return x.n.Send(ctx, tx, msgs...)
}

// pass adapts a supervise pass to a job, recording how many it sent.
func pass(f func(context.Context, *db.Tx) (int, error)) jobs.Func {
	return func(ctx context.Context, tx *db.Tx) error {
		n, err := f(ctx, tx)
		jobs.SetResult(ctx, "%d sent", n)
		return err
	}
}

// wireJobs creates the inbox and the scheduler, gives supervise its
// notifier, registers the inbox and reminder routes and the passes.
func (a *App) wireJobs(ws *web.Server) error {
	a.Notify = notify.New(a.DB, a.Now)
	if err := a.Notify.Register(ws); err != nil {
		return fmt.Errorf("app: notify: %w", err)
	}
	a.Tasks.Notifier = notifyAdapter{a.Notify}
	if err := a.Tasks.RegisterReminders(ws); err != nil {
		return fmt.Errorf("app: supervise reminders: %w", err)
	}
	a.Jobs = jobs.New(a.DB, a.Log, a.Now)
	a.Jobs.Register(JobRemind, JobInterval, pass(a.Tasks.RemindPass))
	a.Jobs.Register(JobEscalate, JobInterval, pass(a.Tasks.EscalatePass))
	a.Jobs.Register(JobLookBack, JobInterval, pass(a.Tasks.LookBackPass))
	return nil
}

// runJobs runs the scheduler until ctx ends (Housekeeping starts it).
func (a *App) runJobs(ctx context.Context) {
	if a.Jobs == nil {
		return
	}
	if err := a.Jobs.Run(ctx); err != nil && ctx.Err() == nil {
		a.Log.Error("scheduler stopped", "err", err)
	}
}
