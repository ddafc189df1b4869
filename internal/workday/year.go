package workday

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Years outside this range are refused: the State Council notices start in
// 1999 (the "golden week" system), and a typo such as 20255 must not make the
// calendar allocate a lookup table for eighteen thousand years.
const (
	MinYear = 1999
	MaxYear = 2100
)

// MaxYearFileSize bounds ParseYear's input; real files are about 5 KiB.
const MaxYearFileSize = 1 << 20

// Year is one year's State Council holiday notice, in the holiday-cn JSON
// format ({"year", "papers", "days": [{"name", "date", "isOffDay"}]}), so
// that a stored or uploaded year can be written back in the same format.
type Year struct {
	Year   int      `json:"year"`
	Papers []string `json:"papers"`
	Days   []Day    `json:"days"`
}

// Day is one date named by a notice: a holiday (IsOffDay) or an adjusted
// workday (调休, !IsOffDay), usually a weekend day worked to make a holiday
// longer.
type Day struct {
	Name     string `json:"name"`
	Date     Date   `json:"date"`
	IsOffDay bool   `json:"isOffDay"`
}

// YearError explains why year data was refused. Field names the offending
// JSON field the way the admin sees it in the file, e.g. "days[3].date".
type YearError struct {
	Field string
	Msg   string
	Err   error
}

func (e *YearError) Error() string {
	if e.Field == "" {
		return "workday: invalid year data: " + e.Msg
	}
	return "workday: invalid year data: " + e.Field + ": " + e.Msg
}

func (e *YearError) Unwrap() error { return e.Err }

// raw mirrors the file with pointers so a missing field can be told apart
// from a zero value.
type rawYear struct {
	Year   *json.Number       `json:"year"`
	Papers *[]string          `json:"papers"`
	Days   *[]json.RawMessage `json:"days"`
}

type rawDay struct {
	Name     *string `json:"name"`
	Date     *string `json:"date"`
	IsOffDay *bool   `json:"isOffDay"`
}

// ParseYear reads and validates one year file. Unknown fields (the files
// carry "$schema" and "$id") are ignored; anything wrong is reported as a
// *YearError naming the field and, for a day, its index and date.
func ParseYear(r io.Reader) (Year, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxYearFileSize+1))
	if err != nil {
		return Year{}, fmt.Errorf("workday: read year file: %w", err)
	}
	if len(data) > MaxYearFileSize {
		return Year{}, &YearError{Msg: fmt.Sprintf("file larger than %d bytes", MaxYearFileSize)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw rawYear
	if err := dec.Decode(&raw); err != nil {
		return Year{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Year{}, &YearError{Msg: "unexpected data after the JSON object"}
	}

	if raw.Year == nil {
		return Year{}, &YearError{Field: "year", Msg: "missing"}
	}
	yn, err := strconv.Atoi(raw.Year.String())
	if err != nil {
		return Year{}, &YearError{Field: "year", Msg: fmt.Sprintf("%s is not a whole number", raw.Year.String()), Err: err}
	}
	if raw.Papers == nil {
		return Year{}, &YearError{Field: "papers", Msg: "missing (list the State Council notice URLs)"}
	}
	if raw.Days == nil {
		return Year{}, &YearError{Field: "days", Msg: "missing"}
	}
	y := Year{Year: yn, Papers: *raw.Papers, Days: make([]Day, 0, len(*raw.Days))}
	for i, msg := range *raw.Days {
		field := fmt.Sprintf("days[%d]", i)
		// Decoded one by one so an error can name the day's index, which
		// encoding/json leaves out of its field paths.
		var rd rawDay
		if err := json.Unmarshal(msg, &rd); err != nil {
			ye := jsonError(err)
			ye.Field = strings.TrimSuffix(field+"."+ye.Field, ".")
			return Year{}, ye
		}
		switch {
		case rd.Date == nil:
			return Year{}, &YearError{Field: field + ".date", Msg: "missing"}
		case rd.Name == nil:
			return Year{}, &YearError{Field: field + ".name", Msg: fmt.Sprintf("missing (date %s)", *rd.Date)}
		case rd.IsOffDay == nil:
			return Year{}, &YearError{Field: field + ".isOffDay", Msg: fmt.Sprintf("missing (date %s)", *rd.Date)}
		}
		d, err := ParseDate(*rd.Date)
		if err != nil {
			return Year{}, &YearError{Field: field + ".date", Msg: err.Error(), Err: err}
		}
		y.Days = append(y.Days, Day{Name: *rd.Name, Date: d, IsOffDay: *rd.IsOffDay})
	}
	if err := y.Validate(); err != nil {
		return Year{}, err
	}
	return y, nil
}

func jsonError(err error) *YearError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &YearError{Msg: fmt.Sprintf("invalid JSON at byte %d: %v", syn.Offset, syn), Err: err}
	case errors.As(err, &typ):
		if typ.Field == "" {
			return &YearError{Msg: "want a JSON object, got JSON " + typ.Value, Err: err}
		}
		return &YearError{Field: jsonPath(typ.Field), Msg: fmt.Sprintf("want %s, got JSON %s", typ.Type, typ.Value), Err: err}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &YearError{Msg: "empty or truncated JSON", Err: err}
	}
	return &YearError{Msg: "invalid JSON: " + err.Error(), Err: err}
}

