package supervise_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

func (e *env) createBody() map[string]any {
	return map[string]any{
		"title": "完善应急预案体系", "area": "emergency", "source": "plan",
		"lead_unit_id": e.unitA, "owner_id": e.ownerA, "start": "2026-03-01", "due": "2026-03-31",
	}
}

func keys(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestAPIFlowAndShapes(t *testing.T) {
	e := newEnv(t)
	body := e.createBody()
	body["co_unit_ids"] = []int64{e.unitB}
	body["acceptance"] = "预案覆盖率 100%"
	body["cadence"] = "weekly"
	body["milestones"] = []map[string]any{{"name": "形成初稿", "due": "2026-03-20"}}
	r := e.request("POST", "/api/v1/tasks", "sup", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &created); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := json.Unmarshal(created["id"], &id); err != nil || id == 0 {
		t.Fatalf("no id in %s", r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/tasks/"+strconv.FormatInt(id, 10) {
		t.Errorf("Location %q", loc)
	}
	for _, k := range []string{"title", "area", "source", "lead_unit_id", "owner_id", "start", "due", "state", "light", "light_reason", "milestones", "co_unit_ids"} {
		if _, ok := created[k]; !ok {
			t.Errorf("created task lacks %q: %s", k, r.Body)
		}
	}
	path := "/api/v1/tasks/" + strconv.FormatInt(id, 10)

	// The lifecycle over HTTP.
	steps := []struct {
		user, action string
		extra        map[string]any
		state        string
	}{
		{"sup", "assign", nil, "assigned"},
		{"head_a", "accept", nil, "accepted"},
		{"lia_a", "start", nil, "in_progress"},
	}
	for _, s := range steps {
		req := map[string]any{"action": s.action}
		for k, v := range s.extra {
			req[k] = v
		}
		var got struct {
			State string `json:"state"`
		}
		if st := e.call("POST", path+"/transitions", s.user, req, &got); st != http.StatusOK || got.State != s.state {
			t.Fatalf("%s by %s: %d state %q", s.action, s.user, st, got.State)
		}
	}
	var rep map[string]json.RawMessage
	if st := e.call("POST", path+"/reports", "lia_a", map[string]any{"percent": 100, "text": "已完成", "difficulties": "无", "next_steps": "迎检"}, &rep); st != http.StatusCreated {
		t.Fatalf("report: %d", st)
	}
	if string(rep["percent"]) != "100" || string(rep["next_steps"]) != `"迎检"` {
		t.Fatalf("report %v", rep)
	}
	var ms map[string]json.RawMessage
	if st := e.call("POST", path+"/milestones", "lia_a", map[string]any{"name": "印发", "due": "2026-03-25"}, &ms); st != http.StatusCreated {
		t.Fatalf("milestone: %d", st)
	}
	var mid int64
	json.Unmarshal(ms["id"], &mid)
	var done struct {
		DoneOn string `json:"done_on"`
	}
	if st := e.call("POST", "/api/v1/milestones/"+strconv.FormatInt(mid, 10)+"/complete", "lia_a", map[string]any{"evidence": "文件号 2026-3"}, &done); st != http.StatusOK || done.DoneOn != "2026-03-10" {
		t.Fatalf("complete milestone: %d %+v", st, done)
	}
	var st struct {
		State string `json:"state"`
	}
	if code := e.call("POST", path+"/transitions", "lia_a", map[string]any{"action": "submit", "evidence": "预案汇编"}, &st); code != http.StatusOK || st.State != "submitted" {
		t.Fatalf("submit: %d %s", code, st.State)
	}
	if code := e.call("POST", path+"/transitions", "sup", map[string]any{"action": "sign_off"}, &st); code != http.StatusOK || st.State != "signed_off" {
		t.Fatalf("sign off: %d %s", code, st.State)
	}

	// The detail page's JSON.
	var detail map[string]json.RawMessage
	if code := e.call("GET", path, "viewer", nil, &detail); code != http.StatusOK {
		t.Fatalf("get: %d", code)
	}
	for _, k := range []string{"id", "milestones", "events", "reports", "extensions", "children", "light_reasons", "allowed_actions", "instruction", "baseline_due"} {
		if _, ok := detail[k]; !ok {
			t.Errorf("detail lacks %q (has %v)", k, keys(detail))
		}
	}
	var events []struct {
		Kind, Actor, At string
	}
	json.Unmarshal(detail["events"], &events)
	if len(events) != 9 || events[0].Kind != "create" || events[len(events)-1].Kind != "sign_off" || events[1].Actor != "sup" || events[1].At == "" {
		t.Fatalf("events %+v", events)
	}
	var milestones []map[string]any
	json.Unmarshal(detail["milestones"], &milestones)
	if len(milestones) != 2 || milestones[0]["name"] != "形成初稿" || milestones[1]["done_on"] != "2026-03-10" {
		t.Fatalf("milestones %v", milestones)
	}

	// The list.
	var list struct {
		Items []map[string]json.RawMessage `json:"items"`
		Total int                          `json:"total"`
	}
	if code := e.call("GET", "/api/v1/tasks?area=emergency&limit=10", "viewer", nil, &list); code != http.StatusOK || list.Total != 1 || len(list.Items) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	for _, k := range []string{"id", "title", "source", "area", "lead_unit_id", "due", "light", "light_reason", "progress", "state"} {
		if _, ok := list.Items[0][k]; !ok {
			t.Errorf("list item lacks %q", k)
		}
	}
	if string(list.Items[0]["light"]) != `"done"` || string(list.Items[0]["progress"]) != "100" {
		t.Errorf("item %v", list.Items[0])
	}
	// An empty list is [] not null.
	r = e.request("GET", "/api/v1/tasks?light=red", "viewer", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("empty list: %d %s", r.Status, r.Body)
	}
}

func TestAPIRefusals(t *testing.T) {
	e := newEnv(t)
	with := func(k string, v any) map[string]any {
		b := e.createBody()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	for _, c := range []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"due before start", with("due", "2026-02-28"), 422, "invalid_due", "due"},
		{"malformed date", with("start", "2026/3/1"), 422, "invalid_start", "start"},
		{"title missing", with("title", nil), 422, "invalid_title", "title"},
		{"owner outside lead unit", with("owner_id", e.ownerB), 422, "invalid_owner_id", "owner_id"},
		{"unknown lead unit", with("lead_unit_id", 9999), 422, "invalid_lead_unit_id", "lead_unit_id"},
		{"bad source", with("source", "rumour"), 422, "invalid_source", "source"},
		{"milestone after due", with("milestones", []map[string]any{{"name": "x", "due": "2026-04-01"}}), 422, "invalid_milestones_due", "milestones[0].due"},
		{"unknown field", with("colour", "red"), 400, "unknown_field", "colour"},
		{"wrong type", with("owner_id", "张三"), 400, "malformed_json", "owner_id"},
		{"bad stage", with("stage", "半拉子"), 422, "invalid_stage", "stage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.wantError(e.request("POST", "/api/v1/tasks", "sup", c.body), c.status, c.code, c.field)
		})
	}
	if n := e.count("tasks"); n != 0 {
		t.Fatalf("refused requests saved %d tasks", n)
	}

	b := e.createBody()
	b["assign"] = true
	var task struct {
		ID int64 `json:"id"`
	}
	if st := e.call("POST", "/api/v1/tasks", "sup", b, &task); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	path := "/api/v1/tasks/" + strconv.FormatInt(task.ID, 10)

	// 409 with the allowed actions.
	ae := e.wantError(e.request("POST", path+"/transitions", "sup", map[string]any{"action": "sign_off"}), 409, "transition_not_allowed", "")
	var det struct {
		State   string   `json:"state"`
		Action  string   `json:"action"`
		Allowed []string `json:"allowed"`
	}
	if err := json.Unmarshal(ae.Error.Details, &det); err != nil || det.State != "assigned" || det.Action != "sign_off" || !slices.Equal(det.Allowed, []string{"accept", "cancel"}) {
		t.Fatalf("details %s", ae.Error.Details)
	}
	e.wantError(e.request("POST", path+"/transitions", "sup", map[string]any{"action": "fly"}), 422, "invalid_action", "action")

	// Permissions.
	e.wantError(e.request("POST", path+"/transitions", "lia_b", map[string]any{"action": "accept"}), 403, "not_lead_unit", "")
	e.wantError(e.request("POST", path+"/transitions", "lia_a", map[string]any{"action": "cancel", "reason": "x"}), 403, "supervisor_only", "")
	e.wantError(e.request("POST", "/api/v1/tasks", "viewer", e.createBody()), 403, "permission_denied", "")
	e.wantError(e.request("POST", "/api/v1/tasks", "lia_a", e.createBody()), 403, "permission_denied", "")
	e.wantError(e.request("GET", "/api/v1/tasks", "sysadmin", nil), 403, "permission_denied", "")
	e.wantError(e.request("GET", "/api/v1/tasks", "", nil), 401, "unauthenticated", "")
	e.wantError(e.request("GET", "/api/v1/tasks/99999", "viewer", nil), 404, "task_not_found", "")

	e.call("POST", path+"/transitions", "lia_a", map[string]any{"action": "accept"}, nil)
	e.wantError(e.request("POST", path+"/reports", "lia_a", map[string]any{"percent": 120, "text": "超"}), 422, "invalid_percent", "percent")
	e.wantError(e.request("POST", path+"/reports", "lia_a", map[string]any{"percent": 90.5, "text": "小数"}), 400, "malformed_json", "percent")
	e.wantError(e.request("POST", path+"/milestones", "lia_a", map[string]any{"name": "晚", "due": "2026-04-02"}), 422, "invalid_due", "due")
	e.call("POST", path+"/reports", "lia_a", map[string]any{"percent": 100, "text": "完成"}, nil)
	e.wantError(e.request("POST", path+"/transitions", "lia_a", map[string]any{"action": "submit"}), 422, "invalid_evidence", "evidence")
	e.wantError(e.request("POST", path+"/extensions", "lia_a", map[string]any{"reason": "x", "new_due": "2026-03-01"}), 422, "invalid_new_due", "new_due")
	e.wantError(e.request("POST", path+"/extensions", "sup", map[string]any{"reason": "x", "new_due": "2026-05-01"}), 403, "permission_denied", "")

	var got struct {
		State    string `json:"state"`
		Progress int    `json:"progress"`
		Reports  []any  `json:"reports"`
	}
	e.call("GET", path, "viewer", nil, &got)
	if got.State != "in_progress" || got.Progress != 100 || len(got.Reports) != 1 || e.count("task_milestones") != 0 || e.count("task_extensions") != 0 {
		t.Fatalf("refusals changed the task: %+v", got)
	}

	// List filter values are checked.
	e.wantError(e.request("GET", "/api/v1/tasks?light=purple", "viewer", nil), 422, "invalid_light", "light")
	e.wantError(e.request("GET", "/api/v1/tasks?unit=abc", "viewer", nil), 422, "invalid_unit", "unit")
	e.wantError(e.request("GET", "/api/v1/tasks?overdue=maybe", "viewer", nil), 422, "invalid_overdue", "overdue")
	e.wantError(e.request("GET", "/api/v1/tasks?limit=0", "viewer", nil), 422, "invalid_limit", "limit")
}

