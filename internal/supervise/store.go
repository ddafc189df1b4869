package supervise

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/workday"
)

const taskCols = `id, parent_id, source, instruction_id, area, title, description, acceptance, lead_unit_id, owner_id,
	priority, cadence, weight, start_on, due_on, due_workdays, baseline_due_on, state, version, progress, evidence,
	assigned_on, accepted_at, submitted_at, signed_off_at, signed_off_on, cancelled_at, last_report_on,
	planned_investment, completed_investment, stage, location,
	light, light_code, light_reason_zh, light_reason_en, overdue_workdays, light_on, created_by, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func ptrInt64(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func ptrTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	v := n.Time.UTC()
	return &v
}

func scanTask(row scanner) (*Task, error) {
	var t Task
	var parent, instr, dueWD, planned, completed, createdBy sql.NullInt64
	var accepted, submitted, signedOff, cancelled sql.NullTime
	err := row.Scan(&t.ID, &parent, &t.Source, &instr, &t.Area, &t.Title, &t.Description, &t.Acceptance, &t.LeadUnitID, &t.OwnerID,
		&t.Priority, &t.Cadence, &t.Weight, &t.Start, &t.Due, &dueWD, &t.BaselineDue, &t.State, &t.Version, &t.Progress, &t.Evidence,
		&t.AssignedOn, &accepted, &submitted, &signedOff, &t.SignedOffOn, &cancelled, &t.LastReportOn,
		&planned, &completed, &t.Stage, &t.Location,
		&t.Light, &t.LightCode, &t.LightText.ZH, &t.LightText.EN, &t.OverdueWorkdays, &t.LightOn, &createdBy, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return nil, err
	}
	t.ParentID, t.InstructionID, t.CreatedBy = ptrInt64(parent), ptrInt64(instr), ptrInt64(createdBy)
	t.PlannedInvestment, t.CompletedInvestment = ptrInt64(planned), ptrInt64(completed)
	t.DueWorkdays = int(dueWD.Int64)
	t.AcceptedAt, t.SubmittedAt, t.SignedOffAt, t.CancelledAt = ptrTime(accepted), ptrTime(submitted), ptrTime(signedOff), ptrTime(cancelled)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	t.CoUnitIDs = []int64{}
	return &t, nil
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullPtr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// loadTask reads one task with its milestones. With lock set, inside a
// transaction, it holds the row until commit (SELECT … FOR UPDATE on
// PostgreSQL; SQLite has one writer, which the transaction already holds).
func loadTask(ctx context.Context, q db.Querier, id int64, lock bool) (*Task, error) {
	query := `SELECT ` + taskCols + ` FROM tasks WHERE id = ?`
	if lock && q.D() == db.Postgres {
		query += ` FOR UPDATE`
	}
	t, err := scanTask(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTaskNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: load task %d: %w", id, err)
	}
	ms, err := loadMilestones(ctx, q, id)
	if err != nil {
		return nil, err
	}
	t.Milestones = ms[id]
	return t, nil
}

// loadMilestones returns the milestones of the tasks, by task, in order.
func loadMilestones(ctx context.Context, q db.Querier, ids ...int64) (map[int64][]Milestone, error) {
	out := map[int64][]Milestone{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT id, task_id, seq, name, due_on, done_on, evidence FROM task_milestones
		WHERE task_id IN (`+placeholders(len(ids))+`) ORDER BY task_id, seq, due_on, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("supervise: load milestones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Milestone
		if err := rows.Scan(&m.ID, &m.TaskID, &m.Seq, &m.Name, &m.Due, &m.DoneOn, &m.Evidence); err != nil {
			return nil, fmt.Errorf("supervise: scan milestone: %w", err)
		}
		out[m.TaskID] = append(out[m.TaskID], m)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func loadCoUnits(ctx context.Context, q db.Querier, id int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT unit_id FROM task_co_units WHERE task_id = ? ORDER BY unit_id`, id)
	if err != nil {
		return nil, fmt.Errorf("supervise: load co-units: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// insertTask stores a new task (its light already computed) and returns its id.
func insertTask(ctx context.Context, tx *db.Tx, t *Task) (int64, error) {
	dueWD := any(nil)
	if t.DueWorkdays > 0 {
		dueWD = t.DueWorkdays
	}
	id, err := db.InsertID(ctx, tx, `INSERT INTO tasks (parent_id, source, instruction_id, area, title, description, acceptance,
		lead_unit_id, owner_id, priority, cadence, weight, start_on, due_on, due_workdays, baseline_due_on, state, version, progress,
		evidence, planned_investment, completed_investment, stage, location,
		light, light_code, light_reason_zh, light_reason_en, overdue_workdays, light_on, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nullPtr(t.ParentID), string(t.Source), nullPtr(t.InstructionID), t.Area, t.Title, t.Description, t.Acceptance,
		t.LeadUnitID, t.OwnerID, string(t.Priority), string(t.Cadence), t.Weight, t.Start, t.Due, dueWD, t.BaselineDue, string(t.State), t.Version, t.Progress,
		t.Evidence, nullPtr(t.PlannedInvestment), nullPtr(t.CompletedInvestment), string(t.Stage), t.Location,
		string(t.Light), t.LightCode, t.LightText.ZH, t.LightText.EN, t.OverdueWorkdays, t.LightOn, nullPtr(t.CreatedBy), t.CreatedAt, t.UpdatedAt)
	if err != nil {
		return 0, fmt.Errorf("supervise: insert task: %w", err)
	}
	return id, nil
}

// updateTask writes every mutable column of t, provided the row is still at
// version and in state; it reports false when another change got there
// first. On success t.Version is the new version.
func updateTask(ctx context.Context, tx *db.Tx, t *Task, version int, state State) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE tasks SET state = ?, version = version + 1, progress = ?, evidence = ?, due_on = ?, baseline_due_on = ?,
		assigned_on = ?, accepted_at = ?, submitted_at = ?, signed_off_at = ?, signed_off_on = ?, cancelled_at = ?, last_report_on = ?,
		completed_investment = ?, light = ?, light_code = ?, light_reason_zh = ?, light_reason_en = ?, overdue_workdays = ?, light_on = ?, updated_at = ?
		WHERE id = ? AND version = ? AND state = ?`,
		string(t.State), t.Progress, t.Evidence, t.Due, t.BaselineDue,
		t.AssignedOn, nullPtr(t.AcceptedAt), nullPtr(t.SubmittedAt), nullPtr(t.SignedOffAt), t.SignedOffOn, nullPtr(t.CancelledAt), t.LastReportOn,
		nullPtr(t.CompletedInvestment), string(t.Light), t.LightCode, t.LightText.ZH, t.LightText.EN, t.OverdueWorkdays, t.LightOn, t.UpdatedAt,
		t.ID, version, string(state))
	if err != nil {
		return false, fmt.Errorf("supervise: update task %d: %w", t.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("supervise: update task %d: %w", t.ID, err)
	}
	if n == 1 {
		t.Version = version + 1
	}
	return n == 1, nil
}

// storeLight writes a freshly computed light without counting it as a change
// (no new version), and only if the row has not changed meanwhile.
func storeLight(ctx context.Context, tx *db.Tx, t *Task) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE tasks SET light = ?, light_code = ?, light_reason_zh = ?, light_reason_en = ?, overdue_workdays = ?, light_on = ?
		WHERE id = ? AND version = ?`,
		string(t.Light), t.LightCode, t.LightText.ZH, t.LightText.EN, t.OverdueWorkdays, t.LightOn, t.ID, t.Version)
	if err != nil {
		return false, fmt.Errorf("supervise: store light of task %d: %w", t.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func insertEvent(ctx context.Context, tx *db.Tx, e Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO task_events (task_id, at, actor_id, actor, kind, from_state, to_state, note, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.TaskID, e.At, nullPtr(e.ActorID), e.Actor, e.Kind, string(e.FromState), string(e.ToState), e.Note, e.Detail)
	if err != nil {
		return fmt.Errorf("supervise: record %s event of task %d: %w", e.Kind, e.TaskID, err)
	}
	return nil
}

func loadEvents(ctx context.Context, q db.Querier, taskID int64) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, task_id, at, actor_id, actor, kind, from_state, to_state, note, detail
		FROM task_events WHERE task_id = ? ORDER BY id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("supervise: load events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var actor sql.NullInt64
		if err := rows.Scan(&e.ID, &e.TaskID, &e.At, &actor, &e.Actor, &e.Kind, &e.FromState, &e.ToState, &e.Note, &e.Detail); err != nil {
			return nil, fmt.Errorf("supervise: scan event: %w", err)
		}
		e.At = e.At.UTC()
		e.ActorID = ptrInt64(actor)
		out = append(out, e)
	}
	return out, rows.Err()
}

const reportCols = `id, task_id, unit_id, percent, text, difficulties, next_steps, completed_investment, reported_on, created_by, created_by_name, created_at`

func scanReport(row scanner) (*Report, error) {
	var r Report
	var unit, percent, inv, by sql.NullInt64
	if err := row.Scan(&r.ID, &r.TaskID, &unit, &percent, &r.Text, &r.Difficulties, &r.NextSteps, &inv, &r.ReportedOn, &by, &r.CreatedByName, &r.CreatedAt); err != nil {
		return nil, err
	}
	r.UnitID, r.CompletedInvestment, r.CreatedBy = ptrInt64(unit), ptrInt64(inv), ptrInt64(by)
	if percent.Valid {
		p := int(percent.Int64)
		r.Percent = &p
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

func loadReports(ctx context.Context, q db.Querier, taskID int64, limit int) ([]Report, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+reportCols+` FROM task_reports WHERE task_id = ? ORDER BY id DESC LIMIT ?`, taskID, limit)
	if err != nil {
		return nil, fmt.Errorf("supervise: load reports: %w", err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("supervise: scan report: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

const extensionCols = `id, task_id, reason, old_due_on, new_due_on, state, requested_by, requested_by_name, requested_at,
	decided_by, decided_by_name, decided_at, decision_note`

func scanExtension(row scanner) (*Extension, error) {
	var e Extension
	var req, dec sql.NullInt64
	var decAt sql.NullTime
	if err := row.Scan(&e.ID, &e.TaskID, &e.Reason, &e.OldDue, &e.NewDue, &e.State, &req, &e.RequestedByName, &e.RequestedAt,
		&dec, &e.DecidedByName, &decAt, &e.DecisionNote); err != nil {
		return nil, err
	}
	e.RequestedBy, e.DecidedBy, e.DecidedAt = ptrInt64(req), ptrInt64(dec), ptrTime(decAt)
	e.RequestedAt = e.RequestedAt.UTC()
	return &e, nil
}

func loadExtension(ctx context.Context, q db.Querier, id int64) (*Extension, error) {
	e, err := scanExtension(q.QueryRowContext(ctx, `SELECT `+extensionCols+` FROM task_extensions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errExtensionNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: load extension %d: %w", id, err)
	}
	return e, nil
}

func loadExtensions(ctx context.Context, q db.Querier, taskID int64) ([]Extension, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+extensionCols+` FROM task_extensions WHERE task_id = ? ORDER BY id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("supervise: load extensions: %w", err)
	}
	defer rows.Close()
	out := []Extension{}
	for rows.Next() {
		e, err := scanExtension(rows)
		if err != nil {
			return nil, fmt.Errorf("supervise: scan extension: %w", err)
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

func loadMilestone(ctx context.Context, q db.Querier, id int64) (*Milestone, error) {
	var m Milestone
	err := q.QueryRowContext(ctx, `SELECT id, task_id, seq, name, due_on, done_on, evidence FROM task_milestones WHERE id = ?`, id).
		Scan(&m.ID, &m.TaskID, &m.Seq, &m.Name, &m.Due, &m.DoneOn, &m.Evidence)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errMilestoneNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: load milestone %d: %w", id, err)
	}
	return &m, nil
}

func loadInstruction(ctx context.Context, q db.Querier, id int64) (*Instruction, error) {
	var in Instruction
	err := q.QueryRowContext(ctx, `SELECT id, leader, issued_on, text, doc_no FROM instructions WHERE id = ?`, id).
		Scan(&in.ID, &in.Leader, &in.IssuedOn, &in.Text, &in.DocNo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: load instruction %d: %w", id, err)
	}
	return &in, nil
}

// childProgress sums the weighted progress of a task's subtasks that still
// count (not cancelled); a signed-off subtask counts as complete.
func childProgress(ctx context.Context, q db.Querier, parentID int64) (sum, weight int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT COALESCE(SUM((CASE WHEN state = 'signed_off' THEN 100 ELSE progress END) * weight), 0),
		COALESCE(SUM(weight), 0) FROM tasks WHERE parent_id = ? AND state <> 'cancelled'`, parentID).Scan(&sum, &weight)
	if err != nil {
		return 0, 0, fmt.Errorf("supervise: sum progress of subtasks of %d: %w", parentID, err)
	}
	return sum, weight, nil
}

