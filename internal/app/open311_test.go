package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/biaogan/biaogan/internal/app"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

// o311 calls the wired app; form is sent form-encoded.
func o311(t *testing.T, a *app.App, method, path string, form url.Values, session string) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if session != "" {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: session})
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec
}

var secretRE = regexp.MustCompile(`o311_[A-Za-z0-9_-]{43}`)

// issueKey issues a key through the admin page as the system admin.
func issueKey(t *testing.T, a *app.App, session, name string) string {
	t.Helper()
	rec := o311(t, a, "POST", "/admin/open311/keys", url.Values{"name": {name}}, session)
	if rec.Code != 200 {
		t.Fatalf("issue key: %d %s", rec.Code, rec.Body.String())
	}
	secret := secretRE.FindString(rec.Body.String())
	if secret == "" {
		t.Fatalf("the page does not show the new key: %s", rec.Body.String())
	}
	return secret
}

func TestOpen311KeyAdminPage(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	users := usersByRole(t, a)
	admin, _ := a.Auth.CreateSession(ctx, users[auth.RoleSysAdmin], "10.1.2.3", "test")

	rec := o311(t, a, "GET", "/admin/open311", nil, admin)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="open311-key-form"`) || !strings.Contains(rec.Body.String(), "/open311/v2") {
		t.Fatalf("key page: %d %s", rec.Code, rec.Body.String())
	}
	secret := issueKey(t, a, admin, "市民通 App")
	page := o311(t, a, "GET", "/admin/open311", nil, admin).Body.String()
	if !strings.Contains(page, "市民通 App") || strings.Contains(page, secret) || !strings.Contains(page, secret[:11]) {
		t.Fatalf("the list must name the key and show only its start: %s", page)
	}

	// Bad names: the form says why and nothing is issued.
	for _, c := range []struct {
		name   string
		status int
		word   string
	}{{"", 422, "密钥名称"}, {"市民通 App", 409, "已有名为"}} {
		rec := o311(t, a, "POST", "/admin/open311/keys", url.Values{"name": {c.name}}, admin)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.word) || secretRE.MatchString(rec.Body.String()) {
			t.Errorf("name %q: %d, want %d with %q", c.name, rec.Code, c.status, c.word)
		}
	}
	var n int
	if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM open311_keys`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d keys after bad names (%v), want 1", n, err)
	}

	// The key works until it is revoked; then the API answers 403.
	form := url.Values{"api_key": {secret}, "service_code": {"none"}, "address_string": {"x"}}
	if rec := o311(t, a, "POST", "/open311/v2/requests.json", form, ""); rec.Code == http.StatusForbidden {
		t.Fatalf("a fresh key was refused: %s", rec.Body.String())
	}
	var id int64
	if err := a.DB.QueryRowContext(ctx, `SELECT id FROM open311_keys`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	rec = o311(t, a, "POST", "/admin/open311/keys/"+itoa(id)+"/revoke", url.Values{}, admin)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body.String())
	}
	rec = o311(t, a, "POST", "/open311/v2/requests.json", form, "")
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "api_key") {
		t.Fatalf("a revoked key: %d %s", rec.Code, rec.Body.String())
	}
	if rec := o311(t, a, "POST", "/admin/open311/keys/"+itoa(id)+"/revoke", url.Values{}, admin); rec.Code != http.StatusConflict {
		t.Errorf("second revoke: %d", rec.Code)
	}

	// Both changes are audited with who did them.
	recs, _, err := a.Audit.List(ctx, audit.Filter{Action: "open311.key"})
	if err != nil || len(recs) != 2 || recs[0].Actor != "u_sysadmin" || recs[0].IP == "" {
		t.Fatalf("audit: %+v %v", recs, err)
	}

	// English page.
	req := httptest.NewRequest("GET", "/admin/open311", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: admin})
	req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
	rec = httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "Open311 API keys") || !strings.Contains(rec.Body.String(), "Revoked") {
		t.Errorf("English page: %s", rec.Body.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestOpen311ConformanceThroughTheApp runs the API over the real appeal
// backend, as wired: every endpoint in both formats, the bad-input cases,
// and no personal data in any answer.
func TestOpen311ConformanceThroughTheApp(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	if a.Open311Backend == nil {
		rec := o311(t, a, "GET", "/open311/v2/services.json", nil, "")
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "not running") {
			t.Fatalf("without a backend: %d %s", rec.Code, rec.Body.String())
		}
		t.Skip("the appeal feature has not wired a.Open311Backend yet")
	}
	if _, err := a.LoadDemoIfEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	users := usersByRole(t, a)
	admin, _ := a.Auth.CreateSession(ctx, users[auth.RoleSysAdmin], "", "")
	key := issueKey(t, a, admin, "conformance")

	// Discovery and services.
	for _, f := range []string{"xml", "json"} {
		rec := o311(t, a, "GET", "/open311/v2/discovery."+f, nil, "")
		checkFormat(t, rec, f)
	}
	rec := o311(t, a, "GET", "/open311/v2/services.json", nil, "")
	checkFormat(t, rec, "json")
	var services []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &services); err != nil || len(services) < 10 {
		t.Fatalf("services.json: %v %d", err, len(services))
	}
	code, _ := services[0]["service_code"].(string)
	if code == "" || services[0]["group"] == nil || services[0]["service_name"] == "" {
		t.Fatalf("first service: %v", services[0])
	}
	xmlRec := o311(t, a, "GET", "/open311/v2/services.xml", nil, "")
	checkFormat(t, xmlRec, "xml")
	if strings.Count(xmlRec.Body.String(), "<service>") != len(services) {
		t.Errorf("services.xml lists %d services, json %d", strings.Count(xmlRec.Body.String(), "<service>"), len(services))
	}
	// Every service describes attribute[kind], the appeal type.
	def := o311(t, a, "GET", "/open311/v2/services/"+url.PathEscape(code)+".json", nil, "").Body.String()
	for _, want := range []string{`"code":"kind"`, `"datatype":"singlevaluelist"`, `"key":"complaint"`, `"key":"suggestion"`} {
		if !strings.Contains(def, want) {
			t.Errorf("service definition lacks %s: %s", want, def)
		}
	}
	if services[0]["metadata"] != true {
		t.Errorf("a service with attributes says metadata %v", services[0]["metadata"])
	}
	for _, f := range []string{"xml", "json"} {
		checkFormat(t, o311(t, a, "GET", "/open311/v2/services/"+url.PathEscape(code)+"."+f, nil, ""), f)
		wantStatus(t, o311(t, a, "GET", "/open311/v2/services/NO-SUCH-CODE."+f, nil, ""), f, 404)
	}

	count := func() int {
		rec := o311(t, a, "GET", "/open311/v2/requests.json?page_size=1000", nil, "")
		var list []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatalf("requests.json: %v %s", err, rec.Body.String())
		}
		return len(list)
	}

	// A citizen's request with personal data.
	valid := func() url.Values {
		return url.Values{"api_key": {key}, "service_code": {code}, "lat": {"31.2304"}, "long": {"121.4737"},
			"address_string": {"人民路 100 号"}, "description": {"人民路 100 号门口路面塌陷，有一个大坑，请尽快处理。"},
			"email": {"zhang.san@example.cn"}, "first_name": {"锦程"}, "last_name": {"欧阳"}, "phone": {"13812345678"},
			"device_id": {"dev-7788"}, "account_id": {"acct-4455"}, "attribute[kind]": {"complaint"}}
	}
	before := count()
	// Bad input: the spec's status, and no work order.
	for _, c := range []struct {
		name   string
		change func(url.Values)
		status int
	}{
		{"missing key", func(v url.Values) { v.Del("api_key") }, 403},
		{"bad key", func(v url.Values) { v.Set("api_key", "o311_bad") }, 403},
		{"no service_code", func(v url.Values) { v.Del("service_code") }, 400},
		{"unknown service_code", func(v url.Values) { v.Set("service_code", "NO-SUCH-CODE") }, 404},
		{"no location", func(v url.Values) { v.Del("lat"); v.Del("long"); v.Del("address_string") }, 400},
		{"lat out of range", func(v url.Values) { v.Set("lat", "-91") }, 400},
		{"long out of range", func(v url.Values) { v.Set("long", "181") }, 400},
		{"description too long", func(v url.Values) { v.Set("description", strings.Repeat("坑", 4001)) }, 400},
		{"unknown kind", func(v url.Values) { v.Set("attribute[kind]", "praise") }, 400},
	} {
		for _, f := range []string{"xml", "json"} {
			v := valid()
			c.change(v)
			rec := o311(t, a, "POST", "/open311/v2/requests."+f, v, "")
			if rec.Code != c.status {
				t.Errorf("%s (%s): %d, want %d: %s", c.name, f, rec.Code, c.status, rec.Body.String())
			}
			wantStatus(t, rec, f, c.status)
		}
	}
	if n := count(); n != before {
		t.Fatalf("bad input created work orders: %d → %d", before, n)
	}

	var ids []string
	for _, f := range []string{"xml", "json"} {
		rec := o311(t, a, "POST", "/open311/v2/requests."+f, valid(), "")
		if rec.Code != 200 {
			t.Fatalf("POST requests.%s: %d %s", f, rec.Code, rec.Body.String())
		}
		checkFormat(t, rec, f)
		m := regexp.MustCompile(`service_request_id"?>?:?"?([^"<]+)`).FindStringSubmatch(rec.Body.String())
		if m == nil {
			t.Fatalf("no id in %s", rec.Body.String())
		}
		ids = append(ids, m[1])
	}
	if n := count(); n != before+2 {
		t.Errorf("two POSTs made %d new requests", n-before)
	}
	// The work orders are audited under the key's name.
	if recs, _, err := a.Audit.List(ctx, audit.Filter{Actor: "open311:conformance"}); err != nil || len(recs) < 2 {
		t.Errorf("audit of the submitted requests: %d records, %v", len(recs), err)
	}
	zTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	for _, id := range ids {
		for _, f := range []string{"xml", "json"} {
			rec := o311(t, a, "GET", "/open311/v2/requests/"+url.PathEscape(id)+"."+f, nil, "")
			checkFormat(t, rec, f)
			noPII(t, rec.Body.String())
			rec = o311(t, a, "GET", "/open311/v2/tokens/"+url.PathEscape(id)+"."+f, nil, "")
			checkFormat(t, rec, f)
		}
		rec := o311(t, a, "GET", "/open311/v2/requests/"+url.PathEscape(id)+".json", nil, "")
		var list []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list) != 1 {
			t.Fatalf("request %s: %v %s", id, err, rec.Body.String())
		}
		r := list[0]
		if r["service_request_id"] != id || r["status"] != "open" || r["service_code"] != code || !strings.Contains(r["description"].(string), "大坑") {
			t.Errorf("request %s: %v", id, r)
		}
		for _, k := range []string{"requested_datetime", "updated_datetime"} {
			if s, _ := r[k].(string); !zTime.MatchString(s) {
				t.Errorf("%s %q is not UTC with Z", k, s)
			}
		}
		if s, ok := r["expected_datetime"].(string); ok && !zTime.MatchString(s) {
			t.Errorf("expected_datetime %q is not UTC with Z", s)
		}
	}
	for _, f := range []string{"xml", "json"} {
		for _, q := range []string{"", "?status=open", "?service_code=" + url.QueryEscape(code), "?service_request_id=" + strings.Join(ids, ","), "?page=1&page_size=5"} {
			rec := o311(t, a, "GET", "/open311/v2/requests."+f+q, nil, "")
			checkFormat(t, rec, f)
			noPII(t, rec.Body.String())
		}
		rec := o311(t, a, "GET", "/open311/v2/requests."+f+"?service_request_id="+strings.Join(ids, ","), nil, "")
		for _, id := range ids {
			if !strings.Contains(rec.Body.String(), id) {
				t.Errorf("service_request_id list misses %s", id)
			}
		}
		wantStatus(t, o311(t, a, "GET", "/open311/v2/requests."+f+"?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", nil, ""), f, 400)
		wantStatus(t, o311(t, a, "GET", "/open311/v2/requests/NO-SUCH-ID."+f, nil, ""), f, 404)
	}
}

