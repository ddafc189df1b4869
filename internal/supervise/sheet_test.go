package supervise_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

var planHeader = []any{"序号", "领域", "任务", "技术指标", "责任单位", "配合单位", "责任人", "开始时间", "完成时限", "时间节点"}

func planBook(t *testing.T, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// registerSheets adds the Excel routes to the env's server.
func (e *env) registerSheets() {
	e.t.Helper()
	if err := e.svc.RegisterSheets(e.ws); err != nil {
		e.t.Fatal(err)
	}
}

// upload posts file as the multipart part "file".
func (e *env) upload(path, user string, file []byte) response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("file", "plan.xlsx")
	w.Write(file)
	mw.Close()
	return e.request("POST", path, user, body.String(), "Content-Type", mw.FormDataContentType())
}

func TestImportPlan(t *testing.T) {
	e := newEnv(t)
	e.clock.SetDate("2026-03-02")
	file := planBook(t, planHeader,
		[]any{"1", "应急管理", "完善应急预案体系", "预案覆盖率 100%", "督查科", "信息科、市政府办公室", "张三", "2026-03-02", "2026年6月底",
			"2026-03-31 完成方案；2026-05-15 专家评审\n6月20日前印发"},
		[]any{"1.1", "emergency", "修订总体预案", "", "UNIT_A", "", "张三", "2026/3/5", "2026.5.31", "完成初稿（4月10日前）"},
		[]any{"1.2", "应急管理", "开展应急演练", "演练 2 次", "督查科", "unit_b；office", "张三", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), "2026-06-15", ""},
		[]any{"", "", "", "", "", "", "", "", "", ""},
		[]any{"二", "Government information", "政务信息报送提质", "", "信息科", "", "李四", "", "20261130", "1. 2026年9月 中期评估"},
	)
	res, err := e.svc.ImportPlan(e.ctx, e.supervisor(), bytes.NewReader(file))
	if err != nil {
		t.Fatalf("import: %v %+v", err, res.Errors)
	}
	if res.Created != 4 || len(res.TaskIDs) != 4 || res.State != supervise.StateDraft {
		t.Fatalf("result %+v", res)
	}
	tasks := make([]*supervise.Task, 4)
	for i, id := range res.TaskIDs {
		tasks[i] = e.task(id)
		if tasks[i].State != supervise.StateDraft || tasks[i].Source != supervise.SourcePlan {
			t.Fatalf("task %d: %s %s", id, tasks[i].State, tasks[i].Source)
		}
	}
	top, sub1, sub2, info := tasks[0], tasks[1], tasks[2], tasks[3]
	if top.Title != "完善应急预案体系" || top.Area != "emergency" || top.LeadUnitID != e.unitA || top.OwnerID != e.ownerA || top.Acceptance != "预案覆盖率 100%" {
		t.Fatalf("top %+v", top)
	}
	if !slices.Equal(top.CoUnitIDs, []int64{e.office, e.unitB}) && !slices.Equal(top.CoUnitIDs, []int64{e.unitB, e.office}) {
		t.Errorf("co-units %v", top.CoUnitIDs)
	}
	if top.Start.String() != "2026-03-02" || top.Due.String() != "2026-06-30" {
		t.Errorf("dates %s %s", top.Start, top.Due)
	}
	var ms []string
	for _, m := range top.Milestones {
		ms = append(ms, m.Due.String()+" "+m.Name)
	}
	if strings.Join(ms, "|") != "2026-03-31 完成方案|2026-05-15 专家评审|2026-06-20 印发" {
		t.Errorf("milestones %q", ms)
	}
	if sub1.ParentID == nil || *sub1.ParentID != top.ID || sub2.ParentID == nil || *sub2.ParentID != top.ID || info.ParentID != nil {
		t.Errorf("parents: %v %v %v", sub1.ParentID, sub2.ParentID, info.ParentID)
	}
	if sub1.Start.String() != "2026-03-05" || sub1.Due.String() != "2026-05-31" || len(sub1.Milestones) != 1 || sub1.Milestones[0].Name != "完成初稿" || sub1.Milestones[0].Due.String() != "2026-04-10" {
		t.Errorf("sub1 %s %s %+v", sub1.Start, sub1.Due, sub1.Milestones)
	}
	if sub2.Start.String() != "2026-03-10" || len(sub2.CoUnitIDs) != 2 {
		t.Errorf("sub2 start %s co %v", sub2.Start, sub2.CoUnitIDs)
	}
	// A blank start is the day of the import; a month-only milestone is the
	// month's end.
	if info.Area != "gov_info" || info.Start.String() != "2026-03-02" || info.Due.String() != "2026-11-30" ||
		len(info.Milestones) != 1 || info.Milestones[0].Due.String() != "2026-09-30" || info.Milestones[0].Name != "中期评估" {
		t.Errorf("info %s %s %s %+v", info.Area, info.Start, info.Due, info.Milestones)
	}
	var rec struct{ Action, Summary string }
	if err := e.d.QueryRowContext(e.ctx, `SELECT action, summary FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&rec.Action, &rec.Summary); err != nil {
		t.Fatal(err)
	}
	if rec.Action != "task.import" || !strings.Contains(rec.Summary, "4 draft tasks") {
		t.Errorf("audit %+v", rec)
	}
	d, err := e.svc.Detail(e.ctx, top.ID, "zh-CN")
	if err != nil || len(d.Events) < 3 || d.Events[0].Kind != "create" || d.Events[0].Actor != "sup" {
		t.Fatalf("timeline %+v %v", d, err)
	}
}

type rowCol struct {
	Row          int
	Column, Code string
}

func TestImportPlanReportsEveryProblemAndSavesNothing(t *testing.T) {
	e := newEnv(t)
	e.clock.SetDate("2026-03-02")
	before := e.count("tasks")
	file := planBook(t, planHeader,
		[]any{"1", "应急管理", "好的一行", "", "督查科", "", "张三", "2026-03-02", "2026-06-30", ""},
		[]any{"2", "不存在的领域", "任务二", "", "不存在的科", "信息科、外星办", "张三", "明天", "2026-02-30", ""},
		[]any{"3", "应急管理", "", "", "督查科", "督查科", "李四", "2026-06-01", "2026-05-01", ""},
		[]any{"4", "应急管理", "节点有误", "", "督查科", "", "张三", "2026-03-02", "2026-06-30", "完成方案；2026-08-01 验收；2026-04-01"},
		[]any{"1.1", "应急管理", "晚于上级", "", "督查科", "", "张三", "2026-03-02", "2026-07-31", ""},
		[]any{"4", "应急管理", "序号重复", "", "督查科", "", "张三、王五", "2026-03-02", "2026-06-30", ""},
	)
	res, err := e.svc.ImportPlan(e.ctx, e.supervisor(), bytes.NewReader(file))
	ae, ok := apperr.As(err)
	if !ok || ae.Status != http.StatusUnprocessableEntity || ae.Code != "import_invalid" {
		t.Fatalf("error %v", err)
	}
	var got []rowCol
	for _, re := range res.Errors {
		got = append(got, rowCol{re.Row, re.Column, re.Code})
		if re.Message == "" || !strings.Contains(re.Message, " / ") {
			t.Errorf("row %d %s: message %q", re.Row, re.Column, re.Message)
		}
	}
	want := []rowCol{
		{3, "领域", "unknown_area"},
		{3, "责任单位", "unknown_unit"},
		{3, "配合单位", "unknown_unit"},
		{3, "开始时间", "invalid_date"},
		{3, "完成时限", "invalid_date"},
		{4, "任务", "invalid_title"},
		{4, "责任人", "unknown_owner"}, // 李四 is in 信息科, not 督查科
		{5, "时间节点", "invalid_milestones"},
		{5, "时间节点", "invalid_milestones"},
		{6, "完成时限", "invalid_due"},
		{7, "序号", "duplicate_seq"},
		{7, "责任人", "invalid_owner_id"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors\n got %v\nwant %v\n%+v", got, want, res.Errors)
	}
	if !strings.Contains(res.Errors[0].Message, "应急管理") {
		t.Errorf("unknown area message lists no choices: %s", res.Errors[0].Message)
	}
	if e.count("tasks") != before || res.Created != 0 || len(res.TaskIDs) != 0 {
		t.Fatal("a refused import saved something")
	}
	// Due before start and the co-unit that is the lead unit come from the
	// service's own checks once the rest of the row is good.
	file = planBook(t, planHeader,
		[]any{"", "应急管理", "时限早于开始", "", "督查科", "", "张三", "2026-06-01", "2026-05-01", ""},
		[]any{"", "应急管理", "配合单位重复", "", "督查科", "督查科", "张三", "2026-03-02", "2026-05-01", ""},
		[]any{"", "应急管理", "节点晚于时限", "", "督查科", "", "张三", "2026-03-02", "2026-05-01", "2026-05-20 验收"},
	)
	res, _ = e.svc.ImportPlan(e.ctx, e.supervisor(), bytes.NewReader(file))
	got = nil
	for _, re := range res.Errors {
		got = append(got, rowCol{re.Row, re.Column, re.Code})
	}
	want = []rowCol{{2, "完成时限", "invalid_due"}, {3, "配合单位", "invalid_co_unit_ids"}, {4, "时间节点", "invalid_milestones_due"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("service checks\n got %v\nwant %v", got, want)
	}
	if e.count("tasks") != before {
		t.Fatal("saved")
	}
	// Missing columns are named.
	_, err = e.svc.ImportPlan(e.ctx, e.supervisor(), bytes.NewReader(planBook(t, []any{"序号", "任务"}, []any{"1", "x"})))
	if ae, ok := apperr.As(err); !ok || ae.Code != "import_invalid" || len(ae.Details.([]sheet.RowError)) != 4 {
		t.Fatalf("missing columns: %v", err)
	}
	// Only a supervisor imports.
	if _, err := e.svc.ImportPlan(e.ctx, e.liaison(e.unitA), bytes.NewReader(file)); err == nil {
		t.Fatal("a liaison imported a plan")
	}
}

func TestImportPlanOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.registerSheets()
	e.clock.SetDate("2026-03-02")

	// The template downloads, fills in and imports.
	r := e.request("GET", "/tasks/template.xlsx", "sup", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != sheet.ContentType {
		t.Fatalf("template: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	header, _ := f.GetRows("任务分解表")
	if len(header) != 1 || fmt.Sprint(header[0]) != fmt.Sprint(planHeader) {
		t.Fatalf("template header %v", header)
	}
	row := []any{"1", "应急管理", "模板导入", "", "督查科", "", "张三", "2026-03-02", "2026-04-30", ""}
	if err := f.SetSheetRow("任务分解表", "A2", &row); err != nil {
		t.Fatal(err)
	}
	var filled bytes.Buffer
	f.Write(&filled)
	f.Close()

	r = e.upload("/api/v1/tasks/import", "sup", filled.Bytes())
	var res supervise.PlanResult
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &res) != nil || res.Created != 1 || res.State != "draft" {
		t.Fatalf("API import: %d %s", r.Status, r.Body)
	}
	bad := planBook(t, planHeader, []any{"1", "应急管理", "坏行", "", "无此单位", "", "张三", "2026-03-02", "2026-04-30", ""})
	r = e.upload("/api/v1/tasks/import", "sup", bad)
	var ae struct {
		Error struct {
			Code    string
			Details []sheet.RowError
		}
	}
	if r.Status != http.StatusUnprocessableEntity || json.Unmarshal(r.Body, &ae) != nil || ae.Error.Code != "import_invalid" ||
		len(ae.Error.Details) != 1 || ae.Error.Details[0].Row != 2 || ae.Error.Details[0].Column != "责任单位" {
		t.Fatalf("API bad import: %d %s", r.Status, r.Body)
	}
	if r := e.upload("/api/v1/tasks/import", "lia_a", filled.Bytes()); r.Status != http.StatusForbidden {
		t.Fatalf("liaison import: %d", r.Status)
	}
	if r := e.request("POST", "/api/v1/tasks/import", "sup", map[string]any{}); r.Status != http.StatusBadRequest {
		t.Fatalf("JSON instead of a file: %d %s", r.Status, r.Body)
	}
	if r := e.upload("/api/v1/tasks/import", "sup", bytes.Repeat([]byte("x"), supervise.MaxPlanBytes+1)); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d %s", r.Status, r.Body)
	}

	// The page shows every error in a table.
	r = e.request("GET", "/tasks/import", "sup", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `id="import-form"`) {
		t.Fatalf("import page: %d", r.Status)
	}
	r = e.upload("/tasks/import", "sup", planBook(t, planHeader,
		[]any{"1", "应急管理", "坏行一", "", "无此单位", "", "张三", "2026-03-02", "2026-04-30", ""},
		[]any{"2", "无此领域", "坏行二", "", "督查科", "", "张三", "2026-03-02", "2026-04-30", ""}))
	page := string(r.Body)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(page, `id="import-errors"`) || strings.Count(page, `<td class="error">`) != 2 || !strings.Contains(page, "无此单位") {
		t.Fatalf("page with errors: %d\n%s", r.Status, page)
	}
	r = e.upload("/tasks/import", "sup", filled.Bytes())
	if r.Status != 200 || !strings.Contains(string(r.Body), `id="import-done"`) {
		t.Fatalf("page import: %d", r.Status)
	}
	if r := e.request("GET", "/tasks/import", "viewer", nil); r.Status != http.StatusForbidden {
		t.Fatalf("viewer import page: %d", r.Status)
	}
}

func TestParseMilestonesForms(t *testing.T) {
	e := newEnv(t)
	e.clock.SetDate("2026-01-05")
	cell := "（一）2026年3月31日前：完成方案，2026年4月30日前完成评审\n② 5月底前 部署上线；完成验收（2026.6.30）"
	file := planBook(t, planHeader, []any{"", "应急管理", "节点写法", "", "督查科", "", "张三", "2026-01-05", "2026-12-31", cell})
	res, err := e.svc.ImportPlan(e.ctx, e.supervisor(), bytes.NewReader(file))
	if err != nil {
		t.Fatalf("%v %+v", err, res.Errors)
	}
	var got []string
	for _, m := range e.task(res.TaskIDs[0]).Milestones {
		got = append(got, m.Due.String()+" "+m.Name)
	}
	want := []string{"2026-03-31 完成方案", "2026-04-30 完成评审", "2026-05-31 部署上线", "2026-06-30 完成验收"}
	if !slices.Equal(got, want) {
		t.Fatalf("milestones\n got %q\nwant %q", got, want)
	}
}

// readSheet returns a sheet's rows from an .xlsx body.
func readSheet(t *testing.T, body []byte, name string) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(name)
	if err != nil {
		t.Fatalf("sheet %s: %v (have %v)", name, err, f.GetSheetList())
	}
	return rows
}

func TestExports(t *testing.T) {
	e := newEnv(t)
	e.registerSheets()
	e.clock.SetDate("2026-03-02")
	sup := e.supervisor()
	mk := func(title string, unit, owner int64, due string) *supervise.Task {
		in := supervise.NewTask{Title: title, Area: "emergency", Source: supervise.SourcePlan, LeadUnitID: unit, OwnerID: owner,
			Start: workday.MustParseDate("2026-03-02"), Due: workday.MustParseDate(due), Assign: true, Cadence: deadline.CadenceWeekly}
		task := e.create(in)
		e.transition(e.actorFor(task), task.ID, supervise.ActionAccept, "")
		return task
	}
	late := mk("=HYPERLINK(\"http://evil\",\"点我\")", e.unitA, e.ownerA, "2026-03-10")
	done := mk("按期完成", e.unitA, e.ownerA, "2026-03-20")
	mk("信息科的任务", e.unitB, e.ownerB, "2026-04-30") // no report yet: yellow
	info := e.newTask("政务信息任务")
	info.Area = "gov_info"
	e.create(info) // a draft: not started
	e.clock.SetDate("2026-03-05")
	e.report(late, 40)
	if _, err := e.svc.AddMilestone(e.ctx, sup, done.ID, supervise.NewMilestone{Name: "@节点", Due: workday.MustParseDate("2026-03-12")}); err != nil {
		t.Fatal(err)
	}
	e.clock.SetDate("2026-03-09")
	e.report(done, 100)
	e.transition(e.actorFor(done), done.ID, supervise.ActionSubmit, "")
	e.transition(sup, done.ID, supervise.ActionSignOff, "")
	e.clock.SetDate("2026-03-13") // late is 3 working days overdue

	r := e.request("GET", "/tasks/export/battlemap.xlsx", "viewer", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != sheet.ContentType || !strings.Contains(r.Header.Get("Content-Disposition"), "battlemap-20260313.xlsx") {
		t.Fatalf("battle map export: %d %v", r.Status, r.Header)
	}
	areas := readSheet(t, r.Body, "领域×灯")
	if fmt.Sprint(areas[0]) != "[领域 红灯 黄灯 绿灯 未开始 已办结 合计]" {
		t.Fatalf("header %v", areas[0])
	}
	byArea := map[string]string{}
	for _, row := range areas[1:] {
		byArea[row[0]] = strings.Join(row[1:], ",")
	}
	if byArea["应急管理"] != "1,1,0,0,1,3" || byArea["政务信息"] != "0,0,0,0,0,0" || byArea["合计"] != "1,1,0,0,1,3" {
		t.Fatalf("areas × lights %v", byArea)
	}
	units := readSheet(t, r.Body, "单位")
	// The map leaves the draft out; units in order of concern (red first).
	if len(units) != 3 || units[1][1] != "督查科" || strings.Join(units[1][2:], ",") != "2,1,1,1,1,0,0,0,50,100" || units[2][1] != "信息科" {
		t.Fatalf("units %v", units)
	}
	if tl := readSheet(t, r.Body, "任务"); len(tl) != 3 || tl[1][1] != late.Title || tl[1][6] != "红灯" {
		t.Fatalf("timeline tasks %v", tl)
	}
	checkText(t, r.Body, "任务", "B2")
	r = e.request("GET", "/tasks/export/battlemap.xlsx?unit="+fmt.Sprint(e.unitB), "viewer", nil)
	if units := readSheet(t, r.Body, "单位"); len(units) != 2 || units[1][1] != "信息科" {
		t.Fatalf("filtered units %v", units)
	}
	if about := readSheet(t, r.Body, "说明"); !strings.Contains(about[1][0], "信息科") {
		t.Fatalf("about %v", about)
	}
	if r := e.request("GET", "/tasks/export/battlemap.xlsx?source=nope", "viewer", nil); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad filter: %d", r.Status)
	}

	r = e.request("GET", "/tasks/export/overdue.xlsx", "lia_b", nil)
	if r.Status != 200 {
		t.Fatalf("overdue export: %d %s", r.Status, r.Body)
	}
	over := readSheet(t, r.Body, "逾期任务")
	if len(over) != 2 || over[1][3] != late.Title || over[1][5] != "督查科" || over[1][6] != "张三" || over[1][10] != "3" || over[1][13] != "红灯" {
		t.Fatalf("overdue %v", over)
	}
	checkText(t, r.Body, "逾期任务", "D2")

	r = e.request("GET", fmt.Sprintf("/tasks/%d/timeline.xlsx", done.ID), "viewer", nil)
	if r.Status != 200 {
		t.Fatalf("timeline export: %d %s", r.Status, r.Body)
	}
	events := readSheet(t, r.Body, "时间线")
	var kinds []string
	for _, row := range events[1:] {
		kinds = append(kinds, row[2])
	}
	if strings.Join(kinds, ",") != "登记,交办,签收,新增节点,开始办理,报送进展,申请办结,销号" {
		t.Fatalf("timeline %v", kinds)
	}
	if events[1][0] != "2026-03-02 02:00" || events[1][1] != "sup" { // the test server's zone is UTC
		t.Errorf("first event %v", events[1])
	}
	ms := readSheet(t, r.Body, "时间表")
	if len(ms) != 2 || ms[1][1] != "@节点" || ms[1][4] != "未完成" {
		t.Errorf("milestones %v", ms)
	}
	checkText(t, r.Body, "时间表", "B2")
	if rp := readSheet(t, r.Body, "进展"); len(rp) != 2 || rp[1][1] != "100" {
		t.Errorf("reports %v", rp)
	}
	info2 := readSheet(t, r.Body, "任务")
	if info2[2][1] != "按期完成" || info2[7][1] != "督查科" {
		t.Errorf("particulars %v", info2)
	}
	if r := e.request("GET", "/tasks/999999/timeline.xlsx", "viewer", nil); r.Status != http.StatusNotFound {
		t.Errorf("missing task: %d", r.Status)
	}

	// Every export is audited.
	var n int
	e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'task.export'`).Scan(&n)
	if n != 4 {
		t.Errorf("%d export audit records, want 4", n)
	}
	if r := e.request("GET", "/tasks/export/overdue.xlsx", "sysadmin", nil); r.Status != http.StatusForbidden {
		t.Errorf("sysadmin export: %d", r.Status)
	}
}

// checkText fails unless the cell is text with the quote prefix.
func checkText(t *testing.T, body []byte, sheetName, cell string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if formula, _ := f.GetCellFormula(sheetName, cell); formula != "" {
		t.Errorf("%s!%s holds formula %q", sheetName, cell, formula)
	}
	style, _ := f.GetCellStyle(sheetName, cell)
	if qp := f.Styles.CellXfs.Xf[style].QuotePrefix; qp == nil || !*qp {
		v, _ := f.GetCellValue(sheetName, cell)
		t.Errorf("%s!%s (%q) lacks the quote prefix", sheetName, cell, v)
	}
}
