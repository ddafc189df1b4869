package supervise

// Reminders (催办), a supervisor's urge (督促) and supervision notices (督办单).
//
// The scheduler runs RemindPass and EscalatePass; each reads only the
// active tasks whose planned day (task_plans.remind_on, notice_on; indexed)
// has come, sends what is due in the caller's transaction and plans the
// next day. What was sent is recorded with a unique key (task_reminders:
// task, due date, reminder key; supervision_notices: task, due date, level),
// so a pass repeated after a restart or by a second instance sends nothing
// twice; on PostgreSQL the rows a pass works on are locked (FOR UPDATE SKIP
// LOCKED) and the two passes take turns (an advisory lock). Triggers of
// migration 0004 keep task_plans in step with tasks: a row per task, active
// while the lead unit is on it, and a new due date (an approved extension,
// a reopening) starts both plans over.
//
// Messages go to the inbox and the outbox through a Notifier that app wires
// (supervise does not import notify). Recipients are read from the
// platform's accounts: a reminder goes to the lead unit's liaisons and unit
// head; a notice to the unit head (the liaisons when the unit has no head
// account), and at red also to the leader in charge.

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

//go:embed openapi_reminders.json
var reminderFiles embed.FS

// Kinds of Notice.
const (
	NoticeKindReminder = "reminder" // 催办, automatic
	NoticeKindUrge     = "urge"     // 督促, a supervisor's message
	NoticeKindNotice   = "notice"   // 督办单
	NoticeKindLookBack = "lookback" // 回头看
)

// Notice is a message for people, delivered to the inbox and the outbox by
// the Notifier app wires.
type Notice struct {
	// To lists recipient user ids.
	To   []int64
	Kind string
	// Level is "", or the colour of a supervision notice: "blue",
	// "yellow", "red".
	Level   string
	Title   deadline.Text
	Body    deadline.Text
	Link    string
	Subject string
}

// Notifier delivers notices inside the caller's transaction.
type Notifier interface {
	Notify(ctx context.Context, tx *db.Tx, ns ...Notice) error
}

func (s *Service) notify(ctx context.Context, tx *db.Tx, ns ...Notice) error {
	if s.Notifier == nil || len(ns) == 0 {
		return nil
	}
	return s.Notifier.Notify(ctx, tx, ns...)
}

func taskLink(id int64) string    { return "/tasks/" + strconv.FormatInt(id, 10) }
func taskSubject(id int64) string { return "task:" + strconv.FormatInt(id, 10) }

// planLock is the PostgreSQL advisory lock the planning passes share
// (727001 is the migration lock, 727002 the audit log's).
const planLock = 727101

// neverDay is the planned day of a task with nothing more to send.
const neverDay = "9999-12-31"

// A statement carries at most maxStmtRows rows and maxStmtParams
// parameters (below SQLite's 32766 and PostgreSQL's 65535).
const (
	maxStmtRows   = 1000
	maxStmtParams = 30000
)

// batchesOf calls fn for consecutive slices of items, each small enough for
// one statement of cols values per item.
func batchesOf[T any](items []T, cols int, fn func([]T) error) error {
	step := min(max(maxStmtParams/cols, 1), maxStmtRows)
	for len(items) > 0 {
		n := min(step, len(items))
		if err := fn(items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// valuesRows is "(?, ?), (?, ?)" for n rows of cols values; with firstCast
// set the first value of the first row is CAST(? AS BIGINT), so PostgreSQL
// types an id column in a VALUES list.
func valuesRows(n, cols int, firstCast bool) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 0 && firstCast {
			b.WriteString("(CAST(? AS BIGINT)" + strings.Repeat(", ?", cols-1) + ")")
			continue
		}
		b.WriteString(row)
	}
	return b.String()
}

// taskPlan is a task's next planned day and last sent key or level.
type taskPlan struct {
	id   int64
	on   string
	last string
}

// storePlans writes (onCol, lastCol) of task_plans for many tasks in few
// statements.
func storePlans(ctx context.Context, tx *db.Tx, onCol, lastCol string, plans []taskPlan) error {
	return batchesOf(plans, 3, func(ps []taskPlan) error {
		args := make([]any, 0, len(ps)*3)
		for _, p := range ps {
			args = append(args, p.id, p.on, p.last)
		}
		q := `WITH v(id, plan_on, plan_last) AS (VALUES ` + valuesRows(len(ps), 3, true) + `)
			UPDATE task_plans SET ` + onCol + ` = v.plan_on, ` + lastCol + ` = v.plan_last FROM v WHERE task_plans.task_id = v.id`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("supervise: store %s: %w", onCol, err)
		}
		return nil
	})
}

