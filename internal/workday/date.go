package workday

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// Date is a civil date with no time of day and no time zone, stored as the
// number of days since 0000-12-31 in the proleptic Gregorian calendar, so
// 0001-01-01 is 1. An integer keeps comparison and day arithmetic free of
// allocations and time-zone surprises in the hot path; the zero Date means
// "no date" (IsZero), which lets optional dates (a milestone's done date) need
// no pointer.
type Date int32

// unixEpoch is the Date of 1970-01-01.
const unixEpoch = 719163

// ErrBadDate is wrapped by every date parsing error.
var ErrBadDate = errors.New("bad date")

// DateOf returns the date for year, month and day. Like time.Date it
// normalises values out of range, so DateOf(2024, 1, 32) is 2024-02-01.
func DateOf(year int, month time.Month, day int) Date {
	m := int(month) - 1
	year += floorDiv(m, 12)
	m = m - floorDiv(m, 12)*12 + 1
	return Date(daysFromCivil(year, m, 1) + day - 1 + unixEpoch)
}

// FromTime returns the civil date of t as seen in loc; a nil loc uses t's own
// location. The office works on Beijing time, so callers pass the configured
// zone rather than relying on the server's.
func FromTime(t time.Time, loc *time.Location) Date {
	if loc != nil {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	return DateOf(y, m, d)
}

// ParseDate parses an ISO 8601 calendar date, strictly YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("%w %q: want YYYY-MM-DD", ErrBadDate, s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("%w %q: want YYYY-MM-DD", ErrBadDate, s)
	}
	if y < 1 {
		return 0, fmt.Errorf("%w %q: year out of range", ErrBadDate, s)
	}
	if m < 1 || m > 12 {
		return 0, fmt.Errorf("%w %q: month out of range", ErrBadDate, s)
	}
	if d < 1 || d > daysIn(y, time.Month(m)) {
		return 0, fmt.Errorf("%w %q: day out of range", ErrBadDate, s)
	}
	return DateOf(y, time.Month(m), d), nil
}

// MustParseDate is ParseDate for constants in tests and demo data.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// Civil returns year, month and day.
func (d Date) Civil() (year int, month time.Month, day int) {
	y, m, dd := civilFromDays(int(d) - unixEpoch)
	return y, time.Month(m), dd
}

// Year returns the year of d.
func (d Date) Year() int { y, _, _ := d.Civil(); return y }

// Month returns the month of d.
func (d Date) Month() time.Month { _, m, _ := d.Civil(); return m }

// Day returns the day of the month of d.
func (d Date) Day() int { _, _, dd := d.Civil(); return dd }

// Weekday returns the day of the week; 0001-01-01 was a Monday.
func (d Date) Weekday() time.Weekday { return time.Weekday(floorMod(int(d), 7)) }

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == 0 }

// AddDays returns d plus n calendar days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// Sub returns the number of calendar days from o to d.
func (d Date) Sub(o Date) int { return int(d) - int(o) }

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d < o }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d > o }

// Compare returns -1, 0 or +1, for slices.SortFunc and friends.
func (d Date) Compare(o Date) int {
	switch {
	case d < o:
		return -1
	case d > o:
		return 1
	}
	return 0
}

// Time returns midnight at the start of d in loc (UTC if loc is nil).
func (d Date) Time(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, dd := d.Civil()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// String returns YYYY-MM-DD, or "" for the zero Date so that templates and
// exports show a missing date as empty.
func (d Date) String() string {
	if d == 0 {
		return ""
	}
	var b [10]byte
	return string(d.appendISO(b[:0]))
}

func (d Date) appendISO(b []byte) []byte {
	y, m, dd := d.Civil()
	if y >= 0 && y <= 9999 {
		b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		b = fmt.Appendf(b, "%04d", y)
	}
	return append(b, '-', byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}

// AppendText implements encoding.TextAppender.
func (d Date) AppendText(b []byte) ([]byte, error) {
	if d == 0 {
		return b, nil
	}
	return d.appendISO(b), nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return d.AppendText(nil) }

// UnmarshalText implements encoding.TextUnmarshaler; empty text is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d == 0 {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 12)
	b = append(b, '"')
	b = d.appendISO(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts "YYYY-MM-DD", "" or null (the latter two as the zero Date).
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*d = 0
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("%w %s: want a JSON string YYYY-MM-DD", ErrBadDate, s)
	}
	return d.UnmarshalText(b[1 : len(b)-1])
}

// Value implements driver.Valuer: the zero Date is NULL, others are
// "YYYY-MM-DD", which SQLite and PostgreSQL both compare correctly as text or
// accept as a date.
func (d Date) Value() (driver.Value, error) {
	if d == 0 {
		return nil, nil
	}
	return d.String(), nil
}

// Scan implements sql.Scanner for NULL, text dates (also with a time part,
// as SQLite may return) and time.Time (PostgreSQL date columns).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = 0
		return nil
	case time.Time:
		*d = FromTime(v, nil)
		return nil
	case []byte:
		return d.scanText(string(v))
	case string:
		return d.scanText(v)
	}
	return fmt.Errorf("workday: scan date from %T: unsupported type", src)
}

func (d *Date) scanText(s string) error {
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("workday: scan date: %w", err)
	}
	return nil
}

// daysFromCivil returns days since 1970-01-01 (H. Hinnant's algorithm, valid
// for any proleptic Gregorian date; month 1..12, any day offset).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }
