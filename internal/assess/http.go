package assess

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

type webState struct{ web *web.Server }

func (s *Service) registerPages(ws *web.Server) error {
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return fmt.Errorf("assess: %w", err)
	}
	if err := ws.Render.Add(files, pages...); err != nil {
		return fmt.Errorf("assess: %w", err)
	}
	ws.Nav(web.NavItem{Key: "nav.assess", Path: "/assess", Perm: auth.PermAssessRead, Order: 13})
	return nil
}

func (s *Service) pageRoutes() []route {
	return []route{
		{"GET /assess", auth.PermAssessRead, s.getHub},
		{"POST /assess/publish", auth.PermAssessWrite, s.postPublish},
		{"GET /assess/daily", auth.PermAssessRead, s.getDaily},
		{"POST /assess/daily", auth.PermAssessReport, s.postDaily},
		{"GET /assess/digest", auth.PermAssessRead, s.getDigest},
		{"GET /assess/showcase/{month}", auth.PermAssessRead, s.getShowcase},
		{"GET /assess/showcase/{month}/poster", auth.PermAssessRead, s.getPoster},
		{"POST /assess/showcase/{month}/comments", auth.PermAssessSignOff, s.postComment},
		{"GET /assess/exhibition/{half}", auth.PermAssessRead, s.getExhibition},
		{"GET /assess/exhibition/{half}/print", auth.PermAssessRead, s.getDeck},
		{"GET /assess/achievements", auth.PermAssessRead, s.getAchievements},
		{"POST /assess/achievements", auth.PermAssessReport, s.postAchievement},
		{"POST /assess/achievements/{id}/review", auth.PermAssessWrite, s.postReviewAchievement},
		{"POST /assess/achievements/{id}/photos", auth.PermAssessReport, s.postPhoto},
		{"GET /assess/photos/{id}", auth.PermAssessRead, s.getPhoto},
		{"GET /assess/evaluation/{year}", auth.PermAssessRead, s.getEvaluation},
		{"POST /assess/evaluation/{year}/sign-off", auth.PermAssessSignOff, s.postSignOff},
		{"POST /assess/objections", auth.PermAssessReport, s.postObjection},
		{"POST /assess/objections/{id}/answer", auth.PermAssessWrite, s.postAnswer},
		{"GET /assess/rate/{year}", auth.PermAssessRate, s.getRate},
		{"POST /assess/rate/{year}", auth.PermAssessRate, s.postRate},
		{"GET /static/assess/{file}", auth.PermPublic, web.FeatureStatic(files, "static")},
	}
}

func (s *Service) html(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) error {
	p := s.ws.web.NewPage(r, title, data)
	return s.ws.web.HTMLPage(w, status, name, p)
}

