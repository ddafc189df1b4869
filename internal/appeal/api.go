package appeal

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

//go:embed openapi.json templates static
var files embed.FS

type route struct {
	pattern string
	perm    auth.Permission
	h       web.Handler
}

func actor(r *http.Request) Actor { return ActorOf(web.PrincipalFrom(r.Context()), web.ClientIP(r)) }

// Register loads the categories and registers the API, the pages and the
// messages.
func (s *Service) Register(ctx context.Context, ws *web.Server) error {
	if err := s.EnsureCategories(ctx); err != nil {
		return err
	}
	if err := ws.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("appeal: %w", err)
	}
	for _, rt := range s.apiRoutes() {
		ws.Handle(rt.pattern, rt.perm, rt.h)
	}
	return s.registerPages(ws)
}

func (s *Service) apiRoutes() []route {
	return []route{
		{"GET /api/v1/appeals", auth.PermAppealRead, s.apiList},
		{"POST /api/v1/appeals", auth.PermAppealCenter, s.apiCreate},
		{"GET /api/v1/appeals/{id}", auth.PermAppealRead, s.apiGet},
		{"POST /api/v1/appeals/{id}/unmask", auth.PermAppealPII, s.apiUnmask},
		{"POST /api/v1/appeals/{id}/triage", auth.PermAppealCenter, s.apiTriage},
		{"POST /api/v1/appeals/{id}/dispatch", auth.PermAppealCenter, s.apiDispatch},
		{"POST /api/v1/appeals/{id}/accept", auth.PermAppealHandle, s.apiAccept},
		{"POST /api/v1/appeals/{id}/return", auth.PermAppealHandle, s.apiReturn},
		{"POST /api/v1/appeals/{id}/extend", auth.PermAppealHandle, s.apiExtend},
		{"POST /api/v1/appeals/{id}/reply", auth.PermAppealHandle, s.apiReply},
		{"POST /api/v1/appeals/{id}/review", auth.PermAppealCenter, s.apiReview},
		{"POST /api/v1/appeals/{id}/follow-up", auth.PermAppealCenter, s.apiFollowUp},
		{"POST /api/v1/appeals/{id}/archive", auth.PermAppealCenter, s.apiArchive},
		{"POST /api/v1/appeals/{id}/merge", auth.PermAppealCenter, s.apiMerge},
		{"POST /api/v1/appeals/escalate", auth.PermAppealCenter, s.apiEscalate},
		{"POST /api/v1/appeals/suggest", auth.PermAppealRead, s.apiSuggest},
		{"POST /api/v1/appeals/import", auth.PermAppealCenter, s.apiImport},
		{"GET /api/v1/appeal-categories", auth.PermAppealRead, s.apiCategories},
		{"GET /api/v1/appeal-rules", auth.PermAppealRead, s.apiRules},
		{"PUT /api/v1/appeal-rules", auth.PermAppealCenter, s.apiSetRule},
		{"GET /api/v1/appeals/analysis/spikes", auth.PermAppealRead, s.apiSpikes},
		{"GET /api/v1/appeals/analysis/hotwords", auth.PermAppealRead, s.apiHotWords},
		{"GET /api/v1/appeals/analysis/repeats", auth.PermAppealRead, s.apiRepeats},
		{"GET /api/v1/appeals/analysis/clusters", auth.PermAppealRead, s.apiClusters},
		{"GET /api/v1/appeals/analysis/trends", auth.PermAppealRead, s.apiTrends},
		{"GET /api/v1/appeals/analysis/top", auth.PermAppealRead, s.apiTop},
		{"GET /api/v1/appeals/analysis/districts", auth.PermAppealRead, s.apiDistricts},
		{"GET /api/v1/appeals/analysis/league", auth.PermAppealRead, s.apiLeague},
	}
}

func dateParam(r *http.Request, name string) (workday.Date, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	d, err := workday.ParseDate(v)
	if err != nil {
		return 0, apperr.Invalid(name, fmt.Sprintf("%s 须为 YYYY-MM-DD 日期 / %s must be a date YYYY-MM-DD", name, name))
	}
	return d, nil
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, apperr.Invalid(name, fmt.Sprintf("%s 须为 %d–%d 的整数 / %s must be an integer %d–%d", name, lo, hi, name, lo, hi))
	}
	return n, nil
}

