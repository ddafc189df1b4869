package supervise

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/workday"
)

// Service holds the rules of supervised tasks.
type Service struct {
	DB    *db.DB
	Audit *audit.Log
	// Cal counts every due date; stored working-day years are loaded into
	// it (LoadYears).
	Cal *workday.Calendar
	// Now is the clock; Loc decides which civil date "today" is.
	Now        func() time.Time
	Loc        *time.Location
	Thresholds deadline.Thresholds

	freshMu sync.Mutex
	freshOn workday.Date // lights of open tasks are known current on this day

	// pages holds what the pages add (http.go): the web server, the files
	// directory and the battle map cache; made on first use.
	pages atomic.Pointer[pageState]

	// Notifier delivers reminders, urges, supervision notices and
	// look-back messages to the inbox and outbox (wired by app; nil sends
	// nothing). See reminders.go.
	Notifier Notifier
}

// beijing is China Standard Time; China keeps no daylight saving time, so a
// fixed zone is exact and needs no time-zone database.
var beijing = time.FixedZone("Asia/Shanghai", 8*3600)

// New returns the service. now may be nil for the wall clock. Days are
// civil days in Asia/Shanghai until Register takes the server's zone.
func New(d *db.DB, a *audit.Log, cal *workday.Calendar, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: d, Audit: a, Cal: cal, Now: now, Loc: beijing, Thresholds: deadline.DefaultThresholds()}
}

// Today is the current civil date in the service's zone.
func (s *Service) Today() workday.Date { return workday.FromTime(s.Now(), s.Loc) }

// stamp is the current instant as stored: UTC, to the microsecond both
// engines keep.
func (s *Service) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Actor is who acts on a task and what they may do.
type Actor struct {
	UserID   int64
	Username string
	IP       string
	// UnitID is the actor's own unit (0 when none).
	UnitID int64
	// Supervisor holds tasks.write; UnitMember holds tasks.report and so
	// acts for UnitID.
	Supervisor bool
	UnitMember bool
	// System is the product itself (scheduler, import, demo): allowed all.
	System bool
}

// ActorOf describes a signed-in account.
func ActorOf(p *auth.Principal, ip string) Actor {
	if p == nil {
		return Actor{Username: "anonymous", IP: ip}
	}
	a := Actor{UserID: p.UserID, Username: p.Username, IP: ip,
		Supervisor: p.Can(auth.PermTasksWrite), UnitMember: p.Can(auth.PermTasksReport)}
	if p.UnitID != nil {
		a.UnitID = *p.UnitID
	}
	return a
}

// SystemActor is the product acting on its own, under name ("system",
// "import", "demo").
func SystemActor(name string) Actor { return Actor{Username: name, System: true} }

func (a Actor) supervises() bool { return a.System || a.Supervisor }

func (a Actor) actsFor(unitID int64) bool {
	return a.System || (a.UnitMember && a.UnitID != 0 && a.UnitID == unitID)
}

func (a Actor) id() *int64 {
	if a.UserID == 0 {
		return nil
	}
	v := a.UserID
	return &v
}

func (a Actor) entry(action string, taskID int64, summary string) audit.Entry {
	return audit.Entry{ActorID: a.UserID, Actor: a.Username, IP: a.IP, Action: action,
		Object: "task:" + strconv.FormatInt(taskID, 10), Summary: summary, Result: audit.OK}
}

// Errors.

func errTaskNotFound(id int64) *apperr.Error {
	return apperr.NotFound("task_not_found", fmt.Sprintf("任务 %d 不存在 / task %d not found", id, id))
}

func errMilestoneNotFound(id int64) *apperr.Error {
	return apperr.NotFound("milestone_not_found", fmt.Sprintf("节点 %d 不存在 / milestone %d not found", id, id))
}

func errExtensionNotFound(id int64) *apperr.Error {
	return apperr.NotFound("extension_not_found", fmt.Sprintf("延期申请 %d 不存在 / extension request %d not found", id, id))
}

var (
	errSupervisorOnly = apperr.Forbidden("supervisor_only", "仅督查员可以执行此操作 / only a supervisor (tasks.write) may do this")
	errNotYourUnit    = apperr.Forbidden("not_lead_unit", "仅责任单位可以执行此操作 / only the task's lead unit (tasks.report) may do this")
)

// invalid is a 422 naming the field; the code drops list indices
// ("milestones[2].due" → "invalid_milestones_due").
func invalid(field, zh, en string) *apperr.Error {
	code := field
	for {
		i := strings.IndexByte(code, '[')
		j := strings.IndexByte(code, ']')
		if i < 0 || j < i {
			break
		}
		code = code[:i] + code[j+1:]
	}
	code = strings.ReplaceAll(code, ".", "_")
	return &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + code, Field: field, Message: zh + " / " + en}
}

func conflict(code, zh, en string, details any) *apperr.Error {
	return &apperr.Error{Status: http.StatusConflict, Code: code, Message: zh + " / " + en, Details: details}
}

// TransitionDetails is the Details of a refused transition.
type TransitionDetails struct {
	State   State    `json:"state"`
	Action  Action   `json:"action"`
	Allowed []Action `json:"allowed"`
}

func errNotAllowed(st State, a Action) *apperr.Error {
	allowed := Allowed(st)
	names := make([]string, len(allowed))
	for i, x := range allowed {
		names[i] = string(x)
	}
	list := strings.Join(names, ", ")
	return conflict("transition_not_allowed",
		fmt.Sprintf("任务处于“%s”状态，不能执行 %s；可执行：%s", st.Text().ZH, a, list),
		fmt.Sprintf("action %s is not allowed in state %s; allowed: %s", a, st, list),
		TransitionDetails{State: st, Action: a, Allowed: allowed})
}

func errChanged(id int64) *apperr.Error {
	return conflict("task_changed", fmt.Sprintf("任务 %d 已被他人修改，请刷新后重试", id),
		fmt.Sprintf("task %d was changed by someone else; reload and try again", id), nil)
}

// Lights.

// Reason codes this package adds to the deadline engine's.
const (
	ReasonDraft     = "draft"
	ReasonCancelled = "cancelled"
)

