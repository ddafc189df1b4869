// Package supervise is 挂图作战 and 督查督办: tasks with a lead unit, an
// owner, a timetable and a roadmap; their lifecycle from assignment to
// sign-off; progress reports; extension requests; lights from the deadline
// engine; and the timeline of every change.
//
// The package follows the house layout: model.go (types), store.go (SQL),
// service.go (rules, with the clock and the working-day calendar passed in),
// api.go (/api/v1 handlers) and openapi.json (their description). It also
// serves the working-day API (workdays.go), since the calendar is the one
// every due date here is counted in.
package supervise

import (
	"slices"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/workday"
)

// State is where a task is in its lifecycle.
type State string

const (
	StateDraft      State = "draft"       // 草稿: registered, not yet assigned
	StateAssigned   State = "assigned"    // 已交办: the lead unit has it
	StateAccepted   State = "accepted"    // 已签收
	StateInProgress State = "in_progress" // 办理中
	StateSubmitted  State = "submitted"   // 申请办结: awaiting sign-off
	StateSignedOff  State = "signed_off"  // 已销号
	StateCancelled  State = "cancelled"   // 已撤销
)

// States lists every state in lifecycle order.
var States = []State{StateDraft, StateAssigned, StateAccepted, StateInProgress, StateSubmitted, StateSignedOff, StateCancelled}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Open reports whether work on the task is still expected (not signed off
// and not cancelled).
func (s State) Open() bool { return s != StateSignedOff && s != StateCancelled }

// Text names the state in both languages.
func (s State) Text() deadline.Text {
	switch s {
	case StateDraft:
		return deadline.Text{ZH: "草稿", EN: "Draft"}
	case StateAssigned:
		return deadline.Text{ZH: "已交办", EN: "Assigned"}
	case StateAccepted:
		return deadline.Text{ZH: "已签收", EN: "Accepted"}
	case StateInProgress:
		return deadline.Text{ZH: "办理中", EN: "In progress"}
	case StateSubmitted:
		return deadline.Text{ZH: "申请办结", EN: "Submitted"}
	case StateSignedOff:
		return deadline.Text{ZH: "已销号", EN: "Signed off"}
	case StateCancelled:
		return deadline.Text{ZH: "已撤销", EN: "Cancelled"}
	}
	return deadline.Text{ZH: string(s), EN: string(s)}
}

// Action moves a task from one state to another.
type Action string

const (
	ActionAssign  Action = "assign"   // 交办 (supervisor): draft → assigned
	ActionAccept  Action = "accept"   // 签收 (lead unit): assigned → accepted
	ActionStart   Action = "start"    // 开始办理 (lead unit): accepted → in_progress
	ActionSubmit  Action = "submit"   // 申请办结 (lead unit): in_progress → submitted; needs 100 % and evidence
	ActionSignOff Action = "sign_off" // 销号 (supervisor): submitted → signed_off
	ActionReturn  Action = "return"   // 退回 (supervisor): submitted → in_progress, with a reason
	ActionCancel  Action = "cancel"   // 撤销 (supervisor): any open state → cancelled, with a reason
	ActionReopen  Action = "reopen"   // 重新办理 (supervisor): signed_off or cancelled → back to work, with a reason
)

// Actions lists every action.
var Actions = []Action{ActionAssign, ActionAccept, ActionStart, ActionSubmit, ActionSignOff, ActionReturn, ActionCancel, ActionReopen}

// Valid reports whether a is a known action.
func (a Action) Valid() bool { return slices.Contains(Actions, a) }

// BySupervisor reports whether the action is the supervisor's (tasks.write)
// rather than the lead unit's (tasks.report).
func (a Action) BySupervisor() bool {
	switch a {
	case ActionAccept, ActionStart, ActionSubmit:
		return false
	}
	return true
}

// lifecycle is the state machine: the actions allowed in each state.
var lifecycle = map[State][]Action{
	StateDraft:      {ActionAssign, ActionCancel},
	StateAssigned:   {ActionAccept, ActionCancel},
	StateAccepted:   {ActionStart, ActionCancel},
	StateInProgress: {ActionSubmit, ActionCancel},
	StateSubmitted:  {ActionSignOff, ActionReturn, ActionCancel},
	StateSignedOff:  {ActionReopen},
	StateCancelled:  {ActionReopen},
}

// Allowed returns the actions the state machine allows in state s.
func Allowed(s State) []Action { return slices.Clone(lifecycle[s]) }

// Source is where a task comes from (任务来源).
type Source string

const (
	SourcePlan        Source = "plan"        // 实施方案
	SourceInstruction Source = "instruction" // 领导批示
	SourceAssigned    Source = "assigned"    // 上级交办
	SourceProject     Source = "project"     // 重点项目
	SourceConcern     Source = "concern"     // 群众关注
	SourceFinding     Source = "finding"     // 督查问题
	SourceAppeal      Source = "appeal"      // 12345 诉求
	SourceBenchmark   Source = "benchmark"   // 对标达标路径
)

// Sources lists every source.
var Sources = []Source{SourcePlan, SourceInstruction, SourceAssigned, SourceProject, SourceConcern, SourceFinding, SourceAppeal, SourceBenchmark}

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return slices.Contains(Sources, s) }

