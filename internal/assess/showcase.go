package assess

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/biaogan/biaogan/internal/metric"
)

// showcaseFigures are the columns every showcase shows when registered; the
// appeal metrics are added as they appear.
var showcaseFigures = []string{
	"supervise.tasks_due", "supervise.completed", "supervise.on_time_rate", "supervise.overdue_count",
	"supervise.report_punctuality", "supervise.lookback_pass_rate", MetricDailyPunctuality,
}

// figures lists the registered metrics a showcase shows and the formula
// needs.
func (s *Service) figures(formula []Term) []metric.Metric {
	seen := map[string]bool{}
	var out []metric.Metric
	add := func(code string) {
		if seen[code] {
			return
		}
		seen[code] = true
		if m, ok := s.Metrics.Get(code); ok {
			out = append(out, m)
		}
	}
	for _, c := range showcaseFigures {
		add(c)
	}
	for _, m := range s.Metrics.List() {
		if m.Feature() == "appeal" && m.Direction != metric.Neutral {
			add(m.Code)
		}
	}
	for _, t := range formula {
		add(t.Metric)
	}
	return out
}

// ComputeShowcase computes a month's showcase from the metric registry:
// the figures, the formula score, the rank with movement against last
// month's published showcase, and the honour roll and watch list.
func (s *Service) ComputeShowcase(ctx context.Context, key string) (*Showcase, error) {
	mp, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	if mp.Kind != metric.Month {
		return nil, invalid("period", "每月晒的期间须为 YYYY-MM", "a showcase period must be YYYY-MM")
	}
	mp.Today = s.Today()
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	units, err := unitsOf(ctx, s.DB, st.Kinds)
	if err != nil {
		return nil, err
	}
	sc := &Showcase{Period: mp.String(), Label: mp.Label(), At: s.stamp(), Formula: st.Formula, Items: []ShowcaseRow{}}
	var codes []string
	for _, m := range s.figures(st.Formula) {
		codes = append(codes, m.Code)
		sc.Figures = append(sc.Figures, Figure{Code: m.Code, Name: m.Name, NameEN: m.NameEN, Measure: m.Measure, Precision: m.Precision})
	}
	vals, err := s.computeMetrics(ctx, codes, mp)
	if err != nil {
		return nil, err
	}
	// Last month's published ranks, for movement.
	prevRank := map[int64]int{}
	hasPrev := false
	if pp, err := getPeriod(ctx, s.DB, mp.Prev().String()); err != nil {
		return nil, err
	} else if pp != nil && pp.Published() {
		var prev Showcase
		if err := snapshot(ctx, s.DB, pp.ID, pp.Version, &prev); err != nil {
			return nil, err
		}
		hasPrev = true
		for _, it := range prev.Items {
			prevRank[it.UnitID] = it.Rank
		}
	}
	var ranked, unranked []ShowcaseRow
	for _, u := range units {
		row := ShowcaseRow{UnitID: u.ID, UnitName: u.Name, UnitCode: u.Code, List: ListNone, Values: map[string]float64{}}
		for code, v := range vals {
			if x, ok := v[u.ID]; ok {
				row.Values[code] = metric.Round(x, 2)
			}
		}
		score, terms, ok := MonthlyScore(st.Formula, row.Values)
		row.Score, row.Terms = score, terms
		if ok {
			ranked = append(ranked, row)
		} else {
			unranked = append(unranked, row)
		}
	}
	scores := make([]float64, len(ranked))
	ids := make([]int64, len(ranked))
	for i, r := range ranked {
		scores[i], ids[i] = r.Score, r.UnitID
	}
	order, rank := CompetitionRanks(scores, ids)
	n := len(ranked)
	for _, k := range order {
		r := ranked[k]
		r.Rank = rank[k]
		if hasPrev {
			if pr, ok := prevRank[r.UnitID]; ok && pr > 0 {
				mv := pr - r.Rank
				r.Movement = &mv
			}
		}
		switch {
		case r.Rank <= st.HonourTop || (st.HonourMin > 0 && r.Score >= st.HonourMin):
			r.List = ListHonour
		case r.Rank > n-st.WatchBottom || (st.WatchBelow > 0 && r.Score < st.WatchBelow):
			r.List = ListWatch
		}
		sc.Items = append(sc.Items, r)
	}
	sc.Items = append(sc.Items, unranked...)
	return sc, nil
}

