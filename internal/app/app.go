// Package app wires configuration, database, platform and features into one
// HTTP handler plus background housekeeping.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/biaogan/biaogan/internal/admin"
	"github.com/biaogan/biaogan/internal/appeal/open311"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/benchmark"
	"github.com/biaogan/biaogan/internal/config"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/demo"
	"github.com/biaogan/biaogan/internal/jobs"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/org"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// Version is set at build time (-ldflags "-X …/app.Version=…").
var Version = "dev"

// App is a wired instance.
type App struct {
	Cfg   *config.Config
	DB    *db.DB
	Audit *audit.Log
	Auth  *auth.Service
	Web   *web.Server
	Org   *org.Service
	Tasks *supervise.Service
	Cal   *workday.Calendar
	Log   *slog.Logger
	Now   func() time.Time

	// Metrics is the one metric registry (DESIGN.md §2).
	Metrics *metric.Registry

	// Notify is the inbox and outbox; Jobs the scheduler (jobs.go).
	Notify *notify.Service
	Jobs   *jobs.Scheduler

	// Benchmark is 对标 (benchmark.go); assess reads its OwnerStages.
	Benchmark *benchmark.Service

	// Open311Backend is the appeal feature's work orders as the Open311
	// API sees them (set by wireAppeal, used by wireOpen311).
	Open311Backend open311.Backend

	// demoHooks add each feature's demo data after the office and the
	// campaign are loaded (LoadDemoIfEmpty), in wiring order.
	demoHooks []func(ctx context.Context, now time.Time) error
}

// LoadDemoIfEmpty loads the demo office, the campaign and every feature's
// demo data into an empty database; it reports whether it did.
func (a *App) LoadDemoIfEmpty(ctx context.Context) (bool, error) {
	loaded, err := demo.LoadIfEmpty(ctx, a.Org, a.Auth, a.Tasks, a.Now())
	if err != nil || !loaded {
		return loaded, err
	}
	for _, h := range a.demoHooks {
		if err := h(ctx, a.Now()); err != nil {
			return true, err
		}
	}
	return true, nil
}

// Options let tests replace the clock and the security settings.
type Options struct {
	Now  func() time.Time
	Auth *auth.Settings
}

