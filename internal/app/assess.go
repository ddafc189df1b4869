package app

import (
	"context"
	"fmt"
	"time"

	"github.com/biaogan/biaogan/internal/assess"
	"github.com/biaogan/biaogan/internal/benchmark"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// JobAssessRemind reminds units that have not filed the day's report by
// the due time.
const JobAssessRemind = "assess.daily_remind"

// JobAssessDigest sends each unit its weekly and monthly daily-report
// digest.
const JobAssessDigest = "assess.daily_digest"

// assessReports gives assess a unit's task progress reports of a day.
type assessReports struct{ t *supervise.Service }

func (x assessReports) UnitReports(ctx context.Context, unitID int64, day workday.Date) ([]assess.ReportLine, error) {
	rs, err := x.t.UnitReportsOn(ctx, unitID, day)
	if err != nil {
		return nil, err
	}
	out := make([]assess.ReportLine, len(rs))
	for i, r := range rs {
		out[i] = assess.ReportLine{TaskID: r.TaskID, Title: r.Title, Percent: r.Percent, Text: r.Text}
	}
	return out, nil
}

// assessStages gives assess the units' indicator stages from benchmarking.
type assessStages struct{ b *benchmark.Service }

func (x assessStages) UnitStages(ctx context.Context) (map[int64][]assess.IndicatorStage, error) {
	os, err := x.b.OwnerStages(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64][]assess.IndicatorStage{}
	for _, o := range os {
		out[o.UnitID] = append(out[o.UnitID], assess.IndicatorStage{IndicatorID: o.IndicatorID, Code: o.Code, Name: o.Name, Category: o.Category, Stage: o.Stage, Since: o.Since})
	}
	return out, nil
}

// assessNotify delivers assess's reminders through the inbox.
type assessNotify struct{ n *notify.Service }

func (x assessNotify) Notify(ctx context.Context, tx *db.Tx, ns ...assess.Notice) error {
	msgs := make([]notify.Message, len(ns))
	for i, n := range ns {
		msgs[i] = notify.Message{To: n.To, Kind: n.Kind, Level: notify.LevelBlue, Link: n.Link, Subject: "assess:daily",
			Title: notify.Text{ZH: n.Title[0], EN: n.Title[1]}, Body: notify.Text{ZH: n.Body[0], EN: n.Body[1]}}
	}
	return x.n.Send(ctx, tx, msgs...)
}

// wireAssess wires 考评 (issue 5).
func (a *App) wireAssess(ws *web.Server) error {
	s := assess.New(a.DB, a.Audit, a.Cal, a.Metrics, a.Now)
	s.Reports = assessReports{a.Tasks}
	s.Notifier = assessNotify{a.Notify}
	if a.Benchmark != nil {
		s.Stages = assessStages{a.Benchmark}
	}
	if err := s.Register(ws); err != nil {
		return fmt.Errorf("app: assess: %w", err)
	}
	if err := a.Metrics.Register(s.RegisteredMetrics()...); err != nil {
		return fmt.Errorf("app: assess metrics: %w", err)
	}
	a.Jobs.Register(JobAssessRemind, JobInterval, pass(s.RemindPass))
	a.Jobs.Register(JobAssessDigest, JobInterval, pass(s.DigestPass))
	a.demoHooks = append(a.demoHooks, func(ctx context.Context, now time.Time) error {
		return s.LoadDemo(ctx, now)
	})
	return nil
}
