package workday

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseYearEmbeddedFiles(t *testing.T) {
	files, err := filepath.Glob("data/*.json")
	if err != nil || len(files) != 12 {
		t.Fatalf("embedded files: %v, %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		y, err := ParseYear(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(y.Papers) == 0 || len(y.Days) < 20 {
			t.Errorf("%s: %d papers, %d days", f, len(y.Papers), len(y.Days))
		}
		// Written back, the file parses to the same facts.
		out, err := json.Marshal(y)
		if err != nil {
			t.Fatal(err)
		}
		y2, err := ParseYear(bytes.NewReader(out))
		if err != nil || y2.Year != y.Year || !slices.Equal(y2.Days, y.Days) || !slices.Equal(y2.Papers, y.Papers) {
			t.Errorf("%s: round trip differs: %v", f, err)
		}
	}
}

func TestParseYearErrors(t *testing.T) {
	day := func(name, date, off string) string {
		return `{"name":` + name + `,"date":` + date + `,"isOffDay":` + off + `}`
	}
	file := func(year string, days ...string) string {
		return `{"year":` + year + `,"papers":["https://www.gov.cn/x"],"days":[` + strings.Join(days, ",") + `]}`
	}
	ok := day(`"春节"`, `"2024-02-10"`, "true")
	tests := []struct {
		name, in, field, msg string
	}{
		{"not JSON", `{"year":2024,`, "", "truncated"},
		{"syntax", `{"year":2024,,}`, "", "invalid JSON at byte"},
		{"array", `[]`, "", "want a JSON object"},
		{"trailing", file("2024", ok) + `{}`, "", "after the JSON object"},
		{"no year", `{"papers":[],"days":[` + ok + `]}`, "year", "missing"},
		{"fractional year", file("2024.5", ok), "year", "not a whole number"},
		{"year range", file("1900", day(`"x"`, `"1900-01-01"`, "true")), "year", "outside 1999–2100"},
		{"no papers", `{"year":2024,"days":[` + ok + `]}`, "papers", "missing"},
		{"papers type", `{"year":2024,"papers":"x","days":[` + ok + `]}`, "papers", "want []string"},
		{"no days", `{"year":2024,"papers":[]}`, "days", "missing"},
		{"empty days", file("2024"), "days", "empty"},
		{"bad date format", file("2024", ok, day(`"春节"`, `"2024-2-11"`, "true")), "days[1].date", `"2024-2-11": want YYYY-MM-DD`},
		{"impossible date", file("2024", day(`"春节"`, `"2024-02-30"`, "true")), "days[0].date", "day out of range"},
		{"date type", file("2024", day(`"春节"`, `20240210`, "true")), "days[0].date", "want string"},
		{"missing date", file("2024", `{"name":"春节","isOffDay":true}`), "days[0].date", "missing"},
		{"missing name", file("2024", `{"date":"2024-02-10","isOffDay":true}`), "days[0].name", "missing (date 2024-02-10)"},
		{"blank name", file("2024", day(`" "`, `"2024-02-10"`, "true")), "days[0].name", "empty (date 2024-02-10)"},
		{"missing isOffDay", file("2024", ok, `{"name":"春节","date":"2024-02-11"}`), "days[1].isOffDay", "missing (date 2024-02-11)"},
		{"isOffDay type", file("2024", day(`"春节"`, `"2024-02-10"`, `"yes"`)), "days[0].isOffDay", "want bool"},
		{"next year", file("2024", ok, day(`"元旦"`, `"2025-01-01"`, "true")), "days[1].date", "2025-01-01 is outside year 2024"},
		{"too early", file("2024", day(`"元旦"`, `"2023-11-30"`, "true")), "days[0].date", "2023-11-30 is outside year 2024"},
		{"duplicate", file("2024", ok, day(`"春节"`, `"2024-02-11"`, "true"), day(`"春节"`, `"2024-02-10"`, "false")), "days[2].date", "2024-02-10 is listed twice (also days[0])"},
		{"blank paper", `{"year":2024,"papers":[""],"days":[` + ok + `]}`, "papers[0]", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseYear(strings.NewReader(tt.in))
			var ye *YearError
			if !errors.As(err, &ye) {
				t.Fatalf("error %v, want *YearError", err)
			}
			if ye.Field != tt.field || !strings.Contains(ye.Msg, tt.msg) {
				t.Errorf("got field %q msg %q; want field %q msg containing %q", ye.Field, ye.Msg, tt.field, tt.msg)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestParseYearAcceptsDecemberStart(t *testing.T) {
	in := `{"$schema":"s","$id":"i","year":2019,"papers":[],"days":[
		{"name":"元旦","date":"2018-12-29","isOffDay":false},
		{"name":"元旦","date":"2018-12-30","isOffDay":true},
		{"name":"元旦","date":"2019-01-01","isOffDay":true}]}`
	y, err := ParseYear(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if y.Year != 2019 || len(y.Days) != 3 || y.Days[0].Date != d("2018-12-29") || y.Days[0].IsOffDay {
		t.Errorf("parsed %+v", y)
	}
}

func TestParseYearSizeLimit(t *testing.T) {
	big := `{"year":2024,"papers":["` + strings.Repeat("x", MaxYearFileSize) + `"],"days":[]}`
	_, err := ParseYear(strings.NewReader(big))
	var ye *YearError
	if !errors.As(err, &ye) || !strings.Contains(ye.Msg, "larger than") {
		t.Errorf("error %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestParseYearReadError(t *testing.T) {
	_, err := ParseYear(failingReader{})
	if err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("error %v", err)
	}
}
