// Package benchmark is 对标: peers (标杆) and what we learn from them,
// indicators and their observations for us, our units and the peers, gap
// analysis and the composite benchmark index, targets whose paths become
// battle-map tasks, and the stages 寻标 → 对标 → 达标 → 创标.
//
// The package follows the house layout: model.go (types and the pure rules:
// periods, gaps, stages, the index), store.go (SQL), service.go (changes,
// with the clock passed in), api.go (/api/v1), http.go (pages), sheet.go
// (xlsx), demo.go (the demo office's benchmarking).
package benchmark

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

// Direction says which way is better.
type Direction string

const (
	HigherBetter Direction = "higher_better"
	LowerBetter  Direction = "lower_better"
)

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool { return d == HigherBetter || d == LowerBetter }

// Better reports whether a beats b.
func (d Direction) Better(a, b float64) bool {
	if d == LowerBetter {
		return a < b
	}
	return a > b
}

// PeerKind is what a peer is.
type PeerKind string

const (
	PeerInProvince    PeerKind = "in_province"
	PeerOutOfProvince PeerKind = "out_of_province"
	PeerNational      PeerKind = "national"
	PeerInternal      PeerKind = "internal" // one of our units
)

// PeerKinds lists every kind.
var PeerKinds = []PeerKind{PeerOutOfProvince, PeerInProvince, PeerNational, PeerInternal}

// Valid reports whether k is a known kind.
func (k PeerKind) Valid() bool { return slices.Contains(PeerKinds, k) }

// ActivityKind is a kind of learning activity.
type ActivityKind string

const (
	ActivityVisit      ActivityKind = "visit"      // 考察学习
	ActivityTraining   ActivityKind = "training"   // 培训
	ActivityExchange   ActivityKind = "exchange"   // 交流
	ActivitySecondment ActivityKind = "secondment" // 跟班学习
	ActivityAgreement  ActivityKind = "agreement"  // 交流协议
)

// ActivityKinds lists every kind.
var ActivityKinds = []ActivityKind{ActivityVisit, ActivityTraining, ActivityExchange, ActivitySecondment, ActivityAgreement}

// Valid reports whether k is a known kind.
func (k ActivityKind) Valid() bool { return slices.Contains(ActivityKinds, k) }

// Frequency is how often an indicator is observed.
type Frequency string

const (
	Monthly   Frequency = "month"
	Quarterly Frequency = "quarter"
	HalfYear  Frequency = "half"
	Yearly    Frequency = "year"
)

// Frequencies lists every frequency.
var Frequencies = []Frequency{Monthly, Quarterly, HalfYear, Yearly}

// Valid reports whether f is a known frequency.
func (f Frequency) Valid() bool { return slices.Contains(Frequencies, f) }

// Stage is where an indicator stands against its peers.
type Stage string

const (
	StageSeek    Stage = "seek"    // 寻标: no peer values yet
	StageCompare Stage = "compare" // 对标: peers known, we are behind the chosen peer
	StageAttain  Stage = "attain"  // 达标: we reach or pass the chosen peer in the latest period
	StageLead    Stage = "lead"    // 创标: best of all for N periods in a row
)

// Stages lists the stages in order.
var Stages = []Stage{StageSeek, StageCompare, StageAttain, StageLead}

// Rank is the stage's place in the order (1–4; 0 for none).
func (s Stage) Rank() int { return slices.Index(Stages, s) + 1 }

// SourceManual marks an indicator whose values are typed in.
const SourceManual = "manual"

// SubjectKind is who an observation is about.
type SubjectKind string

const (
	SubjectUs   SubjectKind = "us"
	SubjectUnit SubjectKind = "unit"
	SubjectPeer SubjectKind = "peer"
)

// Subject is us, one of our units, or a peer.
type Subject struct {
	Kind SubjectKind
	ID   int64
}

// Us is the office itself.
var Us = Subject{Kind: SubjectUs}

