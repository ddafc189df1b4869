package config

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	get := func(k string) string { return env[k] }
	Bind(fs, get, &c)
	BindServe(fs, get, &c)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &c, c.Validate()
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.DatabaseURL != "" || c.Lang != "zh-CN" || c.Location.String() != "Asia/Shanghai" {
		t.Fatalf("defaults: %+v", c)
	}
	if got := c.AuthSettings().Policy.MaxAge; got != 90*24*time.Hour {
		t.Fatalf("default password max age %v, want 90 days", got)
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	c, err := parse(t, map[string]string{"BIAOGAN_ADDR": "0.0.0.0:9000", "BIAOGAN_LANG": "en"}, "--addr", "127.0.0.1:7000")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || c.Lang != "en" {
		t.Fatalf("got addr %s lang %s", c.Addr, c.Lang)
	}
}

func TestBadValuesNameTheSetting(t *testing.T) {
	cases := map[string][]string{
		"BIAOGAN_ADDR":         {"--addr", "nonsense"},
		"BIAOGAN_TZ":           {"--tz", "Mars/Olympus"},
		"BIAOGAN_LANG":         {"--lang", "fr"},
		"BIAOGAN_BASE_URL":     {"--base-url", "ftp://x"},
		"BIAOGAN_DATABASE_URL": {"--db", "mysql://x"},
	}
	for name, args := range cases {
		_, err := parse(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", args, err, name)
		}
	}
	_, err := parse(t, map[string]string{"BIAOGAN_ADMIN_USER": "root"})
	if err == nil || !strings.Contains(err.Error(), "BIAOGAN_ADMIN_PASSWORD") {
		t.Errorf("admin user without password: %v", err)
	}
}

func TestPIIKeyMustBe32HexDigits(t *testing.T) {
	for key, ok := range map[string]bool{"": true, "00112233445566778899aabbccddeeff": true, "0011": false, "zz112233445566778899aabbccddeeff": false} {
		var c Config
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		Bind(fs, func(k string) string {
			if k == "BIAOGAN_PII_KEY" {
				return key
			}
			return ""
		}, &c)
		BindServe(fs, func(string) string { return "" }, &c)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		err := c.Validate()
		if ok != (err == nil) {
			t.Errorf("key %q: err %v, want ok=%v", key, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "BIAOGAN_PII_KEY") {
			t.Errorf("error %q does not name BIAOGAN_PII_KEY", err)
		}
	}
}
