package benchmark

import (
	"testing"
)

func TestParsePeriodFitsTheFrequency(t *testing.T) {
	cases := []struct {
		f    Frequency
		in   string
		want string
		ok   bool
	}{
		{Quarterly, "2026-Q3", "2026-Q3", true},
		{Quarterly, "2026q1", "2026-Q1", true},
		{Quarterly, "2026年第三季度", "2026-Q3", true},
		{Quarterly, "2026年3季度", "2026-Q3", true},
		{Quarterly, "2026-03", "", false},
		{Quarterly, "2026-Q5", "", false},
		{Monthly, "2026年3月", "2026-03", true},
		{Monthly, "2026-11", "2026-11", true},
		{Monthly, "2026-13", "", false},
		{Monthly, "2026-Q1", "", false},
		{HalfYear, "2026年上半年", "2026-H1", true},
		{HalfYear, "2026-h2", "2026-H2", true},
		{HalfYear, "2026", "", false},
		{Yearly, "2026年", "2026", true},
		{Yearly, "2026-01", "", false},
		{Yearly, "abcd", "", false},
	}
	for _, c := range cases {
		got, ok := ParsePeriod(c.f, c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParsePeriod(%s, %q) = %q, %v; want %q, %v", c.f, c.in, got, ok, c.want, c.ok)
		}
	}
	if got := LastPeriods(Quarterly, "2026-Q2", 3); len(got) != 3 || got[0] != "2025-Q4" || got[2] != "2026-Q2" {
		t.Errorf("LastPeriods = %v", got)
	}
	if s, e := PeriodSpan(Quarterly, "2026-Q4"); s.String() != "2026-10-01" || e.String() != "2026-12-31" {
		t.Errorf("span Q4 = %s..%s", s, e)
	}
	if s, e := PeriodSpan(Monthly, "2026-02"); s.String() != "2026-02-01" || e.String() != "2026-02-28" {
		t.Errorf("span Feb = %s..%s", s, e)
	}
}

