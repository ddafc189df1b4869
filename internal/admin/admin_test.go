package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/admin"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/web"
)

const (
	pw    = "Fine-Pass-2024"
	pwNew = "Other-Pass-2025"
)

type env struct {
	t    *testing.T
	d    *db.DB
	log  *audit.Log
	auth *auth.Service
	srv  *web.Server
	h    http.Handler
	// auditor is an audit admin's API token, for checking the chain.
	auditor string
}

// newEnv starts a server with admin registered; before runs first on the
// empty database (to plant old audit records).
func newEnv(t *testing.T, before ...func(d *db.DB)) *env {
	t.Helper()
	d := dbtest.Open(t)
	for _, f := range before {
		f(d)
	}
	l := audit.New(d)
	st := auth.DefaultSettings()
	st.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	st.LoginPerMinute = 100000
	a := auth.NewService(d, l, st, nil)
	s := web.NewServer(web.Config{Location: time.FixedZone("CST", 8*3600)}, a, slog.New(slog.DiscardHandler))
	err := admin.New(a, l, admin.Options{SystemInfo: func(ctx context.Context) []admin.KV {
		return []admin.KV{{Key: "system.version", Value: "v-test-1"}, {Key: "time zone", Value: "Asia/Shanghai"}, {Key: "Custom", Value: "x"}}
	}}).Register(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.OpenAPI.AddFragment(web.BaseOpenAPI, "openapi.json"); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, log: l, auth: a, srv: s, h: s.Handler()}
	e.user("auditor1", auth.RoleAuditor)
	e.auditor = e.login("auditor1", pw)
	return e
}

// user creates an account with pw that need not change it.
func (e *env) user(name string, roles ...auth.Role) *auth.User {
	e.t.Helper()
	u, err := e.auth.CreateUser(context.Background(), audit.Entry{Actor: "test"}, auth.NewUser{Username: name, Password: pw, Roles: roles})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
	return u
}

type resp struct {
	*httptest.ResponseRecorder
	body string
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

type apiError struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

func (r resp) errCode(t *testing.T) apiError {
	t.Helper()
	var e apiError
	r.json(t, &e)
	return e
}

// api calls the JSON API with a bearer token (empty: none).
func (e *env) api(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return resp{w, w.Body.String()}
}

func (e *env) loginResp(username, password string) resp {
	return e.api("POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password})
}

func (e *env) login(username, password string) string {
	e.t.Helper()
	r := e.loginResp(username, password)
	if r.Code != 200 {
		e.t.Fatalf("login %s: %d %s", username, r.Code, r.body)
	}
	var lr struct{ Token string }
	r.json(e.t, &lr)
	return lr.Token
}

// session signs u in for pages and returns the cookie value.
func (e *env) session(u *auth.User) string {
	e.t.Helper()
	s, err := e.auth.CreateSession(context.Background(), u, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// page calls a page as a browser with session cookie (empty: none); a
// non-nil form makes it a same-origin POST.
func (e *env) page(method, path, cookie string, form url.Values, lang ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, rd)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != "GET" {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: cookie})
	}
	if len(lang) > 0 {
		req.AddCookie(&http.Cookie{Name: "lang", Value: lang[0]})
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return resp{w, w.Body.String()}
}

func want(t *testing.T, r resp, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status %d, want %d: %s", r.Code, code, r.body)
	}
}

func wantRedirect(t *testing.T, r resp, prefix string) {
	t.Helper()
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), prefix) {
		t.Fatalf("got %d to %q, want 303 to %s…: %s", r.Code, r.Header().Get("Location"), prefix, r.body)
	}
}

func wantBody(t *testing.T, r resp, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Fatalf("body lacks %q:\n%s", s, r.body)
		}
	}
}

// intact checks through the API that the audit chain still verifies.
func (e *env) intact() {
	e.t.Helper()
	r := e.api("GET", "/api/v1/audit/verify", e.auditor, nil)
	want(e.t, r, 200)
	var v struct {
		Intact  bool   `json:"intact"`
		Checked int64  `json:"checked"`
		BadID   int64  `json:"bad_id"`
		Reason  string `json:"reason"`
	}
	r.json(e.t, &v)
	if !v.Intact || v.Checked == 0 || v.BadID != 0 || v.Reason != "" {
		e.t.Fatalf("audit chain: %s", r.body)
	}
}

