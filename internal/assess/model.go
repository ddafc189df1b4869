// Package assess is 考评: the office's cadence of 每日报、每月晒、半年展、年终评.
// Units file a short daily report (their task progress of the day pulled in
// from supervision); every month a showcase ranks the units by a
// configurable formula over registered metrics and names an honour roll and
// a watch list; every half year an exhibition shows plan against actual,
// achievements and benchmark stages; at year end a scheme of weighted
// criteria combines metric rules, self-declarations, reproducible spot
// checks and an overall rating into a score, a rank and a grade with quotas.
//
// Publishing a period freezes a snapshot; a correction is a re-publication
// with a reason. A signed-off year is immutable.
//
// Layout follows the house: model.go (types), score.go (pure scoring),
// store.go (SQL), service.go (rules), api.go (/api/v1), http.go (pages),
// sheets.go (xlsx), demo.go (demo data), messages.go, openapi.json.
package assess

import (
	"context"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

// Period states.
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// Period is a month, half year or year the office scores.
type Period struct {
	ID          int64        `json:"id"`
	Key         string       `json:"key"` // "2026-10", "2026-H1", "2026"
	Kind        string       `json:"kind"`
	Label       string       `json:"label"`
	Start       workday.Date `json:"start"`
	End         workday.Date `json:"end"`
	State       string       `json:"state"`
	Version     int          `json:"version"` // publications so far
	PublishedAt *time.Time   `json:"published_at,omitempty"`
	PublishedOn workday.Date `json:"published_on,omitempty"`
	SignedOffAt *time.Time   `json:"signed_off_at,omitempty"`
	SignedOffBy string       `json:"signed_off_by,omitempty"`
}

// Published reports whether the period has a snapshot.
func (p *Period) Published() bool { return p.Version > 0 }

// SignedOff reports whether the period's result is final.
func (p *Period) SignedOff() bool { return p.SignedOffAt != nil }

// Unit is an assessed unit.
type Unit struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// ReportLine is one task progress report a unit filed on a day, as
// supervision holds it; a daily report pulls these in.
type ReportLine struct {
	TaskID  int64  `json:"task_id"`
	Title   string `json:"title"`
	Percent *int   `json:"percent,omitempty"`
	Text    string `json:"text"`
}

// ReportSource gives a unit's task progress reports of one day (wired by
// app from supervision).
type ReportSource interface {
	UnitReports(ctx context.Context, unitID int64, day workday.Date) ([]ReportLine, error)
}

// IndicatorStage is where one of a unit's indicators stands against its
// peers (寻标 · 对标 · 达标 · 创标), from benchmarking.
type IndicatorStage struct {
	IndicatorID int64     `json:"indicator_id"`
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Category    string    `json:"category"`
	Stage       string    `json:"stage"`
	Since       time.Time `json:"since"`
}

// StageSource gives the units' indicator stages by unit id (wired by app
// from benchmarking; nil shows none).
type StageSource interface {
	UnitStages(ctx context.Context) (map[int64][]IndicatorStage, error)
}

// Notice is a reminder to some users (app delivers it through notify).
type Notice struct {
	To    []int64
	Kind  string
	Title [2]string // zh, en
	Body  [2]string
	Link  string
}

// Notifier delivers notices inside the caller's transaction.
type Notifier interface {
	Notify(ctx context.Context, tx *db.Tx, ns ...Notice) error
}

// DailyReport is a unit's report of one day (每日报).
type DailyReport struct {
	ID          int64        `json:"id"`
	UnitID      int64        `json:"unit_id"`
	UnitName    string       `json:"unit_name"`
	Day         workday.Date `json:"day"`
	Done        string       `json:"done"`
	Moved       string       `json:"moved"`
	Problems    string       `json:"problems"`
	Tomorrow    string       `json:"tomorrow"`
	TaskLines   []ReportLine `json:"task_lines"`
	OnTime      bool         `json:"on_time"`
	FiledByName string       `json:"filed_by"`
	FiledAt     time.Time    `json:"filed_at"`
}

// Term is one part of the monthly score formula: a metric scored linearly
// from Floor (0) to Target (100) — Floor above Target for a metric where
// lower is better — with a weight.
type Term struct {
	Metric string  `json:"metric"`
	Weight float64 `json:"weight"`
	Floor  float64 `json:"floor"`
	Target float64 `json:"target"`
}

// Settings are the configurable rules of the cadence.
type Settings struct {
	// Formula is the monthly score; terms whose metric is not registered
	// (yet) are skipped and the weights of the others renormalised.
	Formula []Term `json:"formula"`
	// HonourTop and WatchBottom size the 红黑榜; HonourMin and WatchBelow
	// are thresholds (a score at or above HonourMin is on the honour roll,
	// below WatchBelow on the watch list); 0 disables a threshold.
	HonourTop   int     `json:"honour_top"`
	WatchBottom int     `json:"watch_bottom"`
	HonourMin   float64 `json:"honour_min"`
	WatchBelow  float64 `json:"watch_below"`
	// DailyDue is the local time ("17:30") by which a working day's report
	// counts as on time; reminders go out from then.
	DailyDue string `json:"daily_due"`
	// ObjectionDays is how many working days after publication units may
	// object.
	ObjectionDays int `json:"objection_days"`
	// Kinds are the unit kinds assessed.
	Kinds []string `json:"unit_kinds"`
}

// DefaultSettings are the rules until a supervisor changes them.
func DefaultSettings() Settings {
	return Settings{
		Formula: []Term{
			{Metric: "supervise.on_time_rate", Weight: 35, Floor: 60, Target: 100},
			{Metric: "supervise.overdue_count", Weight: 20, Floor: 5, Target: 0},
			{Metric: "supervise.report_punctuality", Weight: 15, Floor: 60, Target: 100},
			{Metric: MetricDailyPunctuality, Weight: 15, Floor: 60, Target: 100},
			{Metric: "supervise.lookback_pass_rate", Weight: 5, Floor: 50, Target: 100},
			{Metric: "appeal.satisfaction_rate", Weight: 10, Floor: 60, Target: 100},
		},
		HonourTop: 3, WatchBottom: 3,
		DailyDue: "17:30", ObjectionDays: 5,
		Kinds: []string{"section", "affiliate", "outpost", "district"},
	}
}

// Figure is a metric column shown on the showcase.
type Figure struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	NameEN    string `json:"name_en"`
	Measure   string `json:"measure"`
	Precision int    `json:"precision"`
}

