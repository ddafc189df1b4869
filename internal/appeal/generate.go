package appeal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/workday"
)

// The demo generator: N appeals over Days days ending at End, with
// realistic texts per category, weekly and seasonal patterns, planted
// spikes, planted repeat callers and one planted systemic problem.

// GenConfig sets the size and shape of a generated set.
type GenConfig struct {
	N    int
	Days int
	End  workday.Date
	Seed uint64
	// Unit maps a unit code (D01…, A04, S04…) to its id.
	Unit func(code string) int64
	// Progress, when set, is told how many rows were written.
	Progress func(done int)
	// BatchRows rows go in one transaction (default 20000).
	BatchRows int
	// OnlyRecent, when > 0, writes only the last OnlyRecent days;
	// SkipRecent, when > 0, writes all but the last SkipRecent days. The
	// two together split one set into a quick part and a background part.
	OnlyRecent, SkipRecent int
}

// Planted is what the generator planted, for tests to find.
type Planted struct {
	Spikes   []PlantedSpike
	Systemic struct {
		Category  string
		Districts []string
		Count     int
		From      workday.Date
	}
	RepeatPhones []string
}

// PlantedSpike is one planted surge.
type PlantedSpike struct {
	Day      workday.Date
	Category string
	District string
	Extra    int
}

var districtWeight = []float64{1.3, 1.2, 1.0, 0.9, 0.8, 0.6, 0.5}

var channelPick = []struct {
	c Channel
	w float64
}{{ChannelPhone, 0.6}, {ChannelWechat, 0.15}, {ChannelApp, 0.1}, {ChannelWeb, 0.1}, {ChannelOpen311, 0.05}}

func kindFor(cat string, rng *rand.Rand) Kind {
	switch cat {
	case "0602", "0603", "0604", "0605", "0701", "0704", "1003", "1101", "1102", "1103", "0802":
		if rng.Float64() < 0.7 {
			return KindConsult
		}
	case "0101", "0901", "1201", "1202", "1204":
		if rng.Float64() < 0.5 {
			return KindReport
		}
	case "0401", "0404":
		if rng.Float64() < 0.4 {
			return KindSuggestion
		}
	}
	if rng.Float64() < 0.55 {
		return KindComplaint
	}
	return KindHelp
}

type genCtx struct {
	s      *Service
	cfg    GenConfig
	rng    *rand.Rand
	start  workday.Date
	phones []string
	seq    map[workday.Date]int64
	leaves []leafRef
	units  map[string]int64
	// unit quality: share handled on time and satisfied.
	quality map[int64]float64
	// lastCall is when each phone last appealed (for is_repeat).
	lastCall map[string]time.Time
}

type leafRef struct {
	g *groupSeed
	l *leafSeed
}

func join(s string) string { return strings.ReplaceAll(s, " ", "") }

func pick[T any](rng *rand.Rand, l []T) T { return l[rng.IntN(len(l))] }

