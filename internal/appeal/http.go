package appeal

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// Pages: the center's intake form, dispatch queue (with the suggestion),
// review and follow-up queues; the unit's orders and reply form; the
// analysis; the import.

func (s *Service) registerPages(ws *web.Server) error {
	s.web = ws
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return fmt.Errorf("appeal: %w", err)
	}
	if err := ws.Render.Add(files, pages...); err != nil {
		return fmt.Errorf("appeal: %w", err)
	}
	ws.Messages.Add(messagesZH, messagesEN)
	ws.Nav(web.NavItem{Key: "nav.appeal", Path: "/appeals", Perm: auth.PermAppealRead, Order: 14})
	for _, rt := range []route{
		{"GET /static/appeal/{file}", auth.PermPublic, web.FeatureStatic(files, "static")},
		{"GET /appeals", auth.PermAppealRead, s.getList},
		{"GET /appeals/mine", auth.PermAppealHandle, s.getMine},
		{"GET /appeals/queue", auth.PermAppealCenter, s.getQueue},
		{"GET /appeals/new", auth.PermAppealCenter, s.getNew},
		{"POST /appeals", auth.PermAppealCenter, s.postNew},
		{"GET /appeals/analysis", auth.PermAppealRead, s.getAnalysis},
		{"POST /appeals/analysis/escalate", auth.PermAppealCenter, s.postEscalateCluster},
		{"GET /appeals/import", auth.PermAppealCenter, s.getImport},
		{"POST /appeals/import", auth.PermAppealCenter, s.postImport},
		{"GET /appeals/import/rejects/{token}", auth.PermAppealCenter, s.getRejects},
		{"GET /appeals/{id}", auth.PermAppealRead, s.getDetail},
		{"POST /appeals/{id}/unmask", auth.PermAppealPII, s.postUnmask},
		{"POST /appeals/{id}/triage", auth.PermAppealCenter, s.postAct("triage")},
		{"POST /appeals/{id}/dispatch", auth.PermAppealCenter, s.postAct("dispatch")},
		{"POST /appeals/{id}/accept", auth.PermAppealHandle, s.postAct("accept")},
		{"POST /appeals/{id}/return", auth.PermAppealHandle, s.postAct("return")},
		{"POST /appeals/{id}/extend", auth.PermAppealHandle, s.postAct("extend")},
		{"POST /appeals/{id}/reply", auth.PermAppealHandle, s.postAct("reply")},
		{"POST /appeals/{id}/review", auth.PermAppealCenter, s.postAct("review")},
		{"POST /appeals/{id}/follow-up", auth.PermAppealCenter, s.postAct("follow_up")},
		{"POST /appeals/{id}/archive", auth.PermAppealCenter, s.postAct("archive")},
		{"POST /appeals/{id}/merge", auth.PermAppealCenter, s.postAct("merge")},
		{"POST /appeals/{id}/escalate", auth.PermAppealCenter, s.postAct("escalate")},
	} {
		ws.Handle(rt.pattern, rt.perm, rt.h)
	}
	ws.AddStat(s.statQueue)
	return nil
}

func (s *Service) statQueue(ctx context.Context, p *auth.Principal) (web.Stat, bool) {
	switch {
	case p.Can(auth.PermAppealCenter):
		var n int
		if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM appeals WHERE state IN ('received','disputed')`).Scan(&n); err != nil {
			return web.Stat{}, false
		}
		return web.Stat{Key: "appeal.stat.queue", Value: strconv.Itoa(n)}, true
	case p.Can(auth.PermAppealHandle) && p.UnitID != nil:
		var n int
		if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM appeals WHERE unit_id = ? AND state IN ('dispatched','accepted')`, *p.UnitID).Scan(&n); err != nil {
			return web.Stat{}, false
		}
		return web.Stat{Key: "appeal.stat.mine", Value: strconv.Itoa(n)}, true
	}
	return web.Stat{}, false
}

// ---- lists ----

type listData struct {
	Title  string
	Items  []*Appeal
	Total  int
	Filter Filter
	Tab    string
	Center bool
	Handle bool
	Cats   []Category
	Dists  []District
	States []State
	Prev   string
	Next   string
	Query  string
	Mine   bool
	NoUnit bool
}

var allStates = []State{StateReceived, StateDispatched, StateDisputed, StateAccepted, StateReplied, StateResolved, StateFollowed, StateArchived, StateMerged}

