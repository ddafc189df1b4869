package supervise

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/web"
)

// Pages: the task list, a liaison's "my unit" list, the task page with its
// timeline and every action a person may take as a button, the create form,
// the report form, extension requests and decisions, instructions and
// their chains, and the battle map (board, big screen, A3 print).
//
// Every form posts to a page route that calls the same service method as
// the API, so the rules (who may, in which state, with what input) live
// once; a refused form is shown again with the message next to its field
// and the input kept.

//go:embed templates/*.html templates/parts/*.html static/* openapi_pages.json
var pageFiles embed.FS

// pageState is what the pages add to the service.
type pageState struct {
	web      *web.Server
	filesDir string
	board    boardCache
}

func (s *Service) ext() *pageState {
	if p := s.pages.Load(); p != nil {
		return p
	}
	s.pages.CompareAndSwap(nil, &pageState{})
	return s.pages.Load()
}

// ClosePages releases what the pages hold open (the battle map's change
// check connection).
func (s *Service) ClosePages() { s.ext().board.close() }

const taskPageSize = 50

// RegisterPages adds the pages, their API routes (battle map, attachments,
// instruction chains), templates, messages, navigation, static files, home
// figures and the OpenAPI fragment to ws. Call it after Register.
func (s *Service) RegisterPages(ws *web.Server) error {
	s.ext().web = ws
	if ws.Cfg.Location != nil {
		s.Loc = ws.Cfg.Location
	}
	pages, err := fs.Glob(pageFiles, "templates/*.html")
	if err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	if err := ws.Render.Add(pageFiles, pages...); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	ws.Messages.Add(messagesZH, messagesEN)
	if err := ws.OpenAPI.AddFragment(pageFiles, "openapi_pages.json"); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	ws.Nav(
		web.NavItem{Key: "nav.battlemap", Path: "/battlemap", Perm: auth.PermTasksRead, Order: 10},
		web.NavItem{Key: "nav.supervise", Path: "/tasks", Perm: auth.PermTasksRead, Order: 11},
		web.NavItem{Key: "nav.mytasks", Path: "/tasks/mine", Perm: auth.PermTasksReport, Order: 11},
	)
	for _, rt := range []route{
		// Tasks.
		{"GET /tasks", auth.PermTasksRead, s.getTasks},
		{"GET /tasks/mine", auth.PermTasksReport, s.getMine},
		{"GET /tasks/new", auth.PermTasksWrite, s.getNewTask},
		{"POST /tasks", auth.PermTasksWrite, s.postNewTask},
		{"GET /tasks/{id}", auth.PermTasksRead, s.getTask},
		{"POST /tasks/{id}/assign", auth.PermTasksWrite, s.postAction(ActionAssign)},
		{"POST /tasks/{id}/accept", auth.PermTasksReport, s.postAction(ActionAccept)},
		{"POST /tasks/{id}/start", auth.PermTasksReport, s.postAction(ActionStart)},
		{"POST /tasks/{id}/submit", auth.PermTasksReport, s.postAction(ActionSubmit)},
		{"POST /tasks/{id}/sign-off", auth.PermTasksWrite, s.postAction(ActionSignOff)},
		{"POST /tasks/{id}/return", auth.PermTasksWrite, s.postAction(ActionReturn)},
		{"POST /tasks/{id}/cancel", auth.PermTasksWrite, s.postAction(ActionCancel)},
		{"POST /tasks/{id}/reopen", auth.PermTasksWrite, s.postAction(ActionReopen)},
		{"GET /tasks/{id}/report", auth.PermTasksReport, s.getReport},
		{"POST /tasks/{id}/report", auth.PermTasksReport, s.postReport},
		{"POST /tasks/{id}/extensions", auth.PermTasksReport, s.postExtension},
		{"POST /extensions/{id}/decision", auth.PermTasksWrite, s.postDecision},
		// A supervisor or the lead unit: the service decides.
		{"POST /tasks/{id}/milestones", auth.PermTasksRead, s.postMilestone},
		{"POST /milestones/{id}/complete", auth.PermTasksRead, s.postMilestoneDone},
		{"POST /tasks/{id}/attachments", auth.PermTasksRead, s.postAttachments},
		{"POST /tasks/{id}/urge", auth.PermTasksWrite, s.postUrge},
		{"POST /lookbacks/{id}/result", auth.PermTasksWrite, s.postLookBack},
		{"GET /lookbacks", auth.PermTasksRead, s.getLookBacks},
		{"GET /notices", auth.PermTasksRead, s.getNotices},
		{"GET /attachments/{id}", auth.PermTasksRead, s.sendAttachment},
		// Instructions.
		{"GET /instructions", auth.PermTasksRead, s.getInstructions},
		{"GET /instructions/{id}", auth.PermTasksRead, s.getChain},
		// Battle map.
		{"GET /battlemap", auth.PermTasksRead, s.getBoard},
		{"GET /battlemap/screen", auth.PermTasksRead, s.getScreen},
		{"GET /battlemap/print", auth.PermTasksRead, s.getPrint},
		{"GET /static/supervise/{file}", auth.PermPublic, web.FeatureStatic(pageFiles, "static")},
		// API.
		{"GET /api/v1/battlemap", auth.PermTasksRead, s.apiBattleMap},
		{"GET /api/v1/instructions", auth.PermTasksRead, s.apiInstructions},
		{"GET /api/v1/instructions/{id}/chain", auth.PermTasksRead, s.apiChain},
		{"GET /api/v1/tasks/{id}/attachments", auth.PermTasksRead, s.apiListAttachments},
		{"POST /api/v1/tasks/{id}/attachments", auth.PermTasksRead, s.apiAddAttachments},
		{"GET /api/v1/attachments/{id}", auth.PermTasksRead, s.sendAttachment},
	} {
		ws.Handle(rt.pattern, rt.perm, rt.h)
	}
	ws.AddStat(s.statRed)
	ws.AddStat(s.statUnitOpen)
	return nil
}

// Home figures.

func (s *Service) statRed(ctx context.Context, p *auth.Principal) (web.Stat, bool) {
	if !p.Can(auth.PermTasksRead) {
		return web.Stat{}, false
	}
	n, err := countTasks(ctx, s.DB, Filter{Light: deadline.LightRed, OnBoard: true}, s.Today())
	if err != nil {
		return web.Stat{}, false
	}
	return web.Stat{Key: "sv.stat.red", Value: strconv.Itoa(n)}, true
}

func (s *Service) statUnitOpen(ctx context.Context, p *auth.Principal) (web.Stat, bool) {
	if !p.Can(auth.PermTasksReport) || p.UnitID == nil {
		return web.Stat{}, false
	}
	// On the board and still open: assigned, accepted, in progress or submitted.
	n, err := countTasks(ctx, s.DB, Filter{UnitID: *p.UnitID, OnBoard: true, OpenOnly: true}, s.Today())
	if err != nil {
		return web.Stat{}, false
	}
	return web.Stat{Key: "sv.stat.unit_open", Value: strconv.Itoa(n)}, true
}

// ---- helpers ----

// option is an <option> of a <select>.
type option struct {
	Value, Label string
	Selected     bool
}

// formErr is a refused form: which form, which field, what to say.
type formErr struct {
	Form, Field, Text string
}

// inLang picks one language of a "中文 / English" message.
func inLang(lang, msg string) string {
	zh, en, ok := strings.Cut(msg, " / ")
	if !ok {
		return msg
	}
	if lang == "en" {
		return en
	}
	return zh
}

