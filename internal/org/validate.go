package org

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Field limits; generous for real names, tight enough to keep pages tidy.
const (
	maxCodeLen       = 32
	maxUnitNameLen   = 100
	maxPersonNameLen = 50
	maxTitleLen      = 100
	maxRankLen       = 50
	minBirthYear     = 1920
	// minWorkingAge keeps obvious typos (a birth year of last year) out.
	minWorkingAge = 16
)

// Codes are ASCII so that comparing them without case is the same on both
// engines and in Go.
var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]*$`)

func checkCode(code string) error {
	switch {
	case code == "":
		return invalid("code", "org.err.code_required")
	case len(code) > maxCodeLen:
		return invalid("code", "org.err.code_long", maxCodeLen)
	case !codeRE.MatchString(code):
		return invalid("code", "org.err.code_chars")
	}
	return nil
}

// checkText refuses an over-long value and, when requiredKey names the
// message, an empty one.
func checkText(field, value string, max int, requiredKey string) error {
	if requiredKey != "" && value == "" {
		return invalid(field, requiredKey)
	}
	if utf8.RuneCountInString(value) > max {
		return invalid(field, "org.err.too_long", max)
	}
	return nil
}

var kindByLabel = func() map[string]Kind {
	m := map[string]Kind{}
	for _, k := range Kinds {
		m[string(k)] = k
		m[k.Label()] = k
		m[strings.ToLower(tr("en", "org.kind."+string(k)))] = k
	}
	// Common synonyms people type into spreadsheets.
	m["科"] = KindSection
	m["处室"] = KindSection
	m["区"] = KindDistrict
	m["县"] = KindDistrict
	m["支部"] = KindBranch
	return m
}()

// parseKind accepts the identifier (office), the Chinese label (办公室) or
// the English label, ignoring case and surrounding space.
func parseKind(s string) (Kind, bool) {
	k, ok := kindByLabel[strings.ToLower(strings.TrimSpace(s))]
	return k, ok
}

var (
	mobileRE   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	landlineRE = regexp.MustCompile(`^0[0-9]{2,3}-[0-9]{7,8}$`)
)

// normPhone accepts a mainland mobile number (spaces, hyphens and a +86
// prefix are dropped) or a landline with its area code (0531-12345678).
// Empty stays empty.
func normPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	compact := strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(s)
	compact = strings.TrimPrefix(compact, "+86")
	if mobileRE.MatchString(compact) {
		return compact, nil
	}
	land := strings.NewReplacer(" ", "", "\u00a0", "", "—", "-", "－", "-").Replace(s)
	if landlineRE.MatchString(land) {
		return land, nil
	}
	return "", invalid("phone", "org.err.phone")
}

// MaskPhone shows only the start and the last four digits: 138****1234,
// 0531-****5678.
func MaskPhone(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	if i := strings.IndexRune(s, '-'); i > 0 {
		area := []rune(s[:i])
		num := []rune(s[i+1:])
		if len(num) > 4 {
			return string(area) + "-****" + string(num[len(num)-4:])
		}
		return string(area) + "-****"
	}
	if len(r) >= 8 {
		return string(r[:3]) + "****" + string(r[len(r)-4:])
	}
	return "****"
}

func birthYearRange(now time.Time) (int, int) { return minBirthYear, now.Year() - minWorkingAge }

func checkBirthYear(y *int, now time.Time) error {
	if y == nil {
		return nil
	}
	lo, hi := birthYearRange(now)
	if *y < lo || *y > hi {
		return invalid("birth_year", "org.err.birth_year", lo, hi)
	}
	return nil
}

var (
	dateRE    = regexp.MustCompile(`^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$`)
	dateNumRE = regexp.MustCompile(`^([0-9]{4})([0-9]{2})([0-9]{2})$`)
)

// normDate turns 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日 or 20260305
// into 2026-03-05, refusing dates that do not exist (2026-02-30) and years
// outside 1900 to next year.
func normDate(s string, now time.Time) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	m := dateRE.FindStringSubmatch(s)
	if m == nil {
		m = dateNumRE.FindStringSubmatch(s)
	}
	if m == nil {
		return "", invalid("joined_on", "org.err.date")
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return "", invalid("joined_on", "org.err.date")
	}
	if y < 1900 || y > now.Year()+1 {
		return "", invalid("joined_on", "org.err.date_range", now.Year()+1)
	}
	return t.Format(time.DateOnly), nil
}

// parseActive reads a status cell or form value: 启用/停用, yes/no, 1/0, true/false.
func parseActive(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "启用", "是", "在职", "active", "yes", "y", "true", "1":
		return true, true
	case "停用", "否", "离职", "inactive", "no", "n", "false", "0":
		return false, true
	}
	return false, false
}
