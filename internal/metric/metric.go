// Package metric is the one metric registry (DESIGN.md §2): every measurable
// thing — a unit's on-time completion rate, its overdue count, its appeal
// satisfaction — is a named metric that a feature registers, computed per
// unit per period. Benchmark indicators and assessment criteria point at a
// metric's code; neither re-implements a query.
//
// A metric computes all units at once with set-based SQL (one query per
// metric, never one per unit). The registry is a value created by app; there
// is no global state.
package metric

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

// Direction says which way is better.
type Direction string

const (
	HigherBetter Direction = "higher_better"
	LowerBetter  Direction = "lower_better"
	// Neutral is a figure shown for context (how many tasks fell due),
	// never ranked.
	Neutral Direction = "neutral"
)

// Valid reports whether d is a known direction.
func (d Direction) Valid() bool { return d == HigherBetter || d == LowerBetter || d == Neutral }

// Better reports whether a beats b in direction d (never for Neutral).
func (d Direction) Better(a, b float64) bool {
	switch d {
	case HigherBetter:
		return a > b
	case LowerBetter:
		return a < b
	}
	return false
}

// Values are a metric's figures by unit id. A unit that is absent had
// nothing to measure in the period (a rate with no denominator); a unit with
// something to measure and a zero result is present with 0.
type Values = map[int64]float64

// ComputeFunc computes a metric for every unit in one period, reading
// through q.
type ComputeFunc func(ctx context.Context, q db.Querier, p Period) (Values, error)

// Metric is a named computation per unit per period.
type Metric struct {
	// Code is the stable name ("supervise.on_time_rate"): lower-case
	// letters, digits and underscores, in dot-separated parts, the first
	// naming the feature that owns it.
	Code   string `json:"code"`
	Name   string `json:"name"`    // 中文名称
	NameEN string `json:"name_en"` // English name
	// Measure is the unit of measure ("%", "件", "个工作日"); MeasureEN is
	// its English form.
	Measure   string    `json:"measure"`
	MeasureEN string    `json:"measure_en"`
	Direction Direction `json:"direction"`
	// Description says exactly what is counted, in both languages.
	Description   string `json:"description"`
	DescriptionEN string `json:"description_en"`
	// Precision is the number of decimals worth showing.
	Precision int         `json:"precision"`
	Compute   ComputeFunc `json:"-"`
}

// Feature is the first part of the code: the feature that owns the metric.
func (m Metric) Feature() string {
	f, _, _ := strings.Cut(m.Code, ".")
	return f
}

// ValidCode reports whether c is a well-formed metric code.
func ValidCode(c string) bool {
	if c == "" || len(c) > 100 || !strings.Contains(c, ".") {
		return false
	}
	for _, part := range strings.Split(c, ".") {
		if part == "" {
			return false
		}
		for i, r := range part {
			switch {
			case r >= 'a' && r <= 'z', r == '_':
			case r >= '0' && r <= '9' && i > 0:
			default:
				return false
			}
		}
	}
	return true
}

func (m Metric) check() error {
	switch {
	case !ValidCode(m.Code):
		return fmt.Errorf("metric: code %q must be dot-separated lower-case words (feature.name)", m.Code)
	case strings.TrimSpace(m.Name) == "" || strings.TrimSpace(m.NameEN) == "":
		return fmt.Errorf("metric: %s needs a Chinese and an English name", m.Code)
	case !m.Direction.Valid():
		return fmt.Errorf("metric: %s: direction %q must be higher_better, lower_better or neutral", m.Code, m.Direction)
	case m.Compute == nil:
		return fmt.Errorf("metric: %s has no Compute", m.Code)
	case m.Precision < 0 || m.Precision > 6:
		return fmt.Errorf("metric: %s: precision %d out of 0–6", m.Code, m.Precision)
	}
	return nil
}

// Registry holds the metrics features register.
type Registry struct {
	DB *db.DB
	// Now is the clock and Loc the zone that decide Today.
	Now func() time.Time
	Loc *time.Location

	mu      sync.RWMutex
	metrics map[string]Metric
}

// beijing is China Standard Time (no daylight saving), the default zone.
var beijing = time.FixedZone("Asia/Shanghai", 8*3600)