// Validate checks a year's facts: the year is supported, every day is named,
// dated inside the year and listed once. December of the previous year is
// allowed because a notice may start the New Year holiday early (the 2019
// notice made 2018-12-29 a workday and 2018-12-30/31 holidays).
func (y Year) Validate() error {
	if y.Year < MinYear || y.Year > MaxYear {
		return &YearError{Field: "year", Msg: fmt.Sprintf("%d is outside %d–%d", y.Year, MinYear, MaxYear)}
	}
	for i, p := range y.Papers {
		if strings.TrimSpace(p) == "" {
			return &YearError{Field: fmt.Sprintf("papers[%d]", i), Msg: "empty"}
		}
	}
	if len(y.Days) == 0 {
		// An empty list would mark the year as known while it is really the
		// Monday–Friday fallback, silencing the missing-data warning.
		return &YearError{Field: "days", Msg: "empty; a notice always names its holidays"}
	}
	first := DateOf(y.Year-1, time.December, 1)
	last := DateOf(y.Year, time.December, 31)
	seen := make(map[Date]int, len(y.Days))
	for i, d := range y.Days {
		field := fmt.Sprintf("days[%d]", i)
		if d.Date.IsZero() {
			return &YearError{Field: field + ".date", Msg: "missing"}
		}
		if strings.TrimSpace(d.Name) == "" {
			return &YearError{Field: field + ".name", Msg: fmt.Sprintf("empty (date %s)", d.Date)}
		}
		if d.Date < first || d.Date > last {
			return &YearError{Field: field + ".date", Msg: fmt.Sprintf("%s is outside year %d (allowed: %d, or December %d for an early New Year holiday)", d.Date, y.Year, y.Year, y.Year-1)}
		}
		if j, dup := seen[d.Date]; dup {
			return &YearError{Field: field + ".date", Msg: fmt.Sprintf("%s is listed twice (also days[%d])", d.Date, j)}
		}
		seen[d.Date] = i
	}
	return nil
}

// clone copies the slices so a Calendar's data cannot be changed by the
// caller after SetYear.
func (y Year) clone() Year {
	y.Papers = append([]string(nil), y.Papers...)
	y.Days = append([]Day(nil), y.Days...)
	return y
}

// jsonPath turns encoding/json's "days.3.date" into "days[3].date", the way
// the field is written in the file.
func jsonPath(p string) string {
	parts := strings.Split(p, ".")
	var b strings.Builder
	for i, part := range parts {
		if _, err := strconv.Atoi(part); err == nil && i > 0 {
			b.WriteString("[" + part + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}
