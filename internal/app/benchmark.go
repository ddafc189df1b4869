package app

import (
	"context"
	"fmt"
	"time"

	"github.com/biaogan/biaogan/internal/benchmark"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/jobs"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
)

// JobBenchmarkRefresh computes metric-sourced indicators and fixes the
// values of periods that closed.
const JobBenchmarkRefresh = "benchmark.refresh"

// benchmarkTasks creates a target's path steps as battle-map tasks inside
// the target's transaction: benchmark declares the interface, supervise
// provides it.
type benchmarkTasks struct{ t *supervise.Service }

func (x benchmarkTasks) CreateTask(ctx context.Context, tx *db.Tx, by benchmark.Actor, t benchmark.NewTask) (int64, error) {
	// The analyst acts with the product's authority here: setting a target
	// is what assigns its path (supervise's own routes still need
	// tasks.write for anything else).
	a := supervise.Actor{UserID: by.UserID, Username: by.Username, IP: by.IP, System: true}
	return x.t.CreateTx(ctx, tx, a, supervise.NewTask{Title: t.Title, Description: t.Description, Acceptance: t.Acceptance,
		Area: "benchmark", Source: supervise.SourceBenchmark, LeadUnitID: t.LeadUnitID, OwnerID: t.OwnerID, Start: t.Start, Due: t.Due,
		Priority: supervise.PriorityImportant, Assign: true})
}

// benchmarkNotify delivers stage changes through the inbox.
type benchmarkNotify struct{ n *notify.Service }

func (x benchmarkNotify) Notify(ctx context.Context, tx *db.Tx, ns ...benchmark.Notice) error {
	msgs := make([]notify.Message, len(ns))
	for i, n := range ns {
		msgs[i] = notify.Message{To: n.To, Kind: "benchmark_stage", Link: n.Link, Subject: n.Subject,
			Title: notify.Text{ZH: n.Title.ZH, EN: n.Title.EN}, Body: notify.Text{ZH: n.Body.ZH, EN: n.Body.EN}, Channels: []notify.Channel{}}
	}
	return x.n.Send(ctx, tx, msgs...)
}

// wireBenchmark wires 对标 (issue 4).
func (a *App) wireBenchmark(ws *web.Server) error {
	b := benchmark.New(a.DB, a.Audit, a.Now)
	b.Metrics = a.Metrics
	b.Tasks = benchmarkTasks{a.Tasks}
	b.Notifier = benchmarkNotify{a.Notify}
	if err := b.Register(ws); err != nil {
		return fmt.Errorf("app: benchmark: %w", err)
	}
	if err := a.Metrics.Register(b.MetricList()...); err != nil {
		return fmt.Errorf("app: benchmark metrics: %w", err)
	}
	a.Jobs.Register(JobBenchmarkRefresh, JobInterval, func(ctx context.Context, tx *db.Tx) error {
		n, err := b.RefreshPass(ctx, tx)
		jobs.SetResult(ctx, "%d values", n)
		return err
	})
	a.Benchmark = b
	a.demoHooks = append(a.demoHooks, func(ctx context.Context, now time.Time) error {
		return benchmark.LoadDemo(ctx, b, now)
	})
	return nil
}