func redirect(w http.ResponseWriter, r *http.Request, path, flash string) error {
	if flash != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "msg=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// Hub.

type hubData struct {
	Periods  []Period
	Months   []string // months this year up to now, for publishing
	Halves   []string
	Years    []string
	Latest   string // latest published month
	Half     string
	Year     int
	Today    workday.Date
	Settings Settings
}

func (s *Service) getHub(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.ListPeriods(r.Context())
	if err != nil {
		return err
	}
	st, err := s.Settings(r.Context())
	if err != nil {
		return err
	}
	today := s.Today()
	d := hubData{Periods: ps, Today: today, Settings: st}
	// The tiles lead to the latest published period of each kind (periods
	// come newest first), or to the current one.
	for _, p := range ps {
		switch {
		case !p.Published():
		case p.Kind == "month" && d.Latest == "":
			d.Latest = p.Key
		case p.Kind == "half_year" && d.Half == "":
			d.Half = p.Key
		case p.Kind == "year" && d.Year == 0:
			d.Year = p.Start.Year()
		}
	}
	if d.Half == "" {
		d.Half = metric.HalfYearOf(today).String()
	}
	if d.Year == 0 {
		d.Year = today.Year() - 1
	}
	for m := metric.MonthOf(today); m.Start.Year() >= today.Year()-1 && len(d.Months) < 14; m = m.Prev() {
		d.Months = append(d.Months, m.String())
	}
	for h := metric.HalfYearOf(today); len(d.Halves) < 4; h = h.Prev() {
		d.Halves = append(d.Halves, h.String())
	}
	d.Years = []string{fmt.Sprint(today.Year()), fmt.Sprint(today.Year() - 1)}
	return s.html(w, r, http.StatusOK, "assess_hub.html", "assess.title", d)
}

func (s *Service) postPublish(w http.ResponseWriter, r *http.Request) error {
	key := r.FormValue("key")
	p, err := s.Publish(r.Context(), actor(r), key, r.FormValue("reason"))
	if err != nil {
		return err
	}
	return redirect(w, r, periodPath(p.Key, p.Kind), "flash.assess_published")
}

func periodPath(key, kind string) string {
	switch kind {
	case "month":
		return "/assess/showcase/" + key
	case "half_year":
		return "/assess/exhibition/" + key
	}
	return "/assess/evaluation/" + key
}

// Daily reports.

type dailyData struct {
	Today     workday.Date
	CanFile   bool
	Mine      *DailyReport
	Preview   []ReportLine
	Form      dailyRequest
	Error     string
	Field     string
	Reports   []DailyReport
	Missing   []Unit
	UnitID    int64
	Settings  Settings
	Writer    bool
	DigestFor int64
}

func (s *Service) dailyPage(w http.ResponseWriter, r *http.Request, status int, d dailyData) error {
	ctx := r.Context()
	a := actor(r)
	d.Today = s.Today()
	d.CanFile = a.Reporter && a.UnitID != 0
	d.Writer = a.Writer
	d.UnitID = a.UnitID
	var err error
	if d.Settings, err = s.Settings(ctx); err != nil {
		return err
	}
	if d.CanFile {
		if d.Mine, err = s.DailyOf(ctx, a.UnitID, d.Today); err != nil {
			return err
		}
		if s.Reports != nil {
			if d.Preview, err = s.Reports.UnitReports(ctx, a.UnitID, d.Today); err != nil {
				return err
			}
		}
		if d.Mine != nil && d.Form == (dailyRequest{}) {
			d.Form = dailyRequest{Done: d.Mine.Done, Moved: d.Mine.Moved, Problems: d.Mine.Problems, Tomorrow: d.Mine.Tomorrow}
		}
	}
	f := DailyFilter{From: d.Today.AddDays(-6), Limit: 300}
	if !a.Writer && !a.Leader && a.UnitID != 0 {
		f.UnitID = a.UnitID
	}
	if d.Reports, err = s.ListDaily(ctx, f); err != nil {
		return err
	}
	if a.Writer || a.Leader {
		units, err := unitsOf(ctx, s.DB, d.Settings.Kinds)
		if err != nil {
			return err
		}
		filed, err := s.filedOn(ctx, d.Today)
		if err != nil {
			return err
		}
		for _, u := range units {
			if !filed[u.ID] {
				d.Missing = append(d.Missing, u)
			}
		}
	}
	return s.html(w, r, status, "assess_daily.html", "assess.daily.title", d)
}

func (s *Service) getDaily(w http.ResponseWriter, r *http.Request) error {
	return s.dailyPage(w, r, http.StatusOK, dailyData{})
}

func (s *Service) postDaily(w http.ResponseWriter, r *http.Request) error {
	form := dailyRequest{Done: r.FormValue("done"), Moved: r.FormValue("moved"), Problems: r.FormValue("problems"), Tomorrow: r.FormValue("tomorrow")}
	_, err := s.FileDaily(r.Context(), actor(r), DailyInput{Done: form.Done, Moved: form.Moved, Problems: form.Problems, Tomorrow: form.Tomorrow})
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Status < 500 {
			return s.dailyPage(w, r, e.Status, dailyData{Form: form, Error: localize(r, e.Message), Field: e.Field})
		}
		return err
	}
	return redirect(w, r, "/assess/daily", "flash.assess_daily_saved")
}