// userError returns the status, field and message (in lang) of an error a
// person can act on; ok is false for anything else (a 500).
func userError(lang string, err error) (status int, field, text string, ok bool) {
	e, isApp := apperr.As(err)
	if !isApp {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, "", inLang(lang, fmt.Sprintf("请求过大（上限 %d MB）/ the request is too large (limit %d MB)", mbe.Limit>>20, mbe.Limit>>20)), true
		}
		return 0, "", "", false
	}
	text = inLang(lang, e.Message)
	return e.Status, e.Field, text, true
}

func (s *Service) ws() *web.Server { return s.ext().web }

func pageLang(r *http.Request) string { return web.Lang(r.Context()) }

// viewer describes who looks at a page.
type viewer struct {
	p          *auth.Principal
	supervisor bool
	reporter   bool
	unitID     int64
}

func viewerOf(r *http.Request) viewer {
	p := web.PrincipalFrom(r.Context())
	v := viewer{p: p, supervisor: p.Can(auth.PermTasksWrite), reporter: p.Can(auth.PermTasksReport)}
	if p != nil && p.UnitID != nil {
		v.unitID = *p.UnitID
	}
	return v
}

// actsFor reports whether the viewer acts for unit (as the lead unit).
func (v viewer) actsFor(unit int64) bool { return v.reporter && v.unitID != 0 && v.unitID == unit }

// labels translates codes on pages.
type labels struct {
	lang  string
	areas map[string]Area
	units map[int64]unitRef
}