// String is the API form: "us", "unit:12", "peer:3".
func (s Subject) String() string {
	if s.Kind == SubjectUs {
		return "us"
	}
	return string(s.Kind) + ":" + strconv.FormatInt(s.ID, 10)
}

// ParseSubject reads the API form.
func ParseSubject(v string) (Subject, bool) {
	v = strings.TrimSpace(v)
	if v == "us" {
		return Us, true
	}
	k, id, ok := strings.Cut(v, ":")
	if !ok || (k != string(SubjectUnit) && k != string(SubjectPeer)) {
		return Subject{}, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return Subject{}, false
	}
	return Subject{Kind: SubjectKind(k), ID: n}, true
}

// Peer is a benchmark organisation (标杆).
type Peer struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	Kind       PeerKind `json:"kind"`
	Region     string   `json:"region"`
	UnitID     *int64   `json:"unit_id"`
	Population *int64   `json:"population"`
	Staff      *int64   `json:"staff"`
	Learn      string   `json:"learn"`
	Contacts   string   `json:"contacts"`
	Active     bool     `json:"active"`
}

// Activity is a learning activity with a peer.
type Activity struct {
	ID       int64        `json:"id"`
	PeerID   *int64       `json:"peer_id"`
	PeerName string       `json:"peer_name"`
	Kind     ActivityKind `json:"kind"`
	Title    string       `json:"title"`
	HeldOn   workday.Date `json:"held_on"`
	People   string       `json:"people"`
	Findings string       `json:"findings"`
	Report   string       `json:"report"`
	// Files are the attached reports.
	Files []FileInfo `json:"files"`
}

// FileInfo is an attached file, without its content.
type FileInfo struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// File is an attached file with its content.
type File struct {
	FileInfo
	ContentType string
	Data        []byte
}

// Category groups indicators.
type Category struct {
	Name      string `json:"name"`
	NameEN    string `json:"name_en"`
	SortOrder int    `json:"sort_order"`
}

// Indicator is something measured against peers (指标).
type Indicator struct {
	ID          int64     `json:"id"`
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Unit        string    `json:"unit"` // the measure unit ("%", "件")
	Direction   Direction `json:"direction"`
	Category    string    `json:"category"`
	Frequency   Frequency `json:"frequency"`
	Source      string    `json:"source"`
	Definition  string    `json:"definition"`
	Formula     string    `json:"formula"`
	OwnerUnitID *int64    `json:"owner_unit_id"`
	Weight      float64   `json:"weight"`
	PeerID      *int64    `json:"peer_id"`
	LeadPeriods int       `json:"lead_periods"`
	Stage       Stage     `json:"stage"`
	StageSince  time.Time `json:"stage_since"`
	Active      bool      `json:"active"`
	// LatestValue is our value in the latest period we have one (null
	// when none); LatestPeriod names that period. In it: Score (0–100
	// against the best peer), Rank among us and the peers (of Of), Gap
	// and GapPct to the best, BestSubject the best of us and the peers,
	// BestUnit the best of our units. Kept on write.
	LatestValue  *float64 `json:"latest_value"`
	LatestPeriod string   `json:"latest_period"`
	Score        *float64 `json:"score"`
	Rank         int      `json:"rank"`
	Of           int      `json:"of"`
	Gap          *float64 `json:"gap"`
	GapPct       *float64 `json:"gap_pct"`
	BestSubject  string   `json:"best_subject"`
	BestUnit     string   `json:"best_unit"`
}

// summary is an indicator's rollup in its latest period with our value.
type summary struct {
	latest       *float64
	period       string
	score        *float64
	rank, of     int
	gap, gapPct  *float64
	best, bestIn string
}

