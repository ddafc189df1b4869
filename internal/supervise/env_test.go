package supervise_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

var beijing = time.FixedZone("CST", 8*3600)

// clock is a test clock that can be moved.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// SetDate moves the clock to 10:00 Beijing time on date.
func (c *clock) SetDate(date string) {
	d := workday.MustParseDate(date)
	y, m, dd := d.Civil()
	c.mu.Lock()
	c.t = time.Date(y, m, dd, 10, 0, 0, 0, beijing)
	c.mu.Unlock()
}

const password = "Kx7-horse-Battery"

// env is a migrated database with two units (A, B) and an office, a person
// in each, accounts for every role in play, the service and an HTTP server.
type env struct {
	t      *testing.T
	ctx    context.Context
	d      *db.DB
	clock  *clock
	svc    *supervise.Service
	ws     *web.Server
	srv    *httptest.Server
	unitA  int64
	unitB  int64
	office int64
	ownerA int64
	ownerB int64
	users  map[string]*auth.User
	tokens map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t)
	c := &clock{}
	c.SetDate("2026-03-10") // a Tuesday
	al := audit.New(d)
	e := &env{t: t, ctx: ctx, d: d, clock: c, users: map[string]*auth.User{}, tokens: map[string]string{}}
	e.svc = supervise.New(d, al, workday.New(), c.Now)

	e.office = e.insertUnit("office", "市政府办公室")
	e.unitA = e.insertUnit("unit_a", "督查科")
	e.unitB = e.insertUnit("unit_b", "信息科")
	e.ownerA = e.insertPerson(e.unitA, "张三")
	e.ownerB = e.insertPerson(e.unitB, "李四")

	settings := auth.DefaultSettings()
	settings.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	settings.LoginPerMinute = 1000
	as := auth.NewService(d, al, settings, nil)
	for _, u := range []struct {
		name string
		role auth.Role
		unit int64
	}{
		{"sup", auth.RoleSupervisor, e.office},
		{"lia_a", auth.RoleLiaison, e.unitA},
		{"head_a", auth.RoleUnitHead, e.unitA},
		{"lia_b", auth.RoleLiaison, e.unitB},
		{"viewer", auth.RoleViewer, e.office},
		{"sysadmin", auth.RoleSysAdmin, 0},
	} {
		nu := auth.NewUser{Username: u.name, Password: password, Roles: []auth.Role{u.role}}
		if u.unit != 0 {
			unit := u.unit
			nu.UnitID = &unit
		}
		created, err := as.CreateUser(ctx, audit.Entry{Actor: "test"}, nu)
		if err != nil {
			t.Fatalf("create user %s: %v", u.name, err)
		}
		e.users[u.name] = created
	}

	e.ws = web.NewServer(web.Config{}, as, slog.New(slog.DiscardHandler))
	if err := e.svc.Register(e.ws); err != nil {
		t.Fatalf("register: %v", err)
	}
	e.srv = httptest.NewServer(e.ws.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) insertUnit(code, name string) int64 {
	e.t.Helper()
	now := time.Now().UTC()
	var id int64
	err := e.d.InTx(e.ctx, func(tx *db.Tx) (err error) {
		id, err = db.InsertID(e.ctx, tx, `INSERT INTO units (code, name, kind, created_at, updated_at) VALUES (?, ?, 'section', ?, ?)`, code, name, now, now)
		return err
	})
	if err != nil {
		e.t.Fatalf("insert unit: %v", err)
	}
	return id
}

func (e *env) insertPerson(unit int64, name string) int64 {
	e.t.Helper()
	now := time.Now().UTC()
	var id int64
	err := e.d.InTx(e.ctx, func(tx *db.Tx) (err error) {
		id, err = db.InsertID(e.ctx, tx, `INSERT INTO people (unit_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`, unit, name, now, now)
		return err
	})
	if err != nil {
		e.t.Fatalf("insert person: %v", err)
	}
	return id
}

// Actors for service-level calls.

func (e *env) supervisor() supervise.Actor {
	u := e.users["sup"]
	return supervise.Actor{UserID: u.ID, Username: u.Username, UnitID: e.office, Supervisor: true}
}