// Lists of the 红黑榜.
const (
	ListHonour = "honour"
	ListWatch  = "watch"
	ListNone   = "none"
)

// ShowcaseRow is one unit in a monthly showcase.
type ShowcaseRow struct {
	UnitID   int64   `json:"unit_id"`
	UnitName string  `json:"unit_name"`
	UnitCode string  `json:"unit_code"`
	Score    float64 `json:"score"`
	Rank     int     `json:"rank"`
	// Movement is places gained since last month's published showcase
	// (positive: up); nil when last month was not published.
	Movement *int               `json:"movement"`
	List     string             `json:"list"`
	Values   map[string]float64 `json:"values"`
	// Terms are the formula's parts for this unit (the trace).
	Terms []TermScore `json:"terms"`
	// Cells are the figures formatted for the page, in Figures order.
	Cells []string `json:"-"`
}

// TermScore is one formula term for one unit.
type TermScore struct {
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Points float64 `json:"points"` // 0–100 before the weight
	Weight float64 `json:"weight"`
}

// Showcase is a month's showcase, live or as published.
type Showcase struct {
	Period    string        `json:"period"`
	Label     string        `json:"label"`
	Published bool          `json:"published"`
	Version   int           `json:"version"`
	At        time.Time     `json:"computed_at"`
	Figures   []Figure      `json:"figures"`
	Formula   []Term        `json:"formula"`
	Items     []ShowcaseRow `json:"items"`
	Comments  []Comment     `json:"comments"`
}

