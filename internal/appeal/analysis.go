package appeal

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// 大数据分析研判. Trends, top lists, the district heat map and the unit
// league read only the rollups. Spikes read the rollups too. Repeats, hot
// words and clusters read the orders of a bounded recent window.

// The spike rule, stated on the page and in the API.
const (
	SpikeBaselineDays = 28
	SpikeSigma        = 3.0
	SpikeMinCount     = 10
	SpikeMinRatio     = 3.0
)

// SpikeRule is the rule in words.
var SpikeRule = [2]string{
	fmt.Sprintf("某分类在某区县当日件数 ≥ %d，且 ≥ 前 %d 天日均 + %.0f × 标准差，且 ≥ 前 %d 天日均的 %.0f 倍，即判为突增。", SpikeMinCount, SpikeBaselineDays, SpikeSigma, SpikeBaselineDays, SpikeMinRatio),
	fmt.Sprintf("A category in a district spikes on a day when its count is ≥ %d, ≥ the trailing %d-day mean + %.0f standard deviations, and ≥ %.0f × that mean.", SpikeMinCount, SpikeBaselineDays, SpikeSigma, SpikeMinRatio),
}

// Range is an analysis period.
type Range struct{ From, To workday.Date }

func (s *Service) rangeOf(r *http.Request, defDays, maxDays int) (Range, error) {
	from, err := dateParam(r, "from")
	if err != nil {
		return Range{}, err
	}
	to, err := dateParam(r, "to")
	if err != nil {
		return Range{}, err
	}
	if to.IsZero() {
		to = s.Today()
	}
	if from.IsZero() {
		from = to.AddDays(-(defDays - 1))
	}
	if from.After(to) {
		return Range{}, apperr.Invalid("from", "from 不能晚于 to / from must not be after to")
	}
	if to.Sub(from) >= maxDays {
		return Range{}, apperr.Invalid("from", fmt.Sprintf("时间范围最多 %d 天 / the range is at most %d days", maxDays, maxDays))
	}
	return Range{from, to}, nil
}

// ---- rollup pages ----

// TrendPoint is one period of the trend.
type TrendPoint struct {
	Period   string `json:"period"`
	Received int64  `json:"received"`
	Resolved int64  `json:"resolved"`
}

// Trends sums the rollup by day (or month for long ranges).
func (s *Service) Trends(ctx context.Context, rg Range, category, district string) ([]TrendPoint, error) {
	key := "day"
	if rg.To.Sub(rg.From) > 120 {
		key = "SUBSTR(day, 1, 7)"
	}
	q := `SELECT ` + key + ` AS p, SUM(received), SUM(resolved) FROM appeal_rollup_dim WHERE dim = ? AND day >= ? AND day <= ?`
	var args []any
	switch {
	case category != "" && district != "":
		q += ` AND key LIKE ? AND key LIKE ?`
		args = []any{"catdist", rg.From.String(), rg.To.String(), category + "%", "%|" + district}
	case category != "":
		q += ` AND key LIKE ?`
		args = []any{"cat", rg.From.String(), rg.To.String(), category + "%"}
	case district != "":
		q += ` AND key = ?`
		args = []any{"district", rg.From.String(), rg.To.String(), district}
	default:
		args = []any{"all", rg.From.String(), rg.To.String()}
	}
	rows, err := s.DB.QueryContext(ctx, q+` GROUP BY `+key+` ORDER BY 1`, args...)
	if err != nil {
		return nil, fmt.Errorf("appeal: trends: %w", err)
	}
	defer rows.Close()
	out := []TrendPoint{}
	for rows.Next() {
		var p TrendPoint
		if err := rows.Scan(&p.Period, &p.Received, &p.Resolved); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Count is a named count.
type Count struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	Count int64  `json:"count"`
}

// TopCategories and TopStreets rank by received orders in the range.
func (s *Service) TopCategories(ctx context.Context, rg Range, n int) ([]Count, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT key, SUM(received) FROM appeal_rollup_dim WHERE dim = 'cat' AND day >= ? AND day <= ? GROUP BY key ORDER BY 2 DESC, 1 LIMIT ?`,
		rg.From.String(), rg.To.String(), n)
	if err != nil {
		return nil, fmt.Errorf("appeal: top categories: %w", err)
	}
	defer rows.Close()
	out := []Count{}
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Key, &c.Count); err != nil {
			return nil, err
		}
		cat, _ := s.Category(c.Key)
		c.Name = cat.Name
		c.Group = s.catName(cat.ParentCode)
		out = append(out, c)
	}
	return out, rows.Err()
}

// TopStreets ranks streets.
func (s *Service) TopStreets(ctx context.Context, rg Range, n int) ([]Count, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT district, street, SUM(received) FROM appeal_rollup_street WHERE day >= ? AND day <= ? GROUP BY district, street ORDER BY 3 DESC, 2 LIMIT ?`,
		rg.From.String(), rg.To.String(), n)
	if err != nil {
		return nil, fmt.Errorf("appeal: top streets: %w", err)
	}
	defer rows.Close()
	out := []Count{}
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Group, &c.Name, &c.Count); err != nil {
			return nil, err
		}
		c.Key = c.Group + "/" + c.Name
		out = append(out, c)
	}
	return out, rows.Err()
}

