package deadline

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/biaogan/biaogan/internal/workday"
)

func TestKeys(t *testing.T) {
	for _, tt := range []struct {
		off int
		key string
	}{{-3, "before-3"}, {-1, "before-1"}, {0, "due"}, {6, "overdue-6"}, {12, "overdue-12"}} {
		if got := Key(tt.off); got != tt.key {
			t.Errorf("Key(%d) = %q", tt.off, got)
		}
		if got, err := KeyOffset(tt.key); err != nil || got != tt.off {
			t.Errorf("KeyOffset(%q) = %d, %v", tt.key, got, err)
		}
	}
	for _, bad := range []string{"", "before", "before-", "before-0", "before--1", "overdue-x", "overdue-+3", "late-3", "Due"} {
		if _, err := KeyOffset(bad); err == nil {
			t.Errorf("KeyOffset(%q) accepted", bad)
		}
	}
}

func TestScheduleAfterSpringFestival(t *testing.T) {
	cal := workday.New()
	s := Reminders(cal, d("2024-02-19"), 3)
	got := s.Within(d("2024-02-01"), d("2024-03-01"))
	want := []struct{ key, on string }{
		{"before-3", "2024-02-08"}, // 9 Feb, Sun 18 Feb and 19 Feb remain
		{"before-1", "2024-02-18"}, // the adjusted Sunday
		{"due", "2024-02-19"},
		{"overdue-3", "2024-02-22"},
		{"overdue-6", "2024-02-27"},
		{"overdue-9", "2024-03-01"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, w := range want {
		if got[i].Key != w.key || got[i].On.String() != w.on || got[i].Due != s.Due {
			t.Errorf("reminder %d = %s on %s, want %s on %s", i, got[i].Key, got[i].On, w.key, w.on)
		}
	}
	if tx := got[0].Text(); tx.ZH != "还有 3 个工作日到期（2024-02-19）" || tx.EN != "Due in 3 working days (2024-02-19)" {
		t.Errorf("before text %+v", tx)
	}
	if tx := got[2].Text(); tx.ZH != "今天到期（2024-02-19），请按时办结" {
		t.Errorf("due text %+v", tx)
	}
	if tx := got[4].Text(); tx.ZH != "已逾期 6 个工作日，请抓紧办理（期限 2024-02-19）" || tx.EN != "6 working days overdue, please act now (due 2024-02-19)" {
		t.Errorf("overdue text %+v", tx)
	}

	if r, ok := s.Next(d("2024-02-22")); !ok || r.Key != "overdue-6" {
		t.Errorf("Next after overdue-3 = %v, %v", r, ok)
	}
	if r, ok := s.Next(d("2024-02-23")); !ok || r.Key != "overdue-6" || r.On.String() != "2024-02-27" {
		t.Errorf("Next between = %v, %v", r, ok)
	}
	if r, ok := s.Next(d("2024-01-01")); !ok || r.Key != "before-3" {
		t.Errorf("Next from far = %v, %v", r, ok)
	}
	if _, ok := Reminders(cal, d("2024-02-19"), 0).Next(d("2024-02-19")); ok {
		t.Error("no overdue reminders without an interval")
	}
	if _, ok := Reminders(cal, 0, 3).Latest(d("2024-02-19")); ok {
		t.Error("reminders without a due date")
	}
	if _, ok := s.Latest(d("2024-02-07")); ok {
		t.Error("reminder before the first one is due")
	}
}

// A daily scheduler pass records the last key it sent; every reminder goes
// out exactly once, on its day.
func TestDueReminderDailyPass(t *testing.T) {
	cal := workday.New()
	due := d("2024-02-19")
	last := ""
	var sent []string
	for day := d("2024-02-01"); day <= d("2024-03-05"); day++ {
		// Run twice a day: the second pass must send nothing.
		for pass := 0; pass < 2; pass++ {
			if r, ok := DueReminder(cal, due, 3, last, day); ok {
				if pass == 1 {
					t.Fatalf("%s sent twice", r.Key)
				}
				sent = append(sent, fmt.Sprintf("%s %s %d", day, r.Key, r.Workdays))
				last = r.Key
			}
		}
	}
	want := []string{"2024-02-08 before-3 3", "2024-02-18 before-1 1", "2024-02-19 due 0", "2024-02-22 overdue-3 3", "2024-02-27 overdue-6 6", "2024-03-01 overdue-9 9"}
	if !slices.Equal(sent, want) {
		t.Errorf("sent %q\nwant %q", sent, want)
	}
}

func TestDueReminderCatchUp(t *testing.T) {
	cal := workday.New()
	due := d("2024-02-19")
	// Down from 8 to 23 Feb: only the latest reminder goes out, with today's count.
	r, ok := DueReminder(cal, due, 3, "before-3", d("2024-02-23"))
	if !ok || r.Key != "overdue-3" || r.Workdays != 4 || r.Text().ZH != "已逾期 4 个工作日，请抓紧办理（期限 2024-02-19）" {
		t.Errorf("catch-up = %+v, %v", r, ok)
	}
	if _, ok := DueReminder(cal, due, 3, "overdue-3", d("2024-02-23")); ok {
		t.Error("resent overdue-3")
	}
	if _, ok := DueReminder(cal, due, 3, "overdue-6", d("2024-02-23")); ok {
		t.Error("went back from overdue-6")
	}
	// Assigned late, after the before-3 day: the first nudge says what is left.
	r, ok = DueReminder(cal, due, 3, "", d("2024-02-09"))
	if !ok || r.Key != "before-3" || r.Workdays != 2 || r.Text().EN != "Due in 2 working days (2024-02-19)" {
		t.Errorf("late start = %+v, %v", r, ok)
	}
	// A garbled stored key does not block reminders.
	if r, ok := DueReminder(cal, due, 3, "garbage", d("2024-02-19")); !ok || r.Key != "due" {
		t.Errorf("garbled key = %+v, %v", r, ok)
	}
	// Due on a Sunday that is not worked (3 Mar 2024): the last nudge before
	// it is on Friday, and on Saturday nothing new is due.
	r, ok = DueReminder(cal, d("2024-03-03"), 3, "", d("2024-03-01"))
	if !ok || r.Key != "before-1" || r.Workdays != 0 || r.Text().ZH != "即将到期（2024-03-03）" {
		t.Errorf("Sunday due = %+v, %v", r, ok)
	}
}

func TestDueReminderYearEnd(t *testing.T) {
	cal := workday.New()
	// Due Sun 4 Jan 2026, an adjusted workday after the New Year holiday.
	s := Reminders(cal, d("2026-01-04"), 5)
	got := s.Within(d("2025-12-01"), d("2026-01-31"))
	var keys []string
	for _, r := range got {
		keys = append(keys, r.Key+" "+r.On.String())
	}
	want := []string{"before-3 2025-12-29", "before-1 2025-12-31", "due 2026-01-04", "overdue-5 2026-01-09", "overdue-10 2026-01-16",
		"overdue-15 2026-01-23", "overdue-20 2026-01-30"}
	if !slices.Equal(keys, want) {
		t.Errorf("got %q", keys)
	}
}

// The fast Latest must agree with the definition: the last planned
// reminder whose day is on or before today.
func TestLatestMatchesPlan(t *testing.T) {
	cal := workday.New()
	rng := rand.New(rand.NewPCG(9, 10))
	base := d("2023-12-01")
	for i := 0; i < 5000; i++ {
		due := base.AddDays(rng.IntN(800))
		every := rng.IntN(6)
		today := due.AddDays(rng.IntN(60) - 30)
		s := Reminders(cal, due, every)
		var want Reminder
		found := false
		for r, ok := s.Next(due.AddDays(-400)); ok && !r.On.After(today); r, ok = s.Next(r.On) {
			want, found = r, true
		}
		got, ok := s.Latest(today)
		if ok != found || got != want {
			t.Fatalf("due %s (%s) every %d today %s (%s): Latest = %+v, %v; plan says %+v, %v",
				due, due.Weekday(), every, today, today.Weekday(), got, ok, want, found)
		}
	}
}

var sinkReminder Reminder

// BenchmarkDueReminder runs one scheduler pass over 20,000 open items per op.
func BenchmarkDueReminder(b *testing.B) {
	cal := workday.New()
	rng := rand.New(rand.NewPCG(7, 8))
	today := d("2025-10-09")
	dues := make([]workday.Date, 20000)
	keys := make([]string, len(dues))
	for i := range dues {
		dues[i] = today.AddDays(rng.IntN(60) - 30)
		keys[i] = Key(rng.IntN(10) - 3)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range dues {
			if r, ok := DueReminder(cal, dues[i], 3, keys[i], today); ok {
				sinkReminder = r
			}
		}
	}
}
