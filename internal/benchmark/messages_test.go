package benchmark

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
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

// Every key the templates and handlers use, and every stage, kind and
// frequency the templates build a key for, exists here or in the
// platform's catalog (common.*, nav.*).
func TestUsedKeysExist(t *testing.T) {
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
	code := regexp.MustCompile(`"((?:bm|flash)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)"`)
	for _, f := range []string{"http.go", "api.go", "service.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range code.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
		}
	}
	for _, st := range Stages {
		used["bm.stage."+string(st)] = true
	}
	for _, k := range PeerKinds {
		used["bm.kind."+string(k)] = true
	}
	for _, k := range ActivityKinds {
		used["bm.akind."+string(k)] = true
	}
	for _, f := range Frequencies {
		used["bm.freq."+string(f)] = true
	}
	used["bm.dir.higher_better"], used["bm.dir.lower_better"] = true, true
	for k := range used {
		if strings.HasPrefix(k, "common.") || strings.HasPrefix(k, "nav.") {
			continue
		}
		if _, ok := messagesZH[k]; !ok {
			t.Errorf("message %s is used but missing", k)
		}
	}
}