// Comment is a leader's comment on a published period.
type Comment struct {
	ID        int64     `json:"id"`
	Period    string    `json:"period"`
	UnitID    *int64    `json:"unit_id,omitempty"`
	Text      string    `json:"text"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// Achievement is a key result a unit submits for the half-year exhibition.
type Achievement struct {
	ID         int64     `json:"id"`
	Period     string    `json:"period"`
	UnitID     int64     `json:"unit_id"`
	UnitName   string    `json:"unit_name"`
	Title      string    `json:"title"`
	Text       string    `json:"text"`
	State      string    `json:"state"`
	ReviewNote string    `json:"review_note"`
	PhotoIDs   []int64   `json:"photo_ids"`
	CreatedAt  time.Time `json:"created_at"`
}

// MonthFigure is plan against actual in one month.
type MonthFigure struct {
	Month     string  `json:"month"`
	Due       float64 `json:"due"`
	Completed float64 `json:"completed"`
}

// ExhibitUnit is one unit's page of the half-year exhibition.
type ExhibitUnit struct {
	UnitID       int64            `json:"unit_id"`
	UnitName     string           `json:"unit_name"`
	Months       []MonthFigure    `json:"months"`
	Achievements []Achievement    `json:"achievements"`
	Stages       []IndicatorStage `json:"stages"`
	AvgScore     *float64         `json:"avg_score,omitempty"`
}

// Exhibition is a half year's exhibition.
type Exhibition struct {
	Period    string        `json:"period"`
	Label     string        `json:"label"`
	Published bool          `json:"published"`
	Version   int           `json:"version"`
	Units     []ExhibitUnit `json:"units"`
}

// Criterion methods.
const (
	MethodMetric      = "metric"
	MethodDeclaration = "declaration"
	MethodSpotCheck   = "spot_check"
	MethodRating      = "rating"
)

// Rule kinds of a metric criterion.
const (
	RuleLinear  = "linear"
	RuleStepped = "stepped"
	RuleRank    = "rank"
)

// Step is a threshold of a stepped rule: a value at least At (at most, for
// a metric where lower is better) earns Share of the weight.
type Step struct {
	At    float64 `json:"at"`
	Share float64 `json:"share"`
}

// Rule scores a metric value as a share (0–1) of the criterion's weight.
type Rule struct {
	Kind   string  `json:"kind,omitempty"`
	Floor  float64 `json:"floor,omitempty"`
	Target float64 `json:"target,omitempty"`
	Steps  []Step  `json:"steps,omitempty"`
	// Lower marks a metric where lower is better (set from the registry).
	Lower bool `json:"lower,omitempty"`
}

// Criterion is a level-1 or level-2 criterion of a scheme.
type Criterion struct {
	ID             int64   `json:"id"`
	Code           string  `json:"code"`
	Name           string  `json:"name"`
	Parent         string  `json:"parent,omitempty"`
	Weight         float64 `json:"weight"`
	Method         string  `json:"method,omitempty"`
	Metric         string  `json:"metric,omitempty"`
	Rule           *Rule   `json:"rule,omitempty"`
	SpotRate       float64 `json:"spot_rate,omitempty"`
	FalseDeduction float64 `json:"false_deduction,omitempty"`
}

// RaterGroup is a group of raters in the overall rating (综合评比).
type RaterGroup struct {
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Role   string  `json:"role"` // the role whose holders rate in the group
	Weight float64 `json:"weight"`
}

// Scheme is a year's evaluation scheme.
type Scheme struct {
	ID                  int64        `json:"id"`
	Year                int          `json:"year"`
	Name                string       `json:"name"`
	BonusCap            float64      `json:"bonus_cap"`
	DeductionCap        float64      `json:"deduction_cap"`
	ExcellentQuota      float64      `json:"excellent_quota"`
	OverdueDeduction    float64      `json:"overdue_deduction"`
	DeclarationDeadline workday.Date `json:"declaration_deadline"`
	Criteria            []Criterion  `json:"criteria"`
	RaterGroups         []RaterGroup `json:"rater_groups"`
}

// Leaves are the criteria that are scored (level 2, or level 1 without
// children).
func (s *Scheme) Leaves() []Criterion {
	parents := map[string]bool{}
	for _, c := range s.Criteria {
		if c.Parent != "" {
			parents[c.Parent] = true
		}
	}
	var out []Criterion
	for _, c := range s.Criteria {
		if !parents[c.Code] {
			out = append(out, c)
		}
	}
	return out
}

// Declaration states.
const (
	DeclSubmitted = "submitted"
	DeclApproved  = "approved"
	DeclAdjusted  = "adjusted"
)

// Declaration is a unit's claim for a declaration criterion (自主申报).
type Declaration struct {
	ID          int64    `json:"id"`
	CriterionID int64    `json:"criterion_id"`
	Criterion   string   `json:"criterion"`
	UnitID      int64    `json:"unit_id"`
	UnitName    string   `json:"unit_name"`
	Claimed     float64  `json:"claimed"`
	Evidence    string   `json:"evidence"`
	State       string   `json:"state"`
	Score       *float64 `json:"score"`
	ReviewNote  string   `json:"review_note"`
}

// SpotItem is one sampled item of a spot check (专业抽查).
type SpotItem struct {
	ID       int64  `json:"id"`
	CheckID  int64  `json:"spot_check_id"`
	UnitID   int64  `json:"unit_id"`
	UnitName string `json:"unit_name"`
	Kind     string `json:"kind"` // declaration, task
	RefID    int64  `json:"ref_id"`
	Result   string `json:"result"` // pending, ok, false
	Note     string `json:"note"`
}

// SpotCheck is one draw.
type SpotCheck struct {
	ID    int64      `json:"id"`
	Year  int        `json:"year"`
	Seed  int64      `json:"seed"`
	Rate  float64    `json:"rate"`
	Items []SpotItem `json:"items"`
}

// Rating is one rater's score (0–100) of one unit on a rating criterion.
type Rating struct {
	ID          int64   `json:"id"`
	CriterionID int64   `json:"criterion_id"`
	Group       string  `json:"group"`
	RaterID     int64   `json:"rater_id"`
	RaterUnitID *int64  `json:"rater_unit_id,omitempty"`
	UnitID      int64   `json:"unit_id"`
	Score       float64 `json:"score"`
}

// Adjustment kinds and categories.
const (
	KindBonus     = "bonus"
	KindDeduction = "deduction"
)

// Categories of bonuses and deductions.
var Categories = map[string]string{
	"commendation":        KindBonus, // 表彰
	"advanced_collective": KindBonus, // 先进集体
	"advanced_individual": KindBonus, // 先进个人
	"province_first":      KindBonus, // 全省第一
	"accountability":      KindDeduction,
	"other_bonus":         KindBonus,
	"other_deduction":     KindDeduction,
}

// Adjustment is a bonus or deduction for a unit, or for a person that
// feeds the person's unit.
type Adjustment struct {
	ID         int64   `json:"id"`
	Year       int     `json:"year"`
	UnitID     int64   `json:"unit_id"`
	UnitName   string  `json:"unit_name"`
	PersonID   *int64  `json:"person_id,omitempty"`
	PersonName string  `json:"person_name,omitempty"`
	Kind       string  `json:"kind"`
	Category   string  `json:"category"`
	Points     float64 `json:"points"`
	Reason     string  `json:"reason"`
}

// Grades.
const (
	GradeExcellent = "excellent" // 优秀
	GradeGood      = "good"      // 良好
	GradeFair      = "fair"      // 一般
	GradePoor      = "poor"      // 较差
)

// TraceLine is one input of a score.
type TraceLine struct {
	Criterion string  `json:"criterion,omitempty"`
	Method    string  `json:"method,omitempty"`
	Weight    float64 `json:"weight,omitempty"`
	Points    float64 `json:"points"`
	// Inputs name what the points came from: metric values, declaration
	// ids, ratings per group, deductions.
	Inputs []string `json:"inputs"`
}

// Result is one unit's year-end score.
type Result struct {
	UnitID    int64       `json:"unit_id"`
	UnitName  string      `json:"unit_name"`
	Base      float64     `json:"base"`
	Bonus     float64     `json:"bonus"`
	Deduction float64     `json:"deduction"`
	Score     float64     `json:"score"`
	Rank      int         `json:"rank"`
	Grade     string      `json:"grade"`
	Flagged   bool        `json:"flagged"`
	Trace     []TraceLine `json:"trace"`
}

// Evaluation is a year's result, live or as published.
type Evaluation struct {
	Year      int       `json:"year"`
	Scheme    string    `json:"scheme"`
	Published bool      `json:"published"`
	Version   int       `json:"version"`
	SignedOff bool      `json:"signed_off"`
	At        time.Time `json:"computed_at"`
	Items     []Result  `json:"items"`
}

// Objection is a unit's objection to a published period.
type Objection struct {
	ID        int64     `json:"id"`
	Period    string    `json:"period"`
	UnitID    int64     `json:"unit_id"`
	UnitName  string    `json:"unit_name"`
	Text      string    `json:"text"`
	State     string    `json:"state"`
	Answer    string    `json:"answer"`
	CreatedAt time.Time `json:"created_at"`
}
