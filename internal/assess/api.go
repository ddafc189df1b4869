package assess

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

//go:embed openapi.json templates/*.html static/*
var files embed.FS

type route struct {
	pattern string
	perm    auth.Permission
	h       web.Handler
}

// Register adds the API, the pages, the messages and the navigation.
func (s *Service) Register(ws *web.Server) error {
	s.ws.web = ws
	if ws.Cfg.Location != nil {
		s.Loc = ws.Cfg.Location
	}
	if err := ws.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("assess: %w", err)
	}
	if err := s.registerPages(ws); err != nil {
		return err
	}
	ws.Messages.Add(messagesZH, messagesEN)
	for _, rt := range append(append(s.apiRoutes(), s.pageRoutes()...), s.yearRoutes()...) {
		ws.Handle(rt.pattern, rt.perm, rt.h)
	}
	return nil
}

func (s *Service) apiRoutes() []route {
	return []route{
		{"GET /api/v1/periods", auth.PermAssessRead, s.apiPeriods},
		{"POST /api/v1/periods", auth.PermAssessWrite, s.apiOpenPeriod},
		{"POST /api/v1/periods/{key}/publish", auth.PermAssessWrite, s.apiPublish},
		{"GET /api/v1/assess/settings", auth.PermAssessRead, s.apiSettings},
		{"PUT /api/v1/assess/settings", auth.PermAssessWrite, s.apiSaveSettings},
		{"GET /api/v1/daily-reports", auth.PermAssessRead, s.apiDailyList},
		{"POST /api/v1/daily-reports", auth.PermAssessReport, s.apiDailyFile},
		{"GET /api/v1/daily-digests", auth.PermAssessRead, s.apiDigest},
		{"GET /api/v1/showcase/{month}", auth.PermAssessRead, s.apiShowcase},
		{"POST /api/v1/showcase/{month}/comments", auth.PermAssessSignOff, s.apiComment},
		{"GET /api/v1/exhibitions/{half}", auth.PermAssessRead, s.apiExhibition},
		{"GET /api/v1/achievements", auth.PermAssessRead, s.apiAchievements},
		{"POST /api/v1/achievements", auth.PermAssessReport, s.apiSubmitAchievement},
		{"POST /api/v1/achievements/{id}/review", auth.PermAssessWrite, s.apiReviewAchievement},
		{"POST /api/v1/schemes", auth.PermAssessWrite, s.apiSaveScheme},
		{"GET /api/v1/schemes/{year}", auth.PermAssessRead, s.apiScheme},
		{"GET /api/v1/declarations", auth.PermAssessRead, s.apiDeclarations},
		{"POST /api/v1/declarations", auth.PermAssessReport, s.apiDeclare},
		{"POST /api/v1/declarations/{id}/review", auth.PermAssessWrite, s.apiReviewDeclaration},
		{"POST /api/v1/spot-checks", auth.PermAssessWrite, s.apiDrawSpot},
		{"GET /api/v1/spot-checks/{id}", auth.PermAssessWrite, s.apiSpotCheck},
		{"POST /api/v1/spot-items/{id}", auth.PermAssessWrite, s.apiCheckItem},
		{"GET /api/v1/ratings", auth.PermAssessWrite, s.apiRatings},
		{"POST /api/v1/ratings", auth.PermAssessRate, s.apiRate},
		{"POST /api/v1/ratings/import", auth.PermAssessWrite, s.apiImportBallots},
		{"GET /api/v1/ratings/template", auth.PermAssessWrite, s.apiBallotTemplate},
		{"GET /api/v1/adjustments", auth.PermAssessRead, s.apiAdjustments},
		{"POST /api/v1/adjustments", auth.PermAssessWrite, s.apiAddAdjustment},
		{"GET /api/v1/evaluations/{year}", auth.PermAssessRead, s.apiEvaluation},
		{"POST /api/v1/evaluations/{year}/sign-off", auth.PermAssessSignOff, s.apiSignOff},
		{"GET /api/v1/objections", auth.PermAssessRead, s.apiObjections},
		{"POST /api/v1/objections", auth.PermAssessReport, s.apiObject},
		{"POST /api/v1/objections/{id}/answer", auth.PermAssessWrite, s.apiAnswer},
		{"GET /api/v1/assess/exports/{table}", auth.PermAssessRead, s.apiExport},
	}
}

