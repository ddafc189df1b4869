package assess_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/assess"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

var beijing = time.FixedZone("CST", 8*3600)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to hh:mm Beijing time on date.
func (c *clock) Set(date string, hh, mm int) {
	y, m, d := workday.MustParseDate(date).Civil()
	c.mu.Lock()
	c.t = time.Date(y, m, d, hh, mm, 0, 0, beijing)
	c.mu.Unlock()
}

// fakeReports is the supervision side of a daily report.
type fakeReports map[int64][]assess.ReportLine

func (f fakeReports) UnitReports(_ context.Context, unitID int64, _ workday.Date) ([]assess.ReportLine, error) {
	return f[unitID], nil
}

// fakeNotifier records the notices sent.
type fakeNotifier struct{ sent []assess.Notice }

func (f *fakeNotifier) Notify(_ context.Context, _ *db.Tx, ns ...assess.Notice) error {
	f.sent = append(f.sent, ns...)
	return nil
}

// env: a migrated database with four sections (A–D), a test metric whose
// values the test sets, and the service.
type env struct {
	t      *testing.T
	ctx    context.Context
	d      *db.DB
	clock  *clock
	s      *assess.Service
	units  []int64
	values map[string]metric.Values // by period key
	notes  *fakeNotifier
}

const testMetric = "test.rate"

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t)
	e := &env{t: t, ctx: context.Background(), d: d, clock: &clock{}, values: map[string]metric.Values{}, notes: &fakeNotifier{}}
	e.clock.Set("2026-11-25", 10, 0)
	al := audit.New(d)
	al.Now = e.clock.Now
	reg := metric.New(d, e.clock.Now)
	e.s = assess.New(d, al, workday.New(), reg, e.clock.Now)
	e.s.Loc = beijing
	e.s.Notifier = e.notes
	if err := reg.Register(e.s.RegisteredMetrics()...); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(metric.Metric{Code: testMetric, Name: "测试", NameEN: "Test", Direction: metric.HigherBetter,
		Compute: func(_ context.Context, _ db.Querier, p metric.Period) (metric.Values, error) {
			return e.values[p.String()], nil
		}}); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().UTC()
	for i, code := range []string{"A", "B", "C", "D"} {
		var id int64
		err := d.InTx(e.ctx, func(tx *db.Tx) error {
			var err error
			id, err = db.InsertID(e.ctx, tx, `INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES (?, ?, 'section', ?, TRUE, ?, ?)`,
				code, "科室"+code, i, now, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		e.units = append(e.units, id)
	}
	// Only the test metric in the monthly formula.
	st := assess.DefaultSettings()
	st.Formula = []assess.Term{{Metric: testMetric, Weight: 100, Floor: 0, Target: 100}}
	st.HonourTop, st.WatchBottom, st.WatchBelow = 1, 1, 0
	if _, err := e.s.SaveSettings(e.ctx, assess.SystemActor("test"), st); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) supervisor() assess.Actor {
	return assess.Actor{UserID: 1, Username: "sup", Writer: true, Roles: []auth.Role{auth.RoleSupervisor}}
}

func (e *env) leader() assess.Actor {
	return assess.Actor{UserID: 2, Username: "lead", Leader: true, Rater: true, Roles: []auth.Role{auth.RoleLeader}}
}

// unit is the liaison and head of unit i.
func (e *env) unit(i int) assess.Actor {
	return assess.Actor{UserID: int64(10 + i), Username: fmt.Sprintf("u%d", i), UnitID: e.units[i], Reporter: true, Rater: true, Roles: []auth.Role{auth.RoleUnitHead}}
}

// wantErr checks err is an *apperr.Error with status and code.
func wantErr(t *testing.T, err error, status int, code string) *apperr.Error {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want %d %s", err, status, code)
	}
	if ae.Status != status || (code != "" && ae.Code != code) {
		t.Fatalf("error %d %s (%s), want %d %s", ae.Status, ae.Code, ae.Message, status, code)
	}
	return ae
}

func (e *env) count(table string) int {
	var n int
	if err := e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// scheme is a small valid scheme: a metric criterion, a declaration, a
// spot check and a rating.
func scheme(year int) assess.Scheme {
	return assess.Scheme{Year: year, Name: "测试方案", BonusCap: 3, DeductionCap: 4, ExcellentQuota: 30,
		DeclarationDeadline: workday.DateOf(year, time.December, 20),
		Criteria: []assess.Criterion{
			{Code: "A", Name: "实绩", Weight: 60},
			{Code: "A1", Name: "指标", Parent: "A", Weight: 30, Method: assess.MethodMetric, Metric: testMetric, Rule: &assess.Rule{Kind: assess.RuleLinear, Floor: 50, Target: 100}},
			{Code: "A2", Name: "申报", Parent: "A", Weight: 30, Method: assess.MethodDeclaration, FalseDeduction: 2},
			{Code: "B", Name: "评比", Weight: 40},
			{Code: "B1", Name: "抽查", Parent: "B", Weight: 10, Method: assess.MethodSpotCheck, SpotRate: 0.5},
			{Code: "B2", Name: "评价", Parent: "B", Weight: 30, Method: assess.MethodRating},
		},
		RaterGroups: []assess.RaterGroup{{Code: "leaders", Name: "领导", Role: "leader", Weight: 60}, {Code: "peers", Name: "互评", Role: "unit_head", Weight: 40}},
	}
}

type dbTx = db.Tx

// dbInsertUser adds a liaison of unit.
func dbInsertUser(e *env, unit int64, i int) (int64, error) {
	now := e.clock.Now().UTC()
	var id int64
	err := e.d.InTx(e.ctx, func(tx *db.Tx) error {
		var err error
		id, err = db.InsertID(e.ctx, tx, `INSERT INTO users (username, display_name, password_hash, unit_id, disabled, failed_count, password_changed_at, created_at, updated_at)
		VALUES (?, ?, 'x', ?, FALSE, 0, ?, ?, ?)`, fmt.Sprintf("liaison%d", i), "联络员", unit, now, now, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	_, err = e.d.ExecContext(e.ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, 'liaison')`, id)
	return id, err
}

func asAppErr(err error) (*apperr.Error, bool) {
	var ae *apperr.Error
	ok := errors.As(err, &ae)
	return ae, ok
}