func (e *env) count(action string) int {
	e.t.Helper()
	_, n, err := e.log.List(context.Background(), audit.Filter{Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestSecAdminCreatesAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sec := e.user("sec1", auth.RoleSecAdmin)
	tok := e.login("sec1", pw)

	var before struct{ Total int }
	e.api("GET", "/api/v1/users", tok, nil).json(t, &before)

	// 三员分立: two admin roles are refused and nothing is created.
	r := e.api("POST", "/api/v1/users", tok, map[string]any{"username": "alice", "password": pw, "roles": []string{"sysadmin", "auditor"}})
	want(t, r, 422)
	if ae := r.errCode(t); ae.Error.Field != "roles" {
		t.Fatalf("error %+v, want field roles", ae)
	}
	if _, err := e.auth.UserByName(context.Background(), "alice"); err == nil {
		t.Fatal("alice was created despite two admin roles")
	}
	var after struct{ Total int }
	e.api("GET", "/api/v1/users", tok, nil).json(t, &after)
	if after.Total != before.Total {
		t.Fatalf("users %d → %d after a refusal", before.Total, after.Total)
	}
	want(t, e.api("POST", "/api/v1/users", tok, map[string]any{"username": "alice", "password": "short", "roles": []string{"liaison"}}), 422)
	want(t, e.api("POST", "/api/v1/users", tok, map[string]any{"username": "alice", "password": pw, "roles": []string{"nobody"}}), 422)
	want(t, e.api("POST", "/api/v1/users", tok, map[string]any{"username": "alice", "password": pw, "roles": []string{"liaison"}, "unit_id": 999}), 422)
	want(t, e.api("POST", "/api/v1/users", tok, map[string]any{"username": "alice", "password": pw, "roles": []string{"liaison"}, "must_change": false}), 400)

	r = e.api("POST", "/api/v1/users", tok, map[string]any{"username": "alice", "display_name": "艾丽斯", "password": pw, "roles": []string{"liaison"}})
	want(t, r, 201)
	var alice auth.User
	r.json(t, &alice)
	if alice.ID == 0 || alice.DisplayName != "艾丽斯" || len(alice.Roles) != 1 || alice.Roles[0] != auth.RoleLiaison {
		t.Fatalf("created %+v", alice)
	}
	if r.Header().Get("Location") != fmt.Sprintf("/api/v1/users/%d", alice.ID) {
		t.Fatalf("Location %q", r.Header().Get("Location"))
	}
	r = e.api("POST", "/api/v1/users", tok, map[string]any{"username": "alice", "password": pw, "roles": []string{"viewer"}})
	want(t, r, 409)
	// The initial password must be changed at first sign-in.
	var lr struct {
		PasswordExpired bool `json:"password_expired"`
	}
	e.loginResp("alice", pw).json(t, &lr)
	if !lr.PasswordExpired {
		t.Fatal("a new account's password is not expired")
	}
	want(t, e.api("GET", fmt.Sprintf("/api/v1/users/%d", alice.ID), tok, nil), 200)
	want(t, e.api("GET", "/api/v1/users/99999", tok, nil), 404)

	// The same through the page.
	c := e.session(sec)
	r = e.page("POST", "/admin/users/new", c, url.Values{"username": {"bob"}, "password": {pw}, "roles": {"sysadmin", "auditor"}})
	want(t, r, 422)
	wantBody(t, r, `id="roles-error"`, "三员分立", `value="bob"`)
	if _, err := e.auth.UserByName(context.Background(), "bob"); err == nil {
		t.Fatal("bob was created despite two admin roles")
	}
	r = e.page("POST", "/admin/users/new", c, url.Values{"username": {"bob"}, "password": {"weakweak"}, "roles": {"viewer"}}, "en")
	want(t, r, 422)
	wantBody(t, r, `id="password-error"`, "password must mix")
	r = e.page("POST", "/admin/users/new", c, url.Values{"username": {"alice"}, "password": {pw}, "roles": {"viewer"}})
	want(t, r, 409)
	wantBody(t, r, `id="username-error"`, "用户名已存在")
	r = e.page("POST", "/admin/users/new", c, url.Values{"username": {"bob"}, "password": {pw}, "roles": {"viewer"}, "unit_id": {"x"}})
	want(t, r, 422)
	wantBody(t, r, `id="unit_id-error"`)
	r = e.page("POST", "/admin/users/new", c, url.Values{"username": {"bob"}, "display_name": {"鲍勃"}, "password": {pw}, "roles": {"viewer", "liaison"}})
	wantRedirect(t, r, "/admin/users/")
	bob, err := e.auth.UserByName(context.Background(), "bob")
	if err != nil || len(bob.Roles) != 2 || !e.auth.PasswordExpired(bob) {
		t.Fatalf("bob = %+v, %v", bob, err)
	}
	r = e.page("GET", r.Header().Get("Location"), c, nil)
	want(t, r, 200)
	wantBody(t, r, "账号已创建", "鲍勃")
	r = e.page("GET", "/admin/users", c, nil)
	want(t, r, 200)
	wantBody(t, r, "alice", "bob", "sec1", `href="/admin/users/new"`)
	r = e.page("GET", "/admin/users?limit=1&offset=1", c, nil)
	want(t, r, 200)
	wantBody(t, r, `rel="prev"`, `rel="next"`)
	if got := e.count("user.create"); got != 4 { // auditor1, sec1, alice, bob
		t.Fatalf("user.create records: %d, want 4", got)
	}
	e.intact()
}

func TestAdminAreasBelongToTheirRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sys, sec, viewer := e.user("sys1", auth.RoleSysAdmin), e.user("sec1", auth.RoleSecAdmin), e.user("view1", auth.RoleViewer)
	aud, _ := e.auth.UserByName(context.Background(), "auditor1")
	tokSys, tokSec, tokView := e.login("sys1", pw), e.login("sec1", pw), e.login("view1", pw)
	cSys, cSec, cAud, cView := e.session(sys), e.session(sec), e.session(aud), e.session(viewer)

	for _, c := range []struct {
		path   string
		cookie string
		code   int
	}{
		{"/admin/users", cSys, 403}, {"/admin/users", cAud, 403}, {"/admin/users", cView, 403}, {"/admin/users", cSec, 200},
		{"/admin/users/new", cSec, 200}, {"/admin/users/new", cSys, 403},
		{fmt.Sprintf("/admin/users/%d", sys.ID), cSec, 200}, {fmt.Sprintf("/admin/users/%d", sys.ID), cAud, 403},
		{"/audit", cSys, 403}, {"/audit", cSec, 403}, {"/audit", cView, 403}, {"/audit", cAud, 200},
		{"/audit/verify", cSys, 403}, {"/audit/verify", cAud, 200},
		{"/system", cSys, 200}, {"/system", cSec, 403}, {"/system", cAud, 403},
		{"/account", cView, 200}, {"/account", cAud, 200}, {"/account/tokens", cSys, 200}, {"/account/password", cSec, 200},
	} {
		r := e.page("GET", c.path, c.cookie, nil)
		if r.Code != c.code {
			t.Errorf("GET %s: %d, want %d", c.path, r.Code, c.code)
		}
	}
	for _, c := range []struct {
		method, path, token string
		code                int
	}{
		{"GET", "/api/v1/users", tokSys, 403}, {"GET", "/api/v1/users", e.auditor, 403}, {"GET", "/api/v1/users", tokView, 403}, {"GET", "/api/v1/users", tokSec, 200},
		{"POST", fmt.Sprintf("/api/v1/users/%d/unlock", viewer.ID), tokSys, 403},
		{"GET", "/api/v1/audit", tokSys, 403}, {"GET", "/api/v1/audit", tokSec, 403}, {"GET", "/api/v1/audit", e.auditor, 200},
		{"GET", "/api/v1/audit/verify", tokSys, 403}, {"GET", "/api/v1/audit/verify", e.auditor, 200},
		{"GET", "/api/v1/tokens", tokView, 200}, {"GET", "/api/v1/users", "", 401},
	} {
		r := e.api(c.method, c.path, c.token, nil)
		if r.Code != c.code {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.Code, c.code, r.body)
		}
	}
	want(t, e.page("POST", "/audit/prune", cSys, url.Values{"before": {"2000-01-01"}}), 403)
	wantRedirect(t, e.page("GET", "/admin/users", "", nil), "/login")

	// The nav shows each admin only their own area.
	r := e.page("GET", "/", cAud, nil)
	wantBody(t, r, `href="/audit"`)
	if strings.Contains(r.body, `href="/admin/users"`) || strings.Contains(r.body, `href="/system"`) {
		t.Fatal("the auditor's nav links to other admin areas")
	}
	r = e.page("GET", "/system", cSys, nil)
	wantBody(t, r, "v-test-1", "版本", "时区", "Asia/Shanghai", "Custom", "biaogan backup FILE", "三员分立")
	r = e.page("GET", "/system", cSys, nil, "en")
	wantBody(t, r, "Version", "Time zone", "Three separated admin roles")
	e.intact()
}

func TestDisableEndsSessionsAndTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sec := e.user("sec1", auth.RoleSecAdmin)
	bob := e.user("bob", auth.RoleLiaison)
	tokSec := e.login("sec1", pw)
	tokBob := e.login("bob", pw)
	cBob := e.session(bob)
	want(t, e.api("GET", "/api/v1/me", tokBob, nil), 200)
	want(t, e.page("GET", "/account", cBob, nil), 200)

	r := e.api("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), tokSec, map[string]any{"disabled": true, "display_name": " 鲍勃 "})
	want(t, r, 200)
	var u auth.User
	r.json(t, &u)
	if !u.Disabled || u.DisplayName != "鲍勃" {
		t.Fatalf("after PATCH: %+v", u)
	}
	r = e.api("GET", "/api/v1/me", tokBob, nil)
	want(t, r, 401)
	wantRedirect(t, e.page("GET", "/account", cBob, nil), "/login")
	want(t, e.loginResp("bob", pw), 401)
	if e.count("user.update") != 1 || e.count("user.disable") != 1 {
		t.Fatal("rename or disable not audited")
	}

	cSec := e.session(sec)
	wantRedirect(t, e.page("POST", fmt.Sprintf("/admin/users/%d/enable", bob.ID), cSec, url.Values{}), fmt.Sprintf("/admin/users/%d?msg=flash.user_enabled", bob.ID))
	tokBob = e.login("bob", pw)
	want(t, e.api("GET", "/api/v1/me", tokBob, nil), 200)
	wantRedirect(t, e.page("POST", fmt.Sprintf("/admin/users/%d/disable", bob.ID), cSec, url.Values{}), "/admin/users/")
	want(t, e.api("GET", "/api/v1/me", tokBob, nil), 401)

	// A security admin cannot change their own roles or disable themselves.
	self := fmt.Sprintf("/api/v1/users/%d", sec.ID)
	r = e.api("PATCH", self, tokSec, map[string]any{"roles": []string{"viewer"}})
	want(t, r, 403)
	if r.errCode(t).Error.Code != "own_roles" {
		t.Fatal(r.body)
	}
	r = e.api("PATCH", self, tokSec, map[string]any{"disabled": true})
	want(t, r, 403)
	if r.errCode(t).Error.Code != "own_account_disable" {
		t.Fatal(r.body)
	}
	want(t, e.api("PATCH", self, tokSec, map[string]any{"roles": []string{"secadmin"}, "disabled": false}), 200) // no change
	want(t, e.api("POST", self+"/password", tokSec, map[string]any{"password": pwNew}), 403)
	r = e.page("POST", fmt.Sprintf("/admin/users/%d/roles", sec.ID), cSec, url.Values{"roles": {"viewer"}})
	want(t, r, 403)
	wantBody(t, r, "不能修改自己的角色")
	r = e.page("POST", fmt.Sprintf("/admin/users/%d/disable", sec.ID), cSec, url.Values{})
	want(t, r, 403)
	wantBody(t, r, "不能停用自己的账号")
	if u, _ := e.auth.UserByID(context.Background(), sec.ID); u.Disabled || len(u.Roles) != 1 || u.Roles[0] != auth.RoleSecAdmin {
		t.Fatalf("self-change went through: %+v", u)
	}

	// Roles through the page: two admin roles are refused, others saved.
	r = e.page("POST", fmt.Sprintf("/admin/users/%d/roles", bob.ID), cSec, url.Values{"roles": {"secadmin", "auditor"}})
	want(t, r, 422)
	wantBody(t, r, `id="roles-error"`)
	wantRedirect(t, e.page("POST", fmt.Sprintf("/admin/users/%d/roles", bob.ID), cSec, url.Values{"roles": {"supervisor"}}), "/admin/users/")
	if u, _ := e.auth.UserByID(context.Background(), bob.ID); len(u.Roles) != 1 || u.Roles[0] != auth.RoleSupervisor {
		t.Fatalf("roles not saved: %+v", u.Roles)
	}
	want(t, e.api("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), tokSec, map[string]any{"roles": []string{"sysadmin", "secadmin"}}), 422)
	want(t, e.api("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), tokSec, map[string]any{"display_name": ""}), 422)
	want(t, e.api("PATCH", fmt.Sprintf("/api/v1/users/%d", bob.ID), tokSec, map[string]any{"nickname": "b"}), 400)
	want(t, e.api("PATCH", "/api/v1/users/99999", tokSec, map[string]any{"disabled": true}), 404)
	e.intact()
}

func TestUnlockLiftsLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sec := e.user("sec1", auth.RoleSecAdmin)
	carol := e.user("carol", auth.RoleViewer)
	tokSec := e.login("sec1", pw)
	lockOut := func() {
		t.Helper()
		for i := 1; i <= 5; i++ {
			r := e.loginResp("carol", "Wrong-Pass-1")
			if code := r.Code; (i < 5 && code != 401) || (i == 5 && code != 423) {
				t.Fatalf("wrong password %d: %d", i, code)
			}
		}
		want(t, e.loginResp("carol", pw), 423)
	}
	lockOut()
	cSec := e.session(sec)
	r := e.page("GET", fmt.Sprintf("/admin/users/%d", carol.ID), cSec, nil)
	wantBody(t, r, `id="user-unlock"`, "已锁定")
	r = e.api("POST", fmt.Sprintf("/api/v1/users/%d/unlock", carol.ID), tokSec, nil)
	want(t, r, 200)
	want(t, e.loginResp("carol", pw), 200)

	lockOut()
	wantRedirect(t, e.page("POST", fmt.Sprintf("/admin/users/%d/unlock", carol.ID), cSec, url.Values{}), "/admin/users/")
	want(t, e.loginResp("carol", pw), 200)
	if e.count("user.unlock") != 2 || e.count("login.lockout") != 2 {
		t.Fatal("unlock or lockout not audited")
	}
	e.intact()
}

func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dave := e.user("dave", auth.RoleLeader)
	a, b := e.session(dave), e.session(dave)

	r := e.page("POST", "/account/password", a, url.Values{"current_password": {"Wrong-Pass-1"}, "new_password": {pwNew}, "repeat_password": {pwNew}})
	want(t, r, 422)
	wantBody(t, r, `id="current_password-error"`, "当前密码不正确")
	r = e.page("POST", "/account/password", a, url.Values{"current_password": {pw}, "new_password": {pwNew}, "repeat_password": {"different"}}, "en")
	want(t, r, 422)
	wantBody(t, r, `id="repeat_password-error"`, "the two new passwords differ")
	r = e.page("POST", "/account/password", a, url.Values{"current_password": {pw}, "new_password": {"alllowercase"}, "repeat_password": {"alllowercase"}})
	want(t, r, 422)
	wantBody(t, r, `id="new_password-error"`)
	r = e.page("POST", "/account/password", a, url.Values{"current_password": {pw}, "new_password": {pw}, "repeat_password": {pw}})
	want(t, r, 422)
	want(t, e.page("GET", "/account", b, nil), 200) // nothing changed yet

	r = e.page("POST", "/account/password", a, url.Values{"current_password": {pw}, "new_password": {pwNew}, "repeat_password": {pwNew}})
	wantRedirect(t, r, "/account?msg=flash.password_changed")
	r = e.page("GET", r.Header().Get("Location"), a, nil)
	want(t, r, 200)
	wantBody(t, r, "密码已修改")
	wantRedirect(t, e.page("GET", "/account", b, nil), "/login")
	want(t, e.loginResp("dave", pw), 401)
	tok := e.login("dave", pwNew)

	// The API: a wrong current password is a 422 naming current_password.
	r = e.api("POST", "/api/v1/auth/password", tok, map[string]string{"current_password": "nope", "new_password": pw})
	want(t, r, 422)
	if ae := r.errCode(t); ae.Error.Field != "current_password" {
		t.Fatalf("%+v", ae)
	}
	r = e.api("POST", "/api/v1/auth/password", tok, map[string]string{"current_password": pwNew, "new_password": "short"})
	want(t, r, 422)
	if ae := r.errCode(t); ae.Error.Field != "new_password" {
		t.Fatalf("%+v", ae)
	}
	want(t, e.api("POST", "/api/v1/auth/password", tok, map[string]string{"current_password": pwNew, "new_password": pw}), 204)
	wantRedirect(t, e.page("GET", "/account", a, nil), "/login") // a token change keeps no session
	want(t, e.api("GET", "/api/v1/me", tok, nil), 200)
	if e.count("user.password") != 2 {
		t.Fatal("password changes not audited")
	}
	e.intact()
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	erin := e.user("erin", auth.RoleAnalyst)
	e.user("frank", auth.RoleAnalyst)
	tok := e.login("erin", pw)
	tokFrank := e.login("frank", pw)

	r := e.api("POST", "/api/v1/tokens", tok, map[string]any{"name": "ci", "expires_at": time.Now().Add(48 * time.Hour).UTC()})
	want(t, r, 201)
	var created struct {
		ID        int64      `json:"id"`
		Name      string     `json:"name"`
		Token     string     `json:"token"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	r.json(t, &created)
	if !strings.HasPrefix(created.Token, "bgt_") || created.Name != "ci" || created.ExpiresAt == nil {
		t.Fatalf("created %+v", created)
	}
	want(t, e.api("GET", "/api/v1/me", created.Token, nil), 200)
	want(t, e.api("POST", "/api/v1/tokens", tok, map[string]any{"name": ""}), 422)
	want(t, e.api("POST", "/api/v1/tokens", tok, map[string]any{"name": "old", "expires_at": time.Now().Add(-time.Hour)}), 422)

	r = e.api("GET", "/api/v1/tokens", tok, nil)
	want(t, r, 200)
	var list struct {
		Items []auth.Token `json:"items"`
		Total int          `json:"total"`
	}
	r.json(t, &list)
	if list.Total != 2 || len(list.Items) != 2 || strings.Contains(r.body, created.Token) {
		t.Fatalf("list %s", r.body)
	}
	path := fmt.Sprintf("/api/v1/tokens/%d", created.ID)
	want(t, e.api("DELETE", path, tokFrank, nil), 404) // not frank's
	want(t, e.api("DELETE", path, tok, nil), 204)
	want(t, e.api("GET", "/api/v1/me", created.Token, nil), 401)
	want(t, e.api("DELETE", path, tok, nil), 404)

	// Pages: the secret is shown once.
	c := e.session(erin)
	r = e.page("POST", "/account/tokens", c, url.Values{"name": {"deploy"}, "expires": {time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}})
	want(t, r, 200)
	m := regexp.MustCompile(`value="(bgt_[A-Za-z0-9_-]+)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret shown:\n%s", r.body)
	}
	secret := m[1]
	want(t, e.api("GET", "/api/v1/me", secret, nil), 200)
	r = e.page("GET", "/account/tokens", c, nil)
	want(t, r, 200)
	if strings.Contains(r.body, secret) {
		t.Fatal("the secret is shown again")
	}
	wantBody(t, r, "deploy")
	r = e.page("POST", "/account/tokens", c, url.Values{"name": {"x"}, "expires": {"someday"}})
	want(t, r, 422)
	wantBody(t, r, `id="expires-error"`)
	r = e.page("POST", "/account/tokens", c, url.Values{"name": {"x"}, "expires": {"2001-01-01"}})
	want(t, r, 422)
	wantBody(t, r, `id="expires-error"`)
	r = e.page("POST", "/account/tokens", c, url.Values{"name": {"  "}})
	want(t, r, 422)
	wantBody(t, r, `id="name-error"`)

	toks, _ := e.auth.ListTokens(context.Background(), erin.ID)
	var id int64
	for _, tk := range toks {
		if tk.Name == "deploy" {
			id = tk.ID
		}
	}
	wantRedirect(t, e.page("POST", fmt.Sprintf("/account/tokens/%d/revoke", id), c, url.Values{}), "/account/tokens?msg=flash.token_revoked")
	want(t, e.api("GET", "/api/v1/me", secret, nil), 401)
	want(t, e.page("POST", fmt.Sprintf("/account/tokens/%d/revoke", id), c, url.Values{}), 404)
	if e.count("token.revoke") != 2 {
		t.Fatal("revokes not audited")
	}
	e.intact()
}

func TestExpiredPasswordMustBeChanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sec := e.user("sec1", auth.RoleSecAdmin)
	gina := e.user("gina", auth.RoleViewer)
	tokSec := e.login("sec1", pw)

	want(t, e.api("POST", fmt.Sprintf("/api/v1/users/%d/password", gina.ID), tokSec, map[string]string{"password": "weak"}), 422)
	want(t, e.api("POST", fmt.Sprintf("/api/v1/users/%d/password", gina.ID), tokSec, map[string]string{"password": pwNew}), 204)
	r := e.loginResp("gina", pwNew)
	want(t, r, 200)
	var lr struct {
		Token           string `json:"token"`
		PasswordExpired bool   `json:"password_expired"`
	}
	r.json(t, &lr)
	if !lr.PasswordExpired {
		t.Fatal("an admin reset did not force a change")
	}
	r = e.api("GET", "/api/v1/tokens", lr.Token, nil)
	want(t, r, 403)
	if r.errCode(t).Error.Code != "password_change_required" {
		t.Fatal(r.body)
	}
	want(t, e.api("GET", "/api/v1/me", lr.Token, nil), 200)
	r = e.api("POST", "/api/v1/auth/password", lr.Token, map[string]string{"current_password": pw, "new_password": "Third-Pass-2026"})
	want(t, r, 422)
	if r.errCode(t).Error.Field != "current_password" {
		t.Fatal(r.body)
	}
	want(t, e.api("POST", "/api/v1/auth/password", lr.Token, map[string]string{"current_password": pwNew, "new_password": "Third-Pass-2026"}), 204)
	want(t, e.api("GET", "/api/v1/tokens", lr.Token, nil), 200)

	// Pages: after a reset the account is sent to change its password.
	cSec := e.session(sec)
	r = e.page("POST", fmt.Sprintf("/admin/users/%d/password", gina.ID), cSec, url.Values{"password": {"weak"}})
	want(t, r, 422)
	wantBody(t, r, `id="password-error"`)
	wantRedirect(t, e.page("POST", fmt.Sprintf("/admin/users/%d/password", gina.ID), cSec, url.Values{"password": {pw}}), "/admin/users/")
	want(t, e.page("POST", fmt.Sprintf("/admin/users/%d/password", sec.ID), cSec, url.Values{"password": {pwNew}}), 403)
	g, _ := e.auth.UserByName(context.Background(), "gina")
	c := e.session(g)
	wantRedirect(t, e.page("GET", "/account", c, nil), "/account/password?expired=1")
	r = e.page("GET", "/account/password?expired=1", c, nil)
	want(t, r, 200)
	wantBody(t, r, `id="password-expired"`)
	wantRedirect(t, e.page("POST", "/account/password", c, url.Values{"current_password": {pw}, "new_password": {pwNew}, "repeat_password": {pwNew}}), "/account")
	r = e.page("GET", "/account", c, nil)
	want(t, r, 200)
	if strings.Contains(r.body, "由管理员设置") {
		t.Fatal("account still shows an admin-set password")
	}
	if e.count("user.password_reset") != 2 {
		t.Fatal("resets not audited")
	}
	e.intact()
}