// Stats are aggregate figures of a district or a unit.
type Stats struct {
	Key          string  `json:"key"`
	Name         string  `json:"name"`
	Received     int64   `json:"received"`
	Resolved     int64   `json:"resolved"`
	OnTimeRate   float64 `json:"on_time_rate"`
	Satisfaction float64 `json:"satisfaction_rate"`
	AvgHours     float64 `json:"avg_handling_hours"`
	Rank         int     `json:"rank,omitempty"`
	Heat         float64 `json:"heat,omitempty"`
	HeatLevel    int     `json:"-"`
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*1000) / 10
}

func (s *Service) stats(ctx context.Context, rg Range, dim string) ([]Stats, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT key, SUM(received), SUM(resolved), SUM(on_time), SUM(followed), SUM(satisfied), SUM(handle_seconds)
		FROM appeal_rollup_dim WHERE dim = ? AND day >= ? AND day <= ? GROUP BY key`, dim, rg.From.String(), rg.To.String())
	if err != nil {
		return nil, fmt.Errorf("appeal: stats: %w", err)
	}
	defer rows.Close()
	out := []Stats{}
	for rows.Next() {
		var st Stats
		var onTime, followed, satisfied, secs int64
		if err := rows.Scan(&st.Key, &st.Received, &st.Resolved, &onTime, &followed, &satisfied, &secs); err != nil {
			return nil, err
		}
		st.OnTimeRate, st.Satisfaction = pct(onTime, st.Resolved), pct(satisfied, followed)
		if st.Resolved > 0 {
			st.AvgHours = math.Round(float64(secs)/float64(st.Resolved)/360) / 10
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// DistrictStats is the heat map: orders per district, heat 0–1.
func (s *Service) DistrictStats(ctx context.Context, rg Range) ([]Stats, error) {
	st, err := s.stats(ctx, rg, "district")
	if err != nil {
		return nil, err
	}
	var mx int64
	for _, x := range st {
		mx = max(mx, x.Received)
	}
	out := st[:0]
	for _, x := range st {
		if x.Key == "" {
			x.Name = "（未注明区县）"
		} else {
			x.Name = x.Key
		}
		if mx > 0 {
			x.Heat = math.Round(float64(x.Received)/float64(mx)*100) / 100
			x.HeatLevel = int(x.Heat * 5)
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Received > out[j].Received })
	return out, nil
}

// League ranks the handling units by on-time rate, then satisfaction.
func (s *Service) League(ctx context.Context, rg Range) ([]Stats, error) {
	st, err := s.stats(ctx, rg, "unit")
	if err != nil {
		return nil, err
	}
	names, err := s.unitNameMap(ctx)
	if err != nil {
		return nil, err
	}
	out := st[:0]
	for _, x := range st {
		if x.Key == "0" {
			continue
		}
		x.Name = names[x.Key]
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OnTimeRate != out[j].OnTimeRate {
			return out[i].OnTimeRate > out[j].OnTimeRate
		}
		if out[i].Satisfaction != out[j].Satisfaction {
			return out[i].Satisfaction > out[j].Satisfaction
		}
		return out[i].Received > out[j].Received
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out, nil
}

func (s *Service) unitNameMap(ctx context.Context) (map[string]string, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name FROM units`)
	if err != nil {
		return nil, fmt.Errorf("appeal: units: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		m[fmt.Sprint(id)] = n
	}
	return m, rows.Err()
}

