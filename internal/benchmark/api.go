package benchmark

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

type route struct {
	pattern string
	perm    auth.Permission
	h       web.Handler
}

func (s *Service) apiRoutes() []route {
	r, w := auth.PermBenchmarkRead, auth.PermBenchmarkWrite
	return []route{
		{"GET /api/v1/peers", r, s.apiPeers},
		{"POST /api/v1/peers", w, s.apiCreatePeer},
		{"GET /api/v1/peers/{id}", r, s.apiPeer},
		{"PUT /api/v1/peers/{id}", w, s.apiUpdatePeer},
		{"GET /api/v1/learning-activities", r, s.apiActivities},
		{"POST /api/v1/learning-activities", w, s.apiCreateActivity},
		{"GET /api/v1/indicator-categories", r, s.apiCategories},
		{"POST /api/v1/indicator-categories", w, s.apiCreateCategory},
		{"GET /api/v1/indicators", r, s.apiIndicators},
		{"POST /api/v1/indicators", w, s.apiCreateIndicator},
		{"POST /api/v1/indicators/import", w, s.apiImportIndicators},
		{"GET /api/v1/indicators/{id}", r, s.apiIndicator},
		{"PUT /api/v1/indicators/{id}", w, s.apiUpdateIndicator},
		{"GET /api/v1/indicators/{id}/gap", r, s.apiGap},
		{"GET /api/v1/indicators/{id}/observations", r, s.apiObservations},
		{"GET /api/v1/indicators/{id}/stages", r, s.apiStages},
		{"POST /api/v1/observations", w, s.apiSaveObservation},
		{"POST /api/v1/observations/import", w, s.apiImportObservations},
		{"GET /api/v1/targets", r, s.apiTargets},
		{"POST /api/v1/targets", w, s.apiCreateTarget},
		{"GET /api/v1/targets/{id}", r, s.apiTarget},
		{"GET /api/v1/benchmark/index", r, s.apiIndex},
		{"GET /api/v1/benchmark/internal", r, s.apiInternal},
	}
}

// actorOf is the request's actor.
func actorOf(r *http.Request) Actor {
	p := web.PrincipalFrom(r.Context())
	if p == nil {
		return Actor{Username: "anonymous", IP: web.ClientIP(r)}
	}
	return Actor{UserID: p.UserID, Username: p.Username, IP: web.ClientIP(r)}
}

func lang(r *http.Request) string {
	if strings.HasPrefix(web.Lang(r.Context()), "en") {
		return "en"
	}
	return "zh-CN"
}

func queryID(r *http.Request, name string) (int64, error) {
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

func (s *Service) apiPeers(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Peers(r.Context())
	if err != nil {
		return err
	}
	return web.WriteList(w, ps, len(ps))
}

func (s *Service) apiPeer(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.Peer(r.Context(), id)
	if err != nil {
		return err
	}
	acts, err := s.Activities(r.Context(), id)
	if err != nil {
		return err
	}
	if acts == nil {
		acts = []Activity{}
	}
	return web.WriteJSON(w, http.StatusOK, struct {
		*Peer
		Activities []Activity `json:"activities"`
	}{p, acts})
}

func (s *Service) apiCreatePeer(w http.ResponseWriter, r *http.Request) error {
	var in NewPeer
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.CreatePeer(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, p)
}

func (s *Service) apiActivities(w http.ResponseWriter, r *http.Request) error {
	peer, err := queryID(r, "peer_id")
	if err != nil {
		return err
	}
	list, err := s.Activities(r.Context(), peer)
	if err != nil {
		return err
	}
	return web.WriteList(w, list, len(list))
}

func (s *Service) apiCreateActivity(w http.ResponseWriter, r *http.Request) error {
	var in NewActivity
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.CreateActivity(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (s *Service) apiCategories(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.Categories(r.Context())
	if err != nil {
		return err
	}
	return web.WriteList(w, cs, len(cs))
}

func (s *Service) apiCreateCategory(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      string `json:"name"`
		NameEN    string `json:"name_en"`
		SortOrder int    `json:"sort_order"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	c := Category{Name: in.Name, NameEN: in.NameEN, SortOrder: in.SortOrder}
	if err := s.AddCategory(r.Context(), actorOf(r), c); err != nil {
		return err
	}
	c.Name = strings.TrimSpace(c.Name)
	return web.WriteJSON(w, http.StatusCreated, c)
}

func (s *Service) apiIndicators(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Indicators(r.Context(), r.URL.Query().Get("category"))
	if err != nil {
		return err
	}
	return web.WriteList(w, list, len(list))
}

func (s *Service) apiIndicator(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.Indicator(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, in)
}

func (s *Service) apiCreateIndicator(w http.ResponseWriter, r *http.Request) error {
	var in NewIndicator
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	ind, err := s.CreateIndicator(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, ind)
}

func (s *Service) apiGap(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	g, err := s.Gap(r.Context(), id, r.URL.Query().Get("period"), lang(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, g)
}

func (s *Service) apiObservations(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.Observations(r.Context(), id, r.URL.Query().Get("period"), lang(r))
	if err != nil {
		return err
	}
	return web.WriteList(w, list, len(list))
}

func (s *Service) apiStages(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.Stages(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteList(w, list, len(list))
}

func (s *Service) apiSaveObservation(w http.ResponseWriter, r *http.Request) error {
	var in ObservationInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	o, err := s.SaveObservation(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, o)
}

func (s *Service) apiTargets(w http.ResponseWriter, r *http.Request) error {
	ind, err := queryID(r, "indicator_id")
	if err != nil {
		return err
	}
	list, err := s.Targets(r.Context(), ind)
	if err != nil {
		return err
	}
	return web.WriteList(w, list, len(list))
}

func (s *Service) apiTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.Target(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, t)
}

func (s *Service) apiCreateTarget(w http.ResponseWriter, r *http.Request) error {
	var in NewTarget
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.CreateTarget(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, t)
}

func (s *Service) apiIndex(w http.ResponseWriter, r *http.Request) error {
	ov, err := s.Analyse(r.Context(), lang(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ov)
}

func (s *Service) apiImportIndicators(w http.ResponseWriter, r *http.Request) error {
	b, _, err := readUpload(w, r)
	if err != nil {
		return err
	}
	n, err := s.ImportIndicators(r.Context(), actorOf(r), b)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]int{"imported": n})
}

func (s *Service) apiImportObservations(w http.ResponseWriter, r *http.Request) error {
	b, fields, err := readUpload(w, r)
	if err != nil {
		return err
	}
	n, err := s.ImportObservations(r.Context(), actorOf(r), b, ImportOptions{Indicator: fields["indicator"], Period: fields["period"]})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]int{"imported": n})
}

func (s *Service) apiUpdatePeer(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		NewPeer
		Active *bool `json:"active"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	active := in.Active == nil || *in.Active
	p, err := s.UpdatePeer(r.Context(), actorOf(r), id, in.NewPeer, active)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (s *Service) apiUpdateIndicator(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		NewIndicator
		Active *bool `json:"active"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	active := in.Active == nil || *in.Active
	ind, err := s.UpdateIndicator(r.Context(), actorOf(r), id, in.NewIndicator, active)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ind)
}

func (s *Service) apiInternal(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Internal(r.Context())
	if err != nil {
		return err
	}
	return web.WriteList(w, list, len(list))
}

var _ = apperr.As
