package appeal_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/workday"
)

// The bulk paths (import and the demo generator) at a size set by
// BIAOGAN_BULK_BENCH_N (default 100000), reporting orders/s and the peak
// Go heap in use, e.g.
//
//	go test ./internal/appeal -run X -bench BenchmarkBulk -benchtime 1x -cpuprofile /tmp/cpu.out

func bulkBenchN() int {
	if n, err := strconv.Atoi(os.Getenv("BIAOGAN_BULK_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 100000
}

func bulkBenchService(b *testing.B) (*appeal.Service, map[string]int64) {
	b.Helper()
	ctx := context.Background()
	d := dbtest.Open(b)
	now := time.Now()
	units := map[string]int64{}
	for i, code := range []string{"D01", "D02", "D03", "D04", "D05", "D06", "D07", "A04", "A02", "S04"} {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			id, err := db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES (?, ?, 'district', ?, TRUE, ?, ?)`,
				code, "单位"+code, i, now, now)
			units[code] = id
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	pii, err := appeal.NewPII(appeal.DevKey())
	if err != nil {
		b.Fatal(err)
	}
	svc := appeal.New(d, audit.New(d), workday.New(), pii, time.Now)
	if err := svc.EnsureCategories(ctx); err != nil {
		b.Fatal(err)
	}
	if err := appeal.SeedRules(ctx, svc, func(c string) int64 { return units[c] }); err != nil {
		b.Fatal(err)
	}
	return svc, units
}

// peakHeap samples HeapInuse until stop is called, like the bench.
func peakHeap() (stop func() float64) {
	runtime.GC()
	done := make(chan struct{})
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
			case <-done:
				peak <- mx
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { close(done); return float64(<-peak) / (1 << 20) }
}

// bulkBenchCSV is the bench's history file: n rows, one in a hundred bad.
func bulkBenchCSV(n int) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"工单编号", "受理时间", "渠道", "类型", "分类", "诉求内容", "区县", "街道", "地址", "姓名", "电话", "承办单位", "办结时间", "满意度"})
	rng := rand.New(rand.NewPCG(1, 2))
	var leaves []appeal.Category
	for _, c := range appeal.DefaultCategories() {
		if c.Leaf {
			leaves = append(leaves, c)
		}
	}
	texts := []string{"小区门口路灯不亮已经一周，晚上行人很不安全，请尽快维修。", "人民路与解放路交叉口路面塌陷，有一个大坑，车辆经过很危险。",
		"楼下餐馆油烟直排，窗户都不敢开，希望有关部门管一管。", "工地夜间施工噪声很大，已经影响休息，请核实是否办理夜间施工许可。",
		"公交站台的顶棚破损漏雨，候车的老人孩子淋雨。", "河道漂浮垃圾较多，气味难闻，请安排清理。"}
	kinds := []string{"咨询", "求助", "投诉", "举报", "建议"}
	sats := []string{"满意", "基本满意", "不满意", ""}
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		d := appeal.Districts[rng.IntN(len(appeal.Districts))]
		st := d.Streets[rng.IntN(len(d.Streets))]
		c := leaves[rng.IntN(len(leaves))]
		rec := start.Add(time.Duration(rng.IntN(600*24)) * time.Hour)
		res := rec.Add(time.Duration(2+rng.IntN(100)) * time.Hour)
		text := fmt.Sprintf("市民反映%s%s附近%s问题，%s，希望相关部门尽快处理。", st, []string{"幸福里小区", "阳光花园", "锦绣家园", "翠苑小区"}[rng.IntN(4)], c.Name, texts[rng.IntN(len(texts))])
		row := []string{fmt.Sprintf("H%09d", i+1), rec.Format("2006-01-02 15:04:05"), "phone", kinds[rng.IntN(5)], c.Code, text, d.Name, st,
			st + fmt.Sprintf("%d号", 1+rng.IntN(200)), "张三", fmt.Sprintf("13%09d", rng.IntN(1e9)), d.UnitCode, res.Format("2006-01-02 15:04:05"), sats[rng.IntN(4)]}
		if i%100 == 99 {
			row[4] = "9999"
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}

func BenchmarkBulkImport(b *testing.B) {
	n := bulkBenchN()
	data := bulkBenchCSV(n)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		svc, _ := bulkBenchService(b)
		stop := peakHeap()
		b.StartTimer()
		start := time.Now()
		res, _, err := svc.Import(context.Background(), appeal.System("bench"), "history.csv", bytes.NewReader(data), false)
		took := time.Since(start)
		heap := stop()
		if err != nil {
			b.Fatal(err)
		}
		if res.Loaded != n-n/100 {
			b.Fatalf("loaded %d of %d", res.Loaded, n)
		}
		b.ReportMetric(float64(res.Rows)/took.Seconds(), "orders/s")
		b.ReportMetric(heap, "peak-heap-MB")
	}
}

func BenchmarkBulkGenerate(b *testing.B) {
	n := bulkBenchN()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		svc, units := bulkBenchService(b)
		stop := peakHeap()
		b.StartTimer()
		start := time.Now()
		_, err := svc.Generate(context.Background(), appeal.GenConfig{N: n, Days: 730, End: svc.Today(), Seed: 2026, Unit: func(c string) int64 { return units[c] }})
		took := time.Since(start)
		heap := stop()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "orders/s")
		b.ReportMetric(heap, "peak-heap-MB")
	}
}