func actor(r *http.Request) Actor { return ActorOf(web.PrincipalFrom(r.Context()), web.ClientIP(r)) }

func pathYear(r *http.Request) (int, error) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return 0, invalid("year", "年度须为四位数字", "year must be four digits")
	}
	return y, validYear(y)
}

func queryYear(r *http.Request) (int, error) {
	v := r.URL.Query().Get("year")
	if v == "" {
		return 0, invalid("year", "须指定 year", "year is required")
	}
	y, err := strconv.Atoi(v)
	if err != nil {
		return 0, invalid("year", "年度须为四位数字", "year must be four digits")
	}
	return y, validYear(y)
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

func queryDate(r *http.Request, name string) (workday.Date, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return 0, nil
	}
	d, err := workday.ParseDate(v)
	if err != nil {
		return 0, invalid(name, name+" 须为 YYYY-MM-DD", name+" must be YYYY-MM-DD")
	}
	return d, nil
}

// live reports whether the viewer may see periods not published yet.
func live(r *http.Request) bool {
	return web.PrincipalFrom(r.Context()).Can(auth.PermAssessWrite) || web.PrincipalFrom(r.Context()).Can(auth.PermAssessSignOff)
}

func (s *Service) apiPeriods(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.ListPeriods(r.Context())
	if err != nil {
		return err
	}
	return web.WriteList(w, ps, len(ps))
}

func (s *Service) apiOpenPeriod(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Key string `json:"key"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	p, err := s.OpenPeriod(r.Context(), actor(r), req.Key)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, p)
}

func (s *Service) apiPublish(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := web.DecodeJSON(r, &req); err != nil {
			return err
		}
	}
	p, err := s.Publish(r.Context(), actor(r), r.PathValue("key"), req.Reason)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (s *Service) apiSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Settings(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, st)
}

func (s *Service) apiSaveSettings(w http.ResponseWriter, r *http.Request) error {
	var st Settings
	if err := web.DecodeJSON(r, &st); err != nil {
		return err
	}
	st, err := s.SaveSettings(r.Context(), actor(r), st)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, st)
}

func (s *Service) apiDailyList(w http.ResponseWriter, r *http.Request) error {
	var f DailyFilter
	var err error
	if f.UnitID, err = queryID(r, "unit_id"); err != nil {
		return err
	}
	if f.From, err = queryDate(r, "from"); err != nil {
		return err
	}
	if f.To, err = queryDate(r, "to"); err != nil {
		return err
	}
	limit, _, err := web.Paging(r)
	if err != nil {
		return err
	}
	f.Limit = limit
	rs, err := s.ListDaily(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteList(w, rs, len(rs))
}

type dailyRequest struct {
	Day      string `json:"day"`
	Done     string `json:"done"`
	Moved    string `json:"moved"`
	Problems string `json:"problems"`
	Tomorrow string `json:"tomorrow"`
}

func (s *Service) apiDailyFile(w http.ResponseWriter, r *http.Request) error {
	var req dailyRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	in := DailyInput{Done: req.Done, Moved: req.Moved, Problems: req.Problems, Tomorrow: req.Tomorrow}
	if req.Day != "" {
		d, err := workday.ParseDate(req.Day)
		if err != nil {
			return invalid("day", "day 须为 YYYY-MM-DD", "day must be YYYY-MM-DD")
		}
		in.Day = d
	}
	d, err := s.FileDaily(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, d)
}

func (s *Service) apiDigest(w http.ResponseWriter, r *http.Request) error {
	uid, err := queryID(r, "unit_id")
	if err != nil {
		return err
	}
	if uid == 0 {
		return invalid("unit_id", "须指定 unit_id", "unit_id is required")
	}
	d, err := queryDate(r, "date")
	if err != nil {
		return err
	}
	if d.IsZero() {
		d = s.Today()
	}
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = "week"
	}
	dg, err := s.MakeDigest(r.Context(), uid, kind, d)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, dg)
}

func (s *Service) apiShowcase(w http.ResponseWriter, r *http.Request) error {
	sc, err := s.ShowcaseOf(r.Context(), r.PathValue("month"), live(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sc)
}

func (s *Service) apiComment(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		UnitID *int64 `json:"unit_id"`
		Text   string `json:"text"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	c, err := s.AddComment(r.Context(), actor(r), r.PathValue("month"), req.UnitID, req.Text)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, c)
}

