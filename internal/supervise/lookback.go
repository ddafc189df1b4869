package supervise

// Look-back (回头看): some working days after a task is signed off (20 by
// default, per task), a reviewer — a supervisor — checks that the result
// holds. Passing closes the look-back; failing records the findings and
// reopens the task with a new due date through the lifecycle's own reopen
// transition. The sign-off transition schedules the look-back
// (scheduleLookBack); the scheduler's LookBackPass tells the reviewer when
// it falls due.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// DefaultLookBackWorkdays is how many working days after sign-off a
// look-back falls due unless the task sets its own.
const DefaultLookBackWorkdays = 20

// MaxLookBackWorkdays bounds a task's own look-back delay (about a year).
const MaxLookBackWorkdays = 250

// LookBackState is where a look-back stands.
type LookBackState string

const (
	LookBackPending LookBackState = "pending"
	LookBackPassed  LookBackState = "passed"
	LookBackFailed  LookBackState = "failed"
	// LookBackSuperseded: the task was signed off again before this one
	// was done; the newer look-back counts.
	LookBackSuperseded LookBackState = "superseded"
)

// Valid reports whether st is a known state.
func (st LookBackState) Valid() bool {
	switch st {
	case LookBackPending, LookBackPassed, LookBackFailed, LookBackSuperseded:
		return true
	}
	return false
}

// LookBack is one review of a signed-off task (回头看).
type LookBack struct {
	ID            int64         `json:"id"`
	TaskID        int64         `json:"task_id"`
	TaskTitle     string        `json:"task_title"`
	TaskState     State         `json:"task_state"`
	LeadUnitID    int64         `json:"lead_unit_id"`
	SignedOffOn   workday.Date  `json:"signed_off_on"`
	Workdays      int           `json:"workdays"`
	Due           workday.Date  `json:"due"`
	ReviewerID    *int64        `json:"reviewer_id"`
	ReviewerName  string        `json:"reviewer_name"`
	State         LookBackState `json:"state"`
	Findings      string        `json:"findings"`
	NewDue        workday.Date  `json:"new_due"`
	NotifiedAt    *time.Time    `json:"notified_at"`
	DecidedBy     *int64        `json:"decided_by"`
	DecidedByName string        `json:"decided_by_name"`
	DecidedAt     *time.Time    `json:"decided_at"`
	CreatedAt     time.Time     `json:"created_at"`
}

const lookBackCols = `l.id, l.task_id, t.title, t.state, t.lead_unit_id, l.signed_off_on, l.workdays, l.due_on, l.reviewer_id,
	COALESCE(NULLIF(u.display_name, ''), u.username, ''), l.state, l.findings, l.new_due_on, l.notified_at, l.decided_by, l.decided_by_name,
	l.decided_at, l.created_at`

const lookBackFrom = ` FROM task_lookbacks l JOIN tasks t ON t.id = l.task_id LEFT JOIN users u ON u.id = l.reviewer_id`

func scanLookBack(row scanner) (*LookBack, error) {
	var l LookBack
	var reviewer, decidedBy sql.NullInt64
	var notified, decided sql.NullTime
	if err := row.Scan(&l.ID, &l.TaskID, &l.TaskTitle, &l.TaskState, &l.LeadUnitID, &l.SignedOffOn, &l.Workdays, &l.Due, &reviewer,
		&l.ReviewerName, &l.State, &l.Findings, &l.NewDue, &notified, &decidedBy, &l.DecidedByName, &decided, &l.CreatedAt); err != nil {
		return nil, err
	}
	l.ReviewerID, l.DecidedBy = ptrInt64(reviewer), ptrInt64(decidedBy)
	l.NotifiedAt, l.DecidedAt = ptrTime(notified), ptrTime(decided)
	l.CreatedAt = l.CreatedAt.UTC()
	return &l, nil
}

func errLookBackNotFound(id int64) *apperr.Error {
	return apperr.NotFound("lookback_not_found", fmt.Sprintf("回头看 %d 不存在 / look-back %d not found", id, id))
}