func TestAPIExtensionsAndLanguage(t *testing.T) {
	e := newEnv(t)
	b := e.createBody()
	b["assign"], b["due"] = true, "2026-03-12"
	var task struct {
		ID int64 `json:"id"`
	}
	e.call("POST", "/api/v1/tasks", "sup", b, &task)
	path := "/api/v1/tasks/" + strconv.FormatInt(task.ID, 10)
	e.call("POST", path+"/transitions", "lia_a", map[string]any{"action": "accept"}, nil)

	type item struct {
		Light       string `json:"light"`
		LightReason string `json:"light_reason"`
	}
	var list struct{ Items []item }
	e.call("GET", "/api/v1/tasks", "viewer", nil, &list)
	if len(list.Items) != 1 || list.Items[0].Light != "yellow" || !strings.HasPrefix(list.Items[0].LightReason, "还有 2 个工作日到期") {
		t.Fatalf("zh list %+v", list.Items)
	}
	r := e.request("GET", "/api/v1/tasks", "viewer", nil, "Accept-Language", "en-US,en;q=0.9")
	json.Unmarshal(r.Body, &list)
	if !strings.HasPrefix(list.Items[0].LightReason, "Due in 2 working days") {
		t.Fatalf("en list %+v", list.Items)
	}

	var ext struct {
		ID     int64  `json:"id"`
		State  string `json:"state"`
		OldDue string `json:"old_due"`
		NewDue string `json:"new_due"`
	}
	if st := e.call("POST", path+"/extensions", "lia_a", map[string]any{"reason": "等待上级批复", "new_due": "2026-04-15"}, &ext); st != http.StatusCreated || ext.State != "pending" || ext.OldDue != "2026-03-12" {
		t.Fatalf("request: %d %+v", st, ext)
	}
	e.wantError(e.request("POST", path+"/extensions", "lia_a", map[string]any{"reason": "again", "new_due": "2026-04-20"}), 409, "extension_pending", "")
	dpath := "/api/v1/extensions/" + strconv.FormatInt(ext.ID, 10) + "/decision"
	e.wantError(e.request("POST", dpath, "lia_a", map[string]any{"decision": "approve"}), 403, "permission_denied", "")
	e.wantError(e.request("POST", dpath, "sup", map[string]any{"decision": "maybe"}), 422, "invalid_decision", "decision")
	if st := e.call("POST", dpath, "sup", map[string]any{"decision": "approve", "note": "同意"}, &ext); st != http.StatusOK || ext.State != "approved" {
		t.Fatalf("approve: %d %+v", st, ext)
	}
	e.wantError(e.request("POST", dpath, "sup", map[string]any{"decision": "refuse", "note": "改主意"}), 409, "extension_decided", "")
	var got struct {
		Due         string `json:"due"`
		BaselineDue string `json:"baseline_due"`
		Light       string `json:"light"`
		LightCode   string `json:"light_code"`
	}
	e.call("GET", path, "viewer", nil, &got)
	// No longer due soon; still behind the elapsed time with no progress.
	if got.Due != "2026-04-15" || got.BaselineDue != "2026-03-12" || got.Light != "yellow" || got.LightCode != "behind_schedule" {
		t.Fatalf("after approval %+v", got)
	}
}