// localize picks the request's language from a "中文 / English" message.
func localize(r *http.Request, m string) string {
	zh, en, ok := strings.Cut(m, " / ")
	if !ok {
		return m
	}
	if web.Lang(r.Context()) == "en" {
		return en
	}
	return zh
}

func (s *Service) getDigest(w http.ResponseWriter, r *http.Request) error {
	uid, err := queryID(r, "unit_id")
	if err != nil {
		return err
	}
	a := actor(r)
	if uid == 0 {
		uid = a.UnitID
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
	return s.html(w, r, http.StatusOK, "assess_digest.html", "assess.digest.title", dg)
}

// Showcase.

type showcaseData struct {
	SC      *Showcase
	Period  *Period
	Lang    string
	Prev    string
	Next    string
	Units   []Unit
	Objects []Objection
}

func (s *Service) showcaseData(r *http.Request) (*showcaseData, error) {
	ctx, cancel := withTimeout(r.Context())
	defer cancel()
	sc, err := s.ShowcaseOf(ctx, r.PathValue("month"), live(r))
	if err != nil {
		return nil, err
	}
	p, err := s.Period(ctx, sc.Period)
	if err != nil {
		return nil, err
	}
	mp, _ := metric.ParsePeriod(sc.Period)
	d := &showcaseData{SC: sc, Period: p, Lang: web.Lang(r.Context()), Prev: mp.Prev().String()}
	next, _ := metric.PeriodOf(metric.Month, mp.End.AddDays(1))
	if !next.Start.After(s.Today()) {
		d.Next = next.String()
	}
	if d.Objects, err = s.Objections(ctx, sc.Period); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Service) getShowcase(w http.ResponseWriter, r *http.Request) error {
	d, err := s.showcaseData(r)
	if err != nil {
		return err
	}
	return s.html(w, r, http.StatusOK, "assess_showcase.html", "assess.showcase.title", d)
}

func (s *Service) getPoster(w http.ResponseWriter, r *http.Request) error {
	d, err := s.showcaseData(r)
	if err != nil {
		return err
	}
	return s.html(w, r, http.StatusOK, "assess_poster.html", "assess.showcase.title", d)
}

func (s *Service) postComment(w http.ResponseWriter, r *http.Request) error {
	var unit *int64
	if v := r.FormValue("unit_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return invalid("unit_id", "unit_id 须为正整数", "unit_id must be a positive integer")
		}
		unit = &n
	}
	c, err := s.AddComment(r.Context(), actor(r), r.PathValue("month"), unit, r.FormValue("text"))
	if err != nil {
		return err
	}
	return redirect(w, r, "/assess/showcase/"+c.Period, "flash.assess_saved")
}

// Exhibition.

type exhibitionData struct {
	EX     *Exhibition
	Period *Period
	Lang   string
}

func (s *Service) exhibitionData(r *http.Request) (*exhibitionData, error) {
	ctx, cancel := withTimeout(r.Context())
	defer cancel()
	ex, err := s.ExhibitionOf(ctx, r.PathValue("half"), live(r))
	if err != nil {
		return nil, err
	}
	p, err := s.Period(ctx, ex.Period)
	if err != nil {
		return nil, err
	}
	return &exhibitionData{EX: ex, Period: p, Lang: web.Lang(r.Context())}, nil
}

func (s *Service) getExhibition(w http.ResponseWriter, r *http.Request) error {
	d, err := s.exhibitionData(r)
	if err != nil {
		return err
	}
	return s.html(w, r, http.StatusOK, "assess_exhibition.html", "assess.exhibition.title", d)
}

func (s *Service) getDeck(w http.ResponseWriter, r *http.Request) error {
	d, err := s.exhibitionData(r)
	if err != nil {
		return err
	}
	return s.html(w, r, http.StatusOK, "assess_deck.html", "assess.exhibition.title", d)
}

type achievementsData struct {
	Period  string
	Items   []Achievement
	CanAdd  bool
	Writer  bool
	Periods []string
}

