package assess_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/biaogan/biaogan/internal/assess"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

func TestSchemeWeightsNotSumming100AreRefusedWithTheActualSum(t *testing.T) {
	e := newEnv(t)
	sc := scheme(2026)
	sc.Criteria[3].Weight = 30 // B: level-1 now sums to 90
	_, err := e.s.SaveScheme(e.ctx, e.supervisor(), sc)
	ae := wantErr(t, err, http.StatusUnprocessableEntity, "invalid_criteria")
	if !strings.Contains(ae.Message, "90") {
		t.Errorf("message %q does not state the actual sum 90", ae.Message)
	}
	// Level 2 not adding up to its parent.
	sc = scheme(2026)
	sc.Criteria[1].Weight = 25
	_, err = e.s.SaveScheme(e.ctx, e.supervisor(), sc)
	ae = wantErr(t, err, http.StatusUnprocessableEntity, "invalid_criteria")
	if !strings.Contains(ae.Message, "55") {
		t.Errorf("message %q does not state the actual sum 55", ae.Message)
	}
	if n := e.count("assess_schemes"); n != 0 {
		t.Fatalf("%d schemes saved after refusals", n)
	}
	// A metric nobody registered is refused too; a good one is stored.
	sc = scheme(2026)
	sc.Criteria[1].Metric = "nobody.here"
	wantErr(t, func() error { _, err := e.s.SaveScheme(e.ctx, e.supervisor(), sc); return err }(), http.StatusUnprocessableEntity, "")
	got, err := e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Criteria) != 6 || len(got.Leaves()) != 4 {
		t.Fatalf("stored %d criteria, %d leaves", len(got.Criteria), len(got.Leaves()))
	}
	// Only supervisors set schemes.
	_, err = e.s.SaveScheme(e.ctx, e.unit(0), scheme(2027))
	wantErr(t, err, http.StatusForbidden, "supervisor_only")
}

func TestRatingsOutOfScaleOrOfOnesOwnUnitAreRefused(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{-1, 100.5, math.NaN()} {
		_, err := e.s.Rate(e.ctx, e.leader(), assess.RatingInput{Year: 2026, Criterion: "B2", UnitID: e.units[1], Score: v})
		wantErr(t, err, http.StatusUnprocessableEntity, "invalid_score")
	}
	_, err := e.s.Rate(e.ctx, e.unit(0), assess.RatingInput{Year: 2026, Criterion: "B2", UnitID: e.units[0], Score: 90})
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_unit_id")
	_, err = e.s.Rate(e.ctx, e.leader(), assess.RatingInput{Year: 2026, Criterion: "A1", UnitID: e.units[0], Score: 90})
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_criterion")
	if n := e.count("assess_ratings"); n != 0 {
		t.Fatalf("%d ratings stored after refusals", n)
	}
	// A good one is stored with the rater's group; rating again replaces it.
	r, err := e.s.Rate(e.ctx, e.unit(0), assess.RatingInput{Year: 2026, Criterion: "B2", UnitID: e.units[1], Score: 80})
	if err != nil {
		t.Fatal(err)
	}
	if r.Group != "peers" {
		t.Errorf("group %q, want peers", r.Group)
	}
	if _, err := e.s.Rate(e.ctx, e.unit(0), assess.RatingInput{Year: 2026, Criterion: "B2", UnitID: e.units[1], Score: 85}); err != nil {
		t.Fatal(err)
	}
	rs, _ := e.s.Ratings(e.ctx, 2026)
	if len(rs) != 1 || rs[0].Score != 85 {
		t.Fatalf("ratings %+v, want one of 85", rs)
	}
}

