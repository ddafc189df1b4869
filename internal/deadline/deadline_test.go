package deadline

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/biaogan/biaogan/internal/workday"
)

var d = workday.MustParseDate

func codes(r Result) []string {
	out := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		out[i] = x.Code
	}
	return out
}

func TestDueSpec(t *testing.T) {
	cal := workday.New()
	tests := []struct {
		spec     DueSpec
		assigned string
		want     string
	}{
		{DueOn(d("2024-03-01")), "2024-02-05", "2024-03-01"},
		{DueOn(d("2024-03-01")), "", "2024-03-01"},
		// Ten working days from Mon 5 Feb 2024 skip the Spring Festival.
		{DueAfter(10), "2024-02-05", "2024-02-23"},
		{DueAfter(1), "2024-02-09", "2024-02-18"},
		{DueAfter(5), "2025-09-26", "2025-10-10"},
		{DueAfter(10), "", ""},
		{DueSpec{}, "2024-02-05", ""},
	}
	for _, tt := range tests {
		var assigned workday.Date
		if tt.assigned != "" {
			assigned = d(tt.assigned)
		}
		if got := tt.spec.Resolve(cal, assigned).String(); got != tt.want {
			t.Errorf("%v.Resolve(%s) = %q, want %q", tt.spec, tt.assigned, got, tt.want)
		}
	}
	if err := DueAfter(3).Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []DueSpec{{}, {On: d("2024-03-01"), Workdays: 3}, {Workdays: -2}} {
		if err := bad.Validate(); !errors.Is(err, ErrBadDueSpec) {
			t.Errorf("Validate(%+v) = %v", bad, err)
		}
	}
	if tx := DueAfter(10).Text(); tx.ZH != "交办后 10 个工作日" || tx.EN != "10 working days after assignment" {
		t.Errorf("Text = %+v", tx)
	}
	if s := DueAfter(1).String(); s != "1 working day after assignment" {
		t.Errorf("String = %q", s)
	}
	b, _ := json.Marshal(DueAfter(10))
	if string(b) != `{"workdays":10}` {
		t.Errorf("json = %s", b)
	}
	var back DueSpec
	if err := json.Unmarshal([]byte(`{"on":"2024-03-01"}`), &back); err != nil || back != DueOn(d("2024-03-01")) {
		t.Errorf("unmarshal = %+v, %v", back, err)
	}
}

func TestOverdueWorkdays(t *testing.T) {
	cal := workday.New()
	tests := []struct {
		due, today string
		want       int
	}{
		{"2024-02-08", "2024-02-08", 0},
		{"2024-02-08", "2024-02-01", 0},
		{"2024-02-08", "2024-02-09", 1},
		{"2024-02-08", "2024-02-17", 1}, // the whole holiday week adds nothing
		{"2024-02-08", "2024-02-18", 2}, // adjusted Sunday counts
		{"2024-02-08", "2024-02-19", 3},
		{"2025-09-30", "2025-10-08", 0},
		{"2025-09-30", "2025-10-11", 3},
		{"2025-12-31", "2026-01-04", 1},
	}
	for _, tt := range tests {
		if got := OverdueWorkdays(cal, d(tt.due), d(tt.today)); got != tt.want {
			t.Errorf("OverdueWorkdays(%s, %s) = %d, want %d", tt.due, tt.today, got, tt.want)
		}
	}
	if OverdueWorkdays(cal, 0, d("2024-02-19")) != 0 {
		t.Error("no due date cannot be overdue")
	}
}

