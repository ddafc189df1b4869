package supervise_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/biaogan/biaogan/internal/supervise"
)

type lookBackList struct {
	Items []supervise.LookBack `json:"items"`
	Total int                  `json:"total"`
}

// signedOff brings a new task of unit A to signed off, today.
func (r *remindEnv) signedOff(title string) *supervise.Task {
	r.t.Helper()
	task := r.inProgress(r.newTask(title))
	r.report(task, 100)
	r.transition(r.liaison(r.unitA), task.ID, supervise.ActionSubmit, "")
	return r.transition(r.supervisor(), task.ID, supervise.ActionSignOff, "")
}

func (r *remindEnv) lookBacks(query string) lookBackList {
	r.t.Helper()
	var l lookBackList
	if st := r.call("GET", "/api/v1/lookbacks"+query, "sup", nil, &l); st != 200 {
		r.t.Fatalf("GET /api/v1/lookbacks%s: %d", query, st)
	}
	return l
}

func (r *remindEnv) eventKinds(taskID int64) []string {
	r.t.Helper()
	d, err := r.svc.Detail(r.ctx, taskID, "zh-CN")
	if err != nil {
		r.t.Fatal(err)
	}
	var kinds []string
	for _, ev := range d.Events {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

func TestLookBackScheduledAtSignOffThenPassed(t *testing.T) {
	r := newRemindEnv(t)
	task := r.signedOff("规范公文处理") // signed off on Tuesday 10 March 2026
	all := r.lookBacks(fmt.Sprintf("?task=%d", task.ID))
	// 20 working days later, over the Qingming holiday (4–6 April).
	if all.Total != 1 || all.Items[0].State != supervise.LookBackPending || all.Items[0].Due.String() != "2026-04-08" ||
		all.Items[0].Workdays != 20 || all.Items[0].SignedOffOn.String() != "2026-03-10" ||
		all.Items[0].ReviewerID == nil || *all.Items[0].ReviewerID != r.users["sup"].ID || all.Items[0].ReviewerName != "sup" {
		t.Fatalf("look-back after sign-off: %+v", all)
	}
	lb := all.Items[0]
	if due := r.lookBacks("?due=1"); due.Total != 0 {
		t.Fatalf("%d look-backs due before their day", due.Total)
	}
	s := r.scheduler(r.d)
	r.clock.SetDate("2026-04-07")
	r.runOnce(s, "lookback")
	if n := len(r.inboxOf("sup", supervise.NoticeKindLookBack)); n != 0 {
		t.Fatalf("reviewer told %d times before the day", n)
	}
	r.clock.SetDate("2026-04-08")
	r.runOnce(s, "lookback")
	r.runOnce(r.scheduler(r.d), "lookback")
	items := r.inboxOf("sup", supervise.NoticeKindLookBack)
	if len(items) != 1 || items[0].Title != "回头看到期："+task.Title || !strings.Contains(items[0].Body, "2026-04-08") {
		t.Fatalf("reviewer's inbox: %+v", items)
	}
	if due := r.lookBacks("?due=1"); due.Total != 1 || due.Items[0].ID != lb.ID || due.Items[0].NotifiedAt == nil {
		t.Fatalf("due look-backs: %+v", due)
	}

	var got supervise.LookBack
	if st := r.call("POST", fmt.Sprintf("/api/v1/lookbacks/%d/result", lb.ID), "sup", map[string]string{"result": "pass", "findings": "制度执行到位"}, &got); st != 200 ||
		got.State != supervise.LookBackPassed || got.DecidedByName != "sup" || got.DecidedAt == nil || got.Findings != "制度执行到位" {
		t.Fatalf("pass: %d %+v", st, got)
	}
	if task = r.task(task.ID); task.State != supervise.StateSignedOff {
		t.Fatalf("a passed look-back changed the task: %s", task.State)
	}
	for _, u := range []string{"lia_a", "head_a"} {
		if items := r.inboxOf(u, supervise.NoticeKindLookBack); len(items) != 1 || !strings.HasPrefix(items[0].Title, "回头看通过") {
			t.Fatalf("%s: %+v", u, items)
		}
	}
	if kinds := r.eventKinds(task.ID); !slices.Equal(kinds[len(kinds)-2:], []string{"sign_off", supervise.EventLookBackPass}) {
		t.Fatalf("timeline %v", kinds)
	}
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/lookbacks/%d/result", lb.ID), "sup", map[string]string{"result": "fail", "findings": "x", "new_due": "2026-05-01"}),
		409, "lookback_decided", "")
	if due := r.lookBacks("?due=1"); due.Total != 0 {
		t.Fatalf("a decided look-back is still due: %+v", due)
	}
	if passed := r.lookBacks("?state=passed"); passed.Total != 1 {
		t.Fatalf("passed: %+v", passed)
	}
}

func TestLookBackFailReopensWithNewDue(t *testing.T) {
	r := newRemindEnv(t)
	task := r.inProgress(r.newTask("整改会风文风"))
	sup := r.users["sup"].ID
	// The task's own plan: 5 working days, reviewed by sup.
	var plan supervise.LookBackPlanView
	if st := r.call("PUT", fmt.Sprintf("/api/v1/tasks/%d/lookback", task.ID), "sup", map[string]any{"workdays": 5, "reviewer_id": sup}, &plan); st != 200 ||
		plan.Workdays != 5 || plan.ReviewerID == nil || *plan.ReviewerID != sup || plan.Pending != nil {
		t.Fatalf("plan: %d %+v", st, plan)
	}
	r.wantError(r.request("PUT", fmt.Sprintf("/api/v1/tasks/%d/lookback", task.ID), "sup", map[string]any{"workdays": 300}), 422, "invalid_workdays", "workdays")
	r.wantError(r.request("PUT", fmt.Sprintf("/api/v1/tasks/%d/lookback", task.ID), "sup", map[string]any{"reviewer_id": r.users["lia_a"].ID}), 422, "invalid_reviewer_id", "reviewer_id")
	r.wantError(r.request("PUT", fmt.Sprintf("/api/v1/tasks/%d/lookback", task.ID), "head_a", map[string]any{"workdays": 3}), 403, "permission_denied", "")
	r.wantError(r.request("PUT", "/api/v1/tasks/999999/lookback", "sup", map[string]any{"workdays": 3}), 404, "task_not_found", "")

	r.report(task, 100)
	r.transition(r.liaison(r.unitA), task.ID, supervise.ActionSubmit, "")
	r.transition(supervise.SystemActor("import"), task.ID, supervise.ActionSignOff, "")
	lbs := r.lookBacks(fmt.Sprintf("?task=%d", task.ID))
	if lbs.Total != 1 || lbs.Items[0].Due.String() != "2026-03-17" || *lbs.Items[0].ReviewerID != sup {
		t.Fatalf("look-back: %+v", lbs)
	}
	lb := lbs.Items[0]
	path := fmt.Sprintf("/api/v1/lookbacks/%d/result", lb.ID)

	// Refusals name the field and change nothing.
	for _, c := range []struct {
		body        map[string]string
		code, field string
	}{
		{map[string]string{"result": "fail", "new_due": "2026-04-30"}, "invalid_findings", "findings"},
		{map[string]string{"result": "fail", "findings": "台账不全"}, "invalid_new_due", "new_due"},
		{map[string]string{"result": "fail", "findings": "台账不全", "new_due": "2026-03-09"}, "invalid_new_due", "new_due"},
		{map[string]string{"result": "fail", "findings": "台账不全", "new_due": "2026/04/30"}, "invalid_new_due", "new_due"},
		{map[string]string{"result": "pass", "new_due": "2026-04-30"}, "invalid_new_due", "new_due"},
		{map[string]string{"result": "maybe"}, "invalid_result", "result"},
	} {
		r.wantError(r.request("POST", path, "sup", c.body), 422, c.code, c.field)
	}
	r.wantError(r.request("POST", path, "lia_a", map[string]string{"result": "pass"}), 403, "permission_denied", "")
	r.wantError(r.request("POST", path, "sup", map[string]string{"result": "pass", "reason": "x"}), 400, "unknown_field", "reason")
	r.wantError(r.request("POST", "/api/v1/lookbacks/999999/result", "sup", map[string]string{"result": "pass"}), 404, "lookback_not_found", "")
	if l := r.lookBacks(fmt.Sprintf("?task=%d", task.ID)); l.Items[0].State != supervise.LookBackPending || r.task(task.ID).State != supervise.StateSignedOff {
		t.Fatal("a refused result changed something")
	}

	r.clock.SetDate("2026-03-17")
	var got supervise.LookBack
	if st := r.call("POST", path, "sup", map[string]string{"result": "fail", "findings": "台账不全，整改未闭环", "new_due": "2026-04-30"}, &got); st != 200 ||
		got.State != supervise.LookBackFailed || got.NewDue.String() != "2026-04-30" || got.Findings != "台账不全，整改未闭环" {
		t.Fatalf("fail: %d %+v", st, got)
	}
	task = r.task(task.ID)
	if task.State != supervise.StateInProgress || task.Due.String() != "2026-04-30" || task.SignedOffAt != nil {
		t.Fatalf("reopened task: %s due %s", task.State, task.Due)
	}
	kinds := r.eventKinds(task.ID)
	if !slices.Equal(kinds[len(kinds)-2:], []string{supervise.EventLookBackFail, string(supervise.ActionReopen)}) {
		t.Fatalf("timeline %v", kinds)
	}
	d, _ := r.svc.Detail(r.ctx, task.ID, "zh-CN")
	if last := d.Events[len(d.Events)-1]; !strings.Contains(last.Note, "回头看未通过") || last.Actor != "sup" {
		t.Fatalf("reopen event %+v", last)
	}
	if items := r.inboxOf("head_a", supervise.NoticeKindLookBack); len(items) != 1 || !strings.Contains(items[0].Body, "2026-04-30") {
		t.Fatalf("lead unit not told: %+v", items)
	}
	// Reminders start over for the new due date.
	r.clock.SetDate("2026-04-27")
	r.runOnce(r.scheduler(r.d), "remind")
	if got := r.keys(task.ID, "auto"); !slices.Equal(got, []string{"before-3"}) {
		t.Fatalf("reminders after reopening: %v", got)
	}
	// Signed off again: a new look-back; the failed one stays as it was.
	r.report(task, 100)
	r.transition(r.liaison(r.unitA), task.ID, supervise.ActionSubmit, "")
	r.transition(r.supervisor(), task.ID, supervise.ActionSignOff, "")
	lbs = r.lookBacks(fmt.Sprintf("?task=%d", task.ID))
	if lbs.Total != 2 || lbs.Items[0].State != supervise.LookBackFailed || lbs.Items[1].State != supervise.LookBackPending || lbs.Items[1].Due.String() != "2026-05-07" {
		t.Fatalf("look-backs after the second sign-off: %+v", lbs)
	}
}

func TestLookBackAfterManualReopenAndWithoutReviewer(t *testing.T) {
	r := newRemindEnv(t)
	task := r.inProgress(r.newTask("无人回头看"))
	r.report(task, 100)
	r.transition(r.liaison(r.unitA), task.ID, supervise.ActionSubmit, "")
	r.transition(supervise.SystemActor("import"), task.ID, supervise.ActionSignOff, "")
	first := r.lookBacks(fmt.Sprintf("?task=%d", task.ID)).Items[0]
	if first.ReviewerID != nil {
		t.Fatalf("a system sign-off named reviewer %v", *first.ReviewerID)
	}
	// A plan set afterwards moves the pending look-back.
	var plan supervise.LookBackPlanView
	if st := r.call("PUT", fmt.Sprintf("/api/v1/tasks/%d/lookback", task.ID), "sup", map[string]any{"workdays": 3}, &plan); st != 200 ||
		plan.Pending == nil || plan.Pending.Due.String() != "2026-03-13" || plan.Pending.ReviewerID != nil {
		t.Fatalf("plan: %d %+v", st, plan)
	}
	// Due with no reviewer: every supervisor is told.
	other := r.addAccount("sup2", "督查员二", "supervisor", r.office)
	r.clock.SetDate("2026-03-13")
	r.runOnce(r.scheduler(r.d), "lookback")
	for _, id := range []int64{r.users["sup"].ID, other} {
		if n, _ := r.inbox.Unread(r.ctx, id); n != 1 {
			t.Fatalf("supervisor %d told %d times", id, n)
		}
	}
	// Reopened by hand: the look-back cannot be decided any more…
	r.transition(r.supervisor(), task.ID, supervise.ActionReopen, "材料需补充")
	r.wantError(r.request("POST", fmt.Sprintf("/api/v1/lookbacks/%d/result", first.ID), "sup", map[string]string{"result": "pass"}), 409, "task_not_signed_off", "")
	if due := r.lookBacks("?due=1"); due.Total != 0 {
		t.Fatalf("the look-back of a reopened task is listed as due: %+v", due)
	}
	// …and the next sign-off supersedes it.
	r.transition(r.liaison(r.unitA), task.ID, supervise.ActionSubmit, "")
	r.transition(r.supervisor(), task.ID, supervise.ActionSignOff, "")
	lbs := r.lookBacks(fmt.Sprintf("?task=%d", task.ID))
	if lbs.Total != 2 || lbs.Items[0].State != supervise.LookBackSuperseded || lbs.Items[1].State != supervise.LookBackPending || lbs.Items[1].Workdays != 3 {
		t.Fatalf("after the second sign-off: %+v", lbs)
	}
	if st := r.call("GET", "/api/v1/lookbacks?state=open", "sup", nil, nil); st != 422 {
		t.Fatalf("bad state filter: %d", st)
	}
	if st := r.call("GET", "/api/v1/lookbacks?due=yes", "sup", nil, nil); st != 422 {
		t.Fatalf("bad due filter: %d", st)
	}
}