// ---- spikes ----

// Spike is a detected surge with its evidence.
type Spike struct {
	Day          string   `json:"day"`
	CategoryCode string   `json:"category_code"`
	CategoryName string   `json:"category_name"`
	District     string   `json:"district"`
	Count        int64    `json:"count"`
	BaselineMean float64  `json:"baseline_mean"`
	BaselineSD   float64  `json:"baseline_sd"`
	Threshold    float64  `json:"threshold"`
	Z            float64  `json:"z"`
	Baseline     []int64  `json:"baseline"`
	Samples      []string `json:"samples"`
	Rule         string   `json:"rule"`
}

// Spikes checks every day of rg against its trailing 28 days, per
// category and district, from the rollup.
func (s *Service) Spikes(ctx context.Context, rg Range, lang string) ([]Spike, error) {
	start := rg.From.AddDays(-SpikeBaselineDays)
	rows, err := s.DB.QueryContext(ctx, `SELECT day, key, received FROM appeal_rollup_dim WHERE dim = 'catdist' AND day >= ? AND day <= ?`, start.String(), rg.To.String())
	if err != nil {
		return nil, fmt.Errorf("appeal: spikes: %w", err)
	}
	series := map[string][]int64{}
	n := rg.To.Sub(start) + 1
	dayIdx := make(map[string]int, n)
	for i := 0; i < n; i++ {
		dayIdx[start.AddDays(i).String()] = i
	}
	var day, dk string
	var c int64
	for rows.Next() {
		if err := rows.Scan(&day, &dk, &c); err != nil {
			rows.Close()
			return nil, err
		}
		i, ok := dayIdx[day]
		if !ok {
			continue
		}
		ser := series[dk]
		if ser == nil {
			ser = make([]int64, n)
			series[dk] = ser
		}
		ser[i] += c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rule := SpikeRule[1]
	if web.NormLang(lang) != "en" {
		rule = SpikeRule[0]
	}
	out := []Spike{}
	for dk, ser := range series {
		cat, district, _ := strings.Cut(dk, "|")
		for i := SpikeBaselineDays; i < n; i++ {
			c := ser[i]
			if c < SpikeMinCount {
				continue
			}
			base := ser[i-SpikeBaselineDays : i]
			var sum float64
			for _, x := range base {
				sum += float64(x)
			}
			mean := sum / SpikeBaselineDays
			var v float64
			for _, x := range base {
				v += (float64(x) - mean) * (float64(x) - mean)
			}
			sd := math.Sqrt(v / SpikeBaselineDays)
			th := math.Max(mean+SpikeSigma*sd, SpikeMinRatio*mean)
			if float64(c) < th {
				continue
			}
			z := 0.0
			if sd > 0 {
				z = (float64(c) - mean) / sd
			}
			day := start.AddDays(i)
			out = append(out, Spike{Day: day.String(), CategoryCode: cat, CategoryName: s.catName(cat), District: district, Count: c,
				BaselineMean: math.Round(mean*100) / 100, BaselineSD: math.Round(sd*100) / 100, Threshold: math.Round(th*100) / 100,
				Z: math.Round(z*10) / 10, Baseline: append([]int64(nil), base...), Rule: rule})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day > out[j].Day
		}
		return out[i].Count > out[j].Count
	})
	if len(out) > 200 {
		out = out[:200]
	}
	for i := range out {
		sp := &out[i]
		d, _ := workday.ParseDate(sp.Day)
		rows, err := s.DB.QueryContext(ctx, `SELECT number FROM appeals WHERE category_code = ? AND district = ? AND received_at >= ? AND received_at < ? ORDER BY id LIMIT 5`,
			sp.CategoryCode, sp.District, d.Time(loc).UTC(), d.AddDays(1).Time(loc).UTC())
		if err != nil {
			return nil, fmt.Errorf("appeal: spike samples: %w", err)
		}
		for rows.Next() {
			var num string
			if err := rows.Scan(&num); err == nil {
				sp.Samples = append(sp.Samples, num)
			}
		}
		rows.Close()
	}
	return out, nil
}