func (s *Service) labels(ctx context.Context, lang string) (*labels, error) {
	as, err := s.Areas(ctx, true)
	if err != nil {
		return nil, err
	}
	us, err := unitNames(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	l := &labels{lang: lang, areas: map[string]Area{}, units: us}
	for _, a := range as {
		l.areas[a.Code] = a
	}
	return l, nil
}

func (l *labels) area(code string) string {
	a, ok := l.areas[code]
	switch {
	case !ok:
		return code
	case l.lang == "en" && a.NameEN != "":
		return a.NameEN
	}
	return a.Name
}

func (l *labels) unit(id int64) string {
	if u, ok := l.units[id]; ok {
		return u.Name
	}
	return "#" + strconv.FormatInt(id, 10)
}

func (l *labels) source(s Source) string        { return pageText(l.lang, "sv.source."+string(s)) }
func (l *labels) state(s State) string          { return s.Text().In(l.lang) }
func (l *labels) light(x deadline.Light) string { return x.Text().In(l.lang) }
func (l *labels) priority(p Priority) string    { return pageText(l.lang, "sv.priority."+string(p)) }

func (l *labels) areaOptions(selected string, activeOnly bool) []option {
	var out []option
	codes := make([]Area, 0, len(l.areas))
	for _, a := range l.areas {
		if activeOnly && !a.Active && a.Code != selected {
			continue
		}
		codes = append(codes, a)
	}
	slices.SortFunc(codes, func(a, b Area) int {
		if a.SortOrder != b.SortOrder {
			return a.SortOrder - b.SortOrder
		}
		return strings.Compare(a.Code, b.Code)
	})
	for _, a := range codes {
		out = append(out, option{Value: a.Code, Label: l.area(a.Code), Selected: a.Code == selected})
	}
	return out
}

func (l *labels) unitOptions(selected string) []option {
	us := make([]unitRef, 0, len(l.units))
	for _, u := range l.units {
		if u.Active || strconv.FormatInt(u.ID, 10) == selected {
			us = append(us, u)
		}
	}
	slices.SortFunc(us, func(a, b unitRef) int { return strings.Compare(a.Code, b.Code) })
	out := make([]option, 0, len(us))
	for _, u := range us {
		v := strconv.FormatInt(u.ID, 10)
		out = append(out, option{Value: v, Label: u.Name + " (" + u.Code + ")", Selected: v == selected})
	}
	return out
}

func (l *labels) sourceOptions(selected string) []option {
	out := make([]option, 0, len(Sources))
	for _, src := range Sources {
		out = append(out, option{Value: string(src), Label: l.source(src), Selected: string(src) == selected})
	}
	return out
}

func (l *labels) lightOptions(selected string) []option {
	out := make([]option, 0, len(BoardLights))
	for _, x := range BoardLights {
		out = append(out, option{Value: string(x), Label: l.light(x), Selected: string(x) == selected})
	}
	return out
}

func (l *labels) stateOptions(selected string) []option {
	out := make([]option, 0, len(States))
	for _, st := range States {
		out = append(out, option{Value: string(st), Label: l.state(st), Selected: string(st) == selected})
	}
	return out
}

func stringOptions(values []string, selected string) []option {
	out := make([]option, 0, len(values))
	for _, v := range values {
		out = append(out, option{Value: v, Label: v, Selected: v == selected})
	}
	return out
}

// yuanToWan shows whole 元 as 万元.
func yuanToWan(p *int64) string {
	if p == nil {
		return ""
	}
	s := new(big.Rat).SetFrac64(*p, 10000).FloatString(4)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// parseWan reads an amount in 万元 (up to four decimals) as whole 元.
func parseWan(field, v string) (*int64, error) {
	v = strings.TrimSpace(strings.ReplaceAll(v, ",", ""))
	if v == "" {
		return nil, nil
	}
	r, ok := new(big.Rat).SetString(v)
	if ok {
		r.Mul(r, big.NewRat(10000, 1))
	}
	if !ok || !r.IsInt() || r.Sign() < 0 || !r.Num().IsInt64() {
		return nil, invalid(field, "金额须为不小于 0 的数，单位万元，最多 4 位小数", "amount must be a number ≥ 0 in 10,000 yuan, at most 4 decimals")
	}
	n := r.Num().Int64()
	return &n, nil
}

// ---- the task list ----

// listQuery is the task list's filter.
type listQuery struct {
	Filter
	// Scope "open" (the default without other filters) leaves out signed
	// off and cancelled tasks; "all" keeps them.
	Scope string
}

func (q listQuery) values() url.Values {
	v := BoardFilter{Area: q.Area, UnitID: q.UnitID, Source: q.Source, Leader: q.Leader, Light: q.Light, Key: q.KeyProjects}.Query()
	if q.State != "" {
		v.Set("state", string(q.State))
	}
	if q.Overdue != nil && *q.Overdue {
		v.Set("overdue", "1")
	}
	if q.OnBoard {
		v.Set("board", "1")
	}
	if q.Scope != "" {
		v.Set("scope", q.Scope)
	}
	return v
}

// parseListQuery reads the list's filters; a value that makes no sense is
// left out rather than refused (a page is not an API).
func parseListQuery(q url.Values) listQuery {
	var lq listQuery
	if bf, err := ParseBoardFilter(q); err == nil {
		lq.Area, lq.UnitID, lq.Source, lq.Leader, lq.Light, lq.KeyProjects = bf.Area, bf.UnitID, bf.Source, bf.Leader, bf.Light, bf.Key
	}
	if st := State(q.Get("state")); st.Valid() {
		lq.State = st
	}
	if b, err := strconv.ParseBool(q.Get("overdue")); err == nil && b {
		lq.Overdue = &b
	}
	if b, err := strconv.ParseBool(q.Get("board")); err == nil {
		lq.OnBoard = b
	}
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		lq.Offset = off
	}
	switch q.Get("scope") {
	case "open", "all":
		lq.Scope = q.Get("scope")
	default:
		lq.Scope = "open"
		if lq.Light != "" || lq.State != "" || lq.OnBoard || lq.Overdue != nil {
			lq.Scope = "all"
		}
	}
	lq.Limit = taskPageSize
	return lq
}

// listPage lists tasks for the list page with the one list query.
func (s *Service) listPage(ctx context.Context, q listQuery) ([]*Task, int, error) {
	q.OpenOnly = q.Scope == "open" && q.State == ""
	return s.List(ctx, q.Filter)
}

// taskRow is a task in a list.
type taskRow struct {
	ID                                      int64
	Title, Area, Source, Unit, Owner, State string
	StateCode                               State
	Due, Start                              string
	Light                                   deadline.Light
	LightLabel, Reason                      string
	Progress, Overdue                       int
	Priority                                string
	Urgent                                  bool
}

func (s *Service) rows(ctx context.Context, l *labels, ts []*Task) ([]taskRow, error) {
	owners := make([]int64, len(ts))
	for i, t := range ts {
		owners[i] = t.OwnerID
	}
	people, err := s.personNames(ctx, owners)
	if err != nil {
		return nil, err
	}
	out := make([]taskRow, 0, len(ts))
	for _, t := range ts {
		out = append(out, taskRow{ID: t.ID, Title: t.Title, Area: l.area(t.Area), Source: l.source(t.Source), Unit: l.unit(t.LeadUnitID),
			Owner: people[t.OwnerID], State: l.state(t.State), StateCode: t.State, Due: t.Due.String(), Start: t.Start.String(),
			Light: t.Light, LightLabel: l.light(t.Light), Reason: t.LightText.In(l.lang), Progress: t.Progress,
			Overdue: t.OverdueWorkdays, Priority: l.priority(t.Priority), Urgent: t.Priority != PriorityNormal})
	}
	return out, nil
}

type listPage struct {
	Rows                                           []taskRow
	Total, From, To                                int
	PrevURL, NextURL                               string
	Areas, Units, Sources, Leaders, Lights, States []option
	Key, Overdue, Board                            bool
	Scope                                          string
	CanCreate                                      bool
	Filtered                                       bool
	ClearURL                                       string
}

func (s *Service) getTasks(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	lang := pageLang(r)
	q := parseListQuery(r.URL.Query())
	ts, total, err := s.listPage(ctx, q)
	if err != nil {
		return err
	}
	l, err := s.labels(ctx, lang)
	if err != nil {
		return err
	}
	leaders, err := s.Leaders(ctx)
	if err != nil {
		return err
	}
	d := listPage{Total: total, Key: q.KeyProjects, Overdue: q.Overdue != nil, Board: q.OnBoard, Scope: q.Scope, CanCreate: viewerOf(r).supervisor,
		Areas: l.areaOptions(q.Area, false), Units: l.unitOptions(idString(q.UnitID)), Sources: l.sourceOptions(string(q.Source)),
		Leaders: stringOptions(leaders, q.Leader), Lights: l.lightOptions(string(q.Light)), States: l.stateOptions(string(q.State)), ClearURL: "/tasks"}
	if d.Rows, err = s.rows(ctx, l, ts); err != nil {
		return err
	}
	vals := q.values()
	vals.Del("scope")
	d.Filtered = len(vals) > 0 || q.Scope != "open"
	if len(ts) > 0 {
		d.From, d.To = q.Offset+1, q.Offset+len(ts)
	}
	link := func(off int) string {
		v := q.values()
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return "/tasks"
		}
		return "/tasks?" + v.Encode()
	}
	if q.Offset > 0 {
		d.PrevURL = link(max(q.Offset-taskPageSize, 0))
	}
	if q.Offset+len(ts) < total {
		d.NextURL = link(q.Offset + taskPageSize)
	}
	return s.ws().HTML(w, r, "task_list.html", "nav.supervise", d)
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// ---- my unit ----

type mineRow struct {
	taskRow
	NextReport string
	Late       bool
	LateText   string
	CanReport  bool
	Pending    bool // an extension request awaits a decision
}

type minePage struct {
	NoUnit     bool
	UnitName   string
	ToAccept   []mineRow
	ReportsDue []mineRow
	Submitted  []mineRow
	Open       []mineRow
	Done       int
}

// cadenceDays is the calendar length of a report period, for showing when
// the next report is expected (the light applies the exact rule).
var cadenceDays = map[deadline.Cadence]int{deadline.CadenceDaily: 1, deadline.CadenceWeekly: 7, deadline.CadenceBiweekly: 14, deadline.CadenceMonthly: 31}

func (s *Service) getMine(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	lang := pageLang(r)
	v := viewerOf(r)
	d := minePage{}
	if v.unitID == 0 {
		d.NoUnit = true
		return s.ws().HTML(w, r, "task_mine.html", "nav.mytasks", d)
	}
	if err := s.ensureFresh(ctx); err != nil {
		return err
	}
	l, err := s.labels(ctx, lang)
	if err != nil {
		return err
	}
	d.UnitName = l.unit(v.unitID)
	ts, _, err := listTasks(ctx, s.DB, Filter{UnitID: v.unitID, OnBoard: true, OpenOnly: true, Limit: 1000}, s.Today())
	if err != nil {
		return fmt.Errorf("supervise: my tasks: %w", err)
	}
	if d.Done, err = countTasks(ctx, s.DB, Filter{UnitID: v.unitID, State: StateSignedOff}, s.Today()); err != nil {
		return err
	}
	ids := make([]int64, len(ts))
	args := make([]any, len(ts))
	for i, t := range ts {
		ids[i], args[i] = t.ID, t.ID
	}
	ms, err := loadMilestones(ctx, s.DB, ids...)
	if err != nil {
		return err
	}
	pending := map[int64]bool{}
	if len(args) > 0 {
		if err := s.eachRow(ctx, `SELECT task_id FROM task_extensions WHERE state = 'pending' AND task_id IN (`+placeholders(len(args))+`)`, args, func(scan func(...any) error) error {
			var id int64
			if err := scan(&id); err != nil {
				return err
			}
			pending[id] = true
			return nil
		}); err != nil {
			return err
		}
	}
	base, err := s.rows(ctx, l, ts)
	if err != nil {
		return err
	}
	today := s.Today()
	for i, t := range ts {
		t.Milestones = ms[t.ID]
		row := mineRow{taskRow: base[i], Pending: pending[t.ID], CanReport: t.State == StateAccepted || t.State == StateInProgress}
		if days := cadenceDays[t.Cadence]; days > 0 && row.CanReport {
			since := t.LastReportOn
			if since.IsZero() {
				since = t.Start
				if !t.AssignedOn.IsZero() && t.AssignedOn.After(since) {
					since = t.AssignedOn
				}
			}
			row.NextReport = since.AddDays(days).String()
			for _, rs := range EvaluateTask(s.Cal, s.Thresholds, t, today).Reasons {
				if rs.Code == deadline.ReasonReportLate || rs.Code == deadline.ReasonReportMissing {
					row.Late, row.LateText = true, rs.Text.In(lang)
				}
			}
		}
		switch t.State {
		case StateAssigned:
			d.ToAccept = append(d.ToAccept, row)
		case StateSubmitted:
			d.Submitted = append(d.Submitted, row)
		default:
			if row.Late || (row.NextReport != "" && row.NextReport <= today.AddDays(2).String()) {
				d.ReportsDue = append(d.ReportsDue, row)
			}
			d.Open = append(d.Open, row)
		}
	}
	return s.ws().HTML(w, r, "task_mine.html", "nav.mytasks", d)
}

// ---- the task page ----

type refView struct {
	ID   int64
	Name string
}

type fileView struct {
	ID                   int64
	Name, Type, Size, By string
	At, SHA              string
}

type msView struct {
	ID                int64
	Seq               int
	Name, Due, DoneOn string
	Evidence          string
	Done, Late        bool
}

type reportView struct {
	ID                                     int64
	Percent, Text, Difficulties, NextSteps string
	ReportedOn, By, At, Investment         string
	Files                                  []fileView
}

type extView struct {
	ID                                int64
	Reason, OldDue, NewDue, State, By string
	At, DecidedBy, DecidedAt, Note    string
	Pending                           bool
}

type reminderView struct {
	At, Kind, Message, By string
	Recipients            int
}

type lookBackView struct {
	ID                                     int64
	Due, Reviewer, State, Findings, NewDue string
	DecidedBy, DecidedAt                   string
	Pending                                bool
}

type noticeView struct {
	No, Level, LevelLabel, IssuedOn, Text, To string
	Overdue                                   int
}

type eventView struct {
	At, Actor, Label, From, To, Note, Detail string
	Kind                                     string
}

type detailPage struct {
	T                                    *TaskDetail
	Area, Source, State, Light, Priority string
	Cadence, Stage                       string
	Reasons                              []string
	LeadUnit                             refView
	CoUnits                              []refView
	Owner                                refView
	Parent                               *refView
	Children                             []taskRow
	Milestones                           []msView
	Reports                              []reportView
	Files                                []fileView
	FileCount                            int
	Extensions                           []extView
	Pending                              *extView
	Events                               []eventView
	Reminders                            []reminderView
	LookBacks                            []lookBackView
	Notices                              []noticeView
	BaselineMoved                        bool
	IsProject                            bool
	Planned, Completed                   string
	Today                                string

	CanAssign, CanAccept, CanStart, CanSubmit bool
	CanSignOff, CanReturn, CanCancel          bool
	CanReopen, CanReport, CanExtend           bool
	CanDecide, CanMilestone, CanUpload        bool
	CanDecompose, Supervisor, LeadUnitMember  bool
	CanUrge, CanLookBack                      bool

	Err    formErr
	Banner bool // the error belongs to a form not shown to this viewer
	Vals   map[string]string
}

func (p *detailPage) ErrFor(form string) string {
	if p.Err.Form == form {
		return p.Err.Text
	}
	return ""
}

// Val is a posted value of form (kept after a refusal).
func (p *detailPage) Val(form, field string) string {
	if p.Err.Form != form {
		return ""
	}
	return p.Vals[field]
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func (s *Service) localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.Loc).Format("2006-01-02 15:04")
}

