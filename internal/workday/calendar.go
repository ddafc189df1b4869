package workday

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Source tells where a year's facts come from.
type Source string

const (
	SourceEmbedded Source = "embedded" // shipped in the binary
	SourceStored   Source = "stored"   // set at run time (admin upload kept in the database)
	SourceFallback Source = "fallback" // no data: Monday to Friday
)

// Calendar answers working-day questions. It is safe for concurrent use:
// readers load an immutable lookup table through an atomic pointer, so the
// hot path takes no lock and allocates nothing, while SetYear builds a new
// table and swaps it in. A nil *Calendar behaves as Monday–Friday.
type Calendar struct {
	mu       sync.Mutex // serialises writers
	embedded map[int]Year
	stored   map[int]Year
	tab      atomic.Pointer[table]
}

// table is an immutable snapshot. Working days are kept as a running count
// over [start, end), so counting the working days between two dates is two
// array reads, and finding the n-th working day is a binary search; outside
// the range the Monday–Friday rule is computed in closed form.
type table struct {
	start, end Date
	cum        []int32 // cum[i]: working days in [start, start+i); len = end-start+1
	fStart     int     // f(start)
	fEnd       int     // f(end)
	wEnd       int     // weekdaysBefore(end)
	years      map[int]Year
	sources    map[int]Source
}

// New returns a calendar loaded with the embedded State Council data.
func New() *Calendar {
	c := &Calendar{embedded: embeddedYears(), stored: map[int]Year{}}
	c.rebuild()
	return c
}

// NewEmpty returns a calendar with no holiday data at all (Monday–Friday
// everywhere until SetYear), for tests and for checking uploaded files alone.
func NewEmpty() *Calendar {
	c := &Calendar{embedded: map[int]Year{}, stored: map[int]Year{}}
	c.rebuild()
	return c
}

