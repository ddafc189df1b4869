package deadline

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/biaogan/biaogan/internal/workday"
)

// Light is the state shown on the battle map (红黄绿灯).
type Light string

const (
	LightDone       Light = "done"
	LightNotStarted Light = "not_started"
	LightRed        Light = "red"
	LightYellow     Light = "yellow"
	LightGreen      Light = "green"
)

// Valid reports whether l is one of the five lights.
func (l Light) Valid() bool {
	switch l {
	case LightDone, LightNotStarted, LightRed, LightYellow, LightGreen:
		return true
	}
	return false
}

// Severity orders lights for sorting and for rolling tasks up: red 4,
// yellow 3, green 2, not started 1, done 0.
func (l Light) Severity() int {
	switch l {
	case LightRed:
		return 4
	case LightYellow:
		return 3
	case LightGreen:
		return 2
	case LightNotStarted:
		return 1
	}
	return 0
}

// Text names the light in both languages.
func (l Light) Text() Text {
	switch l {
	case LightRed:
		return Text{ZH: "红灯", EN: "Red"}
	case LightYellow:
		return Text{ZH: "黄灯", EN: "Yellow"}
	case LightGreen:
		return Text{ZH: "绿灯", EN: "Green"}
	case LightNotStarted:
		return Text{ZH: "未开始", EN: "Not started"}
	case LightDone:
		return Text{ZH: "已办结", EN: "Done"}
	}
	return Text{ZH: string(l), EN: string(l)}
}

// Reason codes: stable identifiers for API clients, filters and tests; the
// text may be reworded, the codes may not.
const (
	ReasonDone             = "done"
	ReasonNotStarted       = "not_started"
	ReasonOverdue          = "overdue"
	ReasonMilestoneOverdue = "milestone_overdue"
	ReasonReportMissing    = "report_missing"
	ReasonDueSoon          = "due_soon"
	ReasonBehindSchedule   = "behind_schedule"
	ReasonMilestoneDueSoon = "milestone_due_soon"
	ReasonReportLate       = "report_late"
	ReasonNotAccepted      = "not_accepted"
	ReasonOnTrack          = "on_track"
)

// Reason is one written cause of a light, e.g. "已逾期 3 个工作日" /
// "3 working days overdue". Light is the light this cause alone implies.
type Reason struct {
	Code  string `json:"code"`
	Light Light  `json:"light"`
	Text
}

// Cadence is how often progress reports are due.
type Cadence string

const (
	CadenceNone     Cadence = ""
	CadenceDaily    Cadence = "daily"
	CadenceWeekly   Cadence = "weekly"
	CadenceBiweekly Cadence = "biweekly"
	CadenceMonthly  Cadence = "monthly"
)

// Valid reports whether c is a known cadence (or none).
func (c Cadence) Valid() bool {
	switch c {
	case CadenceNone, CadenceDaily, CadenceWeekly, CadenceBiweekly, CadenceMonthly:
		return true
	}
	return false
}

// period returns the cadence as calendar days and working days. A report is
// late only when both have passed: the calendar bound forgives a six-day
// week of 调休, the working-day bound forgives a holiday week.
func (c Cadence) period() (days, workdays int) {
	switch c {
	case CadenceDaily:
		return 1, 1
	case CadenceWeekly:
		return 7, 5
	case CadenceBiweekly:
		return 14, 10
	case CadenceMonthly:
		return 31, 21
	}
	return 0, 0
}

// Text names the cadence in both languages.
func (c Cadence) Text() Text {
	switch c {
	case CadenceDaily:
		return Text{ZH: "每日报送", EN: "daily"}
	case CadenceWeekly:
		return Text{ZH: "每周报送", EN: "weekly"}
	case CadenceBiweekly:
		return Text{ZH: "每两周报送", EN: "every two weeks"}
	case CadenceMonthly:
		return Text{ZH: "每月报送", EN: "monthly"}
	}
	return Text{ZH: "无需定期报送", EN: "no regular reports"}
}

// Milestone is one dated step of a roadmap (时间表 / 路线图).
type Milestone struct {
	Name   string       `json:"name"`
	Due    workday.Date `json:"due"`
	DoneOn workday.Date `json:"done_on"` // zero: not done
}

// Input is what Evaluate needs to know about one item. Zero dates mean "not
// set" and switch the rules that need them off.
type Input struct {
	Today      workday.Date `json:"today"`
	Start      workday.Date `json:"start"`
	Due        workday.Date `json:"due"`
	AssignedOn workday.Date `json:"assigned_on"`
	Accepted   bool         `json:"accepted"`  // 签收
	Submitted  bool         `json:"submitted"` // 申请办结, awaiting sign-off
	Done       bool         `json:"done"`      // 销号 (signed off)
	// Progress is the reported percent complete, 0..100.
	Progress     int          `json:"progress"`
	Milestones   []Milestone  `json:"milestones"`
	Cadence      Cadence      `json:"cadence"`
	LastReportOn workday.Date `json:"last_report_on"`
}

// Thresholds are the office's tunable rules; DefaultThresholds gives the
// values in the design.
type Thresholds struct {
	// DueSoonWorkdays: yellow when the due date is this many working days
	// away or fewer and nothing has been submitted.
	DueSoonWorkdays int `json:"due_soon_workdays"`
	// BehindPoints: yellow when progress lags the elapsed share of working
	// time by more than this many percentage points.
	BehindPoints int `json:"behind_points"`
	// MilestoneSoonWorkdays: yellow when an open milestone is due within
	// this many working days.
	MilestoneSoonWorkdays int `json:"milestone_soon_workdays"`
	// ReportMissingPeriods: red when no report came for more than this many
	// report periods (one period missed is yellow).
	ReportMissingPeriods int `json:"report_missing_periods"`
	// AcceptWorkdays: yellow when an assignment is not accepted within this
	// many working days.
	AcceptWorkdays int `json:"accept_workdays"`
	// RemindEveryWorkdays: after the due day, remind every this many
	// working days.
	RemindEveryWorkdays int `json:"remind_every_workdays"`
	// Supervision notices escalate blue → yellow → red at these numbers of
	// working days overdue.
	NoticeBlueAfter   int `json:"notice_blue_after"`
	NoticeYellowAfter int `json:"notice_yellow_after"`
	NoticeRedAfter    int `json:"notice_red_after"`
}

// DefaultThresholds returns the rules of the design: yellow 3 working days
// before the due date, 20 points behind, milestones 2 days ahead, red after
// two missed report periods, acceptance within 1 working day; reminders every
// 3 working days overdue; blue, yellow and red notices at 1, 5 and 10 working
// days overdue.
func DefaultThresholds() Thresholds {
	return Thresholds{
		DueSoonWorkdays:       3,
		BehindPoints:          20,
		MilestoneSoonWorkdays: 2,
		ReportMissingPeriods:  2,
		AcceptWorkdays:        1,
		RemindEveryWorkdays:   3,
		NoticeBlueAfter:       1,
		NoticeYellowAfter:     5,
		NoticeRedAfter:        10,
	}
}

// ErrBadThresholds is wrapped by Thresholds.Validate errors.
var ErrBadThresholds = errors.New("bad thresholds")

// Validate checks thresholds set by an administrator.
func (th Thresholds) Validate() error {
	for _, f := range []struct {
		name string
		v    int
		min  int
	}{
		{"due_soon_workdays", th.DueSoonWorkdays, 0},
		{"behind_points", th.BehindPoints, 0},
		{"milestone_soon_workdays", th.MilestoneSoonWorkdays, 0},
		{"report_missing_periods", th.ReportMissingPeriods, 1},
		{"accept_workdays", th.AcceptWorkdays, 0},
		{"remind_every_workdays", th.RemindEveryWorkdays, 0},
		{"notice_blue_after", th.NoticeBlueAfter, 1},
	} {
		if f.v < f.min {
			return fmt.Errorf("deadline: %w: %s must be at least %d, got %d", ErrBadThresholds, f.name, f.min, f.v)
		}
	}
	if th.BehindPoints > 100 {
		return fmt.Errorf("deadline: %w: behind_points must be at most 100, got %d", ErrBadThresholds, th.BehindPoints)
	}
	if th.NoticeYellowAfter < th.NoticeBlueAfter || th.NoticeRedAfter < th.NoticeYellowAfter {
		return fmt.Errorf("deadline: %w: notice levels must rise: blue %d ≤ yellow %d ≤ red %d",
			ErrBadThresholds, th.NoticeBlueAfter, th.NoticeYellowAfter, th.NoticeRedAfter)
	}
	return nil
}

