package metric

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/workday"
)

// Kind is the length of a period: the cadence the office scores on
// (每日报、每月晒、半年展、年终评).
type Kind string

const (
	Day      Kind = "day"
	Month    Kind = "month"
	HalfYear Kind = "half_year"
	Year     Kind = "year"
)

// Kinds lists every period kind, shortest first.
var Kinds = []Kind{Day, Month, HalfYear, Year}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case Day, Month, HalfYear, Year:
		return true
	}
	return false
}

// Period is a span of civil days, both ends included, and the day the
// figures are taken on.
type Period struct {
	Kind  Kind         `json:"kind"`
	Start workday.Date `json:"start"`
	End   workday.Date `json:"end"`
	// Today is the civil day the figures are computed on. Computations use
	// it for "past due" and "so far"; a period not over yet is measured up
	// to Today (see Until). The registry sets it from its clock.
	Today workday.Date `json:"today"`
}

// DayOf is the one-day period of d.
func DayOf(d workday.Date) Period { return Period{Kind: Day, Start: d, End: d} }

// MonthOf is the calendar month holding d.
func MonthOf(d workday.Date) Period {
	y, m, _ := d.Civil()
	start := workday.DateOf(y, m, 1)
	return Period{Kind: Month, Start: start, End: workday.DateOf(y, m+1, 1).AddDays(-1)}
}

// HalfYearOf is the half year (1 January–30 June or 1 July–31 December)
// holding d.
func HalfYearOf(d workday.Date) Period {
	y, m, _ := d.Civil()
	if m <= time.June {
		return Period{Kind: HalfYear, Start: workday.DateOf(y, time.January, 1), End: workday.DateOf(y, time.June, 30)}
	}
	return Period{Kind: HalfYear, Start: workday.DateOf(y, time.July, 1), End: workday.DateOf(y, time.December, 31)}
}

// YearOf is the calendar year holding d.
func YearOf(d workday.Date) Period {
	y := d.Year()
	return Period{Kind: Year, Start: workday.DateOf(y, time.January, 1), End: workday.DateOf(y, time.December, 31)}
}

// PeriodOf is the period of kind k holding d.
func PeriodOf(k Kind, d workday.Date) (Period, error) {
	switch k {
	case Day:
		return DayOf(d), nil
	case Month:
		return MonthOf(d), nil
	case HalfYear:
		return HalfYearOf(d), nil
	case Year:
		return YearOf(d), nil
	}
	return Period{}, fmt.Errorf("metric: unknown period kind %q", k)
}

// ParsePeriod reads a period as the API writes it: "2026-11-05" (a day),
// "2026-11" (a month), "2026-H1" or "2026-H2" (a half year), "2026" (a year).
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("metric: period %q: want YYYY-MM-DD, YYYY-MM, YYYY-H1, YYYY-H2 or YYYY", s)
	year := func(v string) (int, bool) {
		if len(v) != 4 {
			return 0, false
		}
		y, err := strconv.Atoi(v)
		return y, err == nil && y >= 1900 && y <= 9999
	}
	switch {
	case len(s) == 4:
		y, ok := year(s)
		if !ok {
			return Period{}, bad
		}
		return YearOf(workday.DateOf(y, time.January, 1)), nil
	case len(s) == 7 && s[4] == '-' && (s[5] == 'H' || s[5] == 'h'):
		y, ok := year(s[:4])
		if !ok || (s[6] != '1' && s[6] != '2') {
			return Period{}, bad
		}
		m := time.January
		if s[6] == '2' {
			m = time.July
		}
		return HalfYearOf(workday.DateOf(y, m, 1)), nil
	case len(s) == 7 && s[4] == '-':
		y, ok := year(s[:4])
		m, err := strconv.Atoi(s[5:])
		if !ok || err != nil || m < 1 || m > 12 || s[5] == '+' || s[5] == '-' {
			return Period{}, bad
		}
		return MonthOf(workday.DateOf(y, time.Month(m), 1)), nil
	case len(s) == 10:
		d, err := workday.ParseDate(s)
		if err != nil || d.Year() < 1900 {
			return Period{}, bad
		}
		return DayOf(d), nil
	}
	return Period{}, bad
}

// String writes the period the way ParsePeriod reads it.
func (p Period) String() string {
	switch p.Kind {
	case Day:
		return p.Start.String()
	case Month:
		return p.Start.String()[:7]
	case HalfYear:
		if p.Start.Month() == time.January {
			return strconv.Itoa(p.Start.Year()) + "-H1"
		}
		return strconv.Itoa(p.Start.Year()) + "-H2"
	case Year:
		return strconv.Itoa(p.Start.Year())
	}
	return p.Start.String() + ".." + p.End.String()
}

// Label names the period in Chinese ("2026年11月", "2026年上半年").
func (p Period) Label() string {
	y := p.Start.Year()
	switch p.Kind {
	case Day:
		return fmt.Sprintf("%d年%d月%d日", y, p.Start.Month(), p.Start.Day())
	case Month:
		return fmt.Sprintf("%d年%d月", y, p.Start.Month())
	case HalfYear:
		if p.Start.Month() == time.January {
			return fmt.Sprintf("%d年上半年", y)
		}
		return fmt.Sprintf("%d年下半年", y)
	case Year:
		return fmt.Sprintf("%d年", y)
	}
	return p.String()
}

// Contains reports whether d lies in the period.
func (p Period) Contains(d workday.Date) bool { return !d.Before(p.Start) && !d.After(p.End) }

// Until is the last day measured so far: the end of the period, or Today
// when the period is not over yet (and Today is set). Before the period
// starts it is the day before Start, so nothing is counted.
func (p Period) Until() workday.Date {
	if p.Today.IsZero() || !p.Today.Before(p.End) {
		return p.End
	}
	if p.Today.Before(p.Start) {
		return p.Start.AddDays(-1)
	}
	return p.Today
}

// Over reports whether the period has ended by Today.
func (p Period) Over() bool { return p.Today.IsZero() || p.Today.After(p.End) }

// Prev is the period of the same kind just before p.
func (p Period) Prev() Period {
	q, _ := PeriodOf(p.Kind, p.Start.AddDays(-1))
	q.Today = p.Today
	return q
}
