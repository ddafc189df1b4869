// Package config reads BIAOGAN_* environment variables and command-line
// flags (flags win) and validates them once at start.
package config

import (
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/auth"
)

// Config is everything the server needs to start.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	Demo        bool
	BaseURL     string
	TZ          string
	Lang        string
	LogLevel    string

	AdminUser     string
	AdminPassword string

	PasswordPolicy     string
	PasswordMaxAgeDays int
	LoginPerMinute     int

	// PIIKey encrypts citizens' personal data in 12345 work orders (SM4,
	// 32 hex digits); empty means the built-in development key.
	PIIKey string

	Location *time.Location
}

// Env is how the environment is read (tests pass a map).
type Env func(string) string

// Vars documents every variable, for help text and the README.
var Vars = [][3]string{
	{"BIAOGAN_ADDR", "--addr", "listen address (default 127.0.0.1:8080)"},
	{"BIAOGAN_DATA", "--data", "data directory: SQLite file, uploads (default ./data)"},
	{"BIAOGAN_DATABASE_URL", "--db", "empty = SQLite in the data dir; postgres://user:pass@host/db = PostgreSQL"},
	{"BIAOGAN_DEMO", "--demo", "fill an empty database with demo data (true/false)"},
	{"BIAOGAN_BASE_URL", "--base-url", "public URL, e.g. https://dbd.example.gov.cn (https turns on Secure cookies and HSTS)"},
	{"BIAOGAN_TZ", "--tz", "time zone for display (default Asia/Shanghai)"},
	{"BIAOGAN_LANG", "--lang", "default language: zh-CN or en (default zh-CN)"},
	{"BIAOGAN_LOG_LEVEL", "--log-level", "debug, info, warn, error (default info)"},
	{"BIAOGAN_ADMIN_USER", "", "first system admin's username, used only when no account exists"},
	{"BIAOGAN_ADMIN_PASSWORD", "", "first system admin's password, used only when no account exists"},
	{"BIAOGAN_PASSWORD_POLICY", "", "password policy profile: level3 (等保三级, default) or level2"},
	{"BIAOGAN_PASSWORD_MAX_AGE_DAYS", "", "days before a password must change (default from the profile: 90; 0 = never)"},
	{"BIAOGAN_LOGIN_PER_MINUTE", "", "sign-in attempts allowed per client IP per minute (default 20)"},
	{"BIAOGAN_PII_KEY", "", "SM4 key (32 hex digits) encrypting citizens' names, phones and ID numbers in 12345 work orders; keep it: orders cannot be read without it"},
	{"BIAOGAN_DEMO_APPEALS", "", "how many 12345 appeals the demo generates (default 200000)"},
}

// Bind declares the flags shared by every command that opens the database,
// with defaults from the environment.
func Bind(fs *flag.FlagSet, env Env, c *Config) {
	def := func(k, d string) string {
		if v := env(k); v != "" {
			return v
		}
		return d
	}
	fs.StringVar(&c.DataDir, "data", def("BIAOGAN_DATA", "./data"), "data directory")
	fs.StringVar(&c.DatabaseURL, "db", def("BIAOGAN_DATABASE_URL", ""), "PostgreSQL URL (empty: SQLite in the data dir)")
	fs.StringVar(&c.TZ, "tz", def("BIAOGAN_TZ", "Asia/Shanghai"), "display time zone")
	fs.StringVar(&c.LogLevel, "log-level", def("BIAOGAN_LOG_LEVEL", "info"), "log level")
	c.AdminUser = env("BIAOGAN_ADMIN_USER")
	c.AdminPassword = env("BIAOGAN_ADMIN_PASSWORD")
	c.PasswordPolicy = def("BIAOGAN_PASSWORD_POLICY", "level3")
	c.PIIKey = env("BIAOGAN_PII_KEY")
	c.PasswordMaxAgeDays = -1
	if v := env("BIAOGAN_PASSWORD_MAX_AGE_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -2 // reported by Validate
		}
		c.PasswordMaxAgeDays = n
	}
	c.LoginPerMinute = 20
	if v := env("BIAOGAN_LOGIN_PER_MINUTE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		c.LoginPerMinute = n
	}
}

// BindServe adds the serve-only flags.
func BindServe(fs *flag.FlagSet, env Env, c *Config) {
	def := func(k, d string) string {
		if v := env(k); v != "" {
			return v
		}
		return d
	}
	fs.StringVar(&c.Addr, "addr", def("BIAOGAN_ADDR", "127.0.0.1:8080"), "listen address")
	fs.BoolVar(&c.Demo, "demo", def("BIAOGAN_DEMO", "") == "true" || env("BIAOGAN_DEMO") == "1", "fill an empty database with demo data")
	fs.StringVar(&c.BaseURL, "base-url", def("BIAOGAN_BASE_URL", ""), "public base URL")
	fs.StringVar(&c.Lang, "lang", def("BIAOGAN_LANG", "zh-CN"), "default language (zh-CN or en)")
}

// Validate checks values and fills derived fields. Every problem names the
// flag and the variable.
func (c *Config) Validate() error {
	var errs []string
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Sprintf("--addr / BIAOGAN_ADDR %q: want host:port", c.Addr))
		}
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, "--data / BIAOGAN_DATA must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, "--db / BIAOGAN_DATABASE_URL must be empty (SQLite) or start with postgres://")
	}
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		errs = append(errs, fmt.Sprintf("--tz / BIAOGAN_TZ %q: unknown time zone", c.TZ))
	}
	c.Location = loc
	if c.Lang == "" {
		c.Lang = "zh-CN"
	}
	switch c.Lang {
	case "zh-CN", "en":
	default:
		errs = append(errs, fmt.Sprintf("--lang / BIAOGAN_LANG %q: want zh-CN or en", c.Lang))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("--base-url / BIAOGAN_BASE_URL %q: want http(s)://host[:port]", c.BaseURL))
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("--log-level / BIAOGAN_LOG_LEVEL %q: want debug, info, warn or error", c.LogLevel))
	}
	if _, ok := auth.Policies[c.PasswordPolicy]; !ok {
		errs = append(errs, fmt.Sprintf("BIAOGAN_PASSWORD_POLICY %q: want level3 or level2", c.PasswordPolicy))
	}
	if c.PasswordMaxAgeDays < -1 {
		errs = append(errs, "BIAOGAN_PASSWORD_MAX_AGE_DAYS: want a whole number of days (0 = never)")
	}
	if c.LoginPerMinute < 1 {
		errs = append(errs, "BIAOGAN_LOGIN_PER_MINUTE: want a positive whole number")
	}
	if c.PIIKey != "" {
		if b, err := hex.DecodeString(c.PIIKey); err != nil || len(b) != 16 {
			errs = append(errs, "BIAOGAN_PII_KEY: want 32 hex digits (a 128-bit SM4 key)")
		}
	}
	if (c.AdminUser == "") != (c.AdminPassword == "") {
		errs = append(errs, "BIAOGAN_ADMIN_USER and BIAOGAN_ADMIN_PASSWORD go together: set both or neither")
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Secure reports whether the public URL is https.
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// AuthSettings derives the security settings.
func (c *Config) AuthSettings() auth.Settings {
	s := auth.DefaultSettings()
	if p, ok := auth.Policies[c.PasswordPolicy]; ok {
		s.Policy = p
	}
	if c.PasswordMaxAgeDays >= 0 {
		s.Policy.MaxAge = time.Duration(c.PasswordMaxAgeDays) * 24 * time.Hour
	}
	if c.LoginPerMinute > 0 {
		s.LoginPerMinute = c.LoginPerMinute
	}
	return s
}