func (s *Service) apiExhibition(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.ExhibitionOf(r.Context(), r.PathValue("half"), live(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ex)
}

func (s *Service) apiAchievements(w http.ResponseWriter, r *http.Request) error {
	uid, err := queryID(r, "unit_id")
	if err != nil {
		return err
	}
	as, err := s.Achievements(r.Context(), r.URL.Query().Get("period"), uid)
	if err != nil {
		return err
	}
	// Pending and rejected ones are the unit's and the supervisors' business.
	a := actor(r)
	if !a.Writer {
		out := as[:0]
		for _, x := range as {
			if x.State == "approved" || x.UnitID == a.UnitID {
				out = append(out, x)
			}
		}
		as = out
	}
	return web.WriteList(w, as, len(as))
}

func (s *Service) apiSubmitAchievement(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Period string `json:"period"`
		Title  string `json:"title"`
		Text   string `json:"text"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	a, err := s.SubmitAchievement(r.Context(), actor(r), AchievementInput{Period: req.Period, Title: req.Title, Text: req.Text})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (s *Service) apiReviewAchievement(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Approve bool   `json:"approve"`
		Note    string `json:"note"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	a, err := s.ReviewAchievement(r.Context(), actor(r), id, req.Approve, req.Note)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, a)
}

type schemeRequest struct {
	Year                int          `json:"year"`
	Name                string       `json:"name"`
	BonusCap            *float64     `json:"bonus_cap"`
	DeductionCap        *float64     `json:"deduction_cap"`
	ExcellentQuota      *float64     `json:"excellent_quota"`
	OverdueDeduction    *float64     `json:"overdue_deduction"`
	DeclarationDeadline string       `json:"declaration_deadline"`
	Criteria            []Criterion  `json:"criteria"`
	RaterGroups         []RaterGroup `json:"rater_groups"`
}

func (req schemeRequest) scheme() (Scheme, error) {
	sc := Scheme{Year: req.Year, Name: req.Name, BonusCap: 5, DeductionCap: 10, ExcellentQuota: 30, OverdueDeduction: 0.5,
		Criteria: req.Criteria, RaterGroups: req.RaterGroups}
	for _, p := range []struct {
		v   *float64
		dst *float64
	}{{req.BonusCap, &sc.BonusCap}, {req.DeductionCap, &sc.DeductionCap}, {req.ExcellentQuota, &sc.ExcellentQuota}, {req.OverdueDeduction, &sc.OverdueDeduction}} {
		if p.v != nil {
			*p.dst = *p.v
		}
	}
	if req.DeclarationDeadline != "" {
		d, err := workday.ParseDate(req.DeclarationDeadline)
		if err != nil {
			return sc, invalid("declaration_deadline", "declaration_deadline 须为 YYYY-MM-DD", "declaration_deadline must be YYYY-MM-DD")
		}
		sc.DeclarationDeadline = d
	}
	return sc, nil
}

func (s *Service) apiSaveScheme(w http.ResponseWriter, r *http.Request) error {
	var req schemeRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	in, err := req.scheme()
	if err != nil {
		return err
	}
	sc, err := s.SaveScheme(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, sc)
}

func (s *Service) apiScheme(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	sc, err := s.Scheme(r.Context(), y)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sc)
}