func (e *env) liaison(unit int64) supervise.Actor {
	name := "lia_a"
	if unit == e.unitB {
		name = "lia_b"
	}
	u := e.users[name]
	return supervise.Actor{UserID: u.ID, Username: u.Username, UnitID: unit, UnitMember: true}
}

// newTask is a valid task for unit A, due 2026-03-31.
func (e *env) newTask(title string) supervise.NewTask {
	return supervise.NewTask{Title: title, Area: "emergency", Source: supervise.SourcePlan, LeadUnitID: e.unitA, OwnerID: e.ownerA,
		Start: workday.MustParseDate("2026-03-01"), Due: workday.MustParseDate("2026-03-31")}
}

func (e *env) create(in supervise.NewTask) *supervise.Task {
	e.t.Helper()
	t, err := e.svc.Create(e.ctx, e.supervisor(), in)
	if err != nil {
		e.t.Fatalf("create %q: %v", in.Title, err)
	}
	return t
}

func (e *env) transition(a supervise.Actor, id int64, act supervise.Action, reason string) *supervise.Task {
	e.t.Helper()
	t, err := e.svc.Transition(e.ctx, a, id, supervise.TransitionRequest{Action: act, Reason: reason, Evidence: "材料"})
	if err != nil {
		e.t.Fatalf("%s task %d: %v", act, id, err)
	}
	return t
}

// inProgress creates a task of unit A and brings it to in_progress.
func (e *env) inProgress(in supervise.NewTask) *supervise.Task {
	e.t.Helper()
	in.Assign = true
	t := e.create(in)
	e.transition(e.actorFor(t), t.ID, supervise.ActionAccept, "")
	return e.transition(e.actorFor(t), t.ID, supervise.ActionStart, "")
}

func (e *env) actorFor(t *supervise.Task) supervise.Actor { return e.liaison(t.LeadUnitID) }

func (e *env) report(t *supervise.Task, percent int) {
	e.t.Helper()
	if _, err := e.svc.Report(e.ctx, e.actorFor(t), t.ID, supervise.NewReport{Percent: &percent, Text: fmt.Sprintf("完成 %d%%", percent)}); err != nil {
		e.t.Fatalf("report task %d: %v", t.ID, err)
	}
}

func (e *env) task(id int64) *supervise.Task {
	e.t.Helper()
	t, err := e.svc.Task(e.ctx, id)
	if err != nil {
		e.t.Fatalf("load task %d: %v", id, err)
	}
	return t
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// HTTP.

func (e *env) token(user string) string {
	e.t.Helper()
	if tok, ok := e.tokens[user]; ok {
		return tok
	}
	var resp struct {
		Token string `json:"token"`
	}
	if st := e.call("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": password}, &resp); st != http.StatusOK {
		e.t.Fatalf("login %s: status %d", user, st)
	}
	e.tokens[user] = resp.Token
	return resp.Token
}

type response struct {
	Status int
	Body   []byte
	Header http.Header
}

func (e *env) request(method, path, user string, body any, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(user))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Body: raw, Header: res.Header}
}

// call sends body as JSON and decodes the answer into out (if not nil).
func (e *env) call(method, path, user string, body, out any) int {
	e.t.Helper()
	r := e.request(method, path, user, body)
	if out != nil && len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, r.Body, err)
		}
	}
	return r.Status
}

type apiError struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Field   string          `json:"field"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

// wantError checks an error response's status, code and field.
func (e *env) wantError(r response, status int, code, field string) apiError {
	e.t.Helper()
	var ae apiError
	if err := json.Unmarshal(r.Body, &ae); err != nil {
		e.t.Fatalf("decode error body %s: %v", r.Body, err)
	}
	if r.Status != status || ae.Error.Code != code || ae.Error.Field != field {
		e.t.Fatalf("got %d %s field %q (%s); want %d %s field %q", r.Status, ae.Error.Code, ae.Error.Field, ae.Error.Message, status, code, field)
	}
	if ae.Error.Message == "" {
		e.t.Fatalf("error %s has no message", code)
	}
	return ae
}

// wantAppErr checks a service error's status and code.
func wantAppErr(t *testing.T, err error, status int, code string) *apperr.Error {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("got error %v, want %d %s", err, status, code)
	}
	if ae.Status != status || ae.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", ae.Status, ae.Code, ae.Message, status, code)
	}
	return ae
}
