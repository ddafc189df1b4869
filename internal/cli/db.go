package cli

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/config"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/demo"
)

func runMigrate(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("migrate", &cfg)
	status := fs.Bool("status", false, "show the schema version and pending migrations only")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	d, err := db.Open(c, cfg.DataDir, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	if *status {
		have, err := d.Version(c)
		if err != nil {
			return err
		}
		ms, err := d.Dialect.Migrations()
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "engine: %s\nschema version: %d (this binary knows %d)\n", d.Dialect, have, d.Dialect.LatestVersion())
		for _, m := range ms {
			state := "applied"
			if m.Version > have {
				state = "pending"
			}
			fmt.Fprintf(c.stdout, "  %-28s %s\n", m.Name, state)
		}
		if have > d.Dialect.LatestVersion() {
			return &db.ErrUnknownSchema{Have: have, Know: d.Dialect.LatestVersion()}
		}
		return nil
	}
	applied, err := d.Migrate(c)
	for _, m := range applied {
		fmt.Fprintf(c.stdout, "applied %s\n", m.Name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(c.stdout, "schema is up to date")
	}
	return nil
}

func runDemo(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("demo", &cfg)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	a, err := c.open(&cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	loaded, err := a.LoadDemoIfEmpty(c)
	if err != nil {
		return err
	}
	if !loaded {
		return errors.New("the database already has units or accounts; demo data goes only into an empty database")
	}
	fmt.Fprintln(c.stdout, "demo data loaded; accounts (password "+demo.Password+"):")
	for _, acc := range demo.Accounts {
		fmt.Fprintf(c.stdout, "  %-12s %s\n", acc.Username, acc.Label)
	}
	return nil
}

func runBackup(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("backup", &cfg)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give the backup file name")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New("PostgreSQL is backed up with its own tools, e.g.\n  pg_dump --format=custom --file=biaogan.dump \"$BIAOGAN_DATABASE_URL\"\nand restored with\n  pg_restore --clean --if-exists --dbname=\"$BIAOGAN_DATABASE_URL\" biaogan.dump")
	}
	out, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose a new file name", out)
	}
	src := filepath.Join(cfg.DataDir, db.FileName)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("no database at %s: %w", src, err)
	}
	d, err := db.OpenSQLite(c, src)
	if err != nil {
		return err
	}
	defer d.Close()
	// VACUUM INTO writes a consistent snapshot while other connections,
	// including a running server, keep reading and writing.
	if _, err := d.W.ExecContext(c, `VACUUM INTO '`+strings.ReplaceAll(out, "'", "''")+`'`); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	info, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "backup written to %s (%d bytes)\n", out, info.Size())
	return nil
}

func runRestore(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("restore", &cfg)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give the backup file to restore")
	}
	if cfg.DatabaseURL != "" {
		return errors.New("restore PostgreSQL with pg_restore (see biaogan backup)")
	}
	dst := filepath.Join(cfg.DataDir, db.FileName)
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s already has a database; restore only into an empty data directory", cfg.DataDir)
	}
	if err := checkBackup(c, pos[0]); err != nil {
		return fmt.Errorf("%s is not a usable backup: %w", pos[0], err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	tmp := dst + ".restoring"
	if err := copyFile(pos[0], tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "restored %s into %s (integrity and audit chain checked)\n", pos[0], dst)
	return nil
}

// checkBackup opens the file read-only and checks SQLite integrity, the
// schema version and the audit chain.
func checkBackup(c *ctx, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || string(head) != "SQLite format 3\x00" {
		return errors.New("not a SQLite database file")
	}
	// Work on a scratch copy so checking never writes to the backup.
	dir, err := os.MkdirTemp("", "biaogan-restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	scratch := filepath.Join(dir, db.FileName)
	if err := copyFile(path, scratch); err != nil {
		return err
	}
	d, err := db.OpenSQLite(c, scratch)
	if err != nil {
		return err
	}
	defer d.Close()
	var res string
	if err := d.W.QueryRowContext(c, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	var v int
	if err := d.W.QueryRowContext(c, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		if errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "no such table") {
			return errors.New("not a biaogan database (no schema version)")
		}
		return err
	}
	if v > d.Dialect.LatestVersion() {
		return &db.ErrUnknownSchema{Have: v, Know: d.Dialect.LatestVersion()}
	}
	vr, err := audit.New(d).Verify(c)
	if err != nil {
		return err
	}
	if vr.BadID != 0 {
		return fmt.Errorf("audit chain broken at record %d: %s", vr.BadID, vr.Reason)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func runAudit(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("audit", &cfg)
	before := fs.String("before", "", "prune: remove records before this date (YYYY-MM-DD, at least 184 days ago)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !oneOf(pos[0], "verify", "prune") {
		return usagef("say %s", joinOr("verify", "prune"))
	}
	a, err := c.open(&cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	if pos[0] == "prune" {
		t, err := time.ParseInLocation("2006-01-02", *before, cfg.Location)
		if err != nil {
			return usagef("--before must be a date YYYY-MM-DD")
		}
		n, err := a.Audit.Prune(c, t, audit.Entry{Actor: "cli"})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "removed %d records older than %s; the prune itself is recorded\n", n, *before)
		return nil
	}
	res, err := a.Audit.Verify(c)
	if err != nil {
		return err
	}
	if res.BadID != 0 {
		return fmt.Errorf("audit log altered: record %d: %s (%d records before it are intact)", res.BadID, res.Reason, res.Checked)
	}
	fmt.Fprintf(c.stdout, "audit log intact: %d records verified\n", res.Checked)
	return nil
}