func loadLookBack(ctx context.Context, q db.Querier, id int64) (*LookBack, error) {
	l, err := scanLookBack(q.QueryRowContext(ctx, `SELECT `+lookBackCols+lookBackFrom+` WHERE l.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errLookBackNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: load look-back %d: %w", id, err)
	}
	return l, nil
}

// lookBackPlan reads a task's own look-back delay and reviewer.
func lookBackPlan(ctx context.Context, q db.Querier, taskID int64) (workdays int, reviewer *int64, err error) {
	var wd, rv sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT lookback_workdays, lookback_reviewer_id FROM tasks WHERE id = ?`, taskID).Scan(&wd, &rv); err != nil {
		return 0, nil, fmt.Errorf("supervise: read look-back plan of task %d: %w", taskID, err)
	}
	workdays = DefaultLookBackWorkdays
	if wd.Valid && wd.Int64 > 0 {
		workdays = int(wd.Int64)
	}
	return workdays, ptrInt64(rv), nil
}

// scheduleLookBack plans the look-back of a task being signed off on today,
// inside the sign-off transaction: due the task's look-back delay in
// working days later, reviewed by the task's reviewer or else the supervisor
// signing off. An older pending look-back of the task is superseded.
func (s *Service) scheduleLookBack(ctx context.Context, tx *db.Tx, a Actor, t *Task, today workday.Date) error {
	workdays, reviewer, err := lookBackPlan(ctx, tx, t.ID)
	if err != nil {
		return err
	}
	if reviewer == nil {
		reviewer = a.id()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE task_lookbacks SET state = 'superseded' WHERE task_id = ? AND state = 'pending'`, t.ID); err != nil {
		return fmt.Errorf("supervise: supersede look-backs of task %d: %w", t.ID, err)
	}
	// No timeline entry of its own: the sign-off is the event; the
	// look-back shows in GET /api/v1/lookbacks?task=.
	due := s.Cal.AddWorkdays(today, workdays)
	if _, err := tx.ExecContext(ctx, `INSERT INTO task_lookbacks (task_id, signed_off_on, workdays, due_on, reviewer_id, state, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`, t.ID, today, workdays, due, nullPtr(reviewer), nullPtr(a.id()), s.stamp()); err != nil {
		return fmt.Errorf("supervise: schedule look-back of task %d: %w", t.ID, err)
	}
	return nil
}

// LookBackFilter narrows the look-back list.
type LookBackFilter struct {
	// Due lists the pending look-backs due by today whose task is still
	// signed off: the reviewers' work list.
	Due        bool
	State      LookBackState
	TaskID     int64
	ReviewerID int64
	Limit      int
	Offset     int
}

// LookBacks lists look-backs by due date and the total matching.
func (s *Service) LookBacks(ctx context.Context, f LookBackFilter) ([]LookBack, int, error) {
	var where []string
	var args []any
	if f.Due {
		where, args = append(where, "l.state = 'pending' AND l.due_on <= ? AND t.state = 'signed_off'"), append(args, s.Today())
	}
	if f.State != "" {
		where, args = append(where, "l.state = ?"), append(args, string(f.State))
	}
	if f.TaskID != 0 {
		where, args = append(where, "l.task_id = ?"), append(args, f.TaskID)
	}
	if f.ReviewerID != 0 {
		where, args = append(where, "l.reviewer_id = ?"), append(args, f.ReviewerID)
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var total int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*)`+lookBackFrom+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("supervise: count look-backs: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT `+lookBackCols+lookBackFrom+w+` ORDER BY l.due_on, l.id LIMIT ? OFFSET ?`, append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("supervise: list look-backs: %w", err)
	}
	defer rows.Close()
	out := []LookBack{}
	for rows.Next() {
		l, err := scanLookBack(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("supervise: scan look-back: %w", err)
		}
		out = append(out, *l)
	}
	return out, total, rows.Err()
}

// LookBack returns one look-back.
func (s *Service) LookBack(ctx context.Context, id int64) (*LookBack, error) {
	return loadLookBack(ctx, s.DB, id)
}

// LookBackResult is a reviewer's verdict.
type LookBackResult struct {
	Pass bool
	// Findings are required when failing.
	Findings string
	// NewDue is the reopened task's due date, required when failing.
	NewDue workday.Date
}

// RecordLookBack records a look-back's result (a supervisor's call).
// Failing reopens the task with the new due date through the reopen
// transition; the lead unit is told either way.
func (s *Service) RecordLookBack(ctx context.Context, a Actor, id int64, in LookBackResult) (*LookBack, error) {
	if !a.supervises() {
		return nil, errSupervisorOnly
	}
	in.Findings = strings.TrimSpace(in.Findings)
	today := s.Today()
	switch {
	case tooLong(in.Findings, maxText):
		return nil, invalid("findings", "发现的问题过长", "findings is too long")
	case in.Pass && !in.NewDue.IsZero():
		return nil, invalid("new_due", "通过时不需要新的完成时限", "a passed look-back takes no new_due")
	case !in.Pass && in.Findings == "":
		return nil, invalid("findings", "未通过须写明发现的问题", "a failed look-back needs its findings")
	case !in.Pass && in.NewDue.IsZero():
		return nil, invalid("new_due", "未通过须给出新的完成时限", "a failed look-back needs new_due, the reopened task's due date")
	case !in.Pass && in.NewDue.Before(today):
		return nil, invalid("new_due", fmt.Sprintf("新的完成时限 %s 早于今天", in.NewDue), fmt.Sprintf("new_due %s is in the past", in.NewDue))
	}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		l, err := loadLookBack(ctx, tx, id)
		if err != nil {
			return err
		}
		t, err := loadTask(ctx, tx, l.TaskID, true)
		if err != nil {
			return err
		}
		state, kind := LookBackPassed, EventLookBackPass
		if !in.Pass {
			state, kind = LookBackFailed, EventLookBackFail
		}
		// Only a pending look-back is decided, and only once.
		res, err := tx.ExecContext(ctx, `UPDATE task_lookbacks SET state = ?, findings = ?, new_due_on = ?, decided_by = ?, decided_by_name = ?, decided_at = ?
			WHERE id = ? AND state = 'pending'`, string(state), in.Findings, in.NewDue, nullPtr(a.id()), a.Username, s.stamp(), l.ID)
		if err != nil {
			return fmt.Errorf("supervise: record look-back %d: %w", l.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("lookback_decided", "该回头看已有结果", "the look-back already has a result", map[string]any{"state": l.State})
		}
		if t.State != StateSignedOff {
			return conflict("task_not_signed_off", fmt.Sprintf("任务处于“%s”状态，不是已销号", t.State.Text().ZH),
				fmt.Sprintf("the task is %s, not signed off", t.State), map[string]any{"state": t.State})
		}
		people, err := loadUnitPeople(ctx, tx, []int64{t.LeadUnitID})
		if err != nil {
			return err
		}
		n := Notice{To: people[t.LeadUnitID].all(), Kind: NoticeKindLookBack, Link: taskLink(t.ID), Subject: taskSubject(t.ID)}
		detail := fmt.Sprintf("look-back %d %s", l.ID, state)
		if in.Pass {
			n.Title = deadline.Text{ZH: "回头看通过：" + t.Title, EN: "Look-back passed: " + t.Title}
			n.Body = deadline.Text{ZH: "经回头看，任务办理成效巩固，予以确认。", EN: "The look-back confirmed the result holds."}
			if in.Findings != "" {
				n.Body = deadline.Text{ZH: n.Body.ZH + in.Findings, EN: n.Body.EN + " " + in.Findings}
			}
		} else {
			n.Title = deadline.Text{ZH: "回头看未通过，任务重新办理：" + t.Title, EN: "Look-back failed, task reopened: " + t.Title}
			n.Body = deadline.Text{ZH: "发现问题：" + in.Findings + "。新的完成时限 " + in.NewDue.String() + "。",
				EN: "Findings: " + in.Findings + ". New due date " + in.NewDue.String() + "."}
			detail += ", new due " + in.NewDue.String()
		}
		if len(n.To) > 0 {
			if err := s.notify(ctx, tx, n); err != nil {
				return err
			}
		}
		if err := s.event(ctx, tx, a, t.ID, kind, "", "", in.Findings, detail); err != nil {
			return err
		}
		if !in.Pass {
			// The lifecycle's reopen: state, due date, lights, roll-up,
			// timeline and audit record, as a supervisor's reopen.
			if _, err := s.transition(ctx, tx, a, t.ID, TransitionRequest{Action: ActionReopen, Reason: "回头看未通过：" + in.Findings, Due: in.NewDue}); err != nil {
				return err
			}
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("task.lookback."+string(state), t.ID, detail))
	})
	if err != nil {
		return nil, err
	}
	return s.LookBack(ctx, id)
}

// LookBackPlanRequest sets a task's look-back delay and reviewer.
type LookBackPlanRequest struct {
	// Workdays after sign-off (1–250); 0 keeps the default of 20.
	Workdays int
	// ReviewerID is a supervisor's account; 0 means whoever signs off.
	ReviewerID int64
}

// LookBackPlanView is a task's look-back plan and its pending look-back.
type LookBackPlanView struct {
	TaskID     int64     `json:"task_id"`
	Workdays   int       `json:"workdays"`
	ReviewerID *int64    `json:"reviewer_id"`
	Pending    *LookBack `json:"pending"`
}

// PlanLookBack sets a task's look-back delay and reviewer (a supervisor's
// call). A pending look-back of the task moves with it.
func (s *Service) PlanLookBack(ctx context.Context, a Actor, taskID int64, p LookBackPlanRequest) (*LookBackPlanView, error) {
	if !a.supervises() {
		return nil, errSupervisorOnly
	}
	if p.Workdays < 0 || p.Workdays > MaxLookBackWorkdays {
		return nil, invalid("workdays", fmt.Sprintf("回头看时间须为销号后 1–%d 个工作日", MaxLookBackWorkdays),
			fmt.Sprintf("workdays must be 1–%d", MaxLookBackWorkdays))
	}
	if p.ReviewerID < 0 {
		return nil, invalid("reviewer_id", "回头看人员无效", "reviewer_id is invalid")
	}
	view := &LookBackPlanView{TaskID: taskID}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		t, err := loadTask(ctx, tx, taskID, true)
		if err != nil {
			return err
		}
		if p.ReviewerID != 0 {
			sups, err := loadRoleAccounts(ctx, tx, auth.RoleSupervisor)
			if err != nil {
				return err
			}
			found := false
			for _, id := range sups {
				found = found || id == p.ReviewerID
			}
			if !found {
				return invalid("reviewer_id", fmt.Sprintf("账号 %d 不是在用的督查员", p.ReviewerID), fmt.Sprintf("account %d is not an enabled supervisor", p.ReviewerID))
			}
		}
		wd, rv := any(nil), any(nil)
		if p.Workdays > 0 {
			wd = p.Workdays
		}
		if p.ReviewerID > 0 {
			rv = p.ReviewerID
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET lookback_workdays = ?, lookback_reviewer_id = ? WHERE id = ?`, wd, rv, t.ID); err != nil {
			return fmt.Errorf("supervise: store look-back plan of task %d: %w", t.ID, err)
		}
		workdays, reviewer, err := lookBackPlan(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		view.Workdays, view.ReviewerID = workdays, reviewer
		detail := fmt.Sprintf("look-back plan: %d working days after sign-off", workdays)
		if reviewer != nil {
			detail += fmt.Sprintf(", reviewer %d", *reviewer)
		}
		// The pending look-back, if any, follows the new plan.
		var pid int64
		var signedOff workday.Date
		err = tx.QueryRowContext(ctx, `SELECT id, signed_off_on FROM task_lookbacks WHERE task_id = ? AND state = 'pending'`, t.ID).Scan(&pid, &signedOff)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("supervise: find pending look-back: %w", err)
		default:
			due := s.Cal.AddWorkdays(signedOff, workdays)
			q := `UPDATE task_lookbacks SET workdays = ?, due_on = ?, notified_at = CASE WHEN due_on = ? THEN notified_at ELSE NULL END`
			args := []any{workdays, due, due}
			if reviewer != nil {
				q += `, reviewer_id = ?`
				args = append(args, *reviewer)
			}
			if _, err := tx.ExecContext(ctx, q+` WHERE id = ?`, append(args, pid)...); err != nil {
				return fmt.Errorf("supervise: move look-back %d: %w", pid, err)
			}
			detail += fmt.Sprintf("; look-back %d due %s", pid, due)
		}
		if err := s.event(ctx, tx, a, t.ID, EventLookBackPlan, "", "", "", detail); err != nil {
			return err
		}
		if err := s.Audit.WriteTx(ctx, tx, a.entry("task.lookback.plan", t.ID, detail)); err != nil {
			return err
		}
		if pid != 0 {
			if view.Pending, err = loadLookBack(ctx, tx, pid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// LookBackPass tells each reviewer, inside tx, of the look-backs that fell
// due (once each) and returns how many it announced. A look-back without a
// reviewer goes to every supervisor.
func (s *Service) LookBackPass(ctx context.Context, tx *db.Tx) (int, error) {
	today := s.Today()
	q := `SELECT l.id, l.task_id, l.reviewer_id, l.due_on, l.signed_off_on, t.title FROM task_lookbacks l JOIN tasks t ON t.id = l.task_id
		WHERE l.state = 'pending' AND l.notified_at IS NULL AND l.due_on <= ? ORDER BY l.id`
	if tx.D() == db.Postgres {
		q += ` FOR UPDATE OF l SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, q, today)
	if err != nil {
		return 0, fmt.Errorf("supervise: find due look-backs: %w", err)
	}
	type due struct {
		id, task  int64
		reviewer  sql.NullInt64
		on, since workday.Date
		title     string
	}
	var ds []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.task, &d.reviewer, &d.on, &d.since, &d.title); err != nil {
			rows.Close()
			return 0, fmt.Errorf("supervise: scan look-back: %w", err)
		}
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ds) == 0 {
		return 0, err
	}
	var sups []int64
	ns := make([]Notice, 0, len(ds))
	ids := make([]int64, 0, len(ds))
	for _, d := range ds {
		to := []int64{d.reviewer.Int64}
		if !d.reviewer.Valid {
			if sups == nil {
				if sups, err = loadRoleAccounts(ctx, tx, auth.RoleSupervisor); err != nil {
					return 0, err
				}
			}
			to = sups
		}
		ids = append(ids, d.id)
		ns = append(ns, Notice{To: to, Kind: NoticeKindLookBack, Link: taskLink(d.task), Subject: taskSubject(d.task),
			Title: deadline.Text{ZH: "回头看到期：" + d.title, EN: "Look-back due: " + d.title},
			Body: deadline.Text{ZH: fmt.Sprintf("任务于 %s 销号，回头看于 %s 到期，请核查成效并登记结果。", d.since, d.on),
				EN: fmt.Sprintf("The task was signed off on %s; its look-back is due %s. Please check the result holds and record it.", d.since, d.on)}})
	}
	if err := s.notify(ctx, tx, ns...); err != nil {
		return 0, err
	}
	now := s.stamp()
	err = batchesOf(ids, 1, func(is []int64) error {
		args := []any{now}
		for _, id := range is {
			args = append(args, id)
		}
		_, err := tx.ExecContext(ctx, `UPDATE task_lookbacks SET notified_at = ? WHERE id IN (`+placeholders(len(is))+`)`, args...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("supervise: mark look-backs announced: %w", err)
	}
	return len(ds), nil
}

// HTTP.

func (s *Service) apiLookBacks(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := LookBackFilter{Limit: limit, Offset: offset}
	switch q.Get("due") {
	case "", "0", "false":
	case "1", "true":
		f.Due = true
	default:
		return invalid("due", "due 须为 1 或 0", "due must be 1 or 0")
	}
	if v := q.Get("state"); v != "" {
		f.State = LookBackState(v)
		if !f.State.Valid() {
			return invalid("state", "state 须为 pending、passed、failed 或 superseded", "state must be pending, passed, failed or superseded")
		}
	}
	if f.TaskID, err = queryPositiveID(r, "task"); err != nil {
		return err
	}
	if f.ReviewerID, err = queryPositiveID(r, "reviewer"); err != nil {
		return err
	}
	ls, total, err := s.LookBacks(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteList(w, ls, total)
}

type lookBackResultRequest struct {
	Result   string `json:"result"`
	Findings string `json:"findings"`
	NewDue   string `json:"new_due"`
}

func (s *Service) apiLookBackResult(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req lookBackResultRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	in := LookBackResult{Findings: req.Findings}
	switch strings.TrimSpace(req.Result) {
	case "pass":
		in.Pass = true
	case "fail":
	default:
		return invalid("result", "result 须为 pass 或 fail", "result must be pass or fail")
	}
	if in.NewDue, err = parseDate("new_due", req.NewDue); err != nil {
		return err
	}
	l, err := s.RecordLookBack(r.Context(), actor(r), id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, l)
}

type lookBackPlanRequest struct {
	Workdays   int   `json:"workdays"`
	ReviewerID int64 `json:"reviewer_id"`
}

func (s *Service) apiLookBackPlan(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req lookBackPlanRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	v, err := s.PlanLookBack(r.Context(), actor(r), id, LookBackPlanRequest(req))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, v)
}
