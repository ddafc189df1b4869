package supervise_test

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

func TestLifecycleHappyPath(t *testing.T) {
	e := newEnv(t)
	in := e.newTask("完善应急预案体系")
	in.CoUnitIDs = []int64{e.unitB}
	in.Milestones = []supervise.NewMilestone{{Name: "形成初稿", Due: workday.MustParseDate("2026-03-20")}}
	in.Cadence = deadline.CadenceWeekly
	task := e.create(in)
	if task.State != supervise.StateDraft || task.Light != deadline.LightNotStarted || task.LightCode != supervise.ReasonDraft {
		t.Fatalf("new task: state %s light %s/%s", task.State, task.Light, task.LightCode)
	}
	if !slices.Equal(task.CoUnitIDs, []int64{e.unitB}) || len(task.Milestones) != 1 {
		t.Fatalf("co-units %v milestones %v", task.CoUnitIDs, task.Milestones)
	}
	sup, lia := e.supervisor(), e.liaison(e.unitA)

	task = e.transition(sup, task.ID, supervise.ActionAssign, "")
	if task.State != supervise.StateAssigned || task.AssignedOn.String() != "2026-03-10" || task.BaselineDue.String() != "2026-03-31" {
		t.Fatalf("assigned: %s on %s baseline %s", task.State, task.AssignedOn, task.BaselineDue)
	}
	task = e.transition(lia, task.ID, supervise.ActionAccept, "")
	if task.State != supervise.StateAccepted || task.AcceptedAt == nil {
		t.Fatalf("accepted: %s %v", task.State, task.AcceptedAt)
	}
	// The first report starts the work.
	e.report(task, 60)
	if task = e.task(task.ID); task.State != supervise.StateInProgress || task.Progress != 60 || task.LastReportOn.String() != "2026-03-10" {
		t.Fatalf("after report: %s %d%% %s", task.State, task.Progress, task.LastReportOn)
	}
	if _, err := e.svc.CompleteMilestone(e.ctx, lia, task.Milestones[0].ID, 0, "初稿已印发"); err != nil {
		t.Fatal(err)
	}
	e.report(task, 100)
	task = e.transition(lia, task.ID, supervise.ActionSubmit, "")
	if task.State != supervise.StateSubmitted || task.Evidence != "材料" || task.SubmittedAt == nil {
		t.Fatalf("submitted: %s %q", task.State, task.Evidence)
	}
	task = e.transition(sup, task.ID, supervise.ActionSignOff, "")
	if task.State != supervise.StateSignedOff || task.Light != deadline.LightDone || task.SignedOffOn.String() != "2026-03-10" {
		t.Fatalf("signed off: %s light %s on %s", task.State, task.Light, task.SignedOffOn)
	}

	d, err := e.svc.Detail(e.ctx, task.ID, "en")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range d.Events {
		kinds = append(kinds, ev.Kind)
		if ev.Actor == "" || ev.At.IsZero() {
			t.Errorf("event %s lacks who or when: %+v", ev.Kind, ev)
		}
	}
	want := []string{"create", "assign", "accept", "start", "report", "milestone_done", "report", "submit", "sign_off"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("timeline %v, want %v", kinds, want)
	}
	if d.Events[2].Actor != "lia_a" || d.Events[1].Actor != "sup" {
		t.Errorf("who: %s, %s", d.Events[1].Actor, d.Events[2].Actor)
	}
	if len(d.Reports) != 2 || *d.Reports[0].Percent != 100 || !slices.Equal(d.Allowed, []supervise.Action{supervise.ActionReopen}) {
		t.Fatalf("reports %d allowed %v", len(d.Reports), d.Allowed)
	}

	// Every change has an audit record.
	rows, err := e.d.QueryContext(e.ctx, `SELECT action FROM audit_log WHERE object = ? ORDER BY id`, "task:"+strconv.FormatInt(task.ID, 10))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	rows.Close()
	wantAudit := []string{"task.create", "task.assign", "task.accept", "task.report", "task.milestone.done", "task.report", "task.submit", "task.sign_off"}
	if !slices.Equal(actions, wantAudit) {
		t.Fatalf("audit %v, want %v", actions, wantAudit)
	}

	// Reopen (a failed look-back) with a new due date.
	task, err = e.svc.Transition(e.ctx, sup, task.ID, supervise.TransitionRequest{Action: supervise.ActionReopen, Reason: "回头看发现问题", Due: workday.MustParseDate("2026-04-30")})
	if err != nil {
		t.Fatal(err)
	}
	if task.State != supervise.StateInProgress || task.Due.String() != "2026-04-30" || task.BaselineDue.String() != "2026-03-31" || task.SignedOffAt != nil {
		t.Fatalf("reopened: %s due %s baseline %s", task.State, task.Due, task.BaselineDue)
	}
}

