package assess_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/web"
)

const password = "Kx7-horse-Battery"

type httpEnv struct {
	*env
	srv    *httptest.Server
	tokens map[string]string
}

// newHTTPEnv adds accounts (sup, lead, lia_a of unit A, head_b of unit B,
// viewer) and serves the API and pages.
func newHTTPEnv(t *testing.T) *httpEnv {
	e := newEnv(t)
	al := audit.New(e.d)
	settings := auth.DefaultSettings()
	settings.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	settings.LoginPerMinute = 1000
	as := auth.NewService(e.d, al, settings, e.clock.Now)
	for _, u := range []struct {
		name string
		role auth.Role
		unit int64
	}{{"sup", auth.RoleSupervisor, 0}, {"lead", auth.RoleLeader, 0}, {"lia_a", auth.RoleLiaison, e.units[0]}, {"head_b", auth.RoleUnitHead, e.units[1]}, {"viewer", auth.RoleViewer, 0}} {
		nu := auth.NewUser{Username: u.name, Password: password, Roles: []auth.Role{u.role}}
		if u.unit != 0 {
			unit := u.unit
			nu.UnitID = &unit
		}
		if _, err := as.CreateUser(e.ctx, audit.Entry{Actor: "test"}, nu); err != nil {
			t.Fatal(err)
		}
	}
	ws := web.NewServer(web.Config{}, as, slog.New(slog.DiscardHandler))
	if err := e.s.Register(ws); err != nil {
		t.Fatal(err)
	}
	h := &httpEnv{env: e, srv: httptest.NewServer(ws.Handler()), tokens: map[string]string{}}
	t.Cleanup(h.srv.Close)
	return h
}

