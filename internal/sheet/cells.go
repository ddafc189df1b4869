package sheet

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/workday"
)

// NumText undoes what a spreadsheet does to numbers typed into text
// columns: 1.3812345678E10 → 13812345678, 1980.0 → 1980.
func NumText(s string) string {
	if s == "" || !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return s
	}
	return strconv.FormatInt(int64(f), 10)
}

// width folds full-width digits and date punctuation to ASCII, as Chinese
// input methods type them (２０２６／３／５).
var width = strings.NewReplacer(
	"０", "0", "１", "1", "２", "2", "３", "3", "４", "4", "５", "5", "６", "6", "７", "7", "８", "8", "９", "9",
	"／", "/", "．", ".", "－", "-", "—", "-", "–", "-", "：", ":", "　", " ")

// A date as people write it: 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日
// (or 号), with optional spaces; 20260305; a month alone, 2026年6月,
// 2026-06, 2026年6月底; and without the year, 3月5日, 6月底.
var (
	reYMD     = regexp.MustCompile(`(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:\s*[日号])?`)
	reCompact = regexp.MustCompile(`(?:^|[^\d])((\d{4})(\d{2})(\d{2}))(?:$|[^\d])`)
	reYM      = regexp.MustCompile(`(\d{4})\s*(?:年\s*(\d{1,2})\s*月份?|[-/.]\s*(\d{1,2})(?:\s*月)?)(?:\s*(底|末))?`)
	reMD      = regexp.MustCompile(`(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号]|(底|末))`)
)

// DateMatch is a date found in text.
type DateMatch struct {
	// Year is 0 when the text gave none (3月5日).
	Year, Month int
	// Day is 0 when the text gave a month only (2026年6月); MonthEnd is set
	// when it said the month's end (6月底, 6月末).
	Day      int
	MonthEnd bool
	// Start and End are the byte offsets of the match in the folded text
	// (Fold); Text is that text.
	Start, End int
	Text       string
}

// Fold is the text FindDate searched: full-width digits and punctuation
// made ASCII.
func Fold(s string) string { return width.Replace(s) }

// FindDate finds the first date in s (after Fold), preferring a full date
// to a month, and a date with its year to one without.
func FindDate(s string) (DateMatch, bool) {
	t := Fold(s)
	best := DateMatch{Start: -1}
	take := func(m DateMatch) {
		if best.Start < 0 || m.Start < best.Start {
			best = m
		}
	}
	if m := reYMD.FindStringSubmatchIndex(t); m != nil {
		take(DateMatch{Year: atoi(t, m, 1), Month: atoi(t, m, 2), Day: atoi(t, m, 3), Start: m[0], End: m[1]})
	}
	if m := reCompact.FindStringSubmatchIndex(t); m != nil && between(atoi(t, m, 3), 1, 12) && between(atoi(t, m, 4), 1, 31) {
		take(DateMatch{Year: atoi(t, m, 2), Month: atoi(t, m, 3), Day: atoi(t, m, 4), Start: m[2], End: m[3]})
	}
	if best.Start < 0 {
		if m := reYM.FindStringSubmatchIndex(t); m != nil {
			mon := atoi(t, m, 2)
			if m[4] < 0 {
				mon = atoi(t, m, 3)
			}
			take(DateMatch{Year: atoi(t, m, 1), Month: mon, MonthEnd: m[8] >= 0, Start: m[0], End: m[1]})
		}
	}
	if best.Start < 0 {
		if m := reMD.FindStringSubmatchIndex(t); m != nil {
			take(DateMatch{Month: atoi(t, m, 1), Day: atoi(t, m, 2), MonthEnd: m[6] >= 0, Start: m[0], End: m[1]})
		}
	}
	if best.Start < 0 {
		return DateMatch{}, false
	}
	best.Text = t
	return best, true
}

func between(n, lo, hi int) bool { return n >= lo && n <= hi }