func TestRelativeDueResolvedAtAssignment(t *testing.T) {
	e := newEnv(t)
	in := e.newTask("交办后 5 个工作日办结")
	in.Due, in.DueWorkdays = 0, 5
	task := e.create(in)
	if !task.Due.IsZero() || task.DueWorkdays != 5 {
		t.Fatalf("draft due %s workdays %d", task.Due, task.DueWorkdays)
	}
	// Assigned on Thursday 2026-04-02: Friday 3rd is the first working day,
	// 清明 takes 4–6 April, so the 5th working day is Friday 10 April.
	e.clock.SetDate("2026-04-02")
	task = e.transition(e.supervisor(), task.ID, supervise.ActionAssign, "")
	if task.Due.String() != "2026-04-10" || task.BaselineDue.String() != "2026-04-10" {
		t.Fatalf("due %s baseline %s, want 2026-04-10", task.Due, task.BaselineDue)
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	e := newEnv(t)
	sup, lia := e.supervisor(), e.liaison(e.unitA)
	base := e.count("tasks")
	check := func(name string, err error, status int, field string) {
		t.Helper()
		ae, ok := apperr.As(err)
		if !ok || ae.Status != status || ae.Field != field {
			t.Fatalf("%s: got %v, want %d naming %q", name, err, status, field)
		}
	}

	in := e.newTask("期限早于开始")
	in.Due = workday.MustParseDate("2026-02-01")
	_, err := e.svc.Create(e.ctx, sup, in)
	check("due before start", err, 422, "due")

	in = e.newTask("节点晚于期限")
	in.Milestones = []supervise.NewMilestone{{Name: "a", Due: workday.MustParseDate("2026-03-05")}, {Name: "b", Due: workday.MustParseDate("2026-04-05")}}
	_, err = e.svc.Create(e.ctx, sup, in)
	check("milestone after due", err, 422, "milestones[1].due")

	in = e.newTask("责任人不属于责任单位")
	in.OwnerID = e.ownerB
	_, err = e.svc.Create(e.ctx, sup, in)
	check("owner outside lead unit", err, 422, "owner_id")

	in = e.newTask("未知领域")
	in.Area = "nowhere"
	_, err = e.svc.Create(e.ctx, sup, in)
	check("unknown area", err, 422, "area")

	in = e.newTask("批示缺内容")
	in.Source = supervise.SourceInstruction
	_, err = e.svc.Create(e.ctx, sup, in)
	check("instruction missing", err, 422, "instruction")

	in = e.newTask("投资只属于重点项目")
	planned := int64(1000)
	in.PlannedInvestment = &planned
	_, err = e.svc.Create(e.ctx, sup, in)
	check("investment on a plan task", err, 422, "planned_investment")

	in = e.newTask("联络员不能登记")
	_, err = e.svc.Create(e.ctx, lia, in)
	wantAppErr(t, err, http.StatusForbidden, "supervisor_only")

	if n := e.count("tasks"); n != base {
		t.Fatalf("refused creations saved %d tasks", n-base)
	}
	if n := e.count("instructions") + e.count("task_milestones"); n != 0 {
		t.Fatalf("refused creations saved %d instructions and milestones", n)
	}

	task := e.inProgress(e.newTask("进展"))
	events := e.count("task_events")
	audits := e.count("audit_log")

	_, err = e.svc.AddMilestone(e.ctx, sup, task.ID, supervise.NewMilestone{Name: "晚了", Due: workday.MustParseDate("2026-04-01")})
	check("milestone after the task's due", err, 422, "due")

	over := 101
	_, err = e.svc.Report(e.ctx, lia, task.ID, supervise.NewReport{Percent: &over, Text: "超额"})
	check("progress above 100", err, 422, "percent")

	_, err = e.svc.Report(e.ctx, lia, task.ID, supervise.NewReport{Text: "无进度"})
	check("progress missing", err, 422, "percent")

	e.report(task, 80)
	events, audits = events+1, audits+1
	_, err = e.svc.Transition(e.ctx, lia, task.ID, supervise.TransitionRequest{Action: supervise.ActionSubmit, Evidence: "材料"})
	check("submit below 100", err, 422, "progress")

	e.report(task, 100)
	events, audits = events+1, audits+1
	_, err = e.svc.Transition(e.ctx, lia, task.ID, supervise.TransitionRequest{Action: supervise.ActionSubmit, Evidence: "  "})
	check("submit without evidence", err, 422, "evidence")

	_, err = e.svc.Transition(e.ctx, sup, task.ID, supervise.TransitionRequest{Action: supervise.ActionCancel})
	check("cancel without reason", err, 422, "reason")

	_, err = e.svc.RequestExtension(e.ctx, lia, task.ID, supervise.NewExtension{Reason: "来不及", NewDue: workday.MustParseDate("2026-03-20")})
	check("extension to an earlier date", err, 422, "new_due")

	_, err = e.svc.Transition(e.ctx, e.liaison(e.unitB), task.ID, supervise.TransitionRequest{Action: supervise.ActionSubmit, Evidence: "材料"})
	wantAppErr(t, err, http.StatusForbidden, "not_lead_unit")

	_, err = e.svc.Transition(e.ctx, lia, task.ID, supervise.TransitionRequest{Action: supervise.ActionCancel, Reason: "不想干"})
	wantAppErr(t, err, http.StatusForbidden, "supervisor_only")

	got := e.task(task.ID)
	if got.State != supervise.StateInProgress || got.Progress != 100 || len(got.Milestones) != 0 || got.Version != task.Version+2 {
		t.Fatalf("task changed by refused requests: %s %d%% %d milestones version %d (was %d)", got.State, got.Progress, len(got.Milestones), got.Version, task.Version)
	}
	if n := e.count("task_events"); n != events {
		t.Fatalf("%d events, want %d", n, events)
	}
	if n := e.count("audit_log"); n != audits {
		t.Fatalf("%d audit records, want %d", n, audits)
	}
	if n := e.count("task_reports"); n != 2 {
		t.Fatalf("%d reports, want 2", n)
	}
	if n := e.count("task_extensions"); n != 0 {
		t.Fatalf("%d extension requests, want 0", n)
	}
}

func TestTransitionNotAllowedListsAllowed(t *testing.T) {
	e := newEnv(t)
	in := e.newTask("未签收")
	in.Assign = true
	task := e.create(in)
	_, err := e.svc.Transition(e.ctx, e.supervisor(), task.ID, supervise.TransitionRequest{Action: supervise.ActionSignOff})
	ae := wantAppErr(t, err, http.StatusConflict, "transition_not_allowed")
	det, ok := ae.Details.(supervise.TransitionDetails)
	if !ok || det.State != supervise.StateAssigned || !slices.Equal(det.Allowed, []supervise.Action{supervise.ActionAccept, supervise.ActionCancel}) {
		t.Fatalf("details %#v", ae.Details)
	}
	for _, st := range supervise.States {
		if len(supervise.Allowed(st)) == 0 {
			t.Errorf("state %s allows nothing", st)
		}
	}
}

// Two people act on one task at once: exactly one wins, the others get 409.
func TestConcurrentTransitionsOneWins(t *testing.T) {
	e := newEnv(t)
	const n = 8
	run := func(task *supervise.Task, reqs func(i int) (supervise.Actor, supervise.TransitionRequest)) (wins int, winner supervise.Action) {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, req := reqs(i)
				<-start
				_, err := e.svc.Transition(e.ctx, a, task.ID, req)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
					winner = req.Action
					return
				}
				var ae *apperr.Error
				if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
					t.Errorf("loser got %v, want 409", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		return wins, winner
	}

	for round := range 3 {
		in := e.newTask("并发签收 " + strconv.Itoa(round))
		in.Assign = true
		task := e.create(in)
		wins, _ := run(task, func(int) (supervise.Actor, supervise.TransitionRequest) {
			return e.liaison(e.unitA), supervise.TransitionRequest{Action: supervise.ActionAccept}
		})
		if wins != 1 {
			t.Fatalf("round %d: %d accepts won, want 1", round, wins)
		}
		if got := e.task(task.ID); got.State != supervise.StateAccepted || got.Version != task.Version+1 {
			t.Fatalf("state %s version %d", got.State, got.Version)
		}
	}

	// Sign-off and return race on a submitted task: whichever wins, the
	// other is no longer allowed.
	task := e.inProgress(e.newTask("并发销号"))
	e.report(task, 100)
	e.transition(e.liaison(e.unitA), task.ID, supervise.ActionSubmit, "")
	acts := []supervise.Action{supervise.ActionSignOff, supervise.ActionReturn}
	wins, winner := run(task, func(i int) (supervise.Actor, supervise.TransitionRequest) {
		return e.supervisor(), supervise.TransitionRequest{Action: acts[i%len(acts)], Reason: "并发"}
	})
	if wins != 1 {
		t.Fatalf("%d of sign_off/return won, want 1", wins)
	}
	got := e.task(task.ID)
	want := map[supervise.Action]supervise.State{supervise.ActionSignOff: supervise.StateSignedOff, supervise.ActionReturn: supervise.StateInProgress}[winner]
	if got.State != want {
		t.Fatalf("winner %s but state %s", winner, got.State)
	}
	var evs int
	if err := e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM task_events WHERE task_id = ? AND kind IN ('sign_off','return')`, task.ID).Scan(&evs); err != nil {
		t.Fatal(err)
	}
	if evs != 1 {
		t.Fatalf("%d events for the race, want 1", evs)
	}
}

func TestParentProgressRollsUpByWeight(t *testing.T) {
	e := newEnv(t)
	parent := e.inProgress(e.newTask("总任务"))
	child := func(title string, weight int, parentID int64, due string) *supervise.Task {
		in := e.newTask(title)
		in.ParentID, in.Weight, in.Due = parentID, weight, workday.MustParseDate(due)
		return e.inProgress(in)
	}
	c1 := child("子任务一", 1, parent.ID, "2026-03-20")
	c2 := child("子任务二", 3, parent.ID, "2026-03-31")
	if p := e.task(parent.ID); p.Progress != 0 {
		t.Fatalf("parent %d%%", p.Progress)
	}
	e.report(c1, 100)
	e.report(c2, 20)
	if p := e.task(parent.ID); p.Progress != 40 { // (100·1 + 20·3) / 4
		t.Fatalf("parent %d%%, want 40", p.Progress)
	}

	// A grandchild makes c2 a parent too: progress rolls up two levels.
	g := child("孙任务", 1, c2.ID, "2026-03-25")
	if got := e.task(c2.ID).Progress; got != 0 {
		t.Fatalf("c2 %d%%, want 0 from its only subtask", got)
	}
	if p := e.task(parent.ID); p.Progress != 25 { // (100 + 0·3) / 4
		t.Fatalf("parent %d%%, want 25", p.Progress)
	}
	e.report(g, 50)
	if c, p := e.task(c2.ID), e.task(parent.ID); c.Progress != 50 || p.Progress != 62 { // (100 + 150) / 4 = 62.5, rounded down
		t.Fatalf("c2 %d%%, parent %d%%; want 50, 62", c.Progress, p.Progress)
	}
	// A task with subtasks takes no percent of its own.
	fifty := 50
	_, err := e.svc.Report(e.ctx, e.liaison(e.unitA), c2.ID, supervise.NewReport{Percent: &fifty, Text: "x"})
	if ae, ok := apperr.As(err); !ok || ae.Field != "percent" {
		t.Fatalf("percent on a parent: %v", err)
	}
	// A subtask due after its parent is refused.
	in := e.newTask("晚于上级")
	in.ParentID, in.Due = c1.ID, workday.MustParseDate("2026-03-25")
	if _, err := e.svc.Create(e.ctx, e.supervisor(), in); err == nil {
		t.Fatal("subtask due after its parent was accepted")
	}
	// A cancelled subtask no longer counts.
	e.transition(e.supervisor(), c1.ID, supervise.ActionCancel, "合并")
	if p := e.task(parent.ID); p.Progress != 50 {
		t.Fatalf("parent %d%% after cancelling c1, want 50", p.Progress)
	}
	// Parent reaches 100 only when every counted subtask has.
	e.report(g, 100)
	if p := e.task(parent.ID); p.Progress != 100 {
		t.Fatalf("parent %d%%, want 100", p.Progress)
	}
}

func TestLights(t *testing.T) {
	e := newEnv(t)
	in := e.newTask("即将到期")
	in.Due = workday.MustParseDate("2026-03-12") // Thursday, two working days ahead
	in.Assign = true
	task := e.create(in)
	e.transition(e.liaison(e.unitA), task.ID, supervise.ActionAccept, "")
	task = e.transition(e.liaison(e.unitA), task.ID, supervise.ActionStart, "")
	if task.Light != deadline.LightYellow || task.LightCode != deadline.ReasonDueSoon {
		t.Fatalf("light %s %s, want yellow due_soon", task.Light, task.LightCode)
	}
	if task.LightText.ZH != "还有 2 个工作日到期（2026-03-12）" || task.LightText.EN != "Due in 2 working days (2026-03-12)" {
		t.Fatalf("reason %+v", task.LightText)
	}

	// Assigned, not accepted for two working days: yellow.
	in = e.newTask("未签收")
	in.Start, in.Assign = workday.MustParseDate("2026-03-10"), true
	slow := e.create(in)
	if slow.Light == deadline.LightYellow {
		t.Fatalf("not yet late to accept: %s", slow.LightCode)
	}

	// A week later (Tuesday 17 March) the first is three working days
	// overdue; the listing relights before filtering.
	e.clock.SetDate("2026-03-17")
	reds, total, err := e.svc.List(e.ctx, supervise.Filter{Light: deadline.LightRed})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || reds[0].ID != task.ID || reds[0].LightCode != deadline.ReasonOverdue || reds[0].OverdueWorkdays != 3 {
		t.Fatalf("red list: %d, %+v", total, reds)
	}
	if zh, en := reds[0].LightText.In("zh-CN"), reds[0].LightText.In("en"); zh != "已逾期 3 个工作日" || en != "3 working days overdue" {
		t.Fatalf("reasons %q / %q", zh, en)
	}
	sd, err := e.svc.Detail(e.ctx, slow.ID, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	if sd.Light != deadline.LightYellow || !slices.ContainsFunc(sd.LightReasons, func(r deadline.Reason) bool { return r.Code == deadline.ReasonNotAccepted }) {
		t.Fatalf("unaccepted: %s %+v", sd.Light, sd.LightReasons)
	}

	// A late milestone turns a task red.
	in = e.newTask("节点逾期")
	in.Milestones = []supervise.NewMilestone{{Name: "调研", Due: workday.MustParseDate("2026-03-13")}}
	m := e.inProgress(in)
	e.report(m, 50)
	if got := e.task(m.ID); got.Light != deadline.LightRed || got.LightCode != deadline.ReasonMilestoneOverdue {
		t.Fatalf("milestone overdue: %s %s", got.Light, got.LightCode)
	}

	// Extension approved: the due moves, the light follows, the baseline stays.
	ext, err := e.svc.RequestExtension(e.ctx, e.liaison(e.unitA), task.ID, supervise.NewExtension{Reason: "等待审批", NewDue: workday.MustParseDate("2026-03-31")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Report(e.ctx, e.liaison(e.unitA), task.ID, supervise.NewReport{Percent: ptr(70), Text: "推进中"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DecideExtension(e.ctx, e.supervisor(), ext.ID, supervise.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	got := e.task(task.ID)
	if got.Due.String() != "2026-03-31" || got.BaselineDue.String() != "2026-03-12" || got.Light != deadline.LightGreen {
		t.Fatalf("after extension: due %s baseline %s light %s %s", got.Due, got.BaselineDue, got.Light, got.LightCode)
	}

	// Lights left stale by a day are recomputed by RefreshLights.
	e.clock.SetDate("2026-04-01")
	n, err := e.svc.RefreshLights(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("refreshed %d lights, want at least 3", n)
	}
	var light string
	if err := e.d.QueryRowContext(e.ctx, `SELECT light FROM tasks WHERE id = ?`, task.ID).Scan(&light); err != nil {
		t.Fatal(err)
	}
	if light != "red" {
		t.Fatalf("stored light %s after the extended due passed, want red", light)
	}
}

func ptr[T any](v T) *T { return &v }

func TestExtensions(t *testing.T) {
	e := newEnv(t)
	task := e.inProgress(e.newTask("需要延期"))
	lia, sup := e.liaison(e.unitA), e.supervisor()
	ext, err := e.svc.RequestExtension(e.ctx, lia, task.ID, supervise.NewExtension{Reason: "资金未到位", NewDue: workday.MustParseDate("2026-04-15")})
	if err != nil {
		t.Fatal(err)
	}
	if ext.State != supervise.ExtensionPending || ext.OldDue.String() != "2026-03-31" || ext.RequestedByName != "lia_a" {
		t.Fatalf("request %+v", ext)
	}
	_, err = e.svc.RequestExtension(e.ctx, lia, task.ID, supervise.NewExtension{Reason: "再来", NewDue: workday.MustParseDate("2026-04-20")})
	wantAppErr(t, err, http.StatusConflict, "extension_pending")
	_, err = e.svc.DecideExtension(e.ctx, lia, ext.ID, supervise.Decision{Approve: true})
	wantAppErr(t, err, http.StatusForbidden, "supervisor_only")
	_, err = e.svc.DecideExtension(e.ctx, sup, ext.ID, supervise.Decision{Approve: false})
	wantAppErr(t, err, http.StatusUnprocessableEntity, "invalid_note")

	ext, err = e.svc.DecideExtension(e.ctx, sup, ext.ID, supervise.Decision{Approve: false, Note: "理由不充分"})
	if err != nil {
		t.Fatal(err)
	}
	if ext.State != supervise.ExtensionRefused || ext.DecidedAt == nil || ext.DecisionNote != "理由不充分" {
		t.Fatalf("refused %+v", ext)
	}
	if got := e.task(task.ID); got.Due.String() != "2026-03-31" {
		t.Fatalf("refusal moved the due to %s", got.Due)
	}
	_, err = e.svc.DecideExtension(e.ctx, sup, ext.ID, supervise.Decision{Approve: true})
	wantAppErr(t, err, http.StatusConflict, "extension_decided")

	ext2, err := e.svc.RequestExtension(e.ctx, lia, task.ID, supervise.NewExtension{Reason: "资金已到位，施工需时", NewDue: workday.MustParseDate("2026-04-15")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DecideExtension(e.ctx, sup, ext2.ID, supervise.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.Detail(e.ctx, task.ID, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	if d.Due.String() != "2026-04-15" || d.BaselineDue.String() != "2026-03-31" || len(d.Extensions) != 2 {
		t.Fatalf("due %s baseline %s extensions %d", d.Due, d.BaselineDue, len(d.Extensions))
	}
	var kinds []string
	for _, ev := range d.Events {
		kinds = append(kinds, ev.Kind)
	}
	if !slices.Contains(kinds, supervise.EventExtensionRefuse) || !slices.Contains(kinds, supervise.EventExtensionApprove) {
		t.Fatalf("timeline %v", kinds)
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	sup := e.supervisor()
	a := e.newTask("A 应急")
	a.Due, a.Assign = workday.MustParseDate("2026-03-20"), true
	ta := e.create(a)

	b := e.newTask("B 批示，已逾期")
	b.Area, b.Source, b.LeadUnitID, b.OwnerID = "gov_info", supervise.SourceInstruction, e.unitB, e.ownerB
	b.Start, b.Due, b.Assign = workday.MustParseDate("2026-02-02"), workday.MustParseDate("2026-03-05"), true
	b.Instruction = &supervise.NewInstruction{Leader: "王市长", IssuedOn: workday.MustParseDate("2026-02-01"), Text: "抓紧落实"}
	tb := e.create(b)

	c := e.newTask("C 重点项目草稿")
	c.LeadUnitID, c.OwnerID, c.Source, c.Due = e.unitB, e.ownerB, supervise.SourceProject, workday.MustParseDate("2026-12-31")
	c.PlannedInvestment, c.Stage, c.Location = ptr(int64(120_000_000)), supervise.StageConstruction, "高新区"
	tc, err := e.svc.Create(e.ctx, sup, c)
	if err != nil {
		t.Fatal(err)
	}
	if *tc.PlannedInvestment != 120_000_000 || tc.Stage != supervise.StageConstruction {
		t.Fatalf("project fields %+v", tc)
	}

	ids := func(f supervise.Filter) ([]int64, int) {
		t.Helper()
		ts, total, err := e.svc.List(e.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out, total
	}
	yes, no := true, false
	for _, tc2 := range []struct {
		name string
		f    supervise.Filter
		want []int64
	}{
		{"all by due", supervise.Filter{}, []int64{tb.ID, ta.ID, tc.ID}},
		{"area", supervise.Filter{Area: "emergency"}, []int64{ta.ID, tc.ID}},
		{"unit", supervise.Filter{UnitID: e.unitB}, []int64{tb.ID, tc.ID}},
		{"source", supervise.Filter{Source: supervise.SourceInstruction}, []int64{tb.ID}},
		{"overdue", supervise.Filter{Overdue: &yes}, []int64{tb.ID}},
		{"not overdue", supervise.Filter{Overdue: &no}, []int64{ta.ID, tc.ID}},
		{"red", supervise.Filter{Light: deadline.LightRed}, []int64{tb.ID}},
		{"not started", supervise.Filter{Light: deadline.LightNotStarted}, []int64{tc.ID}},
		{"state", supervise.Filter{State: supervise.StateDraft}, []int64{tc.ID}},
		{"combined", supervise.Filter{Area: "emergency", UnitID: e.unitA}, []int64{ta.ID}},
	} {
		got, total := ids(tc2.f)
		if !slices.Equal(got, tc2.want) || total != len(tc2.want) {
			t.Errorf("%s: got %v (total %d), want %v", tc2.name, got, total, tc2.want)
		}
	}
	got, total := ids(supervise.Filter{Limit: 1, Offset: 1})
	if total != 3 || !slices.Equal(got, []int64{ta.ID}) {
		t.Errorf("page: %v total %d", got, total)
	}
}

// Subtasks reporting at once must not lose each other's share of the
// parent's progress.
func TestConcurrentReportsRollUp(t *testing.T) {
	e := newEnv(t)
	parent := e.inProgress(e.newTask("总任务"))
	const n = 6
	var kids []*supervise.Task
	for i := range n {
		in := e.newTask("子任务 " + strconv.Itoa(i))
		in.ParentID = parent.ID
		kids = append(kids, e.inProgress(in))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, k := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			p := 10 * (i + 1)
			if _, err := e.svc.Report(e.ctx, e.liaison(e.unitA), k.ID, supervise.NewReport{Percent: &p, Text: "进展"}); err != nil {
				t.Errorf("report %d: %v", k.ID, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	// (10+20+…+60) / 6 = 35
	if got := e.task(parent.ID).Progress; got != 35 {
		t.Fatalf("parent %d%%, want 35", got)
	}
}

func TestKeyProjectAndAttachedEvidence(t *testing.T) {
	e := newEnv(t)
	in := e.newTask("重点项目：智慧城市一期")
	in.Source, in.PlannedInvestment, in.Stage, in.Location = supervise.SourceProject, ptr(int64(50_000_000)), supervise.StagePreliminary, "新区"
	task := e.inProgress(in)
	lia := e.liaison(e.unitA)
	if _, err := e.svc.Report(e.ctx, lia, task.ID, supervise.NewReport{Percent: ptr(100), Text: "本月完成投资", CompletedInvestment: ptr(int64(12_500_000))}); err != nil {
		t.Fatal(err)
	}
	if got := e.task(task.ID); got.CompletedInvestment == nil || *got.CompletedInvestment != 12_500_000 {
		t.Fatalf("completed investment %v", got.CompletedInvestment)
	}
	if st, ok := supervise.ParseStage("在建"); !ok || st != supervise.StageConstruction {
		t.Fatalf("ParseStage(在建) = %q %v", st, ok)
	}

	// Files attached to the task count as evidence.
	if err := e.d.InTx(e.ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(e.ctx, `INSERT INTO task_attachments (task_id, name, content_type, size, sha256, path, uploaded_at) VALUES (?, 'a.pdf', 'application/pdf', 10, 'x', 'p', ?)`,
			task.ID, time.Now().UTC())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Transition(e.ctx, lia, task.ID, supervise.TransitionRequest{Action: supervise.ActionSubmit})
	if err != nil || got.State != supervise.StateSubmitted {
		t.Fatalf("submit with an attachment: %v", err)
	}
}