func TestDeclarationAfterItsDeadlineIsRefused(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	d, err := e.s.Declare(e.ctx, e.unit(0), 2026, "A2", 25, "台账")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != assess.DeclSubmitted || d.Claimed != 25 {
		t.Fatalf("declaration %+v", d)
	}
	_, err = e.s.Declare(e.ctx, e.unit(1), 2026, "A2", 31, "台账")
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_claimed")
	_, err = e.s.Declare(e.ctx, e.unit(1), 2026, "A2", 20, " ")
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_evidence")
	e.clock.Set("2026-12-21", 9, 0)
	_, err = e.s.Declare(e.ctx, e.unit(1), 2026, "A2", 20, "台账")
	ae := wantErr(t, err, http.StatusUnprocessableEntity, "invalid_deadline")
	if !strings.Contains(ae.Message, "2026-12-20") {
		t.Errorf("message %q does not name the deadline", ae.Message)
	}
	// Nor may an existing one be changed after the deadline.
	_, err = e.s.Declare(e.ctx, e.unit(0), 2026, "A2", 30, "更多台账")
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_deadline")
	ds, _ := e.s.Declarations(e.ctx, 2026, 0)
	if len(ds) != 1 || ds[0].Claimed != 25 {
		t.Fatalf("declarations %+v, want the one of 25", ds)
	}
}

func TestTrimmedMeanDropsHighestAndLowestFromFive(t *testing.T) {
	if m, _ := assess.TrimmedMean([]float64{60, 70, 80, 90}); m != 75 {
		t.Errorf("4 ratings: %g, want the plain mean 75", m)
	}
	if m, _ := assess.TrimmedMean([]float64{10, 70, 80, 90, 100}); m != 80 {
		t.Errorf("5 ratings: %g, want 80 (10 and 100 dropped)", m)
	}
	if _, ok := assess.TrimmedMean(nil); ok {
		t.Error("no ratings gave a mean")
	}
}

func TestGradesKeepTheExcellentQuota(t *testing.T) {
	rs := make([]assess.Result, 10)
	for i := range rs {
		rs[i].Score = 99 - float64(i)
	}
	rs[1].Flagged = true
	assess.Grades(rs, 30)
	n := 0
	for _, r := range rs {
		if r.Grade == assess.GradeExcellent {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d excellent of 10 at 30%%, want 3", n)
	}
	if rs[1].Grade == assess.GradeExcellent {
		t.Error("a unit with a false declaration is excellent")
	}
	if rs[3].Grade != assess.GradeExcellent || rs[4].Grade != assess.GradeGood {
		t.Errorf("grades %s %s, want the quota filled in rank order", rs[3].Grade, rs[4].Grade)
	}
}

func TestSpotCheckSampleIsReproducibleFromItsSeed(t *testing.T) {
	ids := []int64{5, 3, 9, 1, 7, 11, 13, 2}
	a := assess.Sample(ids, 0.25, 42, 7)
	b := assess.Sample(ids, 0.25, 42, 7)
	if len(a) != 2 || len(b) != 2 || a[0] != b[0] || a[1] != b[1] {
		t.Fatalf("samples %v and %v from one seed differ (want 2 items)", a, b)
	}
	if s := assess.Sample([]int64{4, 8}, 0.01, 1, 1); len(s) != 1 {
		t.Errorf("small rate drew %v, want at least one", s)
	}
	e := newEnv(t)
	if _, err := e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := e.s.Declare(e.ctx, e.unit(i), 2026, "A2", 20, "台账"); err != nil {
			t.Fatal(err)
		}
	}
	x, err := e.s.DrawSpotCheck(e.ctx, e.supervisor(), 2026, 0.5, 777)
	if err != nil {
		t.Fatal(err)
	}
	y, err := e.s.DrawSpotCheck(e.ctx, e.supervisor(), 2026, 0.5, 777)
	if err != nil {
		t.Fatal(err)
	}
	if x.Seed != 777 || len(x.Items) != 3 || len(y.Items) != 3 {
		t.Fatalf("draws %+v / %+v: want the seed recorded and one declaration per declaring unit", x, y)
	}
	for i := range x.Items {
		if x.Items[i].RefID != y.Items[i].RefID || x.Items[i].UnitID != y.Items[i].UnitID {
			t.Fatalf("item %d differs between draws with one seed", i)
		}
	}
	_, err = e.s.DrawSpotCheck(e.ctx, e.supervisor(), 2026, 0, 1)
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_rate")
}