func TestEvaluate(t *testing.T) {
	cal := workday.New()
	th := DefaultThresholds()
	// base: started 15 Jan 2024, due Mon 19 Feb right after the Spring
	// Festival, accepted, progressing well, no report cadence.
	base := func() Input {
		return Input{Start: d("2024-01-15"), Due: d("2024-02-19"), AssignedOn: d("2024-01-12"), Accepted: true, Progress: 90}
	}
	tests := []struct {
		name   string
		today  string
		edit   func(*Input)
		light  Light
		codes  []string
		zh, en string // of the first reason, if set
	}{
		{"done wins", "2024-03-30", func(in *Input) { in.Done = true; in.Progress = 10 }, LightDone, []string{ReasonDone}, "已办结", "Done"},
		{"before start", "2024-01-10", nil, LightNotStarted, []string{ReasonNotStarted}, "尚未开始（2024-01-15 开始）", "Not started (starts 2024-01-15)"},
		{"green a week ahead", "2024-02-05", nil, LightGreen, []string{ReasonOnTrack}, "按计划推进", "On track"},
		// 8 Feb: 9 Feb, Sun 18 Feb and 19 Feb are left — the holiday week is not.
		{"due soon across the holiday", "2024-02-08", nil, LightYellow, []string{ReasonDueSoon},
			"还有 3 个工作日到期（2024-02-19）", "Due in 3 working days (2024-02-19)"},
		{"due in 1 on the adjusted Sunday", "2024-02-18", nil, LightYellow, []string{ReasonDueSoon}, "还有 1 个工作日到期（2024-02-19）", "Due in 1 working day (2024-02-19)"},
		{"due today", "2024-02-19", nil, LightYellow, []string{ReasonDueSoon}, "今天到期", "Due today"},
		{"submitted before due", "2024-02-08", func(in *Input) { in.Submitted = true }, LightGreen, []string{ReasonOnTrack}, "", ""},
		{"overdue", "2024-02-22", nil, LightRed, []string{ReasonOverdue}, "已逾期 3 个工作日", "3 working days overdue"},
		{"overdue though submitted", "2024-02-20", func(in *Input) { in.Submitted = true }, LightRed, []string{ReasonOverdue}, "已逾期 1 个工作日", "1 working day overdue"},
		// Due Thu 8 Feb, checked Mon 19 Feb: 9 Feb, Sun 18 and 19 Feb.
		{"overdue across the holiday", "2024-02-19", func(in *Input) { in.Due = d("2024-02-08") }, LightRed, []string{ReasonOverdue}, "已逾期 3 个工作日", "3 working days overdue"},
		{"past due with no working day lost", "2024-02-17", func(in *Input) { in.Due = d("2024-02-09") }, LightRed, []string{ReasonOverdue},
			"已过办理期限（2024-02-09）", "Past the due date (2024-02-09)"},
		{"behind schedule", "2024-02-05", func(in *Input) { in.Progress = 40 }, LightYellow, []string{ReasonBehindSchedule}, "", ""},
		{"milestone overdue", "2024-02-05", func(in *Input) {
			in.Milestones = []Milestone{{Name: "方案制定", Due: d("2024-01-31")}, {Name: "已完成", Due: d("2024-01-20"), DoneOn: d("2024-01-19")}}
		}, LightRed, []string{ReasonMilestoneOverdue}, "节点“方案制定”已逾期 4 个工作日", "Milestone “方案制定” is 4 working days overdue"}, // 1, 2, Sun 4 and 5 Feb,
		{"milestone due soon", "2024-02-08", func(in *Input) {
			in.Due = d("2024-03-29")
			in.Milestones = []Milestone{{Name: "调研", Due: d("2024-02-18")}}
		}, LightYellow, []string{ReasonMilestoneDueSoon}, "节点“调研”还有 2 个工作日到期", "Milestone “调研” is due in 2 working days"},
		{"not accepted", "2024-01-16", func(in *Input) { in.Accepted = false }, LightYellow, []string{ReasonNotAccepted},
			"交办已 2 个工作日，尚未签收", "Not accepted 2 working days after assignment"},
		{"accepted window", "2024-01-15", func(in *Input) { in.Accepted = false }, LightGreen, []string{ReasonOnTrack}, "", ""},
		{"red first, then yellows in rule order", "2024-02-08", func(in *Input) {
			in.Accepted = false
			in.Progress = 10
			in.Milestones = []Milestone{{Name: "A", Due: d("2024-02-01")}, {Name: "B", Due: d("2024-02-09")}}
		}, LightRed, []string{ReasonMilestoneOverdue, ReasonDueSoon, ReasonBehindSchedule, ReasonMilestoneDueSoon, ReasonNotAccepted}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			if tt.edit != nil {
				tt.edit(&in)
			}
			in.Today = d(tt.today)
			r := Evaluate(cal, in, th)
			if r.Light != tt.light || !slices.Equal(codes(r), tt.codes) {
				t.Fatalf("got %s %v, want %s %v (%v)", r.Light, codes(r), tt.light, tt.codes, r.Reasons)
			}
			for _, x := range r.Reasons {
				if x.ZH == "" || x.EN == "" || !x.Light.Valid() {
					t.Errorf("incomplete reason %+v", x)
				}
			}
			if tt.zh != "" && (r.Primary().ZH != tt.zh || r.Primary().EN != tt.en) {
				t.Errorf("reason %q / %q, want %q / %q", r.Primary().ZH, r.Primary().EN, tt.zh, tt.en)
			}
		})
	}
}