// Open opens and migrates the database.
func Open(ctx context.Context, cfg *config.Config) (*db.DB, error) {
	d, err := db.Open(ctx, cfg.DataDir, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// New wires everything on an open, migrated database.
func New(cfg *config.Config, d *db.DB, log *slog.Logger, opt Options) (*App, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	al := audit.New(d)
	al.Now = now
	settings := cfg.AuthSettings()
	if opt.Auth != nil {
		settings = *opt.Auth
	}
	as := auth.NewService(d, al, settings, now)
	ws := web.NewServer(web.Config{BaseURL: cfg.BaseURL, DefaultLang: cfg.Lang, Location: cfg.Location, Secure: cfg.Secure(), Version: Version}, as, log)
	ws.Ready = d.Ping
	if err := ws.OpenAPI.AddFragment(web.BaseOpenAPI, "openapi.json"); err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, DB: d, Audit: al, Auth: as, Web: ws, Log: log, Now: now}

	a.Org = org.New(d, al, now)
	if err := a.Org.Register(ws); err != nil {
		return nil, fmt.Errorf("app: org: %w", err)
	}
	ws.UnitName = a.Org.UnitName

	a.Cal = workday.New()
	a.Tasks = supervise.New(d, al, a.Cal, now)
	if err := a.Tasks.Register(ws); err != nil {
		return nil, fmt.Errorf("app: supervise: %w", err)
	}
	if err := a.Tasks.RegisterSheets(ws); err != nil {
		return nil, fmt.Errorf("app: supervise sheets: %w", err)
	}
	a.Metrics = metric.New(d, now)
	if err := a.Metrics.Register(a.Tasks.Metrics()...); err != nil {
		return nil, fmt.Errorf("app: metrics: %w", err)
	}
	if err := a.Metrics.RegisterAPI(ws); err != nil {
		return nil, fmt.Errorf("app: metrics: %w", err)
	}
	a.Tasks.SetFilesDir(filepath.Join(cfg.DataDir, "files"))
	if err := a.Tasks.RegisterPages(ws); err != nil {
		return nil, fmt.Errorf("app: supervise pages: %w", err)
	}

	if err := a.Tasks.RegisterWorkdayPages(ws); err != nil {
		return nil, fmt.Errorf("app: supervise pages: %w", err)
	}

	if err := a.wireJobs(ws); err != nil {
		return nil, err
	}

	adm := admin.New(as, al, admin.Options{SystemInfo: a.systemInfo})
	if err := adm.Register(ws); err != nil {
		return nil, fmt.Errorf("app: admin: %w", err)
	}

	// From 1 December, warn the admins when next year's holidays are missing.
	ws.AddBanner(func(ctx context.Context, p *auth.Principal, lang string) string {
		if !p.Can(auth.PermSystemConfig) && !p.Can("workday.admin") {
			return ""
		}
		year, missing := a.Cal.MissingNextYear(workday.FromTime(now(), cfg.Location))
		if !missing {
			return ""
		}
		return ws.Messages.T(lang, "workday.missing_next_year", year, year)
	})
	ws.Messages.Add(map[string]string{"workday.missing_next_year": "尚无 %d 年的法定节假日与调休数据：工作日暂按周一至周五计算。请在国务院办公厅发布 %d 年放假安排后，通过 PUT /api/v1/workdays/years/{year} 录入。"},
		map[string]string{"workday.missing_next_year": "No public-holiday data for %d yet: working days fall back to Monday–Friday. Enter the State Council's %d holiday schedule (PUT /api/v1/workdays/years/{year}) once it is published."})

	// The features of issues 4–6. Order matters for the demo hooks: the
	// year-end evaluation reads benchmark stages and appeal metrics.
	if err := a.wireBenchmark(ws); err != nil {
		return nil, err
	}
	if err := a.wireAppeal(ws); err != nil {
		return nil, err
	}
	if err := a.wireOpen311(ws); err != nil {
		return nil, err
	}
	if err := a.wireAssess(ws); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) systemInfo(ctx context.Context) []admin.KV {
	v, _ := a.DB.Version(ctx)
	kv := []admin.KV{
		{Key: "version", Value: Version},
		{Key: "database", Value: a.DB.Dialect.String()},
		{Key: "schema", Value: fmt.Sprint(v)},
		{Key: "time zone", Value: a.Cfg.Location.String()},
	}
	if a.DB.Dialect == db.SQLite {
		kv = append(kv, admin.KV{Key: "data", Value: a.DB.Path})
	}
	return kv
}

// Handler is the HTTP handler.
func (a *App) Handler() http.Handler { return a.Web.Handler() }

// Housekeeping runs the scheduler (jobs.go) and removes expired sessions
// until ctx ends.
func (a *App) Housekeeping(ctx context.Context) {
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		a.runJobs(ctx)
	}()
	defer func() { <-stopped }()
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := a.Auth.Cleanup(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("housekeeping", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EnsureAdmin creates the first system admin from the environment, or
// returns a one-time set-up link when no account exists.
func (a *App) EnsureAdmin(ctx context.Context) (setupURL string, err error) {
	n, err := a.Auth.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if a.Cfg.AdminUser != "" {
		_, err := a.Auth.CreateUser(ctx, audit.Entry{Actor: "system"}, auth.NewUser{Username: a.Cfg.AdminUser, Password: a.Cfg.AdminPassword,
			DisplayName: "系统管理员", Roles: []auth.Role{auth.RoleSysAdmin}})
		if err != nil {
			return "", fmt.Errorf("app: create first admin from BIAOGAN_ADMIN_USER: %w", err)
		}
		return "", nil
	}
	secret, _, err := a.Auth.CreateSetupToken(ctx)
	if err != nil {
		return "", err
	}
	base := a.Cfg.BaseURL
	if base == "" {
		base = "http://" + a.Cfg.Addr
	}
	return base + "/setup?token=" + secret, nil
}
