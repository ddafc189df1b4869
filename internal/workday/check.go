package workday

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report summarises one calendar year, for `biaogan workday check YEAR` and
// the admin page, so a person can compare it with the notice before relying
// on it.
type Report struct {
	Year   int      `json:"year"`
	Source Source   `json:"source"`
	Papers []string `json:"papers"`
	// Days in the year, split into working and rest days.
	Days     int `json:"days"`
	Workdays int `json:"workdays"`
	RestDays int `json:"rest_days"`
	// HolidayWeekdays counts Monday–Friday days taken off by the notice.
	HolidayWeekdays int `json:"holiday_weekdays"`
	// AdjustedWorkdays are the Saturdays and Sundays worked (调休).
	AdjustedWorkdays []Date    `json:"adjusted_workdays"`
	Holidays         []Holiday `json:"holidays"`
	Warnings         []string  `json:"warnings"`
}

// Holiday is one named holiday of the year as the notice lists it.
type Holiday struct {
	Name string `json:"name"`
	// Notice is the year of the notice naming it; it differs from the
	// report's year for a New Year holiday that starts in December.
	Notice           int    `json:"notice"`
	OffDays          []Date `json:"off_days"`
	AdjustedWorkdays []Date `json:"adjusted_workdays"`
}

// Check summarises year using the data in effect (stored, embedded or the
// Monday–Friday fallback). It fails only for a year outside 1–9999.
func (c *Calendar) Check(year int) (Report, error) {
	if year < 1 || year > 9999 {
		return Report{}, fmt.Errorf("workday: check year %d: year out of range 1–9999", year)
	}
	t := c.load()
	r := Report{Year: year, Source: SourceFallback, Papers: []string{}, AdjustedWorkdays: []Date{}, Holidays: []Holiday{}, Warnings: []string{}}
	if y, ok := t.years[year]; ok {
		r.Source = t.sources[year]
		r.Papers = append(r.Papers, y.Papers...)
	}

	first, next := DateOf(year, time.January, 1), DateOf(year+1, time.January, 1)
	r.Days = int(next - first)
	r.Workdays = t.f(next) - t.f(first)
	r.RestDays = r.Days - r.Workdays
	for d := first; d < next; d++ {
		w := isWeekday(d)
		switch work := t.isWorkday(d); {
		case work && !w:
			r.AdjustedWorkdays = append(r.AdjustedWorkdays, d)
		case !work && w:
			r.HolidayWeekdays++
		}
	}

	// Holidays from this year's notice and, for a December start, next year's.
	for _, ny := range []int{year, year + 1} {
		y, ok := t.years[ny]
		if !ok {
			continue
		}
		index := map[string]int{}
		for _, d := range y.Days {
			if d.Date < first || d.Date >= next {
				continue
			}
			if t.effective(d.Date) != ny {
				continue // overridden by a later notice
			}
			i, ok := index[d.Name]
			if !ok {
				i = len(r.Holidays)
				index[d.Name] = i
				r.Holidays = append(r.Holidays, Holiday{Name: d.Name, Notice: ny, OffDays: []Date{}, AdjustedWorkdays: []Date{}})
			}
			h := &r.Holidays[i]
			if d.IsOffDay {
				h.OffDays = append(h.OffDays, d.Date)
			} else {
				h.AdjustedWorkdays = append(h.AdjustedWorkdays, d.Date)
			}
			if !d.IsOffDay && isWeekday(d.Date) {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s (%s) is marked as an adjusted workday but is a weekday anyway", d.Date, d.Name))
			}
		}
	}

	switch r.Source {
	case SourceFallback:
		r.Warnings = append(r.Warnings, fmt.Sprintf("no State Council notice loaded for %d: Monday to Friday are counted as working days", year))
	case SourceStored:
		if _, ok := c.embeddedYear(year); ok {
			r.Warnings = append(r.Warnings, fmt.Sprintf("stored data overrides the embedded notice for %d", year))
		}
	}
	return r, nil
}

// effective returns the year of the notice that decides d (the latest one
// listing it), or 0.
func (t *table) effective(d Date) int {
	y := d.Year()
	for _, ny := range []int{y + 1, y} {
		if data, ok := t.years[ny]; ok {
			for _, day := range data.Days {
				if day.Date == d {
					return ny
				}
			}
		}
	}
	return 0
}

func (c *Calendar) embeddedYear(year int) (Year, bool) {
	if c == nil {
		return Year{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	y, ok := c.embedded[year]
	return y, ok
}

// WriteText prints the report for the command line.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "year %d (%s)\n", r.Year, r.Source)
	for _, p := range r.Papers {
		fmt.Fprintf(&b, "  notice: %s\n", p)
	}
	fmt.Fprintf(&b, "days: %d  workdays: %d  rest days: %d  holiday weekdays: %d  adjusted workdays: %d\n",
		r.Days, r.Workdays, r.RestDays, r.HolidayWeekdays, len(r.AdjustedWorkdays))
	for _, h := range r.Holidays {
		fmt.Fprintf(&b, "  %s: off %s", h.Name, dateRanges(h.OffDays))
		if len(h.AdjustedWorkdays) > 0 {
			fmt.Fprintf(&b, "; worked %s", dateRanges(h.AdjustedWorkdays))
		}
		if h.Notice != r.Year {
			fmt.Fprintf(&b, " (notice of %d)", h.Notice)
		}
		b.WriteByte('\n')
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("workday: write report: %w", err)
	}
	return nil
}

// dateRanges prints sorted dates compactly: "2024-02-10..2024-02-17, 2024-02-20".
func dateRanges(ds []Date) string {
	if len(ds) == 0 {
		return "-"
	}
	var parts []string
	for i := 0; i < len(ds); {
		j := i
		for j+1 < len(ds) && ds[j+1] == ds[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, ds[i].String())
		} else {
			parts = append(parts, ds[i].String()+".."+ds[j].String())
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
