package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/biaogan/biaogan/internal/app"
	"github.com/biaogan/biaogan/internal/config"
	"github.com/biaogan/biaogan/internal/db"
)

// run runs a command in-process with a clean environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := run(t, nil, "help")
	if code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for _, c := range []string{"serve", "migrate", "user", "import", "export", "backup", "restore", "audit", "demo", "version", "BIAOGAN_DATABASE_URL"} {
		if !strings.Contains(out, c) {
			t.Errorf("help does not mention %s", c)
		}
	}
	if code, _, errs := run(t, nil, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: exit %d, %q", code, errs)
	}
}

func TestUserCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, _, errs := run(t, nil, "user", "add", "--data", data, "--username", "ops", "--password", "Strong-Pass-2026", "--role", "sysadmin,auditor")
	if code == 0 || !strings.Contains(errs, "三员分立") {
		t.Fatalf("two admin roles: exit %d, %q", code, errs)
	}
	code, _, errs = run(t, nil, "user", "add", "--data", data, "--username", "ops", "--password", "short", "--role", "sysadmin")
	if code == 0 || !strings.Contains(errs, "password") {
		t.Fatalf("weak password: exit %d, %q", code, errs)
	}
	if code, out, errs := run(t, nil, "user", "add", "--data", data, "--username", "ops", "--password", "Strong-Pass-2026", "--role", "sysadmin"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errs)
	}
	if code, _, _ := run(t, nil, "user", "disable", "--data", data, "--username", "ops"); code != 0 {
		t.Fatal("disable failed")
	}
	code, out, _ := run(t, nil, "user", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "ops") || !strings.Contains(out, "disabled") {
		t.Fatalf("user list: %d %q", code, out)
	}
	if code, _, errs := run(t, nil, "user", "unlock", "--data", data, "--username", "nobody"); code == 0 || !strings.Contains(errs, "nobody") {
		t.Fatalf("unlock of unknown user: %d %q", code, errs)
	}
}

