package benchmark

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/workday"
)

// fakeTasks records the tasks a target asks for; failAt makes the n-th
// call (1-based) fail after writing, as a task that cannot be created.
type fakeTasks struct {
	calls  []NewTask
	failAt int
}

func (f *fakeTasks) CreateTask(ctx context.Context, tx *db.Tx, by Actor, t NewTask) (int64, error) {
	f.calls = append(f.calls, t)
	if len(f.calls) == f.failAt {
		return 0, apperr.Invalid("owner_id", "责任人已停用 / owner inactive")
	}
	now := time.Now().UTC()
	return db.InsertID(ctx, tx, `INSERT INTO tasks (source, area, title, lead_unit_id, owner_id, start_on, due_on, created_at, updated_at)
		VALUES ('benchmark', 'benchmark', ?, ?, ?, ?, ?, ?, ?)`, t.Title, t.LeadUnitID, t.OwnerID, t.Start, t.Due, now, now)
}

type fakeNotifier struct{ got []Notice }

func (f *fakeNotifier) Notify(ctx context.Context, tx *db.Tx, ns ...Notice) error {
	f.got = append(f.got, ns...)
	return nil
}

type env struct {
	t       *testing.T
	s       *Service
	d       *db.DB
	tasks   *fakeTasks
	notes   *fakeNotifier
	unitA   int64 // 综合科, owns the indicators; has a liaison
	unitB   int64
	personA int64
	personB int64
	liaison int64
	ctx     context.Context
	a       Actor
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t)
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	al := audit.New(d)
	al.Now = func() time.Time { return now }
	s := New(d, al, func() time.Time { return now })
	e := &env{t: t, s: s, d: d, tasks: &fakeTasks{}, notes: &fakeNotifier{}, ctx: context.Background(), a: Actor{UserID: 0, Username: "analyst"}}
	s.Tasks, s.Notifier = e.tasks, e.notes
	e.unitA = e.insert(`INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES ('S04', '综合科', 'section', 1, TRUE, ?, ?)`, now, now)
	e.unitB = e.insert(`INSERT INTO units (code, name, kind, sort_order, active, created_at, updated_at) VALUES ('S05', '督查科', 'section', 2, TRUE, ?, ?)`, now, now)
	e.personA = e.insert(`INSERT INTO people (unit_id, name, active, created_at, updated_at) VALUES (?, '张三', TRUE, ?, ?)`, e.unitA, now, now)
	e.personB = e.insert(`INSERT INTO people (unit_id, name, active, created_at, updated_at) VALUES (?, '李四', TRUE, ?, ?)`, e.unitB, now, now)
	e.liaison = e.insert(`INSERT INTO users (username, password_hash, unit_id, password_changed_at, created_at, updated_at) VALUES ('liaison', 'x', ?, ?, ?, ?)`, e.unitA, now, now, now)
	if _, err := d.ExecContext(e.ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, 'liaison')`, e.liaison); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) insert(q string, args ...any) int64 {
	e.t.Helper()
	var id int64
	err := e.d.InTx(e.ctx, func(tx *db.Tx) error {
		var err error
		id, err = db.InsertID(e.ctx, tx, q, args...)
		return err
	})
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) peer(name string, kind PeerKind) int64 {
	e.t.Helper()
	p, err := e.s.CreatePeer(e.ctx, e.a, NewPeer{Name: name, Kind: kind})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.ID
}

func (e *env) indicator(code string, dir Direction, unit string, peer int64) *Indicator {
	e.t.Helper()
	in := NewIndicator{Code: code, Name: "指标" + code, Unit: unit, Direction: dir, Category: "效率提升", Frequency: Quarterly, OwnerUnitID: &e.unitA}
	if peer != 0 {
		in.PeerID = &peer
	}
	ind, err := e.s.CreateIndicator(e.ctx, e.a, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return ind
}

func (e *env) observe(ind int64, subject, period string, value any) (*Observation, error) {
	return e.s.SaveObservation(e.ctx, e.a, ObservationInput{IndicatorID: ind, Subject: subject, Period: period, Value: value})
}

func (e *env) mustObserve(ind int64, subject, period string, value any) {
	e.t.Helper()
	if _, err := e.observe(ind, subject, period, value); err != nil {
		e.t.Fatalf("observe %s %s %v: %v", subject, period, value, err)
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("err = %v, want a 422 on %s", err, field)
	}
	if e.Status != http.StatusUnprocessableEntity || e.Field != field {
		t.Fatalf("err = %d %s field %q (%s), want 422 on %s", e.Status, e.Code, e.Field, e.Message, field)
	}
}

func (e *env) stage(id int64) Stage {
	e.t.Helper()
	ind, err := e.s.Indicator(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ind.Stage
}

func TestObservationBadInputNamesTheFieldAndSavesNothing(t *testing.T) {
	e := newEnv(t)
	qd := e.peer("青岛市人民政府办公厅", PeerInProvince)
	ind := e.indicator("XL01", HigherBetter, "%", qd)
	audits := e.count("audit_log")
	for _, c := range []struct {
		subject, period string
		value           any
		field           string
	}{
		{"us", "2026-09", 90.0, "period"},               // a month for a quarterly indicator
		{"us", "2026-Q5", 90.0, "period"},               // no such quarter
		{"us", "2026-Q3", "九十", "value"},                // not a number
		{"us", "2026-Q3", nil, "value"},                 // missing
		{"peer:999", "2026-Q3", 90.0, "subject"},        // unknown peer
		{"unit:999", "2026-Q3", 90.0, "subject"},        // unknown unit
		{"somebody", "2026-Q3", 90.0, "subject"},        // malformed
		{"us", "2026-Q3", "95‰", "value"},               // a per-mille sign is no number
		{fmt.Sprintf("peer:%d", qd), "", 1.0, "period"}, // no period
	} {
		_, err := e.observe(ind.ID, c.subject, c.period, c.value)
		wantInvalid(t, err, c.field)
	}
	if _, err := e.s.SaveObservation(e.ctx, e.a, ObservationInput{IndicatorID: 999, Subject: "us", Period: "2026-Q3", Value: 1.0}); err == nil {
		t.Fatal("an unknown indicator was accepted")
	} else {
		wantInvalid(t, err, "indicator_id")
	}
	if n := e.count("observations"); n != 0 {
		t.Errorf("%d observations saved from bad input", n)
	}
	if n := e.count("audit_log"); n != audits {
		t.Errorf("bad input wrote %d audit records", n-audits)
	}
	// "95%" is 95 when the unit is %; a number in JSON is taken as is.
	o, err := e.observe(ind.ID, "us", "2026年第三季度", "95%")
	if err != nil || o.Value != 95 || o.Period != "2026-Q3" {
		t.Fatalf("95%% = %+v, %v", o, err)
	}
	// "95%" for an indicator not in % is refused.
	other := e.indicator("XL02", LowerBetter, "天", 0)
	_, err = e.observe(other.ID, "us", "2026-Q3", "95%")
	wantInvalid(t, err, "value")
}

func TestSecondValueReplacesAndKeepsHistory(t *testing.T) {
	e := newEnv(t)
	qd := e.peer("青岛", PeerInProvince)
	ind := e.indicator("XL01", HigherBetter, "%", qd)
	e.mustObserve(ind.ID, "us", "2026-Q3", 80.0)
	o, err := e.observe(ind.ID, "us", "2026-Q3", 85.5)
	if err != nil {
		t.Fatal(err)
	}
	if o.Value != 85.5 || len(o.History) != 1 || o.History[0].Value != 80 {
		t.Fatalf("replaced = %+v", o)
	}
	if n := e.count("observations"); n != 1 {
		t.Errorf("%d rows for one cell", n)
	}
	in, _ := e.s.Indicator(e.ctx, ind.ID)
	if in.LatestValue == nil || *in.LatestValue != 85.5 || in.LatestPeriod != "2026-Q3" {
		t.Errorf("latest = %v %s", in.LatestValue, in.LatestPeriod)
	}
}

func TestStagesMoveWithTheValuesAndTellTheOwnerUnit(t *testing.T) {
	e := newEnv(t)
	sz := e.peer("苏州", PeerOutOfProvince)
	qd := e.peer("青岛", PeerInProvince)
	ind := e.indicator("XL01", HigherBetter, "%", qd)
	if st := e.stage(ind.ID); st != StageSeek {
		t.Fatalf("new indicator at %s", st)
	}
	e.mustObserve(ind.ID, "us", "2026-Q1", 80.0)
	if st := e.stage(ind.ID); st != StageSeek {
		t.Fatalf("our value alone moved it to %s", st)
	}
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", qd), "2026-Q1", 88.0)
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", sz), "2026-Q1", 92.0)
	if st := e.stage(ind.ID); st != StageCompare {
		t.Fatalf("behind the chosen peer: %s", st)
	}
	if len(e.notes.got) != 1 || e.notes.got[0].To[0] != e.liaison || e.notes.got[0].Link != fmt.Sprintf("/benchmark/indicators/%d", ind.ID) {
		t.Fatalf("owner unit not told of seek → compare: %+v", e.notes.got)
	}
	e.mustObserve(ind.ID, "us", "2026-Q1", 89.0)
	if st := e.stage(ind.ID); st != StageAttain {
		t.Fatalf("past the chosen peer: %s", st)
	}
	e.mustObserve(ind.ID, "us", "2026-Q1", 93.0)
	e.mustObserve(ind.ID, "us", "2026-Q2", 94.0)
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", sz), "2026-Q2", 93.0)
	if st := e.stage(ind.ID); st != StageLead {
		t.Fatalf("best two quarters running: %s", st)
	}
	hist, err := e.s.Stages(e.ctx, ind.ID)
	if err != nil {
		t.Fatal(err)
	}
	var path []Stage
	for i := len(hist) - 1; i >= 0; i-- {
		path = append(path, hist[i].To)
	}
	if fmt.Sprint(path) != "[seek compare attain lead]" {
		t.Errorf("stage history = %v", path)
	}
	if len(e.notes.got) != 3 {
		t.Errorf("%d notices for 3 changes", len(e.notes.got))
	}
	// The metric counts the three advances for the owner unit.
	v, err := metricStageAdvances(e.ctx, e.d, metric.Period{Kind: metric.Month, Start: workday.DateOf(2026, 11, 1), End: workday.DateOf(2026, 11, 30), Today: workday.DateOf(2026, 11, 25)})
	if err != nil || v[e.unitA] != 3 {
		t.Errorf("stage advances = %v, %v", v, err)
	}
	os, err := e.s.OwnerStages(e.ctx)
	if err != nil || len(os) != 1 || os[0].UnitID != e.unitA || os[0].Stage != "lead" || os[0].Code != "XL01" {
		t.Errorf("owner stages = %+v, %v", os, err)
	}
}

func TestGapTableRanksEverySubject(t *testing.T) {
	e := newEnv(t)
	sz := e.peer("苏州", PeerOutOfProvince)
	qd := e.peer("青岛", PeerInProvince)
	ind := e.indicator("XL07", LowerBetter, "天", qd)
	e.mustObserve(ind.ID, "us", "2026-Q2", 10.0)
	e.mustObserve(ind.ID, "us", "2026-Q3", 9.0)
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", sz), "2026-Q3", 6.0)
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", qd), "2026-Q3", 8.0)
	e.mustObserve(ind.ID, fmt.Sprintf("unit:%d", e.unitA), "2026-Q3", 7.0)
	e.mustObserve(ind.ID, fmt.Sprintf("unit:%d", e.unitB), "2026-Q3", 5.0)
	g, err := e.s.Gap(e.ctx, ind.ID, "", "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	if g.Period != "2026-Q3" || len(g.Subjects) != 3 {
		t.Fatalf("gap = %+v", g)
	}
	us := g.Subjects[2]
	if !us.IsUs || us.Rank != 3 || us.Gap != 3 || us.GapPct != 50 || us.Name != "我办" || g.Subjects[0].Name != "苏州" {
		t.Errorf("rows = %+v", g.Subjects)
	}
	if len(g.Internal) != 2 || g.Internal[0].Name != "督查科" || g.Internal[0].Rank != 1 {
		t.Errorf("internal = %+v", g.Internal)
	}
	if g.Score == nil || *g.Score != 50 {
		t.Errorf("score = %v", g.Score)
	}
	if _, err := e.s.Gap(e.ctx, ind.ID, "2026-07", "zh-CN"); err == nil {
		t.Error("a month accepted for a quarterly indicator")
	} else {
		wantInvalid(t, err, "period")
	}
	// The rollups kept on write match a recompute from the whole history.
	before, _ := e.s.Indicator(e.ctx, ind.ID)
	if before.Rank != 3 || before.Of != 3 || *before.GapPct != 50 || before.BestSubject != fmt.Sprintf("peer:%d", sz) || before.BestUnit != fmt.Sprintf("unit:%d", e.unitB) {
		t.Errorf("rollups = %+v", before)
	}
	if _, err := e.d.ExecContext(e.ctx, `UPDATE indicators SET score = NULL, rank_us = 0, best_subject = ''`); err != nil {
		t.Fatal(err)
	}
	if n, err := e.s.RecomputeAll(e.ctx, e.a); err != nil || n != 1 {
		t.Fatalf("recompute = %d, %v", n, err)
	}
	after, _ := e.s.Indicator(e.ctx, ind.ID)
	if *after.Score != *before.Score || after.Rank != 3 || after.BestSubject != before.BestSubject {
		t.Errorf("recomputed rollups = %+v", after)
	}
	ov, err := e.s.Analyse(e.ctx, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	if ov.Index == nil || *ov.Index != 50 || ov.Stages[StageCompare] != 1 {
		t.Errorf("overview index = %v stages %v", ov.Index, ov.Stages)
	}
}

func TestTargetCreatesOneTaskPerStep(t *testing.T) {
	e := newEnv(t)
	qd := e.peer("青岛", PeerInProvince)
	ind := e.indicator("XL01", HigherBetter, "%", qd)
	e.mustObserve(ind.ID, "us", "2026-Q3", 80.0)
	tv := 90.0
	due := workday.DateOf(2027, 6, 30)
	tg, err := e.s.CreateTarget(e.ctx, e.a, NewTarget{IndicatorID: ind.ID, TargetValue: &tv, Due: due, PeerID: &qd, Path: []StepInput{
		{Title: "制定方案", Due: workday.DateOf(2027, 1, 15), LeadUnitID: e.unitA},
		{Title: "督查落实", Due: workday.DateOf(2027, 6, 15), LeadUnitID: e.unitB, OwnerID: e.personB},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Baseline != 80 || len(tg.TaskIDs) != 2 || e.count("tasks") != 2 || tg.Progress == nil || *tg.Progress != 0 {
		t.Fatalf("target = %+v", tg)
	}
	if c := e.tasks.calls[0]; c.LeadUnitID != e.unitA || c.OwnerID != e.personA || c.Due != workday.DateOf(2027, 1, 15) || c.Title != "制定方案" {
		t.Errorf("first task = %+v (owner should default to the unit's first person)", c)
	}
	if tg.Path[1].OwnerName != "李四" || tg.Path[1].UnitName != "督查科" {
		t.Errorf("path = %+v", tg.Path)
	}
	// Progress follows our value; reaching the target marks it attained.
	e.mustObserve(ind.ID, "us", "2026-Q4", 85.0)
	tg, _ = e.s.Target(e.ctx, tg.ID)
	if tg.Progress == nil || *tg.Progress != 50 || !tg.AttainedOn.IsZero() {
		t.Errorf("half way: %+v", tg)
	}
	e.mustObserve(ind.ID, "us", "2026-Q4", 91.0)
	tg, _ = e.s.Target(e.ctx, tg.ID)
	if tg.AttainedOn != workday.DateOf(2026, 11, 25) {
		t.Errorf("attained on = %s", tg.AttainedOn)
	}
}

func TestTargetBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	qd := e.peer("青岛", PeerInProvince)
	lower := e.indicator("XL07", LowerBetter, "天", qd)
	higher := e.indicator("XL01", HigherBetter, "%", qd)
	e.mustObserve(lower.ID, "us", "2026-Q3", 9.0)
	step := []StepInput{{Title: "方案", Due: workday.DateOf(2027, 1, 15), LeadUnitID: e.unitA}}
	f := func(v float64) *float64 { return &v }
	due := workday.DateOf(2027, 6, 30)
	for _, c := range []struct {
		in    NewTarget
		field string
	}{
		{NewTarget{IndicatorID: lower.ID, TargetValue: f(10), Due: due, Path: step}, "target_value"},                   // lower-better, above the baseline
		{NewTarget{IndicatorID: higher.ID, TargetValue: f(70), Baseline: f(80), Due: due, Path: step}, "target_value"}, // higher-better, below
		{NewTarget{IndicatorID: higher.ID, TargetValue: f(90), Due: due, Path: step}, "baseline"},                      // no value of ours and no baseline
		{NewTarget{IndicatorID: lower.ID, TargetValue: f(7), Due: due, Path: []StepInput{{Title: "晚了", Due: workday.DateOf(2027, 7, 1), LeadUnitID: e.unitA}}}, "path[0].due"},
		{NewTarget{IndicatorID: lower.ID, TargetValue: f(7), Due: due, Path: []StepInput{step[0], {Title: "", Due: due, LeadUnitID: e.unitA}}}, "path[1].title"},
		{NewTarget{IndicatorID: lower.ID, TargetValue: f(7), Due: due, Path: []StepInput{{Title: "x", Due: due, LeadUnitID: 999}}}, "path[0].lead_unit_id"},
		{NewTarget{IndicatorID: lower.ID, TargetValue: f(7), Due: due, Path: []StepInput{{Title: "x", Due: due, LeadUnitID: e.unitA, OwnerID: e.personB}}}, "path[0].owner_id"},
		{NewTarget{IndicatorID: lower.ID, TargetValue: f(7), Due: due}, "path"},
		{NewTarget{IndicatorID: lower.ID, Due: due, Path: step}, "target_value"},
		{NewTarget{IndicatorID: 999, TargetValue: f(7), Due: due, Path: step}, "indicator_id"},
	} {
		_, err := e.s.CreateTarget(e.ctx, e.a, c.in)
		wantInvalid(t, err, c.field)
	}
	if len(e.tasks.calls) != 0 || e.count("targets") != 0 || e.count("target_steps") != 0 {
		t.Errorf("bad targets left %d task calls, %d targets, %d steps", len(e.tasks.calls), e.count("targets"), e.count("target_steps"))
	}
	// A task that cannot be created at step 2 takes the whole target with it.
	e.tasks.failAt = 2
	_, err := e.s.CreateTarget(e.ctx, e.a, NewTarget{IndicatorID: lower.ID, TargetValue: f(7), Due: due, Path: []StepInput{step[0], step[0]}})
	wantInvalid(t, err, "path[1].owner_id")
	if e.count("targets") != 0 || e.count("target_steps") != 0 || e.count("tasks") != 0 {
		t.Errorf("a failed step left %d targets, %d steps, %d tasks", e.count("targets"), e.count("target_steps"), e.count("tasks"))
	}
}

func TestTargetsOnTimeMetric(t *testing.T) {
	e := newEnv(t)
	qd := e.peer("青岛", PeerInProvince)
	ind := e.indicator("XL01", HigherBetter, "%", qd)
	mk := func(due string, attained string) {
		var att any
		if attained != "" {
			att = attained
		}
		e.insert(`INSERT INTO targets (indicator_id, target_value, baseline, due_on, attained_on, created_at) VALUES (?, 90, 80, ?, ?, ?)`, ind.ID, due, att, time.Now().UTC())
	}
	mk("2026-10-10", "2026-10-01") // on time
	mk("2026-10-20", "2026-10-25") // late
	mk("2026-10-30", "")           // missed
	mk("2026-12-20", "")           // not due yet
	v, err := metricTargetsOnTime(e.ctx, e.d, metric.Period{Kind: metric.Year, Start: workday.DateOf(2026, 1, 1), End: workday.DateOf(2026, 12, 31), Today: workday.DateOf(2026, 11, 25)})
	if err != nil {
		t.Fatal(err)
	}
	if v[e.unitA] != 33.3 {
		t.Errorf("targets on time = %v, want 33.3 (1 of the 3 that fell due)", v)
	}
}

func TestMetricSourcedIndicatorsAreComputedAndFixed(t *testing.T) {
	e := newEnv(t)
	reg := metric.New(e.d, e.s.Now)
	calls := 0
	if err := reg.Register(metric.Metric{Code: "test.rate", Name: "率", NameEN: "rate", Direction: metric.HigherBetter,
		Compute: func(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
			calls++
			return metric.Values{e.unitA: 80, e.unitB: 90}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	e.s.Metrics = reg
	qd := e.peer("青岛", PeerInProvince)
	ind, err := e.s.CreateIndicator(e.ctx, e.a, NewIndicator{Code: "M1", Name: "按期办结率", Unit: "%", Direction: HigherBetter, Category: "效率提升", Frequency: Quarterly, Source: "test.rate"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.CreateIndicator(e.ctx, e.a, NewIndicator{Code: "M2", Name: "x", Direction: HigherBetter, Category: "效率提升", Frequency: Quarterly, Source: "no.such_metric"})
	wantInvalid(t, err, "source")
	// Our value is computed, not typed; a peer's is typed.
	_, err = e.observe(ind.ID, "us", "2026-Q3", 80.0)
	wantInvalid(t, err, "subject")
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", qd), "2026-Q3", 88.0)
	if err := e.d.InTx(e.ctx, func(tx *db.Tx) error { _, err := e.s.RefreshPass(e.ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	obs, err := e.s.Observations(e.ctx, ind.ID, "", "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Observation{}
	for _, o := range obs {
		got[o.Period+" "+o.Subject] = o
	}
	if o := got["2026-Q3 us"]; o.Value != 85 || !o.Fixed {
		t.Errorf("closed quarter, us = %+v (want the units' mean 85, fixed)", o)
	}
	if o := got["2026-Q4 us"]; o.Value != 85 || o.Fixed {
		t.Errorf("current quarter, us = %+v (want 85, not fixed)", o)
	}
	if st := e.stage(ind.ID); st != StageCompare {
		t.Errorf("stage = %s", st)
	}
	// A second pass leaves the fixed quarter alone.
	before := calls
	if err := e.d.InTx(e.ctx, func(tx *db.Tx) error { _, err := e.s.RefreshPass(e.ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	if calls-before != 1 {
		t.Errorf("second pass computed %d periods, want only the open one", calls-before)
	}
}

func xlsx(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rowErrors(t *testing.T, err error) []sheet.RowError {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Status != http.StatusUnprocessableEntity {
		t.Fatalf("err = %v, want a 422 with row errors", err)
	}
	re, _ := e.Details.([]sheet.RowError)
	return re
}

func TestImportObservationsWideLayout(t *testing.T) {
	e := newEnv(t)
	e.peer("苏州市人民政府办公室", PeerOutOfProvince)
	qd := e.peer("青岛市人民政府办公厅", PeerInProvince)
	a := e.indicator("XL01", HigherBetter, "%", qd)
	b := e.indicator("XL07", LowerBetter, "天", qd)
	// Columns are subjects; the period comes from the form.
	n, err := e.s.ImportObservations(e.ctx, e.a, xlsx(t, [][]any{
		{"指标编码", "指标名称", "我办", "苏州市人民政府办公室", "青岛市人民政府办公厅", "S05"},
		{"XL01", "x", "95%", "97.5%", 96, 90},
		{"XL07", "y", 9, 6, "", 8},
	}), ImportOptions{Period: "2026-Q3"})
	if err != nil || n != 7 {
		t.Fatalf("import = %d, %v", n, err)
	}
	g, _ := e.s.Gap(e.ctx, a.ID, "2026-Q3", "zh-CN")
	if len(g.Subjects) != 3 || g.Subjects[0].Value != 97.5 || g.Subjects[2].Value != 95 || len(g.Internal) != 1 {
		t.Errorf("imported gap = %+v / %+v", g.Subjects, g.Internal)
	}
	// Columns are periods; the subject comes from a 对象 column.
	n, err = e.s.ImportObservations(e.ctx, e.a, xlsx(t, [][]any{
		{"指标编码", "对象", "2026-Q1", "2026年第二季度"},
		{"XL07", "我办", 11, 10},
	}), ImportOptions{})
	if err != nil || n != 2 {
		t.Fatalf("period columns = %d, %v", n, err)
	}
	total := e.count("observations")
	// Any bad cell and nothing is imported; the errors name row and column.
	_, err = e.s.ImportObservations(e.ctx, e.a, xlsx(t, [][]any{
		{"指标编码", "我办", "青岛市人民政府办公厅"},
		{"XL01", 99, "很好"},
		{"XX99", 1, 2},
		{"XL07", "5%", 4},
	}), ImportOptions{Period: "2026-Q4"})
	re := rowErrors(t, err)
	want := map[string]bool{"2/青岛市人民政府办公厅": true, "3/指标编码": true, "4/我办": true}
	for _, r := range re {
		delete(want, fmt.Sprintf("%d/%s", r.Row, r.Column))
	}
	if len(re) != 3 || len(want) != 0 {
		t.Errorf("row errors = %+v; missing %v", re, want)
	}
	if e.count("observations") != total {
		t.Error("a bad import saved values")
	}
	// A period that does not fit the frequency, an unknown column.
	_, err = e.s.ImportObservations(e.ctx, e.a, xlsx(t, [][]any{{"指标编码", "我办"}, {"XL01", 1}}), ImportOptions{Period: "2026-07"})
	if re := rowErrors(t, err); len(re) != 1 || re[0].Row != 2 || re[0].Code != "invalid_period" {
		t.Errorf("month for quarterly = %+v", re)
	}
	_, err = e.s.ImportObservations(e.ctx, e.a, xlsx(t, [][]any{{"指标编码", "上海"}, {"XL01", 1}}), ImportOptions{Period: "2026-Q3"})
	if re := rowErrors(t, err); len(re) != 1 || re[0].Row != 1 || re[0].Column != "上海" {
		t.Errorf("unknown subject column = %+v", re)
	}
	if e.count("observations") != total {
		t.Error("a bad import saved values")
	}
	_ = b
}

func TestImportIndicatorLibrary(t *testing.T) {
	e := newEnv(t)
	n, err := e.s.ImportIndicators(e.ctx, e.a, xlsx(t, [][]any{
		{"指标编码", "指标名称", "计量单位", "方向", "类别", "频次", "数据来源", "责任单位", "权重"},
		{"XX01", "政务信息采用率", "%", "越高越好", "形象建设", "季度", "手工", "S04", 2},
		{"XL01", "公文流转时长", "天", "越低越好", "效率提升", "月", "", "督查科", ""},
	}))
	if err != nil || n != 2 {
		t.Fatalf("import = %d, %v", n, err)
	}
	list, _ := e.s.Indicators(e.ctx, "")
	by := map[string]*Indicator{}
	for _, in := range list {
		by[in.Code] = in
	}
	if x, l := by["XX01"], by["XL01"]; len(list) != 2 || x.Weight != 2 || *x.OwnerUnitID != e.unitA || l.Frequency != Monthly || l.Direction != LowerBetter || *l.OwnerUnitID != e.unitB {
		t.Errorf("imported = %+v", list)
	}
	// Bad rows: nothing imported, even the good one.
	_, err = e.s.ImportIndicators(e.ctx, e.a, xlsx(t, [][]any{
		{"指标编码", "指标名称", "方向", "类别", "频次"},
		{"ZF01", "会议精简率", "越高越好", "作风严实", "季度"},
		{"ZF02", "x", "更好", "作风严实", "季度"},
		{"ZF03", "y", "越高越好", "没有这类", "每周"},
	}))
	re := rowErrors(t, err)
	if len(re) != 3 || re[0].Row != 3 || re[0].Column != "方向" || re[1].Row != 4 || re[2].Row != 4 {
		t.Errorf("row errors = %+v", re)
	}
	if list, _ := e.s.Indicators(e.ctx, ""); len(list) != 2 {
		t.Errorf("%d indicators after a refused import", len(list))
	}
}

func TestPeerAndActivityValidation(t *testing.T) {
	e := newEnv(t)
	_, err := e.s.CreatePeer(e.ctx, e.a, NewPeer{Name: "x", Kind: "abroad"})
	wantInvalid(t, err, "kind")
	_, err = e.s.CreatePeer(e.ctx, e.a, NewPeer{Name: "x", Kind: PeerInternal})
	wantInvalid(t, err, "unit_id")
	id := e.peer("苏州", PeerOutOfProvince)
	if _, err := e.s.CreatePeer(e.ctx, e.a, NewPeer{Name: "苏州", Kind: PeerOutOfProvince}); err == nil {
		t.Error("a second peer of the same name")
	} else if ae, _ := apperr.As(err); ae.Status != http.StatusConflict {
		t.Errorf("duplicate = %v", err)
	}
	_, err = e.s.CreateActivity(e.ctx, e.a, NewActivity{Kind: ActivityVisit, Title: "考察"})
	wantInvalid(t, err, "held_on")
	bad := int64(999)
	_, err = e.s.CreateActivity(e.ctx, e.a, NewActivity{PeerID: &bad, Kind: ActivityVisit, Title: "考察", HeldOn: workday.DateOf(2026, 7, 16)})
	wantInvalid(t, err, "peer_id")
	act, err := e.s.CreateActivity(e.ctx, e.a, NewActivity{PeerID: &id, Kind: ActivitySecondment, Title: "跟班学习", HeldOn: workday.DateOf(2026, 7, 16), Report: "报告"})
	if err != nil || act.PeerName != "苏州" || act.Report != "报告" {
		t.Errorf("activity = %+v, %v", act, err)
	}
	_, err = e.s.CreateActivity(e.ctx, e.a, NewActivity{Kind: ActivityVisit, Title: "考察", HeldOn: workday.DateOf(2026, 9, 10)}, Upload{Name: "报告.exe", Data: []byte("MZ")})
	wantInvalid(t, err, "file")
	_, err = e.s.CreateActivity(e.ctx, e.a, NewActivity{Kind: ActivityVisit, Title: "考察", HeldOn: workday.DateOf(2026, 9, 10)}, Upload{Name: "报告.pdf", Data: make([]byte, MaxFileBytes+1)})
	wantInvalid(t, err, "file")
	act, err = e.s.CreateActivity(e.ctx, e.a, NewActivity{PeerID: &id, Kind: ActivityVisit, Title: "赴苏州考察", HeldOn: workday.DateOf(2026, 7, 16)},
		Upload{Name: `C:\报告\苏州考察报告.pdf`, Data: []byte("%PDF-1.4 report")})
	if err != nil || len(act.Files) != 1 || act.Files[0].Name != "苏州考察报告.pdf" {
		t.Fatalf("with a file: %+v, %v", act, err)
	}
	f, err := e.s.LearningFile(e.ctx, act.Files[0].ID)
	if err != nil || string(f.Data) != "%PDF-1.4 report" || f.ContentType != "application/pdf" {
		t.Errorf("file = %+v, %v", f, err)
	}
	if n := e.count("learning_activities"); n != 2 {
		t.Errorf("%d activities; refused files must not leave one", n)
	}
	if !errors.Is(nil, nil) {
		t.Fatal()
	}
}

func TestUpdateIndicatorRestagesAndGuardsTheFrequency(t *testing.T) {
	e := newEnv(t)
	sz := e.peer("苏州", PeerOutOfProvince)
	qd := e.peer("青岛", PeerInProvince)
	ind := e.indicator("XL01", HigherBetter, "%", qd)
	e.mustObserve(ind.ID, "us", "2026-Q3", 90.0)
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", qd), "2026-Q3", 88.0)
	e.mustObserve(ind.ID, fmt.Sprintf("peer:%d", sz), "2026-Q3", 95.0)
	if st := e.stage(ind.ID); st != StageAttain {
		t.Fatalf("past Qingdao: %s", st)
	}
	in := NewIndicator{Code: "XL01", Name: "按期办结率", Unit: "%", Direction: HigherBetter, Category: "效率提升", Frequency: Quarterly, PeerID: &sz, OwnerUnitID: &e.unitA}
	got, err := e.s.UpdateIndicator(e.ctx, e.a, ind.ID, in, true)
	if err != nil || got.Stage != StageCompare || got.Name != "按期办结率" {
		t.Fatalf("choosing Suzhou: %+v, %v", got, err)
	}
	in.Frequency = Monthly
	_, err = e.s.UpdateIndicator(e.ctx, e.a, ind.ID, in, true)
	wantInvalid(t, err, "frequency")
	in.Frequency, in.Direction = Quarterly, "sideways"
	_, err = e.s.UpdateIndicator(e.ctx, e.a, ind.ID, in, true)
	wantInvalid(t, err, "direction")
	if _, err := e.s.UpdateIndicator(e.ctx, e.a, 999, in, true); err == nil {
		t.Error("an unknown indicator was updated")
	}
}

func TestInternalBenchmarkingRanksUnitsOnSharedIndicators(t *testing.T) {
	e := newEnv(t)
	a := e.indicator("XL01", HigherBetter, "%", 0)
	b := e.indicator("XL07", LowerBetter, "天", 0)
	ua, ub := fmt.Sprintf("unit:%d", e.unitA), fmt.Sprintf("unit:%d", e.unitB)
	e.mustObserve(a.ID, "us", "2026-Q3", 90.0)
	e.mustObserve(a.ID, ua, "2026-Q3", 80.0)
	e.mustObserve(a.ID, ub, "2026-Q3", 100.0)
	e.mustObserve(b.ID, "us", "2026-Q3", 5.0)
	e.mustObserve(b.ID, ua, "2026-Q3", 4.0)
	e.mustObserve(b.ID, ub, "2026-Q3", 5.0)
	list, err := e.s.Internal(e.ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("internal = %+v, %v", list, err)
	}
	// 督查科: best on XL01 (100), 25 % behind on XL07 (75) → 87.5;
	// 综合科: 20 % behind on XL01 (80), best on XL07 (100) → 90.
	if list[0].Name != "综合科" || list[0].Score != 90 || list[0].Rank != 1 || list[0].Firsts != 1 || list[1].Score != 87.5 || list[1].Best[0] != "指标XL01" {
		t.Errorf("standings = %+v", list)
	}
}
