package supervise_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/jobs"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

// notifier delivers supervise notices through notify, as app wires it.
type notifier struct{ n *notify.Service }

func (x notifier) Notify(ctx context.Context, tx *db.Tx, ns ...supervise.Notice) error {
	msgs := make([]notify.Message, len(ns))
	for i, n := range ns {
		msgs[i] = notify.Message{To: n.To, Kind: n.Kind, Level: notify.Level(n.Level), Title: notify.Text{ZH: n.Title.ZH, EN: n.Title.EN},
			Body: notify.Text{ZH: n.Body.ZH, EN: n.Body.EN}, Link: n.Link, Subject: n.Subject}
	}
	return x.n.Send(ctx, tx, msgs...)
}

// remindEnv is env with the inbox, the reminder routes and the passes as
// scheduler jobs.
type remindEnv struct {
	*env
	inbox *notify.Service
}

func newRemindEnv(t *testing.T) *remindEnv {
	t.Helper()
	e := newEnv(t)
	r := &remindEnv{env: e, inbox: notify.New(e.d, e.clock.Now)}
	e.svc.Notifier = notifier{r.inbox}
	if err := e.svc.RegisterReminders(e.ws); err != nil {
		t.Fatal(err)
	}
	if err := r.inbox.Register(e.ws); err != nil {
		t.Fatal(err)
	}
	return r
}

// scheduler is a new instance (as after a restart) on d with the passes.
func (r *remindEnv) scheduler(d *db.DB) *jobs.Scheduler {
	s := jobs.New(d, nil, r.clock.Now)
	pass := func(f func(context.Context, *db.Tx) (int, error)) jobs.Func {
		return func(ctx context.Context, tx *db.Tx) error {
			n, err := f(ctx, tx)
			jobs.SetResult(ctx, "%d", n)
			return err
		}
	}
	s.Register("remind", 10*time.Minute, pass(r.svc.RemindPass))
	s.Register("escalate", 10*time.Minute, pass(r.svc.EscalatePass))
	s.Register("lookback", 10*time.Minute, pass(r.svc.LookBackPass))
	return s
}

func (r *remindEnv) runOnce(s *jobs.Scheduler, name string) {
	r.t.Helper()
	ran, err := s.RunOnce(r.ctx, name)
	if err != nil || !ran {
		r.t.Fatalf("run %s: ran %v err %v", name, ran, err)
	}
}

