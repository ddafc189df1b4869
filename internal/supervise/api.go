package supervise

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

//go:embed openapi.json
var files embed.FS

// Register adds the JSON API and its OpenAPI fragment to ws, takes the
// server's time zone for "today", and loads the stored working-day years
// into the calendar.
func (s *Service) Register(ws *web.Server) error {
	if ws.Cfg.Location != nil {
		s.Loc = ws.Cfg.Location
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.LoadYears(ctx); err != nil {
		return err
	}
	if err := ws.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	for _, rt := range s.routes() {
		ws.Handle(rt.pattern, rt.perm, rt.h)
	}
	return nil
}

type route struct {
	pattern string
	perm    auth.Permission
	h       web.Handler
}

// routes lists the API. Routes whose actions belong to either a supervisor
// or the lead unit need tasks.read at the door; the service then checks
// the action itself (403 supervisor_only / not_lead_unit).
func (s *Service) routes() []route {
	return []route{
		{"GET /api/v1/tasks", auth.PermTasksRead, s.apiList},
		{"POST /api/v1/tasks", auth.PermTasksWrite, s.apiCreate},
		{"GET /api/v1/tasks/{id}", auth.PermTasksRead, s.apiGet},
		{"POST /api/v1/tasks/{id}/transitions", auth.PermTasksRead, s.apiTransition},
		{"POST /api/v1/tasks/{id}/reports", auth.PermTasksReport, s.apiReport},
		{"POST /api/v1/tasks/{id}/milestones", auth.PermTasksRead, s.apiAddMilestone},
		{"POST /api/v1/milestones/{id}/complete", auth.PermTasksRead, s.apiCompleteMilestone},
		{"POST /api/v1/tasks/{id}/extensions", auth.PermTasksReport, s.apiRequestExtension},
		{"POST /api/v1/extensions/{id}/decision", auth.PermTasksWrite, s.apiDecideExtension},
		{"GET /api/v1/areas", auth.PermTasksRead, s.apiAreas},
		{"POST /api/v1/areas", auth.PermTasksWrite, s.apiSaveArea},
		{"GET /api/v1/workdays/add", auth.PermSignedIn, s.apiWorkdaysAdd},
		{"GET /api/v1/workdays/between", auth.PermSignedIn, s.apiWorkdaysBetween},
		{"GET /api/v1/workdays/years", auth.PermSignedIn, s.apiYears},
		{"GET /api/v1/workdays/years/{year}", auth.PermSignedIn, s.apiYearCheck},
		{"PUT /api/v1/workdays/years/{year}", auth.PermWorkdayAdmin, s.apiYearStore},
		{"DELETE /api/v1/workdays/years/{year}", auth.PermWorkdayAdmin, s.apiYearReset},
	}
}

func actor(r *http.Request) Actor {
	return ActorOf(web.PrincipalFrom(r.Context()), web.ClientIP(r))
}

// lang is the request's language (the platform reads the cookie, or
// Accept-Language for API clients).
func lang(r *http.Request) string { return web.Lang(r.Context()) }

// parseDate reads an optional YYYY-MM-DD field, naming it when malformed.
func parseDate(field, v string) (workday.Date, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	d, err := workday.ParseDate(v)
	if err != nil {
		return 0, invalid(field, fmt.Sprintf("%s 须为 YYYY-MM-DD 格式的日期，收到 %q", field, v), fmt.Sprintf("%s must be a date YYYY-MM-DD, got %q", field, v))
	}
	return d, nil
}

func writeTask(w http.ResponseWriter, status int, t *Task, lang string) error {
	t.LightReason = t.LightText.In(lang)
	return web.WriteJSON(w, status, t)
}

// GET /api/v1/tasks

func (s *Service) apiList(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := Filter{Limit: limit, Offset: offset, Area: q.Get("area")}
	if v := q.Get("light"); v != "" {
		f.Light = deadline.Light(v)
		if !f.Light.Valid() {
			return invalid("light", "light 须为 red、yellow、green、done 或 not_started", "light must be red, yellow, green, done or not_started")
		}
	}
	if v := q.Get("source"); v != "" {
		f.Source = Source(v)
		if !f.Source.Valid() {
			return invalid("source", "source 须为 "+sourceList(), "source must be one of "+sourceList())
		}
	}
	if v := q.Get("state"); v != "" {
		f.State = State(v)
		if !f.State.Valid() {
			return invalid("state", "state 取值无效", "state must be one of draft, assigned, accepted, in_progress, submitted, signed_off, cancelled")
		}
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"unit", &f.UnitID}, {"parent", &f.ParentID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return invalid(p.name, p.name+" 须为正整数", p.name+" must be a positive integer")
			}
			*p.dst = n
		}
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return invalid("overdue", "overdue 须为 true 或 false", "overdue must be true or false")
		}
		f.Overdue = &b
	}
	ts, total, err := s.List(r.Context(), f)
	if err != nil {
		return err
	}
	l := lang(r)
	items := make([]TaskItem, len(ts))
	for i, t := range ts {
		items[i] = t.Item(l)
	}
	return web.WriteList(w, items, total)
}