func (s *Service) fileView(a Attachment) fileView {
	sha := a.SHA256
	if len(sha) > 12 {
		sha = sha[:12]
	}
	return fileView{ID: a.ID, Name: a.Name, Type: strings.ToUpper(strings.TrimPrefix(extOf(a.ContentType), ".")), Size: humanSize(a.Size),
		By: a.UploadedByName, At: s.localTime(a.UploadedAt), SHA: sha}
}

func extOf(ct string) string {
	for ext, t := range attachmentTypes {
		if t == ct {
			return ext
		}
	}
	return ct
}

func (s *Service) renderTask(w http.ResponseWriter, r *http.Request, status int, id int64, fe formErr, vals map[string]string) error {
	ctx := r.Context()
	lang := pageLang(r)
	dt, err := s.Detail(ctx, id, lang)
	if err != nil {
		return err
	}
	l, err := s.labels(ctx, lang)
	if err != nil {
		return err
	}
	v := viewerOf(r)
	t := &dt.Task
	today := s.Today()
	d := &detailPage{T: dt, Area: l.area(t.Area), Source: l.source(t.Source), State: l.state(t.State), Light: l.light(t.Light),
		Priority: l.priority(t.Priority), Cadence: t.Cadence.Text().In(lang), Stage: pageText(lang, "sv.stage."+string(t.Stage)),
		LeadUnit: refView{ID: t.LeadUnitID, Name: l.unit(t.LeadUnitID)}, BaselineMoved: !t.BaselineDue.IsZero() && t.BaselineDue != t.Due,
		IsProject: t.Source == SourceProject, Planned: yuanToWan(t.PlannedInvestment), Completed: yuanToWan(t.CompletedInvestment),
		Today: today.String(), Err: fe, Vals: vals, Supervisor: v.supervisor, LeadUnitMember: v.actsFor(t.LeadUnitID)}
	if t.Stage == StageNone {
		d.Stage = ""
	}
	for _, rs := range dt.LightReasons {
		d.Reasons = append(d.Reasons, rs.Text.In(lang))
	}
	for _, u := range t.CoUnitIDs {
		d.CoUnits = append(d.CoUnits, refView{ID: u, Name: l.unit(u)})
	}
	people, err := s.personNames(ctx, []int64{t.OwnerID})
	if err != nil {
		return err
	}
	d.Owner = refView{ID: t.OwnerID, Name: people[t.OwnerID]}
	if t.ParentID != nil {
		p, err := loadTask(ctx, s.DB, *t.ParentID, false)
		if err != nil {
			return err
		}
		d.Parent = &refView{ID: p.ID, Name: p.Title}
	}
	if len(dt.Children) > 0 {
		kids := make([]*Task, 0, len(dt.Children))
		for _, c := range dt.Children {
			kt := &Task{ID: c.ID, Title: c.Title, Source: c.Source, Area: c.Area, LeadUnitID: c.LeadUnitID, OwnerID: c.OwnerID, Priority: c.Priority,
				Start: c.Start, Due: c.Due, Light: c.Light, Progress: c.Progress, State: c.State, OverdueWorkdays: c.OverdueWorkdays}
			kt.LightText = deadline.Text{ZH: c.LightReason, EN: c.LightReason}
			kids = append(kids, kt)
		}
		if d.Children, err = s.rows(ctx, l, kids); err != nil {
			return err
		}
	}
	for _, m := range t.Milestones {
		d.Milestones = append(d.Milestones, msView{ID: m.ID, Seq: m.Seq, Name: m.Name, Due: m.Due.String(), DoneOn: m.DoneOn.String(),
			Evidence: m.Evidence, Done: !m.DoneOn.IsZero(), Late: m.DoneOn.IsZero() && today.After(m.Due)})
	}
	files, err := s.Attachments(ctx, id)
	if err != nil {
		return err
	}
	d.FileCount = len(files)
	byReport := map[int64][]fileView{}
	for _, a := range files {
		if a.ReportID != nil {
			byReport[*a.ReportID] = append(byReport[*a.ReportID], s.fileView(a))
		} else {
			d.Files = append(d.Files, s.fileView(a))
		}
	}
	for _, rp := range dt.Reports {
		rv := reportView{ID: rp.ID, Text: rp.Text, Difficulties: rp.Difficulties, NextSteps: rp.NextSteps, ReportedOn: rp.ReportedOn.String(),
			By: rp.CreatedByName, At: s.localTime(rp.CreatedAt), Investment: yuanToWan(rp.CompletedInvestment), Files: byReport[rp.ID]}
		if rp.Percent != nil {
			rv.Percent = strconv.Itoa(*rp.Percent) + "%"
		}
		d.Reports = append(d.Reports, rv)
	}
	for _, e := range dt.Extensions {
		ev := extView{ID: e.ID, Reason: e.Reason, OldDue: e.OldDue.String(), NewDue: e.NewDue.String(), State: pageText(lang, "sv.ext."+string(e.State)),
			By: e.RequestedByName, At: s.localTime(e.RequestedAt), DecidedBy: e.DecidedByName, Note: e.DecisionNote, Pending: e.State == ExtensionPending}
		if e.DecidedAt != nil {
			ev.DecidedAt = s.localTime(*e.DecidedAt)
		}
		d.Extensions = append(d.Extensions, ev)
	}
	names, err := s.userNames(ctx, accountsOf(dt))
	if err != nil {
		return err
	}
	shown := func(id *int64, fallback string) string {
		if id != nil && names[*id] != "" {
			return names[*id]
		}
		return fallback
	}
	for i := range d.Reports {
		d.Reports[i].By = shown(dt.Reports[i].CreatedBy, d.Reports[i].By)
	}
	for i := range d.Extensions {
		d.Extensions[i].By = shown(dt.Extensions[i].RequestedBy, d.Extensions[i].By)
		d.Extensions[i].DecidedBy = shown(dt.Extensions[i].DecidedBy, d.Extensions[i].DecidedBy)
	}
	for i := range d.Extensions {
		if d.Extensions[i].Pending {
			p := d.Extensions[i]
			d.Pending = &p
		}
	}
	for i := len(dt.Events) - 1; i >= 0; i-- { // newest first
		e := dt.Events[i]
		ev := eventView{At: s.localTime(e.At), Actor: shown(e.ActorID, e.Actor), Kind: e.Kind, Label: eventLabel(lang, e.Kind), Note: e.Note, Detail: e.Detail}
		if e.FromState != "" {
			ev.From = l.state(e.FromState)
		}
		if e.ToState != "" {
			ev.To = l.state(e.ToState)
		}
		d.Events = append(d.Events, ev)
	}
	if err := s.taskFollowUp(ctx, lang, d); err != nil {
		return err
	}
	allowed := func(a Action) bool { return slices.Contains(dt.Allowed, a) }
	unit := d.LeadUnitMember
	d.CanAssign = v.supervisor && allowed(ActionAssign)
	d.CanAccept = unit && allowed(ActionAccept)
	d.CanStart = unit && allowed(ActionStart)
	d.CanSubmit = unit && allowed(ActionSubmit)
	d.CanSignOff = v.supervisor && allowed(ActionSignOff)
	d.CanReturn = v.supervisor && allowed(ActionReturn)
	d.CanCancel = v.supervisor && allowed(ActionCancel)
	d.CanReopen = v.supervisor && allowed(ActionReopen)
	d.CanReport = unit && (t.State == StateAccepted || t.State == StateInProgress)
	d.CanExtend = unit && d.Pending == nil && (t.State == StateAssigned || t.State == StateAccepted || t.State == StateInProgress)
	d.CanDecide = v.supervisor && d.Pending != nil
	d.CanMilestone = (v.supervisor || unit) && t.State.Open()
	d.CanUpload = (v.supervisor || unit) && t.State.Open()
	d.CanDecompose = v.supervisor && t.State.Open() && t.State != StateSubmitted
	d.CanUrge = v.supervisor && (t.State == StateAssigned || t.State == StateAccepted || t.State == StateInProgress)
	for _, lb := range d.LookBacks {
		d.CanLookBack = d.CanLookBack || (v.supervisor && lb.Pending && t.State == StateSignedOff)
	}
	// An error of a form the viewer is not shown goes at the top.
	if fe.Text != "" {
		shown := map[string]bool{"assign": d.CanAssign, "accept": d.CanAccept, "start": d.CanStart, "submit": d.CanSubmit,
			"sign_off": d.CanSignOff, "return": d.CanReturn, "cancel": d.CanCancel, "reopen": d.CanReopen, "extension": d.CanExtend,
			"decision": d.CanDecide, "milestone": d.CanMilestone, "milestone_done": d.CanMilestone, "attach": d.CanUpload,
			"urge": d.CanUrge, "lookback": d.CanLookBack}
		d.Banner = !shown[fe.Form]
	}
	page := s.ws().NewPage(r, "nav.supervise", d)
	page.Title = t.Title
	return s.ws().HTMLPage(w, status, "task_detail.html", page)
}

