package supervise

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// The instruction chain (三四八): a leader's instruction → the tasks and
// units it went to → the people → their reports → sign-off → look-back,
// with timestamps and who held the work after each step.
//
// Look-backs are read from the tasks' timelines (events whose kind starts
// with "lookback"), so the chain shows them whatever table keeps them.

// maxChainTasks bounds the tasks (and subtasks) one chain shows.
const maxChainTasks = 500

// Ref names a unit or a person.
type Ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ChainStep is one step of the chain.
type ChainStep struct {
	At        time.Time `json:"at"`
	TaskID    int64     `json:"task_id"`
	Kind      string    `json:"kind"`
	FromState State     `json:"from_state,omitempty"`
	ToState   State     `json:"to_state,omitempty"`
	// Actor is who took the step (display name, else account name).
	Actor string `json:"actor"`
	// Holder says who held the work after the step: a unit, the
	// supervisors (awaiting sign-off), a reviewer, or nobody (closed).
	Holder     string `json:"holder"`
	HolderKind string `json:"holder_kind"` // lead_unit | supervisor | reviewer | closed
	Note       string `json:"note"`
	Detail     string `json:"detail"`
}

// ChainReport is a progress report on the chain.
type ChainReport struct {
	ID          int64        `json:"id"`
	ReportedOn  workday.Date `json:"reported_on"`
	At          time.Time    `json:"at"`
	Percent     *int         `json:"percent"`
	Text        string       `json:"text"`
	By          string       `json:"by"`
	Attachments int          `json:"attachments"`
}

// ChainTask is one task an instruction went to.
type ChainTask struct {
	ID          int64          `json:"id"`
	ParentID    *int64         `json:"parent_id"`
	Depth       int            `json:"depth"`
	Title       string         `json:"title"`
	State       State          `json:"state"`
	Light       deadline.Light `json:"light"`
	LightReason string         `json:"light_reason"`
	Progress    int            `json:"progress"`
	Start       workday.Date   `json:"start"`
	Due         workday.Date   `json:"due"`
	BaselineDue workday.Date   `json:"baseline_due"`
	LeadUnit    Ref            `json:"lead_unit"`
	CoUnits     []Ref          `json:"co_units"`
	Owner       Ref            `json:"owner"`
	AssignedOn  workday.Date   `json:"assigned_on"`
	AcceptedAt  *time.Time     `json:"accepted_at"`
	SubmittedAt *time.Time     `json:"submitted_at"`
	SignedOffAt *time.Time     `json:"signed_off_at"`
	Reports     []ChainReport  `json:"reports"`
	// SignOff is the last sign-off step, if any.
	SignOff   *ChainStep  `json:"sign_off"`
	LookBacks []ChainStep `json:"lookbacks"`
	// Holder is who holds the work now.
	Holder     string      `json:"holder"`
	HolderKind string      `json:"holder_kind"`
	Steps      []ChainStep `json:"steps"`
}

// Chain is an instruction followed to the end.
type Chain struct {
	Instruction Instruction `json:"instruction"`
	Tasks       []ChainTask `json:"tasks"`
	// Steps is every task's steps in time order.
	Steps []ChainStep `json:"steps"`
	Total int         `json:"total"`
	Done  int         `json:"done"`
	Open  int         `json:"open"`
	// Truncated is set when the chain has more than maxChainTasks tasks.
	Truncated bool `json:"truncated"`
}

// InstructionItem is a row of the instruction list.
type InstructionItem struct {
	Instruction
	Tasks int `json:"tasks"`
	Done  int `json:"done"`
	Red   int `json:"red"`
}

