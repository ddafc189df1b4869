package workday

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDateMatchesTimePackage(t *testing.T) {
	// Every day from 1899 to 2101 must agree with the time package on the
	// civil date, the weekday and the day count.
	start := time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC)
	d0 := DateOf(1899, time.January, 1)
	for i := 0; i < 203*366; i++ {
		tm := start.AddDate(0, 0, i)
		d := d0.AddDays(i)
		y, m, dd := d.Civil()
		if y != tm.Year() || m != tm.Month() || dd != tm.Day() {
			t.Fatalf("day %d: got %04d-%02d-%02d, want %s", i, y, m, dd, tm.Format(time.DateOnly))
		}
		if d.Weekday() != tm.Weekday() {
			t.Fatalf("%s: weekday %v, want %v", d, d.Weekday(), tm.Weekday())
		}
		if d.String() != tm.Format(time.DateOnly) {
			t.Fatalf("String %q, want %q", d.String(), tm.Format(time.DateOnly))
		}
		if got := FromTime(tm, nil); got != d {
			t.Fatalf("FromTime(%s) = %s", tm, got)
		}
	}
	if got := DateOf(1, time.January, 1); got != 1 {
		t.Errorf("0001-01-01 = %d, want 1", got)
	}
	if DateOf(1970, time.January, 1) != unixEpoch {
		t.Error("unix epoch mismatch")
	}
}

func TestDateOfNormalises(t *testing.T) {
	tests := []struct {
		y    int
		m    time.Month
		d    int
		want string
	}{
		{2024, 1, 32, "2024-02-01"},
		{2024, 13, 1, "2025-01-01"},
		{2024, 0, 1, "2023-12-01"},
		{2024, 3, 0, "2024-02-29"},
		{2023, 3, 0, "2023-02-28"},
		{2024, -11, 1, "2023-01-01"},
	}
	for _, tt := range tests {
		if got := DateOf(tt.y, tt.m, tt.d).String(); got != tt.want {
			t.Errorf("DateOf(%d, %d, %d) = %s, want %s", tt.y, tt.m, tt.d, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	good := []string{"2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2025-10-08"}
	for _, s := range good {
		d, err := ParseDate(s)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", s, err)
			continue
		}
		if d.String() != s {
			t.Errorf("ParseDate(%q).String() = %q", s, d.String())
		}
	}
	bad := []string{"", "2024-2-04", "2024/02/04", "2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01",
		"2024-00-10", "2024-01-00", "0000-01-01", "20240204", "2024-02-04T00:00:00Z", "２０24-02-04", "+024-02-04"}
	for _, s := range bad {
		if _, err := ParseDate(s); !errors.Is(err, ErrBadDate) {
			t.Errorf("ParseDate(%q) error = %v, want ErrBadDate", s, err)
		}
	}
}

func TestFromTimeUsesLocation(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	tm := time.Date(2024, 2, 9, 17, 30, 0, 0, time.UTC) // 01:30 on the 10th in Beijing
	if got := FromTime(tm, shanghai); got.String() != "2024-02-10" {
		t.Errorf("FromTime in Shanghai = %s, want 2024-02-10", got)
	}
	if got := FromTime(tm, time.UTC); got.String() != "2024-02-09" {
		t.Errorf("FromTime in UTC = %s, want 2024-02-09", got)
	}
	d := MustParseDate("2024-02-10")
	if got := d.Time(shanghai); !got.Equal(time.Date(2024, 2, 10, 0, 0, 0, 0, shanghai)) {
		t.Errorf("Time = %s", got)
	}
}

func TestDateCompare(t *testing.T) {
	a, b := MustParseDate("2024-12-31"), MustParseDate("2025-01-01")
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("ordering wrong")
	}
	if b.Sub(a) != 1 || a.AddDays(1) != b || b.AddDays(-1) != a {
		t.Error("arithmetic wrong")
	}
	if !Date(0).IsZero() || a.IsZero() {
		t.Error("IsZero wrong")
	}
	if Date(0).String() != "" {
		t.Error("zero Date should print empty")
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		Due  Date `json:"due"`
		Done Date `json:"done"`
		Opt  Date `json:"opt,omitempty"`
	}
	in := doc{Due: MustParseDate("2025-10-08")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"due":"2025-10-08","done":null}` {
		t.Errorf("marshal = %s", b)
	}
	var out doc
	if err := json.Unmarshal([]byte(`{"due":"2025-10-08","done":"","opt":null}`), &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
	for _, s := range []string{`{"due":"2025-10-32"}`, `{"due":20251008}`, `{"due":"10/08/2025"}`} {
		if err := json.Unmarshal([]byte(s), &out); !errors.Is(err, ErrBadDate) {
			t.Errorf("unmarshal %s: error %v, want ErrBadDate", s, err)
		}
	}
	// As a map key, through TextMarshaler.
	m := map[Date]int{MustParseDate("2024-02-10"): 1}
	if b, _ := json.Marshal(m); string(b) != `{"2024-02-10":1}` {
		t.Errorf("map key = %s", b)
	}
}

func TestDateSQL(t *testing.T) {
	d := MustParseDate("2024-02-18")
	if v, err := d.Value(); err != nil || v != "2024-02-18" {
		t.Errorf("Value = %v, %v", v, err)
	}
	if v, err := Date(0).Value(); err != nil || v != nil {
		t.Errorf("zero Value = %v, %v", v, err)
	}
	for _, src := range []any{"2024-02-18", []byte("2024-02-18"), "2024-02-18 00:00:00", "2024-02-18T00:00:00Z",
		time.Date(2024, 2, 18, 0, 0, 0, 0, time.UTC)} {
		var got Date
		if err := got.Scan(src); err != nil || got != d {
			t.Errorf("Scan(%#v) = %s, %v", src, got, err)
		}
	}
	var got Date = 5
	if err := got.Scan(nil); err != nil || got != 0 {
		t.Errorf("Scan(nil) = %d, %v", got, err)
	}
	if err := got.Scan(42); err == nil {
		t.Error("Scan(int) should fail")
	}
	if err := got.Scan("18/02/2024"); !errors.Is(err, ErrBadDate) {
		t.Errorf("Scan(bad) = %v", err)
	}
}