func (s *Service) getAchievements(w http.ResponseWriter, r *http.Request) error {
	key := r.URL.Query().Get("period")
	if key == "" {
		key = metric.HalfYearOf(s.Today()).String()
	}
	a := actor(r)
	var uid int64
	if !a.Writer {
		uid = a.UnitID
	}
	items, err := s.Achievements(r.Context(), key, uid)
	if err != nil {
		return err
	}
	if !a.Writer && a.UnitID == 0 {
		items = nil
	}
	h := metric.HalfYearOf(s.Today())
	d := achievementsData{Period: key, Items: items, CanAdd: a.Reporter && a.UnitID != 0, Writer: a.Writer, Periods: []string{h.String(), h.Prev().String()}}
	return s.html(w, r, http.StatusOK, "assess_achievements.html", "assess.achievements.title", d)
}

func (s *Service) postAchievement(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxPhoto+(1<<20))
	if err := r.ParseMultipartForm(MaxPhoto + (1 << 20)); err != nil && err != http.ErrNotMultipart {
		return invalid("photo", "照片须为 5 MB 以内的 JPEG 或 PNG", "a photo must be a JPEG or PNG of at most 5 MB")
	}
	a := actor(r)
	ach, err := s.SubmitAchievement(r.Context(), a, AchievementInput{Period: r.FormValue("period"), Title: r.FormValue("title"), Text: r.FormValue("text")})
	if err != nil {
		return err
	}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["photo"] {
			f, err := fh.Open()
			if err != nil {
				return fmt.Errorf("assess: open photo: %w", err)
			}
			b, err := io.ReadAll(io.LimitReader(f, MaxPhoto+1))
			f.Close()
			if err != nil {
				return fmt.Errorf("assess: read photo: %w", err)
			}
			if _, err := s.AddPhoto(r.Context(), a, ach.ID, fh.Filename, b); err != nil {
				return err
			}
		}
	}
	return redirect(w, r, "/assess/achievements?period="+ach.Period, "flash.assess_saved")
}

func (s *Service) postPhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxPhoto+(1<<20))
	f, fh, err := r.FormFile("photo")
	if err != nil {
		return invalid("photo", "请选择 5 MB 以内的 JPEG 或 PNG 照片", "choose a JPEG or PNG photo of at most 5 MB")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPhoto+1))
	if err != nil {
		return fmt.Errorf("assess: read photo: %w", err)
	}
	if _, err := s.AddPhoto(r.Context(), actor(r), id, fh.Filename, b); err != nil {
		return err
	}
	ach, err := s.achievement(r.Context(), id)
	if err != nil {
		return err
	}
	return redirect(w, r, "/assess/achievements?period="+ach.Period, "flash.assess_saved")
}

func (s *Service) postReviewAchievement(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ach, err := s.ReviewAchievement(r.Context(), actor(r), id, r.FormValue("approve") == "1", r.FormValue("note"))
	if err != nil {
		return err
	}
	return redirect(w, r, "/assess/achievements?period="+ach.Period, "flash.assess_saved")
}

func (s *Service) getPhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ct, b, err := s.Photo(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, err = w.Write(b)
	return err
}

// Evaluation.

type evaluationData struct {
	EV      *Evaluation
	Period  *Period
	Scheme  *Scheme
	Objects []Objection
	Lang    string
	UnitID  int64
}

func (s *Service) getEvaluation(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := withTimeout(r.Context())
	defer cancel()
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	ev, err := s.EvaluationOf(ctx, y, live(r))
	if err != nil {
		return err
	}
	p, err := s.Period(ctx, fmt.Sprint(y))
	if err != nil {
		return err
	}
	sc, err := s.Scheme(ctx, y)
	if err != nil {
		return err
	}
	os, err := s.Objections(ctx, fmt.Sprint(y))
	if err != nil {
		return err
	}
	d := evaluationData{EV: ev, Period: p, Scheme: sc, Objects: os, Lang: web.Lang(r.Context()), UnitID: actor(r).UnitID}
	return s.html(w, r, http.StatusOK, "assess_evaluation.html", "assess.evaluation.title", d)
}

