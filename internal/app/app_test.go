package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/app"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/config"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

func cheap() *auth.Settings {
	s := auth.DefaultSettings()
	s.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	s.LoginPerMinute = 100000
	return &s
}

func newApp(t *testing.T) *app.App {
	t.Helper()
	cfg := &config.Config{TZ: "Asia/Shanghai", Lang: "zh-CN", LogLevel: "info", PasswordPolicy: "level3", PasswordMaxAgeDays: -1, LoginPerMinute: 20, DataDir: t.TempDir()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, dbtest.Open(t), slog.New(slog.DiscardHandler), app.Options{Auth: cheap()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// usersByRole creates one account per role.
func usersByRole(t *testing.T, a *app.App) map[auth.Role]*auth.User {
	t.Helper()
	m := map[auth.Role]*auth.User{}
	for _, r := range auth.AllRoles {
		u, err := a.Auth.CreateUser(context.Background(), audit.Entry{Actor: "test"}, auth.NewUser{Username: "u_" + string(r), Password: "Walk-the-routes-1", Roles: []auth.Role{r}})
		if err != nil {
			t.Fatal(err)
		}
		m[r] = u
	}
	return m
}

var param = regexp.MustCompile(`\{[^}]+\}`)

// TestEveryRouteEnforcesTheMatrix walks every registered route with every
// role (and with no sign-in) and compares allow/deny with auth.Matrix.
func TestEveryRouteEnforcesTheMatrix(t *testing.T) {
	a := newApp(t)
	users := usersByRole(t, a)
	h := a.Handler()
	routes := a.Web.Routes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered; the walk would prove little", len(routes))
	}
	ctx := context.Background()
	for _, rt := range routes {
		if rt.Perm == "" {
			t.Errorf("%s has no permission", rt.Pattern())
		}
		path := param.ReplaceAllString(strings.TrimSuffix(rt.Path, "{$}"), "999999")
		if strings.HasSuffix(path, "/") && path != "/" {
			path += "x"
		}
		do := func(secret string) *http.Response {
			req := httptest.NewRequest(rt.Method, path, strings.NewReader(""))
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if secret != "" {
				req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Result()
		}
		// Nobody signed in.
		resp := do("")
		if rt.Perm != auth.PermPublic {
			if rt.API() && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s without sign-in: status %d, want 401", rt.Pattern(), resp.StatusCode)
			}
			if !rt.API() && (resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login")) {
				t.Errorf("%s without sign-in: status %d to %q, want a redirect to /login", rt.Pattern(), resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		for _, role := range auth.AllRoles {
			secret, err := a.Auth.CreateSession(ctx, users[role], "127.0.0.1", "walk")
			if err != nil {
				t.Fatal(err)
			}
			resp := do(secret)
			denied := resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-Biaogan-Error") == "permission_denied"
			want := auth.RoleHas(role, rt.Perm)
			if want && denied {
				t.Errorf("%s as %s: denied, but the matrix allows %s", rt.Pattern(), role, rt.Perm)
			}
			if !want && !denied {
				t.Errorf("%s as %s: status %d, but the matrix denies %s", rt.Pattern(), role, resp.StatusCode, rt.Perm)
			}
		}
	}
}

func TestOpenAPIDocumentsEveryAPIRoute(t *testing.T) {
	a := newApp(t)
	n := 0
	for _, rt := range a.Web.Routes() {
		if !rt.API() {
			continue
		}
		n++
		if !a.Web.OpenAPI.Has(rt.Method, rt.Path) {
			t.Errorf("%s is registered but missing from /api/v1/openapi.json", rt.Pattern())
		}
	}
	if n < 10 {
		t.Fatalf("only %d API routes", n)
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.OpenAPI == "" || len(doc.Paths) == 0 {
		t.Fatalf("openapi.json: %v %q", err, rec.Body.String()[:min(200, rec.Body.Len())])
	}
}

func TestUnknownAPIPathIsJSON404(t *testing.T) {
	a := newApp(t)
	for _, m := range []string{"GET", "POST", "DELETE"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(m, "/api/v1/no/such/thing", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		a.Handler().ServeHTTP(rec, req)
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if rec.Code != 404 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code != "not_found" {
			t.Errorf("%s unknown API path: %d %s", m, rec.Code, rec.Body.String())
		}
	}
}

func TestSecurityHeadersAndNoStore(t *testing.T) {
	a := newApp(t)
	users := usersByRole(t, a)
	secret, _ := a.Auth.CreateSession(context.Background(), users[auth.RoleViewer], "", "")
	req := httptest.NewRequest("GET", "/units", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("/units as viewer: %d", rec.Code)
	}
	h := rec.Header()
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	a := newApp(t)
	users := usersByRole(t, a)
	secret, _ := a.Auth.CreateSession(context.Background(), users[auth.RoleViewer], "", "")
	req := httptest.NewRequest("POST", "/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", rec.Code)
	}
	// The session survived.
	if p, _ := a.Auth.SessionPrincipal(context.Background(), secret); p == nil {
		t.Fatal("a refused cross-site logout still ended the session")
	}
}

func TestMessagesCompleteInBothLanguages(t *testing.T) {
	a := newApp(t)
	if missing := a.Web.Messages.Missing(); len(missing) > 0 {
		t.Fatalf("messages missing a translation:\n%s", strings.Join(missing, "\n"))
	}
}

func apiLogin(t *testing.T, h http.Handler, user, pw string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestLoginAPIAndLockout(t *testing.T) {
	a := newApp(t)
	usersByRole(t, a)
	h := a.Handler()
	rec := apiLogin(t, h, "u_viewer", "Walk-the-routes-1")
	var ok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &ok) != nil || ok.Token == "" || ok.ExpiresAt == "" {
		t.Fatalf("login: %d %s", rec.Code, rec.Body.String())
	}
	// The token works as a bearer token.
	req := httptest.NewRequest("GET", "/api/v1/units", nil)
	req.Header.Set("Authorization", "Bearer "+ok.Token)
	r2 := httptest.NewRecorder()
	h.ServeHTTP(r2, req)
	if r2.Code != 200 || !strings.Contains(r2.Body.String(), `"items"`) {
		t.Fatalf("GET /api/v1/units with token: %d %s", r2.Code, r2.Body.String())
	}
	// Wrong password and unknown user look the same.
	bad := apiLogin(t, h, "u_viewer", "wrong")
	unknown := apiLogin(t, h, "nobody", "wrong")
	if bad.Code != 401 || unknown.Code != 401 || bad.Body.String() != unknown.Body.String() {
		t.Fatalf("wrong password %d %s vs unknown user %d %s", bad.Code, bad.Body, unknown.Code, unknown.Body)
	}
	for i := 0; i < 3; i++ {
		apiLogin(t, h, "u_viewer", "wrong")
	}
	fifth := apiLogin(t, h, "u_viewer", "wrong")
	if fifth.Code != http.StatusLocked {
		t.Fatalf("5th failure: %d, want 423", fifth.Code)
	}
	right := apiLogin(t, h, "u_viewer", "Walk-the-routes-1")
	if right.Code != http.StatusLocked || !strings.Contains(right.Body.String(), "account_locked") || right.Header().Get("Retry-After") == "" {
		t.Fatalf("right password while locked: %d %s", right.Code, right.Body)
	}
	// Malformed JSON names the problem.
	req = httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username": "x",`))
	req.Header.Set("Content-Type", "application/json")
	r3 := httptest.NewRecorder()
	h.ServeHTTP(r3, req)
	if r3.Code != 400 || !strings.Contains(r3.Body.String(), "malformed_json") {
		t.Fatalf("malformed JSON: %d %s", r3.Code, r3.Body)
	}
	body, _ := io.ReadAll(r3.Body)
	_ = body
}

func TestLoginRateLimitPerIP(t *testing.T) {
	cfg := &config.Config{TZ: "UTC", Lang: "zh-CN", LogLevel: "info", PasswordPolicy: "level3", PasswordMaxAgeDays: -1, LoginPerMinute: 5, DataDir: t.TempDir()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := cheap()
	s.LoginPerMinute = 5
	a, err := app.New(cfg, dbtest.Open(t), slog.New(slog.DiscardHandler), app.Options{Auth: s})
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	var last *httptest.ResponseRecorder
	for i := 0; i < 6; i++ {
		last = apiLogin(t, h, fmt.Sprintf("nobody%d", i), "x")
	}
	if last.Code != http.StatusTooManyRequests || !strings.Contains(last.Body.String(), "rate_limited") || last.Header().Get("Retry-After") == "" {
		t.Fatalf("6th attempt in a minute from one IP: %d %s", last.Code, last.Body)
	}
	// Another client address is not held back by the first one's attempts.
	req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"nobody","password":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "192.0.2.7:4000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("other IP: %d, want 401", rec.Code)
	}
}

func TestSecureCookiesAndHSTSBehindTLS(t *testing.T) {
	cfg := &config.Config{TZ: "UTC", Lang: "zh-CN", LogLevel: "info", PasswordPolicy: "level3", PasswordMaxAgeDays: -1, LoginPerMinute: 20,
		DataDir: t.TempDir(), BaseURL: "https://dbd.example.gov.cn"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, dbtest.Open(t), slog.New(slog.DiscardHandler), app.Options{Auth: cheap()})
	if err != nil {
		t.Fatal(err)
	}
	usersByRole(t, a)
	form := strings.NewReader("username=u_viewer&password=Walk-the-routes-1")
	req := httptest.NewRequest("POST", "/login", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind TLS")
	}
	c := rec.Result().Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || !strings.HasPrefix(c[0].Name, "__Host-") {
		t.Fatalf("session cookie %+v", c)
	}
}

func TestNextYearHolidayWarningFromDecember(t *testing.T) {
	for _, tc := range []struct {
		day  time.Time
		role auth.Role
		want bool
	}{
		{time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), auth.RoleSysAdmin, true},
		{time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), auth.RoleViewer, false},
		{time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), auth.RoleSysAdmin, false},
	} {
		cfg := &config.Config{TZ: "Asia/Shanghai", Lang: "zh-CN", LogLevel: "info", PasswordPolicy: "level3", PasswordMaxAgeDays: -1, LoginPerMinute: 20, DataDir: t.TempDir()}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		day := tc.day
		a, err := app.New(cfg, dbtest.Open(t), slog.New(slog.DiscardHandler), app.Options{Auth: cheap(), Now: func() time.Time { return day }})
		if err != nil {
			t.Fatal(err)
		}
		u, err := a.Auth.CreateUser(context.Background(), audit.Entry{Actor: "test"}, auth.NewUser{Username: "u1", Password: "Walk-the-routes-1", Roles: []auth.Role{tc.role}})
		if err != nil {
			t.Fatal(err)
		}
		secret, _ := a.Auth.CreateSession(context.Background(), u, "", "")
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		got := strings.Contains(rec.Body.String(), "尚无 2027 年的法定节假日")
		if rec.Code != 200 || got != tc.want {
			t.Errorf("%s as %s: status %d, warning shown %v, want %v", tc.day.Format("2006-01-02"), tc.role, rec.Code, got, tc.want)
		}
	}
}

func TestWorkdayYearUploadPage(t *testing.T) {
	a := newApp(t)
	users := usersByRole(t, a)
	secret, _ := a.Auth.CreateSession(context.Background(), users[auth.RoleSysAdmin], "", "")
	upload := func(year, body string) *httptest.ResponseRecorder {
		var buf strings.Builder
		mw := multipart.NewWriter(&buf)
		mw.WriteField("year", year)
		fw, _ := mw.CreateFormFile("file", "2027.json")
		io.WriteString(fw, body)
		mw.Close()
		req := httptest.NewRequest("POST", "/workdays", strings.NewReader(buf.String()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		return rec
	}
	bad := upload("2027", `{"year": 2027, "papers": [], "days": [{"name": "元旦", "date": "2027-13-01", "isOffDay": true}]}`)
	if bad.Code != http.StatusUnprocessableEntity || !strings.Contains(bad.Body.String(), "days[0].date") {
		t.Fatalf("bad date: %d %s", bad.Code, bad.Body.String())
	}
	if a.Cal.HasYear(2027) {
		t.Fatal("a refused upload stored the year")
	}
	good := upload("2027", `{"year": 2027, "papers": [], "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}`)
	if good.Code != http.StatusSeeOther {
		t.Fatalf("good upload: %d %s", good.Code, good.Body.String())
	}
	if !a.Cal.HasYear(2027) || a.Cal.IsWorkday(workday.MustParseDate("2027-01-01")) {
		t.Fatal("uploaded year not in force")
	}
}