// ---- windows of orders ----

type doc struct {
	id                    int64
	number, cat, district string
	street, address       string
	phoneHash, phoneMask  string
	unit                  int64
	sim                   uint64
	content               string
	received              time.Time
}

// WindowLimit bounds how many recent orders one window analysis reads.
const WindowLimit = 60000

func (s *Service) window(ctx context.Context, rg Range, withContent bool) ([]doc, error) {
	content := "''"
	if withContent {
		content = "a.content"
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT a.id, a.number, a.category_code, a.district, a.street, a.address, a.phone_hash, a.citizen_phone_mask,
		COALESCE(a.unit_id, 0), a.simhash, `+content+`, a.received_at FROM appeals a WHERE a.received_at >= ? AND a.received_at < ? AND a.state <> 'merged'
		ORDER BY a.received_at DESC LIMIT ?`, rg.From.Time(loc).UTC(), rg.To.AddDays(1).Time(loc).UTC(), WindowLimit)
	if err != nil {
		return nil, fmt.Errorf("appeal: window: %w", err)
	}
	defer rows.Close()
	var out []doc
	for rows.Next() {
		var d doc
		var sim int64
		if err := rows.Scan(&d.id, &d.number, &d.cat, &d.district, &d.street, &d.address, &d.phoneHash, &d.phoneMask, &d.unit, &sim, &d.content, &d.received); err != nil {
			return nil, err
		}
		d.sim = uint64(sim)
		out = append(out, d)
	}
	// Oldest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

// ---- repeats ----

// Repeat is a group of orders from the same phone, the same address or
// with near-identical text within the window.
type Repeat struct {
	Kind     string   `json:"kind"` // phone, address, text
	Key      string   `json:"key"`  // masked phone, the address, or the first order's text
	Count    int      `json:"count"`
	Numbers  []string `json:"numbers"`
	IDs      []int64  `json:"ids"`
	First    string   `json:"first"`
	Last     string   `json:"last"`
	Category string   `json:"category"`
}

// SimilarBits is the SimHash distance under which two texts count as the
// same complaint.
const SimilarBits = 3

// Repeats finds repeated appeals in the window ending at rg.To.
func (s *Service) Repeats(ctx context.Context, rg Range, limit int) ([]Repeat, error) {
	docs, err := s.window(ctx, rg, false)
	if err != nil {
		return nil, err
	}
	groups := map[string][]int{}
	for i, d := range docs {
		if d.phoneHash != "" {
			groups["phone\x00"+d.phoneHash] = append(groups["phone\x00"+d.phoneHash], i)
		}
		if a := strings.TrimSpace(d.district + d.street + d.address); d.address != "" {
			groups["address\x00"+a] = append(groups["address\x00"+a], i)
		}
	}
	for li, members := range simGroups(docs, SimilarBits) {
		if len(members) > 1 {
			groups[fmt.Sprintf("text\x00%d", li)] = members
		}
	}
	out := []Repeat{}
	for k, m := range groups {
		if len(m) < 2 {
			continue
		}
		kind, key, _ := strings.Cut(k, "\x00")
		d0 := docs[m[0]]
		switch kind {
		case "phone":
			key = d0.phoneMask
		case "text":
			key = d0.number
		}
		rp := Repeat{Kind: kind, Key: key, Count: len(m), First: d0.received.UTC().Format(time.RFC3339), Last: docs[m[len(m)-1]].received.UTC().Format(time.RFC3339),
			Category: s.catName(d0.cat)}
		for j, i := range m {
			if j < 50 {
				rp.Numbers = append(rp.Numbers, docs[i].number)
				rp.IDs = append(rp.IDs, docs[i].id)
			}
		}
		out = append(out, rp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind+out[i].Key < out[j].Kind+out[j].Key
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// simGroups clusters docs by SimHash around leaders (no chaining): four
// 16-bit bands find candidates; a doc joins the first leader within bits.
func simGroups(docs []doc, bitsMax int) [][]int {
	var leaders []int
	var members [][]int
	bands := [4]map[uint16][]int{{}, {}, {}, {}}
	for i, d := range docs {
		best := -1
		for b := 0; b < 4 && best < 0; b++ {
			for _, li := range bands[b][uint16(d.sim>>(16*b))] {
				if Hamming(docs[leaders[li]].sim, d.sim) <= bitsMax {
					best = li
					break
				}
			}
		}
		if best >= 0 {
			members[best] = append(members[best], i)
			continue
		}
		li := len(leaders)
		leaders = append(leaders, i)
		members = append(members, []int{i})
		for b := 0; b < 4; b++ {
			k := uint16(d.sim >> (16 * b))
			bands[b][k] = append(bands[b][k], li)
		}
	}
	return members
}

// ---- clusters ----

// Cluster is a systemic-problem candidate: many similar appeals across
// several streets or units.
type Cluster struct {
	Key        string   `json:"key"`
	Size       int      `json:"size"`
	Streets    []string `json:"streets"`
	Districts  []string `json:"districts"`
	Units      int      `json:"units"`
	Categories []string `json:"categories"`
	TopWords   []string `json:"top_words"`
	Example    string   `json:"example"`
	Numbers    []string `json:"numbers"`
	IDs        []int64  `json:"ids"`
	First      string   `json:"first"`
	Last       string   `json:"last"`
	TaskID     *int64   `json:"task_id,omitempty"`
	IDList     string   `json:"-"`
}

// Cluster thresholds.
const (
	ClusterJaccard    = 0.7
	ClusterMinSize    = 30
	ClusterMinStreets = 3
)

// Clusters finds the systemic-problem candidates in the window: orders
// whose word sets (segmented, place names left out) have a Jaccard
// similarity ≥ ClusterJaccard with a cluster's first order, found through
// MinHash LSH.
func (s *Service) Clusters(ctx context.Context, rg Range) ([]Cluster, error) {
	docs, err := s.window(ctx, rg, true)
	if err != nil {
		return nil, err
	}
	groups := jaccardGroups(docs, ClusterJaccard)
	out := []Cluster{}
	for _, m := range groups {
		if len(m) < ClusterMinSize {
			continue
		}
		streets, districts, units, cats := map[string]bool{}, map[string]bool{}, map[int64]bool{}, map[string]int{}
		for _, i := range m {
			d := docs[i]
			if d.street != "" {
				streets[d.district+d.street] = true
			}
			if d.district != "" {
				districts[d.district] = true
			}
			if d.unit != 0 {
				units[d.unit] = true
			}
			cats[d.cat]++
		}
		if len(streets) < ClusterMinStreets && len(units) < 2 {
			continue
		}
		c := Cluster{Key: docs[m[0]].number, Size: len(m), Units: len(units), Streets: keys(streets), Districts: keys(districts),
			First: docs[m[0]].received.UTC().Format(time.RFC3339), Last: docs[m[len(m)-1]].received.UTC().Format(time.RFC3339)}
		for cat := range cats {
			c.Categories = append(c.Categories, s.catName(cat))
		}
		sort.Strings(c.Categories)
		for _, i := range m {
			c.IDs = append(c.IDs, docs[i].id)
			if len(c.Numbers) < 20 {
				c.Numbers = append(c.Numbers, docs[i].number)
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Size > out[j].Size })
	if len(out) > 50 {
		out = out[:50]
	}
	// Evidence: the example text and the words the members share.
	for i := range out {
		c := &out[i]
		var tasks []int64
		texts, err := s.contents(ctx, c.IDs, 30)
		if err != nil {
			return nil, err
		}
		if len(texts) > 0 {
			c.Example = texts[0].content
		}
		freq := map[string]int{}
		for _, t := range texts {
			seen := map[string]bool{}
			for _, w := range Segment(t.content) {
				if !seen[w] && len([]rune(w)) > 1 {
					seen[w] = true
					freq[w]++
				}
			}
			if t.task != 0 {
				tasks = append(tasks, t.task)
			}
		}
		c.TopWords = topN(freq, 8, len(texts)*2/3)
		ids := make([]string, len(c.IDs))
		for j, id := range c.IDs {
			ids[j] = fmt.Sprint(id)
		}
		c.IDList = strings.Join(ids, ",")
		if len(tasks) > 0 {
			c.TaskID = &tasks[0]
		}
	}
	return out, nil
}

type content struct {
	content string
	task    int64
}

func (s *Service) contents(ctx context.Context, ids []int64, n int) ([]content, error) {
	if len(ids) > n {
		ids = ids[:n]
	}
	if len(ids) == 0 {
		return nil, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "?", id
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT content, COALESCE(task_id, 0) FROM appeals WHERE id IN (`+strings.Join(ph, ",")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("appeal: contents: %w", err)
	}
	defer rows.Close()
	var out []content
	for rows.Next() {
		var c content
		if err := rows.Scan(&c.content, &c.task); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func topN(freq map[string]int, n, minCount int) []string {
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range freq {
		if v >= minCount {
			l = append(l, kv{k, v})
		}
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].v != l[j].v {
			return l[i].v > l[j].v
		}
		return l[i].k < l[j].k
	})
	var out []string
	for i := 0; i < len(l) && i < n; i++ {
		out = append(out, l[i].k)
	}
	return out
}

