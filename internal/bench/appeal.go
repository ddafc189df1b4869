package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

// The figures of issue 6 (12345 appeals). Sizes can be set from the
// environment so a quick run stays quick.
var (
	// appealImportRows rows of a CSV go through the real import.
	appealImportRows = envInt("BIAOGAN_BENCH_APPEAL_IMPORT", 100000)
	// appealOrders orders are generated into the appeals table (the
	// demo generator: texts, citizens, the loop, rollups).
	appealOrders = envInt("BIAOGAN_BENCH_APPEAL_ORDERS", 200000)
	// appealRollupOrders is how many orders the rollup tables stand for
	// when the analysis pages are measured.
	appealRollupOrders = envInt("BIAOGAN_BENCH_APPEAL_ROLLUP", 10000000)
	appealClients      = 8
	appealRun          = 4 * time.Second
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

type appealFigures struct {
	engine     string
	importRows int
	imported   int
	rejected   int
	importTook time.Duration
	importHeap float64 // MB, peak Go heap in use during the import
	genOrders  int
	genTook    time.Duration
	rollupRows int
	rollupTook time.Duration
	pages      []appealPage
	acc        appeal.Accuracy
	accTook    time.Duration
	serverRSS  float64
	idleRSS    float64
}

type appealPage struct {
	name  string
	l     Latencies
	first time.Duration
}

func appealUnits(ctx context.Context, d *db.DB) (map[string]int64, int64, error) {
	units := map[string]int64{}
	now := time.Now().UTC()
	var root int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		root, err = db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES ('SFB', '示范市人民政府办公室', 'office', 0, TRUE, ?, ?)`, now, now)
		if err != nil {
			return err
		}
		for i, c := range []string{"D01", "D02", "D03", "D04", "D05", "D06", "D07", "A04", "A02", "S04"} {
			kind := "district"
			if c[0] != 'D' {
				kind = "affiliate"
			}
			id, err := db.InsertID(ctx, tx, `INSERT INTO units (parent_id, code, name, kind, sort_order, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, TRUE, ?, ?)`,
				root, c, "承办单位"+c, kind, i, now, now)
			if err != nil {
				return err
			}
			units[c] = id
		}
		return nil
	})
	return units, root, err
}

// appealCSV writes n rows for the import, one in a hundred of them bad.
func appealCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"工单编号", "受理时间", "渠道", "类型", "分类", "诉求内容", "区县", "街道", "地址", "姓名", "电话", "承办单位", "办结时间", "满意度"})
	rng := rand.New(rand.NewPCG(1, 2))
	cats := appeal.DefaultCategories()
	var leaves []appeal.Category
	for _, c := range cats {
		if c.Leaf {
			leaves = append(leaves, c)
		}
	}
	kinds := []string{"咨询", "求助", "投诉", "举报", "建议"}
	sats := []string{"满意", "基本满意", "不满意", ""}
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		d := appeal.Districts[rng.IntN(len(appeal.Districts))]
		st := d.Streets[rng.IntN(len(d.Streets))]
		c := leaves[rng.IntN(len(leaves))]
		rec := start.Add(time.Duration(rng.IntN(600*24)) * time.Hour)
		res := rec.Add(time.Duration(2+rng.IntN(100)) * time.Hour)
		text := fmt.Sprintf("市民反映%s%s附近%s问题，%s，希望相关部门尽快处理。", st, []string{"幸福里小区", "阳光花园", "锦绣家园", "翠苑小区"}[rng.IntN(4)], c.Name, open311Texts[rng.IntN(len(open311Texts))])
		row := []string{fmt.Sprintf("H%09d", i+1), rec.Format("2006-01-02 15:04:05"), "phone", kinds[rng.IntN(5)], c.Code, text, d.Name, st,
			st + fmt.Sprintf("%d号", 1+rng.IntN(200)), "张三", fmt.Sprintf("13%09d", rng.IntN(1e9)), d.UnitCode, res.Format("2006-01-02 15:04:05"), sats[rng.IntN(4)]}
		if i%100 == 99 {
			row[4] = "9999" // an unknown category: rejected
		}
		w.Write(row)
	}
	w.Flush()
	return w.Error()
}

// fillRollups writes the rollup rows that total orders leave over two
// years ending today: every day × leaf category × district under its
// handling unit, plus the orders answered at intake (unit none), through
// the appeal feature's own bulk rollup writer (base and per-dimension rows).
func fillRollups(ctx context.Context, d *db.DB, units map[string]int64, total int) (int, error) {
	end := workday.FromTime(time.Now(), time.FixedZone("CST", 8*3600))
	days := 730
	var leaves []appeal.Category
	for _, c := range appeal.DefaultCategories() {
		if c.Leaf {
			leaves = append(leaves, c)
		}
	}
	keys := days * len(leaves) * len(appeal.Districts)
	mean := float64(total) / float64(keys)
	rng := rand.New(rand.NewPCG(3, 4))
	rows := 0
	for day0 := 0; day0 < days; day0 += 30 {
		b := appeal.NewBulk()
		for i := day0; i < min(day0+30, days); i++ {
			day := end.AddDays(-i).String()
			for _, c := range leaves {
				for _, dist := range appeal.Districts {
					n := int64(mean * (0.5 + rng.Float64()))
					answered := n / 8
					handled := n - answered
					res := handled * 9 / 10
					fol := res * 8 / 10
					b.AddRollup(appeal.RollupRow{Day: day, Category: c.Code, District: dist.Name, UnitID: units[dist.UnitCode], Received: handled, Resolved: res,
						OnTime: res * 9 / 10, Followed: fol, Satisfied: fol * 9 / 10, HandleSeconds: res * 3 * 86400},
						appeal.RollupRow{Day: day, Category: c.Code, District: dist.Name, Received: answered, Resolved: answered, OnTime: answered, HandleSeconds: answered * 600})
					rows += 2
				}
			}
			for _, dist := range appeal.Districts {
				for _, st := range dist.Streets {
					b.AddStreet(day, dist.Name, st, int64(float64(total)/float64(days*28)*(0.5+rng.Float64())))
				}
			}
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return b.Finish(ctx, tx) }); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

func measureAppeal(bin, engine, pgURL string, log io.Writer) (*appealFigures, error) {
	ctx := context.Background()
	f := &appealFigures{engine: engine}
	fresh, err := openFresh(ctx, "appeal", engine, pgURL)
	if err != nil {
		return nil, err
	}
	defer fresh.Remove()
	d := fresh.DB
	units, root, err := appealUnits(ctx, d)
	if err != nil {
		return nil, err
	}
	pii, err := appeal.NewPII(appeal.DevKey())
	if err != nil {
		return nil, err
	}
	al := audit.New(d)
	svc := appeal.New(d, al, workday.New(), pii, time.Now)
	if err := svc.EnsureCategories(ctx); err != nil {
		return nil, err
	}
	if err := appeal.SeedRules(ctx, svc, func(c string) int64 { return units[c] }); err != nil {
		return nil, err
	}

	// 1. The import of a CSV file.
	if appealImportRows > 0 {
		path := filepath.Join(fresh.dir, "history.csv")
		if err := appealCSV(path, appealImportRows); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "  importing %d CSV rows on %s …\n", appealImportRows, engine)
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		runtime.GC()
		stop := make(chan struct{})
		peak := make(chan uint64)
		go func() {
			var m runtime.MemStats
			var mx uint64
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&m)
				mx = max(mx, m.HeapInuse)
				select {
				case <-stop:
					peak <- mx
					return
				case <-t.C:
				}
			}
		}()
		start := time.Now()
		res, _, err := svc.Import(ctx, appeal.System("bench"), "history.csv", file, false)
		f.importTook = time.Since(start)
		close(stop)
		f.importHeap = float64(<-peak) / (1 << 20)
		file.Close()
		if err != nil {
			return nil, err
		}
		f.importRows, f.imported, f.rejected = res.Rows, res.Loaded, res.Rejected
	}

	// 2. Generated orders through the bulk loader.
	fmt.Fprintf(log, "  generating %d orders on %s …\n", appealOrders, engine)
	start := time.Now()
	if _, err := svc.Generate(ctx, appeal.GenConfig{N: appealOrders, Days: 730, End: svc.Today(), Seed: 2026, Unit: func(c string) int64 { return units[c] }}); err != nil {
		return nil, err
	}
	f.genOrders, f.genTook = appealOrders, time.Since(start)

	// 3. Dispatch suggestion on held-out orders.
	start = time.Now()
	if f.acc, err = svc.EvaluateSuggestion(ctx, 100000); err != nil {
		return nil, err
	}
	f.accTook = time.Since(start)

	// 4. Rollups standing for appealRollupOrders orders.
	fmt.Fprintf(log, "  writing rollups for %d orders on %s …\n", appealRollupOrders, engine)
	start = time.Now()
	if f.rollupRows, err = fillRollups(ctx, d, units, appealRollupOrders); err != nil {
		return nil, err
	}
	f.rollupTook = time.Since(start)
	if err := addBenchUser(ctx, benchAuth(d), "bench_center", auth.RoleSupervisor, root); err != nil {
		return nil, err
	}
	fresh.CloseDB()

	// 5. The analysis API and page over the real binary.
	s, err := fresh.Start(bin)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	f.idleRSS = s.RSS()
	tok, err := s.Login("bench_center", benchPassword)
	if err != nil {
		return nil, err
	}
	today := time.Now().Format("2006-01-02")
	yearAgo := time.Now().AddDate(-1, 0, 1).Format("2006-01-02")
	for _, p := range []struct{ name, path string }{
		{"trends, 90 days by day", "/api/v1/appeals/analysis/trends"},
		{"trends, one year by month", "/api/v1/appeals/analysis/trends?from=" + yearAgo + "&to=" + today},
		{"top categories, 30 days", "/api/v1/appeals/analysis/top?by=category"},
		{"top streets, 30 days", "/api/v1/appeals/analysis/top?by=street"},
		{"district heat map, 30 days", "/api/v1/appeals/analysis/districts"},
		{"unit league, 30 days", "/api/v1/appeals/analysis/league"},
		{"spikes, last 7 days vs 28-day baselines", "/api/v1/appeals/analysis/spikes"},
		{"analysis page (HTML: all of the above)", "/appeals/analysis"},
	} {
		req := func(int) (*http.Request, error) { return authed(s.URL+p.path, tok) }
		// The first request computes what later ones may take from a cache.
		_, first, err := status(s, p.path, tok)
		if err != nil {
			return nil, err
		}
		LoadEach(2, 500*time.Millisecond, req, func(st int) bool { return st == 200 })
		l := LoadEach(appealClients, appealRun, req, func(st int) bool { return st == 200 })
		f.pages = append(f.pages, appealPage{p.name, l, first})
		fmt.Fprintf(log, "    %s: p99 %s\n", p.name, ms(l.P99))
	}
	f.serverRSS = s.RSS()
	return f, nil
}

// appealSection measures the figures of the appeal issue, Open311's
// included; it returns the BENCHMARKS.md section.
func appealSection(bin, pgURL string, log io.Writer) (string, error) {
	s, err := appealSectionOnly(bin, pgURL, log)
	if err != nil {
		return "", err
	}
	o311, err := open311Figures(bin, pgURL, log)
	if err != nil {
		return "", err
	}
	return s + o311, nil
}

func appealSectionOnly(bin, pgURL string, log io.Writer) (string, error) {
	fmt.Fprintln(log, "12345 appeals (issue 6) …")
	figs, err := perEngine("appeal", bin, pgURL, log, measureAppeal)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("## 12345 appeals (issue 6)\n\n")
	fmt.Fprintf(&b, "Import: a CSV of %d historic orders (1 %% of them with an unknown category, rejected) through the real import (parse, validate, encrypt the citizen data with SM4, segment the text, multi-row INSERTs in %d-row transactions, rollups merged per chunk), in process. "+
		"Generated: %d orders over two years through the demo generator and the same bulk loader. "+
		"Analysis: the rollup tables are then filled with the rows %d orders over two years leave (every day × 60 leaf categories × 7 districts, under the handling unit and under \"none\" for orders answered at intake), written directly; the real binary serves the analysis API, %d clients, %s per figure after a warm-up. "+
		"The appeals table itself holds the imported and generated orders only (the rollup pages never read it). \"First request\" is the first call after the data is written: spikes (and the page that shows them) are then reused for up to a minute.\n\n",
		appealImportRows, appeal.ImportChunk, appealOrders, appealRollupOrders, appealClients, appealRun)
	mdHeader(&b, line([]string{"figure"}, cells(figs, func(f *appealFigures) string { return f.engine }))...)
	row := func(name string, cell func(*appealFigures) string) {
		mdRow(&b, line([]string{name}, cells(figs, cell))...)
	}
	row("import (CSV, streamed, validated)", func(f *appealFigures) string {
		if f.importRows == 0 {
			return "not measured"
		}
		return fmt.Sprintf("**%.0f orders/s** (%d rows: %d loaded, %d rejected in %s); peak Go heap %.0f MB", float64(f.importRows)/f.importTook.Seconds(),
			f.importRows, f.imported, f.rejected, f.importTook.Round(time.Millisecond), f.importHeap)
	})
	row("bulk load of generated orders", func(f *appealFigures) string {
		return fmt.Sprintf("%.0f orders/s (%d in %s)", float64(f.genOrders)/f.genTook.Seconds(), f.genOrders, f.genTook.Round(time.Millisecond))
	})
	row("rollup rows written for the analysis", func(f *appealFigures) string {
		return fmt.Sprintf("%d rows standing for %d orders (%s)", f.rollupRows, appealRollupOrders, f.rollupTook.Round(time.Millisecond))
	})
	for i := range figs[0].pages {
		row("`"+figs[0].pages[i].name+"`", func(f *appealFigures) string {
			l := f.pages[i].l
			return fmt.Sprintf("**p99 %s**, p50 %s, %.0f req/s (%d errors); first request %s", ms(l.P99), ms(l.P50), l.RPS, l.Errors, ms(f.pages[i].first))
		})
	}
	row("server RSS after start / after the analysis load", func(f *appealFigures) string {
		return fmt.Sprintf("%.0f MB / %.0f MB", f.idleRSS, f.serverRSS)
	})
	row("dispatch suggestion (naive Bayes), held-out 10 %", func(f *appealFigures) string {
		return fmt.Sprintf("category top-1 **%.1f %%**, top-3 **%.1f %%**; unit top-1 %.1f %%, top-3 %.1f %% (train %d, test %d closed orders; %s)",
			100*f.acc.CategoryTop1, 100*f.acc.CategoryTop3, 100*f.acc.UnitTop1, 100*f.acc.UnitTop3, f.acc.Train, f.acc.Test, f.accTook.Round(time.Millisecond))
	})
	if pgURL == "" {
		b.WriteString(noPostgres)
	}
	b.WriteString("\nThe demo texts are generated from templates per category (with one in twelve described in a sibling category's words), so the suggestion's accuracy on real hotline texts will be lower.\n\n")
	return b.String(), nil
}