func TestParseValueReadsWhatPeopleType(t *testing.T) {
	for in, want := range map[string]float64{"95%": 95, "95.5 %": 95.5, "1,234.5": 1234.5, "９５": 95, " 3 ": 3, "-2": -2, "95％": 95} {
		got, ok := ParseValue(in)
		if !ok || got != want {
			t.Errorf("ParseValue(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "abc", "九十五", "1.2.3", "NaN", "Inf"} {
		if _, ok := ParseValue(in); ok {
			t.Errorf("ParseValue(%q) accepted", in)
		}
	}
}

func TestGapsRankAndMeasureDistanceToTheBest(t *testing.T) {
	peer := func(id int64) Subject { return Subject{Kind: SubjectPeer, ID: id} }
	rows := Gaps(HigherBetter, []Value{{Us, 80}, {peer(1), 100}, {peer(2), 90}, {peer(3), 90}})
	want := []struct {
		sub     string
		rank    int
		gap, gp float64
	}{{"peer:1", 1, 0, 0}, {"peer:2", 2, 10, 10}, {"peer:3", 2, 10, 10}, {"us", 4, 20, 20}}
	for i, w := range want {
		r := rows[i]
		if r.Subject != w.sub || r.Rank != w.rank || r.Gap != w.gap || r.GapPct != w.gp {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	if !rows[3].IsUs {
		t.Error("us row not marked is_us")
	}
	// Lower is better: value − best, relative to |best|.
	rows = Gaps(LowerBetter, []Value{{Us, 3}, {peer(1), 2}})
	if rows[0].Subject != "peer:1" || rows[1].Gap != 1 || rows[1].GapPct != 50 || rows[1].Rank != 2 {
		t.Errorf("lower better = %+v", rows)
	}
	// A best of 0 gives no percentage rather than a division by zero.
	rows = Gaps(LowerBetter, []Value{{Us, 3}, {peer(1), 0}})
	if rows[1].Gap != 3 || rows[1].GapPct != 0 {
		t.Errorf("best 0 = %+v", rows)
	}
}

func series(vals map[string]map[Subject]float64, periods ...string) Series {
	return Series{Periods: periods, Values: vals}
}

func TestStageOfTellsTheFourStages(t *testing.T) {
	p1, p2 := Subject{Kind: SubjectPeer, ID: 1}, Subject{Kind: SubjectPeer, ID: 2}
	// No peer values: seek.
	st, _ := StageOf(HigherBetter, series(map[string]map[Subject]float64{"2026-Q1": {Us: 80}}, "2026-Q1"), 0, 2)
	if st != StageSeek {
		t.Errorf("no peers: %s", st)
	}
	// Behind the chosen peer: compare.
	s := series(map[string]map[Subject]float64{"2026-Q1": {Us: 80, p1: 90, p2: 85}}, "2026-Q1")
	if st, _ := StageOf(HigherBetter, s, 2, 2); st != StageCompare {
		t.Errorf("behind: %s", st)
	}
	// Past the chosen peer (2) but not the best (1): attain.
	s.Values["2026-Q2"] = map[Subject]float64{Us: 86, p1: 90, p2: 85}
	s.Periods = append(s.Periods, "2026-Q2")
	if st, p := StageOf(HigherBetter, s, 2, 2); st != StageAttain || p != "2026-Q2" {
		t.Errorf("past chosen: %s %s", st, p)
	}
	// Best of all once: attain; twice in a row: lead.
	s.Values["2026-Q3"] = map[Subject]float64{Us: 95, p1: 90}
	s.Periods = append(s.Periods, "2026-Q3")
	if st, _ := StageOf(HigherBetter, s, 2, 2); st != StageAttain {
		t.Errorf("best once: %s", st)
	}
	s.Values["2026-Q4"] = map[Subject]float64{Us: 96, p1: 91, p2: 90}
	s.Periods = append(s.Periods, "2026-Q4")
	if st, _ := StageOf(HigherBetter, s, 2, 2); st != StageLead {
		t.Errorf("best twice: %s", st)
	}
	if st, _ := StageOf(HigherBetter, s, 2, 3); st != StageAttain {
		t.Errorf("N=3 after two best periods: %s", st)
	}
	// Lower is better reverses it.
	s = series(map[string]map[Subject]float64{"2026": {Us: 2, p1: 3}, "2027": {Us: 2, p1: 2.5}}, "2026", "2027")
	if st, _ := StageOf(LowerBetter, s, 1, 2); st != StageLead {
		t.Errorf("lower better lead: %s", st)
	}
}

func TestTrendSaysWhetherWeCloseIn(t *testing.T) {
	p1 := Subject{Kind: SubjectPeer, ID: 1}
	s := series(map[string]map[Subject]float64{
		"2026-Q1": {Us: 70, p1: 90}, "2026-Q2": {Us: 76, p1: 91}, "2026-Q3": {Us: 82, p1: 92}}, "2026-Q1", "2026-Q2", "2026-Q3")
	tr := TrendOf(HigherBetter, s, []string{"2026-Q1", "2026-Q2", "2026-Q3"})
	if !tr.Closing || tr.OurRate != 6 || tr.BestRate != 1 || *tr.Gap[2] != 10 {
		t.Errorf("trend = %+v", tr)
	}
	// The best running away: not closing.
	s.Values["2026-Q3"][p1] = 110
	if tr := TrendOf(HigherBetter, s, []string{"2026-Q1", "2026-Q2", "2026-Q3"}); tr.Closing {
		t.Errorf("best moves faster, yet closing: %+v", tr)
	}
}

func TestProgressAndScore(t *testing.T) {
	if p := Progress(80, 90, 85); p != 50 {
		t.Errorf("progress = %v", p)
	}
	if p := Progress(5, 3, 4.5); p != 25 {
		t.Errorf("lower-better progress = %v", p)
	}
	us := 80.0
	if sc, ok := Score(HigherBetter, &us, []float64{100, 90}); !ok || sc != 80 {
		t.Errorf("score = %v %v", sc, ok)
	}
	if sc, ok := Score(HigherBetter, &us, []float64{70}); !ok || sc != 100 {
		t.Errorf("score when best = %v", sc)
	}
	if _, ok := Score(HigherBetter, nil, []float64{70}); ok {
		t.Error("score without our value")
	}
	if rollUp(map[Stage]int{StageSeek: 1, StageCompare: 1, StageAttain: 2, StageLead: 1}) != StageAttain {
		t.Error("roll-up: 3 of 5 at attain or beyond should be attain")
	}
}