// ---- hot words ----

// HotWord is a frequent word of the period with its growth.
type HotWord struct {
	Word     string   `json:"word"`
	Count    int      `json:"count"`
	Previous int      `json:"previous"`
	Growth   float64  `json:"growth"`
	Samples  []string `json:"samples"`
}

// boilerplate are the words of any appeal (how it was filed, how long,
// what is asked): not topics.
var boilerplate = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range [][]string{prefixes, durations, demands} {
		for _, s := range l {
			for _, w := range strings.Fields(s) {
				m[w] = true
			}
		}
	}
	for _, w := range strings.Fields("问题 情况 小区 居民 反映 处理 解决") {
		m[w] = true
	}
	return m
}()

var placeWords = func() map[string]bool {
	m := map[string]bool{}
	for _, d := range Districts {
		m[d.Name] = true
		for _, s := range d.Streets {
			m[s] = true
		}
	}
	for _, e := range estates {
		for _, w := range strings.Fields(e) {
			m[w] = true
		}
	}
	return m
}()

// HotWords counts the words of the period's orders (one count per order)
// and compares with the period before.
func (s *Service) HotWords(ctx context.Context, rg Range, n int) ([]HotWord, error) {
	count := func(r Range, samples map[string][]string) (map[string]int, error) {
		docs, err := s.window(ctx, r, true)
		if err != nil {
			return nil, err
		}
		freq := map[string]int{}
		for _, d := range docs {
			seen := map[string]bool{}
			for _, w := range Segment(d.content) {
				if seen[w] || placeWords[w] || boilerplate[w] || len([]rune(w)) < 2 {
					continue
				}
				seen[w] = true
				freq[w]++
				if samples != nil && len(samples[w]) < 3 {
					samples[w] = append(samples[w], d.number)
				}
			}
		}
		return freq, nil
	}
	samples := map[string][]string{}
	cur, err := count(rg, samples)
	if err != nil {
		return nil, err
	}
	days := rg.To.Sub(rg.From) + 1
	prev, err := count(Range{rg.From.AddDays(-days), rg.From.AddDays(-1)}, nil)
	if err != nil {
		return nil, err
	}
	out := []HotWord{}
	for _, w := range topN(cur, n, 2) {
		h := HotWord{Word: w, Count: cur[w], Previous: prev[w], Samples: samples[w]}
		if h.Previous > 0 {
			h.Growth = math.Round(float64(h.Count-h.Previous)/float64(h.Previous)*1000) / 10
		}
		out = append(out, h)
	}
	return out, nil
}

