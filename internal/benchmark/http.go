package benchmark

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing/fstest"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

//go:embed templates/*.html templates/parts/*.html static/* openapi.json
var files embed.FS

// Register adds the API, the pages, the messages, the navigation and the
// OpenAPI fragment to ws.
func (s *Service) Register(ws *web.Server) error {
	if ws.Cfg.Location != nil {
		s.Loc = ws.Cfg.Location
	}
	if err := ws.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("benchmark: %w", err)
	}
	merged, pages, err := withParts()
	if err != nil {
		return err
	}
	if err := ws.Render.Add(merged, pages...); err != nil {
		return fmt.Errorf("benchmark: %w", err)
	}
	ws.Messages.Add(messagesZH, messagesEN)
	ws.Nav(web.NavItem{Key: "nav.benchmark", Path: "/benchmark", Perm: auth.PermBenchmarkRead, Order: 12})
	p := &pages_{s: s, ws: ws}
	r, w := auth.PermBenchmarkRead, auth.PermBenchmarkWrite
	routes := append(s.apiRoutes(),
		route{"GET /benchmark", r, p.overview},
		route{"GET /benchmark/summary", r, p.summary},
		route{"GET /benchmark/summary.xlsx", r, p.summaryXLSX},
		route{"GET /benchmark/indicators/new", w, p.newIndicator},
		route{"POST /benchmark/indicators", w, p.postIndicator},
		route{"GET /benchmark/indicators/{id}", r, p.indicator},
		route{"POST /benchmark/indicators/{id}/observations", w, p.postObservation},
		route{"GET /benchmark/indicators/{id}/edit", w, p.editIndicator},
		route{"POST /benchmark/indicators/{id}/edit", w, p.postEditIndicator},
		route{"GET /benchmark/indicators/{id}/targets/new", w, p.newTarget},
		route{"POST /benchmark/indicators/{id}/targets", w, p.postTarget},
		route{"GET /benchmark/indicators/{id}/report", r, p.report},
		route{"GET /benchmark/indicators/{id}/report.xlsx", r, p.reportXLSX},
		route{"GET /benchmark/targets", r, p.targets},
		route{"GET /benchmark/internal", r, p.internal},
		route{"GET /benchmark/peers", r, p.peers},
		route{"POST /benchmark/peers", w, p.postPeer},
		route{"GET /benchmark/peers/{id}", r, p.peer},
		route{"POST /benchmark/peers/{id}", w, p.postEditPeer},
		route{"GET /benchmark/learning", r, p.learning},
		route{"POST /benchmark/learning", w, p.postLearning},
		route{"GET /benchmark/learning/files/{id}", r, p.learningFile},
		route{"GET /benchmark/import", w, p.importPage},
		route{"POST /benchmark/categories", w, p.postCategory},
		route{"POST /benchmark/import/indicators", w, p.postImportIndicators},
		route{"POST /benchmark/import/observations", w, p.postImportObservations},
		route{"GET /benchmark/import/indicators.xlsx", w, p.indicatorTemplate},
		route{"GET /benchmark/import/observations.xlsx", w, p.observationTemplate},
		route{"GET /static/benchmark/{file}", auth.PermPublic, web.FeatureStatic(files, "static")},
	)
	for _, rt := range routes {
		ws.Handle(rt.pattern, rt.perm, rt.h)
	}
	ws.AddStat(func(ctx context.Context, pr *auth.Principal) (web.Stat, bool) {
		if !pr.Can(auth.PermBenchmarkRead) {
			return web.Stat{}, false
		}
		var n int
		if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM indicators WHERE active = TRUE AND stage IN ('attain','lead')`).Scan(&n); err != nil {
			return web.Stat{}, false
		}
		return web.Stat{Key: "bm.stat.attained", Value: strconv.Itoa(n)}, true
	})
	return nil
}

// withParts gives every page file the shared parts (templates/parts/*.html)
// appended, since each page is parsed on its own.
func withParts() (fs.FS, []string, error) {
	parts, err := fs.Glob(files, "templates/parts/*.html")
	if err != nil {
		return nil, nil, fmt.Errorf("benchmark: %w", err)
	}
	var shared []byte
	for _, f := range parts {
		b, err := fs.ReadFile(files, f)
		if err != nil {
			return nil, nil, fmt.Errorf("benchmark: %w", err)
		}
		shared = append(append(shared, '\n'), b...)
	}
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, nil, fmt.Errorf("benchmark: %w", err)
	}
	m := fstest.MapFS{}
	for _, f := range pages {
		b, err := fs.ReadFile(files, f)
		if err != nil {
			return nil, nil, fmt.Errorf("benchmark: %w", err)
		}
		m[f] = &fstest.MapFile{Data: append(b, shared...)}
	}
	return m, pages, nil
}

// pages_ holds the page handlers.
type pages_ struct {
	s  *Service
	ws *web.Server
}

// errText is an error's message in the page's language, for 4xx errors; a
// server error is returned as is.
func errText(lang string, err error) (string, bool) {
	e, ok := apperr.As(err)
	if !ok || e.Status >= 500 {
		return "", false
	}
	t, _ := sheet.ErrorText(lang, err)
	if rerrs, ok := e.Details.([]sheet.RowError); ok {
		var b strings.Builder
		b.WriteString(t)
		for i, re := range rerrs {
			if i == 20 {
				b.WriteString(" …")
				break
			}
			fmt.Fprintf(&b, "；%d/%s: %s", re.Row, re.Column, re.Text(lang))
		}
		t = b.String()
	}
	return t, true
}

func redirect(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "msg=" + url.QueryEscape(msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func chartJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func stageLabel(lang string, st Stage) string {
	if lang == "en" {
		return stageNames[st].EN
	}
	return stageNames[st].ZH
}

// Overview.

type overviewData struct {
	Overview *Overview
	Category string
	Cats     []Category
	Radar    string
	CanWrite bool
	Stages   []stageCount
}

type stageCount struct {
	Stage Stage
	Label string
	N     int
}

func (p *pages_) overview(w http.ResponseWriter, r *http.Request) error {
	lg := lang(r)
	ov, err := p.s.Analyse(r.Context(), lg)
	if err != nil {
		return err
	}
	cats, err := p.s.Categories(r.Context())
	if err != nil {
		return err
	}
	d := overviewData{Overview: ov, Category: r.URL.Query().Get("category"), Cats: cats, CanWrite: web.PrincipalFrom(r.Context()).Can(auth.PermBenchmarkWrite)}
	radar := struct {
		Names  []string  `json:"names"`
		Values []float64 `json:"values"`
		Label  string    `json:"label"`
	}{Label: p.ws.Messages.T(lg, "bm.index")}
	for _, c := range ov.Categories {
		radar.Names = append(radar.Names, c.Category)
		v := 0.0
		if c.Index != nil {
			v = *c.Index
		}
		radar.Values = append(radar.Values, v)
	}
	d.Radar = chartJSON(map[string]any{"type": "radar", "data": radar})
	for _, st := range Stages {
		d.Stages = append(d.Stages, stageCount{Stage: st, Label: stageLabel(lg, st), N: ov.Stages[st]})
	}
	return p.ws.HTML(w, r, "bm_overview.html", "bm.title", d)
}

func (p *pages_) summary(w http.ResponseWriter, r *http.Request) error {
	lg := lang(r)
	ov, err := p.s.Analyse(r.Context(), lg)
	if err != nil {
		return err
	}
	ts, err := p.s.Targets(r.Context(), 0)
	if err != nil {
		return err
	}
	var stages []stageCount
	for _, st := range Stages {
		stages = append(stages, stageCount{Stage: st, Label: stageLabel(lg, st), N: ov.Stages[st]})
	}
	return p.ws.HTML(w, r, "bm_summary.html", "bm.summary.title", map[string]any{"Overview": ov, "Targets": ts, "Stages": stages, "Today": p.s.Today()})
}

func (p *pages_) summaryXLSX(w http.ResponseWriter, r *http.Request) error {
	ov, err := p.s.Analyse(r.Context(), lang(r))
	if err != nil {
		return err
	}
	return sheet.Send(w, "对标总览.xlsx", func(out io.Writer) error { return p.s.WriteSummary(r.Context(), out, ov) })
}

// Indicator pages.

type indicatorData struct {
	Ind       *Indicator
	Gap       *GapResult
	Targets   []*Target
	Stages    []StageChange
	Obs       []Observation
	Subjects  []Option
	Periods   []string
	Period    string
	Owner     string
	Peer      string
	StageText string
	Bars      string
	Trend     string
	CanWrite  bool
	Form      ObservationInput
	Error     string
}

func (p *pages_) indicatorPage(w http.ResponseWriter, r *http.Request, id int64, period string, form ObservationInput, formErr string) error {
	lg := lang(r)
	rep, err := p.s.Report(r.Context(), id, period, lg)
	if err != nil {
		return err
	}
	g := rep.Gap
	d := indicatorData{Ind: g.Ind, Gap: g, Targets: rep.Targets, Stages: rep.Stages, Owner: rep.Owner, Peer: rep.Peer, Period: g.Period,
		StageText: stageLabel(lg, g.Ind.Stage), CanWrite: web.PrincipalFrom(r.Context()).Can(auth.PermBenchmarkWrite), Form: form, Error: formErr}
	for i := len(g.Periods) - 1; i >= 0; i-- {
		d.Periods = append(d.Periods, g.Periods[i])
	}
	if d.Obs, err = p.s.RecentObservations(r.Context(), rep, 40, lg); err != nil {
		return err
	}
	if d.CanWrite {
		d.Subjects, err = p.s.subjectOptions(r.Context(), g.Ind, lg)
		if err != nil {
			return err
		}
	}
	d.Bars, d.Trend = p.charts(g, lg)
	pg := p.ws.NewPage(r, "bm.indicator.title", d)
	pg.Title = g.Ind.Code + " " + g.Ind.Name
	status := http.StatusOK
	if formErr != "" {
		status = http.StatusUnprocessableEntity
	}
	return p.ws.HTMLPage(w, status, "bm_indicator.html", pg)
}

// charts are the gap table's bars and the trend lines as data-chart JSON.
func (p *pages_) charts(g *GapResult, lg string) (bars, trend string) {
	b := struct {
		Names  []string  `json:"names"`
		Values []float64 `json:"values"`
		Us     []bool    `json:"us"`
		Unit   string    `json:"unit"`
	}{Unit: g.Ind.Unit}
	for _, row := range g.Subjects {
		b.Names, b.Values, b.Us = append(b.Names, row.Name), append(b.Values, row.Value), append(b.Us, row.IsUs)
	}
	bars = chartJSON(map[string]any{"type": "bars", "data": b})
	trend = chartJSON(map[string]any{"type": "trend", "data": map[string]any{"periods": g.Trend.Periods, "us": g.Trend.Us, "best": g.Trend.Best,
		"labels": []string{p.ws.Messages.T(lg, "bm.us"), p.ws.Messages.T(lg, "bm.best_peer")}}})
	return bars, trend
}

func (s *Service) subjectOptions(ctx context.Context, ind *Indicator, lg string) ([]Option, error) {
	var out []Option
	if ind.Source == SourceManual {
		out = append(out, Option{Value: "us", Label: subjectName(Us, nil, nil, lg)})
	}
	peers, err := listPeers(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	for _, pe := range peers {
		if pe.Active {
			out = append(out, Option{Value: Subject{Kind: SubjectPeer, ID: pe.ID}.String(), Label: pe.Name})
		}
	}
	if ind.Source == SourceManual {
		units, err := unitOptions(ctx, s.DB)
		if err != nil {
			return nil, err
		}
		for _, u := range units {
			out = append(out, Option{Value: "unit:" + u.Value, Label: u.Label})
		}
	}
	return out, nil
}

func (p *pages_) indicator(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	return p.indicatorPage(w, r, id, r.URL.Query().Get("period"), ObservationInput{}, "")
}

func (p *pages_) postObservation(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
	}
	in := ObservationInput{IndicatorID: id, Subject: r.PostForm.Get("subject"), Period: r.PostForm.Get("period"), Value: r.PostForm.Get("value"),
		Note: r.PostForm.Get("note"), Evidence: r.PostForm.Get("evidence")}
	o, err := p.s.SaveObservation(r.Context(), actorOf(r), in)
	if err != nil {
		if t, ok := errText(lang(r), err); ok {
			return p.indicatorPage(w, r, id, "", in, t)
		}
		return err
	}
	return redirect(w, r, "/benchmark/indicators/"+strconv.FormatInt(id, 10)+"?period="+url.QueryEscape(o.Period), "flash.bm_saved")
}

type indicatorForm struct {
	ID       int64
	Active   bool
	In       NewIndicator
	Cats     []Category
	Units    []Option
	Peers    []Peer
	Metrics  []Option
	Error    string
	Weight   string
	OwnerStr string
	PeerStr  string
}

func (p *pages_) indicatorFormPage(w http.ResponseWriter, r *http.Request, f indicatorForm, status int) error {
	var err error
	if f.Cats, err = p.s.Categories(r.Context()); err != nil {
		return err
	}
	if f.Units, err = unitOptions(r.Context(), p.s.DB); err != nil {
		return err
	}
	if f.Peers, err = p.s.Peers(r.Context()); err != nil {
		return err
	}
	if p.s.Metrics != nil {
		for _, m := range p.s.Metrics.List() {
			f.Metrics = append(f.Metrics, Option{Value: m.Code, Label: m.Code + " " + m.Name})
		}
	}
	title := "bm.indicator.new"
	if f.ID != 0 {
		title = "bm.indicator.edit"
	}
	return p.ws.HTMLPage(w, status, "bm_indicator_form.html", p.ws.NewPage(r, title, f))
}

func (p *pages_) editIndicator(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ind, err := p.s.Indicator(r.Context(), id)
	if err != nil {
		return err
	}
	f := indicatorForm{ID: id, Active: ind.Active, Weight: strconv.FormatFloat(ind.Weight, 'f', -1, 64),
		In: NewIndicator{Code: ind.Code, Name: ind.Name, Unit: ind.Unit, Direction: ind.Direction, Category: ind.Category, Frequency: ind.Frequency,
			Source: ind.Source, Definition: ind.Definition, Formula: ind.Formula, LeadPeriods: ind.LeadPeriods}}
	if ind.OwnerUnitID != nil {
		f.OwnerStr = strconv.FormatInt(*ind.OwnerUnitID, 10)
	}
	if ind.PeerID != nil {
		f.PeerStr = strconv.FormatInt(*ind.PeerID, 10)
	}
	return p.indicatorFormPage(w, r, f, http.StatusOK)
}

func (p *pages_) postEditIndicator(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := p.s.Indicator(r.Context(), id); err != nil {
		return err
	}
	return p.saveIndicatorForm(w, r, id)
}

func (p *pages_) newIndicator(w http.ResponseWriter, r *http.Request) error {
	return p.indicatorFormPage(w, r, indicatorForm{In: NewIndicator{Direction: HigherBetter, Frequency: Quarterly}, Weight: "1"}, http.StatusOK)
}

func optID(v string) *int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return nil
	}
	return &n
}

func (p *pages_) postIndicator(w http.ResponseWriter, r *http.Request) error {
	return p.saveIndicatorForm(w, r, 0)
}

// saveIndicatorForm adds (id 0) or changes an indicator from the form.
func (p *pages_) saveIndicatorForm(w http.ResponseWriter, r *http.Request, id int64) error {
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
	}
	f := r.PostForm
	in := NewIndicator{Code: f.Get("code"), Name: f.Get("name"), Unit: f.Get("unit"), Direction: Direction(f.Get("direction")), Category: f.Get("category"),
		Frequency: Frequency(f.Get("frequency")), Source: f.Get("source"), Definition: f.Get("definition"), Formula: f.Get("formula"),
		OwnerUnitID: optID(f.Get("owner_unit_id")), PeerID: optID(f.Get("peer_id"))}
	if n, err := strconv.Atoi(strings.TrimSpace(f.Get("lead_periods"))); err == nil {
		in.LeadPeriods = n
	}
	active := id == 0 || f.Get("active") != ""
	form := indicatorForm{ID: id, Active: active, In: in, Weight: f.Get("weight"), OwnerStr: f.Get("owner_unit_id"), PeerStr: f.Get("peer_id")}
	if v := strings.TrimSpace(f.Get("weight")); v != "" {
		x, ok := ParseValue(v)
		if !ok {
			form.Error = p.ws.Messages.T(lang(r), "bm.err.weight")
			return p.indicatorFormPage(w, r, form, http.StatusUnprocessableEntity)
		}
		in.Weight = &x
	}
	var ind *Indicator
	var err error
	if id == 0 {
		ind, err = p.s.CreateIndicator(r.Context(), actorOf(r), in)
	} else {
		ind, err = p.s.UpdateIndicator(r.Context(), actorOf(r), id, in, active)
	}
	if err != nil {
		if t, ok := errText(lang(r), err); ok {
			form.Error = t
			return p.indicatorFormPage(w, r, form, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/benchmark/indicators/"+strconv.FormatInt(ind.ID, 10), "flash.bm_saved")
}

// Targets.

type targetForm struct {
	Ind    *Indicator
	Peers  []Peer
	Units  []Option
	Steps  []stepForm
	Value  string
	Due    string
	Base   string
	PeerID string
	Note   string
	Error  string
}

type stepForm struct {
	N                          int
	Title, Due, Unit, OwnerStr string
}

const formSteps = 5

func (p *pages_) targetFormPage(w http.ResponseWriter, r *http.Request, f targetForm, status int) error {
	var err error
	if f.Peers, err = p.s.Peers(r.Context()); err != nil {
		return err
	}
	if f.Units, err = unitOptions(r.Context(), p.s.DB); err != nil {
		return err
	}
	for len(f.Steps) < formSteps {
		f.Steps = append(f.Steps, stepForm{})
	}
	for i := range f.Steps {
		f.Steps[i].N = i + 1
	}
	pg := p.ws.NewPage(r, "bm.target.new", f)
	return p.ws.HTMLPage(w, status, "bm_target_form.html", pg)
}

func (p *pages_) newTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ind, err := p.s.Indicator(r.Context(), id)
	if err != nil {
		return err
	}
	f := targetForm{Ind: ind}
	if ind.PeerID != nil {
		f.PeerID = strconv.FormatInt(*ind.PeerID, 10)
	}
	return p.targetFormPage(w, r, f, http.StatusOK)
}

func (p *pages_) postTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ind, err := p.s.Indicator(r.Context(), id)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
	}
	f := r.PostForm
	form := targetForm{Ind: ind, Value: f.Get("target_value"), Due: f.Get("due"), Base: f.Get("baseline"), PeerID: f.Get("peer_id"), Note: f.Get("note")}
	lg := lang(r)
	fail := func(msg string) error {
		form.Error = msg
		return p.targetFormPage(w, r, form, http.StatusUnprocessableEntity)
	}
	in := NewTarget{IndicatorID: id, PeerID: optID(form.PeerID), Note: form.Note}
	for i := 1; i <= formSteps; i++ {
		n := strconv.Itoa(i)
		st := stepForm{Title: f.Get("step_title_" + n), Due: f.Get("step_due_" + n), Unit: f.Get("step_unit_" + n), OwnerStr: f.Get("step_owner_" + n)}
		form.Steps = append(form.Steps, st)
	}
	if v, ok := ParseValue(form.Value); ok {
		in.TargetValue = &v
	} else if strings.TrimSpace(form.Value) != "" {
		return fail(p.ws.Messages.T(lg, "bm.err.target_value"))
	}
	if strings.TrimSpace(form.Base) != "" {
		v, ok := ParseValue(form.Base)
		if !ok {
			return fail(p.ws.Messages.T(lg, "bm.err.baseline"))
		}
		in.Baseline = &v
	}
	if strings.TrimSpace(form.Due) != "" {
		d, err := workday.ParseDate(strings.TrimSpace(form.Due))
		if err != nil {
			return fail(p.ws.Messages.T(lg, "bm.err.due"))
		}
		in.Due = d
	}
	for i, st := range form.Steps {
		if strings.TrimSpace(st.Title) == "" && st.Due == "" {
			continue
		}
		step := StepInput{Title: st.Title}
		if st.Due != "" {
			d, err := workday.ParseDate(strings.TrimSpace(st.Due))
			if err != nil {
				return fail(p.ws.Messages.T(lg, "bm.err.step_due", i+1))
			}
			step.Due = d
		}
		if u := optID(st.Unit); u != nil {
			step.LeadUnitID = *u
		}
		if o := optID(st.OwnerStr); o != nil {
			step.OwnerID = *o
		}
		in.Path = append(in.Path, step)
	}
	t, err := p.s.CreateTarget(r.Context(), actorOf(r), in)
	if err != nil {
		if msg, ok := errText(lg, err); ok {
			return fail(msg)
		}
		return err
	}
	return redirect(w, r, "/benchmark/indicators/"+strconv.FormatInt(t.IndicatorID, 10)+"#targets", "flash.bm_target_created")
}

func (p *pages_) targets(w http.ResponseWriter, r *http.Request) error {
	ts, err := p.s.Targets(r.Context(), 0)
	if err != nil {
		return err
	}
	return p.ws.HTML(w, r, "bm_targets.html", "bm.targets.title", map[string]any{"Targets": ts})
}

func (p *pages_) internal(w http.ResponseWriter, r *http.Request) error {
	list, err := p.s.Internal(r.Context())
	if err != nil {
		return err
	}
	return p.ws.HTML(w, r, "bm_internal.html", "bm.internal.title", map[string]any{"Units": list})
}

// Reports.

func (p *pages_) report(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	lg := lang(r)
	rep, err := p.s.Report(r.Context(), id, r.URL.Query().Get("period"), lg)
	if err != nil {
		return err
	}
	bars, trend := p.charts(rep.Gap, lg)
	pg := p.ws.NewPage(r, "bm.report.title", map[string]any{"Rep": rep, "Stage": stageLabel(lg, rep.Gap.Ind.Stage), "Today": p.s.Today(), "Bars": bars, "Trend": trend})
	return p.ws.HTMLPage(w, http.StatusOK, "bm_report.html", pg)
}

func (p *pages_) reportXLSX(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	rep, err := p.s.Report(r.Context(), id, r.URL.Query().Get("period"), lang(r))
	if err != nil {
		return err
	}
	return sheet.Send(w, "对标分析报告-"+rep.Gap.Ind.Code+".xlsx", func(out io.Writer) error { return p.s.WriteReport(r.Context(), out, rep) })
}

// Peers and learning.

type peersData struct {
	Peers    []Peer
	Units    []Option
	Kinds    []PeerKind
	CanWrite bool
	Error    string
	Form     NewPeer
}

func (p *pages_) peersPage(w http.ResponseWriter, r *http.Request, d peersData, status int) error {
	var err error
	if d.Peers, err = p.s.Peers(r.Context()); err != nil {
		return err
	}
	d.CanWrite = web.PrincipalFrom(r.Context()).Can(auth.PermBenchmarkWrite)
	if d.CanWrite {
		if d.Units, err = unitOptions(r.Context(), p.s.DB); err != nil {
			return err
		}
	}
	d.Kinds = PeerKinds
	return p.ws.HTMLPage(w, status, "bm_peers.html", p.ws.NewPage(r, "bm.peers.title", d))
}

func (p *pages_) peers(w http.ResponseWriter, r *http.Request) error {
	return p.peersPage(w, r, peersData{}, http.StatusOK)
}

func optNum(v string) *int64 {
	v = strings.TrimSpace(strings.ReplaceAll(v, ",", ""))
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

func (p *pages_) postPeer(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
	}
	f := r.PostForm
	in := NewPeer{Name: f.Get("name"), Kind: PeerKind(f.Get("kind")), Region: f.Get("region"), UnitID: optID(f.Get("unit_id")),
		Population: optNum(f.Get("population")), Staff: optNum(f.Get("staff")), Learn: f.Get("learn"), Contacts: f.Get("contacts")}
	pe, err := p.s.CreatePeer(r.Context(), actorOf(r), in)
	if err != nil {
		if t, ok := errText(lang(r), err); ok {
			return p.peersPage(w, r, peersData{Error: t, Form: in}, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/benchmark/peers/"+strconv.FormatInt(pe.ID, 10), "flash.bm_saved")
}

func (p *pages_) peer(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	pe, err := p.s.Peer(r.Context(), id)
	if err != nil {
		return err
	}
	acts, err := p.s.Activities(r.Context(), id)
	if err != nil {
		return err
	}
	return p.peerPage(w, r, pe, acts, "", http.StatusOK)
}

func (p *pages_) peerPage(w http.ResponseWriter, r *http.Request, pe *Peer, acts []Activity, formErr string, status int) error {
	d := map[string]any{"Peer": pe, "Activities": acts, "Error": formErr, "Kinds": PeerKinds, "CanWrite": web.PrincipalFrom(r.Context()).Can(auth.PermBenchmarkWrite)}
	if d["CanWrite"] == true {
		units, err := unitOptions(r.Context(), p.s.DB)
		if err != nil {
			return err
		}
		d["Units"] = units
		unit := ""
		if pe.UnitID != nil {
			unit = strconv.FormatInt(*pe.UnitID, 10)
		}
		d["Unit"] = unit
	}
	pg := p.ws.NewPage(r, "bm.peers.title", d)
	pg.Title = pe.Name
	return p.ws.HTMLPage(w, status, "bm_peer.html", pg)
}

func (p *pages_) postEditPeer(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	pe, err := p.s.Peer(r.Context(), id)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
	}
	f := r.PostForm
	in := NewPeer{Name: f.Get("name"), Kind: PeerKind(f.Get("kind")), Region: f.Get("region"), UnitID: optID(f.Get("unit_id")),
		Population: optNum(f.Get("population")), Staff: optNum(f.Get("staff")), Learn: f.Get("learn"), Contacts: f.Get("contacts")}
	if _, err := p.s.UpdatePeer(r.Context(), actorOf(r), id, in, f.Get("active") != ""); err != nil {
		if t, ok := errText(lang(r), err); ok {
			acts, aerr := p.s.Activities(r.Context(), id)
			if aerr != nil {
				return aerr
			}
			return p.peerPage(w, r, pe, acts, t, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/benchmark/peers/"+strconv.FormatInt(id, 10), "flash.bm_saved")
}

type learningData struct {
	Activities []Activity
	Peers      []Peer
	Kinds      []ActivityKind
	CanWrite   bool
	Error      string
	Form       NewActivity
	HeldOn     string
}

func (p *pages_) learningPage(w http.ResponseWriter, r *http.Request, d learningData, status int) error {
	var err error
	if d.Activities, err = p.s.Activities(r.Context(), 0); err != nil {
		return err
	}
	if d.Peers, err = p.s.Peers(r.Context()); err != nil {
		return err
	}
	d.Kinds, d.CanWrite = ActivityKinds, web.PrincipalFrom(r.Context()).Can(auth.PermBenchmarkWrite)
	return p.ws.HTMLPage(w, status, "bm_learning.html", p.ws.NewPage(r, "bm.learning.title", d))
}

func (p *pages_) learning(w http.ResponseWriter, r *http.Request) error {
	return p.learningPage(w, r, learningData{}, http.StatusOK)
}

func (p *pages_) learningFile(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f, err := p.s.LearningFile(r.Context(), id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, err = w.Write(f.Data)
	return err
}

func (p *pages_) postLearning(w http.ResponseWriter, r *http.Request) error {
	var files []Upload
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, MaxFileBytes+1<<20)
		if err := r.ParseMultipartForm(MaxFileBytes + 1<<20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return apperr.BadRequest("too_large", "附件超过 10 MB / the file is larger than 10 MB")
			}
			return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
			for _, fh := range r.MultipartForm.File["file"] {
				if fh.Size == 0 && fh.Filename == "" {
					continue
				}
				fr, err := fh.Open()
				if err != nil {
					return fmt.Errorf("benchmark: open upload: %w", err)
				}
				b, err := io.ReadAll(io.LimitReader(fr, MaxFileBytes+1))
				fr.Close()
				if err != nil {
					return fmt.Errorf("benchmark: read upload: %w", err)
				}
				files = append(files, Upload{Name: fh.Filename, Data: b})
			}
		}
	} else if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
	}
	f := r.PostForm
	in := NewActivity{PeerID: optID(f.Get("peer_id")), Kind: ActivityKind(f.Get("kind")), Title: f.Get("title"), People: f.Get("people"),
		Findings: f.Get("findings"), Report: f.Get("report")}
	d := learningData{Form: in, HeldOn: f.Get("held_on")}
	if v := strings.TrimSpace(f.Get("held_on")); v != "" {
		day, err := workday.ParseDate(v)
		if err != nil {
			d.Error = p.ws.Messages.T(lang(r), "bm.err.held_on")
			return p.learningPage(w, r, d, http.StatusUnprocessableEntity)
		}
		in.HeldOn = day
	}
	if _, err := p.s.CreateActivity(r.Context(), actorOf(r), in, files...); err != nil {
		if t, ok := errText(lang(r), err); ok {
			d.Error = t
			return p.learningPage(w, r, d, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/benchmark/learning", "flash.bm_saved")
}

// Imports.

func (p *pages_) importPage(w http.ResponseWriter, r *http.Request) error {
	return p.importPageWith(w, r, map[string]any{}, http.StatusOK)
}

func (p *pages_) importPageWith(w http.ResponseWriter, r *http.Request, d map[string]any, status int) error {
	cats, err := p.s.Categories(r.Context())
	if err != nil {
		return err
	}
	d["Cats"] = cats
	return p.ws.HTMLPage(w, status, "bm_import.html", p.ws.NewPage(r, "bm.import.title", d))
}

func (p *pages_) postCategory(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / malformed form")
	}
	order, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("sort_order")))
	err := p.s.AddCategory(r.Context(), actorOf(r), Category{Name: r.PostForm.Get("name"), NameEN: r.PostForm.Get("name_en"), SortOrder: order})
	if err != nil {
		if t, ok := errText(lang(r), err); ok {
			return p.importPageWith(w, r, map[string]any{"Error": t}, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/benchmark/import", "flash.bm_saved")
}

func (p *pages_) importResult(w http.ResponseWriter, r *http.Request, n int, err error) error {
	if err != nil {
		if t, ok := errText(lang(r), err); ok {
			return p.importPageWith(w, r, map[string]any{"Error": t}, http.StatusUnprocessableEntity)
		}
		return err
	}
	return p.importPageWith(w, r, map[string]any{"Done": p.ws.Messages.T(lang(r), "bm.import.done", n)}, http.StatusOK)
}

func (p *pages_) postImportIndicators(w http.ResponseWriter, r *http.Request) error {
	b, _, err := readUpload(w, r)
	if err != nil {
		return p.importResult(w, r, 0, err)
	}
	n, err := p.s.ImportIndicators(r.Context(), actorOf(r), b)
	return p.importResult(w, r, n, err)
}

func (p *pages_) postImportObservations(w http.ResponseWriter, r *http.Request) error {
	b, fields, err := readUpload(w, r)
	if err != nil {
		return p.importResult(w, r, 0, err)
	}
	n, err := p.s.ImportObservations(r.Context(), actorOf(r), b, ImportOptions{Period: fields["period"], Subject: fields["subject"]})
	return p.importResult(w, r, n, err)
}

func (p *pages_) indicatorTemplate(w http.ResponseWriter, r *http.Request) error {
	return sheet.Send(w, "指标库模板.xlsx", WriteIndicatorTemplate)
}

func (p *pages_) observationTemplate(w http.ResponseWriter, r *http.Request) error {
	return sheet.Send(w, "观测值模板.xlsx", func(out io.Writer) error { return p.s.WriteObservationTemplate(r.Context(), out) })
}