// EvaluateTask decides the light of t on today with the deadline engine; a
// draft is not started and a cancelled task is done, with their own reasons.
// t.Milestones must be loaded.
func EvaluateTask(cal *workday.Calendar, th deadline.Thresholds, t *Task, today workday.Date) deadline.Result {
	switch t.State {
	case StateDraft:
		return deadline.Result{Light: deadline.LightNotStarted, Reasons: []deadline.Reason{{Code: ReasonDraft, Light: deadline.LightNotStarted,
			Text: deadline.Text{ZH: "草稿，尚未交办", EN: "Draft, not assigned yet"}}}}
	case StateCancelled:
		return deadline.Result{Light: deadline.LightDone, Reasons: []deadline.Reason{{Code: ReasonCancelled, Light: deadline.LightDone,
			Text: deadline.Text{ZH: "已撤销", EN: "Cancelled"}}}}
	}
	ms := make([]deadline.Milestone, len(t.Milestones))
	for i, m := range t.Milestones {
		ms[i] = deadline.Milestone{Name: m.Name, Due: m.Due, DoneOn: m.DoneOn}
	}
	return deadline.Evaluate(cal, deadline.Input{
		Today:        today,
		Start:        t.Start,
		Due:          t.Due,
		AssignedOn:   t.AssignedOn,
		Accepted:     t.State != StateAssigned,
		Submitted:    t.State == StateSubmitted,
		Done:         t.State == StateSignedOff,
		Progress:     t.Progress,
		Milestones:   ms,
		Cadence:      t.Cadence,
		LastReportOn: t.LastReportOn,
	}, thresholdsOr(th))
}

// thresholdsOr returns th, or the defaults when th is the zero value.
func thresholdsOr(th deadline.Thresholds) deadline.Thresholds {
	if th == (deadline.Thresholds{}) {
		return deadline.DefaultThresholds()
	}
	return th
}

func (s *Service) relight(t *Task, today workday.Date) deadline.Result {
	res := EvaluateTask(s.Cal, s.Thresholds, t, today)
	setLight(t, res, today)
	return res
}

// save writes t (lights recomputed) if nobody changed it since it was loaded.
func (s *Service) save(ctx context.Context, tx *db.Tx, t *Task, prev State, today workday.Date) error {
	s.relight(t, today)
	t.UpdatedAt = s.stamp()
	ok, err := updateTask(ctx, tx, t, t.Version, prev)
	if err != nil {
		return err
	}
	if !ok {
		return errChanged(t.ID)
	}
	return nil
}

func (s *Service) event(ctx context.Context, tx *db.Tx, a Actor, taskID int64, kind string, from, to State, note, detail string) error {
	return insertEvent(ctx, tx, Event{TaskID: taskID, At: s.stamp(), ActorID: a.id(), Actor: a.Username, Kind: kind,
		FromState: from, ToState: to, Note: note, Detail: detail})
}

// Reading.

// Task returns one task with its co-units and milestones, its light
// evaluated for today.
func (s *Service) Task(ctx context.Context, id int64) (*Task, error) {
	t, _, err := s.task(ctx, id)
	return t, err
}

func (s *Service) task(ctx context.Context, id int64) (*Task, deadline.Result, error) {
	t, err := loadTask(ctx, s.DB, id, false)
	if err != nil {
		return nil, deadline.Result{}, err
	}
	if t.CoUnitIDs, err = loadCoUnits(ctx, s.DB, id); err != nil {
		return nil, deadline.Result{}, err
	}
	if t.Milestones == nil {
		t.Milestones = []Milestone{}
	}
	return t, s.relight(t, s.Today()), nil
}

// Detail returns a task with everything on its page: light reasons,
// instruction, subtasks, reports (newest first), extension requests and
// the timeline (oldest first). lang picks the language of reasons.
func (s *Service) Detail(ctx context.Context, id int64, lang string) (*TaskDetail, error) {
	t, res, err := s.task(ctx, id)
	if err != nil {
		return nil, err
	}
	// Subtasks are listed with their stored lights: bring them to today.
	if err := s.ensureFresh(ctx); err != nil {
		return nil, err
	}
	d := &TaskDetail{Task: *t, Allowed: Allowed(t.State), LightReasons: res.Reasons}
	d.LightReason = t.LightText.In(lang)
	if t.InstructionID != nil {
		if d.Instruction, err = loadInstruction(ctx, s.DB, *t.InstructionID); err != nil {
			return nil, err
		}
	}
	children, _, err := listTasks(ctx, s.DB, Filter{ParentID: id, Limit: 1000}, s.Today())
	if err != nil {
		return nil, err
	}
	d.Children = make([]TaskItem, len(children))
	for i, c := range children {
		d.Children[i] = c.Item(lang)
	}
	if d.Reports, err = loadReports(ctx, s.DB, id, 100); err != nil {
		return nil, err
	}
	if d.Extensions, err = loadExtensions(ctx, s.DB, id); err != nil {
		return nil, err
	}
	if d.Events, err = loadEvents(ctx, s.DB, id); err != nil {
		return nil, err
	}
	return d, nil
}

// List returns tasks matching f (ordered by due date) and the total
// matching. Lights are brought up to date first, once a day.
func (s *Service) List(ctx context.Context, f Filter) ([]*Task, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	if err := s.ensureFresh(ctx); err != nil {
		return nil, 0, err
	}
	return listTasks(ctx, s.DB, f, s.Today())
}

// ensureFresh recomputes stale lights once per day per process, so that
// filtering by light sees today's lights.
func (s *Service) ensureFresh(ctx context.Context) error {
	today := s.Today()
	s.freshMu.Lock()
	defer s.freshMu.Unlock()
	if s.freshOn == today {
		return nil
	}
	if _, err := s.RefreshLights(ctx); err != nil {
		return err
	}
	s.freshOn = today
	return nil
}

