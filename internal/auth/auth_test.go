package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db/dbtest"
)

var cheap = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newService(t *testing.T) (*auth.Service, *clock) {
	d := dbtest.Open(t)
	c := &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	al := audit.New(d)
	al.Now = c.Now
	s := auth.DefaultSettings()
	s.Argon2 = cheap
	return auth.NewService(d, al, s, c.Now), c
}

var sys = audit.Entry{Actor: "test"}

func mustUser(t *testing.T, s *auth.Service, name string, roles ...auth.Role) *auth.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), sys, auth.NewUser{Username: name, Password: "Good-pass-2026", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func code(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return ""
}

func TestPasswordPolicyLevel3(t *testing.T) {
	p := auth.Policies["level3"]
	cases := map[string]bool{
		"Short1!":        false, // 7 characters
		"alllowercase":   false, // one class
		"lowerand123":    false, // two classes
		"Lower-and-123":  true,
		"Zhangsan-2026":  false, // contains the username
		"nasgnahz-2026A": false, // the username reversed
		"密码Abc12345":     true,
	}
	for pw, ok := range cases {
		err := p.Check("zhangsan", pw)
		if (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestAdminRolesKeptApart(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	for _, pair := range [][]auth.Role{{auth.RoleSysAdmin, auth.RoleAuditor}, {auth.RoleSecAdmin, auth.RoleSysAdmin}, {auth.RoleAuditor, auth.RoleSecAdmin}} {
		_, err := s.CreateUser(ctx, sys, auth.NewUser{Username: "two", Password: "Good-pass-2026", Roles: pair})
		if code(err) != "invalid_roles" {
			t.Errorf("create with %v: %v, want invalid_roles", pair, err)
		}
	}
	if n, _ := s.CountUsers(ctx); n != 0 {
		t.Fatalf("%d accounts exist after refusals", n)
	}
	u := mustUser(t, s, "ops", auth.RoleSysAdmin)
	if err := s.SetRoles(ctx, sys, u.ID, []auth.Role{auth.RoleSysAdmin, auth.RoleAuditor}); code(err) != "invalid_roles" {
		t.Fatalf("SetRoles sysadmin+auditor: %v", err)
	}
	got, _ := s.UserByID(ctx, u.ID)
	if len(got.Roles) != 1 || got.Roles[0] != auth.RoleSysAdmin {
		t.Fatalf("roles changed by a refused update: %v", got.Roles)
	}
	// Business roles may be combined.
	if err := s.SetRoles(ctx, sys, u.ID, []auth.Role{auth.RoleLeader, auth.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "liaison1", auth.RoleLiaison)
	for i := 1; i <= 4; i++ {
		if _, err := s.Authenticate(ctx, "liaison1", "nope", "10.0.0.1"); code(err) != "bad_credentials" {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err := s.Authenticate(ctx, "liaison1", "nope", "10.0.0.1")
	e, _ := apperr.As(err)
	if e == nil || e.Status != 423 || !e.RetryAt.Equal(c.Now().Add(15*time.Minute)) {
		t.Fatalf("5th failure: %v", err)
	}
	if _, err := s.Authenticate(ctx, "liaison1", "Good-pass-2026", "10.0.0.1"); code(err) != "account_locked" {
		t.Fatalf("right password while locked: %v", err)
	}
	c.Add(15*time.Minute + time.Second)
	if _, err := s.Authenticate(ctx, "liaison1", "Good-pass-2026", "10.0.0.1"); err != nil {
		t.Fatalf("after the lock ran out: %v", err)
	}
	// Lockout and failures are audited.
	recs, _, _ := s.Audit.List(ctx, audit.Filter{Action: "login.lockout"})
	if len(recs) != 1 || recs[0].ActorID != u.ID {
		t.Fatalf("lockout audit: %+v", recs)
	}
	// unlock lifts a lock at once.
	for i := 0; i < 5; i++ {
		s.Authenticate(ctx, "liaison1", "nope", "")
	}
	if err := s.Unlock(ctx, sys, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "liaison1", "Good-pass-2026", ""); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestSessionsIdleAbsoluteAndDisable(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "leader1", auth.RoleLeader)
	a, _ := s.CreateSession(ctx, u, "", "")
	b, _ := s.CreateSession(ctx, u, "", "")
	if a == b || len(a) < 40 {
		t.Fatalf("session ids %q %q: want distinct ≥128-bit secrets", a, b)
	}
	if p, _ := s.SessionPrincipal(ctx, a); p == nil || p.Username != "leader1" {
		t.Fatal("fresh session not found")
	}
	// Idle 29 minutes: alive, and the activity keeps it alive.
	c.Add(29 * time.Minute)
	if p, _ := s.SessionPrincipal(ctx, a); p == nil {
		t.Fatal("session ended before 30 idle minutes")
	}
	c.Add(31 * time.Minute)
	if p, _ := s.SessionPrincipal(ctx, b); p != nil {
		t.Fatal("session b survived 60 idle minutes")
	}
	if p, _ := s.SessionPrincipal(ctx, a); p != nil {
		t.Fatal("session a survived 31 idle minutes")
	}
	// Absolute limit: active every 20 minutes, still ends at 12 hours.
	x, _ := s.CreateSession(ctx, u, "", "")
	for i := 0; i < 35; i++ { // 11h40m
		c.Add(20 * time.Minute)
		if p, _ := s.SessionPrincipal(ctx, x); p == nil {
			t.Fatalf("active session ended after %d minutes", (i+1)*20)
		}
	}
	c.Add(21 * time.Minute)
	if p, _ := s.SessionPrincipal(ctx, x); p != nil {
		t.Fatal("session outlived the 12-hour absolute limit")
	}
	// Disabling ends sessions and tokens at once.
	y, _ := s.CreateSession(ctx, u, "", "")
	tok, _, err := s.CreateToken(ctx, sys, u.ID, "script", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, sys, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.SessionPrincipal(ctx, y); p != nil {
		t.Fatal("session of a disabled account still works")
	}
	if p, _ := s.TokenPrincipal(ctx, tok); p != nil {
		t.Fatal("token of a disabled account still works")
	}
	if _, err := s.Authenticate(ctx, "leader1", "Good-pass-2026", ""); code(err) != "bad_credentials" {
		t.Fatalf("disabled account signed in: %v", err)
	}
}

func TestTokensHashedRevocableExpiring(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "analyst1", auth.RoleAnalyst)
	exp := c.Now().Add(time.Hour)
	tok, info, err := s.CreateToken(ctx, sys, u.ID, "etl", &exp)
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	s.DB.QueryRowContext(ctx, `SELECT token_hash FROM api_tokens WHERE id = ?`, info.ID).Scan(&stored)
	if stored == "" || strings.Contains(stored, tok) || strings.Contains(tok, stored) {
		t.Fatalf("token stored as %q", stored)
	}
	if p, _ := s.TokenPrincipal(ctx, tok); p == nil || p.UserID != u.ID {
		t.Fatal("token does not resolve")
	}
	c.Add(61 * time.Minute)
	if p, _ := s.TokenPrincipal(ctx, tok); p != nil {
		t.Fatal("expired token accepted")
	}
	tok2, info2, _ := s.CreateToken(ctx, sys, u.ID, "etl2", nil)
	if err := s.RevokeToken(ctx, sys, u.ID, info2.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.TokenPrincipal(ctx, tok2); p != nil {
		t.Fatal("revoked token accepted")
	}
	if err := s.RevokeToken(ctx, sys, u.ID+1, info2.ID); code(err) != "token_not_found" {
		t.Fatalf("revoking another account's token: %v", err)
	}
}

func TestRehashWhenParametersChange(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "viewer1", auth.RoleViewer)
	var before string
	s.DB.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, u.ID).Scan(&before)
	s.Settings.Argon2 = auth.Argon2Params{Memory: 128, Time: 2, Threads: 1, KeyLen: 32}
	if _, err := s.Authenticate(ctx, "viewer1", "Good-pass-2026", ""); err != nil {
		t.Fatal(err)
	}
	var after string
	s.DB.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, u.ID).Scan(&after)
	if after == before || !strings.Contains(after, "m=128,t=2,p=1") {
		t.Fatalf("hash not upgraded: %s", after)
	}
	if _, err := s.Authenticate(ctx, "viewer1", "Good-pass-2026", ""); err != nil {
		t.Fatalf("sign-in after rehash: %v", err)
	}
}

func TestPasswordExpiresAfterMaxAge(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "head1", auth.RoleUnitHead)
	sec, _ := s.CreateSession(ctx, u, "", "")
	if p, _ := s.SessionPrincipal(ctx, sec); p.MustChangePassword {
		t.Fatal("fresh password marked expired")
	}
	c.Add(91 * 24 * time.Hour)
	sec, _ = s.CreateSession(ctx, u, "", "")
	if p, _ := s.SessionPrincipal(ctx, sec); p == nil || !p.MustChangePassword {
		t.Fatal("91-day-old password not marked expired")
	}
	if err := s.SetPassword(ctx, sys, u.ID, "Good-pass-2026", false, ""); code(err) != "invalid_password" {
		t.Fatalf("reusing the same password: %v", err)
	}
	if err := s.SetPassword(ctx, sys, u.ID, "Newer-pass-2027", false, ""); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.SessionPrincipal(ctx, sec); p != nil {
		t.Fatal("changing the password kept other sessions")
	}
}

func TestConcurrentFailuresAllCount(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustUser(t, s, "c1", auth.RoleViewer)
	var wg sync.WaitGroup
	var mu sync.Mutex
	locked := 0
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Authenticate(ctx, "c1", "nope", "")
			if code(err) == "account_locked" {
				mu.Lock()
				locked++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if locked != 1 {
		t.Fatalf("%d of 5 concurrent failures reported the lockout, want exactly 1", locked)
	}
	if _, err := s.Authenticate(ctx, "c1", "Good-pass-2026", ""); !errors.Is(err, err) || code(err) != "account_locked" {
		t.Fatalf("after 5 concurrent failures: %v", err)
	}
}