// Instructions lists instructions, newest first, with their tasks' counts.
func (s *Service) Instructions(ctx context.Context, leader string, limit, offset int) ([]InstructionItem, int, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	where, args := "", []any{}
	if leader != "" {
		where, args = " WHERE i.leader = ?", append(args, leader)
	}
	var total int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM instructions i`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("supervise: count instructions: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT i.id, i.leader, i.issued_on, i.text, i.doc_no,
		COUNT(t.id), COALESCE(SUM(CASE WHEN t.state = 'signed_off' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN t.light = 'red' THEN 1 ELSE 0 END), 0)
		FROM instructions i LEFT JOIN tasks t ON t.instruction_id = i.id AND t.state <> 'cancelled'`+where+`
		GROUP BY i.id, i.leader, i.issued_on, i.text, i.doc_no ORDER BY i.issued_on DESC, i.id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("supervise: list instructions: %w", err)
	}
	defer rows.Close()
	out := []InstructionItem{}
	for rows.Next() {
		var it InstructionItem
		if err := rows.Scan(&it.ID, &it.Leader, &it.IssuedOn, &it.Text, &it.DocNo, &it.Tasks, &it.Done, &it.Red); err != nil {
			return nil, 0, fmt.Errorf("supervise: scan instruction: %w", err)
		}
		out = append(out, it)
	}
	return out, total, rows.Err()
}

func errInstructionNotFound(id int64) error {
	return apperr.NotFound("instruction_not_found", fmt.Sprintf("批示 %d 不存在 / instruction %d not found", id, id))
}

// InstructionChain follows an instruction through its tasks (and their
// subtasks); lang picks the language of lights and holders.
func (s *Service) InstructionChain(ctx context.Context, id int64, lang string) (*Chain, error) {
	ins, err := loadInstruction(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if ins == nil {
		return nil, errInstructionNotFound(id)
	}
	if err := s.ensureFresh(ctx); err != nil {
		return nil, err
	}
	c := &Chain{Instruction: *ins, Tasks: []ChainTask{}, Steps: []ChainStep{}}

	// The tasks that name the instruction, then their subtasks, level by level.
	var tasks []*Task
	depth := map[int64]int{}
	level, err := s.chainTasks(ctx, `instruction_id = ?`, id)
	if err != nil {
		return nil, err
	}
	for d := 0; len(level) > 0 && d < 10; d++ {
		var ids []any
		for _, t := range level {
			if _, seen := depth[t.ID]; seen {
				continue
			}
			if len(tasks) == maxChainTasks {
				c.Truncated = true
				break
			}
			depth[t.ID] = d
			tasks = append(tasks, t)
			ids = append(ids, t.ID)
		}
		if len(ids) == 0 || c.Truncated {
			break
		}
		if level, err = s.chainTasks(ctx, `parent_id IN (`+placeholders(len(ids))+`)`, ids...); err != nil {
			return nil, err
		}
	}
	// Subtasks right under their parents.
	tasks = treeOrder(tasks)
	if len(tasks) == 0 {
		return c, nil
	}

	ids := make([]any, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	in := placeholders(len(ids))
	units, err := unitNames(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	people, err := s.personNames(ctx, ownerIDs(tasks))
	if err != nil {
		return nil, err
	}
	coUnits := map[int64][]int64{}
	if err := s.eachRow(ctx, `SELECT task_id, unit_id FROM task_co_units WHERE task_id IN (`+in+`) ORDER BY task_id, unit_id`, ids, func(scan func(...any) error) error {
		var t, u int64
		if err := scan(&t, &u); err != nil {
			return err
		}
		coUnits[t] = append(coUnits[t], u)
		return nil
	}); err != nil {
		return nil, err
	}
	files := map[int64]int{}
	if err := s.eachRow(ctx, `SELECT report_id, COUNT(*) FROM task_attachments WHERE task_id IN (`+in+`) AND report_id IS NOT NULL GROUP BY report_id`, ids, func(scan func(...any) error) error {
		var r int64
		var n int
		if err := scan(&r, &n); err != nil {
			return err
		}
		files[r] = n
		return nil
	}); err != nil {
		return nil, err
	}
	reports := map[int64][]ChainReport{}
	reportBy := map[int64]int64{} // report → account
	actorIDs := map[int64]bool{}
	if err := s.eachRow(ctx, `SELECT id, task_id, reported_on, created_at, percent, text, created_by_name, created_by FROM task_reports WHERE task_id IN (`+in+`) ORDER BY id`, ids, func(scan func(...any) error) error {
		var r ChainReport
		var task int64
		var pct, by *int64
		if err := scan(&r.ID, &task, &r.ReportedOn, &r.At, &pct, &r.Text, &r.By, &by); err != nil {
			return err
		}
		if by != nil {
			reportBy[r.ID] = *by
			actorIDs[*by] = true
		}
		if pct != nil {
			p := int(*pct)
			r.Percent = &p
		}
		r.At = r.At.UTC()
		r.Attachments = files[r.ID]
		reports[task] = append(reports[task], r)
		return nil
	}); err != nil {
		return nil, err
	}
	events := map[int64][]Event{}
	if err := s.eachRow(ctx, `SELECT id, task_id, at, actor_id, actor, kind, from_state, to_state, note, detail FROM task_events WHERE task_id IN (`+in+`) ORDER BY id`, ids, func(scan func(...any) error) error {
		var e Event
		if err := scan(&e.ID, &e.TaskID, &e.At, &e.ActorID, &e.Actor, &e.Kind, &e.FromState, &e.ToState, &e.Note, &e.Detail); err != nil {
			return err
		}
		e.At = e.At.UTC()
		if e.ActorID != nil {
			actorIDs[*e.ActorID] = true
		}
		events[e.TaskID] = append(events[e.TaskID], e)
		return nil
	}); err != nil {
		return nil, err
	}
	actors, err := s.userNames(ctx, actorIDs)
	if err != nil {
		return nil, err
	}

	for _, t := range tasks {
		ct := ChainTask{ID: t.ID, ParentID: t.ParentID, Depth: depth[t.ID], Title: t.Title, State: t.State, Light: t.Light,
			LightReason: t.LightText.In(lang), Progress: t.Progress, Start: t.Start, Due: t.Due, BaselineDue: t.BaselineDue,
			LeadUnit: Ref{ID: t.LeadUnitID, Name: units[t.LeadUnitID].Name}, CoUnits: []Ref{},
			Owner: Ref{ID: t.OwnerID, Name: people[t.OwnerID]}, AssignedOn: t.AssignedOn, AcceptedAt: t.AcceptedAt,
			SubmittedAt: t.SubmittedAt, SignedOffAt: t.SignedOffAt, Reports: reports[t.ID], LookBacks: []ChainStep{}, Steps: []ChainStep{}}
		if ct.Reports == nil {
			ct.Reports = []ChainReport{}
		}
		for i := range ct.Reports {
			if n := actors[reportBy[ct.Reports[i].ID]]; n != "" {
				ct.Reports[i].By = n
			}
		}
		for _, u := range coUnits[t.ID] {
			ct.CoUnits = append(ct.CoUnits, Ref{ID: u, Name: units[u].Name})
		}
		holder, kind := "", "supervisor"
		for _, e := range events[t.ID] {
			st := ChainStep{At: e.At, TaskID: t.ID, Kind: e.Kind, FromState: e.FromState, ToState: e.ToState, Actor: e.Actor, Note: e.Note, Detail: e.Detail}
			if e.ActorID != nil && actors[*e.ActorID] != "" {
				st.Actor = actors[*e.ActorID]
			}
			holder, kind = s.holderAfter(e, st.Actor, ct.LeadUnit.Name, holder, kind, lang)
			st.Holder, st.HolderKind = holder, kind
			switch {
			case e.Kind == string(ActionSignOff):
				so := st
				ct.SignOff = &so
			case strings.HasPrefix(e.Kind, "lookback"):
				ct.LookBacks = append(ct.LookBacks, st)
			}
			ct.Steps = append(ct.Steps, st)
			c.Steps = append(c.Steps, st)
		}
		ct.Holder, ct.HolderKind = holder, kind
		c.Total++
		switch {
		case t.State == StateSignedOff:
			c.Done++
		case t.State.Open():
			c.Open++
		}
		c.Tasks = append(c.Tasks, ct)
	}
	sort.SliceStable(c.Steps, func(i, j int) bool { return c.Steps[i].At.Before(c.Steps[j].At) })
	return c, nil
}

// holderAfter says who holds a task after event e, given who held it before.
func (s *Service) holderAfter(e Event, actorName, unit, prev, prevKind, lang string) (string, string) {
	supervisors := pageText(lang, "sv.holder.supervisor")
	switch {
	case strings.HasPrefix(e.Kind, "lookback"):
		if e.ToState != "" && e.ToState.Open() {
			return unit, "lead_unit" // a failed look-back reopened it
		}
		return actorName, "reviewer"
	}
	switch e.Kind {
	case EventCreate:
		return supervisors, "supervisor"
	case string(ActionSubmit):
		return supervisors, "supervisor"
	case string(ActionSignOff):
		return pageText(lang, "sv.holder.closed"), "closed"
	case string(ActionCancel):
		return pageText(lang, "sv.holder.cancelled"), "closed"
	}
	switch e.ToState {
	case StateDraft:
		return supervisors, "supervisor"
	case StateAssigned, StateAccepted, StateInProgress:
		return unit, "lead_unit"
	}
	if prev == "" {
		return supervisors, "supervisor"
	}
	return prev, prevKind
}

// chainTasks reads tasks matching cond (not cancelled ones' subtasks are
// kept too: the chain shows what happened).
func (s *Service) chainTasks(ctx context.Context, cond string, args ...any) ([]*Task, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE `+cond+` ORDER BY id LIMIT ?`, append(args, maxChainTasks+1)...)
	if err != nil {
		return nil, fmt.Errorf("supervise: chain tasks: %w", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("supervise: scan task: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// treeOrder puts each task's subtasks right after it.
func treeOrder(ts []*Task) []*Task {
	byParent := map[int64][]*Task{}
	in := map[int64]bool{}
	for _, t := range ts {
		in[t.ID] = true
	}
	var roots []*Task
	for _, t := range ts {
		if t.ParentID != nil && in[*t.ParentID] {
			byParent[*t.ParentID] = append(byParent[*t.ParentID], t)
		} else {
			roots = append(roots, t)
		}
	}
	out := make([]*Task, 0, len(ts))
	var walk func(t *Task)
	walk = func(t *Task) {
		out = append(out, t)
		for _, c := range byParent[t.ID] {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

func ownerIDs(ts []*Task) []int64 {
	var out []int64
	for _, t := range ts {
		out = append(out, t.OwnerID)
	}
	return out
}

// eachRow runs a query and calls fn for each row.
func (s *Service) eachRow(ctx context.Context, q string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := s.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("supervise: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("supervise: scan: %w", err)
		}
	}
	return rows.Err()
}

// personNames names people by id.
func (s *Service) personNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	uniq := map[int64]bool{}
	var args []any
	for _, id := range ids {
		if id != 0 && !uniq[id] {
			uniq[id] = true
			args = append(args, id)
		}
	}
	if len(args) == 0 {
		return out, nil
	}
	err := s.eachRow(ctx, `SELECT id, name FROM people WHERE id IN (`+placeholders(len(args))+`)`, args, func(scan func(...any) error) error {
		var id int64
		var name string
		if err := scan(&id, &name); err != nil {
			return err
		}
		out[id] = name
		return nil
	})
	return out, err
}

// userNames gives accounts' display names (else account names).
func (s *Service) userNames(ctx context.Context, ids map[int64]bool) (map[int64]string, error) {
	out := map[int64]string{}
	var args []any
	for id := range ids {
		args = append(args, id)
	}
	if len(args) == 0 {
		return out, nil
	}
	err := s.eachRow(ctx, `SELECT id, display_name, username FROM users WHERE id IN (`+placeholders(len(args))+`)`, args, func(scan func(...any) error) error {
		var id int64
		var dn, un string
		if err := scan(&id, &dn, &un); err != nil {
			return err
		}
		if dn == "" {
			dn = un
		}
		out[id] = dn
		return nil
	})
	return out, err
}

// GET /api/v1/instructions/{id}/chain
func (s *Service) apiChain(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.InstructionChain(r.Context(), id, lang(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

// GET /api/v1/instructions
func (s *Service) apiInstructions(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	items, total, err := s.Instructions(r.Context(), strings.TrimSpace(r.URL.Query().Get("leader")), limit, offset)
	if err != nil {
		return err
	}
	return web.WriteList(w, items, total)
}

// ---- pages ----

type instructionRow struct {
	InstructionItem
	Date, Short string
}

type instructionsPage struct {
	Rows             []instructionRow
	Leaders          []option
	Total, From, To  int
	PrevURL, NextURL string
	CanCreate        bool
}

func (s *Service) getInstructions(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	leader := strings.TrimSpace(q.Get("leader"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	items, total, err := s.Instructions(ctx, leader, taskPageSize, offset)
	if err != nil {
		return err
	}
	leaders, err := s.Leaders(ctx)
	if err != nil {
		return err
	}
	d := instructionsPage{Leaders: stringOptions(leaders, leader), Total: total, CanCreate: viewerOf(r).supervisor}
	for _, it := range items {
		short := []rune(it.Text)
		if len(short) > 60 {
			short = append(short[:60], '…')
		}
		d.Rows = append(d.Rows, instructionRow{InstructionItem: it, Date: it.IssuedOn.String(), Short: string(short)})
	}
	if len(items) > 0 {
		d.From, d.To = offset+1, offset+len(items)
	}
	link := func(off int) string {
		v := url.Values{}
		if leader != "" {
			v.Set("leader", leader)
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return "/instructions"
		}
		return "/instructions?" + v.Encode()
	}
	if offset > 0 {
		d.PrevURL = link(max(offset-taskPageSize, 0))
	}
	if offset+len(items) < total {
		d.NextURL = link(offset + taskPageSize)
	}
	return s.ws().HTML(w, r, "task_instructions.html", "sv.instructions.title", d)
}

type chainStepView struct {
	At, Label, Actor, Holder, HolderKind, Note, Task string
	TaskID                                           int64
}

type chainReportView struct {
	ChainReport
	When, Pct string
}

type chainTaskView struct {
	ChainTask
	StateLabel, LightLabel, DueText string
	CoUnitNames                     string
	BaselineMoved                   bool
	Steps, LookBackViews            []chainStepView
	ReportViews                     []chainReportView
	SignOffView                     *chainStepView
}

type chainPage struct {
	C      *Chain
	Date   string
	Tasks  []chainTaskView
	Steps  []chainStepView
	CanAdd bool
}

func (s *Service) stepView(lang string, st ChainStep, title string) chainStepView {
	return chainStepView{At: s.localTime(st.At), Label: eventLabel(lang, st.Kind), Actor: st.Actor, Holder: st.Holder, HolderKind: st.HolderKind,
		Note: st.Note, Task: title, TaskID: st.TaskID}
}

func (s *Service) getChain(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	lang := pageLang(r)
	c, err := s.InstructionChain(r.Context(), id, lang)
	if err != nil {
		return err
	}
	d := chainPage{C: c, Date: c.Instruction.IssuedOn.String(), CanAdd: viewerOf(r).supervisor}
	titles := map[int64]string{}
	for _, t := range c.Tasks {
		titles[t.ID] = t.Title
		tv := chainTaskView{ChainTask: t, StateLabel: t.State.Text().In(lang), LightLabel: t.Light.Text().In(lang),
			BaselineMoved: !t.BaselineDue.IsZero() && t.BaselineDue != t.Due}
		var names []string
		for _, u := range t.CoUnits {
			names = append(names, u.Name)
		}
		tv.CoUnitNames = strings.Join(names, "、")
		for _, st := range t.Steps {
			tv.Steps = append(tv.Steps, s.stepView(lang, st, t.Title))
		}
		for _, st := range t.LookBacks {
			tv.LookBackViews = append(tv.LookBackViews, s.stepView(lang, st, t.Title))
		}
		if t.SignOff != nil {
			sv := s.stepView(lang, *t.SignOff, t.Title)
			tv.SignOffView = &sv
		}
		for _, rp := range t.Reports {
			rv := chainReportView{ChainReport: rp, When: s.localTime(rp.At)}
			if rp.Percent != nil {
				rv.Pct = strconv.Itoa(*rp.Percent) + "%"
			}
			tv.ReportViews = append(tv.ReportViews, rv)
		}
		d.Tasks = append(d.Tasks, tv)
	}
	for _, st := range c.Steps {
		d.Steps = append(d.Steps, s.stepView(lang, st, titles[st.TaskID]))
	}
	page := s.ws().NewPage(r, "sv.chain.title", d)
	return s.ws().HTMLPage(w, http.StatusOK, "task_chain.html", page)
}
