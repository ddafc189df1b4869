package open311

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db/dbtest"
)

func TestKeysAreHashedNamedRevocableAndAudited(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	al := audit.New(d)
	al.Now = clock
	k := NewKeys(d, al, clock)
	admin := audit.Entry{ActorID: 1, Actor: "admin", IP: "10.0.0.1"}

	secret, key, err := k.Add(ctx, admin, "  市民通 App ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) < 40 || key.Name != "市民通 App" || !strings.HasPrefix(secret, key.Prefix) {
		t.Fatalf("secret %q key %+v", secret, key)
	}
	// Only the hash is stored.
	var stored string
	if err := d.QueryRowContext(ctx, `SELECT key_hash FROM open311_keys WHERE id = ?`, key.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == secret || strings.Contains(stored, secret[len(KeyPrefix):]) || stored != hashKey(secret) {
		t.Errorf("stored %q for secret %q", stored, secret)
	}

	// Bad names are refused and change nothing.
	for _, name := range []string{"", "   ", strings.Repeat("名", 101), "市民通 App"} {
		_, _, err := k.Add(ctx, admin, name)
		e, ok := apperr.As(err)
		if !ok || e.Field != "name" || e.Status < 400 || e.Status >= 500 {
			t.Errorf("Add(%q): %v, want a 4xx naming the field", name, err)
		}
	}

	// Check finds the active key, records the use to the minute.
	if name, err := k.Check(ctx, secret); err != nil || name != "市民通 App" {
		t.Fatalf("Check: %q %v", name, err)
	}
	for _, bad := range []string{"", "o311_", secret + "x", strings.ToUpper(secret), "Bearer " + secret} {
		if name, err := k.Check(ctx, bad); err != nil || name != "" {
			t.Errorf("Check(%q) = %q %v, want no key", bad, name, err)
		}
	}
	keys, err := k.List(ctx)
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(now) || !keys[0].Active() || keys[0].CreatedBy != "admin" {
		t.Fatalf("List: %+v %v", keys, err)
	}

	// Revoking stops the key at once; a second revoke and an unknown id are refused.
	if err := k.Revoke(ctx, admin, key.ID); err != nil {
		t.Fatal(err)
	}
	if name, _ := k.Check(ctx, secret); name != "" {
		t.Error("a revoked key still works")
	}
	if err := k.Revoke(ctx, admin, key.ID); err == nil {
		t.Error("revoked twice")
	}
	if err := k.Revoke(ctx, admin, 999); err != ErrKeyNotFound {
		t.Errorf("unknown id: %v", err)
	}
	keys, _ = k.List(ctx)
	if keys[0].Active() || keys[0].RevokedBy != "admin" {
		t.Errorf("after revoke: %+v", keys[0])
	}

	// Every change is in the audit log.
	recs, _, err := al.List(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		if strings.HasPrefix(r.Action, "open311.") {
			actions = append(actions, r.Action+" "+r.Summary+" by "+r.Actor)
		}
	}
	got := strings.Join(actions, "; ")
	if !strings.Contains(got, "open311.key.add 市民通 App by admin") || !strings.Contains(got, "open311.key.revoke 市民通 App by admin") || len(actions) != 2 {
		t.Errorf("audit: %s", got)
	}
}

func TestConcurrentKeyChangesHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	k := NewKeys(d, audit.New(d), nil)
	actor := audit.Entry{Actor: "admin"}
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); _, _, errs[i] = k.Add(ctx, actor, "同名") }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if e, isApp := apperr.As(err); !isApp || e.Status != 409 {
			t.Errorf("a losing add: %v, want 409", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d adds of one name succeeded", ok)
	}
	keys, _ := k.List(ctx)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = k.Revoke(ctx, actor, keys[0].ID) }()
	}
	wg.Wait()
	ok = 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d revokes of one key succeeded", ok)
	}
	recs, _, _ := audit.New(d).List(ctx, audit.Filter{Action: "open311."})
	if len(recs) != 2 {
		t.Errorf("%d audit records, want one add and one revoke", len(recs))
	}
}