// RefreshLights recomputes the stored lights of open tasks last lit before
// today and returns how many changed rows it wrote. The scheduler runs it
// after midnight; List runs it lazily. A task changed meanwhile is skipped:
// the change lit it already.
func (s *Service) RefreshLights(ctx context.Context) (int, error) {
	today := s.Today()
	total := 0
	lastID := int64(0)
	for {
		var n, seen int
		err := s.DB.InTx(ctx, func(tx *db.Tx) error {
			q := `SELECT ` + taskCols + ` FROM tasks
				WHERE id > ? AND state NOT IN ('signed_off','cancelled') AND (light_on IS NULL OR light_on < ?)
				ORDER BY id LIMIT 500`
			if tx.D() == db.Postgres {
				// Take every row of the batch at once and skip those being
				// changed (the change lights them): waiting for no row, the
				// pass cannot deadlock with transitions and roll-ups.
				q += ` FOR UPDATE SKIP LOCKED`
			}
			rows, err := tx.QueryContext(ctx, q, lastID, today)
			if err != nil {
				return fmt.Errorf("supervise: find stale lights: %w", err)
			}
			var batch []*Task
			for rows.Next() {
				t, err := scanTask(rows)
				if err != nil {
					rows.Close()
					return fmt.Errorf("supervise: scan task: %w", err)
				}
				batch = append(batch, t)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			seen = len(batch)
			if seen == 0 {
				return nil
			}
			lastID = batch[seen-1].ID
			ids := make([]int64, seen)
			for i, t := range batch {
				ids[i] = t.ID
			}
			ms, err := loadMilestones(ctx, tx, ids...)
			if err != nil {
				return err
			}
			for _, t := range batch {
				t.Milestones = ms[t.ID]
				s.relight(t, today)
				ok, err := storeLight(ctx, tx, t)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if seen < 500 {
			return total, nil
		}
	}
}

// Areas lists the campaign areas in display order; inactive ones too when
// all is set.
func (s *Service) Areas(ctx context.Context, all bool) ([]Area, error) {
	q := `SELECT code, name, name_en, sort_order, active FROM task_areas`
	if !all {
		q += ` WHERE active = TRUE`
	}
	rows, err := s.DB.QueryContext(ctx, q+` ORDER BY sort_order, code`)
	if err != nil {
		return nil, fmt.Errorf("supervise: list areas: %w", err)
	}
	defer rows.Close()
	out := []Area{}
	for rows.Next() {
		var a Area
		if err := rows.Scan(&a.Code, &a.Name, &a.NameEN, &a.SortOrder, &a.Active); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SaveArea adds an area or updates the one with the same code.
func (s *Service) SaveArea(ctx context.Context, a Actor, ar Area) (*Area, error) {
	if !a.supervises() {
		return nil, errSupervisorOnly
	}
	ar.Code, ar.Name, ar.NameEN = strings.TrimSpace(ar.Code), strings.TrimSpace(ar.Name), strings.TrimSpace(ar.NameEN)
	if !validCode(ar.Code) {
		return nil, invalid("code", "代码须为 1–40 位小写字母、数字或下划线", "code must be 1–40 lower-case letters, digits or underscores")
	}
	if ar.Name == "" || utf8.RuneCountInString(ar.Name) > 100 {
		return nil, invalid("name", "名称不能为空且不超过 100 字", "name is required, at most 100 characters")
	}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE task_areas SET name = ?, name_en = ?, sort_order = ?, active = ? WHERE code = ?`,
			ar.Name, ar.NameEN, ar.SortOrder, ar.Active, ar.Code)
		if err != nil {
			return fmt.Errorf("supervise: update area: %w", err)
		}
		action := "area.update"
		if n, _ := res.RowsAffected(); n == 0 {
			action = "area.create"
			if _, err := tx.ExecContext(ctx, `INSERT INTO task_areas (code, name, name_en, sort_order, active, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				ar.Code, ar.Name, ar.NameEN, ar.SortOrder, ar.Active, s.stamp()); err != nil {
				return fmt.Errorf("supervise: insert area: %w", err)
			}
		}
		e := a.entry(action, 0, fmt.Sprintf("%s %s active=%t", ar.Code, ar.Name, ar.Active))
		e.Object = "area:" + ar.Code
		return s.Audit.WriteTx(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return &ar, nil
}

func validCode(c string) bool {
	if c == "" || len(c) > 40 {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Creating.

const (
	maxTitle = 200
	maxText  = 10000
)

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// checkNewTask validates what can be checked without the database.
func checkNewTask(in *NewTask) error {
	in.Title = strings.TrimSpace(in.Title)
	in.Area = strings.TrimSpace(in.Area)
	in.Location = strings.TrimSpace(in.Location)
	if in.Priority == "" {
		in.Priority = PriorityNormal
	}
	if in.Weight == 0 {
		in.Weight = 1
	}
	switch {
	case in.Title == "":
		return invalid("title", "标题不能为空", "title is required")
	case tooLong(in.Title, maxTitle):
		return invalid("title", fmt.Sprintf("标题不超过 %d 字", maxTitle), fmt.Sprintf("title must be at most %d characters", maxTitle))
	case in.Area == "":
		return invalid("area", "领域不能为空", "area is required")
	case in.Source == "":
		return invalid("source", "任务来源不能为空", "source is required")
	case !in.Source.Valid():
		return invalid("source", "任务来源须为 "+sourceList(), "source must be one of "+sourceList())
	case tooLong(in.Description, maxText):
		return invalid("description", "描述过长", fmt.Sprintf("description must be at most %d characters", maxText))
	case tooLong(in.Acceptance, maxText):
		return invalid("acceptance", "技术指标过长", fmt.Sprintf("acceptance must be at most %d characters", maxText))
	case in.LeadUnitID <= 0:
		return invalid("lead_unit_id", "责任单位不能为空", "lead_unit_id is required")
	case in.OwnerID <= 0:
		return invalid("owner_id", "责任人不能为空", "owner_id is required")
	case in.Start.IsZero():
		return invalid("start", "开始时间不能为空", "start is required")
	case in.Due.IsZero() && in.DueWorkdays == 0:
		return invalid("due", "完成时限不能为空（日期或交办后工作日数）", "due is required (a date, or due_workdays after assignment)")
	case !in.Due.IsZero() && in.DueWorkdays != 0:
		return invalid("due", "完成时限只能给日期或工作日数之一", "give due or due_workdays, not both")
	case in.DueWorkdays < 0 || in.DueWorkdays > 1000:
		return invalid("due_workdays", "工作日数须为 1–1000", "due_workdays must be 1–1000")
	case !in.Due.IsZero() && in.Due.Before(in.Start):
		return invalid("due", fmt.Sprintf("完成时限 %s 早于开始时间 %s", in.Due, in.Start), fmt.Sprintf("due %s is before start %s", in.Due, in.Start))
	case !in.Priority.Valid():
		return invalid("priority", "优先级须为 normal、important 或 urgent", "priority must be normal, important or urgent")
	case !in.Cadence.Valid():
		return invalid("cadence", "报送频次须为 daily、weekly、biweekly 或 monthly", "cadence must be daily, weekly, biweekly or monthly")
	case in.Weight < 1 || in.Weight > 1000:
		return invalid("weight", "权重须为 1–1000", "weight must be 1–1000")
	case in.ParentID < 0:
		return invalid("parent_id", "上级任务编号无效", "parent_id is invalid")
	}
	for i, u := range in.CoUnitIDs {
		if u == in.LeadUnitID {
			return invalid("co_unit_ids", "配合单位不能是责任单位", "a co-unit cannot be the lead unit")
		}
		if slices.Contains(in.CoUnitIDs[:i], u) {
			return invalid("co_unit_ids", "配合单位重复", "co-units are listed twice")
		}
	}
	if in.Source == SourceInstruction {
		if in.InstructionID == 0 && in.Instruction == nil {
			return invalid("instruction", "领导批示任务须注明批示（领导、日期、内容）", "an instruction task needs the instruction (leader, date, text)")
		}
		if in.InstructionID != 0 && in.Instruction != nil {
			return invalid("instruction", "instruction_id 与 instruction 只能给一个", "give instruction_id or instruction, not both")
		}
		if ni := in.Instruction; ni != nil {
			ni.Leader, ni.Text, ni.DocNo = strings.TrimSpace(ni.Leader), strings.TrimSpace(ni.Text), strings.TrimSpace(ni.DocNo)
			switch {
			case ni.Leader == "":
				return invalid("instruction.leader", "批示领导不能为空", "instruction leader is required")
			case ni.IssuedOn.IsZero():
				return invalid("instruction.date", "批示日期不能为空", "instruction date is required")
			case ni.Text == "":
				return invalid("instruction.text", "批示内容不能为空", "instruction text is required")
			case tooLong(ni.Text, maxText):
				return invalid("instruction.text", "批示内容过长", "instruction text is too long")
			}
		}
	} else if in.InstructionID != 0 || in.Instruction != nil {
		return invalid("instruction", "只有来源为领导批示（instruction）的任务可以关联批示", "only tasks with source instruction carry an instruction")
	}
	if in.Source != SourceProject && (in.PlannedInvestment != nil || in.CompletedInvestment != nil || in.Stage != "" || in.Location != "") {
		field := "stage"
		switch {
		case in.PlannedInvestment != nil:
			field = "planned_investment"
		case in.CompletedInvestment != nil:
			field = "completed_investment"
		case in.Location != "":
			field = "location"
		}
		return invalid(field, "投资、阶段、地点仅适用于重点项目（source=project）", "investment, stage and location apply to key projects (source project) only")
	}
	if p := in.PlannedInvestment; p != nil && *p < 0 {
		return invalid("planned_investment", "计划投资不能为负数", "planned_investment must not be negative")
	}
	if p := in.CompletedInvestment; p != nil && *p < 0 {
		return invalid("completed_investment", "完成投资不能为负数", "completed_investment must not be negative")
	}
	if in.Stage != "" && in.Stage.Name() == "" {
		return invalid("stage", "项目阶段须为 preliminary（前期）、construction（在建）、completed（竣工）或 operation（投产）",
			"stage must be preliminary, construction, completed or operation")
	}
	for i := range in.Milestones {
		m := &in.Milestones[i]
		if err := checkMilestone(m, fmt.Sprintf("milestones[%d].", i), in.Start, in.Due); err != nil {
			return err
		}
	}
	return nil
}

func sourceList() string {
	names := make([]string, len(Sources))
	for i, s := range Sources {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// checkMilestone validates a roadmap step against the task's start and due
// date (due may be zero when not yet resolved).
func checkMilestone(m *NewMilestone, prefix string, start, due workday.Date) error {
	m.Name = strings.TrimSpace(m.Name)
	switch {
	case m.Name == "":
		return invalid(prefix+"name", "节点名称不能为空", "milestone name is required")
	case tooLong(m.Name, maxTitle):
		return invalid(prefix+"name", "节点名称过长", "milestone name is too long")
	case m.Due.IsZero():
		return invalid(prefix+"due", "节点时间不能为空", "milestone due date is required")
	case !due.IsZero() && m.Due.After(due):
		return invalid(prefix+"due", fmt.Sprintf("节点时间 %s 晚于任务完成时限 %s", m.Due, due), fmt.Sprintf("milestone due %s is after the task's due %s", m.Due, due))
	case !start.IsZero() && m.Due.Before(start):
		return invalid(prefix+"due", fmt.Sprintf("节点时间 %s 早于任务开始时间 %s", m.Due, start), fmt.Sprintf("milestone due %s is before the task's start %s", m.Due, start))
	case m.Seq < 0:
		return invalid(prefix+"seq", "顺序号不能为负数", "seq must not be negative")
	}
	return nil
}

// checkRefs validates the units, the owner, the parent and the instruction
// a new task names.
func (s *Service) checkRefs(ctx context.Context, q db.Querier, in *NewTask) (parent *Task, err error) {
	var active bool
	err = q.QueryRowContext(ctx, `SELECT active FROM task_areas WHERE code = ?`, in.Area).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !active) {
		return nil, invalid("area", fmt.Sprintf("领域 %q 不存在或已停用", in.Area), fmt.Sprintf("area %q is unknown or inactive", in.Area))
	}
	if err != nil {
		return nil, fmt.Errorf("supervise: check area: %w", err)
	}
	if ok, err := unitActive(ctx, q, in.LeadUnitID); err != nil {
		return nil, err
	} else if !ok {
		return nil, invalid("lead_unit_id", fmt.Sprintf("责任单位 %d 不存在或已停用", in.LeadUnitID), fmt.Sprintf("lead unit %d is unknown or inactive", in.LeadUnitID))
	}
	var ownerUnit int64
	var ownerActive bool
	err = q.QueryRowContext(ctx, `SELECT unit_id, active FROM people WHERE id = ?`, in.OwnerID).Scan(&ownerUnit, &ownerActive)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !ownerActive):
		return nil, invalid("owner_id", fmt.Sprintf("责任人 %d 不存在或已停用", in.OwnerID), fmt.Sprintf("owner %d is unknown or inactive", in.OwnerID))
	case err != nil:
		return nil, fmt.Errorf("supervise: check owner: %w", err)
	case ownerUnit != in.LeadUnitID:
		return nil, invalid("owner_id", fmt.Sprintf("责任人 %d 不属于责任单位 %d", in.OwnerID, in.LeadUnitID), fmt.Sprintf("owner %d does not belong to lead unit %d", in.OwnerID, in.LeadUnitID))
	}
	for _, u := range in.CoUnitIDs {
		if ok, err := unitActive(ctx, q, u); err != nil {
			return nil, err
		} else if !ok {
			return nil, invalid("co_unit_ids", fmt.Sprintf("配合单位 %d 不存在或已停用", u), fmt.Sprintf("co-unit %d is unknown or inactive", u))
		}
	}
	if in.InstructionID != 0 {
		ins, err := loadInstruction(ctx, q, in.InstructionID)
		if err != nil {
			return nil, err
		}
		if ins == nil {
			return nil, invalid("instruction_id", fmt.Sprintf("批示 %d 不存在", in.InstructionID), fmt.Sprintf("instruction %d not found", in.InstructionID))
		}
	}
	if in.ParentID != 0 {
		parent, err = loadTask(ctx, q, in.ParentID, true)
		if e, ok := apperr.As(err); ok && e.Status == http.StatusNotFound {
			return nil, invalid("parent_id", fmt.Sprintf("上级任务 %d 不存在", in.ParentID), fmt.Sprintf("parent task %d not found", in.ParentID))
		}
		if err != nil {
			return nil, err
		}
		if !parent.State.Open() || parent.State == StateSubmitted {
			return nil, invalid("parent_id", fmt.Sprintf("上级任务 %d 已%s，不能再分解", parent.ID, parent.State.Text().ZH),
				fmt.Sprintf("parent task %d is %s and takes no new subtasks", parent.ID, parent.State))
		}
		if !parent.Due.IsZero() && !in.Due.IsZero() && in.Due.After(parent.Due) {
			return nil, invalid("due", fmt.Sprintf("完成时限 %s 晚于上级任务的 %s", in.Due, parent.Due), fmt.Sprintf("due %s is after the parent task's due %s", in.Due, parent.Due))
		}
	}
	return parent, nil
}

func unitActive(ctx context.Context, q db.Querier, id int64) (bool, error) {
	var active bool
	err := q.QueryRowContext(ctx, `SELECT active FROM units WHERE id = ?`, id).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("supervise: check unit %d: %w", id, err)
	}
	return active, nil
}

// Create registers a task (a draft, or assigned at once when in.Assign).
// Only a supervisor may; bad input is refused naming the field, and nothing
// is saved.
func (s *Service) Create(ctx context.Context, a Actor, in NewTask) (*Task, error) {
	if !a.supervises() {
		return nil, errSupervisorOnly
	}
	if err := checkNewTask(&in); err != nil {
		return nil, err
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = s.create(ctx, tx, a, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Task(ctx, id)
}

// CreateTx registers a task inside the caller's transaction, so a feature
// that creates tasks with its own rows (a benchmark target's path) keeps
// them all or none.
func (s *Service) CreateTx(ctx context.Context, tx *db.Tx, a Actor, in NewTask) (int64, error) {
	if !a.supervises() {
		return 0, errSupervisorOnly
	}
	if err := checkNewTask(&in); err != nil {
		return 0, err
	}
	return s.create(ctx, tx, a, in)
}

func (s *Service) create(ctx context.Context, tx *db.Tx, a Actor, in NewTask) (int64, error) {
	parent, err := s.checkRefs(ctx, tx, &in)
	if err != nil {
		return 0, err
	}
	now, today := s.stamp(), s.Today()
	t := &Task{Source: in.Source, Area: in.Area, Title: in.Title, Description: in.Description, Acceptance: in.Acceptance,
		LeadUnitID: in.LeadUnitID, OwnerID: in.OwnerID, Priority: in.Priority, Cadence: in.Cadence, Weight: in.Weight,
		Start: in.Start, Due: in.Due, DueWorkdays: in.DueWorkdays, State: StateDraft, Version: 1,
		PlannedInvestment: in.PlannedInvestment, CompletedInvestment: in.CompletedInvestment, Stage: in.Stage, Location: in.Location,
		CreatedBy: a.id(), CreatedAt: now, UpdatedAt: now}
	if parent != nil {
		t.ParentID = &parent.ID
	}
	if in.InstructionID != 0 {
		t.InstructionID = &in.InstructionID
	}
	if ni := in.Instruction; ni != nil {
		iid, err := db.InsertID(ctx, tx, `INSERT INTO instructions (leader, issued_on, text, doc_no, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			ni.Leader, ni.IssuedOn, ni.Text, ni.DocNo, nullPtr(a.id()), now)
		if err != nil {
			return 0, fmt.Errorf("supervise: insert instruction: %w", err)
		}
		t.InstructionID = &iid
	}
	for i, m := range in.Milestones {
		seq := m.Seq
		if seq == 0 {
			seq = i + 1
		}
		t.Milestones = append(t.Milestones, Milestone{Seq: seq, Name: m.Name, Due: m.Due})
	}
	s.relight(t, today)
	if t.ID, err = insertTask(ctx, tx, t); err != nil {
		return 0, err
	}
	for _, u := range in.CoUnitIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO task_co_units (task_id, unit_id) VALUES (?, ?)`, t.ID, u); err != nil {
			return 0, fmt.Errorf("supervise: insert co-unit: %w", err)
		}
	}
	for _, m := range t.Milestones {
		if _, err := tx.ExecContext(ctx, `INSERT INTO task_milestones (task_id, seq, name, due_on, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, m.Seq, m.Name, m.Due, now, now); err != nil {
			return 0, fmt.Errorf("supervise: insert milestone: %w", err)
		}
	}
	detail := "due " + t.Due.String()
	if t.DueWorkdays > 0 {
		detail = fmt.Sprintf("due %d working days after assignment", t.DueWorkdays)
	}
	if err := s.event(ctx, tx, a, t.ID, EventCreate, "", StateDraft, "", detail); err != nil {
		return 0, err
	}
	if parent != nil {
		if err := s.event(ctx, tx, a, parent.ID, EventSubtaskAdd, "", "", t.Title, fmt.Sprintf("subtask %d weight %d", t.ID, t.Weight)); err != nil {
			return 0, err
		}
		if err := s.rollUp(ctx, tx, t.ParentID, today); err != nil {
			return 0, err
		}
	}
	if in.Assign {
		if _, err := s.transition(ctx, tx, a, t.ID, TransitionRequest{Action: ActionAssign}); err != nil {
			return 0, err
		}
	}
	// The audit record comes last in every transaction: on PostgreSQL it
	// takes a lock held to commit, so no row lock may be taken after it.
	summary := fmt.Sprintf("title=%q source=%s area=%s lead_unit=%d owner=%d start=%s %s", t.Title, t.Source, t.Area, t.LeadUnitID, t.OwnerID, t.Start, detail)
	if err := s.Audit.WriteTx(ctx, tx, a.entry("task.create", t.ID, summary)); err != nil {
		return 0, err
	}
	return t.ID, nil
}

// rollUp recomputes the progress of parentID and its ancestors from their
// subtasks, weighted; the parent row is locked before its subtasks are
// summed, so two subtasks reporting at once cannot lose an update.
func (s *Service) rollUp(ctx context.Context, tx *db.Tx, parentID *int64, today workday.Date) error {
	for pid := parentID; pid != nil; {
		p, err := loadTask(ctx, tx, *pid, true)
		if err != nil {
			return err
		}
		sum, weight, err := childProgress(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if weight == 0 {
			return nil // every subtask cancelled: the parent keeps its own figure
		}
		// Rounded down, so a parent reaches 100 % only when every
		// subtask has.
		np := int(sum / weight)
		if np == p.Progress {
			return nil
		}
		p.Progress = np
		if err := s.save(ctx, tx, p, p.State, today); err != nil {
			return err
		}
		pid = p.ParentID
	}
	return nil
}

// Lifecycle.

// Transition performs a lifecycle action. An action the state machine does
// not allow in the task's current state is a 409 whose details list the
// allowed actions; of two concurrent transitions of one task exactly one
// wins and the other gets that 409.
func (s *Service) Transition(ctx context.Context, a Actor, id int64, req TransitionRequest) (*Task, error) {
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		_, err := s.transition(ctx, tx, a, id, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Task(ctx, id)
}

func (s *Service) transition(ctx context.Context, tx *db.Tx, a Actor, id int64, req TransitionRequest) (*Task, error) {
	if !req.Action.Valid() {
		names := make([]string, len(Actions))
		for i, x := range Actions {
			names[i] = string(x)
		}
		return nil, invalid("action", "操作须为 "+strings.Join(names, ", "), "action must be one of "+strings.Join(names, ", "))
	}
	t, err := loadTask(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	if req.Action.BySupervisor() {
		if !a.supervises() {
			return nil, errSupervisorOnly
		}
	} else if !a.actsFor(t.LeadUnitID) {
		return nil, errNotYourUnit
	}
	from := t.State
	if !slices.Contains(lifecycle[from], req.Action) {
		return nil, errNotAllowed(from, req.Action)
	}
	if !req.Due.IsZero() && req.Action != ActionReopen {
		return nil, invalid("due", "只有重新办理（reopen）时可以给新的完成时限", "a new due date goes with reopen only")
	}
	reason := strings.TrimSpace(req.Reason)
	if tooLong(reason, maxText) {
		return nil, invalid("reason", "理由过长", "reason is too long")
	}
	needReason := func() error {
		if reason == "" {
			return invalid("reason", "请填写理由", fmt.Sprintf("%s needs a reason", req.Action))
		}
		return nil
	}
	now, today := s.stamp(), s.Today()
	detail := ""
	switch req.Action {
	case ActionAssign:
		due := deadline.DueSpec{On: t.Due, Workdays: t.DueWorkdays}
		if !t.Due.IsZero() {
			due.Workdays = 0
		}
		t.Due = due.Resolve(s.Cal, today)
		if t.Due.IsZero() {
			return nil, invalid("due", "缺少完成时限", "the task has no due date")
		}
		if t.Due.Before(t.Start) {
			return nil, invalid("due", fmt.Sprintf("完成时限 %s 早于开始时间 %s", t.Due, t.Start), fmt.Sprintf("due %s is before start %s", t.Due, t.Start))
		}
		for i, m := range t.Milestones {
			if m.Due.After(t.Due) {
				return nil, invalid(fmt.Sprintf("milestones[%d].due", i), fmt.Sprintf("节点“%s”时间 %s 晚于完成时限 %s", m.Name, m.Due, t.Due),
					fmt.Sprintf("milestone %q is due %s, after the task's due %s", m.Name, m.Due, t.Due))
			}
		}
		t.AssignedOn = today
		if t.BaselineDue.IsZero() {
			t.BaselineDue = t.Due
		}
		t.State = StateAssigned
		detail = "due " + t.Due.String()
	case ActionAccept:
		t.AcceptedAt = &now
		t.State = StateAccepted
	case ActionStart:
		t.State = StateInProgress
	case ActionSubmit:
		if t.Progress != 100 {
			return nil, invalid("progress", fmt.Sprintf("进度为 %d%%，须达到 100%% 才能申请办结", t.Progress),
				fmt.Sprintf("progress is %d%%; it must be 100%% to submit", t.Progress))
		}
		ev := strings.TrimSpace(req.Evidence)
		if tooLong(ev, maxText) {
			return nil, invalid("evidence", "办结材料说明过长", "evidence is too long")
		}
		if ev == "" {
			var files int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM task_attachments WHERE task_id = ?`, t.ID).Scan(&files); err != nil {
				return nil, fmt.Errorf("supervise: count attachments: %w", err)
			}
			if files == 0 {
				return nil, invalid("evidence", "申请办结须提供办结材料（说明或附件）", "submitting needs evidence (a description or attached files)")
			}
		} else {
			t.Evidence = ev
		}
		t.SubmittedAt = &now
		t.State = StateSubmitted
		if ev != "" {
			detail = "evidence: " + ev
		}
	case ActionSignOff:
		t.SignedOffAt, t.SignedOffOn = &now, today
		t.State = StateSignedOff
	case ActionReturn:
		if err := needReason(); err != nil {
			return nil, err
		}
		t.SubmittedAt = nil
		t.State = StateInProgress
	case ActionCancel:
		if err := needReason(); err != nil {
			return nil, err
		}
		t.CancelledAt = &now
		t.State = StateCancelled
	case ActionReopen:
		if err := needReason(); err != nil {
			return nil, err
		}
		if !req.Due.IsZero() {
			if req.Due.Before(today) {
				return nil, invalid("due", fmt.Sprintf("新的完成时限 %s 早于今天", req.Due), fmt.Sprintf("new due %s is in the past", req.Due))
			}
			detail = fmt.Sprintf("due %s → %s", t.Due, req.Due)
			t.Due = req.Due
		}
		t.SubmittedAt, t.SignedOffAt, t.SignedOffOn, t.CancelledAt = nil, nil, 0, nil
		switch {
		case t.AcceptedAt != nil:
			t.State = StateInProgress
		case !t.AssignedOn.IsZero():
			t.State = StateAssigned
		default:
			t.State = StateDraft
		}
	}
	if err := s.save(ctx, tx, t, from, today); err != nil {
		return nil, err
	}
	if err := s.event(ctx, tx, a, t.ID, string(req.Action), from, t.State, reason, detail); err != nil {
		return nil, err
	}
	if req.Action == ActionSignOff {
		// 回头看: plan the look-back (lookback.go).
		if err := s.scheduleLookBack(ctx, tx, a, t, today); err != nil {
			return nil, err
		}
	}
	summary := fmt.Sprintf("%s → %s", from, t.State)
	if reason != "" {
		summary += "; reason: " + reason
	}
	if detail != "" {
		summary += "; " + detail
	}
	// Signing off, cancelling and reopening change what a parent counts.
	if err := s.rollUp(ctx, tx, t.ParentID, today); err != nil {
		return nil, err
	}
	if err := s.Audit.WriteTx(ctx, tx, a.entry("task."+string(req.Action), t.ID, summary)); err != nil {
		return nil, err
	}
	return t, nil
}

// Reports.

// Report files a progress report for the lead unit. On an accepted task it
// also starts the work; the task's progress becomes the report's percent
// and its parents' progress rolls up.
func (s *Service) Report(ctx context.Context, a Actor, taskID int64, in NewReport) (*Report, error) {
	return s.report(ctx, a, taskID, in, nil)
}

// report files a progress report; within, when set, runs in the same
// transaction once the report is stored (attachments.go stores the
// report's files there) and returns a summary for the audit record.
func (s *Service) report(ctx context.Context, a Actor, taskID int64, in NewReport,
	within func(ctx context.Context, tx *db.Tx, t *Task, reportID int64) (string, error)) (*Report, error) {
	in.Text, in.Difficulties, in.NextSteps = strings.TrimSpace(in.Text), strings.TrimSpace(in.Difficulties), strings.TrimSpace(in.NextSteps)
	switch {
	case in.Percent != nil && (*in.Percent < 0 || *in.Percent > 100):
		return nil, invalid("percent", fmt.Sprintf("进度须为 0–100，收到 %d", *in.Percent), fmt.Sprintf("percent must be 0–100, got %d", *in.Percent))
	case in.Text == "":
		return nil, invalid("text", "进展情况不能为空", "text is required")
	case tooLong(in.Text, maxText):
		return nil, invalid("text", "进展情况过长", "text is too long")
	case tooLong(in.Difficulties, maxText):
		return nil, invalid("difficulties", "困难问题过长", "difficulties is too long")
	case tooLong(in.NextSteps, maxText):
		return nil, invalid("next_steps", "下步打算过长", "next_steps is too long")
	case in.CompletedInvestment != nil && *in.CompletedInvestment < 0:
		return nil, invalid("completed_investment", "完成投资不能为负数", "completed_investment must not be negative")
	}
	var rep *Report
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		t, err := loadTask(ctx, tx, taskID, true)
		if err != nil {
			return err
		}
		if !a.actsFor(t.LeadUnitID) {
			return errNotYourUnit
		}
		if t.State != StateAccepted && t.State != StateInProgress {
			return conflict("task_not_reportable", fmt.Sprintf("任务处于“%s”状态，不能报送进展（须已签收、办理中）", t.State.Text().ZH),
				fmt.Sprintf("a task in state %s takes no progress reports (it must be accepted or in progress)", t.State),
				map[string]any{"state": t.State})
		}
		kids, err := countChildren(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if kids > 0 && in.Percent != nil {
			return invalid("percent", "有子任务的任务进度由子任务汇总，请勿填写进度", "a task with subtasks takes its progress from them; leave percent out")
		}
		if kids == 0 && in.Percent == nil {
			return invalid("percent", "请填写进度（0–100）", "percent is required (0–100)")
		}
		if in.CompletedInvestment != nil && t.Source != SourceProject {
			return invalid("completed_investment", "完成投资仅适用于重点项目", "completed_investment applies to key projects only")
		}
		now, today := s.stamp(), s.Today()
		from := t.State
		if from == StateAccepted {
			t.State = StateInProgress
			if err := s.event(ctx, tx, a, t.ID, string(ActionStart), from, t.State, "", "started by the first progress report"); err != nil {
				return err
			}
		}
		var parts []string
		if from != t.State {
			parts = append(parts, "started")
		}
		if in.Percent != nil {
			parts = append(parts, fmt.Sprintf("progress %d%% → %d%%", t.Progress, *in.Percent))
			t.Progress = *in.Percent
		}
		if in.CompletedInvestment != nil {
			t.CompletedInvestment = in.CompletedInvestment
			parts = append(parts, fmt.Sprintf("completed investment %d 元", *in.CompletedInvestment))
		}
		detail := strings.Join(parts, "; ")
		t.LastReportOn = today
		if err := s.save(ctx, tx, t, from, today); err != nil {
			return err
		}
		var unit any
		if a.UnitID != 0 {
			unit = a.UnitID
		}
		rid, err := db.InsertID(ctx, tx, `INSERT INTO task_reports (task_id, unit_id, percent, text, difficulties, next_steps, completed_investment,
			reported_on, created_by, created_by_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, unit, nullPtr(in.Percent), in.Text, in.Difficulties, in.NextSteps, nullPtr(in.CompletedInvestment), today, nullPtr(a.id()), a.Username, now)
		if err != nil {
			return fmt.Errorf("supervise: insert report: %w", err)
		}
		if err := s.event(ctx, tx, a, t.ID, EventReport, "", "", in.Text, detail); err != nil {
			return err
		}
		summary := fmt.Sprintf("report %d; %s", rid, detail)
		if within != nil {
			more, err := within(ctx, tx, t, rid)
			if err != nil {
				return err
			}
			if more != "" {
				summary += "; " + more
			}
		}
		if err := s.rollUp(ctx, tx, t.ParentID, today); err != nil {
			return err
		}
		if err := s.Audit.WriteTx(ctx, tx, a.entry("task.report", t.ID, summary)); err != nil {
			return err
		}
		rep, err = scanReport(tx.QueryRowContext(ctx, `SELECT `+reportCols+` FROM task_reports WHERE id = ?`, rid))
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// Milestones.

// AddMilestone adds a roadmap step; a supervisor or the lead unit may. Its
// due date must lie between the task's start and due dates.
func (s *Service) AddMilestone(ctx context.Context, a Actor, taskID int64, in NewMilestone) (*Milestone, error) {
	var m *Milestone
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		t, err := loadTask(ctx, tx, taskID, true)
		if err != nil {
			return err
		}
		if !a.supervises() && !a.actsFor(t.LeadUnitID) {
			return errNotYourUnit
		}
		if err := checkMilestone(&in, "", t.Start, t.Due); err != nil {
			return err
		}
		if !t.State.Open() {
			return conflict("task_closed", fmt.Sprintf("任务已%s", t.State.Text().ZH), fmt.Sprintf("the task is %s", t.State), map[string]any{"state": t.State})
		}
		if in.Seq == 0 {
			for _, x := range t.Milestones {
				in.Seq = max(in.Seq, x.Seq)
			}
			in.Seq++
		}
		now, today := s.stamp(), s.Today()
		mid, err := db.InsertID(ctx, tx, `INSERT INTO task_milestones (task_id, seq, name, due_on, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, in.Seq, in.Name, in.Due, now, now)
		if err != nil {
			return fmt.Errorf("supervise: insert milestone: %w", err)
		}
		m = &Milestone{ID: mid, TaskID: t.ID, Seq: in.Seq, Name: in.Name, Due: in.Due}
		t.Milestones = append(t.Milestones, *m)
		if err := s.save(ctx, tx, t, t.State, today); err != nil {
			return err
		}
		detail := fmt.Sprintf("milestone %d due %s", mid, in.Due)
		if err := s.event(ctx, tx, a, t.ID, EventMilestoneAdd, "", "", in.Name, detail); err != nil {
			return err
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("task.milestone.add", t.ID, fmt.Sprintf("%q %s", in.Name, detail)))
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// CompleteMilestone marks a roadmap step done on doneOn (today when zero)
// with its evidence; the lead unit or a supervisor may.
func (s *Service) CompleteMilestone(ctx context.Context, a Actor, milestoneID int64, doneOn workday.Date, evidence string) (*Milestone, error) {
	evidence = strings.TrimSpace(evidence)
	today := s.Today()
	if doneOn.IsZero() {
		doneOn = today
	}
	switch {
	case evidence == "":
		return nil, invalid("evidence", "请说明完成情况（佐证材料）", "evidence is required")
	case tooLong(evidence, maxText):
		return nil, invalid("evidence", "佐证材料说明过长", "evidence is too long")
	case doneOn.After(today):
		return nil, invalid("done_on", fmt.Sprintf("完成日期 %s 晚于今天", doneOn), fmt.Sprintf("done_on %s is in the future", doneOn))
	}
	var m *Milestone
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if m, err = loadMilestone(ctx, tx, milestoneID); err != nil {
			return err
		}
		t, err := loadTask(ctx, tx, m.TaskID, true)
		if err != nil {
			return err
		}
		if !a.supervises() && !a.actsFor(t.LeadUnitID) {
			return errNotYourUnit
		}
		if !t.State.Open() {
			return conflict("task_closed", fmt.Sprintf("任务已%s", t.State.Text().ZH), fmt.Sprintf("the task is %s", t.State), map[string]any{"state": t.State})
		}
		res, err := tx.ExecContext(ctx, `UPDATE task_milestones SET done_on = ?, evidence = ?, updated_at = ? WHERE id = ? AND done_on IS NULL`,
			doneOn, evidence, s.stamp(), m.ID)
		if err != nil {
			return fmt.Errorf("supervise: complete milestone: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("milestone_done", fmt.Sprintf("节点已于 %s 完成", m.DoneOn), fmt.Sprintf("the milestone was done on %s", m.DoneOn), nil)
		}
		m.DoneOn, m.Evidence = doneOn, evidence
		for i := range t.Milestones {
			if t.Milestones[i].ID == m.ID {
				t.Milestones[i] = *m
			}
		}
		if err := s.save(ctx, tx, t, t.State, today); err != nil {
			return err
		}
		detail := fmt.Sprintf("milestone %d done %s (due %s)", m.ID, doneOn, m.Due)
		if err := s.event(ctx, tx, a, t.ID, EventMilestoneDone, "", "", m.Name+"："+evidence, detail); err != nil {
			return err
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("task.milestone.done", t.ID, detail))
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Extensions.

// RequestExtension asks, for the lead unit, to move a task's due date.
// One request per task may be pending.
func (s *Service) RequestExtension(ctx context.Context, a Actor, taskID int64, in NewExtension) (*Extension, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.Reason == "":
		return nil, invalid("reason", "请填写延期理由", "reason is required")
	case tooLong(in.Reason, maxText):
		return nil, invalid("reason", "延期理由过长", "reason is too long")
	case in.NewDue.IsZero():
		return nil, invalid("new_due", "请填写新的完成时限", "new_due is required")
	}
	var ext *Extension
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		t, err := loadTask(ctx, tx, taskID, true)
		if err != nil {
			return err
		}
		if !a.actsFor(t.LeadUnitID) {
			return errNotYourUnit
		}
		if t.State != StateAssigned && t.State != StateAccepted && t.State != StateInProgress {
			return conflict("task_not_extendable", fmt.Sprintf("任务处于“%s”状态，不能申请延期", t.State.Text().ZH),
				fmt.Sprintf("a task in state %s cannot be extended", t.State), map[string]any{"state": t.State})
		}
		if !in.NewDue.After(t.Due) {
			return invalid("new_due", fmt.Sprintf("新的完成时限 %s 须晚于现在的 %s", in.NewDue, t.Due), fmt.Sprintf("new_due %s must be after the current due %s", in.NewDue, t.Due))
		}
		if t.ParentID != nil {
			p, err := loadTask(ctx, tx, *t.ParentID, false)
			if err != nil {
				return err
			}
			if !p.Due.IsZero() && in.NewDue.After(p.Due) {
				return invalid("new_due", fmt.Sprintf("新的完成时限 %s 晚于上级任务的 %s", in.NewDue, p.Due), fmt.Sprintf("new_due %s is after the parent task's due %s", in.NewDue, p.Due))
			}
		}
		now := s.stamp()
		id, err := db.InsertID(ctx, tx, `INSERT INTO task_extensions (task_id, reason, old_due_on, new_due_on, state, requested_by, requested_by_name, requested_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`, t.ID, in.Reason, t.Due, in.NewDue, nullPtr(a.id()), a.Username, now)
		if db.IsUniqueViolation(err) {
			return conflict("extension_pending", "该任务已有待审批的延期申请", "the task already has a pending extension request", nil)
		}
		if err != nil {
			return fmt.Errorf("supervise: insert extension: %w", err)
		}
		detail := fmt.Sprintf("extension %d: due %s → %s", id, t.Due, in.NewDue)
		if err := s.event(ctx, tx, a, t.ID, EventExtensionRequest, "", "", in.Reason, detail); err != nil {
			return err
		}
		if err := s.Audit.WriteTx(ctx, tx, a.entry("task.extension.request", t.ID, detail)); err != nil {
			return err
		}
		ext, err = loadExtension(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ext, nil
}

// DecideExtension approves or refuses a pending request (a supervisor's
// call). Approval moves the task's due date; the baseline stays for scoring.
func (s *Service) DecideExtension(ctx context.Context, a Actor, extID int64, d Decision) (*Extension, error) {
	if !a.supervises() {
		return nil, errSupervisorOnly
	}
	d.Note = strings.TrimSpace(d.Note)
	if !d.Approve && d.Note == "" {
		return nil, invalid("note", "不同意延期须说明理由", "refusing needs a note saying why")
	}
	if tooLong(d.Note, maxText) {
		return nil, invalid("note", "说明过长", "note is too long")
	}
	var ext *Extension
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		e, err := loadExtension(ctx, tx, extID)
		if err != nil {
			return err
		}
		t, err := loadTask(ctx, tx, e.TaskID, true)
		if err != nil {
			return err
		}
		if e.State != ExtensionPending {
			return conflict("extension_decided", "该延期申请已审批", "the extension request was already decided", map[string]any{"state": e.State})
		}
		state, kind := ExtensionRefused, EventExtensionRefuse
		if d.Approve {
			state, kind = ExtensionApproved, EventExtensionApprove
		}
		now, today := s.stamp(), s.Today()
		res, err := tx.ExecContext(ctx, `UPDATE task_extensions SET state = ?, decided_by = ?, decided_by_name = ?, decided_at = ?, decision_note = ?
			WHERE id = ? AND state = 'pending'`, string(state), nullPtr(a.id()), a.Username, now, d.Note, e.ID)
		if err != nil {
			return fmt.Errorf("supervise: decide extension: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("extension_decided", "该延期申请已审批", "the extension request was already decided", nil)
		}
		detail := fmt.Sprintf("extension %d %s: due %s → %s", e.ID, state, e.OldDue, e.NewDue)
		if d.Approve {
			if !t.State.Open() {
				return conflict("task_closed", fmt.Sprintf("任务已%s", t.State.Text().ZH), fmt.Sprintf("the task is %s", t.State), map[string]any{"state": t.State})
			}
			t.Due = e.NewDue
			if err := s.save(ctx, tx, t, t.State, today); err != nil {
				return err
			}
		}
		if err := s.event(ctx, tx, a, t.ID, kind, "", "", d.Note, detail); err != nil {
			return err
		}
		if err := s.Audit.WriteTx(ctx, tx, a.entry("task.extension."+string(state), t.ID, detail)); err != nil {
			return err
		}
		ext, err = loadExtension(ctx, tx, e.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ext, nil
}
