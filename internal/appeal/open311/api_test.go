package open311

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/web"
)

var formats = []string{formatXML, formatJSON}

type env struct {
	t    *testing.T
	h    http.Handler
	fake *fakeBackend
	keys *Keys
	key  string
	now  time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t)
	now := time.Date(2026, 11, 25, 6, 30, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	al := audit.New(d)
	al.Now = clock
	keys := NewKeys(d, al, clock)
	fake := newFake(clock)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws := web.NewServer(web.Config{BaseURL: "https://gov.example.cn"}, nil, log)
	api := New(fake, keys, clock, log)
	if err := api.Register(ws); err != nil {
		t.Fatal(err)
	}
	secret, _, err := keys.Add(context.Background(), audit.Entry{Actor: "test"}, "市民通 App")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, h: ws.Handler(), fake: fake, keys: keys, key: secret, now: now}
}

type resp struct {
	status int
	ctype  string
	body   string
	hdr    http.Header
}

func (e *env) do(method, path string, form url.Values) resp {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), rec.Header()}
}

func (e *env) get(path string) resp { return e.do("GET", path, nil) }

// check asserts the format's content type and, for XML, the declaration
// and well-formedness.
func (r resp) check(t *testing.T, format string) {
	t.Helper()
	switch format {
	case formatXML:
		if r.ctype != "text/xml; charset=utf-8" {
			t.Errorf("content type %q, want text/xml; charset=utf-8", r.ctype)
		}
		if !strings.HasPrefix(r.body, `<?xml version="1.0" encoding="UTF-8"?>`) {
			t.Errorf("XML without the declaration: %.80q", r.body)
		}
		dec := xml.NewDecoder(strings.NewReader(r.body))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("malformed XML: %v\n%s", err, r.body)
			}
		}
	case formatJSON:
		if r.ctype != "application/json; charset=utf-8" {
			t.Errorf("content type %q, want application/json; charset=utf-8", r.ctype)
		}
		if !json.Valid([]byte(r.body)) {
			t.Fatalf("malformed JSON: %s", r.body)
		}
	}
}

// errorsOf decodes the spec's error list in either format.
func (r resp) errorsOf(t *testing.T, format string) []apiError {
	t.Helper()
	r.check(t, format)
	var errs []apiError
	if format == formatXML {
		var x xmlErrors
		if err := xml.Unmarshal([]byte(r.body), &x); err != nil || x.XMLName.Local != "errors" {
			t.Fatalf("not an <errors> document: %v\n%s", err, r.body)
		}
		errs = x.Errors
	} else if err := json.Unmarshal([]byte(r.body), &errs); err != nil {
		t.Fatalf("not a JSON error array: %v\n%s", err, r.body)
	}
	if len(errs) == 0 {
		t.Fatalf("empty error list: %s", r.body)
	}
	for _, e := range errs {
		if e.Code != r.status || e.Description == "" {
			t.Errorf("error entry %+v: want code %d and a description", e, r.status)
		}
	}
	return errs
}

// wantError asserts status and that some description mentions each word.
func (r resp) wantError(t *testing.T, format string, status int, words ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	errs := r.errorsOf(t, format)
	all := ""
	for _, e := range errs {
		all += e.Description + "\n"
	}
	for _, w := range words {
		if !strings.Contains(all, w) {
			t.Errorf("error descriptions %q do not mention %q", all, w)
		}
	}
}

// jsonList decodes a JSON array of objects.
func (r resp) jsonList(t *testing.T) []map[string]any {
	t.Helper()
	r.check(t, formatJSON)
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, r.body)
	}
	return out
}

func (r resp) xmlRequests(t *testing.T) []request {
	t.Helper()
	r.check(t, formatXML)
	var x xmlRequests
	if err := xml.Unmarshal([]byte(r.body), &x); err != nil || x.XMLName.Local != "service_requests" {
		t.Fatalf("not a <service_requests> document: %v\n%s", err, r.body)
	}
	return x.Requests
}

