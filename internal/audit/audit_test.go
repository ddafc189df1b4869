package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
)

func write(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := l.Write(context.Background(), audit.Entry{Actor: "alice", ActorID: 1, IP: "127.0.0.1",
			Action: "unit.update", Object: fmt.Sprintf("unit:%d", i), Summary: "name: 甲 → 乙"})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func dropGuards(t *testing.T, d *db.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	if d.Dialect == db.Postgres {
		stmts = []string{`DROP TRIGGER audit_log_guard ON audit_log`}
	}
	for _, s := range stmts {
		if _, err := d.ExecContext(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifies(t *testing.T) {
	d := dbtest.Open(t)
	l := audit.New(d)
	write(t, l, 5)
	res, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.BadID != 0 || res.Checked != 5 {
		t.Fatalf("Verify = %+v, want 5 checked and intact", res)
	}
}

func TestRecordsCannotBeChangedOrRemoved(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	l := audit.New(d)
	write(t, l, 2)
	if _, err := d.ExecContext(ctx, `UPDATE audit_log SET summary = 'nothing happened' WHERE id = 1`); err == nil {
		t.Fatal("UPDATE of an audit record succeeded")
	}
	if _, err := d.ExecContext(ctx, `DELETE FROM audit_log WHERE id = 1`); err == nil {
		t.Fatal("DELETE of a fresh audit record succeeded")
	}
}

func TestVerifyNamesFirstAlteredRecord(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	l := audit.New(d)
	write(t, l, 6)
	dropGuards(t, d) // someone with database access bypasses the triggers
	if _, err := d.ExecContext(ctx, `UPDATE audit_log SET summary = 'nothing happened' WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	res, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.BadID != 4 {
		t.Fatalf("Verify = %+v, want record 4 named", res)
	}
}

func TestVerifyNamesGapAfterRemovedRecord(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	l := audit.New(d)
	write(t, l, 6)
	dropGuards(t, d)
	if _, err := d.ExecContext(ctx, `DELETE FROM audit_log WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	res, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.BadID != 4 {
		t.Fatalf("Verify = %+v, want record 4 named (after the removed 3)", res)
	}
}

func TestPruneKeepsRetentionAndChain(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	l := audit.New(d)
	old := time.Now().Add(-200 * 24 * time.Hour)
	l.Now = func() time.Time { return old }
	write(t, l, 3)
	l.Now = time.Now
	write(t, l, 2)

	if _, err := l.Prune(ctx, time.Now().Add(-100*24*time.Hour), audit.Entry{Actor: "auditor"}); err == nil {
		t.Fatal("prune inside the 184-day floor was accepted")
	}
	n, err := l.Prune(ctx, time.Now().Add(-190*24*time.Hour), audit.Entry{Actor: "auditor"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("pruned %d, want 3", n)
	}
	recs, total, err := l.List(ctx, audit.Filter{Action: "audit.prune"})
	if err != nil || total != 1 || recs[0].Actor != "auditor" {
		t.Fatalf("prune not audited: %v %d %+v", err, total, recs)
	}
	res, err := l.Verify(ctx)
	if err != nil || res.BadID != 0 || res.Checked != 3 {
		t.Fatalf("Verify after prune = %+v, %v; want 3 intact", res, err)
	}
	write(t, l, 1)
	if res, _ := l.Verify(ctx); res.BadID != 0 {
		t.Fatalf("chain broken after a write following prune: %+v", res)
	}
}