// Priority is how urgent a task is.
type Priority string

const (
	PriorityNormal    Priority = "normal"    // 一般
	PriorityImportant Priority = "important" // 重要
	PriorityUrgent    Priority = "urgent"    // 紧急
)

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool {
	return p == PriorityNormal || p == PriorityImportant || p == PriorityUrgent
}

// Stage is where a key project stands.
type Stage string

const (
	StageNone         Stage = ""
	StagePreliminary  Stage = "preliminary"  // 前期
	StageConstruction Stage = "construction" // 在建
	StageCompleted    Stage = "completed"    // 竣工
	StageOperation    Stage = "operation"    // 投产
)

var stageNames = map[Stage]string{StagePreliminary: "前期", StageConstruction: "在建", StageCompleted: "竣工", StageOperation: "投产"}

// ParseStage accepts the identifier or the Chinese name (前期, 在建, 竣工,
// 投产), as plans and spreadsheets write it.
func ParseStage(s string) (Stage, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return StageNone, true
	}
	for st, zh := range stageNames {
		if s == string(st) || s == zh {
			return st, true
		}
	}
	return "", false
}

// Name is the stage's Chinese name.
func (s Stage) Name() string { return stageNames[s] }

// Task is a unit of supervised work.
type Task struct {
	ID            int64            `json:"id"`
	ParentID      *int64           `json:"parent_id"`
	Source        Source           `json:"source"`
	InstructionID *int64           `json:"instruction_id"`
	Area          string           `json:"area"`
	Title         string           `json:"title"`
	Description   string           `json:"description"`
	Acceptance    string           `json:"acceptance"` // 技术指标
	LeadUnitID    int64            `json:"lead_unit_id"`
	CoUnitIDs     []int64          `json:"co_unit_ids"`
	OwnerID       int64            `json:"owner_id"`
	Priority      Priority         `json:"priority"`
	Cadence       deadline.Cadence `json:"cadence"`
	// Weight is the task's share in its parent's progress, relative to its
	// siblings.
	Weight int          `json:"weight"`
	Start  workday.Date `json:"start"`
	// Due is the due date in force (null until a relative due is resolved
	// at assignment).
	Due workday.Date `json:"due"`
	// DueWorkdays is set when the due was given as N working days after
	// assignment.
	DueWorkdays int `json:"due_workdays,omitempty"`
	// BaselineDue is the due date at assignment, kept when extensions move
	// Due, for scoring.
	BaselineDue workday.Date `json:"baseline_due"`
	State       State        `json:"state"`
	Version     int          `json:"version"`
	// Progress is the percent complete: the last report's, or for a task
	// with subtasks the weighted mean of theirs.
	Progress     int          `json:"progress"`
	Evidence     string       `json:"evidence"`
	AssignedOn   workday.Date `json:"assigned_on"`
	AcceptedAt   *time.Time   `json:"accepted_at"`
	SubmittedAt  *time.Time   `json:"submitted_at"`
	SignedOffAt  *time.Time   `json:"signed_off_at"`
	SignedOffOn  workday.Date `json:"signed_off_on"`
	CancelledAt  *time.Time   `json:"cancelled_at"`
	LastReportOn workday.Date `json:"last_report_on"`

	// Key projects: investment in whole 元.
	PlannedInvestment   *int64 `json:"planned_investment"`
	CompletedInvestment *int64 `json:"completed_investment"`
	Stage               Stage  `json:"stage"`
	Location            string `json:"location"`

	Light     deadline.Light `json:"light"`
	LightCode string         `json:"light_code"`
	// LightReason is the light's main reason in the request's language.
	LightReason     string        `json:"light_reason"`
	LightText       deadline.Text `json:"-"`
	OverdueWorkdays int           `json:"overdue_workdays"`
	LightOn         workday.Date  `json:"-"`

	CreatedBy *int64    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Milestones, in order; loaded with the task wherever its light is
	// computed.
	Milestones []Milestone `json:"milestones"`
}