// ---- API ----

func (s *Service) apiTrends(w http.ResponseWriter, r *http.Request) error {
	rg, err := s.rangeOf(r, 90, 800)
	if err != nil {
		return err
	}
	pts, err := s.Trends(r.Context(), rg, r.URL.Query().Get("category"), r.URL.Query().Get("district"))
	if err != nil {
		return err
	}
	return web.WriteList(w, pts, len(pts))
}

func (s *Service) apiTop(w http.ResponseWriter, r *http.Request) error {
	rg, err := s.rangeOf(r, 30, 800)
	if err != nil {
		return err
	}
	n, err := intParam(r, "n", 10, 1, 100)
	if err != nil {
		return err
	}
	var items []Count
	switch r.URL.Query().Get("by") {
	case "", "category":
		items, err = s.TopCategories(r.Context(), rg, n)
	case "street":
		items, err = s.TopStreets(r.Context(), rg, n)
	default:
		return apperr.Invalid("by", "by 须为 category 或 street / by must be category or street")
	}
	if err != nil {
		return err
	}
	return web.WriteList(w, items, len(items))
}

func (s *Service) apiDistricts(w http.ResponseWriter, r *http.Request) error {
	rg, err := s.rangeOf(r, 30, 800)
	if err != nil {
		return err
	}
	items, err := s.DistrictStats(r.Context(), rg)
	if err != nil {
		return err
	}
	return web.WriteList(w, items, len(items))
}

