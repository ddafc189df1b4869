package workday

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

var d = MustParseDate

// Facts from the State Council notices (as in data/*.json), with the plain
// weekend and weekday around them.
func TestIsWorkdayNotices(t *testing.T) {
	cal := New()
	tests := []struct {
		date string
		want bool
		why  string
	}{
		// 2024 Spring Festival: 10–17 Feb off; Sun 4 Feb and Sun 18 Feb worked.
		{"2024-02-04", true, "2024 Spring Festival adjusted Sunday"},
		{"2024-02-09", true, "2024 New Year's Eve was a normal Friday"},
		{"2024-02-10", false, "2024 Spring Festival"},
		{"2024-02-12", false, "2024 Spring Festival Monday"},
		{"2024-02-16", false, "2024 Spring Festival Friday"},
		{"2024-02-17", false, "2024 Spring Festival last day"},
		{"2024-02-18", true, "2024 Spring Festival adjusted Sunday"},
		{"2024-02-19", true, "Monday after"},
		{"2024-02-24", false, "ordinary Saturday"},
		// 2025 National Day and Mid-Autumn: 1–8 Oct off; Sun 28 Sep and Sat 11 Oct worked.
		{"2025-09-27", false, "ordinary Saturday"},
		{"2025-09-28", true, "2025 National Day adjusted Sunday"},
		{"2025-09-30", true, "Tuesday before"},
		{"2025-10-01", false, "2025 National Day"},
		{"2025-10-08", false, "2025 National Day Wednesday"},
		{"2025-10-09", true, "Thursday after"},
		{"2025-10-11", true, "2025 National Day adjusted Saturday"},
		{"2025-10-12", false, "ordinary Sunday"},
		// 2026 New Year: 1–3 Jan off; Sun 4 Jan worked.
		{"2025-12-31", true, "Wednesday"},
		{"2026-01-01", false, "2026 New Year"},
		{"2026-01-02", false, "2026 New Year Friday"},
		{"2026-01-03", false, "Saturday"},
		{"2026-01-04", true, "2026 New Year adjusted Sunday"},
		// 2020 Spring Festival, extended for the epidemic to 2 Feb.
		{"2020-01-19", true, "2020 adjusted Sunday"},
		{"2020-01-24", false, "2020 Spring Festival"},
		{"2020-01-31", false, "2020 extension Friday"},
		{"2020-02-01", false, "2020 extension"},
		{"2020-02-02", false, "2020 extension"},
		{"2020-02-03", true, "2020 back to work"},
		// The 2019 notice starts New Year in December 2018.
		{"2018-12-29", true, "Saturday worked for 2019 New Year"},
		{"2018-12-31", false, "Monday off for 2019 New Year"},
		{"2019-01-01", false, "2019 New Year"},
		{"2019-01-02", true, "Wednesday"},
		// 2015, the first embedded year: Sat 3 Sep was a holiday (70th anniversary).
		{"2015-09-04", false, "2015 anniversary holiday"},
		{"2015-09-06", true, "2015 adjusted Sunday"},
		// No data: Monday–Friday.
		{"2030-10-01", true, "fallback Tuesday"},
		{"2030-10-05", false, "fallback Saturday"},
		{"2010-10-01", true, "fallback before data"},
	}
	for _, tt := range tests {
		if got := cal.IsWorkday(d(tt.date)); got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, want %v (%s)", tt.date, got, tt.want, tt.why)
		}
	}
}

