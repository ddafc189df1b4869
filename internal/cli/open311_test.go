package cli

import (
	"strings"
	"testing"
)

func TestOpen311KeyCommands(t *testing.T) {
	data := t.TempDir()
	code, out, errs := run(t, nil, "open311", "key", "add", "市民通 App", "--data", data)
	if code != 0 {
		t.Fatalf("key add: %d %s %s", code, out, errs)
	}
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, "o311_") || strings.Contains(secret, "\n") || !strings.Contains(errs, "shown this once") {
		t.Fatalf("key add printed %q (stderr %q)", out, errs)
	}
	if code, _, errs := run(t, nil, "open311", "key", "add", "市民通 App", "--data", data); code != 1 || !strings.Contains(errs, "exists already") {
		t.Fatalf("duplicate name: %d %q", code, errs)
	}
	code, out, _ = run(t, nil, "open311", "key", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "市民通 App") || !strings.Contains(out, secret[:11]) || strings.Contains(out, secret) || !strings.Contains(out, "active") {
		t.Fatalf("key list: %d %q", code, out)
	}
	if code, out, errs := run(t, nil, "open311", "key", "revoke", "1", "--data", data); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	if _, out, _ := run(t, nil, "open311", "key", "list", "--data", data); !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke: %q", out)
	}
	for _, bad := range [][]string{{"open311"}, {"open311", "key"}, {"open311", "key", "add"}, {"open311", "key", "revoke", "x"}, {"open311", "token", "list"}} {
		if code, _, errs := run(t, nil, append(bad, "--data", data)...); code != 2 || !strings.Contains(errs, "usage") {
			t.Errorf("%v: exit %d %q, want usage", bad, code, errs)
		}
	}
	if code, _, errs := run(t, nil, "open311", "key", "revoke", "42", "--data", data); code != 1 || !strings.Contains(errs, "no such key") {
		t.Errorf("unknown id: %d %q", code, errs)
	}
}