// POST /api/v1/tasks

type instructionRequest struct {
	Leader string `json:"leader"`
	Date   string `json:"date"`
	Text   string `json:"text"`
	DocNo  string `json:"doc_no"`
}

type milestoneRequest struct {
	Name string `json:"name"`
	Due  string `json:"due"`
	Seq  int    `json:"seq"`
}

type createRequest struct {
	Title               string              `json:"title"`
	Area                string              `json:"area"`
	Source              string              `json:"source"`
	Description         string              `json:"description"`
	Acceptance          string              `json:"acceptance"`
	LeadUnitID          int64               `json:"lead_unit_id"`
	CoUnitIDs           []int64             `json:"co_unit_ids"`
	OwnerID             int64               `json:"owner_id"`
	Start               string              `json:"start"`
	Due                 string              `json:"due"`
	DueWorkdays         int                 `json:"due_workdays"`
	Priority            string              `json:"priority"`
	Cadence             string              `json:"cadence"`
	ParentID            int64               `json:"parent_id"`
	Weight              int                 `json:"weight"`
	InstructionID       int64               `json:"instruction_id"`
	Instruction         *instructionRequest `json:"instruction"`
	Milestones          []milestoneRequest  `json:"milestones"`
	PlannedInvestment   *int64              `json:"planned_investment"`
	CompletedInvestment *int64              `json:"completed_investment"`
	Stage               string              `json:"stage"`
	Location            string              `json:"location"`
	Assign              bool                `json:"assign"`
}

func (req *createRequest) newTask() (NewTask, error) {
	in := NewTask{Title: req.Title, Area: req.Area, Source: Source(strings.TrimSpace(req.Source)), Description: req.Description,
		Acceptance: req.Acceptance, LeadUnitID: req.LeadUnitID, CoUnitIDs: req.CoUnitIDs, OwnerID: req.OwnerID,
		DueWorkdays: req.DueWorkdays, Priority: Priority(req.Priority), Cadence: deadline.Cadence(req.Cadence), ParentID: req.ParentID,
		Weight: req.Weight, InstructionID: req.InstructionID, PlannedInvestment: req.PlannedInvestment,
		CompletedInvestment: req.CompletedInvestment, Location: req.Location, Assign: req.Assign}
	var err error
	if in.Start, err = parseDate("start", req.Start); err != nil {
		return in, err
	}
	if in.Due, err = parseDate("due", req.Due); err != nil {
		return in, err
	}
	st, ok := ParseStage(req.Stage)
	if !ok {
		return in, invalid("stage", "项目阶段须为 前期、在建、竣工 或 投产", "stage must be preliminary, construction, completed or operation")
	}
	in.Stage = st
	if ir := req.Instruction; ir != nil {
		in.Instruction = &NewInstruction{Leader: ir.Leader, Text: ir.Text, DocNo: ir.DocNo}
		if in.Instruction.IssuedOn, err = parseDate("instruction.date", ir.Date); err != nil {
			return in, err
		}
	}
	for i, m := range req.Milestones {
		due, err := parseDate(fmt.Sprintf("milestones[%d].due", i), m.Due)
		if err != nil {
			return in, err
		}
		in.Milestones = append(in.Milestones, NewMilestone{Name: m.Name, Due: due, Seq: m.Seq})
	}
	return in, nil
}

