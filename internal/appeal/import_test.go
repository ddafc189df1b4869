package appeal_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

const importHeader = "工单编号,受理时间,类型,分类,诉求内容,区县,街道,电话,承办单位,办结时间,满意度\n"

func TestImportLoadsGoodRowsAndRejectsBadOnes(t *testing.T) {
	e := newEnv(t)
	body := importHeader +
		"H0001,2026-01-05 09:00,投诉,0201,东华街道垃圾无人清运,东城区,东华街道,13800001111,D01,2026-01-07 10:00,满意\n" +
		"H0002,2026-01-06 09:00,咨询,政策咨询,咨询人才补贴,,,,,,\n" +
		"H0003,2026-01-06 09:00,表扬,0201,x,东城区,,,,,\n" + // unknown kind
		"H0004,2026-01-06 09:00,投诉,9999,x,东城区,,,,,\n" + // unknown category
		"H0005,昨天,投诉,0201,x,东城区,,,,,\n" + // bad time
		"H0006,2026-01-06 09:00,投诉,0201,,东城区,,,,,\n" + // no content
		"H0001,2026-01-06 09:00,投诉,0201,重复编号,东城区,,,,,\n" + // duplicate number in the file
		"H0008,2026-01-06 09:00,投诉,0201,先办结后受理,东城区,,,D01,2026-01-01 09:00,\n" + // resolved before received
		"H0009,2026-01-06 09:00,投诉,0201,x,火星区,,12,X99,,\n" + // three problems
		"\n" + // blank: skipped
		",2026-01-08 09:00,求助,0301,南湖街道停水,南湖区,南湖街道,13900002222,D03,,\n"
	res, rej, err := e.svc.Import(e.ctx, e.center, "history.csv", strings.NewReader("\ufeff"+body), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 10 || res.Loaded != 3 || res.Rejected != 7 {
		t.Fatalf("rows %d loaded %d rejected %d: %+v", res.Rows, res.Loaded, res.Rejected, res.Rejects)
	}
	// The reject file lists each bad row with its reasons and the row as it was.
	recs, err := csv.NewReader(bytes.NewReader(rej)).ReadAll()
	if err != nil || len(recs) != 8 {
		t.Fatalf("reject file: %d records %v", len(recs), err)
	}
	want := map[string]string{"4": "类型", "5": "分类", "6": "受理时间", "7": "诉求内容", "8": "已存在", "9": "早于受理时间", "10": "区县"}
	for _, r := range recs[1:] {
		if !strings.Contains(r[1], want[r[0]]) {
			t.Errorf("row %s: reasons %q, want %q", r[0], r[1], want[r[0]])
		}
	}
	if !strings.Contains(recs[7][1], "电话") || !strings.Contains(recs[7][1], "承办单位") {
		t.Errorf("row 10 should name every problem: %q", recs[7][1])
	}
	// Loaded rows: archived history with its rollup, and an open dispatched order.
	items, total, err := e.svc.List(e.ctx, appeal.Filter{})
	if err != nil || total != 3 {
		t.Fatalf("list %d %v", total, err)
	}
	for _, a := range items {
		switch a.Number {
		case "H0001":
			if a.State != appeal.StateArchived || a.Satisfaction != appeal.Satisfied || a.Citizen.Phone != "138****1111" || a.Channel != appeal.ChannelImport {
				t.Errorf("H0001: %+v", a)
			}
		case "H0002":
			if a.State != appeal.StateReceived || a.CategoryCode != "1103" {
				t.Errorf("H0002: %s %s", a.State, a.CategoryCode)
			}
		default:
			if !strings.HasPrefix(a.Number, "20260108") || a.State != appeal.StateDispatched || a.UnitName != "单位D03" {
				t.Errorf("generated number: %s %s %s", a.Number, a.State, a.UnitName)
			}
		}
	}
	var rolled int
	e.d.QueryRowContext(e.ctx, `SELECT SUM(received) FROM appeal_rollup`).Scan(&rolled)
	if rolled != 3 {
		t.Fatalf("rollup counts %d", rolled)
	}
	// Importing the same file again loads nothing new: every number exists.
	res, _, err = e.svc.Import(e.ctx, e.center, "history.csv", strings.NewReader(body), false)
	if err != nil || res.Loaded != 1 { // only the row without a number
		t.Fatalf("re-import: %+v %v", res, err)
	}

	// A dry run loads nothing.
	res, _, err = e.svc.Import(e.ctx, e.center, "x.csv", strings.NewReader(importHeader+"H0100,2026-01-05 09:00,投诉,0201,x,东城区,,,,,\n"), true)
	if err != nil || res.Loaded != 0 || !res.DryRun {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	// A file without a required column is refused whole.
	if _, _, err := e.svc.Import(e.ctx, e.center, "x.csv", strings.NewReader("受理时间,分类\n2026-01-05,0201\n"), false); status(t, err) != http.StatusUnprocessableEntity {
		t.Fatalf("missing columns: %v", err)
	}
	if _, _, err := e.svc.Import(e.ctx, e.center, "x.txt", strings.NewReader(body), false); status(t, err) != http.StatusUnprocessableEntity {
		t.Fatal("other formats must be refused")
	}
	if _, _, err := e.svc.Import(e.ctx, e.unit("D01"), "x.csv", strings.NewReader(body), false); status(t, err) != http.StatusForbidden {
		t.Fatal("a unit cannot import")
	}
}

func TestImportXLSX(t *testing.T) {
	e := newEnv(t)
	f := excelize.NewFile()
	rows := [][]any{{"受理时间", "类型", "分类", "诉求内容", "区县"}, {"2026-02-02 08:30", "求助", "0102", "建国街道路面塌陷", "东城区"}, {"2026-02-02", "求助", "0102", "=HYPERLINK(\"x\")", "nowhere"}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", cell, &r)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	res, rej, err := e.svc.Import(e.ctx, e.center, "h.xlsx", &buf, false)
	if err != nil || res.Loaded != 1 || res.Rejected != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	// Formula-like cells go back as text.
	if !strings.Contains(string(rej), "'=HYPERLINK") {
		t.Fatalf("reject file: %s", rej)
	}
}

func TestMetricsPerUnit(t *testing.T) {
	e := newEnv(t)
	ms := e.svc.Metrics()
	if len(ms) != 8 {
		t.Fatalf("%d metrics", len(ms))
	}
	// Two orders to D01 on Tuesday: one accepted the same day, resolved on
	// time, satisfied; one accepted late (Thursday), extended, still open.
	a := e.create(appeal.NewAppeal{CitizenPhone: "13800000001"})
	b := e.create(appeal.NewAppeal{CitizenPhone: "13800000001"}) // a repeat caller
	for _, x := range []*appeal.Appeal{a, b} {
		e.must(e.svc.Dispatch(e.ctx, e.center, x.ID, e.units["D01"], ""))
	}
	e.must(e.svc.Accept(e.ctx, e.unit("D01"), a.ID))
	e.must(e.svc.Reply(e.ctx, e.unit("D01"), a.ID, "已处理"))
	e.must(e.svc.Review(e.ctx, e.center, a.ID, true, ""))
	e.must(e.svc.FollowUp(e.ctx, e.center, a.ID, appeal.Satisfied, true, ""))
	e.clock.SetDate("2026-03-12")
	e.must(e.svc.Accept(e.ctx, e.unit("D01"), b.ID))
	e.must(e.svc.Extend(e.ctx, e.unit("D01"), b.ID, 2, "协调中"))
	// A third order returned by D02.
	c := e.create(appeal.NewAppeal{})
	e.must(e.svc.Dispatch(e.ctx, e.center, c.ID, e.units["D02"], ""))
	e.must(e.svc.Return(e.ctx, e.unit("D02"), c.ID, "不属本区"))

	p := metric.MonthOf(workday.MustParseDate("2026-03-01"))
	p.Today = workday.MustParseDate("2026-03-12")
	got := map[string]metric.Values{}
	for _, m := range ms {
		v, err := m.Compute(e.ctx, e.d, p)
		if err != nil {
			t.Fatal(err)
		}
		got[m.Code] = v
	}
	d1, d2 := e.units["D01"], e.units["D02"]
	for code, want := range map[string]float64{
		appeal.MetricResponseRate: 50, appeal.MetricOnTimeRate: 100, appeal.MetricResolutionRate: 100, appeal.MetricSatisfactionRate: 100,
		appeal.MetricFollowUpRate: 100, appeal.MetricExtensionRate: 50, appeal.MetricRepeatRate: 50, appeal.MetricReturnRate: 0,
	} {
		if got[code][d1] != want {
			t.Errorf("%s for D01 = %v, want %v", code, got[code][d1], want)
		}
	}
	if got[appeal.MetricReturnRate][d2] != 100 {
		t.Errorf("return rate of D02 = %v", got[appeal.MetricReturnRate][d2])
	}
}