func (s *Service) listPage(w http.ResponseWriter, r *http.Request, title, tab string, f Filter) error {
	p := web.PrincipalFrom(r.Context())
	items, total, err := s.List(r.Context(), f)
	if err != nil {
		return err
	}
	d := &listData{Title: title, Items: items, Total: total, Filter: f, Tab: tab, Center: p.Can(auth.PermAppealCenter), Handle: p.Can(auth.PermAppealHandle),
		Cats: s.Categories(), Dists: Districts, States: allStates}
	q := r.URL.Query()
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(max(0, f.Offset-f.Limit)))
		d.Prev = "?" + q.Encode()
	}
	if f.Offset+len(items) < total {
		q.Set("offset", strconv.Itoa(f.Offset+f.Limit))
		d.Next = "?" + q.Encode()
	}
	return s.web.HTML(w, r, "appeal_list.html", title, d)
}

func (s *Service) getList(w http.ResponseWriter, r *http.Request) error {
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	f.Limit = 30
	tab := r.URL.Query().Get("tab")
	title := "appeal.title"
	switch tab {
	case "review":
		f.State, title = StateReplied, "appeal.tab.review"
	case "follow":
		f.State, title = StateResolved, "appeal.tab.follow"
	}
	return s.listPage(w, r, title, tab, f)
}

func (s *Service) getMine(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	if p.UnitID == nil {
		return s.web.HTML(w, r, "appeal_list.html", "appeal.tab.mine", &listData{Title: "appeal.tab.mine", NoUnit: true, Mine: true, Tab: "mine"})
	}
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	f.UnitID, f.Limit = *p.UnitID, 30
	if f.State == "" {
		f.States = []State{StateDispatched, StateAccepted, StateReplied}
	}
	return s.listPage(w, r, "appeal.tab.mine", "mine", f)
}

type queueItem struct {
	*Appeal
	Suggestion *Suggestion
}

type queueData struct {
	Items []queueItem
	Total int
	Units []unitOpt
}

type unitOpt struct {
	ID   int64
	Name string
}

