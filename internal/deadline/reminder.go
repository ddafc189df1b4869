package deadline

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/workday"
)

// Reminders (催办) go out 3 and 1 working days before the due date, on the
// due day, then every N working days while overdue.
const (
	RemindFirstBefore  = 3
	RemindSecondBefore = 1
)

// Kind says where a reminder sits relative to the due date.
type Kind string

const (
	KindBefore  Kind = "before"
	KindDue     Kind = "due"
	KindOverdue Kind = "overdue"
)

// Reminder is one nudge of a schedule.
type Reminder struct {
	// Key identifies the reminder within one due date ("before-3",
	// "before-1", "due", "overdue-6") so a scheduler can record that it was
	// sent and never send it twice. When the due date moves (an approved
	// extension) the keys start over, so the record must be cleared then.
	Key  string `json:"key"`
	Kind Kind   `json:"kind"`
	// Offset is the planned position in working days relative to the due
	// date: -3, -1, 0, or the working days overdue.
	Offset int `json:"offset"`
	// On is the day the reminder becomes due.
	On  workday.Date `json:"on"`
	Due workday.Date `json:"due"`
	// Workdays is, on the day it is sent, the working days left (before and
	// due reminders) or overdue (overdue reminders); it differs from Offset
	// when a reminder goes out late, and the text follows it.
	Workdays int `json:"workdays"`
}

// Text is the reminder's message in both languages.
func (r Reminder) Text() Text {
	due := r.Due.String()
	switch {
	case r.Kind == KindOverdue:
		return Text{ZH: "已逾期 " + strconv.Itoa(r.Workdays) + " 个工作日，请抓紧办理（期限 " + due + "）",
			EN: workdays(r.Workdays) + " overdue, please act now (due " + due + ")"}
	case r.Kind == KindDue:
		return Text{ZH: "今天到期（" + due + "），请按时办结", EN: "Due today (" + due + "), please finish on time"}
	case r.Workdays == 0:
		// Sent on a rest day just before a due date that is not a workday.
		return Text{ZH: "即将到期（" + due + "）", EN: "Due soon (" + due + ")"}
	}
	return Text{ZH: "还有 " + strconv.Itoa(r.Workdays) + " 个工作日到期（" + due + "）",
		EN: "Due in " + workdays(r.Workdays) + " (" + due + ")"}
}

// Key returns the stable key for an offset in working days relative to the
// due date: negative before, 0 on the day, positive overdue.
func Key(offset int) string {
	switch {
	case offset < 0:
		return "before-" + strconv.Itoa(-offset)
	case offset == 0:
		return "due"
	}
	return "overdue-" + strconv.Itoa(offset)
}

// KeyOffset parses a key made by Key back into its offset, so keys order
// reminders: a larger offset is a later reminder.
func KeyOffset(key string) (int, error) {
	if key == "due" {
		return 0, nil
	}
	for _, p := range [...]struct {
		prefix string
		sign   int
	}{{"before-", -1}, {"overdue-", 1}} {
		prefix, sign := p.prefix, p.sign
		if rest, ok := strings.CutPrefix(key, prefix); ok {
			n, err := strconv.Atoi(rest)
			if err != nil || n <= 0 || rest[0] == '+' {
				return 0, fmt.Errorf("deadline: reminder key %q: want a positive number after %q", key, prefix)
			}
			return sign * n, nil
		}
	}
	return 0, fmt.Errorf("deadline: reminder key %q: want before-N, due or overdue-N", key)
}

// Schedule is the reminder plan for one due date. It is a value computed on
// demand, not a list: an overdue item has no last reminder.
type Schedule struct {
	cal   *workday.Calendar
	Due   workday.Date
	Every int // working days between overdue reminders; 0 sends none
}

// Reminders returns the schedule for due with overdue reminders every
// `every` working days (Thresholds.RemindEveryWorkdays).
func Reminders(cal *workday.Calendar, due workday.Date, every int) Schedule {
	return Schedule{cal: cal, Due: due, Every: max(every, 0)}
}

// at builds the planned reminder at offset.
func (s Schedule) at(offset int) Reminder {
	r := Reminder{Key: Key(offset), Offset: offset, Due: s.Due, On: s.Due, Workdays: offset}
	switch {
	case offset < 0:
		r.Kind, r.On, r.Workdays = KindBefore, s.cal.AddWorkdays(s.Due, offset), -offset
	case offset > 0:
		r.Kind, r.On = KindOverdue, s.cal.AddWorkdays(s.Due, offset)
	default:
		r.Kind = KindDue
	}
	return r
}

// Latest returns the most recent reminder due on or before today.
func (s Schedule) Latest(today workday.Date) (Reminder, bool) {
	off, ok := s.latestOffset(today)
	if !ok {
		return Reminder{}, false
	}
	return s.at(off), true
}

// latestOffset finds the latest reminder without building it, so a
// scheduler pass allocates only for reminders it actually sends.
func (s Schedule) latestOffset(today workday.Date) (int, bool) {
	if s.Due.IsZero() {
		return 0, false
	}
	if !today.Before(s.Due) {
		if m := s.cal.Between(s.Due, today); s.Every > 0 && m >= s.Every {
			return m / s.Every * s.Every, true
		}
		return 0, true
	}
	// Before the due date, before-k is due once fewer than k working days
	// lie strictly between today and the due date (then AddWorkdays(due,
	// -k) <= today); one O(1) count instead of building each reminder.
	left := s.cal.Between(today, s.Due-1)
	for _, k := range [...]int{RemindSecondBefore, RemindFirstBefore} {
		if left < k {
			return -k, true
		}
	}
	return 0, false
}

// Next returns the first reminder due after the given day; a scheduler can
// store its date and query only the items due, instead of scanning all.
// ok is false when there is none (no due date, or past due without
// overdue reminders).
func (s Schedule) Next(after workday.Date) (Reminder, bool) {
	if s.Due.IsZero() {
		return Reminder{}, false
	}
	if after.Before(s.Due) {
		for _, k := range [...]int{-RemindFirstBefore, -RemindSecondBefore} {
			if r := s.at(k); r.On.After(after) {
				return r, true
			}
		}
		return s.at(0), true
	}
	if s.Every <= 0 {
		return Reminder{}, false
	}
	m := s.cal.Between(s.Due, after)
	return s.at((m/s.Every + 1) * s.Every), true
}

// Within lists the reminders due from first to last inclusive, to show an
// item's plan.
func (s Schedule) Within(first, last workday.Date) []Reminder {
	var out []Reminder
	for r, ok := s.Next(first.AddDays(-1)); ok && !r.On.After(last); r, ok = s.Next(r.On) {
		out = append(out, r)
	}
	return out
}

// DueReminder tells a scheduler pass what to send for one item today: the
// latest reminder due by today, if it comes after lastSentKey (the key last
// recorded for this due date, "" for none). After downtime only the latest
// reminder goes out, never a backlog. Its Workdays and text are as of today.
// It costs a few array reads, so a pass can call it for every open item.
func DueReminder(cal *workday.Calendar, due workday.Date, every int, lastSentKey string, today workday.Date) (Reminder, bool) {
	s := Reminders(cal, due, every)
	off, ok := s.latestOffset(today)
	if !ok {
		return Reminder{}, false
	}
	if lastSentKey != "" {
		if last, err := KeyOffset(lastSentKey); err == nil && off <= last {
			return Reminder{}, false
		}
	}
	r := s.at(off)
	if r.Kind == KindOverdue {
		r.Workdays = cal.Between(due, today)
	} else {
		r.Workdays = max(cal.Between(today, due), 0)
	}
	return r, true
}
