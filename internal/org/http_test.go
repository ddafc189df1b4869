package org_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/org"
	"github.com/biaogan/biaogan/internal/web"
)

type site struct {
	*env
	srv     *httptest.Server
	web     *web.Server
	cookies map[string]string // username → session secret
}

// newSite serves the org feature with real accounts: admin (sysadmin:
// units and people read/write, no phones), leader (read + people.pii),
// viewer (units.read only).
func newSite(t *testing.T) *site {
	t.Helper()
	e := newEnv(t)
	settings := auth.DefaultSettings()
	settings.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	as := auth.NewService(e.db, e.log, settings, clock)
	ws := web.NewServer(web.Config{}, as, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := e.svc.Register(ws); err != nil {
		t.Fatal(err)
	}
	ws.UnitName = e.svc.UnitName
	s := &site{env: e, web: ws, cookies: map[string]string{}}
	for name, role := range map[string]auth.Role{"admin": auth.RoleSysAdmin, "leader": auth.RoleLeader, "viewer": auth.RoleViewer} {
		u, err := as.CreateUser(ctx, sys, auth.NewUser{Username: name, Password: "Str0ng-Passw0rd", Roles: []auth.Role{role}})
		if err != nil {
			t.Fatal(err)
		}
		secret, err := as.CreateSession(ctx, u, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		s.cookies[name] = secret
	}
	s.srv = httptest.NewServer(ws.Handler())
	t.Cleanup(s.srv.Close)
	return s
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (s *site) do(user, method, path, contentType string, body io.Reader, lang ...string) reply {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: s.cookies[user]})
	}
	if len(lang) > 0 {
		req.AddCookie(&http.Cookie{Name: "lang", Value: lang[0]})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (s *site) get(user, path string, lang ...string) reply {
	return s.do(user, "GET", path, "", nil, lang...)
}

func (s *site) form(user, path string, v url.Values) reply {
	return s.do(user, "POST", path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

func (s *site) json(user, method, path string, v any) reply {
	b, _ := json.Marshal(v)
	return s.do(user, method, path, "application/json", bytes.NewReader(b))
}

func (s *site) upload(user, path string, file []byte) reply {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "data.xlsx")
	fw.Write(file)
	mw.Close()
	return s.do(user, "POST", path, mw.FormDataContentType(), &buf)
}

func (s *site) countAudit(action, result string) int {
	s.t.Helper()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND result = ?`, action, result).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestPhonesAreMaskedAndUnmaskingIsAudited(t *testing.T) {
	s := newSite(t)
	s.unit("S05", "督查科", org.KindSection, "")
	p := s.person("S05", "李娜", "13812341234")
	const full, masked = "13812341234", "138****1234"

	// Pages: masked for everyone; only the holder of people.pii gets the button.
	for _, user := range []string{"admin", "leader"} {
		for _, path := range []string{"/people", fmt.Sprintf("/people/%d", p.ID), "/units/" + itoa(p.UnitID)} {
			r := s.get(user, path)
			if r.status != 200 || !strings.Contains(r.body, masked) || strings.Contains(r.body, full) {
				t.Fatalf("%s %s: status %d, masked %v, full %v", user, path, r.status, strings.Contains(r.body, masked), strings.Contains(r.body, full))
			}
		}
	}
	page := fmt.Sprintf("/people/%d", p.ID)
	if r := s.get("admin", page); strings.Contains(r.body, `id="reveal"`) {
		t.Fatal("admin (no people.pii) sees the reveal button")
	}
	if r := s.get("leader", page); !strings.Contains(r.body, `id="reveal"`) || !strings.Contains(r.body, "显示") {
		t.Fatal("leader does not see the 显示 button")
	}
	if r := s.form("admin", page+"/reveal", nil); r.status != http.StatusForbidden || strings.Contains(r.body, full) {
		t.Fatalf("admin reveal: %d", r.status)
	}
	if n := s.countAudit("person.unmask", audit.OK); n != 0 {
		t.Fatalf("%d unmask records before any unmasking", n)
	}
	r := s.form("leader", page+"/reveal", nil)
	if r.status != 200 || !strings.Contains(r.body, full) {
		t.Fatalf("leader reveal: %d, full shown %v", r.status, strings.Contains(r.body, full))
	}
	rec := s.lastAudit()
	if rec.Action != "person.unmask" || rec.Actor != "leader" || rec.Object != fmt.Sprintf("person:%d", p.ID) || strings.Contains(rec.Summary, full) {
		t.Fatalf("audit = %+v", rec)
	}

	// API: masked unless people.pii and ?unmask=1.
	type person struct {
		Phone string `json:"phone"`
	}
	var list struct {
		Items []person `json:"items"`
		Total int      `json:"total"`
	}
	decode := func(r reply, v any) {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if err := json.Unmarshal([]byte(r.body), v); err != nil {
			t.Fatal(err)
		}
	}
	decode(s.get("leader", "/api/v1/people"), &list)
	if list.Total != 1 || list.Items[0].Phone != masked {
		t.Fatalf("leader without unmask: %+v", list)
	}
	decode(s.get("admin", "/api/v1/people?unmask=1"), &list)
	if list.Items[0].Phone != masked {
		t.Fatalf("admin with unmask=1 got %+v", list)
	}
	if n := s.countAudit("person.unmask", audit.Denied); n != 1 {
		t.Fatalf("%d denied unmask records, want 1", n)
	}
	before := s.countAudit("person.unmask", audit.OK)
	decode(s.get("leader", "/api/v1/people?unmask=1"), &list)
	if list.Items[0].Phone != full {
		t.Fatalf("leader with unmask=1 got %+v", list)
	}
	var one person
	decode(s.get("leader", fmt.Sprintf("/api/v1/people/%d?unmask=1", p.ID)), &one)
	if one.Phone != full {
		t.Fatalf("leader get with unmask=1 got %+v", one)
	}
	decode(s.get("leader", fmt.Sprintf("/api/v1/people/%d", p.ID)), &one)
	if one.Phone != masked {
		t.Fatalf("leader get without unmask got %+v", one)
	}
	if n := s.countAudit("person.unmask", audit.OK); n != before+2 {
		t.Fatalf("unmask records %d → %d, want two more", before, n)
	}

	// Export: masked unless asked for by people.pii.
	for _, c := range []struct {
		user, path string
		full       bool
	}{{"admin", "/people/export.xlsx?unmask=1", false}, {"leader", "/people/export.xlsx", false}, {"leader", "/people/export.xlsx?unmask=1", true}} {
		r := s.get(c.user, c.path)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/vnd.openxmlformats") {
			t.Fatalf("%s %s: %d %s", c.user, c.path, r.status, r.header.Get("Content-Type"))
		}
		f, err := excelize.OpenReader(strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := f.GetCellValue("人员", "D2")
		f.Close()
		if want := map[bool]string{true: full, false: masked}[c.full]; v != want {
			t.Fatalf("%s %s: phone cell %q, want %q", c.user, c.path, v, want)
		}
	}
	if rec := s.lastAudit(); rec.Action != "person.export" || !strings.Contains(rec.Summary, "phones in full") {
		t.Fatalf("export audit = %+v", rec)
	}

	// Viewers hold units.read only.
	if r := s.get("viewer", "/people"); r.status != http.StatusForbidden {
		t.Fatalf("viewer /people: %d", r.status)
	}
	if r := s.get("viewer", "/api/v1/people"); r.status != http.StatusForbidden || !strings.Contains(r.body, "permission_denied") {
		t.Fatalf("viewer API: %d %s", r.status, r.body)
	}
}

type apiError struct {
	Error struct {
		Code, Message, Field string
	} `json:"error"`
}

func decodeErr(t *testing.T, r reply, status int, code, field string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("status %d, body not JSON: %s", r.status, r.body)
	}
	if r.status != status || e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("got %d %+v, want %d %s field %q", r.status, e.Error, status, code, field)
	}
}

func TestAPI(t *testing.T) {
	s := newSite(t)
	root := s.unit("BGS", "示范市人民政府办公室", org.KindOffice, "")
	s.unit("S01", "秘书一科", org.KindSection, "BGS")

	r := s.get("viewer", "/api/v1/units")
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var raw struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil || raw.Total != 2 || len(raw.Items) != 2 {
		t.Fatalf("list = %s", r.body)
	}
	for _, it := range raw.Items {
		for _, k := range []string{"id", "code", "name", "kind", "parent_id"} {
			if _, ok := it[k]; !ok {
				t.Fatalf("unit item lacks %q: %v", k, it)
			}
		}
	}
	if raw.Items[0]["parent_id"] != nil || raw.Items[1]["parent_id"] != float64(root.ID) {
		t.Fatalf("parent_id values: %v", raw.Items)
	}
	if r := s.get("viewer", "/api/v1/units?limit=1&offset=1"); !strings.Contains(r.body, `"total":2`) || strings.Count(r.body, `"code"`) != 1 {
		t.Fatalf("paged list = %s", r.body)
	}

	decodeErr(t, s.get("viewer", "/api/v1/units/99999"), 404, "unit_not_found", "")
	decodeErr(t, s.get("admin", "/api/v1/people/99999"), 404, "person_not_found", "")
	decodeErr(t, s.get("admin", "/api/v1/units/abc"), 400, "invalid_id", "")
	decodeErr(t, s.json("viewer", "POST", "/api/v1/units", map[string]any{"code": "X", "name": "x", "kind": "office"}), 403, "permission_denied", "")
	decodeErr(t, s.json("admin", "POST", "/api/v1/units", map[string]any{"code": "S02", "name": "", "kind": "section"}), 422, "invalid_name", "name")
	decodeErr(t, s.json("admin", "POST", "/api/v1/units", map[string]any{"code": "S02", "name": "秘书二科", "kind": "bureau"}), 422, "invalid_kind", "kind")
	decodeErr(t, s.json("admin", "POST", "/api/v1/units", map[string]any{"code": "s01", "name": "秘书二科", "kind": "section"}), 409, "unit_code_taken", "code")
	decodeErr(t, s.json("admin", "POST", "/api/v1/units", map[string]any{"code": "S02", "name": "x", "kind": "section", "colour": "red"}), 400, "unknown_field", "colour")
	decodeErr(t, s.json("admin", "PATCH", fmt.Sprintf("/api/v1/units/%d", root.ID), map[string]any{"parent_id": root.ID + 1}), 422, "invalid_parent_id", "parent_id")
	decodeErr(t, s.json("admin", "POST", "/api/v1/people", map[string]any{"unit_id": root.ID, "name": "张三", "phone": "123"}), 422, "invalid_phone", "phone")
	decodeErr(t, s.get("admin", "/api/v1/people?unit_id=x"), 422, "invalid_unit_id", "unit_id")
	decodeErr(t, s.get("admin", "/api/v1/people?limit=501"), 422, "invalid_limit", "limit")

	r = s.json("admin", "POST", "/api/v1/units", map[string]any{"code": "S02", "name": "秘书二科", "kind": "科室", "parent_code": "BGS", "sort_order": 2})
	if r.status != 201 || !strings.Contains(r.body, `"kind":"section"`) || r.header.Get("Location") == "" {
		t.Fatalf("create unit: %d %s", r.status, r.body)
	}
	var u org.Unit
	json.Unmarshal([]byte(r.body), &u)
	r = s.json("admin", "PATCH", fmt.Sprintf("/api/v1/units/%d", u.ID), map[string]any{"parent_id": nil, "name": "秘书二科（新）"})
	if r.status != 200 || !strings.Contains(r.body, `"parent_id":null`) || !strings.Contains(r.body, "秘书二科（新）") {
		t.Fatalf("patch unit: %d %s", r.status, r.body)
	}

	r = s.json("admin", "POST", "/api/v1/people", map[string]any{"unit_code": "S02", "name": "张三", "phone": "13912345678", "joined_on": "2026/3/5", "birth_year": 1990})
	if r.status != 201 || !strings.Contains(r.body, `"phone":"139****5678"`) || !strings.Contains(r.body, `"joined_on":"2026-03-05"`) {
		t.Fatalf("create person: %d %s", r.status, r.body)
	}
	var p org.Person
	json.Unmarshal([]byte(r.body), &p)
	r = s.json("admin", "PATCH", fmt.Sprintf("/api/v1/people/%d", p.ID), map[string]any{"birth_year": nil, "title": "科长"})
	if r.status != 200 || !strings.Contains(r.body, `"birth_year":null`) || !strings.Contains(r.body, `"title":"科长"`) {
		t.Fatalf("patch person: %d %s", r.status, r.body)
	}
	r = s.get("admin", fmt.Sprintf("/api/v1/people?unit_id=%d&q=张", u.ID))
	if !strings.Contains(r.body, `"total":1`) {
		t.Fatalf("filtered list = %s", r.body)
	}
	if r := s.get("admin", "/api/v1/people?q=1391234"); !strings.Contains(r.body, `"total":0`) {
		t.Fatalf("a search by phone must not work without people.pii: %s", r.body)
	}
	if r := s.get("leader", "/api/v1/people?q=1391234"); !strings.Contains(r.body, `"total":1`) {
		t.Fatalf("leader phone search: %s", r.body)
	}

	// Every API route of the feature is in the OpenAPI document.
	for _, rt := range s.web.Routes() {
		if rt.API() && (strings.HasPrefix(rt.Path, "/api/v1/units") || strings.HasPrefix(rt.Path, "/api/v1/people")) && !s.web.OpenAPI.Has(rt.Method, rt.Path) {
			t.Errorf("%s %s is not in the OpenAPI document", rt.Method, rt.Path)
		}
	}
}

func TestPages(t *testing.T) {
	s := newSite(t)
	root := s.unit("BGS", "示范市人民政府办公室", org.KindOffice, "")
	s.unit("S05", "督查科", org.KindSection, "BGS")
	p := s.person("S05", "王芳", "")

	for _, lang := range []string{"zh-CN", "en"} {
		r := s.get("viewer", "/units", lang)
		heading := map[string]string{"zh-CN": "<h1>单位</h1>", "en": "<h1>Units</h1>"}[lang]
		if r.status != 200 || !strings.Contains(r.body, heading) || !strings.Contains(r.body, `id="unit-tree"`) || !strings.Contains(r.body, "督查科") {
			t.Fatalf("%s /units: %d\n%s", lang, r.status, r.body)
		}
		if strings.Contains(r.body, "/units/new") {
			t.Fatal("viewer sees the new-unit button")
		}
		for _, path := range []string{"/units/new", "/units/" + itoa(root.ID), "/people", "/people/new", "/people/" + itoa(p.ID), "/units/import", "/people/import", "/people?q=王&unit_id=" + itoa(root.ID)} {
			r := s.get("admin", path, lang)
			if r.status != 200 || strings.Contains(r.body, "org.") || strings.Contains(r.body, "<script>") || strings.Contains(r.body, "style=") {
				t.Fatalf("%s %s: %d (untranslated key, inline script or style?)\n%s", lang, path, r.status, r.body)
			}
		}
	}
	if r := s.get("", "/units"); r.status != http.StatusSeeOther {
		t.Fatalf("anonymous /units: %d", r.status)
	}
	if r := s.get("viewer", "/units/new"); r.status != http.StatusForbidden {
		t.Fatalf("viewer /units/new: %d", r.status)
	}

	// A bad form comes back with the message next to the field and the input kept.
	before := s.snap()
	r := s.form("admin", "/units", url.Values{"code": {"NEW-1"}, "name": {""}, "kind": {"section"}, "parent_id": {itoa(root.ID)}, "active": {"1"}})
	if r.status != 422 || !strings.Contains(r.body, `id="err-name"`) || !strings.Contains(r.body, `value="NEW-1"`) || !strings.Contains(r.body, "名称不能为空") {
		t.Fatalf("bad unit form: %d\n%s", r.status, r.body)
	}
	r = s.form("admin", "/people", url.Values{"unit_id": {itoa(root.ID)}, "name": {"赵六"}, "phone": {"1234"}, "birth_year": {"19x0"}})
	if r.status != 422 || !strings.Contains(r.body, `id="err-birth_year"`) || !strings.Contains(r.body, `value="1234"`) || !strings.Contains(r.body, `value="赵六"`) {
		t.Fatalf("bad person form: %d\n%s", r.status, r.body)
	}
	r = s.form("admin", "/people", url.Values{"unit_id": {itoa(root.ID)}, "name": {"赵六"}, "phone": {"1234"}})
	if r.status != 422 || !strings.Contains(r.body, `id="err-phone"`) {
		t.Fatalf("bad phone form: %d\n%s", r.status, r.body)
	}
	r = s.form("admin", "/units/"+itoa(root.ID), url.Values{"code": {"BGS"}, "name": {"办公室"}, "kind": {"office"}, "parent_id": {itoa(root.ID)}})
	if r.status != 422 || !strings.Contains(r.body, `id="err-parent_id"`) {
		t.Fatalf("cycle form: %d\n%s", r.status, r.body)
	}
	if s.snap() != before {
		t.Fatal("refused forms changed the database")
	}

	// Good forms save and redirect.
	r = s.form("admin", "/units", url.Values{"code": {"S06"}, "name": {"政务信息科"}, "kind": {"section"}, "parent_id": {itoa(root.ID)}, "sort_order": {"6"}, "active": {"1"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/units/") {
		t.Fatalf("good unit form: %d %s", r.status, r.body)
	}
	r = s.form("admin", "/people/"+itoa(p.ID), url.Values{"unit_id": {itoa(p.UnitID)}, "name": {"王芳"}, "title": {"科长"}, "phone": {"13700001111"}, "joined_on": {"2026年3月5日"}, "active": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("good person form: %d %s", r.status, r.body)
	}
	// An empty phone field keeps the number.
	s.form("admin", "/people/"+itoa(p.ID), url.Values{"unit_id": {itoa(p.UnitID)}, "name": {"王芳"}, "active": {"1"}})
	got, _ := s.svc.Person(ctx, p.ID)
	if got.Phone != "13700001111" || got.JoinedOn != "" {
		t.Fatalf("after edit: %+v", got)
	}
	if r := s.get("admin", "/people/"+itoa(p.ID)); strings.Contains(r.body, "13700001111") {
		t.Fatal("the edit form carries the full phone")
	}
}

func TestImportAndExportPages(t *testing.T) {
	s := newSite(t)
	s.unit("BGS", "办公室", org.KindOffice, "")
	before := s.snap()
	bad := book(t, unitHeader, []any{"S01", "", "科室", "BGS", 1}, []any{"S02", "秘书二科", "科室", "NOPE", 2})
	r := s.upload("admin", "/units/import", bad)
	if r.status != 422 || !strings.Contains(r.body, `id="import-errors"`) || !strings.Contains(r.body, "<td>3</td><td>上级编码</td>") || !strings.Contains(r.body, "<td>2</td><td>名称</td>") {
		t.Fatalf("bad import page: %d\n%s", r.status, r.body)
	}
	if r := s.upload("admin", "/units/import", []byte("not a spreadsheet")); r.status != 422 || !strings.Contains(r.body, `id="import-error"`) {
		t.Fatalf("non-xlsx upload: %d\n%s", r.status, r.body)
	}
	if r := s.upload("admin", "/units/import", bytes.Repeat([]byte("x"), org.MaxUploadBytes+100<<10)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized upload: %d", r.status)
	}
	if s.snap() != before {
		t.Fatal("refused imports changed the database")
	}
	good := book(t, unitHeader, []any{"S01", "秘书一科", "科室", "BGS", 1})
	if r := s.upload("admin", "/units/import", good); r.status != 200 || !strings.Contains(r.body, `id="import-done"`) {
		t.Fatalf("good import: %d\n%s", r.status, r.body)
	}
	if r := s.upload("viewer", "/units/import", good); r.status != http.StatusForbidden {
		t.Fatalf("viewer import: %d", r.status)
	}
	for _, path := range []string{"/units/template.xlsx", "/people/template.xlsx", "/units/export.xlsx"} {
		r := s.get("admin", path)
		if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("%s: %d %v", path, r.status, r.header)
		}
	}
	if rec := s.lastAudit(); rec.Action != "unit.export" || rec.Actor != "admin" {
		t.Fatalf("export audit = %+v", rec)
	}
}

func TestHomeFigures(t *testing.T) {
	s := newSite(t)
	s.unit("BGS", "示范市人民政府办公室", org.KindOffice, "")
	s.person("BGS", "王芳", "")
	r := s.get("admin", "/")
	if r.status != 200 || !strings.Contains(r.body, `<div class="num">1</div><div class="label">单位</div>`) || !strings.Contains(r.body, `<div class="label">人员</div>`) {
		t.Fatalf("home: %d\n%s", r.status, r.body)
	}
	if r := s.get("viewer", "/"); strings.Contains(r.body, `<div class="label">人员</div>`) {
		t.Fatal("viewer sees the people figure")
	}
}

func TestMessagesHaveBothLanguages(t *testing.T) {
	s := newSite(t)
	if m := s.web.Messages.Missing(); len(m) > 0 {
		t.Fatalf("missing messages: %v", m)
	}
}
