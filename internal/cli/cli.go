// Package cli implements the biaogan subcommands.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/biaogan/biaogan/internal/app"
	"github.com/biaogan/biaogan/internal/config"
)

// command is one subcommand.
type command struct {
	name, usage, help string
	run               func(c *ctx, args []string) error
}

// ctx carries the process environment so tests can run commands in-process.
type ctx struct {
	context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	env            config.Env
}

// usageError makes Main print the command's usage and exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

var commands []command

func init() {
	commands = []command{
		{"serve", "serve [--addr A] [--data DIR] [--db URL] [--demo] [--base-url URL] [--tz TZ] [--lang zh-CN|en]", "run the web server", runServe},
		{"migrate", "migrate [--status] [--data DIR] [--db URL]", "apply database migrations, or show the schema version", runMigrate},
		{"user", "user add|passwd|disable|enable|unlock|list …", "manage accounts (see biaogan user help)", runUser},
		{"import", "import units|people FILE.xlsx", "import units or people from Excel (all rows or none)", runImport},
		{"export", "export units|people FILE.xlsx", "export units or people to Excel", runExport},
		{"backup", "backup FILE", "write a consistent copy of the SQLite database (safe while the server runs)", runBackup},
		{"restore", "restore FILE --data DIR", "restore a backup into an empty data directory, after checking it", runRestore},
		{"audit", "audit verify|prune --before YYYY-MM-DD", "verify the audit log's hash chain, or prune records older than 184 days", runAudit},
		{"workday", "workday add DATE N | between A B | check YEAR", "Chinese working days (holidays and 调休 included)", runWorkday},
		{"demo", "demo [--data DIR] [--db URL]", "fill an empty database with the demo city office", runDemo},
		{"open311", "open311 key add NAME | key list | key revoke ID", "issue, list and revoke Open311 GeoReport v2 API keys", runOpen311},
		{"version", "version", "print the version", func(c *ctx, _ []string) error { fmt.Fprintln(c.stdout, "biaogan", app.Version); return nil }},
	}
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, env config.Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		return 0
	}
	c := &ctx{Context: context.Background(), stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	for _, cmd := range commands {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(c, args[1:])
		if err == nil {
			return 0
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "biaogan %s: %s\nusage: biaogan %s\n", cmd.name, ue.msg, cmd.usage)
			return 2
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "biaogan %s: %v\n", cmd.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "biaogan: unknown command %q\n\n", args[0])
	printHelp(stderr)
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "biaogan (标杆) — 对标争先 · 挂图作战 · 督查督办")
	fmt.Fprintln(w, "\nUsage: biaogan COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n             %s\n", c.name, c.help, c.usage)
	}
	fmt.Fprintln(w, "\nEvery command that opens the database takes --data DIR and --db URL.\n\nEnvironment:")
	for _, v := range config.Vars {
		fmt.Fprintf(w, "  %-30s %-11s %s\n", v[0], v[1], v[2])
	}
}

// flags makes a flag set bound to the shared database flags.
func (c *ctx) flags(name string, cfg *config.Config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	config.Bind(fs, c.env, cfg)
	return fs
}

// parse parses flags anywhere among args (flag stops at the first
// positional; people write "import units x.xlsx --data d").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		// A negative number ("workday add 2026-01-05 -3") is an argument, not a flag.
		for len(args) > 0 && isNegativeNumber(args[0]) {
			pos = append(pos, args[0])
			args = args[1:]
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func logger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// open validates cfg, opens and migrates the database and wires the app.
func (c *ctx) open(cfg *config.Config) (*app.App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d, err := app.Open(c, cfg)
	if err != nil {
		return nil, err
	}
	a, err := app.New(cfg, d, logger(cfg, c.stderr), app.Options{})
	if err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

func oneOf(s string, opts ...string) bool {
	for _, o := range opts {
		if s == o {
			return true
		}
	}
	return false
}

func joinOr(opts ...string) string { return strings.Join(opts, " or ") }

func isNegativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