// SetYear installs data for one year, overriding the embedded data if any.
// It is how stored (admin-uploaded) years are loaded at start and applied on
// upload. y is validated and copied.
func (c *Calendar) SetYear(year int, y Year) error {
	if y.Year != year {
		return fmt.Errorf("workday: set year %d: %w", year, &YearError{Field: "year", Msg: fmt.Sprintf("file is for %d", y.Year)})
	}
	if err := y.Validate(); err != nil {
		return fmt.Errorf("workday: set year %d: %w", year, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stored == nil {
		c.stored = map[int]Year{}
	}
	c.stored[year] = y.clone()
	c.rebuild()
	return nil
}

// ResetYear removes stored data for year, going back to the embedded data or
// to the Monday–Friday fallback.
func (c *Calendar) ResetYear(year int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.stored[year]; !ok {
		return
	}
	delete(c.stored, year)
	c.rebuild()
}

// HasYear reports whether holiday data exists for year.
func (c *Calendar) HasYear(year int) bool {
	_, ok := c.load().years[year]
	return ok
}

// YearData returns the data used for year and where it comes from; ok is
// false (and the source SourceFallback) when there is none.
func (c *Calendar) YearData(year int) (y Year, src Source, ok bool) {
	t := c.load()
	y, ok = t.years[year]
	if !ok {
		return Year{}, SourceFallback, false
	}
	return y.clone(), t.sources[year], true
}

// YearStatus is one known year and where its data comes from.
type YearStatus struct {
	Year   int    `json:"year"`
	Source Source `json:"source"`
}

// Years lists the years with data, in order.
func (c *Calendar) Years() []YearStatus {
	t := c.load()
	out := make([]YearStatus, 0, len(t.years))
	for y := range t.years {
		out = append(out, YearStatus{Year: y, Source: t.sources[y]})
	}
	slices.SortFunc(out, func(a, b YearStatus) int { return a.Year - b.Year })
	return out
}

// MissingNextYear reports whether the UI should warn that next year's
// notice is not loaded: true only from 1 December on, when year today+1 has
// no data. The State Council usually publishes in late October to November.
func (c *Calendar) MissingNextYear(today Date) (year int, missing bool) {
	y, m, _ := today.Civil()
	return y + 1, m == time.December && !c.HasYear(y+1)
}

// IsWorkday reports whether d is a working day: a day the notice marks off
// is not, an adjusted workday is (even on a weekend), otherwise Monday to
// Friday are.
func (c *Calendar) IsWorkday(d Date) bool { return c.load().isWorkday(d) }

func (t *table) isWorkday(d Date) bool {
	if d >= t.start && d < t.end {
		i := int(d - t.start)
		return t.cum[i+1] != t.cum[i]
	}
	return isWeekday(d)
}

// AddWorkdays returns the date n working days after d, d itself not counted:
// stepping day by day from d, it is the day on which the n-th working day is
// reached. Negative n steps back the same way (AddWorkdays(Monday, -1) is the
// Friday before, holidays permitting); n = 0 returns d. The result is always a
// working day unless n is 0.
func (c *Calendar) AddWorkdays(d Date, n int) Date {
	if n == 0 {
		return d
	}
	t := c.load()
	var target int
	if n > 0 {
		target = t.f(d+1) + n
	} else {
		target = t.f(d) + n + 1
	}
	// The answer is near n*7/5 calendar days away; searching a window
	// around that guess keeps the binary search short and cache-local.
	return t.inverse(target, d+Date(n*7/5)) - 1
}

// Between returns the number of working days after a up to and including b;
// it is negative, with the same magnitude as Between(b, a), when b is before
// a. So Between(due, today) is the working days overdue and Between(today,
// due) the working days left.
func (c *Calendar) Between(a, b Date) int {
	t := c.load()
	return t.f(b+1) - t.f(a+1)
}

// load returns the current table; a nil or zero Calendar has none yet and
// behaves as Monday–Friday.
func (c *Calendar) load() *table {
	if c == nil {
		return &emptyTable
	}
	if t := c.tab.Load(); t != nil {
		return t
	}
	return &emptyTable
}

var emptyTable = table{start: 1, end: 1, cum: []int32{0}, fStart: 0, fEnd: 0, wEnd: 0}

// rebuild compiles embedded and stored years into a new table; c.mu held.
func (c *Calendar) rebuild() {
	years := make(map[int]Year, len(c.embedded)+len(c.stored))
	sources := make(map[int]Source, len(years))
	for y, d := range c.embedded {
		years[y], sources[y] = d, SourceEmbedded
	}
	for y, d := range c.stored {
		years[y], sources[y] = d, SourceStored
	}
	c.tab.Store(buildTable(years, sources))
}

func buildTable(years map[int]Year, sources map[int]Source) *table {
	t := &table{years: years, sources: sources}
	if len(years) == 0 {
		t.start, t.end, t.cum = 1, 1, []int32{0}
	} else {
		order := make([]int, 0, len(years))
		for y := range years {
			order = append(order, y)
		}
		slices.Sort(order)
		// The first year may reach back into December of the year before.
		t.start = DateOf(order[0]-1, time.January, 1)
		t.end = DateOf(order[len(order)-1]+1, time.January, 1)
		const (
			rule int8 = iota // Monday–Friday
			off
			work
		)
		flags := make([]int8, t.end-t.start)
		// Later notices win: the 2019 notice, published in December 2018,
		// is the authority on 2018-12-29..31.
		for _, y := range order {
			for _, d := range years[y].Days {
				f := work
				if d.IsOffDay {
					f = off
				}
				flags[d.Date-t.start] = f
			}
		}
		t.cum = make([]int32, len(flags)+1)
		for i, f := range flags {
			w := f == work || (f == rule && isWeekday(t.start+Date(i)))
			t.cum[i+1] = t.cum[i]
			if w {
				t.cum[i+1]++
			}
		}
	}
	t.fStart = weekdaysBefore(t.start)
	t.fEnd = t.fStart + int(t.cum[len(t.cum)-1])
	t.wEnd = weekdaysBefore(t.end)
	return t
}

// f returns the number of working days in [1, x) — a monotone count whose
// differences are what Between and AddWorkdays need.
func (t *table) f(x Date) int {
	switch {
	case x <= t.start:
		return weekdaysBefore(x)
	case x >= t.end:
		return t.fEnd + weekdaysBefore(x) - t.wEnd
	}
	return t.fStart + int(t.cum[x-t.start])
}

// inverse returns the smallest x with f(x) >= target; x-1 is then the
// working day at which the count reaches target. guess narrows the search
// when it is close; a wrong guess only costs the full search.
func (t *table) inverse(target int, guess Date) Date {
	switch {
	case target <= t.fStart:
		return weekdayInverse(target)
	case target > t.fEnd:
		return weekdayInverse(target - t.fEnd + t.wEnd)
	}
	want := int32(target - t.fStart)
	lo, hi := 1, len(t.cum)-1 // cum[hi] >= want holds
	if g := int(guess - t.start); g > lo+window && g < hi-window && t.cum[g-window] < want && t.cum[g+window] >= want {
		lo, hi = g-window+1, g+window
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if t.cum[mid] >= want {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return t.start + Date(lo)
}

// window is half the width of the guessed search range, wide enough for the
// longest holiday plus its weekends.
const window = 32

func isWeekday(d Date) bool {
	w := d.Weekday()
	return w != time.Saturday && w != time.Sunday
}

// weekdaysBefore counts Monday–Friday days in [1, x); day 1 is a Monday.
func weekdaysBefore(x Date) int {
	o := int(x) - 1
	w := floorDiv(o, 7)
	return 5*w + min(o-7*w, 5)
}

// weekdayInverse returns the smallest x with weekdaysBefore(x) >= target.
func weekdayInverse(target int) Date {
	w := floorDiv(target-1, 5)
	k := target - 5*w // 1..5
	return Date(1 + 7*w + k)
}
