package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/app"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/config"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func newAppAt(t *testing.T, now func() time.Time) *app.App {
	t.Helper()
	cfg := &config.Config{TZ: "Asia/Shanghai", Lang: "zh-CN", LogLevel: "info", PasswordPolicy: "level3", PasswordMaxAgeDays: -1, LoginPerMinute: 20, DataDir: t.TempDir()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, dbtest.Open(t), slog.New(slog.DiscardHandler), app.Options{Auth: cheap(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestHousekeepingRunsTheScheduler(t *testing.T) {
	a := newApp(t)
	// Supervision's passes come first; features wired later add theirs.
	if got := a.Jobs.Names(); !strings.HasPrefix(strings.Join(got, ","), app.JobRemind+","+app.JobEscalate+","+app.JobLookBack) {
		t.Fatalf("jobs %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Housekeeping(ctx)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := a.Jobs.Statuses(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ran := 0
		for _, s := range st {
			if s.Runs > 0 && s.LastError == "" {
				ran++
			}
		}
		if ran == len(st) && ran >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not run: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done // Housekeeping returns once the scheduler has stopped
}

// TestReminderReachesTheInbox goes from a task due soon through the
// scheduled pass to the liaison's inbox, page, home figure and the outbox.
func TestReminderReachesTheInbox(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 26, 2, 0, 0, 0, time.UTC)} // Thursday
	a := newAppAt(t, clock.Now)
	ctx := context.Background()
	now := time.Now().UTC()
	var unit, person int64
	err := a.DB.InTx(ctx, func(tx *db.Tx) (err error) {
		if unit, err = db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, created_at, updated_at) VALUES ('yjb', '应急办', 'section', ?, ?)`, now, now); err != nil {
			return err
		}
		person, err = db.InsertID(ctx, tx, `INSERT INTO people (unit_id, name, created_at, updated_at) VALUES (?, '张三', ?, ?)`, unit, now, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	lia, err := a.Auth.CreateUser(ctx, audit.Entry{Actor: "test"}, auth.NewUser{Username: "lia", DisplayName: "联络员", Password: "Walk-the-routes-1", Roles: []auth.Role{auth.RoleLiaison}, UnitID: &unit})
	if err != nil {
		t.Fatal(err)
	}
	task, err := a.Tasks.Create(ctx, supervise.SystemActor("test"), supervise.NewTask{Title: "修订应急预案", Area: "emergency", Source: supervise.SourcePlan,
		LeadUnitID: unit, OwnerID: person, Start: workday.MustParseDate("2026-03-01"), Due: workday.MustParseDate("2026-03-31"), Assign: true})
	if err != nil {
		t.Fatal(err)
	}
	if ran, err := a.Jobs.RunOnce(ctx, app.JobRemind); err != nil || !ran {
		t.Fatalf("remind pass: %v %v", ran, err)
	}
	secret, err := a.Auth.CreateSession(ctx, lia, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		return rec
	}
	var in notify.Inbox
	rec := get("/api/v1/inbox")
	if err := json.Unmarshal(rec.Body.Bytes(), &in); err != nil || in.Total != 1 || in.Items[0].Kind != "reminder" ||
		in.Items[0].Title != "催办：修订应急预案" || !strings.Contains(in.Items[0].Body, "还有 3 个工作日到期") || in.Items[0].Link != fmt.Sprintf("/tasks/%d", task.ID) {
		t.Fatalf("inbox: %d %s", rec.Code, rec.Body)
	}
	home := get("/").Body.String()
	if !strings.Contains(home, "未读消息") || !strings.Contains(home, `href="/inbox"`) {
		t.Fatalf("home page lacks the inbox: %s", home)
	}
	if page := get("/inbox").Body.String(); !strings.Contains(page, "修订应急预案") {
		t.Fatalf("inbox page: %s", page)
	}
	out, err := a.Notify.Outbox(ctx, notify.OutboxFilter{RecipientID: lia.ID})
	if err != nil || len(out) != 1 || out[0].Status != "pending" || !strings.Contains(out[0].Text, "修订应急预案") {
		t.Fatalf("outbox: %+v %v", out, err)
	}
	// The pass is not due again for ten minutes; forced, it sends nothing new.
	if ran, _ := a.Jobs.RunDue(ctx); !slices.Contains(ran, app.JobEscalate) || !slices.Contains(ran, app.JobLookBack) || slices.Contains(ran, app.JobRemind) { // escalate and look-back had not run yet
		t.Fatalf("due jobs: %v", ran)
	}
	if ran, err := a.Jobs.RunOnce(ctx, app.JobRemind); err != nil || !ran {
		t.Fatal(err)
	}
	if n, _ := a.Notify.Unread(ctx, lia.ID); n != 1 {
		t.Fatalf("%d unread after a second pass, want 1", n)
	}
}