// The year-end score combines the metric rule, the reviewed declaration,
// the spot check, the trimmed ratings and capped adjustments, and the
// trace names each input.
func TestEvaluationCombinesTheThreeSourcesWithATrace(t *testing.T) {
	e := newEnv(t)
	e.values["2026"] = metric.Values{e.units[0]: 100, e.units[1]: 75, e.units[2]: 40}
	if _, err := e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	d0, _ := e.s.Declare(e.ctx, e.unit(0), 2026, "A2", 30, "台账")
	d1, _ := e.s.Declare(e.ctx, e.unit(1), 2026, "A2", 30, "台账")
	if _, err := e.s.ReviewDeclaration(e.ctx, e.supervisor(), d0.ID, nil, ""); err != nil {
		t.Fatal(err)
	}
	adj := 20.0
	if _, err := e.s.ReviewDeclaration(e.ctx, e.supervisor(), d1.ID, &adj, "部分成果不实"); err != nil {
		t.Fatal(err)
	}
	// Unit 0 rated by 5 leaders (trimmed) and by unit 1's head.
	for i, v := range []float64{10, 80, 80, 80, 100} {
		l := e.leader()
		l.UserID = int64(100 + i)
		if _, err := e.s.Rate(e.ctx, l, assess.RatingInput{Year: 2026, Criterion: "B2", UnitID: e.units[0], Score: v}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.s.Rate(e.ctx, e.unit(1), assess.RatingInput{Year: 2026, Criterion: "B2", UnitID: e.units[0], Score: 90}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []assess.AdjustmentInput{
		{Year: 2026, UnitID: e.units[0], Category: "province_first", Points: 2, Reason: "全省第一"},
		{Year: 2026, UnitID: e.units[0], Category: "commendation", Points: 2, Reason: "通报表扬"},
		{Year: 2026, UnitID: e.units[1], Category: "accountability", Points: 1, Reason: "问责"},
	} {
		if _, err := e.s.AddAdjustment(e.ctx, e.supervisor(), in); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.s.AddAdjustment(e.ctx, e.supervisor(), assess.AdjustmentInput{Year: 2026, UnitID: e.units[0], Category: "bribe", Points: 1, Reason: "x"})
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_category")

	ev, err := e.s.ComputeEvaluation(e.ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	byUnit := map[int64]assess.Result{}
	for _, r := range ev.Items {
		byUnit[r.UnitID] = r
	}
	u0 := byUnit[e.units[0]]
	// A1 30 (100 ≥ target) + A2 30 + B1 10 (nothing checked) + B2 30 × (0.6·80 + 0.4·90)/100 = 25.2 → 95.2; bonus 4 capped at 3.
	if u0.Base != 95.2 || u0.Bonus != 3 || u0.Score != 98.2 || u0.Rank != 1 {
		t.Fatalf("unit 0: %+v", u0)
	}
	u1 := byUnit[e.units[1]]
	// A1 30 × 0.5 = 15, A2 20 (adjusted), B1 10, B2 none → 45; deduction 1.
	if u1.Base != 45 || u1.Deduction != 1 || u1.Score != 44 {
		t.Fatalf("unit 1: %+v", u1)
	}
	trace, _ := json.Marshal(u0.Trace)
	for _, want := range []string{"test.rate = 100", "declaration #", "leaders: 5 ratings, trimmed mean 80.00, highest and lowest dropped", "province_first", "capped at 3"} {
		if !strings.Contains(string(trace), want) {
			t.Errorf("trace lacks %q: %s", want, trace)
		}
	}
	if u0.Grade != assess.GradeExcellent || byUnit[e.units[2]].Grade != assess.GradePoor {
		t.Errorf("grades %s / %s", u0.Grade, byUnit[e.units[2]].Grade)
	}
}

// A false declaration found by the spot check scores nothing, deducts by
// rule and flags the unit.
func TestFalseDeclarationDeductsAndFlags(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	d, _ := e.s.Declare(e.ctx, e.unit(0), 2026, "A2", 30, "台账")
	if _, err := e.s.ReviewDeclaration(e.ctx, e.supervisor(), d.ID, nil, ""); err != nil {
		t.Fatal(err)
	}
	sc, err := e.s.DrawSpotCheck(e.ctx, e.supervisor(), 2026, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Items) != 1 || sc.Items[0].RefID != d.ID {
		t.Fatalf("items %+v", sc.Items)
	}
	if _, err := e.s.CheckItem(e.ctx, e.supervisor(), sc.Items[0].ID, "maybe", ""); err == nil {
		t.Fatal("verdict maybe accepted")
	}
	if _, err := e.s.CheckItem(e.ctx, e.supervisor(), sc.Items[0].ID, "false", "与台账不符"); err != nil {
		t.Fatal(err)
	}
	ev, _ := e.s.ComputeEvaluation(e.ctx, 2026)
	for _, r := range ev.Items {
		if r.UnitID != e.units[0] {
			continue
		}
		// A1 no data 30 + A2 0 + B1 0 (1 false of 1) + B2 0; deduction 2.
		if !r.Flagged || r.Base != 30 || r.Deduction != 2 || r.Grade == assess.GradeExcellent {
			t.Fatalf("result %+v", r)
		}
	}
}

func TestPublishingFreezesASnapshotAndCorrectionsNeedAReason(t *testing.T) {
	e := newEnv(t)
	e.values["2026-09"] = metric.Values{e.units[0]: 90, e.units[1]: 80, e.units[2]: 70, e.units[3]: 60}
	e.values["2026-10"] = metric.Values{e.units[0]: 50, e.units[1]: 80, e.units[2]: 95, e.units[3]: 60}
	if _, err := e.s.Publish(e.ctx, e.supervisor(), "2026-09", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Publish(e.ctx, e.supervisor(), "2026-10", ""); err != nil {
		t.Fatal(err)
	}
	sc, err := e.s.ShowcaseOf(e.ctx, "2026-10", false)
	if err != nil {
		t.Fatal(err)
	}
	first := sc.Items[0]
	if first.UnitID != e.units[2] || first.Rank != 1 || first.Movement == nil || *first.Movement != 2 || first.List != assess.ListHonour {
		t.Fatalf("first %+v: want unit C up 2 on the honour roll", first)
	}
	last := sc.Items[3]
	if last.UnitID != e.units[0] || *last.Movement != -3 || last.List != assess.ListWatch {
		t.Fatalf("last %+v: want unit A down 3 on the watch list", last)
	}
	// Later data changes leave the published month alone.
	e.values["2026-10"] = metric.Values{e.units[0]: 100}
	again, _ := e.s.ShowcaseOf(e.ctx, "2026-10", false)
	if again.Items[0].UnitID != e.units[2] || again.Items[0].Score != 95 {
		t.Fatalf("published showcase changed with the data: %+v", again.Items[0])
	}
	// A correction needs a reason, then takes the new data, audited.
	_, err = e.s.Publish(e.ctx, e.supervisor(), "2026-10", "  ")
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_reason")
	p, err := e.s.Publish(e.ctx, e.supervisor(), "2026-10", "更正 A 科数据")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 {
		t.Fatalf("version %d after a correction", p.Version)
	}
	var n int
	e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'assess.republish' AND summary LIKE ?`, "%更正 A 科数据%").Scan(&n)
	if n != 1 {
		t.Fatalf("%d audit records of the re-publication", n)
	}
	// Viewers never see a month not published; a future one cannot be published.
	_, err = e.s.ShowcaseOf(e.ctx, "2026-11", false)
	wantErr(t, err, http.StatusNotFound, "not_published")
	_, err = e.s.Publish(e.ctx, e.supervisor(), "2026-12", "")
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_period")
	_, err = e.s.Publish(e.ctx, e.supervisor(), "2026-13", "")
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_period")
}

func TestPublishingWithOpenObjectionsIsRefused(t *testing.T) {
	e := newEnv(t)
	e.values["2026-10"] = metric.Values{e.units[0]: 90}
	if _, err := e.s.Publish(e.ctx, e.supervisor(), "2026-10", ""); err != nil {
		t.Fatal(err)
	}
	o, err := e.s.Object(e.ctx, e.unit(0), "2026-10", "本科室 10 月办结数据有误")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.Publish(e.ctx, e.supervisor(), "2026-10", "更正")
	wantErr(t, err, http.StatusConflict, "open_objections")
	p, _ := e.s.Period(e.ctx, "2026-10")
	if p.Version != 1 || e.count("assess_snapshots") != 1 {
		t.Fatalf("refused publication changed something: version %d", p.Version)
	}
	if _, err := e.s.Answer(e.ctx, e.supervisor(), o.ID, "已核实并更正"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Publish(e.ctx, e.supervisor(), "2026-10", "更正"); err != nil {
		t.Fatal(err)
	}
	// Objections close N working days after publication (5 by default).
	e.clock.Set("2026-12-03", 9, 0)
	_, err = e.s.Object(e.ctx, e.unit(1), "2026-10", "迟到的异议")
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_period")
}

// After the leader signs the year off, nothing that feeds it can change and
// the published result stays as it was.
func TestSignedOffResultIsImmutable(t *testing.T) {
	e := newEnv(t)
	e.values["2026"] = metric.Values{e.units[0]: 90, e.units[1]: 70}
	if _, err := e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	d, _ := e.s.Declare(e.ctx, e.unit(0), 2026, "A2", 28, "台账")
	_, err := e.s.SignOff(e.ctx, e.leader(), 2026)
	wantErr(t, err, http.StatusConflict, "not_published")
	if _, err := e.s.Publish(e.ctx, e.supervisor(), "2026", ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.SignOff(e.ctx, e.supervisor(), 2026)
	wantErr(t, err, http.StatusForbidden, "leader_only")
	if _, err := e.s.SignOff(e.ctx, e.leader(), 2026); err != nil {
		t.Fatal(err)
	}
	before, _ := e.s.EvaluationOf(e.ctx, 2026, false)
	tables := []string{"assess_ratings", "assess_adjustments", "assess_declarations", "assess_spot_checks", "assess_snapshots", "assess_objections"}
	counts := map[string]int{}
	for _, tb := range tables {
		counts[tb] = e.count(tb)
	}
	signed := func(err error) {
		t.Helper()
		wantErr(t, err, http.StatusConflict, "result_signed_off")
	}
	_, err = e.s.Rate(e.ctx, e.leader(), assess.RatingInput{Year: 2026, Criterion: "B2", UnitID: e.units[1], Score: 99})
	signed(err)
	sc99 := 30.0
	_, err = e.s.ReviewDeclaration(e.ctx, e.supervisor(), d.ID, &sc99, "")
	signed(err)
	_, err = e.s.Declare(e.ctx, e.unit(1), 2026, "A2", 30, "台账")
	signed(err)
	_, err = e.s.AddAdjustment(e.ctx, e.supervisor(), assess.AdjustmentInput{Year: 2026, UnitID: e.units[1], Category: "commendation", Points: 1, Reason: "x"})
	signed(err)
	_, err = e.s.DrawSpotCheck(e.ctx, e.supervisor(), 2026, 0.5, 1)
	signed(err)
	_, err = e.s.Publish(e.ctx, e.supervisor(), "2026", "重算")
	signed(err)
	_, err = e.s.SaveScheme(e.ctx, e.supervisor(), scheme(2026))
	signed(err)
	_, err = e.s.Object(e.ctx, e.unit(1), "2026", "异议")
	signed(err)
	_, err = e.s.SignOff(e.ctx, e.leader(), 2026)
	signed(err)
	for _, tb := range tables {
		if n := e.count(tb); n != counts[tb] {
			t.Errorf("%s: %d rows, was %d", tb, n, counts[tb])
		}
	}
	e.values["2026"] = metric.Values{e.units[0]: 10}
	after, _ := e.s.EvaluationOf(e.ctx, 2026, false)
	a, _ := json.Marshal(after.Items)
	b, _ := json.Marshal(before.Items)
	if string(a) != string(b) || !after.SignedOff {
		t.Fatal("the signed-off evaluation changed")
	}
}

func TestDailyReportPullsInTaskReportsAndRemindsTheLate(t *testing.T) {
	e := newEnv(t)
	pct := 60
	e.s.Reports = fakeReports{e.units[0]: {{TaskID: 7, Title: "修订公文处理办法", Percent: &pct, Text: "完成初稿"}}}
	e.clock.Set("2026-11-25", 16, 0) // a Wednesday, before 17:30
	_, err := e.s.FileDaily(e.ctx, e.unit(0), assess.DailyInput{Done: " "})
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_done")
	_, err = e.s.FileDaily(e.ctx, e.unit(0), assess.DailyInput{Day: workday.MustParseDate("2026-11-26"), Done: "x"})
	wantErr(t, err, http.StatusUnprocessableEntity, "invalid_day")
	_, err = e.s.FileDaily(e.ctx, e.supervisor(), assess.DailyInput{Done: "x"})
	wantErr(t, err, http.StatusForbidden, "unit_only")
	if n := e.count("assess_daily_reports"); n != 0 {
		t.Fatalf("%d reports after refusals", n)
	}
	r, err := e.s.FileDaily(e.ctx, e.unit(0), assess.DailyInput{Done: "审核材料 3 件", Tomorrow: "会议筹备"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OnTime || len(r.TaskLines) != 1 || r.TaskLines[0].TaskID != 7 {
		t.Fatalf("report %+v: want on time with the task report pulled in", r)
	}
	// A correction the same day keeps one report.
	e.clock.Set("2026-11-25", 18, 0)
	r2, err := e.s.FileDaily(e.ctx, e.unit(0), assess.DailyInput{Done: "审核材料 4 件"})
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID != r.ID || !r2.OnTime || r2.Done != "审核材料 4 件" || e.count("assess_daily_reports") != 1 {
		t.Fatalf("correction %+v", r2)
	}
	// Unit B files late.
	late, err := e.s.FileDaily(e.ctx, e.unit(1), assess.DailyInput{Done: "迟报"})
	if err != nil || late.OnTime {
		t.Fatalf("late report %+v, %v", late, err)
	}
	// Reminders: users of C and D (liaisons) get one each, once.
	now := e.clock.Now().UTC()
	for i, u := range []int64{e.units[2], e.units[3]} {
		id, err := dbInsertUser(e, u, i)
		if err != nil {
			t.Fatal(err)
		}
		_ = id
	}
	_ = now
	var sent int
	err = e.d.InTx(e.ctx, func(tx *dbTx) error { var err error; sent, err = e.s.RemindPass(e.ctx, tx); return err })
	if err != nil {
		t.Fatal(err)
	}
	if sent != 2 || len(e.notes.sent) != 2 {
		t.Fatalf("reminded %d units, %d notices; want C and D", sent, len(e.notes.sent))
	}
	err = e.d.InTx(e.ctx, func(tx *dbTx) error { var err error; sent, err = e.s.RemindPass(e.ctx, tx); return err })
	if err != nil || sent != 0 {
		t.Fatalf("second pass reminded %d (%v)", sent, err)
	}
	// Punctuality: A 1 of 1 working day, B 0.
	v, err := e.s.Metrics.Compute(e.ctx, assess.MetricDailyPunctuality, metric.DayOf(workday.MustParseDate("2026-11-25")))
	if err != nil {
		t.Fatal(err)
	}
	if v[e.units[0]] != 100 || v[e.units[1]] != 0 {
		t.Fatalf("punctuality %v", v)
	}
	dg, err := e.s.MakeDigest(e.ctx, e.units[0], "week", workday.MustParseDate("2026-11-25"))
	if err != nil {
		t.Fatal(err)
	}
	if dg.Filed != 1 || dg.Workdays != 3 || len(dg.Missing) != 2 {
		t.Fatalf("digest %+v: want 1 of 3 working days (Mon–Wed)", dg)
	}
}

// The demo loads on an office: last year signed off, this year's months
// published up to last month, the first half year's exhibition.
func TestDemoLoads(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.SaveSettings(e.ctx, assess.SystemActor("test"), assess.DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Metrics.Register(metric.Metric{Code: "supervise.on_time_rate", Name: "按期办结率", NameEN: "On-time rate", Direction: metric.HigherBetter,
		Compute: func(context.Context, db.Querier, metric.Period) (metric.Values, error) {
			return metric.Values{e.units[0]: 100}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.LoadDemo(e.ctx, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ev, err := e.s.EvaluationOf(e.ctx, 2025, false)
	if err != nil || !ev.SignedOff || len(ev.Items) != 4 {
		t.Fatalf("2025: %+v, %v", ev, err)
	}
	for m := 1; m <= 10; m++ {
		key := fmt.Sprintf("2026-%02d", m)
		if p, _ := e.s.Period(e.ctx, key); !p.Published() {
			t.Errorf("%s not published", key)
		}
	}
	if p, _ := e.s.Period(e.ctx, "2026-11"); p.Published() {
		t.Error("the current month is published")
	}
	if _, err := e.s.ExhibitionOf(e.ctx, "2026-H1", false); err != nil {
		t.Errorf("2026-H1: %v", err)
	}
	if _, err := e.s.Scheme(e.ctx, 2026); err != nil {
		t.Errorf("2026 scheme: %v", err)
	}
}

func TestWeeklyDigestGoesOutOnceOnMonday(t *testing.T) {
	e := newEnv(t)
	if _, err := dbInsertUser(e, e.units[0], 0); err != nil {
		t.Fatal(err)
	}
	e.clock.Set("2026-11-20", 9, 0) // Friday
	if _, err := e.s.FileDaily(e.ctx, e.unit(0), assess.DailyInput{Done: "周五工作"}); err != nil {
		t.Fatal(err)
	}
	pass := func() int {
		var n int
		if err := e.d.InTx(e.ctx, func(tx *dbTx) (err error) { n, err = e.s.DigestPass(e.ctx, tx); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pass(); n != 0 {
		t.Fatalf("a Friday sent %d digests", n)
	}
	e.clock.Set("2026-11-23", 8, 0) // Monday
	if n := pass(); n != 1 || len(e.notes.sent) != 1 {
		t.Fatalf("Monday: %d digests, %d notices; want the one unit with members", n, len(e.notes.sent))
	}
	body := e.notes.sent[0].Body[0]
	if !strings.Contains(body, "5 个工作日，报送 1 次，按时 1 次") || !strings.Contains(e.notes.sent[0].Link, "kind=week&date=2026-11-16") {
		t.Fatalf("digest %q → %s", body, e.notes.sent[0].Link)
	}
	if n := pass(); n != 0 {
		t.Fatalf("the digest went out again: %d", n)
	}
}

func TestConcurrentPublicationsHaveOneWinner(t *testing.T) {
	e := newEnv(t)
	e.values["2026-10"] = metric.Values{e.units[0]: 90}
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := e.s.Publish(e.ctx, e.supervisor(), "2026-10", ""); errs <- err }()
	}
	ok := 0
	for range 2 {
		if err := <-errs; err == nil {
			ok++
		} else if ae, isApp := asAppErr(err); !isApp || ae.Status >= 500 {
			t.Fatalf("the loser got %v", err)
		}
	}
	p, _ := e.s.Period(e.ctx, "2026-10")
	if ok != 1 || p.Version != 1 || e.count("assess_snapshots") != 1 {
		t.Fatalf("%d winners, version %d, %d snapshots", ok, p.Version, e.count("assess_snapshots"))
	}
}