// Recipients.

// unitPeople are a unit's enabled accounts that act for it.
type unitPeople struct {
	members []int64 // liaisons and unit heads
	heads   []int64
}

// headsOrMembers is whom a notice is addressed to: the unit heads, or the
// liaisons when the unit has no head account.
func (u *unitPeople) headsOrMembers() []int64 {
	if u == nil {
		return nil
	}
	if len(u.heads) > 0 {
		return u.heads
	}
	return u.members
}

func (u *unitPeople) all() []int64 {
	if u == nil {
		return nil
	}
	return u.members
}

// loadUnitPeople reads the liaisons and unit heads of the units.
func loadUnitPeople(ctx context.Context, q db.Querier, units []int64) (map[int64]*unitPeople, error) {
	out := map[int64]*unitPeople{}
	slices.Sort(units)
	units = slices.Compact(units)
	err := batchesOf(units, 1, func(us []int64) error {
		args := make([]any, len(us))
		for i, u := range us {
			args[i] = u
		}
		rows, err := q.QueryContext(ctx, `SELECT u.id, u.unit_id, r.role FROM users u JOIN user_roles r ON r.user_id = u.id
			WHERE u.disabled = FALSE AND r.role IN ('liaison','unit_head') AND u.unit_id IN (`+placeholders(len(us))+`)
			ORDER BY u.unit_id, u.id, r.role`, args...)
		if err != nil {
			return fmt.Errorf("supervise: read unit accounts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, unit int64
			var role string
			if err := rows.Scan(&id, &unit, &role); err != nil {
				return fmt.Errorf("supervise: scan unit account: %w", err)
			}
			p := out[unit]
			if p == nil {
				p = &unitPeople{}
				out[unit] = p
			}
			if !slices.Contains(p.members, id) {
				p.members = append(p.members, id)
			}
			if role == string(auth.RoleUnitHead) {
				p.heads = append(p.heads, id)
			}
		}
		return rows.Err()
	})
	return out, err
}

// leaderAccount is an enabled account holding the leader role.
type leaderAccount struct {
	id    int64
	names []string // username, display name, the person's name
}

func loadLeaders(ctx context.Context, q db.Querier) ([]leaderAccount, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.username, u.display_name, COALESCE(p.name, '') FROM users u
		JOIN user_roles r ON r.user_id = u.id AND r.role = 'leader' LEFT JOIN people p ON p.id = u.person_id
		WHERE u.disabled = FALSE ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("supervise: read leaders: %w", err)
	}
	defer rows.Close()
	var out []leaderAccount
	for rows.Next() {
		var l leaderAccount
		var user, display, person string
		if err := rows.Scan(&l.id, &user, &display, &person); err != nil {
			return nil, fmt.Errorf("supervise: scan leader: %w", err)
		}
		for _, n := range []string{user, display, person} {
			if n = strings.TrimSpace(n); n != "" {
				l.names = append(l.names, n)
			}
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// leadersInCharge picks the leader in charge of a task: for an
// instruction, the accounts named as its leader (by username, display name
// or person); otherwise, or when no account matches, every leader.
func leadersInCharge(leaders []leaderAccount, instructionLeader string) []int64 {
	instructionLeader = strings.TrimSpace(instructionLeader)
	var named, all []int64
	for _, l := range leaders {
		all = append(all, l.id)
		if instructionLeader != "" && slices.Contains(l.names, instructionLeader) {
			named = append(named, l.id)
		}
	}
	if len(named) > 0 {
		return named
	}
	return all
}

// loadRoleAccounts lists the enabled accounts holding role.
func loadRoleAccounts(ctx context.Context, q db.Querier, role auth.Role) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE r.role = ? AND u.disabled = FALSE ORDER BY u.id`, string(role))
	if err != nil {
		return nil, fmt.Errorf("supervise: read %s accounts: %w", role, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// The reminder pass.

type planTask struct {
	id, unit    int64
	title       string
	due         workday.Date
	last        string
	instruction int64
}

// dueTasks reads the active tasks (assigned, accepted, in progress: a
// submitted task waits for the supervisor, not for the unit) whose planned
// day in task_plans.onCol has come, by the partial index on it. On
// PostgreSQL it locks the plan and the task: a change waiting for one sees
// the new plan, and a task a change holds is skipped (the next pass takes
// it) so a pass never waits for people.
func dueTasks(ctx context.Context, tx *db.Tx, onCol, lastCol string, today workday.Date) ([]planTask, error) {
	q := `SELECT t.id, t.title, t.lead_unit_id, t.due_on, p.` + lastCol + `, COALESCE(t.instruction_id, 0)
		FROM task_plans p JOIN tasks t ON t.id = p.task_id
		WHERE p.active AND p.` + onCol + ` <= ?` // no ORDER BY: SQLite would scan by key instead of the index
	if tx.D() == db.Postgres {
		// The reminder and escalation passes take turns (they would
		// otherwise skip each other's rows), whichever instance runs them.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, planLock); err != nil {
			return nil, fmt.Errorf("supervise: wait for the plan lock: %w", err)
		}
		// The task too: what a pass writes refers to it (reminders,
		// notices, timeline), and it must not wait for a change that in
		// turn waits for the plan.
		q += ` FOR UPDATE OF p, t SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, q, today)
	if err != nil {
		return nil, fmt.Errorf("supervise: find tasks by %s: %w", onCol, err)
	}
	defer rows.Close()
	var out []planTask
	for rows.Next() {
		var t planTask
		if err := rows.Scan(&t.id, &t.title, &t.unit, &t.due, &t.last, &t.instruction); err != nil {
			return nil, fmt.Errorf("supervise: scan task: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b planTask) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

type reminderSend struct {
	t *planTask
	r deadline.Reminder
	n int // recipients
}

// RemindPass sends, inside tx, the automatic reminders due today (3 and 1
// working days before the due date, on the due day, then every
// Thresholds.RemindEveryWorkdays working days overdue; after downtime only
// the latest, never a backlog) and returns how many it sent. Each goes to
// the lead unit's liaisons and unit head, at most once per task, due date
// and key.
func (s *Service) RemindPass(ctx context.Context, tx *db.Tx) (int, error) {
	today := s.Today()
	every := thresholdsOr(s.Thresholds).RemindEveryWorkdays
	tasks, err := dueTasks(ctx, tx, "remind_on", "remind_key", today)
	if err != nil || len(tasks) == 0 {
		return 0, err
	}
	plans := make([]taskPlan, 0, len(tasks))
	var sends []reminderSend
	var units []int64
	for i := range tasks {
		t := &tasks[i]
		last := t.last
		if r, ok := deadline.DueReminder(s.Cal, t.due, every, t.last, today); ok {
			sends = append(sends, reminderSend{t: t, r: r})
			units = append(units, t.unit)
			last = r.Key
		}
		next := neverDay
		if r, ok := deadline.Reminders(s.Cal, t.due, every).Next(today); ok {
			next = r.On.String()
		}
		plans = append(plans, taskPlan{id: t.id, on: next, last: last})
	}
	sent, err := s.sendReminders(ctx, tx, sends, units)
	if err != nil {
		return 0, err
	}
	if err := storePlans(ctx, tx, "remind_on", "remind_key", plans); err != nil {
		return 0, err
	}
	return sent, nil
}

func (s *Service) sendReminders(ctx context.Context, tx *db.Tx, sends []reminderSend, units []int64) (int, error) {
	if len(sends) == 0 {
		return 0, nil
	}
	people, err := loadUnitPeople(ctx, tx, units)
	if err != nil {
		return 0, err
	}
	now := s.stamp()
	for i := range sends {
		sends[i].n = len(people[sends[i].t.unit].all())
	}
	// Record first: a key already recorded (by another pass) is not sent.
	inserted := map[int64]bool{}
	err = batchesOf(sends, 9, func(ss []reminderSend) error {
		args := make([]any, 0, len(ss)*9)
		for _, x := range ss {
			args = append(args, x.t.id, "auto", x.t.due, x.r.Key, x.r.Workdays, x.r.Text().ZH, x.n, "system", now)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO task_reminders (task_id, kind, due_on, key, workdays, message, recipients, sent_by_name, sent_at)
			VALUES `+valuesRows(len(ss), 9, false)+` ON CONFLICT DO NOTHING RETURNING task_id`, args...)
		if err != nil {
			return fmt.Errorf("supervise: record reminders: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			inserted[id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	ns := make([]Notice, 0, len(inserted))
	for _, x := range sends {
		if !inserted[x.t.id] {
			continue
		}
		to := people[x.t.unit].all()
		if len(to) == 0 {
			continue
		}
		ns = append(ns, Notice{To: to, Kind: NoticeKindReminder, Link: taskLink(x.t.id), Subject: taskSubject(x.t.id),
			Title: deadline.Text{ZH: "催办：" + x.t.title, EN: "Reminder: " + x.t.title}, Body: x.r.Text()})
	}
	if err := s.notify(ctx, tx, ns...); err != nil {
		return 0, err
	}
	return len(inserted), nil
}

// The escalation pass.

// noticeLevels are the notice levels in order with their thresholds.
func noticeLevels(th deadline.Thresholds) []struct {
	level deadline.Level
	after int
} {
	return []struct {
		level deadline.Level
		after int
	}{{deadline.LevelBlue, th.NoticeBlueAfter}, {deadline.LevelYellow, th.NoticeYellowAfter}, {deadline.LevelRed, th.NoticeRedAfter}}
}

type noticeSend struct {
	t       *planTask
	level   deadline.Level
	overdue int
	to      []int64
	addr    string
	text    deadline.Text
}

// EscalatePass issues, inside tx, the supervision notices (督办单) due
// today: blue after Thresholds.NoticeBlueAfter working days overdue, yellow
// after NoticeYellowAfter, red after NoticeRedAfter; each level at most once
// per task and due date, only the highest one reached (no backlog after
// downtime). Blue and yellow go to the lead unit's head, red also to the
// leader in charge. It returns how many notices it issued.
func (s *Service) EscalatePass(ctx context.Context, tx *db.Tx) (int, error) {
	today := s.Today()
	th := thresholdsOr(s.Thresholds)
	tasks, err := dueTasks(ctx, tx, "notice_on", "notice_level", today)
	if err != nil || len(tasks) == 0 {
		return 0, err
	}
	plans := make([]taskPlan, 0, len(tasks))
	var sends []noticeSend
	var units []int64
	for i := range tasks {
		t := &tasks[i]
		overdue := deadline.OverdueWorkdays(s.Cal, t.due, today)
		have := deadline.Level(t.last)
		reached := deadline.Escalation(overdue, th)
		last := t.last
		if reached.Severity() > have.Severity() {
			sends = append(sends, noticeSend{t: t, level: reached, overdue: overdue})
			units = append(units, t.unit)
			last, have = string(reached), reached
		}
		next := neverDay
		for _, l := range noticeLevels(th) {
			if l.level.Severity() > have.Severity() {
				next = s.Cal.AddWorkdays(t.due, l.after).String()
				break
			}
		}
		if t.due.IsZero() {
			next = neverDay
		}
		plans = append(plans, taskPlan{id: t.id, on: next, last: last})
	}
	n, err := s.sendNotices(ctx, tx, sends, units, today)
	if err != nil {
		return 0, err
	}
	if err := storePlans(ctx, tx, "notice_on", "notice_level", plans); err != nil {
		return 0, err
	}
	return n, nil
}

// noticeText words a supervision notice.
func noticeText(title string, level deadline.Level, overdue int, due workday.Date) (deadline.Text, deadline.Text) {
	lt := level.Text()
	head := deadline.Text{ZH: lt.ZH + "：" + title, EN: lt.EN + ": " + title}
	body := deadline.Text{
		ZH: fmt.Sprintf("任务“%s”已逾期 %d 个工作日（完成时限 %s），现予%s。请单位主要负责人督促落实，尽快办结并报送办理情况。", title, overdue, due, lt.ZH),
		EN: fmt.Sprintf("The task “%s” is %d working day(s) overdue (due %s); this is a %s. The head of the unit is asked to see it done and report at once.", title, overdue, due, strings.ToLower(lt.EN)),
	}
	if level == deadline.LevelRed {
		body.ZH += "本督办单同时报送分管领导。"
		body.EN += " This notice also goes to the leader in charge."
	}
	return head, body
}

func (s *Service) sendNotices(ctx context.Context, tx *db.Tx, sends []noticeSend, units []int64, today workday.Date) (int, error) {
	if len(sends) == 0 {
		return 0, nil
	}
	people, err := loadUnitPeople(ctx, tx, units)
	if err != nil {
		return 0, err
	}
	var leaders []leaderAccount
	instr := map[int64]string{}
	var instrIDs []int64
	red := false
	for _, x := range sends {
		if x.level == deadline.LevelRed {
			red = true
			if x.t.instruction != 0 {
				instrIDs = append(instrIDs, x.t.instruction)
			}
		}
	}
	if red {
		if leaders, err = loadLeaders(ctx, tx); err != nil {
			return 0, err
		}
	}
	if len(instrIDs) > 0 {
		if instr, err = instructionLeaders(ctx, tx, instrIDs); err != nil {
			return 0, err
		}
	}
	now := s.stamp()
	for i := range sends {
		x := &sends[i]
		x.to = slices.Clone(people[x.t.unit].headsOrMembers())
		x.addr = "unit_head"
		if x.level == deadline.LevelRed {
			for _, id := range leadersInCharge(leaders, instr[x.t.instruction]) {
				if !slices.Contains(x.to, id) {
					x.to = append(x.to, id)
				}
			}
			x.addr = "unit_head,leader"
		}
		_, x.text = noticeText(x.t.title, x.level, x.overdue, x.t.due)
	}
	type issued struct{ id, task int64 }
	var done []issued
	err = batchesOf(sends, 11, func(ss []noticeSend) error {
		args := make([]any, 0, len(ss)*11)
		for _, x := range ss {
			args = append(args, x.t.id, x.t.unit, x.t.due, string(x.level), x.overdue, x.addr, len(x.to), x.text.ZH, x.text.EN, today, now)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO supervision_notices (task_id, unit_id, due_on, level, overdue_workdays, addressed_to, recipients,
			text_zh, text_en, issued_on, created_at) VALUES `+valuesRows(len(ss), 11, false)+` ON CONFLICT DO NOTHING RETURNING id, task_id`, args...)
		if err != nil {
			return fmt.Errorf("supervise: record supervision notices: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var x issued
			if err := rows.Scan(&x.id, &x.task); err != nil {
				return err
			}
			done = append(done, x)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	byTask := make(map[int64]int64, len(done))
	for _, x := range done {
		byTask[x.task] = x.id
	}
	var ns []Notice
	var events []Event
	for _, x := range sends {
		id, ok := byTask[x.t.id]
		if !ok {
			continue
		}
		title, body := noticeText(x.t.title, x.level, x.overdue, x.t.due)
		no := noticeNo(today.Year(), id)
		title.ZH, title.EN = no+" "+title.ZH, no+" "+title.EN
		if len(x.to) > 0 {
			ns = append(ns, Notice{To: x.to, Kind: NoticeKindNotice, Level: string(x.level), Title: title, Body: body,
				Link: taskLink(x.t.id), Subject: taskSubject(x.t.id)})
		}
		events = append(events, Event{TaskID: x.t.id, At: now, Actor: "system", Kind: EventNotice, Note: body.ZH,
			Detail: fmt.Sprintf("notice %d %s: %s, %d working days overdue, to %s (%d)", id, no, x.level, x.overdue, x.addr, len(x.to))})
	}
	if err := s.notify(ctx, tx, ns...); err != nil {
		return 0, err
	}
	if err := insertEventBatch(ctx, tx, events); err != nil {
		return 0, err
	}
	return len(done), nil
}

// noticeNo is a notice's document number, 督办〔2026〕12号.
func noticeNo(year int, id int64) string {
	return fmt.Sprintf("督办〔%d〕%d号", year, id)
}

func instructionLeaders(ctx context.Context, q db.Querier, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	err := batchesOf(ids, 1, func(is []int64) error {
		args := make([]any, len(is))
		for i, id := range is {
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, `SELECT id, leader FROM instructions WHERE id IN (`+placeholders(len(is))+`)`, args...)
		if err != nil {
			return fmt.Errorf("supervise: read instruction leaders: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var leader string
			if err := rows.Scan(&id, &leader); err != nil {
				return err
			}
			out[id] = leader
		}
		return rows.Err()
	})
	return out, err
}

// insertEventBatch writes timeline entries in batches.
func insertEventBatch(ctx context.Context, tx *db.Tx, es []Event) error {
	return batchesOf(es, 9, func(b []Event) error {
		args := make([]any, 0, len(b)*9)
		for _, e := range b {
			args = append(args, e.TaskID, e.At, nullPtr(e.ActorID), e.Actor, e.Kind, string(e.FromState), string(e.ToState), e.Note, e.Detail)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO task_events (task_id, at, actor_id, actor, kind, from_state, to_state, note, detail) VALUES `+
			valuesRows(len(b), 9, false), args...); err != nil {
			return fmt.Errorf("supervise: record events: %w", err)
		}
		return nil
	})
}

// Event kinds of this file and lookback.go.
const (
	EventUrge         = "urge"
	EventNotice       = "notice"
	EventLookBackPlan = "lookback_plan"
	EventLookBackPass = "lookback_pass"
	EventLookBackFail = "lookback_fail"
)

// Manual urge.

// ReminderRecord is a reminder that went out: automatic (kind auto) or a
// supervisor's urge (kind urge).
type ReminderRecord struct {
	ID         int64        `json:"id"`
	TaskID     int64        `json:"task_id"`
	Kind       string       `json:"kind"`
	Due        workday.Date `json:"due"`
	Key        string       `json:"key"`
	Workdays   int          `json:"workdays"`
	Message    string       `json:"message"`
	Recipients int          `json:"recipients"`
	SentBy     *int64       `json:"sent_by"`
	SentByName string       `json:"sent_by_name"`
	SentAt     time.Time    `json:"sent_at"`
}

const reminderCols = `id, task_id, kind, due_on, key, workdays, message, recipients, sent_by, sent_by_name, sent_at`

func scanReminder(row scanner) (*ReminderRecord, error) {
	var r ReminderRecord
	var by sql.NullInt64
	if err := row.Scan(&r.ID, &r.TaskID, &r.Kind, &r.Due, &r.Key, &r.Workdays, &r.Message, &r.Recipients, &by, &r.SentByName, &r.SentAt); err != nil {
		return nil, err
	}
	r.SentBy = ptrInt64(by)
	r.SentAt = r.SentAt.UTC()
	return &r, nil
}

const maxUrge = 500

var errNoRecipients = &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "no_recipients",
	Message: "责任单位没有联络员或单位负责人账号，无法送达 / the lead unit has no liaison or unit-head account to receive it"}

// Urge sends a supervisor's message (督促) about an open task to the lead
// unit's liaisons and head, records it with the task's reminders and on its
// timeline.
func (s *Service) Urge(ctx context.Context, a Actor, taskID int64, message string) (*ReminderRecord, error) {
	if !a.supervises() {
		return nil, errSupervisorOnly
	}
	message = strings.TrimSpace(message)
	switch {
	case message == "":
		return nil, invalid("message", "请填写督促内容", "message is required")
	case tooLong(message, maxUrge):
		return nil, invalid("message", fmt.Sprintf("督促内容不超过 %d 字", maxUrge), fmt.Sprintf("message must be at most %d characters", maxUrge))
	}
	var rec *ReminderRecord
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		t, err := loadTask(ctx, tx, taskID, true)
		if err != nil {
			return err
		}
		if t.State != StateAssigned && t.State != StateAccepted && t.State != StateInProgress {
			return conflict("task_not_urgeable", fmt.Sprintf("任务处于“%s”状态，无需督促", t.State.Text().ZH),
				fmt.Sprintf("a task in state %s is not urged", t.State), map[string]any{"state": t.State})
		}
		people, err := loadUnitPeople(ctx, tx, []int64{t.LeadUnitID})
		if err != nil {
			return err
		}
		to := people[t.LeadUnitID].all()
		if len(to) == 0 {
			return errNoRecipients
		}
		today := s.Today()
		id, err := db.InsertID(ctx, tx, `INSERT INTO task_reminders (task_id, kind, due_on, key, workdays, message, recipients, sent_by, sent_by_name, sent_at)
			VALUES (?, 'urge', ?, 'urge', ?, ?, ?, ?, ?, ?)`, t.ID, t.Due, deadline.OverdueWorkdays(s.Cal, t.Due, today), message, len(to),
			nullPtr(a.id()), a.Username, s.stamp())
		if err != nil {
			return fmt.Errorf("supervise: record urge: %w", err)
		}
		by := a.Username
		if err := s.notify(ctx, tx, Notice{To: to, Kind: NoticeKindUrge, Link: taskLink(t.ID), Subject: taskSubject(t.ID),
			Title: deadline.Text{ZH: "督促：" + t.Title, EN: "Urged: " + t.Title},
			Body:  deadline.Text{ZH: message + "（" + by + "，期限 " + t.Due.String() + "）", EN: message + " (" + by + ", due " + t.Due.String() + ")"}}); err != nil {
			return err
		}
		detail := fmt.Sprintf("urge %d to %d accounts of unit %d", id, len(to), t.LeadUnitID)
		if err := s.event(ctx, tx, a, t.ID, EventUrge, "", "", message, detail); err != nil {
			return err
		}
		if err := s.Audit.WriteTx(ctx, tx, a.entry("task.urge", t.ID, detail)); err != nil {
			return err
		}
		rec, err = scanReminder(tx.QueryRowContext(ctx, `SELECT `+reminderCols+` FROM task_reminders WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// TaskReminders lists the reminders and urges of a task, newest first.
func (s *Service) TaskReminders(ctx context.Context, taskID int64) ([]ReminderRecord, error) {
	if _, err := loadTask(ctx, s.DB, taskID, false); err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT `+reminderCols+` FROM task_reminders WHERE task_id = ? ORDER BY id DESC LIMIT 500`, taskID)
	if err != nil {
		return nil, fmt.Errorf("supervise: list reminders: %w", err)
	}
	defer rows.Close()
	out := []ReminderRecord{}
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, fmt.Errorf("supervise: scan reminder: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// SupervisionNotice is a formal notice (督办单).
type SupervisionNotice struct {
	ID              int64          `json:"id"`
	No              string         `json:"no"`
	TaskID          int64          `json:"task_id"`
	TaskTitle       string         `json:"task_title"`
	UnitID          int64          `json:"unit_id"`
	Due             workday.Date   `json:"due"`
	Level           deadline.Level `json:"level"`
	OverdueWorkdays int            `json:"overdue_workdays"`
	AddressedTo     []string       `json:"addressed_to"`
	Recipients      int            `json:"recipients"`
	Text            string         `json:"text"`
	IssuedOn        workday.Date   `json:"issued_on"`
	CreatedAt       time.Time      `json:"created_at"`
}

// NoticeFilter narrows the notice list.
type NoticeFilter struct {
	TaskID int64
	UnitID int64
	Level  deadline.Level
	Limit  int
	Offset int
	Lang   string
}

// Notices lists supervision notices, newest first, and the total matching.
func (s *Service) Notices(ctx context.Context, f NoticeFilter) ([]SupervisionNotice, int, error) {
	var where []string
	var args []any
	if f.TaskID != 0 {
		where, args = append(where, "n.task_id = ?"), append(args, f.TaskID)
	}
	if f.UnitID != 0 {
		where, args = append(where, "n.unit_id = ?"), append(args, f.UnitID)
	}
	if f.Level != "" {
		where, args = append(where, "n.level = ?"), append(args, string(f.Level))
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var total int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM supervision_notices n`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("supervise: count notices: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT n.id, n.task_id, t.title, n.unit_id, n.due_on, n.level, n.overdue_workdays, n.addressed_to, n.recipients,
		n.text_zh, n.text_en, n.issued_on, n.created_at FROM supervision_notices n JOIN tasks t ON t.id = n.task_id`+w+` ORDER BY n.id DESC LIMIT ? OFFSET ?`,
		append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("supervise: list notices: %w", err)
	}
	defer rows.Close()
	out := []SupervisionNotice{}
	for rows.Next() {
		var n SupervisionNotice
		var addr string
		var text deadline.Text
		if err := rows.Scan(&n.ID, &n.TaskID, &n.TaskTitle, &n.UnitID, &n.Due, &n.Level, &n.OverdueWorkdays, &addr, &n.Recipients,
			&text.ZH, &text.EN, &n.IssuedOn, &n.CreatedAt); err != nil {
			return nil, 0, fmt.Errorf("supervise: scan notice: %w", err)
		}
		n.No = noticeNo(n.IssuedOn.Year(), n.ID)
		n.AddressedTo = strings.Split(addr, ",")
		n.Text = text.In(f.Lang)
		n.CreatedAt = n.CreatedAt.UTC()
		out = append(out, n)
	}
	return out, total, rows.Err()
}

// HTTP.

// RegisterReminders adds the API of reminders, urges, supervision notices
// and look-backs, and its OpenAPI fragment, to ws. Call it after Register.
func (s *Service) RegisterReminders(ws *web.Server) error {
	if err := ws.OpenAPI.AddFragment(reminderFiles, "openapi_reminders.json"); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	for _, rt := range []route{
		{"POST /api/v1/tasks/{id}/urge", auth.PermTasksWrite, s.apiUrge},
		{"GET /api/v1/tasks/{id}/reminders", auth.PermTasksRead, s.apiReminders},
		{"GET /api/v1/notices", auth.PermTasksRead, s.apiNotices},
		{"GET /api/v1/lookbacks", auth.PermTasksRead, s.apiLookBacks},
		{"POST /api/v1/lookbacks/{id}/result", auth.PermTasksWrite, s.apiLookBackResult},
		{"PUT /api/v1/tasks/{id}/lookback", auth.PermTasksWrite, s.apiLookBackPlan},
	} {
		ws.Handle(rt.pattern, rt.perm, rt.h)
	}
	return nil
}

type urgeRequest struct {
	Message string `json:"message"`
}

func (s *Service) apiUrge(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req urgeRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	rec, err := s.Urge(r.Context(), actor(r), id, req.Message)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, rec)
}

func (s *Service) apiReminders(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	rs, err := s.TaskReminders(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteList(w, rs, len(rs))
}

// queryPositiveID reads an optional positive integer filter.
func queryPositiveID(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, invalid(name, name+" 须为正整数", name+" must be a positive integer")
	}
	return n, nil
}

func (s *Service) apiNotices(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	f := NoticeFilter{Limit: limit, Offset: offset, Lang: lang(r)}
	if f.TaskID, err = queryPositiveID(r, "task"); err != nil {
		return err
	}
	if f.UnitID, err = queryPositiveID(r, "unit"); err != nil {
		return err
	}
	if v := r.URL.Query().Get("level"); v != "" {
		f.Level = deadline.Level(v)
		if f.Level.Severity() == 0 {
			return invalid("level", "level 须为 blue、yellow 或 red", "level must be blue, yellow or red")
		}
	}
	ns, total, err := s.Notices(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteList(w, ns, total)
}
