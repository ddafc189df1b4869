package workday

import (
	"slices"
	"strings"
	"testing"
)

func dates(ss ...string) []Date {
	out := make([]Date, len(ss))
	for i, s := range ss {
		out[i] = d(s)
	}
	return out
}

func TestCheck2024(t *testing.T) {
	r, err := New().Check(2024)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != SourceEmbedded || r.Days != 366 || r.Workdays != 251 || r.RestDays != 115 {
		t.Errorf("summary = %s, %d days, %d workdays, %d rest", r.Source, r.Days, r.Workdays, r.RestDays)
	}
	wantAdj := dates("2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14", "2024-09-29", "2024-10-12")
	if !slices.Equal(r.AdjustedWorkdays, wantAdj) {
		t.Errorf("adjusted workdays = %v", r.AdjustedWorkdays)
	}
	var names []string
	for _, h := range r.Holidays {
		names = append(names, h.Name)
	}
	if want := []string{"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}; !slices.Equal(names, want) {
		t.Errorf("holidays = %v", names)
	}
	sf := r.Holidays[1]
	if len(sf.OffDays) != 8 || sf.OffDays[0] != d("2024-02-10") || !slices.Equal(sf.AdjustedWorkdays, dates("2024-02-04", "2024-02-18")) {
		t.Errorf("春节 = %+v", sf)
	}
	// 8 days off, of which 3 were weekend days anyway: 5; plus 1 Jan, 4–5 Apr,
	// 1–3 May, 10 Jun, 16–17 Sep, 1–4 and 7 Oct.
	if r.HolidayWeekdays != 5+1+2+3+1+2+5 {
		t.Errorf("holiday weekdays = %d", r.HolidayWeekdays)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings = %v", r.Warnings)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"year 2024 (embedded)", "workdays: 251", "春节: off 2024-02-10..2024-02-17; worked 2024-02-04, 2024-02-18", "content_6911528"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCheckDecemberStartAndWarnings(t *testing.T) {
	cal := New()
	r, err := cal.Check(2018)
	if err != nil {
		t.Fatal(err)
	}
	last := r.Holidays[len(r.Holidays)-1]
	if last.Name != "元旦" || last.Notice != 2019 || !slices.Equal(last.OffDays, dates("2018-12-30", "2018-12-31")) ||
		!slices.Equal(last.AdjustedWorkdays, dates("2018-12-29")) {
		t.Errorf("December New Year = %+v", last)
	}
	if r.Workdays != 250 {
		t.Errorf("2018 workdays = %d", r.Workdays)
	}

	r, _ = cal.Check(2020)
	if r.Workdays != 249 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "2020-02-03") {
		t.Errorf("2020: %d workdays, warnings %v", r.Workdays, r.Warnings)
	}

	r, _ = cal.Check(2030)
	if r.Source != SourceFallback || r.Workdays != 261 || len(r.Holidays) != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "Monday to Friday") {
		t.Errorf("2030 = %+v", r)
	}

	y, _, _ := cal.YearData(2025)
	if err := cal.SetYear(2025, y); err != nil {
		t.Fatal(err)
	}
	r, _ = cal.Check(2025)
	if r.Source != SourceStored || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "overrides") {
		t.Errorf("stored 2025 = %s, %v", r.Source, r.Warnings)
	}

	if _, err := cal.Check(0); err == nil {
		t.Error("Check(0) should fail")
	}
}