// New returns an empty registry reading from d; now may be nil for the wall
// clock.
func New(d *db.DB, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{DB: d, Now: now, Loc: beijing, metrics: map[string]Metric{}}
}

// Today is the current civil date in the registry's zone.
func (r *Registry) Today() workday.Date { return workday.FromTime(r.Now(), r.Loc) }

// Register adds metrics; a malformed metric or a code taken already is an
// error and adds none of them.
func (r *Registry) Register(ms ...Metric) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range ms {
		if err := m.check(); err != nil {
			return err
		}
		if _, dup := r.metrics[m.Code]; dup || seen[m.Code] {
			return fmt.Errorf("metric: %s registered twice", m.Code)
		}
		seen[m.Code] = true
	}
	for _, m := range ms {
		r.metrics[m.Code] = m
	}
	return nil
}

// Get returns the metric with code.
func (r *Registry) Get(code string) (Metric, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, ok := r.metrics[code]
	return m, ok
}

// List returns every metric, ordered by code.
func (r *Registry) List() []Metric {
	r.mu.RLock()
	out := make([]Metric, 0, len(r.metrics))
	for _, m := range r.metrics {
		out = append(out, m)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// ErrUnknown is the error for a code nobody registered.
func ErrUnknown(code string) *apperr.Error {
	return apperr.NotFound("metric_not_found", fmt.Sprintf("指标 %q 不存在 / metric %q not found", code, code))
}

// at fills in the day the figures are taken on.
func (r *Registry) at(p Period) Period {
	if p.Today.IsZero() {
		p.Today = r.Today()
	}
	return p
}

// Compute computes one metric for every unit in p. A zero p.Today is taken
// as today.
func (r *Registry) Compute(ctx context.Context, code string, p Period) (Values, error) {
	m, ok := r.Get(code)
	if !ok {
		return nil, ErrUnknown(code)
	}
	return r.compute(ctx, m, r.at(p))
}

func (r *Registry) compute(ctx context.Context, m Metric, p Period) (Values, error) {
	if p.End.Before(p.Start) {
		return nil, fmt.Errorf("metric: %s: period ends %s before it starts %s", m.Code, p.End, p.Start)
	}
	v, err := m.Compute(ctx, r.DB, p)
	if err != nil {
		return nil, fmt.Errorf("metric: compute %s for %s: %w", m.Code, p, err)
	}
	if v == nil {
		v = Values{}
	}
	return v, nil
}

// ComputeAll computes every metric for p, by code.
func (r *Registry) ComputeAll(ctx context.Context, p Period) (map[string]Values, error) {
	p = r.at(p)
	out := map[string]Values{}
	for _, m := range r.List() {
		v, err := r.compute(ctx, m, p)
		if err != nil {
			return nil, err
		}
		out[m.Code] = v
	}
	return out, nil
}

// Percent is 100·num/den, or ok=false when den is 0 (nothing to measure).
func Percent(num, den int64) (float64, bool) {
	if den == 0 {
		return 0, false
	}
	return 100 * float64(num) / float64(den), true
}

// Round rounds x to n decimals.
func Round(x float64, n int) float64 {
	p := math.Pow10(n)
	return math.Round(x*p) / p
}

// Ranked is one unit's figure with its place.
type Ranked struct {
	UnitID int64   `json:"unit_id"`
	Value  float64 `json:"value"`
	// Rank is the competition rank (1, 2, 2, 4) by the metric's direction;
	// 0 for a neutral metric.
	Rank int `json:"rank"`
}

// Rank orders values best first (by unit id for a neutral metric, and to
// break ties) and gives each its competition rank.
func Rank(d Direction, v Values) []Ranked {
	out := make([]Ranked, 0, len(v))
	for id, x := range v {
		out = append(out, Ranked{UnitID: id, Value: x})
	}
	slices.SortFunc(out, func(a, b Ranked) int {
		switch {
		case d.Better(a.Value, b.Value):
			return -1
		case d.Better(b.Value, a.Value):
			return 1
		}
		return cmp.Compare(a.UnitID, b.UnitID)
	})
	if d == Neutral {
		return out
	}
	for i := range out {
		if i > 0 && out[i].Value == out[i-1].Value {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out
}