// summarize computes the rollup from a series.
func summarize(d Direction, s Series) summary {
	var out summary
	for i := len(s.Periods) - 1; i >= 0; i-- {
		if v, ok := s.Values[s.Periods[i]][Us]; ok {
			out.latest, out.period = &v, s.Periods[i]
			break
		}
	}
	if out.latest == nil {
		return out
	}
	var outer, inner []Value
	var pv []float64
	for sub, v := range s.Values[out.period] {
		switch sub.Kind {
		case SubjectUnit:
			inner = append(inner, Value{sub, v})
		case SubjectPeer:
			pv = append(pv, v)
			outer = append(outer, Value{sub, v})
		default:
			outer = append(outer, Value{sub, v})
		}
	}
	if in := Gaps(d, inner); len(in) > 0 {
		out.bestIn = in[0].Subject
	}
	if len(pv) == 0 {
		return out // nobody to compare with in this period
	}
	rows := Gaps(d, outer)
	out.of = len(rows)
	for _, r := range rows {
		if r.IsUs {
			g, gp := r.Gap, r.GapPct
			out.rank, out.gap, out.gapPct = r.Rank, &g, &gp
		}
	}
	if len(rows) > 0 {
		out.best = rows[0].Subject
	}
	if sc, ok := Score(d, out.latest, pv); ok {
		sc = round(sc)
		out.score = &sc
	}
	return out
}

// Observation is one value of an indicator for one subject in one period.
type Observation struct {
	ID          int64     `json:"id"`
	IndicatorID int64     `json:"indicator_id"`
	Subject     string    `json:"subject"`
	SubjectName string    `json:"subject_name"`
	Period      string    `json:"period"`
	Value       float64   `json:"value"`
	Note        string    `json:"note"`
	Evidence    string    `json:"evidence"`
	Fixed       bool      `json:"fixed"`
	UpdatedAt   time.Time `json:"updated_at"`
	// History holds replaced values, newest first (on request).
	History []HistoryEntry `json:"history,omitempty"`
}

// HistoryEntry is a replaced value.
type HistoryEntry struct {
	Value      float64   `json:"value"`
	Note       string    `json:"note"`
	ReplacedAt time.Time `json:"replaced_at"`
}

// StageChange is one entry of an indicator's stage history.
type StageChange struct {
	IndicatorID int64     `json:"indicator_id"`
	From        Stage     `json:"from"`
	To          Stage     `json:"to"`
	Period      string    `json:"period"`
	At          time.Time `json:"at"`
}

// Target is a value to reach by a date, with its path.
type Target struct {
	ID          int64        `json:"id"`
	IndicatorID int64        `json:"indicator_id"`
	Indicator   string       `json:"indicator"`
	TargetValue float64      `json:"target_value"`
	Baseline    float64      `json:"baseline"`
	Due         workday.Date `json:"due"`
	PeerID      *int64       `json:"peer_id"`
	Note        string       `json:"note"`
	AttainedOn  workday.Date `json:"attained_on"`
	// Latest is our latest value; Progress is (latest − baseline) /
	// (target − baseline) in percent, null without a latest value.
	Latest   *float64 `json:"latest"`
	Progress *float64 `json:"progress"`
	Path     []Step   `json:"path"`
	TaskIDs  []int64  `json:"task_ids"`
}

// Step is one step of a target's path; TaskID is its battle-map task.
type Step struct {
	Seq        int          `json:"seq"`
	Title      string       `json:"title"`
	Due        workday.Date `json:"due"`
	LeadUnitID int64        `json:"lead_unit_id"`
	OwnerID    int64        `json:"owner_id"`
	TaskID     *int64       `json:"task_id"`
	UnitName   string       `json:"unit_name"`
	OwnerName  string       `json:"owner_name"`
}

// OwnerStage is an indicator's stage for its owner unit (the 考评 half-year
// exhibition reads it).
type OwnerStage struct {
	UnitID      int64
	IndicatorID int64
	Code, Name  string
	Category    string
	Stage       string
	Since       time.Time
}

// Periods.