// Result is the verdict on one item.
type Result struct {
	Light Light `json:"light"`
	// Reasons lists every cause that applies, most severe first; there is
	// always at least one.
	Reasons []Reason `json:"reasons"`
	// OverdueWorkdays counts working days past the due date (0 if not past).
	OverdueWorkdays int `json:"overdue_workdays"`
	// RemainingWorkdays counts working days left up to the due date, the
	// due day included (0 when past due or without a due date).
	RemainingWorkdays int `json:"remaining_workdays"`
}

// Primary returns the first, most severe reason.
func (r Result) Primary() Reason {
	if len(r.Reasons) == 0 {
		return Reason{}
	}
	return r.Reasons[0]
}

// Evaluate decides the light of one item on in.Today:
//
//   - done when signed off; not_started before the start date;
//   - red when past due, when a milestone is past due, or when no progress
//     report came for ReportMissingPeriods report periods;
//   - yellow when due within DueSoonWorkdays and not submitted, when progress
//     lags the elapsed share of time by more than BehindPoints, when a
//     milestone is due within MilestoneSoonWorkdays, when a report period
//     passed without a report, or when not accepted within AcceptWorkdays;
//   - green otherwise.
//
// A submitted item (awaiting sign-off) is not expected to report or progress
// further, but stays red once past due until it is signed off.
func Evaluate(cal *workday.Calendar, in Input, th Thresholds) Result {
	if in.Done {
		return Result{Light: LightDone, Reasons: []Reason{{Code: ReasonDone, Light: LightDone, Text: LightDone.Text()}}}
	}
	if !in.Start.IsZero() && in.Today.Before(in.Start) {
		s := in.Start.String()
		return Result{Light: LightNotStarted, Reasons: []Reason{{Code: ReasonNotStarted, Light: LightNotStarted,
			Text: Text{ZH: "尚未开始（" + s + " 开始）", EN: "Not started (starts " + s + ")"}}}}
	}

	var res Result
	// Gathered on the stack apart, so red causes come first and the result
	// gets one slice of the exact size.
	reds := make([]Reason, 0, 4)
	yellows := make([]Reason, 0, 4)
	red := func(code string, t Text) { reds = append(reds, Reason{Code: code, Light: LightRed, Text: t}) }
	yellow := func(code string, t Text) { yellows = append(yellows, Reason{Code: code, Light: LightYellow, Text: t}) }

	if !in.Due.IsZero() {
		if in.Today.After(in.Due) {
			res.OverdueWorkdays = cal.Between(in.Due, in.Today)
			red(ReasonOverdue, overdueText(res.OverdueWorkdays, in.Due))
		} else {
			res.RemainingWorkdays = cal.Between(in.Today, in.Due)
			if !in.Submitted && res.RemainingWorkdays <= th.DueSoonWorkdays {
				yellow(ReasonDueSoon, dueSoonText(res.RemainingWorkdays, in.Today == in.Due, in.Due))
			}
		}
	}

	// Progress against the share of working time used; a submitted item
	// claims to be finished, so its percent no longer matters.
	if start := firstSet(in.Start, in.AssignedOn); !in.Submitted && !start.IsZero() && !in.Due.IsZero() {
		if total := cal.Between(start, in.Due); total > 0 {
			elapsed := min(max(cal.Between(start, in.Today), 0), total)
			expected := 100 * elapsed / total
			progress := min(max(in.Progress, 0), 100)
			if behind := expected - progress; behind > th.BehindPoints {
				yellow(ReasonBehindSchedule, behindText(progress, expected, behind))
			}
		}
	}

	for i := range in.Milestones {
		m := &in.Milestones[i]
		if m.Due.IsZero() || !m.DoneOn.IsZero() {
			continue
		}
		if in.Today.After(m.Due) {
			red(ReasonMilestoneOverdue, milestoneOverdueText(m.Name, cal.Between(m.Due, in.Today), m.Due))
		} else if left := cal.Between(in.Today, m.Due); left <= th.MilestoneSoonWorkdays {
			yellow(ReasonMilestoneDueSoon, milestoneSoonText(m.Name, left, in.Today == m.Due))
		}
	}

	// Reports are counted from the last one, or from the start when none
	// came yet; a submitted item owes no more reports.
	if days, wd := in.Cadence.period(); wd > 0 && !in.Submitted {
		since := in.LastReportOn
		if since.IsZero() {
			since = firstSet(in.Start, in.AssignedOn)
		}
		if !since.IsZero() {
			gapDays, gap := in.Today.Sub(since), cal.Between(since, in.Today)
			k := max(th.ReportMissingPeriods, 1)
			switch {
			case gapDays > k*days && gap > k*wd:
				red(ReasonReportMissing, reportText(true, gap, in.Cadence))
			case gapDays > days && gap > wd:
				yellow(ReasonReportLate, reportText(false, gap, in.Cadence))
			}
		}
	}

	if !in.AssignedOn.IsZero() && !in.Accepted {
		if n := cal.Between(in.AssignedOn, in.Today); n > th.AcceptWorkdays {
			yellow(ReasonNotAccepted, Text{
				ZH: "交办已 " + strconv.Itoa(n) + " 个工作日，尚未签收",
				EN: "Not accepted " + workdays(n) + " after assignment",
			})
		}
	}

	switch {
	case len(reds) > 0:
		res.Light = LightRed
	case len(yellows) > 0:
		res.Light = LightYellow
	default:
		res.Light = LightGreen
		res.Reasons = []Reason{{Code: ReasonOnTrack, Light: LightGreen, Text: Text{ZH: "按计划推进", EN: "On track"}}}
		return res
	}
	res.Reasons = make([]Reason, 0, len(reds)+len(yellows))
	res.Reasons = append(append(res.Reasons, reds...), yellows...)
	return res
}

func firstSet(ds ...workday.Date) workday.Date {
	for _, d := range ds {
		if !d.IsZero() {
			return d
		}
	}
	return 0
}

func overdueText(n int, due workday.Date) Text {
	if n == 0 {
		// Past a due date that fell before a weekend or holiday: late, but no
		// working day lost yet.
		s := due.String()
		return Text{ZH: "已过办理期限（" + s + "）", EN: "Past the due date (" + s + ")"}
	}
	return Text{ZH: "已逾期 " + strconv.Itoa(n) + " 个工作日", EN: workdays(n) + " overdue"}
}

func dueSoonText(left int, today bool, due workday.Date) Text {
	if today {
		return Text{ZH: "今天到期", EN: "Due today"}
	}
	s := due.String()
	return Text{
		ZH: "还有 " + strconv.Itoa(left) + " 个工作日到期（" + s + "）",
		EN: "Due in " + workdays(left) + " (" + s + ")",
	}
}

func milestoneOverdueText(name string, n int, due workday.Date) Text {
	if n == 0 {
		s := due.String()
		return Text{ZH: "节点“" + name + "”已过期限（" + s + "）", EN: "Milestone “" + name + "” is past its due date (" + s + ")"}
	}
	return Text{
		ZH: "节点“" + name + "”已逾期 " + strconv.Itoa(n) + " 个工作日",
		EN: "Milestone “" + name + "” is " + workdays(n) + " overdue",
	}
}

func milestoneSoonText(name string, left int, today bool) Text {
	if today {
		return Text{ZH: "节点“" + name + "”今天到期", EN: "Milestone “" + name + "” is due today"}
	}
	return Text{
		ZH: "节点“" + name + "”还有 " + strconv.Itoa(left) + " 个工作日到期",
		EN: "Milestone “" + name + "” is due in " + workdays(left),
	}
}

func reportText(missing bool, gap int, c Cadence) Text {
	ct := c.Text()
	if missing {
		return Text{
			ZH: "已 " + strconv.Itoa(gap) + " 个工作日未报送进展（" + ct.ZH + "）",
			EN: "No progress report for " + workdays(gap) + " (" + ct.EN + ")",
		}
	}
	return Text{
		ZH: "进展报送逾期：已 " + strconv.Itoa(gap) + " 个工作日未报送（" + ct.ZH + "）",
		EN: "Progress report late: none for " + workdays(gap) + " (" + ct.EN + ")",
	}
}

func behindText(progress, expected, behind int) Text {
	p, e, b := strconv.Itoa(progress), strconv.Itoa(expected), strconv.Itoa(behind)
	return Text{
		ZH: "进度 " + p + "%，落后时间进度（" + e + "%）" + b + " 个百分点",
		EN: "Progress " + p + "% is " + b + " points behind time elapsed (" + e + "%)",
	}
}