func (h *httpEnv) do(method, path, user string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+h.token(user))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (h *httpEnv) token(user string) string {
	if tok, ok := h.tokens[user]; ok {
		return tok
	}
	b, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(h.srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if out.Token == "" {
		h.t.Fatalf("login %s: status %d", user, resp.StatusCode)
	}
	h.tokens[user] = out.Token
	return out.Token
}

func errCode(b []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal(b, &e)
	return e.Error.Code
}

func TestAPIShowcaseDailyReportsSchemesAndExports(t *testing.T) {
	h := newHTTPEnv(t)
	h.values["2026-10"] = metric.Values{h.units[0]: 70, h.units[1]: 90, h.units[2]: 80}

	// A liaison files the daily report; a supervisor cannot.
	st, b := h.do("POST", "/api/v1/daily-reports", "lia_a", map[string]string{"done": "完成材料审核", "problems": "无"})
	if st != http.StatusCreated {
		t.Fatalf("file daily report: %d %s", st, b)
	}
	if st, _ := h.do("POST", "/api/v1/daily-reports", "sup", map[string]string{"done": "x"}); st != http.StatusForbidden {
		t.Fatalf("supervisor filed a daily report: %d", st)
	}
	st, b = h.do("GET", "/api/v1/daily-reports?unit_id="+itoa(h.units[0]), "viewer", nil)
	if st != http.StatusOK || !strings.Contains(string(b), "完成材料审核") {
		t.Fatalf("daily list: %d %s", st, b)
	}

	// Viewers see only published months; publishing takes a supervisor.
	if st, b := h.do("GET", "/api/v1/showcase/2026-10", "viewer", nil); st != http.StatusNotFound || errCode(b) != "not_published" {
		t.Fatalf("unpublished showcase to a viewer: %d %s", st, b)
	}
	if st, _ := h.do("POST", "/api/v1/periods/2026-10/publish", "lia_a", nil); st != http.StatusForbidden {
		t.Fatalf("liaison published: %d", st)
	}
	if st, b := h.do("POST", "/api/v1/periods/2026-10/publish", "sup", nil); st != http.StatusOK {
		t.Fatalf("publish: %d %s", st, b)
	}
	st, b = h.do("GET", "/api/v1/showcase/2026-10", "viewer", nil)
	if st != http.StatusOK {
		t.Fatalf("showcase: %d %s", st, b)
	}
	var sc struct {
		Items []struct {
			UnitID   int64   `json:"unit_id"`
			UnitName string  `json:"unit_name"`
			Score    float64 `json:"score"`
			Rank     int     `json:"rank"`
			Movement *int    `json:"movement"`
			List     string  `json:"list"`
		} `json:"items"`
	}
	json.Unmarshal(b, &sc)
	if len(sc.Items) != 4 || sc.Items[0].UnitID != h.units[1] || sc.Items[0].Rank != 1 || sc.Items[0].List != "honour" || sc.Items[0].UnitName != "科室B" {
		t.Fatalf("showcase items %+v", sc.Items)
	}
	if sc.Items[2].UnitID != h.units[0] || sc.Items[2].List != "watch" || sc.Items[3].Rank != 0 {
		t.Fatalf("showcase items %+v: want A on the watch list and D (no data) unranked last", sc.Items)
	}
	st, b = h.do("GET", "/api/v1/periods", "viewer", nil)
	if st != http.StatusOK || !strings.Contains(string(b), `"key":"2026-10"`) {
		t.Fatalf("periods: %d %s", st, b)
	}

	// Scheme weights: the 422 states the sum; nothing is saved.
	bad := map[string]any{"year": 2026, "name": "方案", "criteria": []map[string]any{
		{"code": "A", "name": "实绩", "weight": 70, "method": "metric", "metric": testMetric, "rule": map[string]any{"kind": "rank"}},
		{"code": "B", "name": "评价", "weight": 20, "method": "rating"}}}
	st, b = h.do("POST", "/api/v1/schemes", "sup", bad)
	if st != http.StatusUnprocessableEntity || !strings.Contains(string(b), "90") {
		t.Fatalf("bad weights: %d %s", st, b)
	}
	if st, _ := h.do("GET", "/api/v1/schemes/2026", "viewer", nil); st != http.StatusNotFound {
		t.Fatalf("a refused scheme was saved: %d", st)
	}
	bad["criteria"].([]map[string]any)[1]["weight"] = 30
	if st, b := h.do("POST", "/api/v1/schemes", "sup", bad); st != http.StatusCreated {
		t.Fatalf("good scheme: %d %s", st, b)
	}
	// Ratings: one's own unit is refused, another's stored.
	if st, b := h.do("POST", "/api/v1/ratings", "head_b", map[string]any{"year": 2026, "criterion": "B", "unit_id": h.units[1], "score": 90}); st != http.StatusUnprocessableEntity || errCode(b) != "invalid_unit_id" {
		t.Fatalf("own-unit rating: %d %s", st, b)
	}
	if st, b := h.do("POST", "/api/v1/ratings", "head_b", map[string]any{"year": 2026, "criterion": "B", "unit_id": h.units[0], "score": 101}); st != http.StatusUnprocessableEntity || errCode(b) != "invalid_score" {
		t.Fatalf("rating 101: %d %s", st, b)
	}
	if st, b := h.do("POST", "/api/v1/ratings", "head_b", map[string]any{"year": 2026, "criterion": "B", "unit_id": h.units[0], "score": 88}); st != http.StatusCreated {
		t.Fatalf("rating: %d %s", st, b)
	}
	st, b = h.do("GET", "/api/v1/evaluations/2026", "sup", nil)
	if st != http.StatusOK || !strings.Contains(string(b), `"grade"`) || !strings.Contains(string(b), `"trace"`) {
		t.Fatalf("evaluation: %d %s", st, b)
	}
	if st, _ := h.do("GET", "/api/v1/evaluations/2026", "viewer", nil); st != http.StatusNotFound {
		t.Fatalf("viewer saw an unpublished evaluation: %d", st)
	}

	// Exports are real xlsx files.
	for _, p := range []string{"/api/v1/assess/exports/showcase?period=2026-10", "/api/v1/assess/exports/daily", "/api/v1/assess/exports/evaluation?year=2026"} {
		st, b := h.do("GET", p, "sup", nil)
		if st != http.StatusOK {
			t.Fatalf("%s: %d %s", p, st, b)
		}
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not xlsx: %v", p, err)
		}
		rows, _ := f.GetRows(f.GetSheetList()[0])
		if len(rows) < 2 {
			t.Fatalf("%s: %d rows", p, len(rows))
		}
		f.Close()
	}
	if st, _ := h.do("GET", "/api/v1/assess/exports/ratings?year=2026", "viewer", nil); st != http.StatusForbidden {
		t.Fatalf("viewer exported ratings: %d", st)
	}
	if st, _ := h.do("GET", "/api/v1/assess/exports/nonsense", "viewer", nil); st != http.StatusNotFound {
		t.Fatalf("unknown export: %d", st)
	}
}