func (s *Service) apiLeague(w http.ResponseWriter, r *http.Request) error {
	rg, err := s.rangeOf(r, 30, 800)
	if err != nil {
		return err
	}
	items, err := s.League(r.Context(), rg)
	if err != nil {
		return err
	}
	return web.WriteList(w, items, len(items))
}

func (s *Service) apiSpikes(w http.ResponseWriter, r *http.Request) error {
	rg, err := s.rangeOf(r, 7, 800)
	if err != nil {
		return err
	}
	items, err := s.cachedSpikes(r.Context(), rg, web.Lang(r.Context()))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "total": len(items), "rule": SpikeRule[0], "rule_en": SpikeRule[1]})
}

func (s *Service) apiHotWords(w http.ResponseWriter, r *http.Request) error {
	rg, err := s.rangeOf(r, 7, 31)
	if err != nil {
		return err
	}
	n, err := intParam(r, "n", 30, 1, 200)
	if err != nil {
		return err
	}
	items, err := cachedAs(s, fmt.Sprintf("hot %s%s %d", rg.From, rg.To, n), func() ([]HotWord, error) { return s.HotWords(r.Context(), rg, n) })
	if err != nil {
		return err
	}
	return web.WriteList(w, items, len(items))
}

func (s *Service) apiRepeats(w http.ResponseWriter, r *http.Request) error {
	days, err := intParam(r, "days", DefaultRepeatWindow, 1, 90)
	if err != nil {
		return err
	}
	to, err := dateParam(r, "to")
	if err != nil {
		return err
	}
	if to.IsZero() {
		to = s.Today()
	}
	rg := Range{to.AddDays(-(days - 1)), to}
	items, err := cachedAs(s, "repeats "+rg.From.String()+rg.To.String(), func() ([]Repeat, error) { return s.Repeats(r.Context(), rg, 200) })
	if err != nil {
		return err
	}
	return web.WriteList(w, items, len(items))
}

func (s *Service) apiClusters(w http.ResponseWriter, r *http.Request) error {
	rg, err := s.rangeOf(r, 90, 180)
	if err != nil {
		return err
	}
	items, err := cachedAs(s, "clusters "+rg.From.String()+rg.To.String(), func() ([]Cluster, error) { return s.Clusters(r.Context(), rg) })
	if err != nil {
		return err
	}
	return web.WriteList(w, items, len(items))
}

