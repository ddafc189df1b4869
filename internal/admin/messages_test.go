package admin

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/biaogan/biaogan/internal/web"
)

func TestMessagesHaveBothLanguages(t *testing.T) {
	for k := range messagesZH {
		if _, ok := messagesEN[k]; !ok {
			t.Errorf("en lacks %s", k)
		}
	}
	for k := range messagesEN {
		if _, ok := messagesZH[k]; !ok {
			t.Errorf("zh-CN lacks %s", k)
		}
	}
}

// Every key the templates and handlers use exists in both languages.
func TestUsedKeysExist(t *testing.T) {
	c := web.NewCatalog()
	c.Add(messagesZH, messagesEN)
	used := map[string]bool{}
	tpl := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		for _, m := range tpl.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`"((?:flash|account|users|audit|system|admin|nav)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)"`)
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range gofiles {
		if filepath.Ext(f) != ".go" || len(f) > 8 && f[len(f)-8:] == "_test.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range code.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
		}
	}
	for _, r := range []string{"sysadmin", "secadmin", "auditor"} {
		used["system.duty."+r] = true
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys; is the scan broken?", len(used))
	}
	for k := range used {
		for _, lang := range web.Languages {
			if c.T(lang, k) == k {
				t.Errorf("%s: no message %s", lang, k)
			}
		}
	}
}
