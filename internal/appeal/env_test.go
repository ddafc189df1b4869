package appeal_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/workday"
)

var beijing = time.FixedZone("CST", 8*3600)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) SetDate(date string) {
	d := workday.MustParseDate(date)
	y, m, dd := d.Civil()
	c.mu.Lock()
	c.t = time.Date(y, m, dd, 10, 0, 0, 0, beijing)
	c.mu.Unlock()
}

type env struct {
	t      *testing.T
	ctx    context.Context
	d      *db.DB
	clock  *clock
	svc    *appeal.Service
	units  map[string]int64 // by code
	center appeal.Actor
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t)
	c := &clock{}
	c.SetDate("2026-03-10") // a Tuesday
	pii, err := appeal.NewPII(appeal.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	al := audit.New(d)
	al.Now = c.Now
	e := &env{t: t, ctx: ctx, d: d, clock: c, units: map[string]int64{}}
	e.svc = appeal.New(d, al, workday.New(), pii, c.Now)
	if err := e.svc.EnsureCategories(ctx); err != nil {
		t.Fatal(err)
	}
	for i, code := range []string{"D01", "D02", "D03", "D04", "D05", "D06", "D07", "A04", "A02", "S04"} {
		var id int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			id, err = db.InsertID(ctx, tx, `INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES (?, ?, 'district', ?, TRUE, ?, ?)`,
				code, "单位"+code, i, c.Now(), c.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		e.units[code] = id
		if _, err := d.ExecContext(ctx, `INSERT INTO people (unit_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`, id, "张三"+code, c.Now(), c.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := appeal.SeedRules(ctx, e.svc, func(code string) int64 { return e.units[code] }); err != nil {
		t.Fatal(err)
	}
	e.center = appeal.Actor{UserID: 0, Name: "center", Center: true, PII: true}
	return e
}

// unit is an actor of the unit with code.
func (e *env) unit(code string) appeal.Actor {
	return appeal.Actor{Name: "liaison-" + code, UnitID: e.units[code], Handle: true}
}

func (e *env) create(in appeal.NewAppeal) *appeal.Appeal {
	e.t.Helper()
	if in.CategoryCode == "" {
		in.CategoryCode = "0201"
	}
	if in.Content == "" {
		in.Content = "东华街道幸福里小区垃圾桶满溢无人清运，已经一周了"
	}
	if in.District == "" {
		in.District = "东城区"
	}
	a, err := e.svc.Create(e.ctx, e.center, in, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) must(a *appeal.Appeal, err error) *appeal.Appeal {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}