// wordSet is the sorted set of a text's word hashes, place names left out.
func wordSet(text string) []uint64 {
	var out []uint64
	for _, w := range Segment(text) {
		if !placeWords[w] {
			out = append(out, fnv64(w))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func jaccard(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(n) / float64(len(a)+len(b)-n)
}

const (
	mhBands = 6
	mhRows  = 4
	// mhScan bounds how many leaders of one bucket a doc is checked against.
	mhScan = 16
)

func minhash(set []uint64) [mhBands * mhRows]uint64 {
	var sig [mhBands * mhRows]uint64
	for i := range sig {
		sig[i] = ^uint64(0)
	}
	for _, h := range set {
		for i := range sig {
			x := (h ^ (uint64(i+1) * 0x9e3779b97f4a7c15)) * 0xbf58476d1ce4e5b9
			x ^= x >> 31
			if x < sig[i] {
				sig[i] = x
			}
		}
	}
	return sig
}

// jaccardGroups clusters docs around leaders (no chaining): MinHash bands
// find candidate leaders; a doc joins the first whose Jaccard ≥ th.
func jaccardGroups(docs []doc, th float64) [][]int {
	type leader struct {
		set     []uint64
		members []int
	}
	var leaders []*leader
	var tried []int // tried[leader] = doc index + 1 when already compared
	var bands [mhBands]map[[mhRows]uint64][]int
	for b := range bands {
		bands[b] = map[[mhRows]uint64][]int{}
	}
	for i, d := range docs {
		set := wordSet(d.content)
		sig := minhash(set)
		best := -1
		for b := 0; b < mhBands && best < 0; b++ {
			var k [mhRows]uint64
			copy(k[:], sig[b*mhRows:(b+1)*mhRows])
			bucket := bands[b][k]
			for j := len(bucket) - 1; j >= 0 && j >= len(bucket)-mhScan; j-- {
				li := bucket[j]
				if tried[li] == i+1 {
					continue
				}
				tried[li] = i + 1
				if jaccard(leaders[li].set, set) >= th {
					best = li
					break
				}
			}
		}
		if best >= 0 {
			leaders[best].members = append(leaders[best].members, i)
			continue
		}
		li := len(leaders)
		leaders = append(leaders, &leader{set: set, members: []int{i}})
		tried = append(tried, 0)
		for b := 0; b < mhBands; b++ {
			var k [mhRows]uint64
			copy(k[:], sig[b*mhRows:(b+1)*mhRows])
			bands[b][k] = append(bands[b][k], li)
		}
	}
	out := make([][]int, len(leaders))
	for i, l := range leaders {
		out[i] = l.members
	}
	return out
}

// winCache keeps the window analyses for a few minutes: they read tens of
// thousands of orders, and the page is reloaded often.
type winCache struct {
	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	v  any
	at time.Time
}

// CacheFor is how long a window analysis is reused.
const CacheFor = 5 * time.Minute

func cachedAs[T any](s *Service, key string, f func() (T, error)) (T, error) {
	c := s.cache
	c.mu.Lock()
	if e, ok := c.m[key]; ok && s.Now().Sub(e.at) < CacheFor && s.Now().Sub(e.at) >= 0 {
		c.mu.Unlock()
		return e.v.(T), nil
	}
	c.mu.Unlock()
	v, err := f()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) > 100 {
		c.m = map[string]cacheEntry{}
	}
	c.m[key] = cacheEntry{v, s.Now()}
	c.mu.Unlock()
	return v, nil
}

// SpikesCacheFor is how long a spike list is reused: the rollups change
// with every order, the verdicts hardly within a minute.
const SpikesCacheFor = time.Minute

// cachedSpikes is Spikes reused for up to a minute per range and language.
func (s *Service) cachedSpikes(ctx context.Context, rg Range, lang string) ([]Spike, error) {
	key := "spikes " + rg.From.String() + rg.To.String() + web.NormLang(lang)
	c := s.cache
	c.mu.Lock()
	if e, ok := c.m[key]; ok && s.Now().Sub(e.at) < SpikesCacheFor && s.Now().Sub(e.at) >= 0 {
		c.mu.Unlock()
		return e.v.([]Spike), nil
	}
	c.mu.Unlock()
	v, err := s.Spikes(ctx, rg, lang)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.m[key] = cacheEntry{v, s.Now()}
	c.mu.Unlock()
	return v, nil
}
