package metric_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

func TestParsePeriod(t *testing.T) {
	for _, c := range []struct {
		in, kind, start, end, key, label string
	}{
		{"2026-11", "month", "2026-11-01", "2026-11-30", "2026-11", "2026年11月"},
		{"2026-12", "month", "2026-12-01", "2026-12-31", "2026-12", "2026年12月"},
		{"2024-02", "month", "2024-02-01", "2024-02-29", "2024-02", "2024年2月"},
		{"2026-H1", "half_year", "2026-01-01", "2026-06-30", "2026-H1", "2026年上半年"},
		{"2026-h2", "half_year", "2026-07-01", "2026-12-31", "2026-H2", "2026年下半年"},
		{"2026", "year", "2026-01-01", "2026-12-31", "2026", "2026年"},
		{"2026-03-05", "day", "2026-03-05", "2026-03-05", "2026-03-05", "2026年3月5日"},
	} {
		p, err := metric.ParsePeriod(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if string(p.Kind) != c.kind || p.Start.String() != c.start || p.End.String() != c.end || p.String() != c.key || p.Label() != c.label {
			t.Errorf("%s: got %s %s..%s %q %q", c.in, p.Kind, p.Start, p.End, p.String(), p.Label())
		}
	}
	for _, bad := range []string{"", "26", "2026-13", "2026-00", "2026-H3", "2026-02-30", "20261", "abcd", "2026-1", "2026-+1"} {
		if _, err := metric.ParsePeriod(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestPeriodUntilAndPrev(t *testing.T) {
	p, _ := metric.ParsePeriod("2026-11")
	p.Today = workday.MustParseDate("2026-11-20")
	if p.Until().String() != "2026-11-20" || p.Over() {
		t.Errorf("running month: until %s over %v", p.Until(), p.Over())
	}
	p.Today = workday.MustParseDate("2026-12-02")
	if p.Until().String() != "2026-11-30" || !p.Over() {
		t.Errorf("past month: until %s over %v", p.Until(), p.Over())
	}
	p.Today = workday.MustParseDate("2026-10-02")
	if p.Until().String() != "2026-10-31" {
		t.Errorf("future month: until %s", p.Until())
	}
	if q := p.Prev(); q.String() != "2026-10" {
		t.Errorf("prev %s", q)
	}
	h, _ := metric.ParsePeriod("2026-H1")
	if h.Prev().String() != "2025-H2" {
		t.Errorf("prev half %s", h.Prev())
	}
	y, _ := metric.PeriodOf(metric.Year, workday.MustParseDate("2026-05-05"))
	if y.String() != "2026" {
		t.Errorf("year %s", y)
	}
}

// unitsMetric counts each unit's children (a set-based query over units),
// enough to prove the registry runs SQL on both engines.
func unitsMetric(code string, dir metric.Direction) metric.Metric {
	return metric.Metric{Code: code, Name: "下级单位数", NameEN: "Child units", Measure: "个", MeasureEN: "units", Direction: dir,
		Compute: func(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
			rows, err := q.QueryContext(ctx, `SELECT parent_id, COUNT(*) FROM units WHERE parent_id IS NOT NULL AND created_at <= ? GROUP BY parent_id`,
				p.End.Time(time.UTC).Add(24*time.Hour))
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			v := metric.Values{}
			for rows.Next() {
				var id int64
				var n float64
				if err := rows.Scan(&id, &n); err != nil {
					return nil, err
				}
				v[id] = n
			}
			return v, rows.Err()
		}}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	r := metric.New(d, func() time.Time { return time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC) })
	if r.Today().String() != "2026-11-20" {
		t.Fatalf("today %s", r.Today())
	}
	if err := r.Register(unitsMetric("org.children", metric.HigherBetter)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []metric.Metric{
		unitsMetric("org.children", metric.HigherBetter), // twice
		unitsMetric("children", metric.HigherBetter),     // no feature part
		unitsMetric("Org.Children", metric.HigherBetter),
		unitsMetric("org.", metric.HigherBetter),
		unitsMetric("org.x", "sideways"),
		{Code: "org.nothing", Name: "无", NameEN: "None", Direction: metric.Neutral},
	} {
		if err := r.Register(bad); err == nil {
			t.Errorf("registered %q (%s)", bad.Code, bad.Direction)
		}
	}
	// A batch with one bad metric adds none.
	if err := r.Register(unitsMetric("org.a", metric.Neutral), unitsMetric("org.a", metric.Neutral)); err == nil {
		t.Fatal("duplicate within a batch accepted")
	}
	if _, ok := r.Get("org.a"); ok {
		t.Fatal("half a batch registered")
	}
	if err := r.Register(unitsMetric("org.b", metric.Neutral)); err != nil {
		t.Fatal(err)
	}
	if l := r.List(); len(l) != 2 || l[0].Code != "org.b" || l[1].Code != "org.children" || l[1].Feature() != "org" {
		t.Fatalf("list %+v", l)
	}

	now := time.Now().UTC()
	var root int64
	err := d.InTx(ctx, func(tx *db.Tx) (err error) {
		root, err = db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, created_at, updated_at) VALUES ('R', '根', 'office', ?, ?)`, now, now)
		if err != nil {
			return err
		}
		for i := range 3 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO units (code, name, kind, parent_id, created_at, updated_at) VALUES (?, ?, 'section', ?, ?, ?)`,
				fmt.Sprintf("C%d", i), fmt.Sprintf("科%d", i), root, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	y := metric.YearOf(workday.FromTime(now, nil))
	v, err := r.Compute(ctx, "org.children", y)
	if err != nil || len(v) != 1 || v[root] != 3 {
		t.Fatalf("compute: %v %v", v, err)
	}
	all, err := r.ComputeAll(ctx, y)
	if err != nil || len(all) != 2 || all["org.b"][root] != 3 {
		t.Fatalf("compute all: %v %v", all, err)
	}
	if _, err := r.Compute(ctx, "org.none", y); err == nil {
		t.Fatal("unknown metric computed")
	}
	failing := metric.Metric{Code: "org.fails", Name: "坏", NameEN: "Bad", Direction: metric.Neutral,
		Compute: func(context.Context, db.Querier, metric.Period) (metric.Values, error) {
			return nil, errors.New("boom")
		}}
	if err := r.Register(failing); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Compute(ctx, "org.fails", y); err == nil || !strings.Contains(err.Error(), "org.fails") {
		t.Fatalf("error not wrapped with the code: %v", err)
	}
}

func TestRank(t *testing.T) {
	v := metric.Values{1: 80, 2: 95, 3: 80, 4: 60}
	got := metric.Rank(metric.HigherBetter, v)
	want := []metric.Ranked{{2, 95, 1}, {1, 80, 2}, {3, 80, 2}, {4, 60, 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("higher: %v", got)
	}
	got = metric.Rank(metric.LowerBetter, v)
	want = []metric.Ranked{{4, 60, 1}, {1, 80, 2}, {3, 80, 2}, {2, 95, 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lower: %v", got)
	}
	got = metric.Rank(metric.Neutral, v)
	if got[0].UnitID != 1 || got[0].Rank != 0 {
		t.Errorf("neutral: %v", got)
	}
	if p, ok := metric.Percent(1, 3); !ok || metric.Round(p, 1) != 33.3 {
		t.Errorf("percent %v", p)
	}
	if _, ok := metric.Percent(1, 0); ok {
		t.Error("percent of nothing")
	}
}

func TestAPI(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	al := audit.New(d)
	settings := auth.DefaultSettings()
	settings.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	as := auth.NewService(d, al, settings, nil)
	for _, u := range []struct {
		name string
		role auth.Role
	}{{"viewer", auth.RoleViewer}, {"auditor", auth.RoleAuditor}} {
		if _, err := as.CreateUser(ctx, audit.Entry{Actor: "test"}, auth.NewUser{Username: u.name, Password: "Kx7-horse-Battery", Roles: []auth.Role{u.role}}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	r := metric.New(d, func() time.Time { return now })
	var seen metric.Period
	m := metric.Metric{Code: "demo.score", Name: "得分", NameEN: "Score", Measure: "分", MeasureEN: "points", Direction: metric.HigherBetter, Precision: 1,
		Compute: func(_ context.Context, _ db.Querier, p metric.Period) (metric.Values, error) {
			seen = p
			return metric.Values{1: 90.04, 2: 97.26, 3: 90.04}, nil
		}}
	if err := r.Register(m); err != nil {
		t.Fatal(err)
	}
	ws := web.NewServer(web.Config{Location: time.FixedZone("CST", 8*3600)}, as, slog.New(slog.DiscardHandler))
	if err := r.RegisterAPI(ws); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	defer srv.Close()
	token := func(user string) string {
		body := fmt.Sprintf(`{"username":%q,"password":"Kx7-horse-Battery"}`, user)
		res, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct{ Token string }
		json.NewDecoder(res.Body).Decode(&out)
		return out.Token
	}
	get := func(path, tok string, out any) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if out != nil {
			json.NewDecoder(res.Body).Decode(out)
		}
		return res.StatusCode
	}
	viewer := token("viewer")
	var list struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
	if st := get("/api/v1/metrics", viewer, &list); st != 200 || list.Total != 1 || list.Items[0]["code"] != "demo.score" || list.Items[0]["direction"] != "higher_better" {
		t.Fatalf("list: %d %+v", st, list)
	}
	var vals struct {
		Metric struct{ Code string }
		Period struct {
			Key, Kind, Start, End, Until string
			Over                         bool
		}
		Items []metric.UnitValue
		Total int
	}
	if st := get("/api/v1/metrics/demo.score?period=2026-11", viewer, &vals); st != 200 {
		t.Fatalf("values: %d", st)
	}
	if vals.Period.Key != "2026-11" || vals.Period.Until != "2026-11-20" || vals.Period.Over || seen.Today.String() != "2026-11-20" {
		t.Fatalf("period %+v, computed with today %s", vals.Period, seen.Today)
	}
	if vals.Total != 3 || vals.Items[0].UnitID != 2 || vals.Items[0].Value != 97.3 || vals.Items[1].Rank != 2 || vals.Items[2].Rank != 2 {
		t.Fatalf("items %+v", vals.Items)
	}
	// Default: the current month; ?kind= picks another period.
	if st := get("/api/v1/metrics/demo.score", viewer, &vals); st != 200 || vals.Period.Key != "2026-11" {
		t.Fatalf("default period: %d %+v", st, vals.Period)
	}
	if st := get("/api/v1/metrics/demo.score?kind=half_year", viewer, &vals); st != 200 || vals.Period.Key != "2026-H2" {
		t.Fatalf("kind: %d %+v", st, vals.Period)
	}
	var apiErr struct{ Error struct{ Code, Field string } }
	if st := get("/api/v1/metrics/demo.score?period=2026-13", viewer, &apiErr); st != 422 || apiErr.Error.Code != "invalid_period" || apiErr.Error.Field != "period" {
		t.Fatalf("bad period: %d %+v", st, apiErr)
	}
	if st := get("/api/v1/metrics/demo.none", viewer, &apiErr); st != 404 || apiErr.Error.Code != "metric_not_found" {
		t.Fatalf("unknown: %d %+v", st, apiErr)
	}
	if st := get("/api/v1/metrics", token("auditor"), nil); st != 403 {
		t.Fatalf("auditor: %d, want 403", st)
	}
	for _, rt := range ws.Routes() {
		if rt.API() && !ws.OpenAPI.Has(rt.Method, rt.Path) && strings.HasPrefix(rt.Path, "/api/v1/metrics") {
			t.Errorf("%s not in the OpenAPI fragment", rt.Pattern())
		}
	}
}