// ParsePeriod reads a period of frequency f and returns it normalised:
// "2026-03" (month), "2026-Q1" (quarter), "2026-H1" (half), "2026" (year).
// Chinese forms are read too: 2026年3月, 2026年第一季度 / 2026年一季度,
// 2026年上半年, 2026年.
func ParsePeriod(f Frequency, s string) (string, bool) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	for _, r := range [][2]string{{"年度", ""}, {"第", ""}, {"季度", "Q"}, {"一Q", "Q1"}, {"二Q", "Q2"}, {"三Q", "Q3"}, {"四Q", "Q4"},
		{"上半年", "H1"}, {"下半年", "H2"}, {"年", "-"}, {"月", ""}, {"/", "-"}, {".", "-"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	if len(s) < 4 {
		return "", false
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 1900 || y > 9999 {
		return "", false
	}
	rest := strings.TrimPrefix(s[4:], "-")
	switch f {
	case Yearly:
		if rest == "" {
			return s[:4], true
		}
	case HalfYear:
		if rest == "H1" || rest == "H2" {
			return s[:4] + "-" + rest, true
		}
	case Quarterly:
		if strings.HasSuffix(rest, "Q") && len(rest) == 2 { // 2026年1季度 → "1Q"
			rest = "Q" + rest[:1]
		}
		if len(rest) == 2 && rest[0] == 'Q' && rest[1] >= '1' && rest[1] <= '4' {
			return s[:4] + "-" + rest, true
		}
	case Monthly:
		m, err := strconv.Atoi(rest)
		if err == nil && m >= 1 && m <= 12 && len(rest) <= 2 {
			return fmt.Sprintf("%s-%02d", s[:4], m), true
		}
	}
	return "", false
}

// PeriodFormat describes the periods of f for messages.
func PeriodFormat(f Frequency) string {
	switch f {
	case Monthly:
		return "YYYY-MM"
	case Quarterly:
		return "YYYY-Q1…Q4"
	case HalfYear:
		return "YYYY-H1 / YYYY-H2"
	}
	return "YYYY"
}

// PeriodSpan is the first and last day of a normalised period.
func PeriodSpan(f Frequency, p string) (start, end workday.Date) {
	y, _ := strconv.Atoi(p[:4])
	first, months := time.January, 12
	switch f {
	case Monthly:
		m, _ := strconv.Atoi(p[5:])
		first, months = time.Month(m), 1
	case Quarterly:
		q := int(p[6] - '0')
		first, months = time.Month(3*(q-1)+1), 3
	case HalfYear:
		if p[6] == '2' {
			first = time.July
		}
		months = 6
	}
	start = workday.DateOf(y, first, 1)
	return start, workday.DateOf(y, first+time.Month(months), 1).AddDays(-1)
}

// PeriodOf is the period of f holding d.
func PeriodOf(f Frequency, d workday.Date) string {
	y, m, _ := d.Civil()
	switch f {
	case Monthly:
		return fmt.Sprintf("%04d-%02d", y, int(m))
	case Quarterly:
		return fmt.Sprintf("%04d-Q%d", y, (int(m)-1)/3+1)
	case HalfYear:
		if m <= time.June {
			return fmt.Sprintf("%04d-H1", y)
		}
		return fmt.Sprintf("%04d-H2", y)
	}
	return fmt.Sprintf("%04d", y)
}

// PrevPeriod is the period of f just before p.
func PrevPeriod(f Frequency, p string) string {
	start, _ := PeriodSpan(f, p)
	return PeriodOf(f, start.AddDays(-1))
}

// LastPeriods lists n periods of f ending with p, oldest first.
func LastPeriods(f Frequency, p string, n int) []string {
	out := make([]string, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = p
		p = PrevPeriod(f, p)
	}
	return out
}

// MetricPeriod is p as the metric registry sees it.
func MetricPeriod(f Frequency, p string) metric.Period {
	start, end := PeriodSpan(f, p)
	k := metric.Kind(f)
	switch f {
	case Monthly:
		k = metric.Month
	case HalfYear:
		k = metric.HalfYear
	case Yearly:
		k = metric.Year
	}
	return metric.Period{Kind: k, Start: start, End: end}
}

// ParseValue reads a number as people type it: "95%", "1,234.5", "９５",
// " 3 ". percent says the indicator's unit is %, where "95%" is 95.
func ParseValue(s string) (float64, bool) {
	s = strings.TrimSpace(strings.NewReplacer(",", "", "，", "", "％", "%", "\u00a0", "", " ", "").Replace(s))
	s = strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return '0' + (r - '０')
		}
		if r == '．' {
			return '.'
		}
		return r
	}, s)
	s = strings.TrimSuffix(s, "%")
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// Gap analysis.