func (s *Service) apiDeclarations(w http.ResponseWriter, r *http.Request) error {
	y, err := queryYear(r)
	if err != nil {
		return err
	}
	a := actor(r)
	uid, err := queryID(r, "unit_id")
	if err != nil {
		return err
	}
	if !a.Writer && !a.Leader {
		uid = a.UnitID // others see their own unit's only
		if uid == 0 {
			return web.WriteList(w, []Declaration{}, 0)
		}
	}
	ds, err := s.Declarations(r.Context(), y, uid)
	if err != nil {
		return err
	}
	return web.WriteList(w, ds, len(ds))
}

func (s *Service) apiDeclare(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Year      int     `json:"year"`
		Criterion string  `json:"criterion"`
		Claimed   float64 `json:"claimed"`
		Evidence  string  `json:"evidence"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	d, err := s.Declare(r.Context(), actor(r), req.Year, req.Criterion, req.Claimed, req.Evidence)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, d)
}

func (s *Service) apiReviewDeclaration(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Score *float64 `json:"score"`
		Note  string   `json:"note"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	d, err := s.ReviewDeclaration(r.Context(), actor(r), id, req.Score, req.Note)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

func (s *Service) apiDrawSpot(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Year int     `json:"year"`
		Rate float64 `json:"rate"`
		Seed int64   `json:"seed"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	sc, err := s.DrawSpotCheck(r.Context(), actor(r), req.Year, req.Rate, req.Seed)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, sc)
}

func (s *Service) apiSpotCheck(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	sc, err := s.SpotCheck(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sc)
}

func (s *Service) apiCheckItem(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Result string `json:"result"`
		Note   string `json:"note"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	it, err := s.CheckItem(r.Context(), actor(r), id, req.Result, req.Note)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, it)
}

func (s *Service) apiRatings(w http.ResponseWriter, r *http.Request) error {
	y, err := queryYear(r)
	if err != nil {
		return err
	}
	rs, err := s.Ratings(r.Context(), y)
	if err != nil {
		return err
	}
	return web.WriteList(w, rs, len(rs))
}

func (s *Service) apiRate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Year      int     `json:"year"`
		Criterion string  `json:"criterion"`
		UnitID    int64   `json:"unit_id"`
		Score     float64 `json:"score"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	rt, err := s.Rate(r.Context(), actor(r), RatingInput{Year: req.Year, Criterion: req.Criterion, UnitID: req.UnitID, Score: req.Score})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, rt)
}

func (s *Service) apiAdjustments(w http.ResponseWriter, r *http.Request) error {
	pid, err := queryID(r, "person_id")
	if err != nil {
		return err
	}
	y := 0
	if pid == 0 {
		if y, err = queryYear(r); err != nil {
			return err
		}
	}
	as, err := s.Adjustments(r.Context(), y, pid)
	if err != nil {
		return err
	}
	return web.WriteList(w, as, len(as))
}

func (s *Service) apiAddAdjustment(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Year     int     `json:"year"`
		UnitID   int64   `json:"unit_id"`
		PersonID int64   `json:"person_id"`
		Category string  `json:"category"`
		Points   float64 `json:"points"`
		Reason   string  `json:"reason"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	a, err := s.AddAdjustment(r.Context(), actor(r), AdjustmentInput{Year: req.Year, UnitID: req.UnitID, PersonID: req.PersonID, Category: req.Category, Points: req.Points, Reason: req.Reason})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, a)
}

func (s *Service) apiEvaluation(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	ev, err := s.EvaluationOf(r.Context(), y, live(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ev)
}

func (s *Service) apiSignOff(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	p, err := s.SignOff(r.Context(), actor(r), y)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (s *Service) apiObjections(w http.ResponseWriter, r *http.Request) error {
	os, err := s.Objections(r.Context(), r.URL.Query().Get("period"))
	if err != nil {
		return err
	}
	return web.WriteList(w, os, len(os))
}

func (s *Service) apiObject(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Period string `json:"period"`
		Text   string `json:"text"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	o, err := s.Object(r.Context(), actor(r), req.Period, req.Text)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, o)
}

func (s *Service) apiAnswer(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Answer string `json:"answer"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	o, err := s.Answer(r.Context(), actor(r), id, req.Answer)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, o)
}

// withTimeout bounds a page's or export's computation.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 60*time.Second)
}
