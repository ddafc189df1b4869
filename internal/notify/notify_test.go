package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/notify"
	"github.com/biaogan/biaogan/internal/web"
)

type env struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	auth  *auth.Service
	svc   *notify.Service
	ws    *web.Server
	users map[string]*auth.User
	now   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t)
	e := &env{t: t, ctx: ctx, d: d, users: map[string]*auth.User{}, now: time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)}
	settings := auth.DefaultSettings()
	settings.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	settings.LoginPerMinute = 1000
	e.auth = auth.NewService(d, audit.New(d), settings, nil)
	for _, u := range []struct {
		name string
		role auth.Role
	}{{"alice", auth.RoleLiaison}, {"bob", auth.RoleUnitHead}, {"carol", auth.RoleViewer}} {
		created, err := e.auth.CreateUser(ctx, audit.Entry{Actor: "test"}, auth.NewUser{Username: u.name, DisplayName: u.name, Password: "Kx7-horse-Battery", Roles: []auth.Role{u.role}})
		if err != nil {
			t.Fatal(err)
		}
		e.users[u.name] = created
	}
	e.svc = notify.New(d, func() time.Time { return e.now })
	e.ws = web.NewServer(web.Config{}, e.auth, slog.New(slog.DiscardHandler))
	if err := e.svc.Register(e.ws); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) id(name string) int64 { return e.users[name].ID }