// The CLI works on the SQLite file while a server has it open, backup is
// consistent, and restore checks what it restores.
func TestBackupRestoreWhileServing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := &config.Config{DataDir: data, TZ: "UTC", LogLevel: "info", PasswordPolicy: "level3", PasswordMaxAgeDays: -1, LoginPerMinute: 20}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv, err := app.New(cfg, d, slog.New(slog.DiscardHandler), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv
	// The "server" holds the database open; the CLI adds an account beside it.
	if code, out, errs := run(t, nil, "user", "add", "--data", data, "--username", "sec", "--password", "Strong-Pass-2026", "--role", "secadmin"); code != 0 {
		t.Fatalf("user add beside a running server: %d %s %s", code, out, errs)
	}
	backup := filepath.Join(dir, "b.db")
	if code, out, errs := run(t, nil, "backup", backup, "--data", data); code != 0 || !strings.Contains(out, "backup written") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	if code, _, _ := run(t, nil, "backup", backup, "--data", data); code == 0 {
		t.Fatal("backup overwrote an existing file")
	}
	if code, _, errs := run(t, nil, "backup", "x.dump", "--db", "postgres://u@127.0.0.1/x"); code == 0 || !strings.Contains(errs, "pg_dump") {
		t.Fatalf("backup on PostgreSQL should explain pg_dump: %q", errs)
	}
	// Restore into an empty directory, then it is a working database.
	fresh := filepath.Join(dir, "fresh")
	if code, out, errs := run(t, nil, "restore", backup, "--data", fresh); code != 0 {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	if code, out, _ := run(t, nil, "user", "list", "--data", fresh); code != 0 || !strings.Contains(out, "sec") {
		t.Fatalf("restored database lacks the account: %q", out)
	}
	if code, out, _ := run(t, nil, "audit", "verify", "--data", fresh); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on restored data: %d %q", code, out)
	}
	// Not into a data dir that has a database.
	if code, _, errs := run(t, nil, "restore", backup, "--data", fresh); code == 0 || !strings.Contains(errs, "empty data directory") {
		t.Fatalf("restore over a database: %d %q", code, errs)
	}
	// Not a database at all.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("hello"), 0o644)
	if code, _, errs := run(t, nil, "restore", junk, "--data", filepath.Join(dir, "x")); code == 0 || !strings.Contains(errs, "not a SQLite database") {
		t.Fatalf("restore of junk: %d %q", code, errs)
	}
	// A backup whose audit log was altered is refused, naming the record.
	tampered := filepath.Join(dir, "t.db")
	copyFile(backup, tampered)
	td, err := db.OpenSQLite(ctx, tampered)
	if err != nil {
		t.Fatal(err)
	}
	td.W.Exec(`DROP TRIGGER audit_log_no_update`)
	if _, err := td.W.Exec(`UPDATE audit_log SET summary = 'nothing to see' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	td.Close()
	if code, _, errs := run(t, nil, "restore", tampered, "--data", filepath.Join(dir, "y")); code == 0 || !strings.Contains(errs, "record 1") {
		t.Fatalf("restore of a tampered backup: %d %q", code, errs)
	}
}

func TestAuditVerifyNamesAlteredRecord(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	run(t, nil, "user", "add", "--data", data, "--username", "a1", "--password", "Strong-Pass-2026", "--role", "viewer")
	run(t, nil, "user", "add", "--data", data, "--username", "a2", "--password", "Strong-Pass-2026", "--role", "viewer")
	if code, out, _ := run(t, nil, "audit", "verify", "--data", data); code != 0 || !strings.Contains(out, "2 records") {
		t.Fatalf("verify: %d %q", code, out)
	}
	d, err := db.OpenSQLite(context.Background(), filepath.Join(data, db.FileName))
	if err != nil {
		t.Fatal(err)
	}
	d.W.Exec(`DROP TRIGGER audit_log_no_update`)
	d.W.Exec(`UPDATE audit_log SET actor = 'someone else' WHERE id = 2`)
	d.Close()
	code, _, errs := run(t, nil, "audit", "verify", "--data", data)
	if code == 0 || !strings.Contains(errs, "record 2") {
		t.Fatalf("verify after tampering: exit %d, %q", code, errs)
	}
}

func TestMigrateStatus(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, _ := run(t, nil, "migrate", "--data", data)
	if code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("migrate: %d %q", code, out)
	}
	code, out, _ = run(t, nil, "migrate", "--status", "--data", data)
	if code != 0 || strings.Contains(out, "pending") || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate --status: %d %q", code, out)
	}
}

func TestWorkdayCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	// 2025 National Day: Oct 1–8 off, Sat Oct 11 an adjusted working day.
	code, out, errs := run(t, nil, "workday", "add", "2025-09-30", "1", "--data", data)
	if code != 0 || strings.TrimSpace(out) != "2025-10-09" {
		t.Fatalf("add across National Day: %d %q %q", code, out, errs)
	}
	if code, out, _ := run(t, nil, "workday", "add", "2025-10-09", "-1", "--data", data); code != 0 || strings.TrimSpace(out) != "2025-09-30" {
		t.Fatalf("add back: %d %q", code, out)
	}
	if code, out, _ := run(t, nil, "workday", "between", "2025-10-09", "2025-10-11", "--data", data); code != 0 || strings.TrimSpace(out) != "2" {
		t.Fatalf("between with the adjusted Saturday: %d %q", code, out)
	}
	if code, out, _ := run(t, nil, "workday", "check", "2026", "--data", data); code != 0 || !strings.Contains(out, "2026") {
		t.Fatalf("check: %d %q", code, out)
	}
	if code, _, errs := run(t, nil, "workday", "add", "2025-13-01", "1", "--data", data); code != 2 || !strings.Contains(errs, "DATE") {
		t.Fatalf("bad date: %d %q", code, errs)
	}
}