func filterOf(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{State: State(q.Get("state")), Category: q.Get("category"), District: q.Get("district"), Query: strings.TrimSpace(q.Get("q"))}
	if f.State != "" {
		ok := false
		for _, st := range []State{StateReceived, StateDispatched, StateDisputed, StateAccepted, StateReplied, StateResolved, StateFollowed, StateArchived, StateMerged} {
			ok = ok || st == f.State
		}
		if !ok {
			return f, apperr.Invalid("state", "未知状态 / unknown state")
		}
	}
	if u := q.Get("unit"); u != "" {
		n, err := strconv.ParseInt(u, 10, 64)
		if err != nil || n <= 0 {
			return f, apperr.Invalid("unit", "unit 须为单位编号 / unit must be a unit id")
		}
		f.UnitID = n
	}
	var err error
	if f.From, err = dateParam(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = dateParam(r, "to"); err != nil {
		return f, err
	}
	f.Limit, f.Offset, err = web.Paging(r)
	return f, err
}

func (s *Service) apiList(w http.ResponseWriter, r *http.Request) error {
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	items, total, err := s.List(r.Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*Appeal{}
	}
	return web.WriteList(w, items, total)
}

type createRequest struct {
	NewAppeal
	Dispatch bool `json:"dispatch"`
}

func (s *Service) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Channel == ChannelOpen311 || req.Channel == ChannelImport {
		return apperr.Invalid("channel", "open311 与 import 渠道由各自接口写入 / the open311 and import channels have their own endpoints")
	}
	if req.Channel == "" {
		req.Channel = ChannelAPI
	}
	a, err := s.Create(r.Context(), actor(r), req.NewAppeal, req.Dispatch)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/appeals/"+strconv.FormatInt(a.ID, 10))
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.Get(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}

func (s *Service) apiUnmask(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.Unmask(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

// action decodes a JSON body into T and runs f.
func action[T any](f func(r *http.Request, id int64, body T) (*Appeal, error)) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.PathID(r, "id")
		if err != nil {
			return err
		}
		var body T
		if r.ContentLength != 0 {
			if err := web.DecodeJSON(r, &body); err != nil {
				return err
			}
		}
		a, err := f(r, id, body)
		if err != nil {
			return err
		}
		return web.WriteJSON(w, http.StatusOK, a)
	}
}

type noteBody struct {
	Note string `json:"note"`
}

func (s *Service) apiTriage(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
	}) (*Appeal, error) {
		return s.Triage(r.Context(), actor(r), id, b.Outcome, b.Note)
	})(w, r)
}

func (s *Service) apiDispatch(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		UnitID int64  `json:"unit_id"`
		Note   string `json:"note"`
	}) (*Appeal, error) {
		return s.Dispatch(r.Context(), actor(r), id, b.UnitID, b.Note)
	})(w, r)
}

func (s *Service) apiAccept(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, _ noteBody) (*Appeal, error) {
		return s.Accept(r.Context(), actor(r), id)
	})(w, r)
}

func (s *Service) apiReturn(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		Reason string `json:"reason"`
	}) (*Appeal, error) {
		return s.Return(r.Context(), actor(r), id, b.Reason)
	})(w, r)
}

func (s *Service) apiExtend(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		Days   int    `json:"days"`
		Reason string `json:"reason"`
	}) (*Appeal, error) {
		return s.Extend(r.Context(), actor(r), id, b.Days, b.Reason)
	})(w, r)
}

func (s *Service) apiReply(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		Reply string `json:"reply"`
	}) (*Appeal, error) {
		return s.Reply(r.Context(), actor(r), id, b.Reply)
	})(w, r)
}

func (s *Service) apiReview(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		Approve bool   `json:"approve"`
		Note    string `json:"note"`
	}) (*Appeal, error) {
		return s.Review(r.Context(), actor(r), id, b.Approve, b.Note)
	})(w, r)
}

func (s *Service) apiFollowUp(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		Satisfaction string `json:"satisfaction"`
		Solved       bool   `json:"solved"`
		Note         string `json:"note"`
	}) (*Appeal, error) {
		return s.FollowUp(r.Context(), actor(r), id, b.Satisfaction, b.Solved, b.Note)
	})(w, r)
}

func (s *Service) apiArchive(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, _ noteBody) (*Appeal, error) {
		return s.Archive(r.Context(), actor(r), id)
	})(w, r)
}

func (s *Service) apiMerge(w http.ResponseWriter, r *http.Request) error {
	return action(func(r *http.Request, id int64, b struct {
		MasterID int64 `json:"master_id"`
	}) (*Appeal, error) {
		return s.Merge(r.Context(), actor(r), id, b.MasterID)
	})(w, r)
}

func (s *Service) apiEscalate(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		IDs    []int64 `json:"ids"`
		Title  string  `json:"title"`
		UnitID int64   `json:"unit_id"`
	}
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	id, err := s.Escalate(r.Context(), actor(r), b.IDs, b.Title, b.UnitID)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"task_id": id, "link": fmt.Sprintf("/tasks/%d", id)})
}

func (s *Service) apiSuggest(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Content  string `json:"content"`
		District string `json:"district"`
	}
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	if strings.TrimSpace(b.Content) == "" {
		return apperr.Invalid("content", "请填写诉求内容 / content is required")
	}
	sg, err := s.Suggest(r.Context(), b.Content, b.District)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sg)
}

func (s *Service) apiCategories(w http.ResponseWriter, r *http.Request) error {
	c := s.Categories()
	return web.WriteList(w, c, len(c))
}

func (s *Service) apiRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.Rules(r.Context())
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []Rule{}
	}
	return web.WriteList(w, rs, len(rs))
}

func (s *Service) apiSetRule(w http.ResponseWriter, r *http.Request) error {
	var b Rule
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	if err := s.SetRule(r.Context(), actor(r), b); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, b)
}