// accountsOf lists the accounts that acted on a task.
func accountsOf(dt *TaskDetail) map[int64]bool {
	ids := map[int64]bool{}
	add := func(id *int64) {
		if id != nil {
			ids[*id] = true
		}
	}
	for _, e := range dt.Events {
		add(e.ActorID)
	}
	for _, r := range dt.Reports {
		add(r.CreatedBy)
	}
	for _, e := range dt.Extensions {
		add(e.RequestedBy)
		add(e.DecidedBy)
	}
	return ids
}

func eventLabel(lang, kind string) string {
	if txt, ok := pageTextOK(lang, "sv.event."+kind); ok {
		return txt
	}
	if strings.HasPrefix(kind, "lookback") {
		return pageText(lang, "sv.event.lookback") + " · " + kind
	}
	return kind
}

func (s *Service) getTask(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderTask(w, r, http.StatusOK, id, formErr{}, nil)
}

// refused shows the task page again with the error next to form's field,
// or returns err when it is not the person's to fix.
func (s *Service) refused(w http.ResponseWriter, r *http.Request, id int64, form string, vals url.Values, err error) error {
	status, field, text, ok := userError(pageLang(r), err)
	if !ok || status == http.StatusNotFound {
		return err
	}
	kept := map[string]string{}
	for k := range vals {
		kept[k] = vals.Get(k)
	}
	return s.renderTask(w, r, status, id, formErr{Form: form, Field: field, Text: text}, kept)
}

func done(w http.ResponseWriter, r *http.Request, path, flash string) error {
	http.Redirect(w, r, path+"?msg=flash.sv."+flash, http.StatusSeeOther)
	return nil
}

func taskPath(id int64) string { return "/tasks/" + strconv.FormatInt(id, 10) }

// postAction performs a lifecycle action from the task page.
func (s *Service) postAction(act Action) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, f, err := idAndForm(r)
		if err != nil {
			return err
		}
		req := TransitionRequest{Action: act, Reason: f.Get("reason"), Evidence: f.Get("evidence")}
		if act == ActionReopen {
			if req.Due, err = parseDate("due", f.Get("due")); err != nil {
				return s.refused(w, r, id, string(act), f, err)
			}
		}
		if _, err := s.Transition(r.Context(), actor(r), id, req); err != nil {
			return s.refused(w, r, id, string(act), f, err)
		}
		return done(w, r, taskPath(id), string(act))
	}
}

func (s *Service) postExtension(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(r)
	if err != nil {
		return err
	}
	due, err := parseDate("new_due", f.Get("new_due"))
	if err == nil {
		_, err = s.RequestExtension(r.Context(), actor(r), id, NewExtension{Reason: f.Get("reason"), NewDue: due})
	}
	if err != nil {
		return s.refused(w, r, id, "extension", f, err)
	}
	return done(w, r, taskPath(id), "extension")
}

func (s *Service) postDecision(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	ext, err := loadExtension(ctx, s.DB, id)
	if err != nil {
		return err
	}
	var approve bool
	switch f.Get("decision") {
	case "approve":
		approve = true
	case "refuse":
	default:
		return s.refused(w, r, ext.TaskID, "decision", f, invalid("decision", "请选择同意或不同意", "choose approve or refuse"))
	}
	if _, err := s.DecideExtension(ctx, actor(r), id, Decision{Approve: approve, Note: f.Get("note")}); err != nil {
		return s.refused(w, r, ext.TaskID, "decision", f, err)
	}
	return done(w, r, taskPath(ext.TaskID), "decided")
}

func (s *Service) postMilestone(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(r)
	if err != nil {
		return err
	}
	due, err := parseDate("due", f.Get("due"))
	if err == nil {
		_, err = s.AddMilestone(r.Context(), actor(r), id, NewMilestone{Name: f.Get("name"), Due: due})
	}
	if err != nil {
		return s.refused(w, r, id, "milestone", f, err)
	}
	return done(w, r, taskPath(id), "milestone")
}

func (s *Service) postMilestoneDone(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	m, err := loadMilestone(ctx, s.DB, id)
	if err != nil {
		return err
	}
	doneOn, err := parseDate("done_on", f.Get("done_on"))
	if err == nil {
		_, err = s.CompleteMilestone(ctx, actor(r), id, doneOn, f.Get("evidence"))
	}
	if err != nil {
		f.Set("milestone_id", strconv.FormatInt(id, 10))
		return s.refused(w, r, m.TaskID, "milestone_done", f, err)
	}
	return done(w, r, taskPath(m.TaskID), "milestone_done")
}

