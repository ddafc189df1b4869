package appeal

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/db"
)

// Dispatch suggestion: multinomial naive Bayes over segmented words,
// trained on closed orders, predicting the category and the unit.

// nb is one trained classifier.
type nb struct {
	classes []string
	prior   []float64
	words   []map[string]float64 // log P(word | class)
	unseen  []float64            // log P(unknown word | class)
}

type nbTrainer struct {
	docs  map[string]int
	words map[string]map[string]int
	total map[string]int
	vocab map[string]bool
	n     int
}

func newTrainer() *nbTrainer {
	return &nbTrainer{docs: map[string]int{}, words: map[string]map[string]int{}, total: map[string]int{}, vocab: map[string]bool{}}
}

func (t *nbTrainer) add(class string, ws []string) {
	t.n++
	t.docs[class]++
	m := t.words[class]
	if m == nil {
		m = map[string]int{}
		t.words[class] = m
	}
	for _, w := range ws {
		m[w]++
		t.total[class]++
		t.vocab[w] = true
	}
}

func (t *nbTrainer) build() *nb {
	m := &nb{}
	for c := range t.docs {
		m.classes = append(m.classes, c)
	}
	sort.Strings(m.classes)
	v := float64(len(t.vocab) + 1)
	for _, c := range m.classes {
		m.prior = append(m.prior, math.Log(float64(t.docs[c])/float64(t.n)))
		den := float64(t.total[c]) + v
		lw := make(map[string]float64, len(t.words[c]))
		for w, k := range t.words[c] {
			lw[w] = math.Log((float64(k) + 1) / den)
		}
		m.words = append(m.words, lw)
		m.unseen = append(m.unseen, math.Log(1/den))
	}
	return m
}

// Guess is one predicted class with its probability.
type Guess struct {
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
}

func (m *nb) predict(ws []string, k int) []Guess {
	if m == nil || len(m.classes) == 0 {
		return nil
	}
	scores := make([]float64, len(m.classes))
	for i := range m.classes {
		s := m.prior[i]
		for _, w := range ws {
			if p, ok := m.words[i][w]; ok {
				s += p
			} else {
				s += m.unseen[i]
			}
		}
		scores[i] = s
	}
	mx := math.Inf(-1)
	for _, s := range scores {
		mx = math.Max(mx, s)
	}
	sum := 0.0
	for i := range scores {
		scores[i] = math.Exp(scores[i] - mx)
		sum += scores[i]
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	if k > len(idx) {
		k = len(idx)
	}
	out := make([]Guess, k)
	for j := 0; j < k; j++ {
		out[j] = Guess{Code: m.classes[idx[j]], Confidence: math.Round(scores[idx[j]]/sum*1000) / 1000}
	}
	return out
}

type nbModels struct {
	cat, unit *nb
	trained   time.Time
	docs      int
}

type nbCache struct {
	mu sync.Mutex
	m  *nbModels
}

// TrainLimit bounds how many recent closed orders train the suggestion.
const TrainLimit = 30000

type trainDoc struct {
	id      int64
	cat     string
	unit    int64
	content string
}

func closedDocs(ctx context.Context, q db.Querier, limit int) ([]trainDoc, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, category_code, unit_id, content FROM appeals
		WHERE state IN ('resolved','followed','archived') AND unit_id IS NOT NULL ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("appeal: training data: %w", err)
	}
	defer rows.Close()
	var out []trainDoc
	for rows.Next() {
		var d trainDoc
		if err := rows.Scan(&d.id, &d.cat, &d.unit, &d.content); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func train(docs []trainDoc, keep func(trainDoc) bool) *nbModels {
	tc, tu := newTrainer(), newTrainer()
	n := 0
	for _, d := range docs {
		if keep != nil && !keep(d) {
			continue
		}
		ws := Segment(d.content)
		tc.add(d.cat, ws)
		tu.add(fmt.Sprint(d.unit), ws)
		n++
	}
	return &nbModels{cat: tc.build(), unit: tu.build(), docs: n}
}

func (s *Service) models(ctx context.Context) (*nbModels, error) {
	s.model.mu.Lock()
	defer s.model.mu.Unlock()
	if s.model.m != nil && s.Now().Sub(s.model.m.trained) < time.Hour {
		return s.model.m, nil
	}
	docs, err := closedDocs(ctx, s.DB, TrainLimit)
	if err != nil {
		return nil, err
	}
	m := train(docs, nil)
	m.trained = s.Now()
	s.model.m = m
	return m, nil
}

// Suggestion is what the dispatcher sees for one text.
type Suggestion struct {
	Categories []Guess `json:"categories"`
	Units      []Guess `json:"units"`
	// RuleUnit is the unit the dispatch rule gives for the top category
	// and the district, when one matches.
	RuleUnitID *int64 `json:"rule_unit_id,omitempty"`
	TrainedOn  int    `json:"trained_on"`
}

// Suggest predicts category and unit for a text.
func (s *Service) Suggest(ctx context.Context, text, district string) (*Suggestion, error) {
	m, err := s.models(ctx)
	if err != nil {
		return nil, err
	}
	ws := Segment(text)
	out := &Suggestion{Categories: m.cat.predict(ws, 3), Units: m.unit.predict(ws, 3), TrainedOn: m.docs}
	for i := range out.Categories {
		out.Categories[i].Name = s.catName(out.Categories[i].Code)
	}
	if err := s.unitNames(ctx, out.Units); err != nil {
		return nil, err
	}
	if len(out.Categories) > 0 {
		if u, ok, err := s.ruleUnit(ctx, s.DB, out.Categories[0].Code, district); err != nil {
			return nil, err
		} else if ok {
			out.RuleUnitID = &u
		}
	}
	return out, nil
}

func (s *Service) unitNames(ctx context.Context, gs []Guess) error {
	for i := range gs {
		if err := s.DB.QueryRowContext(ctx, `SELECT name FROM units WHERE id = ?`, gs[i].Code).Scan(&gs[i].Name); err != nil {
			gs[i].Name = gs[i].Code
		}
	}
	return nil
}

// Accuracy is the held-out accuracy of the suggestion.
type Accuracy struct {
	Train, Test                int
	CategoryTop1, CategoryTop3 float64
	UnitTop1, UnitTop3         float64
}

// EvaluateSuggestion trains on 90 % of the closed orders (id mod 10 ≠ 0)
// and measures top-1 / top-3 accuracy on the other 10 %.
func (s *Service) EvaluateSuggestion(ctx context.Context, limit int) (Accuracy, error) {
	docs, err := closedDocs(ctx, s.DB, limit)
	if err != nil {
		return Accuracy{}, err
	}
	m := train(docs, func(d trainDoc) bool { return d.id%10 != 0 })
	acc := Accuracy{Train: m.docs}
	var c1, c3, u1, u3 int
	for _, d := range docs {
		if d.id%10 != 0 {
			continue
		}
		acc.Test++
		ws := Segment(d.content)
		for i, g := range m.cat.predict(ws, 3) {
			if g.Code == d.cat {
				c3++
				if i == 0 {
					c1++
				}
			}
		}
		for i, g := range m.unit.predict(ws, 3) {
			if g.Code == fmt.Sprint(d.unit) {
				u3++
				if i == 0 {
					u1++
				}
			}
		}
	}
	if acc.Test > 0 {
		n := float64(acc.Test)
		acc.CategoryTop1, acc.CategoryTop3, acc.UnitTop1, acc.UnitTop3 = float64(c1)/n, float64(c3)/n, float64(u1)/n, float64(u3)/n
	}
	return acc, nil
}