func TestAPIAreas(t *testing.T) {
	e := newEnv(t)
	var areas struct {
		Items []struct{ Code, Name string }
		Total int
	}
	e.call("GET", "/api/v1/areas", "viewer", nil, &areas)
	var names []string
	for _, a := range areas.Items {
		names = append(names, a.Name)
	}
	// The seven of the supervision migration, then the one benchmark
	// targets' paths are filed under (migration 0007).
	want := []string{"四加二机制", "大科室制", "大财务管理体制", "信息化建设", "政务信息", "机关党建", "应急管理", "对标达标"}
	if !slices.Equal(names, want) || areas.Total != 8 {
		t.Fatalf("areas %v", names)
	}
	if st := e.call("POST", "/api/v1/areas", "sup", map[string]any{"code": "ecology", "name": "生态环保", "name_en": "Ecology", "sort_order": 80}, nil); st != http.StatusOK {
		t.Fatalf("add area: %d", st)
	}
	e.wantError(e.request("POST", "/api/v1/areas", "sup", map[string]any{"code": "Bad Code", "name": "x"}), 422, "invalid_code", "code")
	b := e.createBody()
	b["area"] = "ecology"
	if st := e.call("POST", "/api/v1/tasks", "sup", b, nil); st != http.StatusCreated {
		t.Fatalf("task in the new area: %d", st)
	}
	if st := e.call("POST", "/api/v1/areas", "sup", map[string]any{"code": "ecology", "name": "生态环保", "active": false}, nil); st != http.StatusOK {
		t.Fatalf("deactivate: %d", st)
	}
	e.wantError(e.request("POST", "/api/v1/tasks", "sup", b), 422, "invalid_area", "area")
}