func (s *Service) postAttachments(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	vals, ups, err := s.readUploadForm(w, r, "files")
	if err == nil {
		_, err = s.AddAttachments(r.Context(), actor(r), id, 0, ups)
	}
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Field == "file" {
			e2 := *e
			e2.Field = "files"
			err = &e2
		}
		return s.refused(w, r, id, "attach", vals, err)
	}
	return done(w, r, taskPath(id), "attached")
}

// ---- the report form ----

type reportForm struct {
	Percent, Text, Difficulties, NextSteps, Investment string
	Submit                                             bool
}

type reportPage struct {
	Task        *Task
	Unit        string
	HasChildren bool
	IsProject   bool
	Form        reportForm
	Errs        map[string]string
	Error       string
	FileCount   int
	MaxMB       int
	MaxFiles    int
}

func (s *Service) renderReport(w http.ResponseWriter, r *http.Request, status int, id int64, form reportForm, errs map[string]string, general string) error {
	ctx := r.Context()
	t, err := s.Task(ctx, id)
	if err != nil {
		return err
	}
	kids, err := countChildren(ctx, s.DB, id)
	if err != nil {
		return err
	}
	files, err := s.Attachments(ctx, id)
	if err != nil {
		return err
	}
	l, err := s.labels(ctx, pageLang(r))
	if err != nil {
		return err
	}
	d := reportPage{Task: t, Unit: l.unit(t.LeadUnitID), HasChildren: kids > 0, IsProject: t.Source == SourceProject, Form: form, Errs: errs,
		Error: general, FileCount: len(files), MaxMB: MaxAttachmentBytes >> 20, MaxFiles: MaxAttachmentsPerRequest}
	page := s.ws().NewPage(r, "sv.report.title", d)
	return s.ws().HTMLPage(w, status, "task_report.html", page)
}

func (s *Service) getReport(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.Task(r.Context(), id)
	if err != nil {
		return err
	}
	if !viewerOf(r).actsFor(t.LeadUnitID) {
		return errNotYourUnit
	}
	return s.renderReport(w, r, http.StatusOK, id, reportForm{Percent: strconv.Itoa(t.Progress)}, map[string]string{}, "")
}

func (s *Service) postReport(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	lang := pageLang(r)
	vals, ups, err := s.readUploadForm(w, r, "files")
	form := reportForm{Percent: vals.Get("percent"), Text: vals.Get("text"), Difficulties: vals.Get("difficulties"),
		NextSteps: vals.Get("next_steps"), Investment: vals.Get("completed_investment"), Submit: vals.Get("submit") != ""}
	errs := map[string]string{}
	fail := func(err error) error {
		discardAll(ups)
		status, field, text, ok := userError(lang, err)
		if !ok || status == http.StatusNotFound {
			return err
		}
		if field == "file" {
			field = "files"
		}
		if field == "" {
			return s.renderReport(w, r, status, id, form, errs, text)
		}
		errs[field] = text
		return s.renderReport(w, r, status, id, form, errs, "")
	}
	if err != nil {
		return fail(err)
	}
	in := NewReport{Text: form.Text, Difficulties: form.Difficulties, NextSteps: form.NextSteps}
	if v := strings.TrimSpace(form.Percent); v != "" {
		p, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
		if err != nil {
			return fail(invalid("percent", "进度须为 0–100 的整数", "percent must be a whole number 0–100"))
		}
		in.Percent = &p
	}
	if in.CompletedInvestment, err = parseWan("completed_investment", form.Investment); err != nil {
		return fail(err)
	}
	kids, err := countChildren(ctx, s.DB, id)
	if err != nil {
		return fail(err)
	}
	if kids > 0 {
		in.Percent = nil // rolls up from the subtasks
	}
	if _, err := s.ReportWithFiles(ctx, actor(r), id, in, ups); err != nil {
		return fail(err)
	}
	if form.Submit {
		if _, err := s.Transition(ctx, actor(r), id, TransitionRequest{Action: ActionSubmit}); err != nil {
			// The report is in; say why the submission was not.
			_, _, text, ok := userError(lang, err)
			if !ok {
				return err
			}
			return s.renderTask(w, r, http.StatusUnprocessableEntity, id, formErr{Form: "submit", Field: "evidence", Text: text}, nil)
		}
		return done(w, r, taskPath(id), "report_submit")
	}
	return done(w, r, taskPath(id), "report")
}

// ---- the create form ----

type taskForm struct {
	Title, Area, Source, Description, Acceptance     string
	LeadUnitID, OwnerID, Start, Due, DueWorkdays     string
	Priority, Cadence, Weight, ParentID              string
	CoUnits                                          []string
	InstructionID, InstrLeader, InstrDate, InstrText string
	InstrDocNo                                       string
	Planned, Completed, Stage, Location              string
	Milestones                                       [5]struct{ Name, Due string }
	Assign                                           bool
}

type taskFormPage struct {
	Form                                               taskForm
	Errs                                               map[string]string
	Error                                              string
	Areas, Sources, Units, Owners, CoUnits, Priorities []option
	Cadences, Stages, Instructions                     []option
	Parent                                             *refView
	ShowInstruction, ShowProject                       bool
}

func readTaskForm(f url.Values) taskForm {
	tf := taskForm{Title: f.Get("title"), Area: f.Get("area"), Source: f.Get("source"), Description: f.Get("description"),
		Acceptance: f.Get("acceptance"), LeadUnitID: f.Get("lead_unit_id"), OwnerID: f.Get("owner_id"), Start: f.Get("start"),
		Due: f.Get("due"), DueWorkdays: f.Get("due_workdays"), Priority: f.Get("priority"), Cadence: f.Get("cadence"),
		Weight: f.Get("weight"), ParentID: f.Get("parent_id"), CoUnits: f["co_unit_ids"], InstructionID: f.Get("instruction_id"),
		InstrLeader: f.Get("instruction_leader"), InstrDate: f.Get("instruction_date"), InstrText: f.Get("instruction_text"),
		InstrDocNo: f.Get("instruction_doc_no"), Planned: f.Get("planned_investment"), Completed: f.Get("completed_investment"),
		Stage: f.Get("stage"), Location: f.Get("location"), Assign: f.Get("assign") != ""}
	for i := range tf.Milestones {
		tf.Milestones[i].Name = f.Get(fmt.Sprintf("ms_name_%d", i))
		tf.Milestones[i].Due = f.Get(fmt.Sprintf("ms_due_%d", i))
	}
	return tf
}