func atoi(s string, m []int, group int) int {
	if m[2*group] < 0 {
		return 0
	}
	n, _ := strconv.Atoi(s[m[2*group]:m[2*group+1]])
	return n
}

// Resolve turns the match into a date. year stands in when the text gave
// none. A month alone is its first day, or its last when monthEnd is set
// or the text said 底/末.
func (m DateMatch) Resolve(year int, monthEnd bool) (workday.Date, bool) {
	y := m.Year
	if y == 0 {
		y = year
	}
	if y < 1900 || y > 2999 || m.Month < 1 || m.Month > 12 {
		return 0, false
	}
	switch {
	case m.Day == 0 && (monthEnd || m.MonthEnd):
		return workday.DateOf(y, time.Month(m.Month)+1, 1).AddDays(-1), true
	case m.Day == 0:
		return workday.DateOf(y, time.Month(m.Month), 1), true
	}
	d := workday.DateOf(y, time.Month(m.Month), m.Day)
	if d.Year() != y || int(d.Month()) != m.Month || d.Day() != m.Day {
		return 0, false // 2026-02-30
	}
	return d, true
}

// yearMonthNum is 2026.6 typed into a cell, which the spreadsheet stores as
// a number: a month, not a serial date in 1905.
var yearMonthNum = regexp.MustCompile(`^(19|20|21)\d{2}\.\d{1,2}$`)

// around are the words people put around a due date: 前 (by), 之前, 以前,
// 止, 完成; they change nothing.
var around = regexp.MustCompile(`^\s*(?:于|在|截至|截止|到)?\s*|\s*(?:之前|以前|前|止|为止|完成)*\s*$`)

// ParseDate reads a date cell as people write it: an Excel date cell (a
// serial number in the raw value), an ISO date-time, 2026-03-05, 2026/3/5,
// 2026.3.5, 2026年3月5日, 20260305, or a month alone (2026年6月, 2026-06,
// 2026年6月底), which is the month's first day, or its last when monthEnd is
// set (a due date) or the cell says 底/末. "前" (by) and the like around the
// date are ignored. A cell with anything else, or a date that does not exist
// (2026-02-30), is an error naming what was read.
func ParseDate(s string, date1904, monthEnd bool) (workday.Date, error) {
	s = Clean(s)
	if s == "" {
		return 0, nil
	}
	bad := func() (workday.Date, error) {
		return 0, &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_date",
			Message: fmt.Sprintf("无法识别的日期 %q（请写作 2026-03-05、2026/3/5、2026.3.5 或 2026年3月5日）", s) +
				fmt.Sprintf(" / unreadable date %q (write 2026-03-05, 2026/3/5, 2026.3.5 or 2026年3月5日)", s)}
	}
	// An Excel date cell: a serial number of days, perhaps with a time.
	if f, err := strconv.ParseFloat(s, 64); err == nil && !reCompact.MatchString(s) && !yearMonthNum.MatchString(s) {
		if f < 1 || f >= 2958466 {
			return bad()
		}
		t, err := excelize.ExcelDateToTime(f, date1904)
		if err != nil || t.Year() < 1900 {
			return bad()
		}
		return workday.DateOf(t.Year(), t.Month(), t.Day()), nil
	}
	t := Fold(s)
	// An ISO date-time as other programs write it.
	if len(t) > 10 && (t[10] == 'T' || t[10] == ' ') && t[4] == '-' {
		if d, err := workday.ParseDate(t[:10]); err == nil {
			return d, nil
		}
	}
	m, ok := FindDate(t)
	if !ok || m.Year == 0 {
		return bad()
	}
	if rest := around.ReplaceAllString(t[:m.Start]+" "+t[m.End:], ""); strings.TrimSpace(rest) != "" {
		return bad()
	}
	d, ok := m.Resolve(0, monthEnd)
	if !ok {
		return bad()
	}
	return d, nil
}
