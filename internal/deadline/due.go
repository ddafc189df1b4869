package deadline

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/biaogan/biaogan/internal/workday"
)

// DueSpec is how a due date is given: a fixed date (On), or a number of
// working days after assignment (Workdays), as in "办结时限：交办后 10 个工作日".
// Exactly one is set.
type DueSpec struct {
	On       workday.Date `json:"on,omitempty"`
	Workdays int          `json:"workdays,omitempty"`
}

// DueOn is a fixed due date.
func DueOn(d workday.Date) DueSpec { return DueSpec{On: d} }

// DueAfter is a due date n working days after assignment.
func DueAfter(n int) DueSpec { return DueSpec{Workdays: n} }

// ErrBadDueSpec is wrapped by DueSpec.Validate errors.
var ErrBadDueSpec = errors.New("bad due date")

// Validate checks that exactly one form is given and the count is positive.
func (s DueSpec) Validate() error {
	switch {
	case s.On.IsZero() && s.Workdays == 0:
		return fmt.Errorf("deadline: %w: give a date or a number of working days", ErrBadDueSpec)
	case !s.On.IsZero() && s.Workdays != 0:
		return fmt.Errorf("deadline: %w: give a date or a number of working days, not both", ErrBadDueSpec)
	case s.Workdays < 0:
		return fmt.Errorf("deadline: %w: working days must be positive, got %d", ErrBadDueSpec, s.Workdays)
	}
	return nil
}

// Resolve returns the due date for a task assigned on assignedOn. A fixed
// date is returned as is; a relative one counts working days from the day
// after assignment. It returns the zero Date when nothing is set, or when the
// spec is relative and assignedOn is zero (not assigned yet).
func (s DueSpec) Resolve(cal *workday.Calendar, assignedOn workday.Date) workday.Date {
	if !s.On.IsZero() {
		return s.On
	}
	if s.Workdays <= 0 || assignedOn.IsZero() {
		return 0
	}
	return cal.AddWorkdays(assignedOn, s.Workdays)
}

// String describes the spec in English: "2024-03-01" or "10 working days
// after assignment". Text gives both languages.
func (s DueSpec) String() string { return s.Text().EN }

// Text describes the spec in Chinese and English.
func (s DueSpec) Text() Text {
	if !s.On.IsZero() {
		return Text{ZH: s.On.String(), EN: s.On.String()}
	}
	if s.Workdays > 0 {
		n := strconv.Itoa(s.Workdays)
		return Text{ZH: "交办后 " + n + " 个工作日", EN: workdays(s.Workdays) + " after assignment"}
	}
	return Text{}
}

// Text is a message in both product languages.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// In returns the text for a language tag: English for "en…", else Chinese,
// the product's default.
func (t Text) In(lang string) string {
	if len(lang) >= 2 && (lang[:2] == "en" || lang[:2] == "EN") {
		return t.EN
	}
	return t.ZH
}

// OverdueWorkdays returns the working days from due to today, due itself not
// counted: 0 on or before the due day, 1 on the first working day after it.
// A zero due date is never overdue.
func OverdueWorkdays(cal *workday.Calendar, due, today workday.Date) int {
	if due.IsZero() || !today.After(due) {
		return 0
	}
	return cal.Between(due, today)
}

// workdays writes "1 working day" / "3 working days".
func workdays(n int) string {
	if n == 1 || n == -1 {
		return strconv.Itoa(n) + " working day"
	}
	return strconv.Itoa(n) + " working days"
}