// newTask turns the form into a NewTask; the first problem that is the
// form's own (a number or a date that does not parse) is returned.
func (tf taskForm) newTask() (NewTask, error) {
	in := NewTask{Title: tf.Title, Area: tf.Area, Source: Source(strings.TrimSpace(tf.Source)), Description: tf.Description,
		Acceptance: tf.Acceptance, Priority: Priority(tf.Priority), Cadence: deadline.Cadence(tf.Cadence), Location: tf.Location, Assign: tf.Assign}
	num := func(field, v string) (int64, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, invalid(field, "须为正整数", "must be a positive whole number")
		}
		return n, nil
	}
	var err error
	if in.LeadUnitID, err = num("lead_unit_id", tf.LeadUnitID); err != nil {
		return in, err
	}
	if in.OwnerID, err = num("owner_id", tf.OwnerID); err != nil {
		return in, err
	}
	if in.ParentID, err = num("parent_id", tf.ParentID); err != nil {
		return in, err
	}
	if in.InstructionID, err = num("instruction_id", tf.InstructionID); err != nil {
		return in, err
	}
	wd, err := num("due_workdays", tf.DueWorkdays)
	if err != nil {
		return in, err
	}
	in.DueWorkdays = int(wd)
	wt, err := num("weight", tf.Weight)
	if err != nil {
		return in, err
	}
	in.Weight = int(wt)
	for _, u := range tf.CoUnits {
		id, err := num("co_unit_ids", u)
		if err != nil {
			return in, err
		}
		if id != 0 {
			in.CoUnitIDs = append(in.CoUnitIDs, id)
		}
	}
	if in.Start, err = parseDate("start", tf.Start); err != nil {
		return in, err
	}
	if in.Due, err = parseDate("due", tf.Due); err != nil {
		return in, err
	}
	if in.Source == SourceProject {
		if in.PlannedInvestment, err = parseWan("planned_investment", tf.Planned); err != nil {
			return in, err
		}
		if in.CompletedInvestment, err = parseWan("completed_investment", tf.Completed); err != nil {
			return in, err
		}
		st, ok := ParseStage(tf.Stage)
		if !ok {
			return in, invalid("stage", "项目阶段无效", "stage is invalid")
		}
		in.Stage = st
	} else {
		in.Location = "" // the project fields are hidden for other sources
	}
	if in.Source == SourceInstruction && in.InstructionID == 0 {
		date, err := parseDate("instruction.date", tf.InstrDate)
		if err != nil {
			return in, err
		}
		if strings.TrimSpace(tf.InstrLeader+tf.InstrText+tf.InstrDate) != "" {
			in.Instruction = &NewInstruction{Leader: tf.InstrLeader, IssuedOn: date, Text: tf.InstrText, DocNo: tf.InstrDocNo}
		}
	}
	if in.Source != SourceInstruction {
		in.InstructionID = 0
	}
	for _, m := range tf.Milestones {
		if strings.TrimSpace(m.Name) == "" && strings.TrimSpace(m.Due) == "" {
			continue
		}
		due, err := parseDate(fmt.Sprintf("milestones[%d].due", len(in.Milestones)), m.Due)
		if err != nil {
			return in, err
		}
		in.Milestones = append(in.Milestones, NewMilestone{Name: m.Name, Due: due})
	}
	return in, nil
}

// formField maps a service field to the form's (milestone indices count
// only filled rows in the service, every row in the form).
func (tf taskForm) formField(field string) string {
	var i int
	var rest string
	if n, _ := fmt.Sscanf(field, "milestones[%d].%s", &i, &rest); n == 2 {
		k := -1
		for j, m := range tf.Milestones {
			if strings.TrimSpace(m.Name) != "" || strings.TrimSpace(m.Due) != "" {
				k++
			}
			if k == i {
				return fmt.Sprintf("ms_%s_%d", rest, j)
			}
		}
	}
	switch field {
	case "instruction", "instruction.leader":
		return "instruction_leader"
	case "instruction.date":
		return "instruction_date"
	case "instruction.text":
		return "instruction_text"
	}
	return field
}

func (s *Service) renderTaskForm(w http.ResponseWriter, r *http.Request, status int, form taskForm, errs map[string]string, general string) error {
	ctx := r.Context()
	lang := pageLang(r)
	l, err := s.labels(ctx, lang)
	if err != nil {
		return err
	}
	d := taskFormPage{Form: form, Errs: errs, Error: general, Areas: l.areaOptions(form.Area, true), Sources: l.sourceOptions(form.Source),
		Units: l.unitOptions(form.LeadUnitID), ShowInstruction: form.Source == string(SourceInstruction), ShowProject: form.Source == string(SourceProject)}
	for _, o := range l.unitOptions("") {
		o.Selected = slices.Contains(form.CoUnits, o.Value)
		d.CoUnits = append(d.CoUnits, o)
	}
	for _, p := range []Priority{PriorityNormal, PriorityImportant, PriorityUrgent} {
		d.Priorities = append(d.Priorities, option{Value: string(p), Label: l.priority(p), Selected: string(p) == form.Priority})
	}
	for _, c := range []deadline.Cadence{deadline.CadenceNone, deadline.CadenceDaily, deadline.CadenceWeekly, deadline.CadenceBiweekly, deadline.CadenceMonthly} {
		d.Cadences = append(d.Cadences, option{Value: string(c), Label: c.Text().In(lang), Selected: string(c) == form.Cadence})
	}
	for _, st := range []Stage{StagePreliminary, StageConstruction, StageCompleted, StageOperation} {
		d.Stages = append(d.Stages, option{Value: string(st), Label: pageText(lang, "sv.stage."+string(st)), Selected: string(st) == form.Stage})
	}
	if unit, err := strconv.ParseInt(form.LeadUnitID, 10, 64); err == nil && unit > 0 {
		if err := s.eachRow(ctx, `SELECT id, name, title FROM people WHERE unit_id = ? AND active = TRUE ORDER BY name, id LIMIT 500`, []any{unit}, func(scan func(...any) error) error {
			var id int64
			var name, title string
			if err := scan(&id, &name, &title); err != nil {
				return err
			}
			v := strconv.FormatInt(id, 10)
			label := name
			if title != "" {
				label += "（" + title + "）"
			}
			d.Owners = append(d.Owners, option{Value: v, Label: label, Selected: v == form.OwnerID})
			return nil
		}); err != nil {
			return err
		}
	}
	ins, _, err := s.Instructions(ctx, "", 100, 0)
	if err != nil {
		return err
	}
	for _, in := range ins {
		v := strconv.FormatInt(in.ID, 10)
		text := []rune(in.Text)
		if len(text) > 30 {
			text = append(text[:30], '…')
		}
		d.Instructions = append(d.Instructions, option{Value: v, Label: in.IssuedOn.String() + " " + in.Leader + "：" + string(text), Selected: v == form.InstructionID})
	}
	if pid, err := strconv.ParseInt(form.ParentID, 10, 64); err == nil && pid > 0 {
		if p, err := loadTask(ctx, s.DB, pid, false); err == nil {
			d.Parent = &refView{ID: p.ID, Name: p.Title}
		}
	}
	return s.ws().HTMLPage(w, status, "task_form.html", s.ws().NewPage(r, "sv.new.title", d))
}

func (s *Service) getNewTask(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	today := s.Today()
	form := taskForm{Source: string(SourcePlan), Priority: string(PriorityNormal), Weight: "1", Start: today.String(), Assign: true}
	if pid, err := strconv.ParseInt(q.Get("parent"), 10, 64); err == nil && pid > 0 {
		p, err := s.Task(r.Context(), pid)
		if err != nil {
			return err
		}
		form.ParentID = strconv.FormatInt(pid, 10)
		form.Area, form.Source = p.Area, string(p.Source)
		if p.Source == SourceInstruction && p.InstructionID != nil {
			form.InstructionID = strconv.FormatInt(*p.InstructionID, 10)
		}
		if p.Source == SourceProject {
			form.Source = string(SourcePlan)
		}
		if !p.Due.IsZero() {
			form.Due = p.Due.String()
		}
		if p.Start.After(today) {
			form.Start = p.Start.String()
		}
	}
	if v := Source(q.Get("source")); v.Valid() && form.ParentID == "" {
		form.Source = string(v)
	}
	if v := q.Get("instruction"); v != "" {
		form.Source, form.InstructionID = string(SourceInstruction), v
	}
	return s.renderTaskForm(w, r, http.StatusOK, form, map[string]string{}, "")
}

func (s *Service) postNewTask(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / the form could not be read")
	}
	lang := pageLang(r)
	form := readTaskForm(r.PostForm)
	errs := map[string]string{}
	in, err := form.newTask()
	var t *Task
	if err == nil {
		t, err = s.Create(r.Context(), actor(r), in)
	}
	if err != nil {
		status, field, text, ok := userError(lang, err)
		if !ok {
			return err
		}
		if field == "" {
			return s.renderTaskForm(w, r, status, form, errs, text)
		}
		errs[form.formField(field)] = text
		return s.renderTaskForm(w, r, status, form, errs, "")
	}
	return done(w, r, taskPath(t.ID), "created")
}