func TestEvaluateCounts(t *testing.T) {
	cal := workday.New()
	r := Evaluate(cal, Input{Today: d("2025-10-11"), Due: d("2025-09-30")}, DefaultThresholds())
	if r.OverdueWorkdays != 3 || r.RemainingWorkdays != 0 {
		t.Errorf("overdue %d remaining %d", r.OverdueWorkdays, r.RemainingWorkdays)
	}
	r = Evaluate(cal, Input{Today: d("2025-09-26"), Due: d("2025-10-10")}, DefaultThresholds())
	// Sun 28, 29, 30 Sep, then 9 and 10 Oct after the National Day week.
	if r.OverdueWorkdays != 0 || r.RemainingWorkdays != 5 || r.Light != LightGreen {
		t.Errorf("%+v", r)
	}
}

func TestEvaluateBehindSchedule(t *testing.T) {
	cal := workday.New()
	// 3–31 Mar 2025: 20 working days after the start; by 17 Mar 10 are used,
	// so 50% is expected.
	in := Input{Start: d("2025-03-03"), Due: d("2025-03-31"), Today: d("2025-03-17")}
	for _, tt := range []struct {
		progress int
		light    Light
	}{{25, LightYellow}, {29, LightYellow}, {30, LightGreen}, {100, LightGreen}, {-5, LightYellow}} {
		in.Progress = tt.progress
		r := Evaluate(cal, in, DefaultThresholds())
		if r.Light != tt.light {
			t.Errorf("progress %d: %s %v", tt.progress, r.Light, r.Reasons)
		}
	}
	in.Progress = 25
	r := Evaluate(cal, in, DefaultThresholds())
	if r.Primary().ZH != "进度 25%，落后时间进度（50%）25 个百分点" || r.Primary().EN != "Progress 25% is 25 points behind time elapsed (50%)" {
		t.Errorf("text %+v", r.Primary())
	}
	th := DefaultThresholds()
	th.BehindPoints = 30
	if r := Evaluate(cal, in, th); r.Light != LightGreen {
		t.Errorf("custom threshold: %s", r.Light)
	}
}