func (s *Service) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	in, err := req.newTask()
	if err != nil {
		return err
	}
	t, err := s.Create(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tasks/"+strconv.FormatInt(t.ID, 10))
	return writeTask(w, http.StatusCreated, t, lang(r))
}

// GET /api/v1/tasks/{id}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.Detail(r.Context(), id, lang(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

// POST /api/v1/tasks/{id}/transitions

type transitionRequest struct {
	Action   string `json:"action"`
	Reason   string `json:"reason"`
	Evidence string `json:"evidence"`
	Due      string `json:"due"`
}

func (s *Service) apiTransition(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req transitionRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	due, err := parseDate("due", req.Due)
	if err != nil {
		return err
	}
	t, err := s.Transition(r.Context(), actor(r), id, TransitionRequest{Action: Action(strings.TrimSpace(req.Action)), Reason: req.Reason, Evidence: req.Evidence, Due: due})
	if err != nil {
		return err
	}
	return writeTask(w, http.StatusOK, t, lang(r))
}

// POST /api/v1/tasks/{id}/reports

type reportRequest struct {
	Percent             *int   `json:"percent"`
	Text                string `json:"text"`
	Difficulties        string `json:"difficulties"`
	NextSteps           string `json:"next_steps"`
	CompletedInvestment *int64 `json:"completed_investment"`
}

func (s *Service) apiReport(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req reportRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	rep, err := s.Report(r.Context(), actor(r), id, NewReport(req))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, rep)
}

// POST /api/v1/tasks/{id}/milestones

func (s *Service) apiAddMilestone(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req milestoneRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	due, err := parseDate("due", req.Due)
	if err != nil {
		return err
	}
	m, err := s.AddMilestone(r.Context(), actor(r), id, NewMilestone{Name: req.Name, Due: due, Seq: req.Seq})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, m)
}

// POST /api/v1/milestones/{id}/complete

type completeRequest struct {
	DoneOn   string `json:"done_on"`
	Evidence string `json:"evidence"`
}

func (s *Service) apiCompleteMilestone(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req completeRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	done, err := parseDate("done_on", req.DoneOn)
	if err != nil {
		return err
	}
	m, err := s.CompleteMilestone(r.Context(), actor(r), id, done, req.Evidence)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, m)
}

// POST /api/v1/tasks/{id}/extensions

type extensionRequest struct {
	Reason string `json:"reason"`
	NewDue string `json:"new_due"`
}

func (s *Service) apiRequestExtension(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req extensionRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	due, err := parseDate("new_due", req.NewDue)
	if err != nil {
		return err
	}
	e, err := s.RequestExtension(r.Context(), actor(r), id, NewExtension{Reason: req.Reason, NewDue: due})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, e)
}

// POST /api/v1/extensions/{id}/decision

type decisionRequest struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

func (s *Service) apiDecideExtension(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req decisionRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var approve bool
	switch strings.TrimSpace(req.Decision) {
	case "approve":
		approve = true
	case "refuse":
	default:
		return invalid("decision", "decision 须为 approve 或 refuse", "decision must be approve or refuse")
	}
	e, err := s.DecideExtension(r.Context(), actor(r), id, Decision{Approve: approve, Note: req.Note})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, e)
}

// Areas.

func (s *Service) apiAreas(w http.ResponseWriter, r *http.Request) error {
	all := r.URL.Query().Get("all") == "true"
	as, err := s.Areas(r.Context(), all)
	if err != nil {
		return err
	}
	return web.WriteList(w, as, len(as))
}

type areaRequest struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	NameEN    string `json:"name_en"`
	SortOrder int    `json:"sort_order"`
	Active    *bool  `json:"active"`
}

func (s *Service) apiSaveArea(w http.ResponseWriter, r *http.Request) error {
	var req areaRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	ar := Area{Code: req.Code, Name: req.Name, NameEN: req.NameEN, SortOrder: req.SortOrder, Active: true}
	if req.Active != nil {
		ar.Active = *req.Active
	}
	a, err := s.SaveArea(r.Context(), actor(r), ar)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}