func (e *env) validForm() url.Values {
	return url.Values{"api_key": {e.key}, "service_code": {"0101"}, "lat": {"31.2304"}, "long": {"121.4737"},
		"address_string": {"人民路 100 号"}, "description": {"人民路 100 号门口路面塌陷，有一个大坑。"},
		"email": {"zhang.san@example.cn"}, "first_name": {"锦程"}, "last_name": {"欧阳"}, "phone": {"13812345678"},
		"device_id": {"dev-7788"}, "account_id": {"acct-4455"}, "media_url": {"https://img.example.cn/1.jpg"},
		"attribute[DEPTH]": {"30cm"}, "attribute[SIDE][]": {"north", "east"}}
}

var zTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

func TestDiscoveryInBothFormats(t *testing.T) {
	e := newEnv(t)
	for _, f := range formats {
		r := e.get("/open311/v2/discovery." + f)
		if r.status != 200 {
			t.Fatalf("%s: status %d", f, r.status)
		}
		r.check(t, f)
		var d discovery
		if f == formatXML {
			if err := xml.Unmarshal([]byte(r.body), &d); err != nil {
				t.Fatal(err)
			}
		} else if err := json.Unmarshal([]byte(r.body), &d); err != nil {
			t.Fatal(err)
		}
		if r.hdr.Get("Content-Security-Policy") == "" || r.hdr.Get("X-Content-Type-Options") != "nosniff" || r.hdr.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: the security headers are missing: %v", f, r.hdr)
		}
		if len(d.Endpoints) != 1 || d.Endpoints[0].URL != "https://gov.example.cn/open311/v2" ||
			d.Endpoints[0].Specification != "http://wiki.open311.org/GeoReport_v2" ||
			strings.Join(d.Endpoints[0].Formats, ",") != "text/xml,application/json" || !zTime.MatchString(d.Changeset) {
			t.Errorf("%s: discovery %+v", f, d)
		}
	}
}

func TestServicesInBothFormats(t *testing.T) {
	e := newEnv(t)
	r := e.get("/open311/v2/services.json")
	list := r.jsonList(t)
	if len(list) != 3 {
		t.Fatalf("%d services, want 3: %s", len(list), r.body)
	}
	s := list[0]
	if s["service_code"] != "0101" || s["service_name"] != "道路破损" || s["group"] != "城市管理" || s["metadata"] != false ||
		s["type"] != "realtime" || s["keywords"] != "道路, 坑洼" || s["description"] != "路面坑洼、井盖缺失" {
		t.Errorf("first service %v", s)
	}
	if list[1]["description"] != nil {
		t.Errorf("an empty description should be null: %v", list[1])
	}
	r = e.get("/open311/v2/services.xml")
	r.check(t, formatXML)
	var x xmlServices
	if err := xml.Unmarshal([]byte(r.body), &x); err != nil || len(x.Services) != 3 {
		t.Fatalf("services.xml: %v %s", err, r.body)
	}
	if x.Services[2].ServiceCode != "0201" || x.Services[2].Group != "生态环境" || x.Services[2].Type != "realtime" {
		t.Errorf("services.xml third: %+v", x.Services[2])
	}
}

func TestServiceDefinitionAndUnknownCode(t *testing.T) {
	e := newEnv(t)
	r := e.get("/open311/v2/services/0101.json")
	r.check(t, formatJSON)
	var def map[string]any
	if err := json.Unmarshal([]byte(r.body), &def); err != nil || def["service_code"] != "0101" {
		t.Fatalf("definition: %v %s", err, r.body)
	}
	if a, ok := def["attributes"].([]any); !ok || len(a) != 0 {
		t.Errorf("attributes should be an empty list: %s", r.body)
	}
	r = e.get("/open311/v2/services/0101.xml")
	r.check(t, formatXML)
	if !strings.Contains(r.body, "<service_definition>") || !strings.Contains(r.body, "<service_code>0101</service_code>") {
		t.Errorf("definition XML: %s", r.body)
	}
	for _, f := range formats {
		e.get("/open311/v2/services/9999."+f).wantError(t, f, 404, "service_code", "9999")
	}
	// A resource without a known format is a 404 too.
	e.get("/open311/v2/services/0201.csv").wantError(t, formatXML, 404, ".xml")
	e.get("/open311/v2/services.csv").wantError(t, formatXML, 404)
}