func TestEvaluateReports(t *testing.T) {
	cal := workday.New()
	th := DefaultThresholds()
	tests := []struct {
		name     string
		cadence  Cadence
		start    string
		last     string
		today    string
		light    Light
		code     string
		zh, en   string
		noReport bool
	}{
		{name: "weekly on time", cadence: CadenceWeekly, last: "2025-09-19", today: "2025-09-26", light: LightGreen, code: ReasonOnTrack},
		// The National Day week: 14 calendar days but only 5 working days.
		{name: "weekly over the holiday", cadence: CadenceWeekly, last: "2025-09-26", today: "2025-10-10", light: LightGreen, code: ReasonOnTrack},
		{name: "weekly late on the adjusted Saturday", cadence: CadenceWeekly, last: "2025-09-26", today: "2025-10-11", light: LightYellow, code: ReasonReportLate,
			zh: "进展报送逾期：已 6 个工作日未报送（每周报送）", en: "Progress report late: none for 6 working days (weekly)"},
		// A six-day week of 调休 (Sun 29 Sep 2024 worked) is not late.
		{name: "weekly six-day week", cadence: CadenceWeekly, last: "2024-09-23", today: "2024-09-30", light: LightGreen, code: ReasonOnTrack},
		{name: "weekly missing", cadence: CadenceWeekly, last: "2025-09-26", today: "2025-10-17", light: LightRed, code: ReasonReportMissing,
			zh: "已 11 个工作日未报送进展（每周报送）", en: "No progress report for 11 working days (weekly)"},
		{name: "daily over the weekend", cadence: CadenceDaily, last: "2024-03-01", today: "2024-03-04", light: LightGreen, code: ReasonOnTrack},
		{name: "daily late", cadence: CadenceDaily, last: "2024-03-01", today: "2024-03-05", light: LightYellow, code: ReasonReportLate},
		{name: "daily missing", cadence: CadenceDaily, last: "2024-03-01", today: "2024-03-06", light: LightRed, code: ReasonReportMissing},
		{name: "monthly", cadence: CadenceMonthly, last: "2025-06-30", today: "2025-07-31", light: LightGreen, code: ReasonOnTrack},
		{name: "monthly late", cadence: CadenceMonthly, last: "2025-06-30", today: "2025-08-04", light: LightYellow, code: ReasonReportLate},
		{name: "biweekly late", cadence: CadenceBiweekly, last: "2025-03-03", today: "2025-03-18", light: LightYellow, code: ReasonReportLate},
		{name: "never reported counts from start", cadence: CadenceWeekly, start: "2025-03-03", today: "2025-03-11", light: LightYellow, code: ReasonReportLate},
		{name: "no cadence", cadence: CadenceNone, last: "2024-01-01", today: "2025-03-11", light: LightGreen, code: ReasonOnTrack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Today: d(tt.today), Cadence: tt.cadence, Progress: 100}
			if tt.start != "" {
				in.Start = d(tt.start)
			}
			if tt.last != "" {
				in.LastReportOn = d(tt.last)
			}
			r := Evaluate(cal, in, th)
			if r.Light != tt.light || r.Primary().Code != tt.code {
				t.Fatalf("got %s %v", r.Light, r.Reasons)
			}
			if tt.zh != "" && (r.Primary().ZH != tt.zh || r.Primary().EN != tt.en) {
				t.Errorf("text %q / %q", r.Primary().ZH, r.Primary().EN)
			}
			in.Submitted = true
			if r := Evaluate(cal, in, th); r.Light != LightGreen {
				t.Errorf("submitted item still flagged: %v", r.Reasons)
			}
		})
	}
}