func countChildren(ctx context.Context, q db.Querier, parentID int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE parent_id = ?`, parentID).Scan(&n); err != nil {
		return 0, fmt.Errorf("supervise: count subtasks of %d: %w", parentID, err)
	}
	return n, nil
}

// listWhere builds the WHERE clause of a task listing.
func listWhere(f Filter, today workday.Date) (string, []any) {
	var where []string
	var args []any
	if f.Light != "" {
		where, args = append(where, "light = ?"), append(args, string(f.Light))
	}
	if f.Area != "" {
		where, args = append(where, "area = ?"), append(args, f.Area)
	}
	if f.UnitID != 0 {
		where, args = append(where, "lead_unit_id = ?"), append(args, f.UnitID)
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, string(f.Source))
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
	}
	if f.ParentID != 0 {
		where, args = append(where, "parent_id = ?"), append(args, f.ParentID)
	}
	if f.Overdue != nil {
		cond := "(due_on < ? AND state IN ('assigned','accepted','in_progress','submitted'))"
		if !*f.Overdue {
			cond = "NOT " + cond
		}
		where, args = append(where, cond), append(args, today)
	}
	if f.Leader != "" {
		where, args = append(where, "instruction_id IN (SELECT id FROM instructions WHERE leader = ?)"), append(args, f.Leader)
	}
	if f.KeyProjects {
		where = append(where, "source = 'project'")
	}
	if f.OnBoard {
		where = append(where, "state NOT IN ('draft','cancelled')")
	}
	if f.OpenOnly {
		where = append(where, "state NOT IN ('signed_off','cancelled')")
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// countTasks counts the tasks a filter keeps.
func countTasks(ctx context.Context, q db.Querier, f Filter, today workday.Date) (int, error) {
	w, args := listWhere(f, today)
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks`+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("supervise: count tasks: %w", err)
	}
	return n, nil
}

func listTasks(ctx context.Context, q db.Querier, f Filter, today workday.Date) ([]*Task, int, error) {
	total, err := countTasks(ctx, q, f, today)
	if err != nil {
		return nil, 0, err
	}
	w, args := listWhere(f, today)
	// Tasks without a due date yet (relative due, still draft) come first on
	// both engines; written so SQLite can walk the due-date index instead of
	// sorting every matching row.
	order := ` ORDER BY due_on, id`
	if q.D() == db.Postgres {
		order = ` ORDER BY due_on NULLS FIRST, id`
	}
	rows, err := q.QueryContext(ctx, `SELECT `+taskCols+` FROM tasks`+w+order+` LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("supervise: list tasks: %w", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("supervise: scan task: %w", err)
		}
		out = append(out, t)
	}
	return out, total, rows.Err()
}

// setLight copies an evaluation into the task's stored light columns.
func setLight(t *Task, res deadline.Result, today workday.Date) {
	p := res.Primary()
	t.Light, t.LightCode, t.LightText = res.Light, p.Code, p.Text
	t.OverdueWorkdays, t.LightOn = res.OverdueWorkdays, today
}