// TaskItem is one row of the task list.
type TaskItem struct {
	ID              int64          `json:"id"`
	ParentID        *int64         `json:"parent_id"`
	Title           string         `json:"title"`
	Source          Source         `json:"source"`
	Area            string         `json:"area"`
	LeadUnitID      int64          `json:"lead_unit_id"`
	OwnerID         int64          `json:"owner_id"`
	Priority        Priority       `json:"priority"`
	Start           workday.Date   `json:"start"`
	Due             workday.Date   `json:"due"`
	Light           deadline.Light `json:"light"`
	LightCode       string         `json:"light_code"`
	LightReason     string         `json:"light_reason"`
	OverdueWorkdays int            `json:"overdue_workdays"`
	Progress        int            `json:"progress"`
	Weight          int            `json:"weight"`
	State           State          `json:"state"`
}

// Item returns the list row of t, the reason in lang.
func (t *Task) Item(lang string) TaskItem {
	return TaskItem{ID: t.ID, ParentID: t.ParentID, Title: t.Title, Source: t.Source, Area: t.Area, LeadUnitID: t.LeadUnitID,
		OwnerID: t.OwnerID, Priority: t.Priority, Start: t.Start, Due: t.Due, Light: t.Light, LightCode: t.LightCode,
		LightReason: t.LightText.In(lang), OverdueWorkdays: t.OverdueWorkdays, Progress: t.Progress, Weight: t.Weight, State: t.State}
}

// TaskDetail is a task with everything on its page.
type TaskDetail struct {
	Task
	// LightReasons lists every cause of the light, most severe first.
	LightReasons []deadline.Reason `json:"light_reasons"`
	Instruction  *Instruction      `json:"instruction"`
	Children     []TaskItem        `json:"children"`
	Reports      []Report          `json:"reports"`
	Extensions   []Extension       `json:"extensions"`
	// Events is the timeline, oldest first.
	Events  []Event  `json:"events"`
	Allowed []Action `json:"allowed_actions"`
}

// Milestone is one dated step of a task's roadmap (时间表 / 路线图).
type Milestone struct {
	ID       int64        `json:"id"`
	TaskID   int64        `json:"task_id"`
	Seq      int          `json:"seq"`
	Name     string       `json:"name"`
	Due      workday.Date `json:"due"`
	DoneOn   workday.Date `json:"done_on"`
	Evidence string       `json:"evidence"`
}

// Report is a progress report (进展).
type Report struct {
	ID     int64  `json:"id"`
	TaskID int64  `json:"task_id"`
	UnitID *int64 `json:"unit_id"`
	// Percent is null on a task with subtasks, whose progress rolls up.
	Percent             *int         `json:"percent"`
	Text                string       `json:"text"`
	Difficulties        string       `json:"difficulties"`
	NextSteps           string       `json:"next_steps"`
	CompletedInvestment *int64       `json:"completed_investment"`
	ReportedOn          workday.Date `json:"reported_on"`
	CreatedBy           *int64       `json:"created_by"`
	CreatedByName       string       `json:"created_by_name"`
	CreatedAt           time.Time    `json:"created_at"`
}

// ExtensionState is where an extension request stands.
type ExtensionState string

const (
	ExtensionPending  ExtensionState = "pending"
	ExtensionApproved ExtensionState = "approved"
	ExtensionRefused  ExtensionState = "refused"
)

// Extension is a request to move a task's due date (延期申请).
type Extension struct {
	ID              int64          `json:"id"`
	TaskID          int64          `json:"task_id"`
	Reason          string         `json:"reason"`
	OldDue          workday.Date   `json:"old_due"`
	NewDue          workday.Date   `json:"new_due"`
	State           ExtensionState `json:"state"`
	RequestedBy     *int64         `json:"requested_by"`
	RequestedByName string         `json:"requested_by_name"`
	RequestedAt     time.Time      `json:"requested_at"`
	DecidedBy       *int64         `json:"decided_by"`
	DecidedByName   string         `json:"decided_by_name"`
	DecidedAt       *time.Time     `json:"decided_at"`
	DecisionNote    string         `json:"decision_note"`
}