// Value is one subject's value.
type Value struct {
	Subject Subject
	Value   float64
}

// GapRow is one subject's place in a period.
type GapRow struct {
	Subject string  `json:"subject"`
	Name    string  `json:"name"`
	IsUs    bool    `json:"is_us"`
	Kind    string  `json:"kind"`
	Value   float64 `json:"value"`
	Rank    int     `json:"rank"`
	Gap     float64 `json:"gap"`
	GapPct  float64 `json:"gap_pct"`
}

// Gaps ranks values (1 = best; ties share a rank) and gives each its gap
// to the best: best − value when higher is better, value − best when lower
// is better (0 for the best); gap_pct = gap / |best| × 100 (0 when the
// best is 0). Rows come best first.
func Gaps(d Direction, vs []Value) []GapRow {
	out := make([]GapRow, len(vs))
	for i, v := range vs {
		out[i] = GapRow{Subject: v.Subject.String(), IsUs: v.Subject.Kind == SubjectUs, Kind: string(v.Subject.Kind), Value: v.Value}
	}
	slices.SortStableFunc(out, func(a, b GapRow) int {
		switch {
		case d.Better(a.Value, b.Value):
			return -1
		case d.Better(b.Value, a.Value):
			return 1
		}
		return strings.Compare(a.Subject, b.Subject)
	})
	if len(out) == 0 {
		return out
	}
	best := out[0].Value
	for i := range out {
		if i > 0 && out[i].Value == out[i-1].Value {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
		g := best - out[i].Value
		if d == LowerBetter {
			g = out[i].Value - best
		}
		out[i].Gap = round(g)
		if best != 0 {
			out[i].GapPct = math.Round(g/math.Abs(best)*10000) / 100
		}
	}
	return out
}

func round(x float64) float64 { return math.Round(x*10000) / 10000 }

// Score is how close we are to the best peer, 0–100: 100 − gap_pct
// against the best of us and the peers, clamped. ok is false without our
// value or a peer value.
func Score(d Direction, us *float64, peers []float64) (float64, bool) {
	if us == nil || len(peers) == 0 {
		return 0, false
	}
	best := *us
	for _, p := range peers {
		if d.Better(p, best) {
			best = p
		}
	}
	g := best - *us
	if d == LowerBetter {
		g = *us - best
	}
	if g <= 0 {
		return 100, true
	}
	if best == 0 {
		return 0, true
	}
	return math.Max(0, math.Min(100, 100-g/math.Abs(best)*100)), true
}

// Series is an indicator's values by period and subject, in period order.
type Series struct {
	Periods []string
	// Values[period][subject]
	Values map[string]map[Subject]float64
}

// StageOf decides the stage from the series, the chosen peer (0 for the
// best peer) and N (lead after N periods in a row best of us and the
// peers). It also returns the period it judged on.
func StageOf(d Direction, s Series, chosen int64, n int) (Stage, string) {
	if n < 1 {
		n = 2
	}
	// ours are the periods with our value and at least one peer's: the
	// periods we can be compared in (peer figures often come late).
	anyPeer := false
	var ours []string
	for _, p := range s.Periods {
		peer := false
		for sub := range s.Values[p] {
			if sub.Kind == SubjectPeer {
				peer = true
			}
		}
		anyPeer = anyPeer || peer
		if _, ok := s.Values[p][Us]; ok && peer {
			ours = append(ours, p)
		}
	}
	if !anyPeer {
		return StageSeek, ""
	}
	if len(ours) == 0 {
		return StageCompare, ""
	}
	// bestOfAll: we beat or tie every peer with a value in p, and at
	// least one peer has one.
	bestOfAll := func(p string) bool {
		us, peers := s.Values[p][Us], 0
		for sub, v := range s.Values[p] {
			if sub.Kind != SubjectPeer {
				continue
			}
			peers++
			if d.Better(v, us) {
				return false
			}
		}
		return peers > 0
	}
	latest := ours[len(ours)-1]
	if len(ours) >= n {
		lead := true
		for _, p := range ours[len(ours)-n:] {
			if !bestOfAll(p) {
				lead = false
				break
			}
		}
		if lead {
			return StageLead, latest
		}
	}
	us := s.Values[latest][Us]
	if chosen != 0 {
		if v, ok := s.Values[latest][Subject{Kind: SubjectPeer, ID: chosen}]; ok {
			if !d.Better(v, us) {
				return StageAttain, latest
			}
			return StageCompare, latest
		}
	}
	// No chosen peer (or no value for it): against the best peer.
	if bestOfAll(latest) {
		return StageAttain, latest
	}
	return StageCompare, latest
}

// Trend is our gap to the best over the last periods.
type Trend struct {
	Periods []string   `json:"periods"`
	Us      []*float64 `json:"us"`
	Best    []*float64 `json:"best"`
	Gap     []*float64 `json:"gap"`
	// OurRate and BestRate are the mean change per period in the better
	// direction (positive = improving); Closing says we improve faster
	// than the best moves, so the gap narrows.
	OurRate  float64 `json:"our_rate"`
	BestRate float64 `json:"best_rate"`
	Closing  bool    `json:"closing"`
}

// TrendOf builds the trend over periods (oldest first); the best is the
// best peer in each period.
func TrendOf(d Direction, s Series, periods []string) Trend {
	t := Trend{Periods: periods}
	for _, p := range periods {
		var us, best *float64
		if v, ok := s.Values[p][Us]; ok {
			us = &v
		}
		for sub, v := range s.Values[p] {
			if sub.Kind == SubjectPeer && (best == nil || d.Better(v, *best)) {
				v := v
				best = &v
			}
		}
		t.Us, t.Best = append(t.Us, us), append(t.Best, best)
		var g *float64
		if us != nil && best != nil {
			x := *best - *us
			if d == LowerBetter {
				x = *us - *best
			}
			x = round(x)
			g = &x
		}
		t.Gap = append(t.Gap, g)
	}
	rate := func(xs []*float64) float64 {
		first, last, fi, li := 0.0, 0.0, -1, -1
		for i, x := range xs {
			if x == nil {
				continue
			}
			if fi < 0 {
				first, fi = *x, i
			}
			last, li = *x, i
		}
		if fi < 0 || li == fi {
			return 0
		}
		r := (last - first) / float64(li-fi)
		if d == LowerBetter {
			r = -r
		}
		return math.Round(r*100) / 100
	}
	t.OurRate, t.BestRate = rate(t.Us), rate(t.Best)
	t.Closing = t.OurRate > t.BestRate
	return t
}

// Progress is (latest − baseline) / (target − baseline) in percent.
func Progress(baseline, target, latest float64) float64 {
	if target == baseline {
		return 100
	}
	return round((latest - baseline) / (target - baseline) * 100)
}

// Reached reports whether v reaches target in direction d.
func Reached(d Direction, v, target float64) bool {
	if d == LowerBetter {
		return v <= target
	}
	return v >= target
}