// keys lists the reminder keys recorded for a task, oldest first.
func (r *remindEnv) keys(taskID int64, kind string) []string {
	r.t.Helper()
	rows, err := r.d.QueryContext(r.ctx, `SELECT key FROM task_reminders WHERE task_id = ? AND kind = ? ORDER BY id`, taskID, kind)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func (r *remindEnv) inboxOf(user string, kind string) []notify.Notification {
	r.t.Helper()
	in, err := r.inbox.Inbox(r.ctx, r.users[user].ID, notify.InboxFilter{Kind: kind, Limit: 500})
	if err != nil {
		r.t.Fatal(err)
	}
	return in.Items
}

// dueTask is an in-progress task of unit A due on due.
func (r *remindEnv) dueTask(title, due string) *supervise.Task {
	r.t.Helper()
	in := r.newTask(title)
	in.Due = workday.MustParseDate(due)
	return r.inProgress(in)
}

func TestRemindersFireOncePerKeyAcrossRunsAndRestarts(t *testing.T) {
	r := newRemindEnv(t)
	// Due Thursday 30 April 2026, before the May Day holiday (1–5 May; Saturday 9 May is a working day).
	task := r.dueTask("清理历史遗留问题", "2026-04-30")
	s := r.scheduler(r.d)
	for _, step := range []struct {
		date string
		want []string
	}{
		{"2026-04-24", nil},
		{"2026-04-27", []string{"before-3"}}, // 3 working days before
		{"2026-04-28", []string{"before-3"}},
		{"2026-04-29", []string{"before-3", "before-1"}},
		{"2026-04-30", []string{"before-3", "before-1", "due"}},
		{"2026-05-05", []string{"before-3", "before-1", "due"}}, // holiday: 0 working days overdue
		{"2026-05-07", []string{"before-3", "before-1", "due"}}, // 2 overdue
		{"2026-05-08", []string{"before-3", "before-1", "due", "overdue-3"}},
		{"2026-05-09", []string{"before-3", "before-1", "due", "overdue-3"}}, // adjusted Saturday: 4 overdue
		{"2026-05-12", []string{"before-3", "before-1", "due", "overdue-3", "overdue-6"}},
	} {
		r.clock.SetDate(step.date)
		// Twice with this scheduler, once with a new one (a restart): the
		// same keys.
		r.runOnce(s, "remind")
		r.runOnce(s, "remind")
		r.runOnce(r.scheduler(r.d), "remind")
		if got := r.keys(task.ID, "auto"); !slices.Equal(got, step.want) {
			t.Fatalf("%s: reminders %v, want %v", step.date, got, step.want)
		}
	}
	// Each went to the lead unit's liaison and head, in the inbox and the
	// outbox; not to another unit.
	for _, u := range []string{"lia_a", "head_a"} {
		items := r.inboxOf(u, supervise.NoticeKindReminder)
		if len(items) != 5 {
			t.Fatalf("%s has %d reminders, want 5", u, len(items))
		}
		if items[0].Title != "催办："+task.Title || !strings.Contains(items[0].Body, "已逾期 6 个工作日") || items[0].Link != fmt.Sprintf("/tasks/%d", task.ID) {
			t.Fatalf("%s newest reminder: %+v", u, items[0])
		}
	}
	if n := len(r.inboxOf("lia_b", "")); n != 0 {
		t.Fatalf("unit B got %d messages", n)
	}
	out, err := r.inbox.Outbox(r.ctx, notify.OutboxFilter{Subject: fmt.Sprintf("task:%d", task.ID), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 10 {
		t.Fatalf("%d outbox rows, want 10", len(out))
	}
	for _, o := range out {
		if o.RecipientID == nil || o.Status != notify.StatusPending || o.Channel != notify.SMS || !strings.HasPrefix(o.Text, "催办："+task.Title+"：") {
			t.Fatalf("outbox row %+v", o)
		}
	}
	// The API lists them, newest first.
	var list struct {
		Items []supervise.ReminderRecord `json:"items"`
		Total int                        `json:"total"`
	}
	if st := r.call("GET", fmt.Sprintf("/api/v1/tasks/%d/reminders", task.ID), "lia_a", nil, &list); st != 200 || list.Total != 5 ||
		list.Items[0].Key != "overdue-6" || list.Items[0].Recipients != 2 || list.Items[0].Workdays != 6 || list.Items[0].Kind != "auto" {
		t.Fatalf("GET reminders: %d %+v", st, list)
	}
}

func TestRemindersAfterDowntimeSendOnlyTheLatest(t *testing.T) {
	r := newRemindEnv(t)
	task := r.dueTask("补发测试", "2026-04-30")
	r.clock.SetDate("2026-05-08")
	r.runOnce(r.scheduler(r.d), "remind")
	if got := r.keys(task.ID, "auto"); !slices.Equal(got, []string{"overdue-3"}) {
		t.Fatalf("after downtime: %v, want only overdue-3", got)
	}
	// An approved extension moves the due date: the plan starts over.
	ext, err := r.svc.RequestExtension(r.ctx, r.liaison(r.unitA), task.ID, supervise.NewExtension{Reason: "节假日影响", NewDue: workday.MustParseDate("2026-05-20")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.DecideExtension(r.ctx, r.supervisor(), ext.ID, supervise.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	var remindOn, key string
	if err := r.d.QueryRowContext(r.ctx, `SELECT remind_on, remind_key FROM task_plans WHERE task_id = ?`, task.ID).Scan(&remindOn, &key); err != nil {
		t.Fatal(err)
	}
	if remindOn != "" || key != "" {
		t.Fatalf("a new due date kept the old plan: %q %q", remindOn, key)
	}
	r.clock.SetDate("2026-05-15") // 3 working days before 20 May
	r.runOnce(r.scheduler(r.d), "remind")
	if got := r.keys(task.ID, "auto"); !slices.Equal(got, []string{"overdue-3", "before-3"}) {
		t.Fatalf("after the extension: %v", got)
	}
	if err := r.d.QueryRowContext(r.ctx, `SELECT remind_on FROM task_plans WHERE task_id = ?`, task.ID).Scan(&remindOn); err != nil || remindOn != "2026-05-19" {
		t.Fatalf("next reminder planned on %q (%v), want 2026-05-19", remindOn, err)
	}
	// Closed tasks are left alone.
	r.report(task, 100)
	r.transition(r.liaison(r.unitA), task.ID, supervise.ActionSubmit, "")
	r.clock.SetDate("2026-05-19")
	r.runOnce(r.scheduler(r.d), "remind")
	if got := r.keys(task.ID, "auto"); len(got) != 2 {
		t.Fatalf("a submitted task was reminded: %v", got)
	}
}

// TestConcurrentSchedulersSendEachReminderOnce runs several scheduler
// instances, each with its own database connections, at the same time on
// the same database.
func TestConcurrentSchedulersSendEachReminderOnce(t *testing.T) {
	r := newRemindEnv(t)
	const n = 30
	var ids []int64
	for i := range n {
		ids = append(ids, r.dueTask(fmt.Sprintf("并发任务 %d", i), "2026-03-31").ID)
	}
	var scheds []*jobs.Scheduler
	for i := range 4 {
		d := r.d
		if i > 0 {
			var err error
			if r.d.Dialect == db.Postgres {
				d, err = db.Open(r.ctx, "", r.d.URL)
			} else {
				d, err = db.OpenSQLite(r.ctx, r.d.Path)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
		}
		scheds = append(scheds, r.scheduler(d))
	}
	for _, date := range []string{"2026-03-26", "2026-03-30", "2026-03-31", "2026-04-03"} {
		r.clock.SetDate(date)
		var wg sync.WaitGroup
		for _, s := range scheds {
			// Both the due-run (one instance wins the claim) and forced
			// runs (several passes one after another) at once.
			wg.Go(func() {
				if _, err := s.RunDue(r.ctx); err != nil {
					t.Errorf("RunDue: %v", err)
				}
			})
			wg.Go(func() {
				if _, err := s.RunOnce(r.ctx, "remind"); err != nil {
					t.Errorf("RunOnce: %v", err)
				}
			})
		}
		wg.Wait()
	}
	want := []string{"before-3", "before-1", "due", "overdue-3"}
	for _, id := range ids {
		if got := r.keys(id, "auto"); !slices.Equal(got, want) {
			t.Fatalf("task %d: %v, want %v", id, got, want)
		}
	}
	for _, table := range []string{"notifications", "outbox"} {
		var got int
		if err := r.d.QueryRowContext(r.ctx, `SELECT COUNT(*) FROM `+table+` WHERE kind = 'reminder'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != n*len(want)*2 {
			t.Fatalf("%d reminder rows in %s, want %d", got, table, n*len(want)*2)
		}
	}
	// The escalation pass ran too (due runs): one blue notice per task.
	var notices int
	if err := r.d.QueryRowContext(r.ctx, `SELECT COUNT(*) FROM supervision_notices WHERE level = 'blue'`).Scan(&notices); err != nil || notices != n {
		t.Fatalf("%d blue notices (%v), want %d", notices, err, n)
	}
}

func TestEscalationByOverdueWorkdaysAcrossAHoliday(t *testing.T) {
	r := newRemindEnv(t)
	leader := r.addAccount("leader_wang", "王建国", "leader", 0)
	other := r.addAccount("leader_li", "李明", "leader", 0)
	in := r.newTask("批示件：整治占道经营")
	in.Source = supervise.SourceInstruction
	in.Instruction = &supervise.NewInstruction{Leader: "王建国", IssuedOn: workday.MustParseDate("2026-03-01"), Text: "请抓紧整治"}
	in.Due = workday.MustParseDate("2026-04-30")
	task := r.inProgress(in)
	plain := r.dueTask("一般任务", "2026-04-30")
	levelOf := func(id int64) []string {
		rows, err := r.d.QueryContext(r.ctx, `SELECT level FROM supervision_notices WHERE task_id = ? ORDER BY id`, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var l string
			rows.Scan(&l)
			out = append(out, l)
		}
		return out
	}
	for _, step := range []struct {
		date string
		want []string
	}{
		{"2026-04-30", nil},                               // due today
		{"2026-05-05", nil},                               // May Day holiday: not a working day overdue
		{"2026-05-06", []string{"blue"}},                  // 1 working day overdue
		{"2026-05-08", []string{"blue"}},                  // 3
		{"2026-05-09", []string{"blue"}},                  // adjusted Saturday: 4
		{"2026-05-10", []string{"blue"}},                  // Sunday: still 4
		{"2026-05-11", []string{"blue", "yellow"}},        // 5
		{"2026-05-15", []string{"blue", "yellow"}},        // 9
		{"2026-05-18", []string{"blue", "yellow", "red"}}, // 10
		{"2026-05-25", []string{"blue", "yellow", "red"}},
	} {
		r.clock.SetDate(step.date)
		r.runOnce(r.scheduler(r.d), "escalate")
		r.runOnce(r.scheduler(r.d), "escalate")
		for _, id := range []int64{task.ID, plain.ID} {
			if got := levelOf(id); !slices.Equal(got, step.want) {
				t.Fatalf("%s task %d: notices %v, want %v", step.date, id, got, step.want)
			}
		}
	}
	// Blue and yellow to the unit head only; red also to the leader in
	// charge: the instruction's leader, or every leader for other tasks.
	heads := r.inboxOf("head_a", supervise.NoticeKindNotice)
	if len(heads) != 6 {
		t.Fatalf("unit head has %d notices, want 6", len(heads))
	}
	if n := len(r.inboxOf("lia_a", supervise.NoticeKindNotice)); n != 0 {
		t.Fatalf("the liaison got %d notices; they go to the head", n)
	}
	var levels []notify.Level
	for _, n := range heads {
		levels = append(levels, n.Level)
		if !strings.Contains(n.Title, "督办〔2026〕") {
			t.Fatalf("notice without a number: %q", n.Title)
		}
	}
	slices.Sort(levels)
	if !slices.Equal(levels, []notify.Level{"blue", "blue", "red", "red", "yellow", "yellow"}) {
		t.Fatalf("levels %v", levels)
	}
	wang, err := r.inbox.Inbox(r.ctx, leader, notify.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	li, _ := r.inbox.Inbox(r.ctx, other, notify.InboxFilter{})
	if wang.Total != 2 || li.Total != 1 || wang.Items[0].Level != notify.LevelRed || !strings.Contains(wang.Items[0].Body, "分管领导") {
		t.Fatalf("leaders: 王 %d, 李 %d; %+v", wang.Total, li.Total, wang.Items)
	}
	// The notices are on the timeline and in the API.
	d, err := r.svc.Detail(r.ctx, task.ID, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	var notices int
	for _, ev := range d.Events {
		if ev.Kind == supervise.EventNotice {
			notices++
		}
	}
	if notices != 3 {
		t.Fatalf("%d notice events on the timeline, want 3", notices)
	}
	var list struct {
		Items []supervise.SupervisionNotice `json:"items"`
		Total int                           `json:"total"`
	}
	if st := r.call("GET", fmt.Sprintf("/api/v1/notices?task=%d&level=red", task.ID), "viewer", nil, &list); st != 200 || list.Total != 1 ||
		list.Items[0].OverdueWorkdays != 10 || !slices.Equal(list.Items[0].AddressedTo, []string{"unit_head", "leader"}) || list.Items[0].Recipients != 2 ||
		!strings.HasPrefix(list.Items[0].No, "督办〔2026〕") {
		t.Fatalf("GET notices: %d %+v", st, list)
	}
	if st := r.call("GET", "/api/v1/notices?level=purple", "viewer", nil, nil); st != 422 {
		t.Fatalf("bad level: %d", st)
	}
	if st := r.call("GET", "/api/v1/notices", "", nil, nil); st != 401 {
		t.Fatalf("anonymous notices: %d", st)
	}
}

// addAccount inserts an enabled account with one role.
func (r *remindEnv) addAccount(username, display, role string, unit int64) int64 {
	r.t.Helper()
	now := time.Now().UTC()
	var id int64
	err := r.d.InTx(r.ctx, func(tx *db.Tx) (err error) {
		var u any
		if unit != 0 {
			u = unit
		}
		id, err = db.InsertID(r.ctx, tx, `INSERT INTO users (username, display_name, password_hash, unit_id, password_changed_at, created_at, updated_at)
			VALUES (?, ?, 'x', ?, ?, ?, ?)`, username, display, u, now, now, now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(r.ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, role)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

func TestUrge(t *testing.T) {
	r := newRemindEnv(t)
	task := r.dueTask("督促测试", "2026-03-31")
	var rec supervise.ReminderRecord
	if st := r.call("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", task.ID), "sup", map[string]string{"message": "请于本周内报送进展"}, &rec); st != http.StatusCreated ||
		rec.Kind != "urge" || rec.Recipients != 2 || rec.SentByName != "sup" || rec.Message != "请于本周内报送进展" {
		t.Fatalf("urge: %d %+v", st, rec)
	}
	for _, u := range []string{"lia_a", "head_a"} {
		items := r.inboxOf(u, supervise.NoticeKindUrge)
		if len(items) != 1 || items[0].Title != "督促："+task.Title || !strings.HasPrefix(items[0].Body, "请于本周内报送进展") {
			t.Fatalf("%s inbox: %+v", u, items)
		}
	}
	out, _ := r.inbox.Outbox(r.ctx, notify.OutboxFilter{Subject: fmt.Sprintf("task:%d", task.ID)})
	if len(out) != 2 || out[0].Status != "pending" || !strings.Contains(out[0].Text, "请于本周内报送进展") {
		t.Fatalf("outbox: %+v", out)
	}
	d, _ := r.svc.Detail(r.ctx, task.ID, "zh-CN")
	if last := d.Events[len(d.Events)-1]; last.Kind != supervise.EventUrge || last.Actor != "sup" || last.Note != "请于本周内报送进展" {
		t.Fatalf("timeline: %+v", last)
	}
	// Refusals change nothing.
	before := r.count("notifications")
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", task.ID), "lia_a", map[string]string{"message": "x"}), 403, "permission_denied", "")
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", task.ID), "viewer", map[string]string{"message": "x"}), 403, "permission_denied", "")
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", task.ID), "sup", map[string]string{"message": "  "}), 422, "invalid_message", "message")
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", task.ID), "sup", map[string]string{"message": strings.Repeat("催", 501)}), 422, "invalid_message", "message")
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", task.ID), "sup", map[string]string{"text": "x"}), 400, "unknown_field", "text")
	r.wantError(r.request("POST", "/api/v1/tasks/999999/urge", "sup", map[string]string{"message": "x"}), 404, "task_not_found", "")
	if st := r.call("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", task.ID), "", map[string]string{"message": "x"}, nil); st != 401 {
		t.Fatalf("anonymous urge: %d", st)
	}
	draft := r.create(r.newTask("草稿"))
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", draft.ID), "sup", map[string]string{"message": "x"}), 409, "task_not_urgeable", "")
	// A lead unit without accounts cannot be reached.
	p := r.insertPerson(r.office, "王五")
	in := r.newTask("办公室的任务")
	in.LeadUnitID, in.OwnerID = r.office, p
	office := r.assignOnly(in)
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/tasks/%d/urge", office.ID), "sup", map[string]string{"message": "x"}), 422, "no_recipients", "")
	if after := r.count("notifications"); after != before {
		t.Fatalf("refused urges wrote %d messages", after-before)
	}
}

// assignOnly creates and assigns a task (a unit without accounts cannot
// accept it).
func (r *remindEnv) assignOnly(in supervise.NewTask) *supervise.Task {
	r.t.Helper()
	in.Assign = true
	return r.create(in)
}

func TestReminderRoutesDocumentedAndGuarded(t *testing.T) {
	r := newRemindEnv(t)
	for _, rt := range r.ws.Routes() {
		if !rt.API() || strings.HasPrefix(rt.Path, "/api/v1/auth/") || rt.Path == "/api/v1/me" || rt.Path == "/api/v1/openapi.json" {
			continue // the platform's, documented by app
		}
		if !r.ws.OpenAPI.Has(rt.Method, rt.Path) {
			t.Errorf("%s is not in the OpenAPI document", rt.Pattern())
		}
	}
	for _, c := range []struct{ method, path, user string }{
		{"GET", "/api/v1/tasks/1/reminders", ""},
		{"GET", "/api/v1/lookbacks", ""},
		{"POST", "/api/v1/lookbacks/1/result", ""},
		{"PUT", "/api/v1/tasks/1/lookback", ""},
	} {
		if st := r.call(c.method, c.path, c.user, map[string]string{}, nil); st != 401 {
			t.Errorf("%s %s anonymous: %d", c.method, c.path, st)
		}
	}
	for _, c := range []struct{ method, path, user string }{
		{"POST", "/api/v1/lookbacks/1/result", "lia_a"},
		{"PUT", "/api/v1/tasks/1/lookback", "head_a"},
		{"POST", "/api/v1/tasks/1/urge", "viewer"},
		{"GET", "/api/v1/notices", "sysadmin"},
		{"GET", "/api/v1/lookbacks", "sysadmin"},
	} {
		r.wantError(r.request(c.method, c.path, c.user, map[string]string{}), 403, "permission_denied", "")
	}
}

// BenchmarkReminderPass20k times one reminder pass over 20,000 open tasks
// of 300 units (a liaison and a head each), in one transaction:
//
//   - all_due: every task has a reminder to send (all due today): 20,000
//     reminders, 40,000 inbox and 40,000 outbox rows, 20,000 plans moved;
//     the worst case.
//   - daily: due dates spread over 60 days either side of today, the
//     previous day's pass done; the pass reads only the tasks planned for
//     today (about a fifth) and sends their reminders.
func BenchmarkReminderPass20k(b *testing.B) {
	for _, c := range []struct {
		name   string
		spread int // due dates over ±spread days around today
		warm   bool
	}{{"all_due", 0, false}, {"daily", 60, true}} {
		b.Run(c.name, func(b *testing.B) { benchReminderPass(b, c.spread, c.warm) })
	}
}

func benchReminderPass(b *testing.B, spread int, warm bool) {
	const units, tasks = 300, 20000
	ctx := context.Background()
	d := dbtest.Open(b)
	today := workday.MustParseDate("2026-06-10") // a Wednesday
	var mu sync.Mutex
	base := time.Date(2026, 6, 10, 2, 0, 0, 0, time.UTC) // 10:00 in Beijing
	now := base
	clockNow := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setDay := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	svc := supervise.New(d, nil, workday.New(), clockNow)
	svc.Notifier = notifier{notify.New(d, clockNow)}
	seedBench(b, ctx, d, units, tasks, today, spread)
	// Each run starts from the same state; statistics and (on PostgreSQL)
	// vacuum as autovacuum would keep them.
	reset := func() {
		qs := []string{`DELETE FROM task_reminders`, `DELETE FROM notifications`, `DELETE FROM outbox`, `UPDATE task_plans SET remind_on = '', remind_key = ''`}
		if d.Dialect == db.Postgres {
			qs = append(qs, `VACUUM ANALYZE tasks`, `VACUUM ANALYZE task_plans`, `VACUUM ANALYZE task_reminders`, `VACUUM ANALYZE notifications`, `VACUUM ANALYZE outbox`)
		} else {
			qs = append(qs, `ANALYZE`)
		}
		for _, q := range qs {
			if _, err := d.W.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	}
	run := func() (sent int) {
		err := d.InTx(ctx, func(tx *db.Tx) (err error) {
			sent, err = svc.RemindPass(ctx, tx)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		return sent
	}
	var sent int
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		reset()
		if warm {
			setDay(base.AddDate(0, 0, -1))
			run()
			setDay(base)
		}
		b.StartTimer()
		sent = run()
	}
	b.StopTimer()
	if spread == 0 && sent != tasks {
		b.Fatalf("sent %d reminders, want %d", sent, tasks)
	}
	if sent == 0 {
		b.Fatal("sent nothing")
	}
	b.ReportMetric(float64(sent), "reminders/op")
}

// seedBench inserts units, a person, a liaison and a head per unit, and
// in-progress tasks due today (spread 0) or spread over ±spread days, with
// multi-row SQL.
func seedBench(b *testing.B, ctx context.Context, d *db.DB, units, tasks int, today workday.Date, spread int) {
	b.Helper()
	now := time.Now().UTC()
	var unitIDs, people []int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for i := range units {
			u, err := db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, created_at, updated_at) VALUES (?, ?, 'section', ?, ?)`,
				fmt.Sprintf("u%03d", i), fmt.Sprintf("单位%03d", i), now, now)
			if err != nil {
				return err
			}
			p, err := db.InsertID(ctx, tx, `INSERT INTO people (unit_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`, u, fmt.Sprintf("责任人%03d", i), now, now)
			if err != nil {
				return err
			}
			unitIDs, people = append(unitIDs, u), append(people, p)
			for _, role := range []string{"liaison", "unit_head"} {
				id, err := db.InsertID(ctx, tx, `INSERT INTO users (username, password_hash, unit_id, password_changed_at, created_at, updated_at) VALUES (?, 'x', ?, ?, ?, ?)`,
					fmt.Sprintf("%s%03d", role, i), u, now, now, now)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, role); err != nil {
					return err
				}
			}
		}
		const per = 1000
		for start := 0; start < tasks; start += per {
			var sb strings.Builder
			var args []any
			for i := start; i < min(start+per, tasks); i++ {
				if i > start {
					sb.WriteString(", ")
				}
				sb.WriteString("(?, 'emergency', ?, ?, ?, ?, ?, ?, 'in_progress', ?, ?)")
				k := i % units
				due := today
				if spread > 0 {
					due = today.AddDays(i%(2*spread+1) - spread)
				}
				args = append(args, "plan", fmt.Sprintf("任务%05d", i), unitIDs[k], people[k], today.AddDays(-90), due, today.AddDays(-90), now, now)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tasks (source, area, title, lead_unit_id, owner_id, start_on, due_on, assigned_on, state, created_at, updated_at) VALUES `+
				sb.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