// Event kinds on a task's timeline besides the lifecycle actions, which
// appear under their own names ("assign", "accept", …).
const (
	EventCreate           = "create"
	EventReport           = "report"
	EventMilestoneAdd     = "milestone_add"
	EventMilestoneDone    = "milestone_done"
	EventExtensionRequest = "extension_request"
	EventExtensionApprove = "extension_approve"
	EventExtensionRefuse  = "extension_refuse"
	EventSubtaskAdd       = "subtask_add"
)

// Event is one entry on a task's timeline: who did what, when.
type Event struct {
	ID        int64     `json:"id"`
	TaskID    int64     `json:"task_id"`
	At        time.Time `json:"at"`
	ActorID   *int64    `json:"actor_id"`
	Actor     string    `json:"actor"`
	Kind      string    `json:"kind"`
	FromState State     `json:"from_state,omitempty"`
	ToState   State     `json:"to_state,omitempty"`
	// Note is what the person wrote (a reason, a report's text).
	Note string `json:"note"`
	// Detail is a short machine-written summary ("due 2026-03-20").
	Detail string `json:"detail"`
}

// Area is a campaign area the battle map groups tasks by (领域).
type Area struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	NameEN    string `json:"name_en"`
	SortOrder int    `json:"sort_order"`
	Active    bool   `json:"active"`
}

// Instruction is a leader's written instruction (批示).
type Instruction struct {
	ID       int64        `json:"id"`
	Leader   string       `json:"leader"`
	IssuedOn workday.Date `json:"date"`
	Text     string       `json:"text"`
	DocNo    string       `json:"doc_no"`
}

// NewInstruction is an instruction registered with its first task.
type NewInstruction struct {
	Leader   string
	IssuedOn workday.Date
	Text     string
	DocNo    string
}

// NewMilestone is a roadmap step to add.
type NewMilestone struct {
	Name string
	Due  workday.Date
	// Seq orders the step; 0 puts it after the others.
	Seq int
}

// NewTask is what registering a task needs. Zero values mean "not given".
type NewTask struct {
	Title       string
	Area        string
	Source      Source
	Description string
	Acceptance  string
	LeadUnitID  int64
	CoUnitIDs   []int64
	OwnerID     int64
	Start       workday.Date
	// Due is a fixed due date; DueWorkdays instead counts working days
	// after assignment. Exactly one is given.
	Due         workday.Date
	DueWorkdays int
	Priority    Priority
	Cadence     deadline.Cadence
	ParentID    int64
	Weight      int
	// InstructionID links an instruction already registered; Instruction
	// registers a new one. Only for source "instruction", which needs one.
	InstructionID int64
	Instruction   *NewInstruction
	Milestones    []NewMilestone

	PlannedInvestment   *int64
	CompletedInvestment *int64
	Stage               Stage
	Location            string

	// Assign assigns the task at once (交办) instead of leaving a draft.
	Assign bool
}

// TransitionRequest asks for a lifecycle action.
type TransitionRequest struct {
	Action Action
	// Reason is required for return, cancel and reopen.
	Reason string
	// Evidence (办结材料) is required to submit unless files are attached.
	Evidence string
	// Due optionally sets a new due date when reopening.
	Due workday.Date
}

// NewReport is a progress report to file.
type NewReport struct {
	// Percent is required on a task without subtasks, and must be left out
	// on one with subtasks.
	Percent             *int
	Text                string
	Difficulties        string
	NextSteps           string
	CompletedInvestment *int64
}

// NewExtension asks to move a due date.
type NewExtension struct {
	Reason string
	NewDue workday.Date
}

// Decision answers an extension request.
type Decision struct {
	Approve bool
	// Note explains the decision; required when refusing.
	Note string
}

// Filter narrows the task list.
type Filter struct {
	Light    deadline.Light
	Area     string
	UnitID   int64 // lead unit
	Source   Source
	State    State
	ParentID int64
	// Overdue: nil for all, true for past due and not signed off, false
	// for the rest.
	Overdue *bool
	// Leader keeps tasks from this leader's instructions.
	Leader string
	// KeyProjects keeps key projects (source project).
	KeyProjects bool
	// OnBoard keeps what the battle map counts (not draft, not cancelled),
	// so a drill-down lists exactly what a count said.
	OnBoard bool
	// OpenOnly leaves out signed-off and cancelled tasks.
	OpenOnly      bool
	Limit, Offset int
}