// ShowcaseOf returns the published showcase of a month; those who run the
// cadence also see a month not published yet, computed live.
func (s *Service) ShowcaseOf(ctx context.Context, key string, live bool) (*Showcase, error) {
	p, err := s.Period(ctx, key)
	if err != nil {
		return nil, err
	}
	if p.Kind != string(metric.Month) {
		return nil, invalid("period", "每月晒的期间须为 YYYY-MM", "a showcase period must be YYYY-MM")
	}
	var sc *Showcase
	switch {
	case p.Published():
		if sc, err = s.publishedShowcase(ctx, p); err != nil {
			return nil, err
		}
	case live:
		if sc, err = s.ComputeShowcase(ctx, p.Key); err != nil {
			return nil, err
		}
	default:
		return nil, errNotFound("not_published", fmt.Sprintf("%s 的每月晒尚未发布", p.Label), fmt.Sprintf("the showcase of %s is not published yet", p.Key))
	}
	if sc.Comments, err = listComments(ctx, s.DB, p.Key); err != nil {
		return nil, err
	}
	if sc.Comments == nil {
		sc.Comments = []Comment{}
	}
	return sc, nil
}

// FigureName is the figure's name in lang.
func (f Figure) FigureName(lang string) string {
	if lang == "en" && f.NameEN != "" {
		return f.NameEN
	}
	return f.Name
}

// Format writes a value at the figure's precision with its measure.
func (f Figure) Format(v float64) string {
	s := fmt.Sprintf("%.*f", f.Precision, v)
	if f.Measure == "%" {
		s += "%"
	}
	return s
}

// Value reads a row's value of a figure for the template.
func (r ShowcaseRow) Value(f Figure) string {
	v, ok := r.Values[f.Code]
	if !ok {
		return "—"
	}
	return f.Format(v)
}

// MovementText is "↑2", "↓1", "—" or "" (no previous month).
func (r ShowcaseRow) MovementText() string {
	if r.Movement == nil {
		return ""
	}
	switch m := *r.Movement; {
	case m > 0:
		return fmt.Sprintf("↑%d", m)
	case m < 0:
		return fmt.Sprintf("↓%d", -m)
	}
	return "—"
}

// Honour lists the rows on the honour roll; Watch those on the watch list.
func (sc *Showcase) Honour() []ShowcaseRow { return sc.list(ListHonour) }

// Watch lists the rows on the watch list.
func (sc *Showcase) Watch() []ShowcaseRow { return sc.list(ListWatch) }

func (sc *Showcase) list(l string) []ShowcaseRow {
	return slices.DeleteFunc(slices.Clone(sc.Items), func(r ShowcaseRow) bool { return r.List != l })
}

// monthKeys lists the months of a half year.
func monthKeys(mp metric.Period) []string {
	var out []string
	for d := mp.Start; !d.After(mp.End); d = metric.MonthOf(d).End.AddDays(1) {
		out = append(out, strings.TrimSpace(metric.MonthOf(d).String()))
	}
	return out
}

// showcaseCache holds decoded published showcases by period and version:
// a publication never changes, so readers share one decoded copy (with its
// cells formatted once) instead of decoding the snapshot per request.
type showcaseCache struct {
	mu sync.Mutex
	m  map[string]*Showcase
}

func (s *Service) publishedShowcase(ctx context.Context, p *Period) (*Showcase, error) {
	k := fmt.Sprintf("%s/%d", p.Key, p.Version)
	c := &s.showcases
	c.mu.Lock()
	sc, ok := c.m[k]
	c.mu.Unlock()
	if !ok {
		sc = &Showcase{}
		if err := snapshot(ctx, s.DB, p.ID, p.Version, sc); err != nil {
			return nil, err
		}
		for i := range sc.Items {
			r := &sc.Items[i]
			r.Cells = make([]string, len(sc.Figures))
			for j, f := range sc.Figures {
				r.Cells[j] = r.Value(f)
			}
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) >= 24 {
			c.m = map[string]*Showcase{}
		}
		c.m[k] = sc
		c.mu.Unlock()
	}
	// A shallow copy: callers set the comments.
	out := *sc
	return &out, nil
}