func TestAuditLogPages(t *testing.T) {
	t.Parallel()
	// Three records from 200 days ago, before anything else.
	e := newEnv(t, func(d *db.DB) {
		old := audit.New(d)
		old.Now = func() time.Time { return time.Now().Add(-200 * 24 * time.Hour) }
		for i := range 3 {
			if err := old.Write(context.Background(), audit.Entry{Actor: "ghost", Action: "unit.update", Object: fmt.Sprintf("unit:%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	})
	aud, _ := e.auth.UserByName(context.Background(), "auditor1")
	c := e.session(aud)
	e.user("hank", auth.RoleViewer)
	want(t, e.loginResp("hank", "Wrong-Pass-1"), 401)

	r := e.page("GET", "/audit?action=user.", c, nil)
	want(t, r, 200)
	wantBody(t, r, "user.create", "hank")
	if strings.Contains(r.body, "unit.update") {
		t.Fatal("the action filter let other actions through")
	}
	r = e.page("GET", "/audit?actor=hank", c, nil, "en")
	want(t, r, 200)
	wantBody(t, r, "wrong password", "Failed")
	r = e.page("GET", "/audit?from=yesterday", c, nil)
	want(t, r, 422)
	wantBody(t, r, `id="from-error"`)
	r = e.page("GET", "/audit?limit=2", c, nil)
	wantBody(t, r, `rel="next"`)

	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	var list struct {
		Items []struct {
			ID      int64  `json:"id"`
			Action  string `json:"action"`
			Actor   string `json:"actor"`
			ActorID *int64 `json:"actor_id"`
			Hash    string `json:"hash"`
		} `json:"items"`
		Total int `json:"total"`
	}
	r = e.api("GET", "/api/v1/audit?from="+today+"&to="+today, e.auditor, nil)
	want(t, r, 200)
	r.json(t, &list)
	if list.Total == 0 || list.Items[0].ID < list.Items[len(list.Items)-1].ID {
		t.Fatalf("today's records: %s", r.body)
	}
	r = e.api("GET", "/api/v1/audit?action=login&actor=hank&limit=1", e.auditor, nil)
	r.json(t, &list)
	if list.Total != 1 || list.Items[0].Action != "login" || list.Items[0].ActorID == nil || list.Items[0].Hash == "" {
		t.Fatalf("filtered: %s", r.body)
	}
	r = e.api("GET", "/api/v1/audit?to="+time.Now().AddDate(0, 0, -100).Format(time.DateOnly), e.auditor, nil)
	r.json(t, &list)
	if list.Total != 3 {
		t.Fatalf("old records: %d", list.Total)
	}
	want(t, e.api("GET", "/api/v1/audit?from=2026-13-01", e.auditor, nil), 422)
	want(t, e.api("GET", "/api/v1/audit?from=2026-02-02&to=2026-02-01", e.auditor, nil), 422)
	want(t, e.api("GET", "/api/v1/audit?limit=0", e.auditor, nil), 422)

	// Verify and prune.
	r = e.page("GET", "/audit/verify", c, nil)
	want(t, r, 200)
	wantBody(t, r, "链条完整")
	r = e.page("POST", "/audit/prune", c, url.Values{"before": {time.Now().AddDate(0, 0, -10).Format(time.DateOnly)}}, "en")
	want(t, r, 422)
	wantBody(t, r, `id="before-error"`, "Prune refused", "184 days")
	r = e.page("POST", "/audit/prune", c, url.Values{"before": {"soon"}})
	want(t, r, 422)
	wantBody(t, r, `id="before-error"`)
	r = e.api("GET", "/api/v1/audit?actor=ghost", e.auditor, nil)
	r.json(t, &list)
	if list.Total != 3 {
		t.Fatal("a refused prune removed records")
	}
	r = e.page("POST", "/audit/prune", c, url.Values{"before": {time.Now().AddDate(0, 0, -190).Format(time.DateOnly)}})
	wantRedirect(t, r, "/audit/verify?pruned=3")
	r = e.page("GET", r.Header().Get("Location"), c, nil)
	want(t, r, 200)
	wantBody(t, r, `id="audit-pruned"`, "链条完整")
	recs, n, err := e.log.List(context.Background(), audit.Filter{Action: "audit.prune"})
	if err != nil || n != 1 || recs[0].Actor != "auditor1" {
		t.Fatalf("prune not audited: %v %d", err, n)
	}
	e.intact()
}

func TestAllPagesRenderInBothLanguages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sec, sys := e.user("sec1", auth.RoleSecAdmin), e.user("sys1", auth.RoleSysAdmin)
	aud, _ := e.auth.UserByName(context.Background(), "auditor1")
	cSec, cSys, cAud := e.session(sec), e.session(sys), e.session(aud)
	e.login("sys1", pw)
	if _, _, err := e.auth.CreateToken(context.Background(), audit.Entry{Actor: "test"}, sec.ID, "t", nil); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ path, cookie, zh, en string }{
		{"/account", cSec, "我的账号", "My account"},
		{"/account/password", cSec, "修改密码", "Change password"},
		{"/account/tokens", cSec, "API 令牌", "API tokens"},
		{"/admin/users", cSec, "账号与权限", "Accounts &amp; roles"},
		{"/admin/users/new", cSec, "新建账号", "New account"},
		{fmt.Sprintf("/admin/users/%d", sys.ID), cSec, "重置密码", "Reset password"},
		{fmt.Sprintf("/admin/users/%d", sec.ID), cSec, "不能修改自己的角色", "You cannot change your own roles"},
		{"/audit", cAud, "审计日志", "Audit log"},
		{"/audit/verify", cAud, "完整性校验", "Integrity check"},
		{"/system", cSys, "三员分立", "Three separated admin roles"},
	}
	for _, p := range pages {
		for _, lang := range []string{"zh-CN", "en"} {
			r := e.page("GET", p.path, p.cookie, nil, lang)
			if r.Code != 200 {
				t.Fatalf("%s (%s): %d %s", p.path, lang, r.Code, r.body)
			}
			w := p.zh
			if lang == "en" {
				w = p.en
			}
			wantBody(t, r, w)
			// A missing message shows its key.
			text := regexp.MustCompile(`<code>[^<]*</code>`).ReplaceAllString(r.body, "")
			if m := regexp.MustCompile(`>\s*(account|users|audit|system|flash|admin)\.[a-z_.]+\s*<`).FindString(text); m != "" {
				t.Fatalf("%s (%s) shows a message key: %s", p.path, lang, m)
			}
			if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "style=") || strings.Contains(r.body, "<style") {
				t.Fatalf("%s has an inline script or style", p.path)
			}
		}
	}
}

func TestAPIRoutesAreDocumented(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := 0
	for _, rt := range e.srv.Routes() {
		if !rt.API() {
			continue
		}
		n++
		if !e.srv.OpenAPI.Has(rt.Method, rt.Path) {
			t.Errorf("%s %s is not in the OpenAPI document", rt.Method, rt.Path)
		}
	}
	if n < 15 {
		t.Fatalf("only %d API routes", n)
	}
	// Audit routes read, except the prune.
	for _, rt := range e.srv.Routes() {
		if (strings.HasPrefix(rt.Path, "/audit") || strings.HasPrefix(rt.Path, "/api/v1/audit")) && rt.Method != "GET" && rt.Pattern() != "POST /audit/prune" {
			t.Errorf("%s changes the audit log", rt.Pattern())
		}
	}
	// Every $ref points at a schema.
	r := e.api("GET", "/api/v1/openapi.json", "", nil)
	want(t, r, 200)
	var doc map[string]any
	r.json(t, &doc)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(r.body, -1) {
		if _, ok := schemas[m[1]]; !ok {
			t.Errorf("dangling $ref %s", m[1])
		}
	}
}