// ---- follow-up: reminders, supervision notices, look-backs ----

// taskFollowUp adds what the reminders and look-backs (reminders.go,
// lookback.go) recorded about the task to its page.
func (s *Service) taskFollowUp(ctx context.Context, lang string, d *detailPage) error {
	id := d.T.ID
	rems, err := s.TaskReminders(ctx, id)
	if err != nil {
		return err
	}
	for _, rm := range rems {
		d.Reminders = append(d.Reminders, reminderView{At: s.localTime(rm.SentAt), Kind: pageText(lang, "sv.rem."+rm.Kind), Message: rm.Message,
			By: rm.SentByName, Recipients: rm.Recipients})
	}
	lbs, _, err := s.LookBacks(ctx, LookBackFilter{TaskID: id, Limit: 50})
	if err != nil {
		return err
	}
	for _, lb := range lbs {
		d.LookBacks = append(d.LookBacks, s.lookBackView(lang, lb))
	}
	ns, _, err := s.Notices(ctx, NoticeFilter{TaskID: id, Limit: 20, Lang: lang})
	if err != nil {
		return err
	}
	for _, n := range ns {
		d.Notices = append(d.Notices, noticeView{No: n.No, Level: string(n.Level), LevelLabel: n.Level.Text().In(lang), IssuedOn: n.IssuedOn.String(),
			Text: n.Text, To: strings.Join(n.AddressedTo, "、"), Overdue: n.OverdueWorkdays})
	}
	return nil
}

func (s *Service) lookBackView(lang string, lb LookBack) lookBackView {
	v := lookBackView{ID: lb.ID, Due: lb.Due.String(), Reviewer: lb.ReviewerName, State: pageText(lang, "sv.lb."+string(lb.State)),
		Findings: lb.Findings, NewDue: lb.NewDue.String(), DecidedBy: lb.DecidedByName, Pending: lb.State == LookBackPending}
	if lb.DecidedAt != nil {
		v.DecidedAt = s.localTime(*lb.DecidedAt)
	}
	return v
}

func (s *Service) postUrge(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(r)
	if err != nil {
		return err
	}
	if _, err := s.Urge(r.Context(), actor(r), id, f.Get("message")); err != nil {
		return s.refused(w, r, id, "urge", f, err)
	}
	return done(w, r, taskPath(id), "urged")
}

func (s *Service) postLookBack(w http.ResponseWriter, r *http.Request) error {
	id, f, err := idAndForm(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	lb, err := s.LookBack(ctx, id)
	if err != nil {
		return err
	}
	in := LookBackResult{Findings: f.Get("findings")}
	switch f.Get("result") {
	case "pass":
		in.Pass = true
	case "fail":
		if in.NewDue, err = parseDate("new_due", f.Get("new_due")); err != nil {
			return s.refused(w, r, lb.TaskID, "lookback", f, err)
		}
	default:
		return s.refused(w, r, lb.TaskID, "lookback", f, invalid("result", "请选择通过或未通过", "choose pass or fail"))
	}
	if _, err := s.RecordLookBack(ctx, actor(r), id, in); err != nil {
		return s.refused(w, r, lb.TaskID, "lookback", f, err)
	}
	return done(w, r, taskPath(lb.TaskID), "lookback")
}

type lookBackRow struct {
	lookBackView
	TaskID                 int64
	Title, Unit, SignedOff string
}

type lookBacksPage struct {
	Due              bool
	Rows             []lookBackRow
	Total, From, To  int
	PrevURL, NextURL string
}

// GET /lookbacks: the look-backs due (?all=1: every one).
func (s *Service) getLookBacks(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	lang := pageLang(r)
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	d := lookBacksPage{Due: q.Get("all") == ""}
	lbs, total, err := s.LookBacks(ctx, LookBackFilter{Due: d.Due, Limit: taskPageSize, Offset: offset})
	if err != nil {
		return err
	}
	l, err := s.labels(ctx, lang)
	if err != nil {
		return err
	}
	for _, lb := range lbs {
		d.Rows = append(d.Rows, lookBackRow{lookBackView: s.lookBackView(lang, lb), TaskID: lb.TaskID, Title: lb.TaskTitle,
			Unit: l.unit(lb.LeadUnitID), SignedOff: lb.SignedOffOn.String()})
	}
	d.Total = total
	if len(lbs) > 0 {
		d.From, d.To = offset+1, offset+len(lbs)
	}
	link := func(off int) string {
		v := url.Values{}
		if !d.Due {
			v.Set("all", "1")
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return "/lookbacks"
		}
		return "/lookbacks?" + v.Encode()
	}
	if offset > 0 {
		d.PrevURL = link(max(offset-taskPageSize, 0))
	}
	if offset+len(lbs) < total {
		d.NextURL = link(offset + taskPageSize)
	}
	return s.ws().HTML(w, r, "task_lookbacks.html", "sv.lookbacks.title", d)
}

type noticeRow struct {
	noticeView
	TaskID      int64
	Title, Unit string
}

type noticesPage struct {
	Rows             []noticeRow
	Units            []option
	Levels           []option
	Total, From, To  int
	PrevURL, NextURL string
	Filtered         bool
}

// GET /notices: supervision notices (督办单), newest first.
func (s *Service) getNotices(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	lang := pageLang(r)
	q := r.URL.Query()
	f := NoticeFilter{Limit: taskPageSize, Lang: lang}
	if n, err := strconv.ParseInt(q.Get("unit"), 10, 64); err == nil && n > 0 {
		f.UnitID = n
	}
	switch lv := deadline.Level(q.Get("level")); lv {
	case deadline.LevelBlue, deadline.LevelYellow, deadline.LevelRed:
		f.Level = lv
	}
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		f.Offset = off
	}
	ns, total, err := s.Notices(ctx, f)
	if err != nil {
		return err
	}
	l, err := s.labels(ctx, lang)
	if err != nil {
		return err
	}
	d := noticesPage{Total: total, Units: l.unitOptions(idString(f.UnitID)), Filtered: f.UnitID != 0 || f.Level != ""}
	for _, lv := range []deadline.Level{deadline.LevelBlue, deadline.LevelYellow, deadline.LevelRed} {
		d.Levels = append(d.Levels, option{Value: string(lv), Label: lv.Text().In(lang), Selected: lv == f.Level})
	}
	for _, n := range ns {
		d.Rows = append(d.Rows, noticeRow{noticeView: noticeView{No: n.No, Level: string(n.Level), LevelLabel: n.Level.Text().In(lang),
			IssuedOn: n.IssuedOn.String(), Text: n.Text, To: strings.Join(n.AddressedTo, "、"), Overdue: n.OverdueWorkdays},
			TaskID: n.TaskID, Title: n.TaskTitle, Unit: l.unit(n.UnitID)})
	}
	if len(ns) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(ns)
	}
	link := func(off int) string {
		v := url.Values{}
		if f.UnitID != 0 {
			v.Set("unit", strconv.FormatInt(f.UnitID, 10))
		}
		if f.Level != "" {
			v.Set("level", string(f.Level))
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return "/notices"
		}
		return "/notices?" + v.Encode()
	}
	if f.Offset > 0 {
		d.PrevURL = link(max(f.Offset-taskPageSize, 0))
	}
	if f.Offset+len(ns) < total {
		d.NextURL = link(f.Offset + taskPageSize)
	}
	return s.ws().HTML(w, r, "task_notices.html", "sv.notices.title", d)
}

// idAndForm reads the {id} path value and the posted form every action
// form starts with.
func idAndForm(r *http.Request) (int64, url.Values, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := r.ParseForm(); err != nil {
		return 0, nil, apperr.BadRequest("bad_form", "表单无法解析 / the form could not be read")
	}
	return id, r.PostForm, nil
}