func TestAddWorkdays(t *testing.T) {
	cal := New()
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2024-02-08", 0, "2024-02-08"},
		{"2024-02-10", 0, "2024-02-10"}, // n=0 returns d even on a holiday
		{"2024-02-08", 1, "2024-02-09"},
		{"2024-02-09", 1, "2024-02-18"}, // over the Spring Festival to the adjusted Sunday
		{"2024-02-09", 2, "2024-02-19"},
		{"2024-02-10", 1, "2024-02-18"}, // from inside the holiday
		{"2024-02-02", 1, "2024-02-04"}, // Friday → adjusted Sunday
		{"2024-02-05", 10, "2024-02-23"},
		{"2025-09-30", 1, "2025-10-09"},
		{"2025-09-30", 3, "2025-10-11"}, // adjusted Saturday
		{"2025-09-26", 1, "2025-09-28"},
		// Year boundaries.
		{"2025-12-31", 1, "2026-01-04"},
		{"2025-12-30", 2, "2026-01-04"},
		{"2025-12-31", 2, "2026-01-05"},
		{"2018-12-28", 1, "2018-12-29"},
		{"2018-12-29", 1, "2019-01-02"},
		{"2026-12-31", 1, "2027-01-01"}, // 2027 not loaded: plain Friday
		// Negative n.
		{"2024-02-18", -1, "2024-02-09"},
		{"2024-02-19", -2, "2024-02-09"},
		{"2024-02-19", -3, "2024-02-08"},
		{"2024-02-17", -1, "2024-02-09"}, // from a holiday
		{"2026-01-04", -1, "2025-12-31"},
		{"2026-01-05", -2, "2025-12-31"},
		{"2019-01-02", -1, "2018-12-29"},
		{"2025-10-11", -1, "2025-10-10"},
		{"2025-10-09", -1, "2025-09-30"},
		// Fallback years.
		{"2030-06-07", 1, "2030-06-10"}, // Friday → Monday
		{"2030-06-10", -1, "2030-06-07"},
		{"2030-06-08", 5, "2030-06-14"},
		{"2030-12-31", 3, "2031-01-03"},
		{"2010-01-01", 20, "2010-01-29"},
		// Across data into fallback and back.
		{"2026-12-25", 10, "2027-01-08"},
		{"2014-12-31", 1, "2015-01-04"}, // 2015 notice: 1–3 Jan off, Sun 4 Jan worked
		{"2015-01-04", -1, "2014-12-31"},
	}
	for _, tt := range tests {
		if got := cal.AddWorkdays(d(tt.from), tt.n); got.String() != tt.want {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestBetween(t *testing.T) {
	cal := New()
	tests := []struct {
		a, b string
		want int
	}{
		{"2024-02-08", "2024-02-08", 0},
		{"2024-02-08", "2024-02-09", 1},
		{"2024-02-09", "2024-02-17", 0}, // a whole holiday
		{"2024-02-09", "2024-02-18", 1},
		{"2024-02-08", "2024-02-19", 3},
		{"2024-02-19", "2024-02-08", -3},
		{"2024-02-01", "2024-02-29", 17}, // 20 weekdays, 5 off, 2 Sundays worked
		{"2025-09-30", "2025-10-11", 3},
		{"2025-12-31", "2026-01-04", 1},
		{"2026-01-04", "2025-12-31", -1},
		{"2023-12-31", "2024-12-31", 251},
		{"2024-12-31", "2025-12-31", 248},
		{"2025-12-31", "2026-12-31", 248},
		{"2019-12-31", "2020-12-31", 249},
		{"2029-12-31", "2030-12-31", 261}, // fallback year
		{"2030-06-08", "2030-06-09", 0},   // weekend
	}
	for _, tt := range tests {
		if got := cal.Between(d(tt.a), d(tt.b)); got != tt.want {
			t.Errorf("Between(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// naive is the obvious day-by-day definition the fast table must match.
type naive struct{ cal *Calendar }

func (n naive) add(from Date, k int) Date {
	step := 1
	if k < 0 {
		step, k = -1, -k
	}
	for d := from; ; {
		if k == 0 {
			return d
		}
		d = d.AddDays(step)
		if n.cal.IsWorkday(d) {
			k--
		}
	}
}

func (n naive) between(a, b Date) int {
	sign := 1
	if b < a {
		a, b, sign = b, a, -1
	}
	c := 0
	for x := a + 1; x <= b; x++ {
		if n.cal.IsWorkday(x) {
			c++
		}
	}
	return sign * c
}

func TestAgainstNaive(t *testing.T) {
	cal := New()
	// IsWorkday itself must match the data files and the weekday rule.
	flags := map[Date]bool{}
	for y := 2015; y <= 2026; y++ {
		data, _, ok := cal.YearData(y)
		if !ok {
			t.Fatalf("year %d missing", y)
		}
		for _, day := range data.Days {
			flags[day.Date] = !day.IsOffDay
		}
	}
	for x := d("2012-01-01"); x < d("2030-01-01"); x++ {
		want, ok := flags[x]
		if !ok {
			want = isWeekday(x)
		}
		if cal.IsWorkday(x) != want {
			t.Fatalf("IsWorkday(%s) = %v", x, !want)
		}
	}
	nv := naive{cal}
	rng := rand.New(rand.NewPCG(1, 2))
	lo, hi := int(d("2013-06-01")), int(d("2028-06-01"))
	for i := 0; i < 20000; i++ {
		a := Date(lo + rng.IntN(hi-lo))
		k := rng.IntN(121) - 60
		got, want := cal.AddWorkdays(a, k), nv.add(a, k)
		if got != want {
			t.Fatalf("AddWorkdays(%s, %d) = %s, naive %s", a, k, got, want)
		}
		if k > 0 && cal.Between(a, got) != k {
			t.Fatalf("Between(%s, AddWorkdays(%s, %d)) = %d", a, a, k, cal.Between(a, got))
		}
		if k != 0 && cal.IsWorkday(a) && cal.Between(a, got) != k {
			t.Fatalf("from workday %s: Between(a, AddWorkdays(a, %d)) = %d", a, k, cal.Between(a, got))
		}
		b := Date(int(a) + rng.IntN(200) - 100)
		if got, want := cal.Between(a, b), nv.between(a, b); got != want {
			t.Fatalf("Between(%s, %s) = %d, naive %d", a, b, got, want)
		}
		if cal.Between(a, b) != -cal.Between(b, a) {
			t.Fatalf("Between(%s, %s) not symmetric", a, b)
		}
	}
}

func TestFallbackAndEmpty(t *testing.T) {
	for name, cal := range map[string]*Calendar{"empty": NewEmpty(), "nil": nil, "zero": new(Calendar)} {
		if !cal.IsWorkday(d("2024-02-12")) {
			t.Errorf("%s: Monday in the Spring Festival should be a workday without data", name)
		}
		if got := cal.AddWorkdays(d("2024-02-09"), 1); got.String() != "2024-02-12" {
			t.Errorf("%s: AddWorkdays = %s", name, got)
		}
		if got := cal.Between(d("2024-02-09"), d("2024-02-19")); got != 6 {
			t.Errorf("%s: Between = %d", name, got)
		}
		if cal.HasYear(2024) {
			t.Errorf("%s: HasYear(2024)", name)
		}
	}
	var zero Calendar
	if err := zero.SetYear(2024, Year{Year: 2024, Papers: []string{}, Days: []Day{{Name: "春节", Date: d("2024-02-12"), IsOffDay: true}}}); err != nil {
		t.Fatal(err)
	}
	if zero.IsWorkday(d("2024-02-12")) || !zero.IsWorkday(d("2024-02-13")) {
		t.Error("SetYear on a zero Calendar")
	}
	cal := New()
	for y := 2015; y <= 2026; y++ {
		if !cal.HasYear(y) {
			t.Errorf("HasYear(%d) = false", y)
		}
	}
	if cal.HasYear(2014) || cal.HasYear(2030) {
		t.Error("HasYear true for a year without data")
	}
	ys := cal.Years()
	if len(ys) != 12 || ys[0] != (YearStatus{2015, SourceEmbedded}) || ys[11].Year != 2026 {
		t.Errorf("Years() = %v", ys)
	}
}

func TestMissingNextYear(t *testing.T) {
	cal := New()
	tests := []struct {
		today   string
		year    int
		missing bool
	}{
		{"2026-11-30", 2027, false},
		{"2026-12-01", 2027, true},
		{"2026-12-31", 2027, true},
		{"2025-12-01", 2026, false}, // 2026 is loaded
		{"2027-01-05", 2028, false}, // not December yet
	}
	for _, tt := range tests {
		y, m := cal.MissingNextYear(d(tt.today))
		if y != tt.year || m != tt.missing {
			t.Errorf("MissingNextYear(%s) = %d, %v; want %d, %v", tt.today, y, m, tt.year, tt.missing)
		}
	}
	if err := cal.SetYear(2027, Year{Year: 2027, Papers: []string{"x"}, Days: []Day{{Name: "元旦", Date: d("2027-01-01"), IsOffDay: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, m := cal.MissingNextYear(d("2026-12-15")); m {
		t.Error("still missing after SetYear")
	}
}

func TestSetYearOverrides(t *testing.T) {
	cal := New()
	// An admin corrects 2024: suppose 5 March were declared a holiday and
	// Sat 9 March worked.
	y2024, src, ok := cal.YearData(2024)
	if !ok || src != SourceEmbedded {
		t.Fatalf("YearData(2024) = %v, %v", src, ok)
	}
	y2024.Days = append(y2024.Days, Day{Name: "测试", Date: d("2024-03-05"), IsOffDay: true}, Day{Name: "测试", Date: d("2024-03-09"), IsOffDay: false})
	if err := cal.SetYear(2024, y2024); err != nil {
		t.Fatal(err)
	}
	y2024.Days[0].IsOffDay = false // the caller's copy must not leak in
	if cal.IsWorkday(d("2024-03-05")) || !cal.IsWorkday(d("2024-03-09")) || cal.IsWorkday(d("2024-01-01")) {
		t.Error("override not applied")
	}
	if got := cal.AddWorkdays(d("2024-03-04"), 1); got.String() != "2024-03-06" {
		t.Errorf("AddWorkdays over the new holiday = %s", got)
	}
	if _, src, _ := cal.YearData(2024); src != SourceStored {
		t.Errorf("source = %s", src)
	}
	cal.ResetYear(2024)
	if !cal.IsWorkday(d("2024-03-05")) || cal.IsWorkday(d("2024-03-09")) {
		t.Error("ResetYear did not restore the embedded data")
	}

	// A new year far beyond the embedded range widens the table.
	y2030 := Year{Year: 2030, Papers: []string{"https://www.gov.cn/example"}, Days: []Day{
		{Name: "元旦", Date: d("2029-12-31"), IsOffDay: true},
		{Name: "元旦", Date: d("2030-01-01"), IsOffDay: true},
		{Name: "国庆节", Date: d("2030-10-01"), IsOffDay: true},
		{Name: "国庆节", Date: d("2030-10-12"), IsOffDay: false},
	}}
	if err := cal.SetYear(2030, y2030); err != nil {
		t.Fatal(err)
	}
	if !cal.HasYear(2030) || cal.IsWorkday(d("2029-12-31")) || cal.IsWorkday(d("2030-10-01")) || !cal.IsWorkday(d("2030-10-12")) {
		t.Error("2030 data not applied")
	}
	if got := cal.AddWorkdays(d("2029-12-28"), 1); got.String() != "2030-01-02" {
		t.Errorf("AddWorkdays into 2030 = %s", got)
	}
	if got := cal.Between(d("2026-12-31"), d("2027-12-31")); got != 261 {
		t.Errorf("2027 (fallback, inside the table) = %d workdays", got)
	}
	cal.ResetYear(2030)
	if !cal.IsWorkday(d("2030-10-01")) {
		t.Error("2030 reset failed")
	}

	// Refusals.
	if err := cal.SetYear(2031, y2030); err == nil || !strings.Contains(err.Error(), "file is for 2030") {
		t.Errorf("mismatched year: %v", err)
	}
	if err := cal.SetYear(2030, Year{Year: 2030, Days: []Day{{Name: "x", Date: d("2031-01-01"), IsOffDay: true}}}); err == nil {
		t.Error("date outside the year accepted")
	}
	if err := cal.SetYear(12024, Year{Year: 12024}); err == nil {
		t.Error("absurd year accepted")
	}
}

func TestConcurrentSetYear(t *testing.T) {
	cal := New()
	y, _, _ := cal.YearData(2024)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			if err := cal.SetYear(2024, y); err != nil {
				t.Error(err)
				return
			}
			cal.ResetYear(2024)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 20000; i++ {
			if got := cal.Between(d("2024-02-08"), d("2024-02-19")); got != 3 {
				t.Errorf("Between during SetYear = %d", got)
				return
			}
		}
	}()
	wg.Wait()
}

func TestDataLicense(t *testing.T) {
	if !strings.Contains(DataLicense(), "MIT License") || !strings.Contains(DataLicense(), "NateScarlet") {
		t.Error("data licence missing")
	}
}

var sink Date
var sinkN int

// BenchmarkAddWorkdays runs the 20,000 additions of one reminder pass per op.
func BenchmarkAddWorkdays(b *testing.B) {
	cal := New()
	dates, ns := benchInputs()
	b.ReportAllocs()
	for b.Loop() {
		for i := range dates {
			sink = cal.AddWorkdays(dates[i], ns[i])
		}
	}
}

// BenchmarkBetween runs the 20,000 counts of one reminder pass per op.
func BenchmarkBetween(b *testing.B) {
	cal := New()
	dates, ns := benchInputs()
	today := d("2025-10-09")
	b.ReportAllocs()
	for b.Loop() {
		for i := range dates {
			sinkN = cal.Between(dates[i], today) + ns[i]
		}
	}
}

func BenchmarkIsWorkday(b *testing.B) {
	cal := New()
	dates, _ := benchInputs()
	b.ReportAllocs()
	for b.Loop() {
		for i := range dates {
			if cal.IsWorkday(dates[i]) {
				sinkN++
			}
		}
	}
}

func benchInputs() ([]Date, []int) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := DateOf(2024, time.January, 1)
	dates := make([]Date, 20000)
	ns := make([]int, 20000)
	for i := range dates {
		dates[i] = base.AddDays(rng.IntN(3 * 365))
		ns[i] = rng.IntN(60) - 10
	}
	return dates, ns
}
