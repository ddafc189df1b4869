package supervise_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

var benchAreas = []string{"four_plus_two", "big_section", "unified_finance", "informatization", "gov_info", "party_building", "emergency"}

// seedBoard writes units, owners, instructions and tasks straight into the
// tables (lights already set, as RefreshLights would leave them): open
// tasks spread over the areas and lights, plus done ones. It returns the
// clock's date.
func seedBoard(tb testing.TB, d *db.DB, units, open, done int) workday.Date {
	tb.Helper()
	ctx := context.Background()
	today := workday.MustParseDate("2026-03-10")
	now := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var unitIDs, ownerIDs, instrIDs []int64
		for i := range units {
			id, err := db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, created_at, updated_at) VALUES (?, ?, 'section', ?, ?)`,
				fmt.Sprintf("U%03d", i), fmt.Sprintf("单位%03d", i), now, now)
			if err != nil {
				return err
			}
			pid, err := db.InsertID(ctx, tx, `INSERT INTO people (unit_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`, id, fmt.Sprintf("责任人%03d", i), now, now)
			if err != nil {
				return err
			}
			unitIDs, ownerIDs = append(unitIDs, id), append(ownerIDs, pid)
		}
		for i := range 40 {
			id, err := db.InsertID(ctx, tx, `INSERT INTO instructions (leader, issued_on, text, created_at) VALUES (?, ?, ?, ?)`,
				fmt.Sprintf("领导%d", i%5), "2026-01-05", "请抓好落实", now)
			if err != nil {
				return err
			}
			instrIDs = append(instrIDs, id)
		}
		lights := []string{"red", "yellow", "green", "green", "green", "not_started"}
		for i := range open + done {
			u := rng.IntN(units)
			state, light, signed := "in_progress", lights[rng.IntN(len(lights))], any(nil)
			due := today.AddDays(rng.IntN(120) - 30)
			if light == "red" {
				due = today.AddDays(-1 - rng.IntN(30))
			}
			if i >= open {
				state, light, signed = "signed_off", "done", due.AddDays(rng.IntN(10)-5)
			}
			source, instr := "plan", any(nil)
			switch i % 10 {
			case 0:
				source, instr = "instruction", instrIDs[rng.IntN(len(instrIDs))]
			case 1:
				source = "project"
			}
			id, err := db.InsertID(ctx, tx, `INSERT INTO tasks (source, instruction_id, area, title, lead_unit_id, owner_id, start_on, due_on, baseline_due_on,
				state, progress, assigned_on, signed_off_on, light, light_code, light_reason_zh, light_reason_en, light_on, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '理由', 'reason', ?, ?, ?)`,
				source, instr, benchAreas[rng.IntN(len(benchAreas))], fmt.Sprintf("任务 %d", i), unitIDs[u], ownerIDs[u],
				today.AddDays(-60), due, due, state, rng.IntN(101), today.AddDays(-60), signed, light, today, now, now)
			if err != nil {
				return err
			}
			if i%4 == 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO task_milestones (task_id, seq, name, due_on, created_at, updated_at) VALUES (?, 1, '节点', ?, ?, ?)`,
					id, due.AddDays(-10), now, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("seed: %v", err)
	}
	if d.Dialect == db.SQLite {
		if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
			tb.Fatal(err)
		}
	}
	return today
}

// BenchmarkBattleMap measures the battle map over 20,000 open tasks and 300
// units with 20 concurrent readers, reporting p50 and p99 (the goal in issue
// 3 is p99 ≤ 50 ms on SQLite).
func BenchmarkBattleMap(b *testing.B) {
	d := dbtest.Open(b)
	today := seedBoard(b, d, 300, 20000, 2000)
	y, m, dd := today.Civil()
	now := time.Date(y, m, dd, 10, 0, 0, 0, beijing)
	svc := supervise.New(d, audit.New(d), workday.New(), func() time.Time { return now })
	ctx := context.Background()
	if _, err := svc.BattleMap(ctx, supervise.BoardFilter{}, "zh-CN"); err != nil { // lights fresh for today
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    supervise.BoardFilter
	}{
		{"all", supervise.BoardFilter{}},
		{"area", supervise.BoardFilter{Area: "emergency"}},
		{"key", supervise.BoardFilter{Key: true}},
		{"leader", supervise.BoardFilter{Leader: "领导1"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(10) // × GOMAXPROCS ≥ 20 concurrent readers
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t0 := time.Now()
					if _, err := svc.BattleMap(ctx, bc.f, "zh-CN"); err != nil {
						b.Error(err)
						return
					}
					el := time.Since(t0)
					mu.Lock()
					lat = append(lat, el)
					mu.Unlock()
				}
			})
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// BenchmarkBattleMapHTTP measures GET /api/v1/battlemap and GET /battlemap
// through the whole handler (sign-in by session, middleware, JSON or the
// page) over 20,000 open tasks and 300 units, 20 concurrent readers.
func BenchmarkBattleMapHTTP(b *testing.B) {
	d := dbtest.Open(b)
	today := seedBoard(b, d, 300, 20000, 2000)
	y, m, dd := today.Civil()
	now := time.Date(y, m, dd, 10, 0, 0, 0, beijing)
	clock := func() time.Time { return now }
	al := audit.New(d)
	settings := auth.DefaultSettings()
	settings.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	as := auth.NewService(d, al, settings, clock)
	ctx := context.Background()
	u, err := as.CreateUser(ctx, audit.Entry{Actor: "bench"}, auth.NewUser{Username: "leader", Password: password, Roles: []auth.Role{auth.RoleLeader}})
	if err != nil {
		b.Fatal(err)
	}
	secret, err := as.CreateSession(ctx, u, "127.0.0.1", "bench")
	if err != nil {
		b.Fatal(err)
	}
	svc := supervise.New(d, al, workday.New(), clock)
	ws := web.NewServer(web.Config{Location: beijing}, as, slog.New(slog.DiscardHandler))
	if err := svc.Register(ws); err != nil {
		b.Fatal(err)
	}
	if err := svc.RegisterPages(ws); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.ClosePages)
	h := ws.Handler()
	get := func(path string) int {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if st := get("/api/v1/battlemap"); st != 200 {
		b.Fatalf("warm-up: %d", st)
	}
	for _, path := range []string{"/api/v1/battlemap", "/battlemap", "/api/v1/battlemap?area=emergency"} {
		b.Run(strings.ReplaceAll(path, "/", "_"), func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(10)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t0 := time.Now()
					if st := get(path); st != 200 {
						b.Errorf("%s: %d", path, st)
						return
					}
					el := time.Since(t0)
					mu.Lock()
					lat = append(lat, el)
					mu.Unlock()
				}
			})
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