func (s *Service) unitOptions(ctx context.Context) ([]unitOpt, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name FROM units WHERE active AND kind IN ('district','affiliate','section') ORDER BY kind, sort_order, id`)
	if err != nil {
		return nil, fmt.Errorf("appeal: units: %w", err)
	}
	defer rows.Close()
	var out []unitOpt
	for rows.Next() {
		var u unitOpt
		if err := rows.Scan(&u.ID, &u.Name); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Service) getQueue(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	items, total, err := s.List(ctx, Filter{States: []State{StateReceived, StateDisputed}, Limit: 20})
	if err != nil {
		return err
	}
	d := &queueData{Total: total}
	for _, a := range items {
		sg, err := s.Suggest(ctx, a.Content, a.District)
		if err != nil {
			return err
		}
		d.Items = append(d.Items, queueItem{a, sg})
	}
	if d.Units, err = s.unitOptions(ctx); err != nil {
		return err
	}
	return s.web.HTML(w, r, "appeal_queue.html", "appeal.tab.queue", d)
}

// ---- intake ----

type newData struct {
	In    NewAppeal
	Cats  []Category
	Dists []District
	Kinds []Kind
	Chans []Channel
}

func (s *Service) newData(in NewAppeal) *newData {
	return &newData{In: in, Cats: s.Categories(), Dists: Districts, Kinds: Kinds, Chans: []Channel{ChannelPhone, ChannelWeb, ChannelApp, ChannelWechat}}
}

func (s *Service) getNew(w http.ResponseWriter, r *http.Request) error {
	return s.web.HTML(w, r, "appeal_new.html", "appeal.new", s.newData(NewAppeal{Channel: ChannelPhone, Kind: KindHelp, Urgency: UrgencyNormal}))
}

func floatField(v string) (*float64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, err
	}
	return &f, nil
}

func (s *Service) postNew(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / the form cannot be read")
	}
	f := r.PostForm
	in := NewAppeal{Channel: Channel(f.Get("channel")), Kind: Kind(f.Get("kind")), CategoryCode: f.Get("category_code"), Content: f.Get("content"),
		District: f.Get("district"), Street: strings.TrimSpace(f.Get("street")), Address: strings.TrimSpace(f.Get("address")),
		CitizenName: strings.TrimSpace(f.Get("citizen_name")), CitizenPhone: strings.TrimSpace(f.Get("citizen_phone")), CitizenIDNo: strings.TrimSpace(f.Get("citizen_id_number")),
		Urgency: f.Get("urgency")}
	if in.Channel == ChannelOpen311 || in.Channel == ChannelImport {
		in.Channel = ChannelPhone
	}
	var err error
	if in.Lat, err = floatField(f.Get("lat")); err == nil {
		in.Long, err = floatField(f.Get("long"))
	}
	if err != nil {
		err = apperr.Invalid("lat", "经纬度须为数字 / lat and long must be numbers")
	} else {
		var a *Appeal
		a, err = s.Create(r.Context(), actor(r), in, f.Get("dispatch") == "rule")
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/appeals/%d?msg=flash.appeal_created", a.ID), http.StatusSeeOther)
			return nil
		}
	}
	ae, ok := apperr.As(err)
	if !ok || ae.Status >= 500 {
		return err
	}
	p := s.web.NewPage(r, "appeal.new", s.newData(in))
	p.Error = ae.Message
	return s.web.HTMLPage(w, ae.Status, "appeal_new.html", p)
}

// ---- detail and actions ----

type detailData struct {
	A          *Appeal
	Citizen    *Citizen
	Center     bool
	Handle     bool
	OwnUnit    bool
	PII        bool
	Units      []unitOpt
	Suggestion *Suggestion
	Form       url.Values
	Today      workday.Date
}

func (s *Service) detail(r *http.Request, id int64) (*detailData, error) {
	ctx := r.Context()
	ac := actor(r)
	a, err := s.Get(ctx, ac, id)
	if err != nil {
		return nil, err
	}
	d := &detailData{A: a, Center: ac.Center, Handle: ac.Handle, PII: ac.PII, Today: s.Today(), Form: url.Values{}}
	d.OwnUnit = ac.Handle && a.UnitID != nil && *a.UnitID == ac.UnitID
	if ac.Center && (a.State == StateReceived || a.State == StateDisputed || a.State == StateDispatched) {
		if d.Units, err = s.unitOptions(ctx); err != nil {
			return nil, err
		}
		if a.State != StateDispatched {
			if d.Suggestion, err = s.Suggest(ctx, a.Content, a.District); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

func (s *Service) getDetail(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.detail(r, id)
	if err != nil {
		return err
	}
	return s.web.HTML(w, r, "appeal_detail.html", "appeal.detail", d)
}

func (s *Service) postUnmask(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.Unmask(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	d, err := s.detail(r, id)
	if err != nil {
		return err
	}
	d.Citizen = &c
	return s.web.HTML(w, r, "appeal_detail.html", "appeal.detail", d)
}

func (s *Service) postAct(act string) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.PathID(r, "id")
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return apperr.BadRequest("bad_form", "表单无法解析 / the form cannot be read")
		}
		f := r.PostForm
		ctx, ac := r.Context(), actor(r)
		next := fmt.Sprintf("/appeals/%d?msg=flash.appeal_%s", id, act)
		switch act {
		case "triage":
			_, err = s.Triage(ctx, ac, id, f.Get("outcome"), f.Get("note"))
		case "dispatch":
			var unit int64
			if v := f.Get("unit_id"); v != "" {
				if unit, err = strconv.ParseInt(v, 10, 64); err != nil {
					err = apperr.Invalid("unit_id", "请选择承办单位 / choose a unit")
				}
			}
			if err == nil {
				_, err = s.Dispatch(ctx, ac, id, unit, f.Get("note"))
			}
			if err == nil && f.Get("from") == "queue" {
				next = "/appeals/queue?msg=flash.appeal_dispatch"
			}
		case "accept":
			_, err = s.Accept(ctx, ac, id)
		case "return":
			_, err = s.Return(ctx, ac, id, f.Get("reason"))
			next = "/appeals/mine?msg=flash.appeal_return"
		case "extend":
			days, perr := strconv.Atoi(strings.TrimSpace(f.Get("days")))
			if perr != nil {
				err = apperr.Invalid("days", "延期天数须为 1–10 的整数 / days must be a whole number 1–10")
			} else {
				_, err = s.Extend(ctx, ac, id, days, f.Get("reason"))
			}
		case "reply":
			_, err = s.Reply(ctx, ac, id, f.Get("reply"))
		case "review":
			_, err = s.Review(ctx, ac, id, f.Get("decision") == "approve", f.Get("note"))
		case "follow_up":
			_, err = s.FollowUp(ctx, ac, id, f.Get("satisfaction"), f.Get("solved") == "yes", f.Get("note"))
		case "archive":
			_, err = s.Archive(ctx, ac, id)
		case "merge":
			var master int64
			if master, err = s.idByNumberOrID(ctx, f.Get("master")); err == nil {
				_, err = s.Merge(ctx, ac, id, master)
			}
		case "escalate":
			var task int64
			task, err = s.Escalate(ctx, ac, []int64{id}, f.Get("title"), 0)
			if err == nil {
				next = fmt.Sprintf("/tasks/%d?msg=flash.appeal_escalated", task)
			}
		}
		if err != nil {
			return s.refused(w, r, id, f, err)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
}

func (s *Service) idByNumberOrID(ctx context.Context, v string) (int64, error) {
	v = strings.TrimSpace(v)
	var id int64
	err := s.DB.QueryRowContext(ctx, `SELECT id FROM appeals WHERE number = ?`, v).Scan(&id)
	if err == nil {
		return id, nil
	}
	if n, perr := strconv.ParseInt(v, 10, 64); perr == nil && n > 0 && len(v) < 14 {
		return n, nil
	}
	return 0, apperr.Invalid("master", "请填写主工单编号 / enter the master order's number")
}

// refused shows the detail page again with the error, or the error page
// when the order itself is the problem.
func (s *Service) refused(w http.ResponseWriter, r *http.Request, id int64, f url.Values, err error) error {
	ae, ok := apperr.As(err)
	if !ok || ae.Status >= 500 || ae.Status == http.StatusNotFound {
		return err
	}
	d, derr := s.detail(r, id)
	if derr != nil {
		return err
	}
	d.Form = f
	p := s.web.NewPage(r, "appeal.detail", d)
	p.Error = ae.Message
	return s.web.HTMLPage(w, ae.Status, "appeal_detail.html", p)
}

// ---- analysis ----

type analysisData struct {
	From, To   workday.Date
	Trend      []TrendPoint
	TrendMax   int64
	TopCats    []Count
	TopStreets []Count
	CatMax     int64
	StreetMax  int64
	Districts  []Stats
	League     []Stats
	Spikes     []Spike
	Rule       string
	HotWords   []HotWord
	Repeats    []Repeat
	Clusters   []Cluster
	Center     bool
	Section    string
}

func (s *Service) getAnalysis(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rg, err := s.rangeOf(r, 30, 800)
	if err != nil {
		return err
	}
	p := web.PrincipalFrom(ctx)
	d := &analysisData{From: rg.From, To: rg.To, Center: p.Can(auth.PermAppealCenter), Section: r.URL.Query().Get("section")}
	lang := web.Lang(ctx)
	d.Rule = SpikeRule[0]
	if web.NormLang(lang) == "en" {
		d.Rule = SpikeRule[1]
	}
	if d.Trend, err = s.Trends(ctx, rg, "", ""); err != nil {
		return err
	}
	for _, t := range d.Trend {
		d.TrendMax = max(d.TrendMax, t.Received)
	}
	if d.TopCats, err = s.TopCategories(ctx, rg, 10); err != nil {
		return err
	}
	if d.TopStreets, err = s.TopStreets(ctx, rg, 10); err != nil {
		return err
	}
	for _, c := range d.TopCats {
		d.CatMax = max(d.CatMax, c.Count)
	}
	for _, c := range d.TopStreets {
		d.StreetMax = max(d.StreetMax, c.Count)
	}
	if d.Districts, err = s.DistrictStats(ctx, rg); err != nil {
		return err
	}
	if d.League, err = s.League(ctx, rg); err != nil {
		return err
	}
	week := Range{rg.To.AddDays(-6), rg.To}
	if d.Spikes, err = s.cachedSpikes(ctx, week, lang); err != nil {
		return err
	}
	// The window analyses cost more: on request only.
	switch d.Section {
	case "hotwords":
		d.HotWords, err = cachedAs(s, fmt.Sprintf("hot %s%s %d", week.From, week.To, 40), func() ([]HotWord, error) { return s.HotWords(ctx, week, 40) })
	case "repeats":
		rr := Range{rg.To.AddDays(-(DefaultRepeatWindow - 1)), rg.To}
		d.Repeats, err = cachedAs(s, "repeats "+rr.From.String()+rr.To.String(), func() ([]Repeat, error) { return s.Repeats(ctx, rr, 200) })
		if len(d.Repeats) > 50 {
			d.Repeats = d.Repeats[:50]
		}
	case "clusters":
		cr := Range{rg.To.AddDays(-89), rg.To}
		d.Clusters, err = cachedAs(s, "clusters "+cr.From.String()+cr.To.String(), func() ([]Cluster, error) { return s.Clusters(ctx, cr) })
	}
	if err != nil {
		return err
	}
	return s.web.HTML(w, r, "appeal_analysis.html", "appeal.analysis", d)
}

func (s *Service) postEscalateCluster(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / the form cannot be read")
	}
	var ids []int64
	for _, v := range strings.Split(r.PostForm.Get("ids"), ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
			ids = append(ids, n)
		}
	}
	var unit int64
	if v := r.PostForm.Get("unit_id"); v != "" {
		unit, _ = strconv.ParseInt(v, 10, 64)
	}
	task, err := s.Escalate(r.Context(), actor(r), ids, r.PostForm.Get("title"), unit)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/tasks/%d?msg=flash.appeal_escalated", task), http.StatusSeeOther)
	return nil
}