func TestPagesRender(t *testing.T) {
	h := newHTTPEnv(t)
	h.values["2026-10"] = metric.Values{h.units[0]: 70, h.units[1]: 90}
	if _, err := h.s.Publish(h.ctx, h.supervisor(), "2026-10", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Publish(h.ctx, h.supervisor(), "2026-H1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.SaveScheme(h.ctx, h.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/assess", "/assess/daily", "/assess/showcase/2026-10", "/assess/showcase/2026-10/poster", "/assess/exhibition/2026-H1",
		"/assess/exhibition/2026-H1/print", "/assess/achievements", "/assess/evaluation/2026", "/assess/digest?kind=month&unit_id=" + itoa(h.units[0]), "/assess/rate/2026"} {
		for _, u := range []string{"sup", "lead", "lia_a"} {
			st, b := h.do("GET", p, u, nil)
			want := http.StatusOK
			switch {
			case p == "/assess/rate/2026" && u != "lead":
				want = http.StatusForbidden // only raters
			case p == "/assess/evaluation/2026" && u == "lia_a":
				want = http.StatusNotFound // not published yet
			}
			if st != want {
				t.Errorf("%s as %s: %d, want %d: %.300s", p, u, st, want, b)
			}
			if strings.Contains(string(b), "style=") || strings.Contains(string(b), "<script>") {
				t.Errorf("%s has inline style or script", p)
			}
		}
	}
}

func itoa(n int64) string { return strings.TrimSpace(strings.ReplaceAll(string(mustJSON(n)), `"`, "")) }

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// ballots writes a ballot workbook with the given rows.
func ballots(t *testing.T, rows [][]any) []byte {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetRow("Sheet1", "A1", &[]any{"评议组", "选票编号", "评分人单位代码", "被评单位代码", "指标代码", "分数"})
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("Sheet1", cell, &r)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBallotImportIsAllOrNothing(t *testing.T) {
	h := newHTTPEnv(t)
	if _, err := h.s.SaveScheme(h.ctx, h.supervisor(), scheme(2026)); err != nil {
		t.Fatal(err)
	}
	bad := ballots(t, [][]any{
		{"recipients", 1, "", "B", "B2", 88},
		{"nobody", 2, "", "B", "B2", 70},
		{"leaders", 3, "C", "C", "B2", 70},
		{"leaders", 4, "", "B", "A1", 120},
	})
	_, err := h.s.ImportBallots(h.ctx, h.supervisor(), 2026, bad)
	ae := wantErr(t, err, http.StatusUnprocessableEntity, "import_invalid")
	text, _ := json.Marshal(ae.Details)
	for _, want := range []string{`"row":3`, "评议组", `"row":4`, "评分人单位代码", `"row":5`, "指标代码", "分数"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("row errors lack %s: %s", want, text)
		}
	}
	if n := h.count("assess_ratings"); n != 0 {
		t.Fatalf("%d ratings stored from a bad file", n)
	}
	// Groups other than the scheme's are refused; recipients is not in the test scheme.
	good := ballots(t, [][]any{{"leaders", 1, "", "B", "B2", 88}, {"peers", 2, "A", "B", "B2", 70}})
	n, err := h.s.ImportBallots(h.ctx, h.supervisor(), 2026, good)
	if err != nil || n != 2 {
		t.Fatalf("import: %d, %v", n, err)
	}
	rs, _ := h.s.Ratings(h.ctx, 2026)
	if len(rs) != 2 || rs[0].RaterID >= 0 {
		t.Fatalf("ratings %+v: want two ballots stored as negative rater ids", rs)
	}
	if st, _ := h.do("GET", "/assess/year/2026", "sup", nil); st != http.StatusOK {
		t.Fatalf("workbench as supervisor: %d", st)
	}
	if st, _ := h.do("GET", "/assess/year/2026", "lia_a", nil); st != http.StatusOK {
		t.Fatalf("workbench as liaison: %d", st)
	}
	if st, _ := h.do("GET", "/api/v1/ratings/template", "sup", nil); st != http.StatusOK {
		t.Fatalf("template: %d", st)
	}
}