func (s *Service) postSignOff(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	if _, err := s.SignOff(r.Context(), actor(r), y); err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/assess/evaluation/%d", y), "flash.assess_signed_off")
}

func (s *Service) postObjection(w http.ResponseWriter, r *http.Request) error {
	o, err := s.Object(r.Context(), actor(r), r.FormValue("period"), r.FormValue("text"))
	if err != nil {
		return err
	}
	mp, _ := metric.ParsePeriod(o.Period)
	return redirect(w, r, periodPath(o.Period, string(mp.Kind)), "flash.assess_saved")
}

func (s *Service) postAnswer(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.Answer(r.Context(), actor(r), id, r.FormValue("answer"))
	if err != nil {
		return err
	}
	mp, _ := metric.ParsePeriod(o.Period)
	return redirect(w, r, periodPath(o.Period, string(mp.Kind)), "flash.assess_saved")
}

type rateData struct {
	Year     int
	Criteria []Criterion
	Units    []Unit
	Mine     map[string]float64 // criterion code + "/" + unit id → score
	OwnUnit  int64
}

// Key is the map key of a criterion and a unit.
func (d rateData) Key(code string, unitID int64) string { return fmt.Sprintf("%s/%d", code, unitID) }

// Score is the rater's current score, or "".
func (d rateData) Score(code string, unitID int64) string {
	if v, ok := d.Mine[d.Key(code, unitID)]; ok {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func (s *Service) getRate(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	sc, err := s.Scheme(r.Context(), y)
	if err != nil {
		return err
	}
	units, err := s.Units(r.Context())
	if err != nil {
		return err
	}
	a := actor(r)
	d := rateData{Year: y, Units: units, Mine: map[string]float64{}, OwnUnit: a.UnitID}
	codeOf := map[int64]string{}
	for _, c := range sc.Leaves() {
		if c.Method == MethodRating {
			d.Criteria = append(d.Criteria, c)
			codeOf[c.ID] = c.Code
		}
	}
	rows, err := s.DB.QueryContext(r.Context(), `SELECT criterion_id, unit_id, score FROM assess_ratings WHERE rater_id = ?`, a.UserID)
	if err != nil {
		return fmt.Errorf("assess: my ratings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, uid int64
		var v float64
		if err := rows.Scan(&cid, &uid, &v); err != nil {
			return fmt.Errorf("assess: scan my rating: %w", err)
		}
		if code, ok := codeOf[cid]; ok {
			d.Mine[d.Key(code, uid)] = v
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return s.html(w, r, http.StatusOK, "assess_rate.html", "assess.rate.title", d)
}

// postRate stores every filled score of the form (fields "s/<code>/<unit>")
// together: one bad score stores none.
func (s *Service) postRate(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / form cannot be parsed")
	}
	var ins []RatingInput
	for k, vs := range r.PostForm {
		rest, ok := strings.CutPrefix(k, "s/")
		if !ok || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			continue
		}
		code, us, ok := strings.Cut(rest, "/")
		uid, err1 := strconv.ParseInt(us, 10, 64)
		if !ok || err1 != nil {
			return invalid("score", fmt.Sprintf("字段 %q 无效", k), fmt.Sprintf("field %q is malformed", k))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(vs[0]), 64)
		if err != nil {
			return invalid("score", fmt.Sprintf("评分须为数字，收到 %q", vs[0]), fmt.Sprintf("a score must be a number, got %q", vs[0]))
		}
		ins = append(ins, RatingInput{Year: y, Criterion: code, UnitID: uid, Score: v})
	}
	if len(ins) > 0 {
		if _, err := s.RateMany(r.Context(), actor(r), y, ins); err != nil {
			return err
		}
	}
	return redirect(w, r, fmt.Sprintf("/assess/rate/%d", y), "flash.assess_saved")
}