func TestAPIWorkdays(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ date, days, want string }{
		{"2026-04-30", "1", "2026-05-06"},  // 劳动节 1–5 May
		{"2026-02-13", "1", "2026-02-14"},  // Saturday 14 February is an adjusted workday (调休)
		{"2026-05-06", "-1", "2026-04-30"}, // counting back
		{"2025-12-31", "1", "2026-01-04"},  // across the year: 元旦 1–3 January off, Sunday 4th worked
		{"2026-03-10", "0", "2026-03-10"},
	} {
		var got map[string]string
		if st := e.call("GET", "/api/v1/workdays/add?date="+c.date+"&days="+c.days, "lia_a", nil, &got); st != http.StatusOK || got["date"] != c.want || len(got) != 1 {
			t.Errorf("add %s %s: %d %v, want %s", c.date, c.days, st, got, c.want)
		}
	}
	e.wantError(e.request("GET", "/api/v1/workdays/add?date=2026-13-01&days=1", "lia_a", nil), 422, "invalid_date", "date")
	e.wantError(e.request("GET", "/api/v1/workdays/add?date=2026-03-01&days=x", "lia_a", nil), 422, "invalid_days", "days")
	e.wantError(e.request("GET", "/api/v1/workdays/add?date=2026-03-01&days=1", "", nil), 401, "unauthenticated", "")
	var between struct{ Workdays int }
	e.call("GET", "/api/v1/workdays/between?from=2026-04-30&to=2026-05-08", "lia_a", nil, &between)
	if between.Workdays != 3 {
		t.Fatalf("between %d, want 3", between.Workdays)
	}

	// 2027 has no embedded data: Monday–Friday until an admin stores it.
	add := func() string {
		var got map[string]string
		e.call("GET", "/api/v1/workdays/add?date=2026-12-31&days=1", "lia_a", nil, &got)
		return got["date"]
	}
	if got := add(); got != "2027-01-01" {
		t.Fatalf("fallback %s", got)
	}
	year := `{"year": 2027, "papers": ["https://www.gov.cn/example"], "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}`
	e.wantError(e.request("PUT", "/api/v1/workdays/years/2027", "sup", year), 403, "permission_denied", "")
	e.wantError(e.request("PUT", "/api/v1/workdays/years/2027", "sysadmin", `{"year": 2027, "papers": [], "days": [{"name": "元旦", "date": "2027-02-30", "isOffDay": true}]}`), 422, "invalid_days_date", "days[0].date")
	e.wantError(e.request("PUT", "/api/v1/workdays/years/2028", "sysadmin", year), 422, "invalid_year", "year")
	if r := e.request("PUT", "/api/v1/workdays/years/2027", "sysadmin", year); r.Status != http.StatusOK {
		t.Fatalf("store: %d %s", r.Status, r.Body)
	}
	if got := add(); got != "2027-01-04" {
		t.Fatalf("with 2027 stored: %s, want 2027-01-04", got)
	}
	var years struct {
		Items []struct {
			Year   int
			Source string
		}
	}
	e.call("GET", "/api/v1/workdays/years", "lia_a", nil, &years)
	if last := years.Items[len(years.Items)-1]; last.Year != 2027 || last.Source != "stored" {
		t.Fatalf("years %+v", years.Items)
	}
	// A fresh service on the same database loads the stored year.
	fresh := supervise.New(e.d, audit.New(e.d), workday.New(), e.clock.Now)
	if err := fresh.LoadYears(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := fresh.Cal.AddWorkdays(workday.MustParseDate("2026-12-31"), 1); got.String() != "2027-01-04" {
		t.Fatalf("fresh service: %s", got)
	}
	if r := e.request("DELETE", "/api/v1/workdays/years/2027", "sysadmin", nil); r.Status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if got := add(); got != "2027-01-01" {
		t.Fatalf("after reset %s", got)
	}
	e.wantError(e.request("DELETE", "/api/v1/workdays/years/2027", "sysadmin", nil), 404, "workday_year_not_stored", "")
}