// Generate writes a generated set and returns what it planted.
func (s *Service) Generate(ctx context.Context, cfg GenConfig) (*Planted, error) {
	if cfg.Days <= 0 {
		cfg.Days = 730
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = 20000
	}
	g := &genCtx{s: s, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(12345+cfg.OnlyRecent+7*cfg.SkipRecent))), start: cfg.End.AddDays(-(cfg.Days - 1)),
		seq: map[workday.Date]int64{}, units: map[string]int64{}, quality: map[int64]float64{}, lastCall: map[string]time.Time{}}
	for gi := range catalog {
		for li := range catalog[gi].Leaves {
			g.leaves = append(g.leaves, leafRef{&catalog[gi], &catalog[gi].Leaves[li]})
		}
	}
	for _, code := range []string{"A04", "A02", "S04"} {
		g.units[code] = cfg.Unit(code)
	}
	for _, d := range Districts {
		g.units[d.UnitCode] = cfg.Unit(d.UnitCode)
	}
	for _, id := range g.units {
		if id != 0 {
			g.quality[id] = 0.75 + 0.2*g.rng.Float64()
		}
	}
	nPhones := max(cfg.N*7/10, 100)
	g.phones = make([]string, nPhones)
	for i := range g.phones {
		g.phones[i] = fmt.Sprintf("1%d%d%08d", 3+g.rng.IntN(6), g.rng.IntN(10), g.rng.IntN(100000000))
	}
	// Existing day sequences, so numbers never collide.
	rows, err := s.DB.QueryContext(ctx, `SELECT day, n FROM appeal_seq WHERE day >= ? AND day <= ?`, g.start.String(), cfg.End.String())
	if err != nil {
		return nil, fmt.Errorf("appeal: generate: %w", err)
	}
	for rows.Next() {
		var d string
		var n int64
		if err := rows.Scan(&d, &n); err == nil {
			if dd, err := workday.ParseDate(d); err == nil {
				g.seq[dd] = n
			}
		}
	}
	rows.Close()

	pl := &Planted{}
	for _, sp := range []PlantedSpike{{cfg.End.AddDays(-2), "0301", "南湖区", 60}, {cfg.End.AddDays(-40), "0204", "高新区", 45}, {cfg.End.AddDays(-150), "0905", "东城区", 50}} {
		if !sp.Day.Before(g.start.AddDays(SpikeBaselineDays)) {
			pl.Spikes = append(pl.Spikes, sp)
		}
	}
	pl.Systemic.Category, pl.Systemic.Districts = "0302", []string{"东城区", "西城区", "南湖区"}
	pl.Systemic.From = cfg.End.AddDays(-59)
	for i := 0; i < 20; i++ {
		pl.RepeatPhones = append(pl.RepeatPhones, fmt.Sprintf("1590000%04d", i))
	}

	// Day weights: weekday pattern, slow growth.
	type dayPlan struct {
		d workday.Date
		w float64
	}
	plans := make([]dayPlan, cfg.Days)
	var wsum float64
	for i := range plans {
		d := g.start.AddDays(i)
		w := 1.0 + 0.3*float64(i)/float64(cfg.Days)
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.6
		}
		plans[i] = dayPlan{d, w}
		wsum += w
	}
	bulk := NewBulk()
	if err := bulk.begin(ctx, s.DB); err != nil {
		return nil, err
	}
	defer bulk.end()
	var batch []BulkRow
	done := 0
	// A batch is written while the next one is generated.
	var inflight chan error
	inflightN := 0
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		if err != nil {
			return err
		}
		done += inflightN
		if cfg.Progress != nil {
			cfg.Progress(done)
		}
		return nil
	}
	flush := func(final bool) error {
		if err := wait(); err != nil {
			return err
		}
		if len(batch) == 0 && !final {
			return nil
		}
		rows := batch
		batch = make([]BulkRow, 0, len(rows))
		write := func() error {
			return bulk.inTx(ctx, func(tx *bulkTx) error {
				if err := bulk.insert(ctx, tx, rows); err != nil {
					return err
				}
				if final {
					return bulk.finish(ctx, tx)
				}
				return nil
			})
		}
		ch := make(chan error, 1)
		inflight, inflightN = ch, len(rows)
		if final {
			ch <- write()
			return wait()
		}
		go func() { ch <- write() }()
		return nil
	}
	catW := make([]float64, len(g.leaves))
	for _, p := range plans {
		if (cfg.OnlyRecent > 0 && p.d.Before(cfg.End.AddDays(-(cfg.OnlyRecent - 1)))) || (cfg.SkipRecent > 0 && !p.d.Before(cfg.End.AddDays(-(cfg.SkipRecent - 1)))) {
			continue
		}
		month := int(p.d.Month())
		var cs float64
		for i, lr := range g.leaves {
			w := 1.0
			for _, m := range lr.l.Season {
				if m == month {
					w = 3
				}
			}
			catW[i] = w
			cs += w
		}
		exp := float64(cfg.N) * p.w / wsum
		n := int(exp)
		if g.rng.Float64() < exp-float64(n) {
			n++
		}
		for j := 0; j < n; j++ {
			x := g.rng.Float64() * cs
			li := 0
			for li < len(catW)-1 && x >= catW[li] {
				x -= catW[li]
				li++
			}
			batch = append(batch, g.order(p.d, g.leaves[li], "", "", ""))
		}
		for _, sp := range pl.Spikes {
			if sp.Day == p.d {
				for j := 0; j < sp.Extra; j++ {
					batch = append(batch, g.order(p.d, g.leafOf(sp.Category), sp.District, "", ""))
				}
			}
		}
		if !p.d.Before(pl.Systemic.From) {
			for j := 0; j < 3; j++ {
				r := g.order(p.d, g.leafOf(pl.Systemic.Category), pick(g.rng, pl.Systemic.Districts), systemicText, "")
				batch = append(batch, r)
				pl.Systemic.Count++
			}
		}
		if p.d.After(cfg.End.AddDays(-30)) && p.d.Sub(cfg.End.AddDays(-30))%3 == 0 {
			for _, ph := range pl.RepeatPhones {
				if g.rng.Float64() < 0.5 {
					batch = append(batch, g.order(p.d, pick(g.rng, g.leaves), "", "", ph))
				}
			}
		}
		if len(batch) >= cfg.BatchRows {
			if err := flush(false); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(true); err != nil {
		return nil, err
	}
	return pl, nil
}

func (g *genCtx) leafOf(code string) leafRef {
	for _, lr := range g.leaves {
		if lr.l.Code == code {
			return lr
		}
	}
	panic("appeal: no leaf " + code)
}

func (g *genCtx) pickDistrict() District {
	x := g.rng.Float64() * 6.3
	for i, w := range districtWeight {
		if x < w {
			return Districts[i]
		}
		x -= w
	}
	return Districts[len(Districts)-1]
}

// order makes one order received on day d.
func (g *genCtx) order(d workday.Date, lr leafRef, district, text, phone string) BulkRow {
	rng := g.rng
	dist := g.pickDistrict()
	if district != "" {
		for _, x := range Districts {
			if x.Name == district {
				dist = x
			}
		}
	}
	street := pick(rng, dist.Streets)
	estate := pick(rng, estates)
	var words string
	if text != "" {
		words = street + " " + estate + " " + text
	} else {
		problem := pick(rng, lr.l.Problems)
		if rng.IntN(12) == 0 {
			// Some citizens describe it in a neighbouring category's words.
			problem = pick(rng, pick(rng, lr.g.Leaves).Problems)
		}
		words = pick(rng, prefixes) + " " + street + " " + estate + " " + problem + " ， " + pick(rng, lr.g.Details) + " ， " +
			pick(rng, durations) + " ， " + pick(rng, demands) + " 。"
	}
	received := d.Time(loc).Add(time.Duration(8*3600+rng.IntN(14*3600)) * time.Second).UTC()
	g.seq[d]++
	if phone == "" {
		phone = pick(rng, g.phones)
	}
	name := string(pick(rng, surnameRunes)) + string(pick(rng, givenRunes))
	if rng.IntN(2) == 0 {
		name += string(pick(rng, givenRunes))
	}
	r := BulkRow{Number: numberOf(d, g.seq[d]), Channel: pickChannel(rng), Kind: kindFor(lr.l.Code, rng), Category: lr.l.Code,
		Content: join(words), District: dist.Name, Street: street, Address: fmt.Sprintf("%s%s%d栋%d单元", street, join(estate), 1+rng.IntN(30), 1+rng.IntN(4)),
		PhoneMask: MaskPhone(phone), NameMask: MaskName(name), Urgency: UrgencyNormal, State: StateReceived, Received: received,
		SimHash: SimHash(strings.Fields(words))}
	if last, ok := g.lastCall[phone]; ok && received.Sub(last) < DefaultRepeatWindow*24*time.Hour {
		r.IsRepeat = true
	}
	g.lastCall[phone] = received
	pii := g.s.PII
	r.PhoneHash = pii.PhoneHash(phone)
	r.PhoneEnc, _ = pii.Encrypt(phone)
	r.NameEnc, _ = pii.Encrypt(name)
	if rng.IntN(20) == 0 {
		r.Urgency = UrgencyUrgent
	}
	g.lifecycle(&r, d)
	return r
}

var (
	surnameRunes = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	givenRunes   = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志海燕红梅玉晓东丹文博浩然子涵雨轩欣怡思远佳琪梓萱宇航嘉俊慧宏立新振德胜永春生秋云冬晨曦")
)

func pickChannel(rng *rand.Rand) Channel {
	x := rng.Float64()
	for _, c := range channelPick {
		if x < c.w {
			return c.c
		}
		x -= c.w
	}
	return ChannelPhone
}

// lifecycle moves a generated order along the loop by its age.
func (g *genCtx) lifecycle(r *BulkRow, d workday.Date) {
	rng := g.rng
	cal := g.s.Cal
	age := g.cfg.End.Sub(d)
	x := rng.Float64()
	if x < 0.12 {
		// Answered on the spot.
		t := r.Received.Add(time.Duration(5+rng.IntN(20)) * time.Minute)
		r.Triage, r.TriageNote, r.State, r.Resolved, r.Reply, r.OnTime = TriageAnswered, "当场答复政策口径", StateResolved, &t, "当场答复", true
		if age > 10 {
			r.State, r.Archived = StateArchived, &t
		}
		return
	}
	if x < 0.14 {
		t := r.Received.Add(3 * time.Minute)
		r.Triage, r.TriageNote, r.State, r.Archived = TriageTransferred, "转110处置", StateArchived, &t
		return
	}
	unit := g.units[unitCodeFor(r.Category, r.District)]
	if unit == 0 {
		return
	}
	q := g.quality[unit]
	disp := r.Received.Add(time.Duration(10+rng.IntN(120)) * time.Minute)
	r.UnitID, r.Dispatched, r.Triage, r.State = unit, &disp, TriageDispatched, StateDispatched
	days := DueNormalWorkdays
	if r.Urgency == UrgencyUrgent {
		days = DueUrgentWorkdays
	}
	dispOn := workday.FromTime(disp, loc)
	r.DueOn = cal.AddWorkdays(dispOn, days)
	if age == 0 && rng.IntN(2) == 0 {
		return
	}
	acc := disp.Add(time.Duration(1+rng.IntN(30)) * time.Hour)
	if rng.Float64() > q {
		acc = acc.Add(time.Duration(24+rng.IntN(48)) * time.Hour)
	}
	if workday.FromTime(acc, loc).After(g.cfg.End) {
		return
	}
	r.Accepted, r.State = &acc, StateAccepted
	r.RespondedInTime = cal.Between(dispOn, workday.FromTime(acc, loc)) <= RespondWithinDays
	if rng.IntN(25) == 0 {
		r.Extended = true
		r.DueOn = cal.AddWorkdays(r.DueOn, 5)
	}
	// Handling takes 1–6 working days; poorer units run late more often.
	hd := 1 + rng.IntN(4)
	if rng.Float64() > q {
		hd += 2 + rng.IntN(4)
	}
	repOn := cal.AddWorkdays(dispOn, hd)
	if repOn.After(g.cfg.End) {
		return
	}
	rep := repOn.Time(loc).Add(time.Duration(9*3600+rng.IntN(8*3600)) * time.Second).UTC()
	r.Replied, r.Reply, r.State = &rep, "经核实，已安排工作人员现场处理，问题已解决。", StateReplied
	res := rep.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
	resOn := workday.FromTime(res, loc)
	if resOn.After(g.cfg.End) {
		return
	}
	r.Resolved, r.State = &res, StateResolved
	r.OnTime = !resOn.After(r.DueOn)
	fol := res.Add(time.Duration(24+rng.IntN(48)) * time.Hour)
	if workday.FromTime(fol, loc).After(g.cfg.End) || rng.IntN(10) == 0 {
		return
	}
	r.Followed, r.State = &fol, StateFollowed
	y := rng.Float64()
	solved := true
	switch {
	case y < q*0.8:
		r.Satisfaction = Satisfied
	case y < q:
		r.Satisfaction = Basic
	default:
		r.Satisfaction, solved = Unsatisfied, false
	}
	r.Solved = &solved
	if age > 30 {
		arc := fol.Add(24 * time.Hour)
		r.Archived, r.State = &arc, StateArchived
	}
}
