package db_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
)

func TestRebind(t *testing.T) {
	got := db.Postgres.Rebind("SELECT a FROM t WHERE b = ? AND c IN (?, ?)")
	want := "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
	if got != want {
		t.Fatalf("Rebind = %q, want %q", got, want)
	}
	if s := db.SQLite.Rebind("x = ?"); s != "x = ?" {
		t.Fatalf("sqlite rebind changed the query: %q", s)
	}
}

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	d := dbtest.OpenEmpty(t)
	applied, err := d.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 {
		t.Fatal("no migration applied to an empty database")
	}
	again, err := d.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %d, err %v", len(again), err)
	}
	if err := d.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema on current schema: %v", err)
	}
	// A newer binary has been here.
	if _, err := d.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', CURRENT_TIMESTAMP)`, d.Dialect.LatestVersion()+1); err != nil {
		t.Fatal(err)
	}
	var unknown *db.ErrUnknownSchema
	if err := d.CheckSchema(ctx); !errors.As(err, &unknown) {
		t.Fatalf("CheckSchema = %v, want ErrUnknownSchema", err)
	}
	if _, err := d.Migrate(ctx); !errors.As(err, &unknown) {
		t.Fatalf("Migrate = %v, want ErrUnknownSchema", err)
	}
}

func TestBothEnginesHaveSameColumns(t *testing.T) {
	base := os.Getenv(dbtest.EnvURL)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must set " + dbtest.EnvURL)
		}
		t.Skip(dbtest.EnvURL + " not set")
	}
	ctx := context.Background()
	lite, err := db.Open(ctx, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if _, err := lite.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pg, err := db.Open(ctx, "", dbtest.SchemaURL(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if _, err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := lite.Columns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pg.Columns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set := func(cs []db.Column) map[db.Column]bool {
		m := map[db.Column]bool{}
		for _, c := range cs {
			m[c] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	for c := range sa {
		if !sb[c] {
			t.Errorf("%s.%s exists on SQLite but not on PostgreSQL", c.Table, c.Name)
		}
	}
	for c := range sb {
		if !sa[c] {
			t.Errorf("%s.%s exists on PostgreSQL but not on SQLite", c.Table, c.Name)
		}
	}
	if len(sa) < 20 {
		t.Fatalf("only %d columns found; schema listing is broken", len(sa))
	}
}