// Every route is documented in the OpenAPI document and needs a permission.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	n := 0
	for _, rt := range e.ws.Routes() {
		p := strings.TrimPrefix(rt.Path, "/api/v1")
		if !strings.HasPrefix(p, "/tasks") && !strings.HasPrefix(p, "/milestones") && !strings.HasPrefix(p, "/extensions") &&
			!strings.HasPrefix(p, "/areas") && !strings.HasPrefix(p, "/workdays") {
			continue
		}
		n++
		if rt.Perm == "" || rt.Perm == auth.PermPublic {
			t.Errorf("%s has no permission", rt.Pattern())
		}
		if !e.ws.OpenAPI.Has(rt.Method, rt.Path) {
			t.Errorf("%s is not in openapi.json", rt.Pattern())
		}
	}
	if n < 10 {
		t.Fatalf("only %d supervise routes registered", n)
	}
	var doc map[string]any
	if st := e.call("GET", "/api/v1/openapi.json", "", nil, &doc); st != http.StatusOK {
		t.Fatalf("openapi: %d", st)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, s := range []string{"Task", "TaskItem", "TaskDetail", "NewTask", "Milestone", "Report", "Extension", "Event"} {
		if _, ok := schemas[s]; !ok {
			t.Errorf("schema %s missing", s)
		}
	}
}
