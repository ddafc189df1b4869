package appeal_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/workday"
)

// generated loads a small generated set ending today.
func generated(t *testing.T, n, days int) (*env, *appeal.Planted) {
	t.Helper()
	e := newEnv(t)
	start := time.Now()
	pl, err := e.svc.Generate(e.ctx, appeal.GenConfig{N: n, Days: days, End: e.svc.Today(), Seed: 7, Unit: func(c string) int64 { return e.units[c] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d orders in %s", n, time.Since(start))
	return e, pl
}

func TestAnalysisFindsThePlanted(t *testing.T) {
	e, pl := generated(t, 15000, 200)
	today := e.svc.Today()

	// Every planted spike is found on its day, with its evidence.
	spikes, err := e.svc.Spikes(e.ctx, appeal.Range{From: today.AddDays(-170), To: today}, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Spikes) != 3 {
		t.Fatalf("planted %d spikes", len(pl.Spikes))
	}
	for _, p := range pl.Spikes {
		i := slices.IndexFunc(spikes, func(s appeal.Spike) bool {
			return s.Day == p.Day.String() && s.CategoryCode == p.Category && s.District == p.District
		})
		if i < 0 {
			t.Fatalf("planted spike %+v not found among %d", p, len(spikes))
		}
		s := spikes[i]
		if s.Count < int64(p.Extra) || len(s.Baseline) != 28 || len(s.Samples) == 0 || float64(s.Count) < s.Threshold || s.Rule == "" {
			t.Fatalf("spike evidence: %+v", s)
		}
	}
	// Few false alarms: the planted ones dominate.
	if len(spikes) > 20 {
		t.Errorf("%d spikes found; the rule is too loose", len(spikes))
	}

	// The planted systemic problem is the biggest cluster, across districts.
	clusters, err := e.svc.Clusters(e.ctx, appeal.Range{From: today.AddDays(-89), To: today})
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters) == 0 {
		t.Fatal("no clusters")
	}
	c := clusters[0]
	if c.Size < pl.Systemic.Count*9/10 || len(c.Districts) != 3 || len(c.Streets) < 6 || !strings.Contains(c.Example, "二次供水") {
		t.Fatalf("systemic cluster: size %d (planted %d) districts %v streets %d example %q", c.Size, pl.Systemic.Count, c.Districts, len(c.Streets), c.Example)
	}
	if !slices.Contains(c.TopWords, "水箱") {
		t.Errorf("top words %v", c.TopWords)
	}
	if len(clusters) > 3 {
		t.Errorf("%d clusters; expected the planted one to stand out", len(clusters))
	}

	// The planted repeat callers are found by phone.
	reps, err := e.svc.Repeats(e.ctx, appeal.Range{From: today.AddDays(-29), To: today}, 500)
	if err != nil {
		t.Fatal(err)
	}
	phones := 0
	for _, r := range reps {
		if r.Kind == "phone" && strings.HasPrefix(r.Key, "159****") && r.Count >= 3 {
			phones++
		}
	}
	if phones < 15 {
		t.Fatalf("found %d of 20 planted repeat callers", phones)
	}

	// Hot words of the last week include the systemic complaint's words.
	hot, err := e.svc.HotWords(e.ctx, appeal.Range{From: today.AddDays(-6), To: today}, 50)
	if err != nil || len(hot) == 0 {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(hot, func(h appeal.HotWord) bool { return h.Word == "水箱" }) {
		t.Errorf("hot words %v", hot[:5])
	}

	// Rollup pages.
	league, err := e.svc.League(e.ctx, appeal.Range{From: today.AddDays(-29), To: today})
	if err != nil || len(league) < 8 || league[0].Rank != 1 {
		t.Fatalf("league %v %v", len(league), err)
	}
	tr, err := e.svc.Trends(e.ctx, appeal.Range{From: today.AddDays(-29), To: today}, "", "")
	if err != nil || len(tr) != 30 {
		t.Fatalf("trends %d %v", len(tr), err)
	}

	// Dispatch suggestion on held-out data.
	acc, err := e.svc.EvaluateSuggestion(e.ctx, 30000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("suggestion accuracy: %+v", acc)
	if acc.CategoryTop1 < 0.8 || acc.CategoryTop3 < 0.9 {
		t.Fatalf("category accuracy %+v", acc)
	}
	sg, err := e.svc.Suggest(e.ctx, "南湖街道锦绣家园小区突然停水，没有提前通知", "南湖区")
	if err != nil || len(sg.Categories) == 0 || sg.Categories[0].Code != "0301" || sg.RuleUnitID == nil {
		t.Fatalf("suggest %+v %v", sg, err)
	}
	_ = workday.Date(0)
}
