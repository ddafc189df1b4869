// Package dbtest gives each test a fresh, migrated database: a temporary
// SQLite file, or a private schema on the PostgreSQL server named by
// BIAOGAN_TEST_DATABASE_URL so the whole suite runs on both engines.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/biaogan/biaogan/internal/db"
)

// EnvURL names the PostgreSQL server for tests.
const EnvURL = "BIAOGAN_TEST_DATABASE_URL"

// Open returns a migrated database that is removed when the test ends.
func Open(t testing.TB) *db.DB {
	t.Helper()
	d := OpenEmpty(t)
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d
}

// OpenEmpty returns an unmigrated database.
func OpenEmpty(t testing.TB) *db.DB {
	t.Helper()
	ctx := context.Background()
	if base := os.Getenv(EnvURL); base != "" {
		u := SchemaURL(t, base)
		d, err := db.Open(ctx, "", u)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	dir := t.TempDir()
	d, err := db.Open(ctx, dir, "")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// SchemaURL creates a fresh schema on the server at base and returns a URL
// whose connections use it; the schema is dropped when the test ends.
func SchemaURL(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DataDir returns a temporary data directory for the test.
func DataDir(t testing.TB) string {
	return filepath.Join(t.TempDir(), "data")
}
