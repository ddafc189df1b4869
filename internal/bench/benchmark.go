package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/benchmark"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

// The benchmarking figures of issue 4.
const (
	bmIndicators = 200
	bmPeers      = 15
	bmUnits      = 4 // with us and the peers: 20 subjects
	bmPeriods    = 40
	bmClients    = 20
	bmRuns       = 15
)

// generateBenchmarking fills a fresh, migrated database: a root unit and
// four units (internal subjects), an analyst, 15 peers, 200 quarterly
// indicators in the four demo categories and, for each, 40 quarters of
// values for us, the peers and the units (160,000 observations).
func generateBenchmarking(ctx context.Context, d *db.DB) (indicatorIDs []int64, took time.Duration, err error) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(4, 200))
	now := time.Now().UTC().Truncate(time.Microsecond)
	today := workday.FromTime(now, time.FixedZone("Asia/Shanghai", 8*3600))
	var root int64
	var units []int64
	err = d.InTx(ctx, func(tx *db.Tx) (err error) {
		root, err = db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES ('ROOT', '示范市人民政府办公室', 'office', 0, TRUE, ?, ?)`, now, now)
		if err != nil {
			return err
		}
		for i := 1; i <= bmUnits; i++ {
			id, err := db.InsertID(ctx, tx, `INSERT INTO units (parent_id, code, name, kind, sort_order, active, created_at, updated_at) VALUES (?, ?, ?, 'district', ?, TRUE, ?, ?)`,
				root, fmt.Sprintf("D%02d", i), fmt.Sprintf("基准区%02d", i), i, now, now)
			if err != nil {
				return err
			}
			units = append(units, id)
		}
		var peers [][]any
		for i := 1; i <= bmPeers; i++ {
			kind := []string{"in_province", "out_of_province", "national"}[i%3]
			peers = append(peers, []any{fmt.Sprintf("基准标杆%02d", i), kind, "某省", true, now, now})
		}
		if err := insertRows(ctx, tx, "peers", []string{"name", "kind", "region", "active", "created_at", "updated_at"}, peers); err != nil {
			return err
		}
		cats := []string{"形象建设", "效率提升", "程序规范", "作风严实"}
		var inds [][]any
		for i := 1; i <= bmIndicators; i++ {
			dir := "higher_better"
			if i%4 == 0 {
				dir = "lower_better"
			}
			inds = append(inds, []any{fmt.Sprintf("BM%03d", i), fmt.Sprintf("基准指标%03d", i), "%", dir, cats[i%4], "quarter", "manual", root, 1.0, 2, "compare", now, true, now, now})
		}
		return insertRows(ctx, tx, "indicators", []string{"code", "name", "measure", "direction", "category", "frequency", "source", "owner_unit_id", "weight", "lead_periods", "stage", "stage_since", "active", "created_at", "updated_at"}, inds)
	})
	if err != nil {
		return nil, 0, err
	}
	if err := addBenchUser(ctx, benchAuth(d), "bench_analyst", auth.RoleAnalyst, root); err != nil {
		return nil, 0, err
	}
	if indicatorIDs, err = ids(ctx, d, `SELECT id FROM indicators ORDER BY id`); err != nil {
		return nil, 0, err
	}
	peerIDs, err := ids(ctx, d, `SELECT id FROM peers ORDER BY id`)
	if err != nil {
		return nil, 0, err
	}
	periods := benchmark.LastPeriods(benchmark.Quarterly, benchmark.PrevPeriod(benchmark.Quarterly, benchmark.PeriodOf(benchmark.Quarterly, today)), bmPeriods)
	type subj struct {
		kind string
		id   int64
	}
	subjects := []subj{{"us", 0}}
	for _, p := range peerIDs {
		subjects = append(subjects, subj{"peer", p})
	}
	for _, u := range units {
		subjects = append(subjects, subj{"unit", u})
	}
	cols := []string{"indicator_id", "subject_kind", "subject_id", "period", "value", "fixed", "updated_at"}
	for _, ind := range indicatorIDs {
		base := 50 + rng.Float64()*40
		rows := make([][]any, 0, len(subjects)*len(periods))
		for q, p := range periods {
			for _, s := range subjects {
				v := base * (0.8 + rng.Float64()*0.3 + 0.002*float64(q))
				rows = append(rows, []any{ind, s.kind, s.id, p, float64(int(v*10)) / 10, false, now})
			}
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return insertRows(ctx, tx, "observations", cols, rows) }); err != nil {
			return nil, 0, err
		}
	}
	return indicatorIDs, time.Since(start), nil
}

type benchmarkFigures struct {
	engine     string
	gen        time.Duration
	recompute  time.Duration   // RecomputeAll after the bulk load
	analyse    []time.Duration // Analyse: the index from the rollups
	history    []time.Duration // GapHistory: every gap table from one query
	tables     int
	rows       int
	oneGap     []time.Duration // Gap of one indicator (40 periods × 20 subjects)
	list       Latencies
	gapPage    Latencies
	gapAPI     Latencies
	indexAPI   Latencies
	firstIndex time.Duration
}

func measureBenchmarking(bin, engine, pgURL string, log io.Writer) (*benchmarkFigures, error) {
	ctx := context.Background()
	f := &benchmarkFigures{engine: engine}
	fresh, err := openFresh(ctx, "benchmark", engine, pgURL)
	if err != nil {
		return nil, err
	}
	defer fresh.Remove() // also closes the database on an early return
	d := fresh.DB
	fmt.Fprintf(log, "  generating %d indicators × %d subjects × %d quarters on %s …\n", bmIndicators, 1+bmPeers+bmUnits, bmPeriods, engine)
	inds, took, err := generateBenchmarking(ctx, d)
	if err != nil {
		return nil, err
	}
	f.gen = took
	svc := benchmark.New(d, audit.New(d), nil)
	// The stages and rollups of the bulk-loaded history, from one query.
	t0 := time.Now()
	if _, err := svc.RecomputeAll(ctx, benchmark.Actor{Username: "bench"}); err != nil {
		return nil, err
	}
	f.recompute = time.Since(t0)
	for i := 0; i < bmRuns+2; i++ {
		// The overview: the composite index per category and overall with
		// every indicator's gap, rank and score in its latest period.
		t0 := time.Now()
		if _, err := svc.Analyse(ctx, "zh-CN"); err != nil {
			return nil, err
		}
		if i >= 2 { // two warm-up runs
			f.analyse = append(f.analyse, time.Since(t0))
		}
		// Every gap table of the whole history, from one query.
		t0 = time.Now()
		tables, rows, err := svc.GapHistory(ctx)
		if err != nil {
			return nil, err
		}
		if i >= 2 {
			f.history = append(f.history, time.Since(t0))
		}
		f.tables, f.rows = tables, rows
		t0 = time.Now()
		if _, err := svc.Gap(ctx, inds[i%len(inds)], "", "zh-CN"); err != nil {
			return nil, err
		}
		if i >= 2 {
			f.oneGap = append(f.oneGap, time.Since(t0))
		}
	}
	fresh.CloseDB()

	s, err := fresh.Start(bin)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	tok, err := s.Login("bench_analyst", benchPassword)
	if err != nil {
		return nil, err
	}
	get := func(path string) func() (*http.Request, error) {
		return func() (*http.Request, error) { return authed(s.URL+path, tok) }
	}
	var n atomic.Int64
	each := func(format string) func() (*http.Request, error) {
		return func() (*http.Request, error) {
			return authed(s.URL+fmt.Sprintf(format, inds[int(n.Add(1))%len(inds)]), tok)
		}
	}
	_, f.firstIndex, _ = status(s, "/api/v1/benchmark/index", tok)
	fmt.Fprintf(log, "  indicator list, gap page and API, index on %s …\n", engine)
	Load(4, 2*time.Second, get("/api/v1/indicators"))
	f.list = Load(bmClients, 10*time.Second, get("/api/v1/indicators"))
	Load(4, 2*time.Second, each("/benchmark/indicators/%d"))
	f.gapPage = Load(bmClients, 10*time.Second, each("/benchmark/indicators/%d"))
	f.gapAPI = Load(bmClients, 10*time.Second, each("/api/v1/indicators/%d/gap"))
	f.indexAPI = Load(bmClients, 10*time.Second, get("/api/v1/benchmark/index"))
	return f, nil
}

// benchmarkSection measures the figures of the benchmark issue; it returns the
// BENCHMARKS.md section.
func benchmarkSection(bin, pgURL string, log io.Writer) (string, error) {
	fmt.Fprintln(log, "benchmarking (issue 4) …")
	figs, err := perEngine("benchmarking", bin, pgURL, log, measureBenchmarking)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("## Benchmarking (issue 4)\n\n")
	fmt.Fprintf(&b, "Generated with bulk SQL into a fresh database: %d quarterly indicators (4 categories, a quarter lower-better), %d peers, %d units, "+
		"and %d quarters of values for us, every peer and every unit: %d subjects × %d periods × %d indicators = %d observations. "+
		"The in-process figure is the service on the generated database (median of %d runs after 2 warm-ups, and the slowest); "+
		"the HTTP figures are the real binary with %d concurrent clients, 10 s each after a warm-up, a different indicator on each request.\n\n",
		bmIndicators, bmPeers, bmUnits, bmPeriods, 1+bmPeers+bmUnits, bmPeriods, bmIndicators, bmIndicators*bmPeriods*(1+bmPeers+bmUnits), bmRuns, bmClients)
	mdHeader(&b, line([]string{"figure"}, cells(figs, func(f *benchmarkFigures) string { return f.engine }), "goal")...)
	row := func(name, goal string, cell func(*benchmarkFigures) string) {
		mdRow(&b, line([]string{name}, cells(figs, cell), goal)...)
	}
	row("generating the data (bulk SQL)", "", func(f *benchmarkFigures) string { return fmt.Sprintf("%.1f s", f.gen.Seconds()) })
	row("composite index per category and overall, with every indicator's gap, rank and score in its latest period (read from the rollups kept on write; what `/benchmark` and `/api/v1/benchmark/index` compute), in process", "< 200 ms",
		func(f *benchmarkFigures) string {
			return fmt.Sprintf("**%s** (slowest %s)", ms(median(f.analyse)), ms(maxOf(f.analyse)))
		})
	row("gap analysis of the whole history: every indicator × quarter ranked with gaps and scores, trends, from one query of all observations, in process", "",
		func(f *benchmarkFigures) string {
			return fmt.Sprintf("%s (slowest %s; %d gap tables, %d rows)", ms(median(f.history)), ms(maxOf(f.history)), f.tables, f.rows)
		})
	row("recomputing every indicator's stage and rollups from the whole history (one read, one transaction)", "", func(f *benchmarkFigures) string { return ms(f.recompute) })
	row("gap table and 8-quarter trend of one indicator, in process", "", func(f *benchmarkFigures) string {
		return fmt.Sprintf("%s (slowest %s)", ms(median(f.oneGap)), ms(maxOf(f.oneGap)))
	})
	row("indicator list, `GET /api/v1/indicators` (200 items with latest values)", "", func(f *benchmarkFigures) string { return lat(f.list) })
	row("gap page, `GET /benchmark/indicators/{id}`", "", func(f *benchmarkFigures) string { return lat(f.gapPage) })
	row("gap API, `GET /api/v1/indicators/{id}/gap`", "", func(f *benchmarkFigures) string { return lat(f.gapAPI) })
	row("composite index, `GET /api/v1/benchmark/index`", "", func(f *benchmarkFigures) string {
		return lat(f.indexAPI) + fmt.Sprintf("; first answer %s", ms(f.firstIndex))
	})
	if pgURL == "" {
		b.WriteString(noPostgres)
	}
	b.WriteString("\n")
	return b.String(), nil
}
