package assess

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Linear is the share of the way from floor to target (0–1); floor above
// target scores a metric where lower is better. Equal ends give 1 at or
// past the target.
func Linear(v, floor, target float64) float64 {
	if floor == target {
		if (target >= 0 && v >= target) || v == target {
			return 1
		}
		return 0
	}
	return clamp01((v - floor) / (target - floor))
}

// Stepped is the share of the highest step v reaches (steps in any order);
// lower means lower values are better (v at most At).
func Stepped(v float64, steps []Step, lower bool) float64 {
	best := 0.0
	for _, s := range steps {
		if (!lower && v >= s.At) || (lower && v <= s.At) {
			best = math.Max(best, s.Share)
		}
	}
	return clamp01(best)
}

// RankShare scores by place among n: the first gets 1, the last 0, evenly
// between (1 when alone).
func RankShare(rank, n int) float64 {
	if n <= 1 {
		return 1
	}
	return clamp01(1 - float64(rank-1)/float64(n-1))
}

// TrimmedMean is the mean after dropping the highest and the lowest score
// when there are 5 or more.
func TrimmedMean(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	if len(s) >= 5 {
		slices.Sort(s)
		s = s[1 : len(s)-1]
	}
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return sum / float64(len(s)), true
}

// CompetitionRanks gives 1, 2, 2, 4 for scores ordered best first; it
// returns the order (indices into scores) and each index's rank.
func CompetitionRanks(scores []float64, ids []int64) (order []int, rank []int) {
	order = make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := scores[order[a]], scores[order[b]]
		if x != y {
			return x > y
		}
		return ids[order[a]] < ids[order[b]]
	})
	rank = make([]int, len(scores))
	for i, k := range order {
		if i > 0 && scores[k] == scores[order[i-1]] {
			rank[k] = rank[order[i-1]]
		} else {
			rank[k] = i + 1
		}
	}
	return order, rank
}

// GradeThresholds are the least scores for 优秀, 良好 and 一般.
var GradeThresholds = [3]float64{90, 75, 60}

// Grades gives each result (ordered best first) its grade: 优秀 needs a
// score of at least 90, no false declaration, and a place within the quota
// (at most quota % of the units, rounded down); then 良好 from 75, 一般
// from 60, else 较差.
func Grades(rs []Result, quotaPct float64) {
	limit := int(math.Floor(float64(len(rs)) * quotaPct / 100))
	n := 0
	for i := range rs {
		r := &rs[i]
		switch {
		case r.Score >= GradeThresholds[0] && !r.Flagged && n < limit:
			r.Grade = GradeExcellent
			n++
		case r.Score >= GradeThresholds[1]:
			r.Grade = GradeGood
		case r.Score >= GradeThresholds[2]:
			r.Grade = GradeFair
		default:
			r.Grade = GradePoor
		}
	}
}

// Sample draws a reproducible sample of ids: ceil(rate·n), at least one
// when there is any, by a generator seeded with seed and the unit id.
func Sample(ids []int64, rate float64, seed int64, unitID int64) []int64 {
	if len(ids) == 0 {
		return nil
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	k := max(1, int(math.Ceil(rate*float64(len(s)))))
	k = min(k, len(s))
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(unitID)))
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	out := s[:k]
	slices.Sort(out)
	return out
}

// MonthlyScore applies the formula to one unit's values: each term scores
// 0–100 linearly, weighted; terms without a value for the unit (nothing to
// measure) or whose metric is missing are left out and the weights of the
// rest renormalised. ok is false when no term applies.
func MonthlyScore(formula []Term, vals map[string]float64) (score float64, terms []TermScore, ok bool) {
	wsum, sum := 0.0, 0.0
	for _, t := range formula {
		v, has := vals[t.Metric]
		if !has || t.Weight <= 0 {
			continue
		}
		pts := 100 * Linear(v, t.Floor, t.Target)
		terms = append(terms, TermScore{Metric: t.Metric, Value: v, Points: round2(pts), Weight: t.Weight})
		wsum += t.Weight
		sum += t.Weight * pts
	}
	if wsum == 0 {
		return 0, terms, false
	}
	return round2(sum / wsum), terms, true
}

// CheckWeights checks the scheme's weights: level-1 weights sum to 100 and
// each level-1's children sum to their parent's weight. It returns the
// offending sum in the message.
func CheckWeights(cs []Criterion) (field string, zh, en string, ok bool) {
	top := 0.0
	children := map[string]float64{}
	hasChildren := map[string]bool{}
	for _, c := range cs {
		if c.Parent == "" {
			top += c.Weight
		} else {
			children[c.Parent] += c.Weight
			hasChildren[c.Parent] = true
		}
	}
	if math.Abs(top-100) > 1e-6 {
		return "criteria", fmt.Sprintf("一级指标权重之和须为 100，实际为 %g", round2(top)),
			fmt.Sprintf("level-1 criteria weights must sum to 100; they sum to %g", round2(top)), false
	}
	keys := make([]string, 0, len(children))
	for k := range children {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	for _, c := range cs {
		if c.Parent == "" && hasChildren[c.Code] && math.Abs(children[c.Code]-c.Weight) > 1e-6 {
			return "criteria", fmt.Sprintf("一级指标 %s 下二级指标权重之和须为 %g，实际为 %g", c.Code, c.Weight, round2(children[c.Code])),
				fmt.Sprintf("level-2 criteria under %s must sum to its weight %g; they sum to %g", c.Code, c.Weight, round2(children[c.Code])), false
		}
	}
	return "", "", "", true
}