func checkFormat(t *testing.T, rec *httptest.ResponseRecorder, f string) {
	t.Helper()
	ct := rec.Header().Get("Content-Type")
	if f == "xml" {
		if ct != "text/xml; charset=utf-8" || !strings.HasPrefix(rec.Body.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
			t.Errorf("XML answer: %q %.100s", ct, rec.Body.String())
		}
	} else if ct != "application/json; charset=utf-8" || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("JSON answer: %q %.100s", ct, rec.Body.String())
	}
}

// wantStatus checks the status and the spec's error list (code and
// description) in the format.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, f string, status int) {
	t.Helper()
	checkFormat(t, rec, f)
	body := rec.Body.String()
	if rec.Code != status {
		t.Errorf("status %d, want %d: %s", rec.Code, status, body)
	}
	if status < 400 {
		return
	}
	if f == "xml" {
		if !strings.Contains(body, "<errors>") || !strings.Contains(body, "<code>"+itoa(int64(status))+"</code>") || !strings.Contains(body, "<description>") {
			t.Errorf("XML error body: %s", body)
		}
		return
	}
	var errs []struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &errs); err != nil || len(errs) == 0 || errs[0].Code != status || errs[0].Description == "" {
		t.Errorf("JSON error body: %v %s", err, body)
	}
}

// phoneRE finds a mobile number, whole or masked, standing alone.
var phoneRE = regexp.MustCompile(`(^|[^\d])1[3-9]\d(\d{4}|\*{4})\d{4}([^\d]|$)`)

func noPII(t *testing.T, body string) {
	t.Helper()
	if m := phoneRE.FindString(body); m != "" {
		t.Errorf("a phone number %q in an Open311 answer", m)
	}
	for _, p := range []string{"13812345678", "138****5678", "zhang.san", "欧阳", "锦程", "dev-7788", "acct-4455"} {
		if i := strings.Index(body, p); i >= 0 {
			t.Errorf("personal data %q in an Open311 answer: …%s…", p, body[max(0, i-300):min(len(body), i+100)])
		}
	}
}