func (e *env) send(msgs ...notify.Message) {
	e.t.Helper()
	if err := e.svc.SendNow(e.ctx, msgs...); err != nil {
		e.t.Fatalf("send: %v", err)
	}
	e.now = e.now.Add(time.Second)
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.d.QueryRowContext(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func msg(title string, to ...int64) notify.Message {
	return notify.Message{To: to, Kind: "reminder", Title: notify.Text{ZH: title, EN: "EN " + title}, Body: notify.Text{ZH: "正文", EN: "body"},
		Link: "/tasks/1", Subject: "task:1"}
}

func TestSendWritesInboxAndOutbox(t *testing.T) {
	e := newEnv(t)
	a, b := e.id("alice"), e.id("bob")
	m := msg("请按时办结", a, b, a) // alice twice: one row
	m.Level = notify.LevelYellow
	e.send(m)
	if n := e.count(`SELECT COUNT(*) FROM notifications`); n != 2 {
		t.Fatalf("%d inbox rows, want 2", n)
	}
	out, err := e.svc.Outbox(e.ctx, notify.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("%d outbox rows, want 2 (one per recipient on SMS)", len(out))
	}
	for _, o := range out {
		if o.RecipientID == nil || (*o.RecipientID != a && *o.RecipientID != b) || o.Channel != notify.SMS || o.Status != notify.StatusPending ||
			o.Text != "请按时办结：正文" || o.Attempts != 0 || o.Subject != "task:1" || o.Kind != "reminder" {
			t.Fatalf("outbox row %+v", o)
		}
	}
	// Inbox only; external addresses get outbox rows only; several channels.
	inboxOnly := msg("仅站内", a)
	inboxOnly.Channels = []notify.Channel{}
	external := msg("外部", b)
	external.Channels = []notify.Channel{notify.SMS, notify.WeChat}
	external.Addresses = []notify.Address{{Channel: notify.Email, Address: "duban@example.gov.cn"}}
	e.send(inboxOnly, external)
	if n := e.count(`SELECT COUNT(*) FROM notifications`); n != 4 {
		t.Fatalf("%d inbox rows, want 4", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM outbox`); n != 5 {
		t.Fatalf("%d outbox rows, want 5", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM outbox WHERE recipient_id IS NULL AND address = 'duban@example.gov.cn' AND channel = 'email'`); n != 1 {
		t.Fatal("the external address has no outbox row")
	}
	// Delivery outcome, for the channel workers to come.
	if err := e.svc.Delivered(e.ctx, out[0].ID, nil, 3); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delivered(e.ctx, out[1].ID, errors.New("gateway down"), 1); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND sent_at IS NOT NULL`); n != 1 {
		t.Fatal("no sent row")
	}
	if n := e.count(`SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND last_error = 'gateway down' AND attempts = 1`); n != 1 {
		t.Fatal("no failed row")
	}
}

func TestSendIsPartOfTheCallersTransaction(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("boom")
	err := e.d.InTx(e.ctx, func(tx *db.Tx) error {
		if err := e.svc.Send(e.ctx, tx, msg("回滚", e.id("alice"))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n := e.count(`SELECT COUNT(*) FROM notifications`) + e.count(`SELECT COUNT(*) FROM outbox`); n != 0 {
		t.Fatalf("a rolled-back send left %d rows", n)
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	e := newEnv(t)
	a := e.id("alice")
	for name, m := range map[string]notify.Message{
		"no kind":       {To: []int64{a}, Title: notify.Text{ZH: "x"}},
		"no title":      {To: []int64{a}, Kind: "reminder"},
		"bad level":     {To: []int64{a}, Kind: "reminder", Title: notify.Text{ZH: "x"}, Level: "purple"},
		"foreign link":  {To: []int64{a}, Kind: "reminder", Title: notify.Text{ZH: "x"}, Link: "https://evil.example"},
		"bad channel":   {To: []int64{a}, Kind: "reminder", Title: notify.Text{ZH: "x"}, Channels: []notify.Channel{"fax"}},
		"empty address": {Kind: "reminder", Title: notify.Text{ZH: "x"}, Addresses: []notify.Address{{Channel: notify.SMS}}},
	} {
		if err := e.svc.SendNow(e.ctx, m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM notifications`); n != 0 {
		t.Fatalf("refused messages left %d rows", n)
	}
}

func TestSendBatchesManyRecipients(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()
	var ids []int64
	err := e.d.InTx(e.ctx, func(tx *db.Tx) error {
		for i := range 1201 {
			id, err := db.InsertID(e.ctx, tx, `INSERT INTO users (username, password_hash, password_changed_at, created_at, updated_at) VALUES (?, 'x', ?, ?, ?)`,
				fmt.Sprintf("bulk%04d", i), now, now, now)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := msg("全体", ids...)
	m.Channels = []notify.Channel{notify.SMS, notify.Email}
	e.send(m, msg("单个", ids[0]))
	if n := e.count(`SELECT COUNT(*) FROM notifications`); n != 1202 {
		t.Fatalf("%d inbox rows, want 1202", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM outbox`); n != 2403 {
		t.Fatalf("%d outbox rows, want 2403", n)
	}
}

func TestInboxUnreadFirstAndMarkRead(t *testing.T) {
	e := newEnv(t)
	a, b := e.id("alice"), e.id("bob")
	for i := 1; i <= 3; i++ {
		e.send(msg(fmt.Sprintf("消息%d", i), a))
	}
	e.send(msg("给 bob", b))
	in, err := e.svc.Inbox(e.ctx, a, notify.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Total != 3 || in.Unread != 3 || in.Items[0].Title != "消息3" {
		t.Fatalf("inbox %+v", in)
	}
	// Reading the newest puts it after the unread ones.
	n, err := e.svc.MarkRead(e.ctx, a, in.Items[0].ID, "en")
	if err != nil || n.Unread || n.ReadAt == nil || n.Title != "EN 消息3" {
		t.Fatalf("mark read: %+v %v", n, err)
	}
	first := *n.ReadAt
	e.now = e.now.Add(time.Hour)
	if again, err := e.svc.MarkRead(e.ctx, a, n.ID, ""); err != nil || !again.ReadAt.Equal(first) {
		t.Fatalf("marking again moved read_at: %v %v", again, err)
	}
	in, _ = e.svc.Inbox(e.ctx, a, notify.InboxFilter{})
	if in.Unread != 2 || in.Items[0].Title != "消息2" || in.Items[2].Title != "消息3" || in.Items[2].Unread {
		t.Fatalf("unread first: %+v", in.Items)
	}
	unread, _ := e.svc.Inbox(e.ctx, a, notify.InboxFilter{UnreadOnly: true})
	if unread.Total != 2 {
		t.Fatalf("unread only: %d", unread.Total)
	}
	// Another's message is not found, and stays unread.
	bobs, _ := e.svc.Inbox(e.ctx, b, notify.InboxFilter{})
	if _, err := e.svc.MarkRead(e.ctx, a, bobs.Items[0].ID, ""); err == nil || !strings.Contains(err.Error(), "notification_not_found") {
		t.Fatalf("marking another's message: %v", err)
	}
	if n, _ := e.svc.Unread(e.ctx, b); n != 1 {
		t.Fatal("bob's message was marked by alice")
	}
	if n, err := e.svc.MarkAllRead(e.ctx, a); err != nil || n != 2 {
		t.Fatalf("mark all: %d %v", n, err)
	}
	if n, _ := e.svc.Unread(e.ctx, a); n != 0 {
		t.Fatalf("%d unread after mark all", n)
	}
}

// HTTP.

type client struct {
	e      *env
	h      http.Handler
	cookie string
	token  string
}

func (e *env) client(user string) *client {
	e.t.Helper()
	c := &client{e: e, h: e.ws.Handler()}
	if user == "" {
		return c
	}
	secret, err := e.auth.CreateSession(e.ctx, e.users[user], "127.0.0.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	c.cookie = secret
	tok, _, err := e.auth.CreateToken(e.ctx, audit.Entry{Actor: user}, e.users[user].ID, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c.token = tok
	return c
}

// api calls the JSON API with the bearer token.
func (c *client) api(method, path string, out any) int {
	c.e.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			c.e.t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
	}
	return rec.Code
}

// page calls a page with the session cookie; form is posted when not nil.
func (c *client) page(method, path string, form url.Values) *http.Response {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: c.cookie})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInboxAPI(t *testing.T) {
	e := newEnv(t)
	a, b := e.id("alice"), e.id("bob")
	e.send(msg("一", a))
	e.send(msg("二", a))
	e.send(msg("给 bob", b))
	alice := e.client("alice")

	var in notify.Inbox
	if st := alice.api("GET", "/api/v1/inbox", &in); st != 200 || in.Total != 2 || in.Unread != 2 || in.Items[0].Title != "EN 二" {
		t.Fatalf("GET inbox: %d %+v", st, in)
	}
	var n notify.Notification
	if st := alice.api("POST", fmt.Sprintf("/api/v1/inbox/%d/read", in.Items[0].ID), &n); st != 200 || n.Unread {
		t.Fatalf("POST read: %d %+v", st, n)
	}
	if st := alice.api("GET", "/api/v1/inbox?unread=1", &in); st != 200 || in.Total != 1 || in.Items[0].Title != "EN 一" {
		t.Fatalf("GET unread: %d %+v", st, in)
	}
	// Someone else's message, an unknown one, a bad id, a bad filter.
	var bobs notify.Inbox
	e.client("bob").api("GET", "/api/v1/inbox", &bobs)
	var apiErr struct {
		Error struct{ Code, Field string } `json:"error"`
	}
	if st := alice.api("POST", fmt.Sprintf("/api/v1/inbox/%d/read", bobs.Items[0].ID), &apiErr); st != 404 || apiErr.Error.Code != "notification_not_found" {
		t.Fatalf("another's message: %d %+v", st, apiErr)
	}
	if st := alice.api("POST", "/api/v1/inbox/abc/read", &apiErr); st != 400 {
		t.Fatalf("bad id: %d", st)
	}
	if st := alice.api("GET", "/api/v1/inbox?unread=maybe", &apiErr); st != 422 || apiErr.Error.Field != "unread" {
		t.Fatalf("bad filter: %d %+v", st, apiErr)
	}
	if st := alice.api("GET", "/api/v1/inbox?limit=9999", &apiErr); st != 422 || apiErr.Error.Field != "limit" {
		t.Fatalf("bad limit: %d %+v", st, apiErr)
	}
	var all struct{ Marked, Unread int }
	if st := alice.api("POST", "/api/v1/inbox/read-all", &all); st != 200 || all.Marked != 1 || all.Unread != 0 {
		t.Fatalf("read-all: %d %+v", st, all)
	}
	// Not signed in.
	if st := e.client("").api("GET", "/api/v1/inbox", nil); st != 401 {
		t.Fatalf("anonymous GET inbox: %d", st)
	}
	if st := e.client("").api("POST", "/api/v1/inbox/1/read", nil); st != 401 {
		t.Fatalf("anonymous POST read: %d", st)
	}
	for _, rt := range e.ws.Routes() {
		if strings.Contains(rt.Path, "inbox") && rt.Perm != auth.PermSignedIn {
			t.Errorf("%s needs %s, want signed_in", rt.Pattern(), rt.Perm)
		}
		if rt.API() && !e.ws.OpenAPI.Has(rt.Method, rt.Path) && strings.Contains(rt.Path, "inbox") {
			t.Errorf("%s is not in the OpenAPI document", rt.Pattern())
		}
	}
}

func TestInboxPages(t *testing.T) {
	e := newEnv(t)
	a := e.id("alice")
	m := msg("红色督办：任务逾期", a)
	m.Kind, m.Level = "notice", notify.LevelRed
	e.send(m)
	e.send(msg("普通提醒", a))
	alice := e.client("alice")

	res := alice.page("GET", "/inbox", nil)
	body := readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(body, "红色督办：任务逾期") || !strings.Contains(body, "共 2 条，未读 2 条") ||
		!strings.Contains(body, `href="/inbox"`) || !strings.Contains(body, "督办单") {
		t.Fatalf("GET /inbox: %d %s", res.StatusCode, body)
	}
	// The home page shows the unread figure.
	home := readBody(t, alice.page("GET", "/", nil))
	if !strings.Contains(home, "未读消息") || !strings.Contains(home, `<div class="num">2</div>`) {
		t.Fatalf("home has no unread figure: %s", home)
	}
	in, _ := e.svc.Inbox(e.ctx, a, notify.InboxFilter{})
	// Opening a message marks it read and goes to its link.
	res = alice.page("POST", fmt.Sprintf("/inbox/%d/read", in.Items[0].ID), url.Values{"open": {"1"}, "back": {"/inbox"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/tasks/1" {
		t.Fatalf("open: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// A foreign back link is ignored.
	res = alice.page("POST", fmt.Sprintf("/inbox/%d/read", in.Items[1].ID), url.Values{"back": {"//evil.example"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inbox" {
		t.Fatalf("mark read: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if n, _ := e.svc.Unread(e.ctx, a); n != 0 {
		t.Fatalf("%d unread after reading both", n)
	}
	e.send(msg("再来一条", a))
	res = alice.page("POST", "/inbox/read-all", url.Values{})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/inbox") {
		t.Fatalf("read-all: %d", res.StatusCode)
	}
	if n, _ := e.svc.Unread(e.ctx, a); n != 0 {
		t.Fatal("read-all left unread messages")
	}
	body = readBody(t, alice.page("GET", "/inbox?unread=1", nil))
	if !strings.Contains(body, "暂无消息") {
		t.Fatalf("unread-only page after reading all: %s", body)
	}
	// Another's message: a 404 page, nothing marked.
	e.send(msg("给 bob", e.id("bob")))
	bobs, _ := e.svc.Inbox(e.ctx, e.id("bob"), notify.InboxFilter{})
	if res := alice.page("POST", fmt.Sprintf("/inbox/%d/read", bobs.Items[0].ID), url.Values{}); res.StatusCode != 404 {
		t.Fatalf("another's message: %d", res.StatusCode)
	}
	// Signed out: to the login page.
	if res := e.client("").page("GET", "/inbox", nil); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous /inbox: %d", res.StatusCode)
	}
	// English.
	req := httptest.NewRequest("GET", "/inbox", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: alice.cookie})
	req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
	rec := httptest.NewRecorder()
	alice.h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "EN 红色督办：任务逾期") || !strings.Contains(rec.Body.String(), "Red notice") {
		t.Fatalf("English inbox: %s", rec.Body)
	}
	if missing := e.ws.Messages.Missing(); len(missing) > 0 {
		t.Fatalf("messages missing a language: %v", missing)
	}
}
