package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// Migration is one embedded SQL file, applied in one transaction.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations of the dialect, in order.
func (d Dialect) Migrations() ([]Migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("db: read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("db: migration %s: name must start with a number and _", name)
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("db: two migrations with version %d", ms[i].Version)
		}
	}
	return ms, nil
}

// LatestVersion is the newest schema version this binary knows.
func (d Dialect) LatestVersion() int {
	ms, err := d.Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

const versionTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL
)`

// Version returns the schema version applied to the database (0 when none).
func (d *DB) Version(ctx context.Context) (int, error) {
	if _, err := d.W.ExecContext(ctx, versionTable); err != nil {
		return 0, fmt.Errorf("db: version table: %w", err)
	}
	var v int
	if err := d.W.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("db: read version: %w", err)
	}
	return v, nil
}

// ErrUnknownSchema means the database was migrated by a newer binary.
type ErrUnknownSchema struct{ Have, Know int }

func (e *ErrUnknownSchema) Error() string {
	return fmt.Sprintf("db: database schema version %d is newer than this binary knows (%d); upgrade biaogan", e.Have, e.Know)
}

// Migrate applies every pending migration, each in its own transaction, and
// refuses a database whose schema is newer than this binary.
func (d *DB) Migrate(ctx context.Context) (applied []Migration, err error) {
	ms, err := d.Dialect.Migrations()
	if err != nil {
		return nil, err
	}
	if d.Dialect == Postgres {
		// Several instances may start at once; one migrates, the others wait.
		conn, err := d.W.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727001)`); err != nil {
			return nil, fmt.Errorf("db: migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(727001)`)
	}
	have, err := d.Version(ctx)
	if err != nil {
		return nil, err
	}
	if len(ms) > 0 && have > ms[len(ms)-1].Version {
		return nil, &ErrUnknownSchema{Have: have, Know: ms[len(ms)-1].Version}
	}
	done, err := d.applied(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		err := d.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("db: migration %s: %w", m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, time.Now().UTC())
			return err
		})
		if err != nil {
			return applied, err
		}
		applied = append(applied, m)
	}
	return applied, nil
}

// applied lists the versions recorded in the version table; a migration
// merged later with a lower number than one applied still gets applied.
func (d *DB) applied(ctx context.Context) (map[int]bool, error) {
	rows, err := d.W.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("db: read applied migrations: %w", err)
	}
	defer rows.Close()
	m := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		m[v] = true
	}
	return m, rows.Err()
}

// CheckSchema refuses to run on a schema this binary does not know: newer,
// or not yet migrated.
func (d *DB) CheckSchema(ctx context.Context) error {
	have, err := d.Version(ctx)
	if err != nil {
		return err
	}
	know := d.Dialect.LatestVersion()
	if have > know {
		return &ErrUnknownSchema{Have: have, Know: know}
	}
	done, err := d.applied(ctx)
	if err != nil {
		return err
	}
	ms, err := d.Dialect.Migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !done[m.Version] {
			return fmt.Errorf("db: migration %s is not applied; run biaogan migrate", m.Name)
		}
	}
	return nil
}

// Column describes one column, for comparing the two engines' schemas.
type Column struct{ Table, Name string }

// Columns lists every table and column of the application schema.
func (d *DB) Columns(ctx context.Context) ([]Column, error) {
	var q string
	if d.Dialect == Postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns
		     WHERE table_schema = current_schema() ORDER BY table_name, column_name`
	} else {
		q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.name`
	}
	rows, err := d.R.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("db: list columns: %w", err)
	}
	defer rows.Close()
	var cs []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Table, &c.Name); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}