func TestThresholds(t *testing.T) {
	if err := DefaultThresholds().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Thresholds){
		func(th *Thresholds) { th.DueSoonWorkdays = -1 },
		func(th *Thresholds) { th.BehindPoints = 101 },
		func(th *Thresholds) { th.ReportMissingPeriods = 0 },
		func(th *Thresholds) { th.NoticeBlueAfter = 0 },
		func(th *Thresholds) { th.NoticeYellowAfter = 20 },
	}
	for i, f := range bad {
		th := DefaultThresholds()
		f(&th)
		if err := th.Validate(); !errors.Is(err, ErrBadThresholds) {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

func TestEscalation(t *testing.T) {
	th := DefaultThresholds()
	for _, tt := range []struct {
		days int
		want Level
	}{{-2, LevelNone}, {0, LevelNone}, {1, LevelBlue}, {4, LevelBlue}, {5, LevelYellow}, {9, LevelYellow}, {10, LevelRed}, {100, LevelRed}} {
		if got := Escalation(tt.days, th); got != tt.want {
			t.Errorf("Escalation(%d) = %s, want %s", tt.days, got, tt.want)
		}
	}
	th.NoticeBlueAfter, th.NoticeYellowAfter, th.NoticeRedAfter = 3, 3, 6
	for _, tt := range []struct {
		days int
		want Level
	}{{2, LevelNone}, {3, LevelYellow}, {6, LevelRed}} {
		if got := Escalation(tt.days, th); got != tt.want {
			t.Errorf("custom Escalation(%d) = %s, want %s", tt.days, got, tt.want)
		}
	}
	if LevelRed.Severity() <= LevelYellow.Severity() || LevelYellow.Text().ZH != "黄色督办" {
		t.Error("level order or text")
	}
	// Overdue across the Spring Festival: due 8 Feb 2024, on 19 Feb only 3
	// working days are lost, so the default notice is still blue.
	cal := workday.New()
	if got := Escalation(OverdueWorkdays(cal, d("2024-02-08"), d("2024-02-19")), th); got != LevelYellow {
		t.Errorf("custom thresholds: %s", got)
	}
	if got := Escalation(OverdueWorkdays(cal, d("2024-02-08"), d("2024-02-19")), DefaultThresholds()); got != LevelBlue {
		t.Errorf("after the holiday: %s", got)
	}
}

func TestLightOrder(t *testing.T) {
	order := []Light{LightDone, LightNotStarted, LightGreen, LightYellow, LightRed}
	for i := 1; i < len(order); i++ {
		if order[i].Severity() <= order[i-1].Severity() {
			t.Errorf("%s not above %s", order[i], order[i-1])
		}
	}
	if Light("blue").Valid() || !LightRed.Valid() {
		t.Error("Valid")
	}
	if (Text{ZH: "红", EN: "red"}).In("en-US") != "red" || (Text{ZH: "红", EN: "red"}).In("zh-CN") != "红" {
		t.Error("Text.In")
	}
}

func TestReasonJSON(t *testing.T) {
	r := Evaluate(workday.New(), Input{Today: d("2024-02-22"), Due: d("2024-02-19")}, DefaultThresholds())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"light":"red","reasons":[{"code":"overdue","light":"red","zh":"已逾期 3 个工作日","en":"3 working days overdue"}],"overdue_workdays":3,"remaining_workdays":0}`
	if string(b) != want {
		t.Errorf("json = %s", b)
	}
}

var sinkResult Result

// BenchmarkEvaluate evaluates the 20,000 items of one pass per op.
func BenchmarkEvaluate(b *testing.B) {
	cal := workday.New()
	th := DefaultThresholds()
	inputs := benchInputs(20000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range inputs {
			sinkResult = Evaluate(cal, inputs[i], th)
		}
	}
}

func benchInputs(n int) []Input {
	rng := rand.New(rand.NewPCG(5, 6))
	today := d("2025-10-09")
	cadences := []Cadence{CadenceNone, CadenceDaily, CadenceWeekly, CadenceBiweekly, CadenceMonthly}
	out := make([]Input, n)
	for i := range out {
		start := today.AddDays(-rng.IntN(120))
		due := start.AddDays(10 + rng.IntN(120))
		in := Input{
			Today: today, Start: start, Due: due, AssignedOn: start.AddDays(-1),
			Accepted: rng.IntN(10) > 0, Submitted: rng.IntN(10) == 0, Done: rng.IntN(5) == 0,
			Progress: rng.IntN(101), Cadence: cadences[rng.IntN(len(cadences))],
			LastReportOn: today.AddDays(-rng.IntN(30)),
		}
		for k := rng.IntN(4); k > 0; k-- {
			m := Milestone{Name: "节点", Due: start.AddDays(rng.IntN(150))}
			if rng.IntN(2) == 0 {
				m.DoneOn = m.Due
			}
			in.Milestones = append(in.Milestones, m)
		}
		out[i] = in
	}
	return out
}

func TestBenchInputsCoverAllLights(t *testing.T) {
	cal := workday.New()
	seen := map[Light]int{}
	for _, in := range benchInputs(2000) {
		r := Evaluate(cal, in, DefaultThresholds())
		seen[r.Light]++
		if len(r.Reasons) == 0 || r.Reasons[0].Light != r.Light {
			t.Fatalf("inconsistent %+v", r)
		}
	}
	for _, l := range []Light{LightDone, LightRed, LightYellow, LightGreen} {
		if seen[l] == 0 {
			t.Errorf("benchmark inputs never %s: %v", l, seen)
		}
	}
}