func TestPostRequestCreatesAndShowsNoPersonalData(t *testing.T) {
	e := newEnv(t)
	for i, f := range formats {
		r := e.do("POST", "/open311/v2/requests."+f, e.validForm())
		if r.status != 200 {
			t.Fatalf("%s: status %d: %s", f, r.status, r.body)
		}
		r.check(t, f)
		var id string
		if f == formatJSON {
			list := r.jsonList(t)
			if len(list) != 1 || list[0]["service_notice"] != "5 个工作日内答复" || list[0]["account_id"] != nil {
				t.Fatalf("POST json: %s", r.body)
			}
			id, _ = list[0]["service_request_id"].(string)
			if _, ok := list[0]["token"]; ok {
				t.Error("a realtime service must not return a token")
			}
		} else {
			var x xmlCreated
			if err := xml.Unmarshal([]byte(r.body), &x); err != nil || len(x.Requests) != 1 {
				t.Fatalf("POST xml: %v %s", err, r.body)
			}
			id = x.Requests[0].ServiceRequestID
		}
		if id == "" || e.fake.count() != i+1 {
			t.Fatalf("%s: id %q, %d submitted", f, id, e.fake.count())
		}
		got := e.fake.submitted[i]
		if got.KeyName != "市民通 App" || got.Phone != "13812345678" || got.Email != "zhang.san@example.cn" ||
			*got.Lat != 31.2304 || *got.Long != 121.4737 || got.Address != "人民路 100 号" ||
			strings.Join(got.Attributes["SIDE"], ",") != "north,east" || strings.Join(got.Attributes["DEPTH"], ",") != "30cm" {
			t.Errorf("backend got %+v", got)
		}
		// The request as anyone can read it.
		for _, g := range formats {
			r := e.get("/open311/v2/requests/" + id + "." + g)
			if r.status != 200 {
				t.Fatalf("GET %s.%s: %d %s", id, g, r.status, r.body)
			}
			noPersonalData(t, r.body)
			if g == formatJSON {
				rq := r.jsonList(t)[0]
				if rq["service_request_id"] != id || rq["status"] != "open" || rq["service_code"] != "0101" || rq["lat"] != 31.2304 ||
					rq["agency_responsible"] != "市城市管理局" || rq["requested_datetime"] != "2026-11-25T06:30:00Z" ||
					rq["expected_datetime"] != "2026-12-02T06:30:00Z" || rq["status_notes"] != nil {
					t.Errorf("request json: %v", rq)
				}
			} else {
				rs := r.xmlRequests(t)
				if len(rs) != 1 || rs[0].ServiceRequestID != id || rs[0].Address != "人民路 100 号" || rs[0].UpdatedDatetime != "2026-11-25T06:30:00Z" {
					t.Errorf("request xml: %+v", rs)
				}
			}
		}
	}
	// The list and the token lookup show no personal data either.
	for _, f := range formats {
		noPersonalData(t, e.get("/open311/v2/requests."+f).body)
		noPersonalData(t, e.get("/open311/v2/tokens/"+e.fake.reqs[0].ID+"."+f).body)
	}
}

func noPersonalData(t *testing.T, body string) {
	t.Helper()
	for _, p := range []string{"13812345678", "zhang.san", "欧阳", "锦程", "dev-7788", "acct-4455", "phone", "email", "first_name", "last_name"} {
		if strings.Contains(body, p) {
			t.Errorf("response carries personal data %q: %s", p, body)
		}
	}
}

func TestPostRequestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	revoked, k, err := e.keys.Add(context.Background(), audit.Entry{Actor: "test"}, "old app")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.keys.Revoke(context.Background(), audit.Entry{Actor: "test"}, k.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(v url.Values)
		status int
		words  []string
	}{
		{"missing key", func(v url.Values) { v.Del("api_key") }, 403, []string{"api_key"}},
		{"bad key", func(v url.Values) { v.Set("api_key", "o311_nope") }, 403, []string{"api_key"}},
		{"revoked key", func(v url.Values) { v.Set("api_key", revoked) }, 403, []string{"api_key"}},
		{"no service_code", func(v url.Values) { v.Del("service_code") }, 400, []string{"service_code"}},
		{"unknown service_code", func(v url.Values) { v.Set("service_code", "9999") }, 404, []string{"service_code", "9999"}},
		{"no location", func(v url.Values) { v.Del("lat"); v.Del("long"); v.Del("address_string") }, 400, []string{"lat", "address_string", "address_id"}},
		{"lat without long", func(v url.Values) { v.Del("long") }, 400, []string{"lat and long"}},
		{"lat out of range", func(v url.Values) { v.Set("lat", "90.5") }, 400, []string{"lat must be between -90 and 90"}},
		{"long out of range", func(v url.Values) { v.Set("long", "-180.01") }, 400, []string{"long must be between -180 and 180"}},
		{"lat not a number", func(v url.Values) { v.Set("lat", "north") }, 400, []string{"lat must be a number"}},
		{"lat NaN", func(v url.Values) { v.Set("lat", "NaN") }, 400, []string{"lat must be a number"}},
		{"description too long", func(v url.Values) { v.Set("description", strings.Repeat("坑", 4001)) }, 400, []string{"description", "4000", "4001"}},
		{"bad media_url", func(v url.Values) { v.Set("media_url", "javascript:alert(1)") }, 400, []string{"media_url"}},
		{"bad attribute name", func(v url.Values) { v.Set("attribute[]", "x") }, 400, []string{"attribute[]"}},
		{"two problems at once", func(v url.Values) { v.Del("service_code"); v.Set("lat", "100") }, 400, []string{"service_code", "lat"}},
	}
	for _, c := range cases {
		for _, f := range formats {
			t.Run(c.name+"/"+f, func(t *testing.T) {
				v := e.validForm()
				c.change(v)
				e.do("POST", "/open311/v2/requests."+f, v).wantError(t, f, c.status, c.words...)
				if n := e.fake.count(); n != 0 {
					t.Fatalf("%d requests submitted after bad input", n)
				}
			})
		}
	}
	// A body that is not a form is refused, and 4000 characters are fine.
	req := httptest.NewRequest("POST", "/open311/v2/requests.json", strings.NewReader(`{"service_code":"0101"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	resp{rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), rec.Header()}.wantError(t, formatJSON, 400, "x-www-form-urlencoded")
	v := e.validForm()
	v.Set("description", strings.Repeat("坑", 4000))
	if r := e.do("POST", "/open311/v2/requests.json", v); r.status != 200 || e.fake.count() != 1 {
		t.Fatalf("4000 characters: %d %s", r.status, r.body)
	}
	// address_id alone is a location.
	v = url.Values{"api_key": {e.key}, "service_code": {"0102"}, "address_id": {"A-1001"}}
	if r := e.do("POST", "/open311/v2/requests.xml", v); r.status != 200 {
		t.Fatalf("address_id only: %d %s", r.status, r.body)
	}
}

func TestGetRequestsQueries(t *testing.T) {
	e := newEnv(t)
	at := func(days int) time.Time { return e.now.Add(-time.Duration(days) * 24 * time.Hour) }
	// Requested in +08:00: the API must answer in UTC with Z.
	cst := time.FixedZone("CST", 8*3600)
	e.fake.add(Request{ID: "A1", Status: "open", ServiceCode: "0101", ServiceName: "道路破损", Requested: at(1).In(cst), Updated: at(1).In(cst)})
	e.fake.add(Request{ID: "A2", Status: "closed", ServiceCode: "0201", ServiceName: "噪声扰民", Requested: at(10), Updated: at(2), StatusNotes: "已处理"})
	e.fake.add(Request{ID: "A3", Status: "open", ServiceCode: "0102", ServiceName: "占道经营", Requested: at(30)})
	e.fake.add(Request{ID: "OLD", Status: "closed", ServiceCode: "0101", ServiceName: "道路破损", Requested: at(120)})
	ids := func(r resp) string {
		var out []string
		for _, m := range r.jsonList(t) {
			out = append(out, m["service_request_id"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ query, want string }{
		{"", "A1,A2,A3"}, // default: the last 90 days, newest first
		{"?status=open", "A1,A3"},
		{"?status=closed", "A2"},
		{"?status=open,closed", "A1,A2,A3"},
		{"?service_code=0101", "A1"},
		{"?service_code=0101,0201", "A1,A2"},
		{"?service_code=0101&service_code=0201", "A1,A2"}, // declared twice
		{"?status=open&status=closed&page_size=", "A1,A2,A3"},
		{"?service_request_id=A3&service_request_id=A1", "A1,A3"},
		{"?service_code=0101,0201,0102&page=2&page_size=2", "A3"},
		{"?page_size=2", "A1,A2"},
		{"?page=2&page_size=2", "A3"},
		{"?page=3&page_size=2", ""},
		{"?start_date=2026-07-01T00:00:00Z&end_date=2026-09-01T00:00:00%2B08:00", "OLD"},
		{"?start_date=" + url.QueryEscape(at(20).Format(time.RFC3339)), "A1,A2"},
		{"?end_date=" + url.QueryEscape(at(5).Format(time.RFC3339)), "A2,A3"},
		{"?service_request_id=OLD,A2,NOPE&status=open", "A2,OLD"}, // ids override every other argument
		{"?jurisdiction_id=gov.example.cn", "A1,A2,A3"},
	} {
		if got := ids(e.get("/open311/v2/requests.json" + c.query)); got != c.want {
			t.Errorf("requests.json%s: %q, want %q", c.query, got, c.want)
		}
	}
	r := e.get("/open311/v2/requests.xml?status=closed")
	rs := r.xmlRequests(t)
	if len(rs) != 1 || rs[0].ServiceRequestID != "A2" || string(rs[0].StatusNotes) != "已处理" || rs[0].UpdatedDatetime != utc(at(2)) {
		t.Errorf("requests.xml: %+v", rs)
	}
	a1 := e.get("/open311/v2/requests/A1.json").jsonList(t)[0]
	if a1["requested_datetime"] != "2026-11-24T06:30:00Z" || a1["expected_datetime"] != nil {
		t.Errorf("A1 datetimes not in UTC with Z: %v", a1)
	}
	for _, field := range []string{"requested_datetime", "updated_datetime"} {
		for _, m := range e.get("/open311/v2/requests.json").jsonList(t) {
			if s, _ := m[field].(string); !zTime.MatchString(s) {
				t.Errorf("%s %q does not end in Z", field, s)
			}
		}
	}
	for _, c := range []struct{ query, word string }{
		{"?start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z", "90 days"},
		{"?start_date=2026-05-01T00:00:00Z&end_date=2026-04-02T00:00:00Z", "before start_date"},
		{"?start_date=2026-05-01", "start_date"},
		{"?end_date=yesterday", "end_date"},
		{"?status=pending", "status"},
		{"?page=0", "page"},
		{"?page_size=1001", "page_size"},
		{"?page_size=ten", "page_size"},
	} {
		for _, f := range formats {
			e.get("/open311/v2/requests."+f+c.query).wantError(t, f, 400, c.word)
		}
	}
	// Exactly 90 days is allowed.
	if r := e.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-04-01T00:00:00Z"); r.status != 200 {
		t.Errorf("90 days: %d %s", r.status, r.body)
	}
}

func TestGetRequestAndTokenUnknown(t *testing.T) {
	e := newEnv(t)
	e.fake.add(Request{ID: "B7", Status: "open", ServiceCode: "0101", ServiceName: "道路破损", Requested: e.now})
	for _, f := range formats {
		e.get("/open311/v2/requests/NOPE."+f).wantError(t, f, 404, "NOPE")
		e.get("/open311/v2/tokens/NOPE."+f).wantError(t, f, 404, "token")
		r := e.get("/open311/v2/tokens/B7." + f)
		if r.status != 200 {
			t.Fatalf("token: %d %s", r.status, r.body)
		}
		r.check(t, f)
		if !strings.Contains(r.body, "B7") || !strings.Contains(r.body, "token") {
			t.Errorf("token answer: %s", r.body)
		}
	}
	e.get("/open311/v2/requests/B7").wantError(t, formatXML, 404)
	e.get("/open311/v2/nothing.json").wantError(t, formatJSON, 404)
}

func TestBackendFailureIsTheSpecs400(t *testing.T) {
	e := newEnv(t)
	e.fake.fail = errors.New("database is down")
	for _, f := range formats {
		e.get("/open311/v2/services."+f).wantError(t, f, 400, "general service error")
		e.get("/open311/v2/requests."+f).wantError(t, f, 400, "general service error")
		r := e.do("POST", "/open311/v2/requests."+f, e.validForm())
		r.wantError(t, f, 400, "general service error")
		if strings.Contains(r.body, "database is down") {
			t.Error("internal error text leaked to the client")
		}
	}
}

func TestWithoutBackendTheServiceIsNotRunning(t *testing.T) {
	d := dbtest.Open(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws := web.NewServer(web.Config{}, nil, log)
	if err := New(nil, NewKeys(d, audit.New(d), nil), nil, log).Register(ws); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ws.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/open311/v2/services.json", nil))
	resp{rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), rec.Header()}.wantError(t, formatJSON, 400, "not running")
	rec = httptest.NewRecorder()
	ws.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/open311/v2/discovery.xml", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "http://example.com/open311/v2") {
		t.Errorf("discovery without backend and base URL: %d %s", rec.Code, rec.Body.String())
	}
}

func TestPostRequestAsMultipartForm(t *testing.T) {
	e := newEnv(t)
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	for k, vs := range e.validForm() {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/open311/v2/requests.xml", strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 200 || e.fake.count() != 1 || e.fake.submitted[0].KeyName != "市民通 App" {
		t.Fatalf("multipart POST: %d %s", rec.Code, rec.Body.String())
	}
	// A body over 1 MiB is refused and creates nothing.
	big := strings.NewReader("api_key=" + e.key + "&service_code=0101&address_string=x&description=" + strings.Repeat("a", 2<<20))
	req = httptest.NewRequest("POST", "/open311/v2/requests.json", big)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 400 || e.fake.count() != 1 {
		t.Fatalf("2 MiB body: %d, %d submitted", rec.Code, e.fake.count())
	}
}

func TestSeveralServiceCodesPageThroughMoreThanOneBackendPage(t *testing.T) {
	e := newEnv(t)
	for i := range 1500 {
		code := []string{"0101", "0201"}[i%2]
		e.fake.add(Request{ID: fmt.Sprintf("R%04d", i), Status: "open", ServiceCode: code, Requested: e.now.Add(-time.Duration(i) * time.Minute)})
	}
	e.fake.add(Request{ID: "OTHER", Status: "open", ServiceCode: "0102", Requested: e.now})
	page1 := e.get("/open311/v2/requests.json?service_code=0101,0201&page_size=1000").jsonList(t)
	page2 := e.get("/open311/v2/requests.json?service_code=0101,0201&page=2&page_size=1000").jsonList(t)
	if len(page1) != 1000 || len(page2) != 500 || page1[0]["service_request_id"] != "R0000" || page1[999]["service_request_id"] != "R0999" ||
		page2[0]["service_request_id"] != "R1000" || page2[499]["service_request_id"] != "R1499" {
		t.Fatalf("pages of %d and %d", len(page1), len(page2))
	}
	if all := e.get("/open311/v2/requests.json").jsonList(t); len(all) != 1000 {
		t.Errorf("the default answer has %d requests, want at most 1000", len(all))
	}
}

func TestServiceAttributesAreDefinedAndChecked(t *testing.T) {
	e := newEnv(t)
	list := e.get("/open311/v2/services.json").jsonList(t)
	if list[0]["metadata"] != false || list[2]["metadata"] != true {
		t.Errorf("metadata: %v / %v", list[0]["metadata"], list[2]["metadata"])
	}
	r := e.get("/open311/v2/services/0201.json")
	r.check(t, formatJSON)
	var def struct {
		ServiceCode string `json:"service_code"`
		Attributes  []struct {
			Variable bool   `json:"variable"`
			Code     string `json:"code"`
			Datatype string `json:"datatype"`
			Required bool   `json:"required"`
			Order    int    `json:"order"`
			Values   []struct{ Key, Name string }
		} `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(r.body), &def); err != nil || len(def.Attributes) != 4 {
		t.Fatalf("definition: %v %s", err, r.body)
	}
	if a := def.Attributes[0]; a.Code != "kind" || a.Datatype != "singlevaluelist" || !a.Variable || a.Order != 1 || len(a.Values) != 2 || a.Values[1].Key != "complaint" || a.Values[1].Name != "投诉" {
		t.Errorf("kind attribute: %+v", a)
	}
	if a := def.Attributes[1]; a.Code != "when" || !a.Required || a.Order != 2 {
		t.Errorf("when attribute: %+v", a)
	}
	x := e.get("/open311/v2/services/0201.xml")
	x.check(t, formatXML)
	for _, want := range []string{"<code>kind</code>", "<datatype>singlevaluelist</datatype>", "<values>", "<key>help</key>", "<name>求助</name>", "<required>true</required>"} {
		if !strings.Contains(x.body, want) {
			t.Errorf("definition XML lacks %s: %s", want, x.body)
		}
	}

	form := func() url.Values {
		return url.Values{"api_key": {e.key}, "service_code": {"0201"}, "address_string": {"幸福小区 3 栋"},
			"attribute[when]": {"2026-11-24T23:30:00+08:00"}, "attribute[kind]": {"complaint"}, "attribute[floors]": {"3"},
			"attribute[sources][]": {"site", "shop"}}
	}
	for _, c := range []struct {
		name   string
		change func(url.Values)
		word   string
	}{
		{"required missing", func(v url.Values) { v.Del("attribute[when]") }, "attribute[when] is required"},
		{"not in the list", func(v url.Values) { v.Set("attribute[kind]", "praise") }, "attribute[kind] must be one of help, complaint"},
		{"two values for one", func(v url.Values) { v["attribute[kind]"] = []string{"help", "complaint"} }, "attribute[kind] takes one value"},
		{"multi not in the list", func(v url.Values) { v["attribute[sources][]"] = []string{"site", "moon"} }, "attribute[sources] values must be among site, shop"},
		{"not a number", func(v url.Values) { v.Set("attribute[floors]", "three") }, "attribute[floors] must be one number"},
		{"not a datetime", func(v url.Values) { v.Set("attribute[when]", "last night") }, "attribute[when] must be one w3 datetime"},
	} {
		for _, f := range formats {
			v := form()
			c.change(v)
			e.do("POST", "/open311/v2/requests."+f, v).wantError(t, f, 400, c.word)
		}
	}
	if e.fake.count() != 0 {
		t.Fatalf("bad attributes submitted %d requests", e.fake.count())
	}
	if r := e.do("POST", "/open311/v2/requests.json", form()); r.status != 200 {
		t.Fatalf("good attributes: %d %s", r.status, r.body)
	}
	got := e.fake.submitted[0].Attributes
	if got["kind"][0] != "complaint" || strings.Join(got["sources"], ",") != "site,shop" || got["when"][0] != "2026-11-24T23:30:00+08:00" {
		t.Errorf("attributes passed on: %v", got)
	}
}
