package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/org"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

// CampaignName is the demo office's campaign (item 13 of the supervision
// issue).
const CampaignName = "解放思想树标杆 争先进位走在前"

// CampaignStats says what the campaign loaded.
type CampaignStats struct {
	PlanTasks        int // the campaign's decomposition, umbrella tasks included
	Instructions     int
	InstructionTasks int
	Projects         int
	Reports          int
}

// simClock is the clock of the history: set to each step's moment before
// the step runs through the supervision service.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// demoUnit is a unit as the campaign uses it: who owns its tasks and who
// acts for it.
type demoUnit struct {
	ID      int64
	Code    string
	Name    string
	Owner   int64
	Liaison supervise.Actor
}

// loader writes six months of supervision history ending yesterday through
// a supervision service whose clock it moves, so every task, report,
// milestone, extension and sign-off has its real events and audit records
// with the day it happened on.
type loader struct {
	ctx   context.Context
	svc   *supervise.Service
	clock *simClock
	cal   *workday.Calendar
	loc   *time.Location
	rng   *rand.Rand
	now   time.Time
	today workday.Date
	// yesterday is the last day history is written on (a working day).
	yesterday workday.Date
	// start is the campaign's first day, six months ago.
	start   workday.Date
	sup     supervise.Actor
	units   map[string]*demoUnit
	lastDay workday.Date
	minute  int
	stats   CampaignStats
}

// loadCampaign loads the campaign, the leaders' instructions and the key
// projects. tasks is the application's supervision service; the history
// goes through a second service on the same database with a movable clock.
func loadCampaign(ctx context.Context, tasks *supervise.Service, now time.Time, sup *auth.User, liaison *auth.User, people map[string][]*org.Person, units map[string]*org.Unit) (CampaignStats, error) {
	clock := &simClock{t: now}
	svc := supervise.New(tasks.DB, tasks.Audit, tasks.Cal, clock.Now)
	svc.Loc, svc.Thresholds = tasks.Loc, tasks.Thresholds
	l := &loader{ctx: ctx, svc: svc, clock: clock, cal: tasks.Cal, loc: tasks.Loc, rng: rand.New(rand.NewPCG(2026, 13)), now: now,
		units: map[string]*demoUnit{}}
	l.today = workday.FromTime(now, l.loc)
	l.yesterday = l.before(l.today - 1)
	l.start = l.after(l.today - 182)
	l.sup = supervise.Actor{UserID: sup.ID, Username: sup.Username, UnitID: *sup.UnitID, Supervisor: true}
	for code, u := range units {
		ps := people[code]
		if len(ps) == 0 {
			continue
		}
		du := &demoUnit{ID: u.ID, Code: code, Name: u.Name, Owner: ps[0].ID}
		// The unit's liaison: the demo account where there is one,
		// otherwise its most junior member, named on the timeline.
		if liaison != nil && liaison.UnitID != nil && *liaison.UnitID == u.ID {
			du.Liaison = supervise.Actor{UserID: liaison.ID, Username: liaison.Username, UnitID: u.ID, UnitMember: true}
		} else {
			du.Liaison = supervise.Actor{Username: ps[len(ps)-1].Name, UnitID: u.ID, UnitMember: true}
		}
		l.units[code] = du
	}
	if _, err := svc.SaveArea(ctx, l.sup, supervise.Area{Code: "key_projects", Name: "重点项目", NameEN: "Key projects", SortOrder: 80, Active: true}); err != nil {
		return l.stats, fmt.Errorf("demo: area: %w", err)
	}
	if err := l.plan(); err != nil {
		return l.stats, err
	}
	if err := l.instructions(); err != nil {
		return l.stats, err
	}
	if err := l.projects(); err != nil {
		return l.stats, err
	}
	// Bring every stored light to today.
	if _, err := tasks.RefreshLights(ctx); err != nil {
		return l.stats, fmt.Errorf("demo: lights: %w", err)
	}
	return l.stats, nil
}

// fastWrites lets a demo load of thousands of small transactions commit
// without waiting for the disk each time: on SQLite's one writer
// connection, synchronous=NORMAL until restore puts FULL back. WAL with
// NORMAL stays consistent; only a power cut during the load could lose its
// last transactions, and a demo can be loaded again.
func fastWrites(ctx context.Context, d *db.DB) (restore func(), err error) {
	if d.Dialect != db.SQLite {
		return func() {}, nil
	}
	if _, err := d.W.ExecContext(ctx, `PRAGMA synchronous=NORMAL`); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return func() { d.W.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous=FULL`) }, nil
}

// after is d, or the first working day after it.
func (l *loader) after(d workday.Date) workday.Date {
	for !l.cal.IsWorkday(d) {
		d++
	}
	return d
}

// before is d, or the last working day before it.
func (l *loader) before(d workday.Date) workday.Date {
	for !l.cal.IsWorkday(d) {
		d--
	}
	return d
}

// past is a working day on or near d, but not after yesterday.
func (l *loader) past(d workday.Date) workday.Date {
	if d >= l.yesterday {
		return l.yesterday
	}
	return l.after(d)
}

func (l *loader) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + l.rng.IntN(hi-lo+1)
}

// at moves the clock to an office hour on d; steps on the same day follow
// each other.
func (l *loader) at(d workday.Date) {
	if d != l.lastDay {
		l.lastDay, l.minute = d, 30+l.rng.IntN(90)
	} else {
		l.minute += 2 + l.rng.IntN(9)
	}
	m := min(l.minute, 9*60+50)
	y, mo, dd := d.Civil()
	t := time.Date(y, mo, dd, 8, 0, 0, 0, l.loc).Add(time.Duration(m)*time.Minute + time.Duration(l.rng.IntN(60))*time.Second)
	if t.After(l.now) {
		t = l.now.Add(-time.Minute)
	}
	l.clock.set(t)
}

// fate is how a task stands today.
type fate int

const (
	fateDone          fate = iota // signed off on time
	fateDoneLate                  // signed off a few working days late
	fateSubmitted                 // 申请办结, awaiting sign-off
	fateGreen                     // on track
	fateBehind                    // progress 30 points behind the time used: yellow
	fateStale                     // one report period missed: yellow
	fateMissing                   // two report periods missed: red
	fateOverdue                   // past due, not done: red
	fateDueSoon                   // due within 3 working days: yellow
	fateMilestoneLate             // a milestone past due: red
	fateNotStarted                // assigned, starts later
	fateDraft                     // registered, not assigned yet
	fateCancelled
)

// fates deals n fates in the given proportions (weights summing to n),
// shuffled with the loader's seed.
func (l *loader) fates(weights map[fate]int) []fate {
	var out []fate
	keys := make([]fate, 0, len(weights))
	for f := range weights {
		keys = append(keys, f)
	}
	slices.Sort(keys)
	for _, f := range keys {
		for range weights[f] {
			out = append(out, f)
		}
	}
	l.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// job is one task's history to play.
type job struct {
	in   supervise.NewTask
	fate fate
	// created is the day of registration (and assignment).
	created workday.Date
	// extend asks for an extension of days; refuse refuses it.
	extend int
	refuse bool
	// returnOnce sends the first submission back.
	returnOnce bool
	project    bool
	// parent rolls up from subtasks and gets no reports of its own.
	parent bool
	// failLookBack fails the look-back after sign-off, reopening the task.
	failLookBack bool
}

type step struct {
	on workday.Date
	n  int
	do func() error
}

var reportTexts = []string{
	"按计划推进，各项工作有序开展", "召开专题推进会，逐项明确责任分工", "完成阶段性工作，形成初步成果",
	"对照任务清单逐项核查，整体进展顺利", "会同配合单位开展联合调研", "组织专家论证，吸收修改意见",
	"完成相关材料起草并征求意见", "加强调度督促，及时解决推进中的问题",
}

var difficulties = []string{"", "", "", "配合单位反馈意见较慢", "部分数据口径不一致，需进一步核实", "资金拨付流程较长", "专业人员不足"}

var nextSteps = []string{"继续按计划推进", "抓紧完成下一节点任务", "加强与配合单位沟通协调", "做好总结验收准备"}

// play runs one task's history and returns the task.
func (l *loader) play(j job) (*supervise.Task, error) {
	in := j.in
	in.Assign = j.fate != fateDraft
	l.at(j.created)
	t, err := l.svc.Create(l.ctx, l.sup, in)
	if err != nil {
		return nil, fmt.Errorf("demo: task %q: %w", in.Title, err)
	}
	if j.fate == fateDraft {
		return t, nil
	}
	unit := l.unitByID(in.LeadUnitID)
	lia := unit.Liaison
	var steps []step
	add := func(on workday.Date, do func() error) {
		steps = append(steps, step{on: on, n: len(steps), do: do})
	}
	transition := func(a supervise.Actor, act supervise.Action, reason, evidence string) func() error {
		return func() error {
			_, err := l.svc.Transition(l.ctx, a, t.ID, supervise.TransitionRequest{Action: act, Reason: reason, Evidence: evidence})
			if err != nil {
				return fmt.Errorf("demo: %s %q: %w", act, in.Title, err)
			}
			return nil
		}
	}
	accept := j.created
	if l.rng.IntN(2) == 0 {
		accept = l.past(l.cal.AddWorkdays(j.created, 1))
	}
	add(accept, transition(lia, supervise.ActionAccept, "", ""))
	if j.fate == fateNotStarted {
		return t, l.run(steps)
	}
	if j.parent {
		add(l.past(accept+1), transition(lia, supervise.ActionStart, "", ""))
		return t, l.run(steps)
	}

	due := in.Due
	if j.extend > 0 {
		req := l.past(accept + workday.Date(l.between(10, 40)))
		if req >= due {
			req = l.past(max(accept, due-3))
		}
		newDue := l.after(due + workday.Date(j.extend))
		reasons := []string{"涉及多个部门会签，时间较紧", "需等待上级政策出台后同步调整", "受天气影响施工进度", "前期手续办理时间较长"}
		add(req, func() error {
			ext, err := l.svc.RequestExtension(l.ctx, lia, t.ID, supervise.NewExtension{Reason: reasons[l.rng.IntN(len(reasons))], NewDue: newDue})
			if err != nil {
				return fmt.Errorf("demo: extension %q: %w", in.Title, err)
			}
			l.at(l.past(l.cal.AddWorkdays(req, 1)))
			d := supervise.Decision{Approve: !j.refuse, Note: "同意延期，请按新的时限完成"}
			if j.refuse {
				d.Note = "时限不变，请加大推进力度"
			}
			_, err = l.svc.DecideExtension(l.ctx, l.sup, ext.ID, d)
			return err
		})
		if !j.refuse {
			due = newDue
		}
	}

	// finish is the day the lead unit submits; lastReport the last report
	// of an open task; target its percent today.
	var finish, lastReport workday.Date
	target := 100
	period := cadenceDays(in.Cadence)
	expected := func() int {
		total := l.cal.Between(in.Start, due)
		if total <= 0 {
			return 100
		}
		return min(100, max(0, 100*l.cal.Between(in.Start, l.today)/total))
	}
	switch j.fate {
	case fateDone:
		finish = l.past(l.before(due - workday.Date(l.between(0, 6))))
	case fateDoneLate:
		finish = l.past(l.cal.AddWorkdays(due, l.between(1, 5)))
	case fateSubmitted:
		finish = l.past(l.today - workday.Date(l.between(1, 4)))
	case fateCancelled:
		lastReport = l.past(l.today - workday.Date(l.between(20, 50)))
		target = l.between(10, 40)
	case fateOverdue:
		lastReport = l.past(l.today - workday.Date(l.between(1, max(2, period-2))))
		target = l.between(55, 90)
	case fateDueSoon:
		lastReport = l.past(l.today - workday.Date(l.between(1, max(2, period-2))))
		target = l.between(80, 95)
	case fateStale:
		lastReport = l.past(l.today - workday.Date(period+period/3+2))
		target = max(5, expected()-l.between(0, 10))
	case fateMissing:
		lastReport = l.past(l.today - workday.Date(2*period+period/2+3))
		target = max(5, expected()-l.between(5, 15))
	case fateBehind:
		lastReport = l.past(l.today - workday.Date(l.between(1, max(2, period-2))))
		target = max(0, expected()-l.between(30, 40))
	default: // green, milestone late
		lastReport = l.past(l.today - workday.Date(l.between(1, max(2, period-2))))
		target = min(95, max(5, expected()+l.between(-8, 12)))
	}
	if finish != 0 {
		lastReport = finish
		if finish <= accept {
			finish = l.past(accept + 1)
			lastReport = finish
		}
	}
	if lastReport <= accept {
		lastReport = l.past(accept + 1)
	}

	// Reports every period from acceptance to the last, rising to target.
	var dates []workday.Date
	for d := accept + workday.Date(l.between(1, max(1, period-1))); d < lastReport; d += workday.Date(period) {
		if w := l.after(d); w < lastReport {
			dates = append(dates, w)
		}
	}
	dates = append(dates, lastReport)
	dates = slices.Compact(dates)
	var planned int64
	if in.PlannedInvestment != nil {
		planned = *in.PlannedInvestment
	}
	for i, d := range dates {
		pct := target
		if i < len(dates)-1 {
			pct = max(1, target*(i+1)/len(dates)-l.between(0, 3))
		}
		text := reportTexts[l.rng.IntN(len(reportTexts))]
		rep := supervise.NewReport{Percent: &pct, Difficulties: difficulties[l.rng.IntN(len(difficulties))], NextSteps: nextSteps[l.rng.IntN(len(nextSteps))]}
		if j.project {
			inv := planned * int64(pct) / 100 / 10000 * 10000
			rep.CompletedInvestment = &inv
			text = fmt.Sprintf("累计完成投资 %d 万元，占计划投资的 %d%%；%s", inv/10000, pct, text)
		} else {
			text = fmt.Sprintf("完成 %d%%：%s", pct, text)
		}
		if pct == 100 {
			text += "，任务已全部完成"
		}
		rep.Text = text
		add(d, func() error {
			if _, err := l.svc.Report(l.ctx, lia, t.ID, rep); err != nil {
				return fmt.Errorf("demo: report %q on %s: %w", in.Title, d, err)
			}
			l.stats.Reports++
			return nil
		})
	}

	// Milestones past their day are done on time, or for a late task a
	// little late; a task with a late milestone keeps its last one open.
	var cancelOn workday.Date
	if j.fate == fateCancelled {
		cancelOn = l.past(lastReport + 7)
	}
	var open []supervise.Milestone
	for _, m := range t.Milestones {
		if cancelOn != 0 && m.Due >= cancelOn {
			continue
		}
		if m.Due <= l.yesterday || (finish != 0 && m.Due <= finish) {
			open = append(open, m)
		}
	}
	if j.fate == fateMilestoneLate && len(open) > 0 {
		open = open[:len(open)-1]
	}
	for _, m := range open {
		done := l.before(m.Due - workday.Date(l.between(0, 3)))
		if j.fate == fateDoneLate {
			done = l.cal.AddWorkdays(m.Due, l.between(0, 2))
		}
		done = max(done, accept)
		if finish != 0 {
			done = min(done, finish)
		}
		done = l.past(done)
		evidence := "已按节点完成，相关材料已归档"
		add(done, func() error {
			if _, err := l.svc.CompleteMilestone(l.ctx, lia, m.ID, done, evidence); err != nil {
				return fmt.Errorf("demo: milestone %q of %q: %w", m.Name, in.Title, err)
			}
			return nil
		})
	}

	evidence := "工作总结、相关制度文件及佐证材料已上传"
	switch j.fate {
	case fateDone, fateDoneLate, fateSubmitted:
		if j.returnOnce && j.fate != fateSubmitted {
			add(finish, transition(lia, supervise.ActionSubmit, "", evidence))
			back := l.past(l.cal.AddWorkdays(finish, 1))
			add(back, transition(l.sup, supervise.ActionReturn, "佐证材料不完整，请补充会议纪要和验收意见", ""))
			finish = l.past(l.cal.AddWorkdays(back, 2))
			final := 100
			add(finish, func() error {
				_, err := l.svc.Report(l.ctx, lia, t.ID, supervise.NewReport{Percent: &final, Text: "已按要求补充会议纪要和验收意见"})
				l.stats.Reports++
				return err
			})
		}
		add(finish, transition(lia, supervise.ActionSubmit, "", evidence))
		if j.fate != fateSubmitted {
			signed := l.past(l.cal.AddWorkdays(finish, l.between(0, 2)))
			add(signed, transition(l.sup, supervise.ActionSignOff, "", ""))
			l.lookBack(j, t, lia, signed, add)
		}
	case fateCancelled:
		add(cancelOn, transition(l.sup, supervise.ActionCancel, "工作内容已并入其他任务统筹推进", ""))
	}
	return t, l.run(steps)
}

// lookBack decides the look-back (回头看) that signing off scheduled, once
// its day has come: it passes, or for a task marked failLookBack it fails
// with findings, which reopens the task, and the unit reports its rework.
func (l *loader) lookBack(j job, t *supervise.Task, lia supervise.Actor, signed workday.Date, add func(workday.Date, func() error)) {
	due := l.cal.AddWorkdays(signed, supervise.DefaultLookBackWorkdays)
	if due >= l.yesterday {
		return // still pending: on the reviewers' list
	}
	review := l.past(l.cal.AddWorkdays(due, l.between(0, 3)))
	add(review, func() error {
		lbs, _, err := l.svc.LookBacks(l.ctx, supervise.LookBackFilter{TaskID: t.ID, State: supervise.LookBackPending})
		if err != nil || len(lbs) == 0 {
			return fmt.Errorf("demo: look-back of %q: %d pending, %v", t.Title, len(lbs), err)
		}
		res := supervise.LookBackResult{Pass: true, Findings: "实地查看，成效巩固"}
		if j.failLookBack {
			res = supervise.LookBackResult{Findings: "整改措施未完全落实，部分问题出现反弹", NewDue: l.cal.AddWorkdays(review, 20)}
		}
		if _, err := l.svc.RecordLookBack(l.ctx, l.sup, lbs[0].ID, res); err != nil {
			return fmt.Errorf("demo: look-back of %q: %w", t.Title, err)
		}
		return nil
	})
	if rework := l.cal.AddWorkdays(review, 2); j.failLookBack && rework <= l.yesterday {
		add(rework, func() error {
			pct := 60
			if _, err := l.svc.Report(l.ctx, lia, t.ID, supervise.NewReport{Percent: &pct, Text: "针对回头看发现的问题制定整改清单，逐项整改中"}); err != nil {
				return fmt.Errorf("demo: rework report %q: %w", t.Title, err)
			}
			l.stats.Reports++
			return nil
		})
	}
}

// run plays steps in order of day (and of adding, within a day).
func (l *loader) run(steps []step) error {
	slices.SortStableFunc(steps, func(a, b step) int {
		if a.on != b.on {
			return int(a.on - b.on)
		}
		return a.n - b.n
	})
	for _, s := range steps {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		l.at(s.on)
		if err := s.do(); err != nil {
			return err
		}
	}
	return nil
}

func cadenceDays(c deadline.Cadence) int {
	switch c {
	case deadline.CadenceDaily:
		return 1
	case deadline.CadenceWeekly:
		return 7
	case deadline.CadenceBiweekly:
		return 14
	}
	return 30
}

func (l *loader) unitByID(id int64) *demoUnit {
	for _, u := range l.units {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// milestones spreads names evenly between start and due (working days).
func (l *loader) milestones(names []string, start, due workday.Date) []supervise.NewMilestone {
	var out []supervise.NewMilestone
	n := len(names)
	for i, name := range names {
		d := start + workday.Date(int(due-start)*(i+1)/(n+1))
		if i == n-1 && n > 1 {
			d = start + workday.Date(int(due-start)*(n)/(n+1))
		}
		d = l.before(d)
		if d < start || d > due {
			continue
		}
		out = append(out, supervise.NewMilestone{Name: name, Due: d})
	}
	return out
}

// dueFor picks a due date that gives the fate its light today.
func (l *loader) dueFor(f fate, start, latest workday.Date) workday.Date {
	var d workday.Date
	span := int(l.today - start)
	switch f {
	case fateDone:
		d = start + workday.Date(l.between(35, max(36, span-8)))
	case fateDoneLate:
		d = start + workday.Date(l.between(35, max(36, span-20)))
	case fateOverdue:
		d = l.today - workday.Date(l.between(3, 40))
		d = max(d, start+20)
	case fateDueSoon:
		return min(latest, l.cal.AddWorkdays(l.today, l.between(1, 3)))
	case fateSubmitted:
		d = l.today + workday.Date(l.between(5, 40))
	default:
		d = l.today + workday.Date(l.between(25, max(26, int(latest-l.today))))
	}
	return min(latest, l.before(d))
}

func (l *loader) unit(code string) *demoUnit {
	u := l.units[code]
	if u == nil {
		panic("demo: no unit " + code)
	}
	return u
}

// plan registers the campaign: an umbrella task per area and its
// decomposition, with their history.
func (l *loader) plan() error {
	fates := l.fates(map[fate]int{fateDone: 30, fateDoneLate: 7, fateSubmitted: 4, fateGreen: 33, fateBehind: 9, fateStale: 7,
		fateMissing: 3, fateOverdue: 8, fateDueSoon: 4, fateMilestoneLate: 3, fateNotStarted: 2, fateDraft: 1, fateCancelled: 1})
	parentDue := l.before(l.start + 364)
	k := 0
	extensions := 0
	for ai, area := range campaignAreas {
		lead := l.unit(area.Leads[0])
		parent, err := l.play(job{parent: true, fate: fateGreen, created: l.start, in: supervise.NewTask{
			Title: area.Parent, Area: area.Code, Source: supervise.SourcePlan, Priority: supervise.PriorityImportant,
			Description: "《" + CampaignName + "》实施方案第" + []string{"一", "二", "三", "四", "五", "六", "七"}[ai] + "部分",
			Acceptance:  "分解任务全部按期销号，形成可复制推广的经验做法", LeadUnitID: lead.ID, OwnerID: lead.Owner,
			Start: l.start, Due: parentDue,
		}})
		if err != nil {
			return err
		}
		l.stats.PlanTasks++
		for i, title := range area.Tasks {
			if k >= len(fates) {
				break
			}
			f := fates[k]
			k++
			u := l.unit(area.Leads[i%len(area.Leads)])
			var co []int64
			for _, c := range area.Leads {
				if c != u.Code && len(co) < i%3 {
					co = append(co, l.unit(c).ID)
				}
			}
			start := l.after(l.start + workday.Date(l.between(0, 14)))
			created := start
			switch f {
			case fateNotStarted:
				start = l.after(l.today + workday.Date(l.between(7, 30)))
				created = l.past(l.today - workday.Date(l.between(1, 5)))
			case fateDraft:
				start = l.after(l.today + 5)
				created = l.past(l.today - 2)
			}
			due := l.dueFor(f, start, parentDue)
			if f == fateNotStarted || f == fateDraft {
				due = min(parentDue, l.before(start+workday.Date(l.between(40, 90))))
			}
			cadence := deadline.CadenceBiweekly
			if i%5 >= 3 {
				cadence = deadline.CadenceMonthly
			}
			j := job{fate: f, created: created, returnOnce: f == fateDone && i%6 == 0, failLookBack: f == fateDone && i%7 == 4, in: supervise.NewTask{
				Title: title, Area: area.Code, Source: supervise.SourcePlan, ParentID: parent.ID, Weight: 1 + i%3,
				Description: CampaignName + "：" + area.Parent + "。",
				Acceptance:  []string{"形成制度文件并印发实施", "完成既定目标，经督查科验收合格", "相关指标达到全省前列", "形成工作报告并通过评审"}[i%4],
				LeadUnitID:  u.ID, CoUnitIDs: co, OwnerID: u.Owner, Start: start, Due: due, Cadence: cadence,
				Priority:   []supervise.Priority{supervise.PriorityNormal, supervise.PriorityImportant, supervise.PriorityNormal}[i%3],
				Milestones: l.milestones(milestoneNames[i%len(milestoneNames)][:2+i%2], start, due),
			}}
			if (f == fateGreen || f == fateBehind) && extensions < 8 && due+60 < parentDue {
				j.extend, j.refuse = l.between(20, 45), extensions >= 6
				extensions++
			}
			if _, err := l.play(j); err != nil {
				return err
			}
			l.stats.PlanTasks++
		}
	}
	return nil
}

// instructions registers about forty leader instructions (批示) and the
// tasks they became.
func (l *loader) instructions() error {
	const n = 40
	span := int(l.yesterday - l.start)
	for k := range n {
		topic := instructionTopics[k%len(instructionTopics)]
		leader := leaders[[]int{0, 1, 2, 1, 0, 2, 1}[k%7]]
		issued := l.after(l.start + workday.Date(span*k/n+l.between(0, 3)))
		if issued > l.yesterday {
			issued = l.yesterday
		}
		round := ""
		if k >= len(instructionTopics) {
			round = "（跟进）"
		}
		lead := l.unit(topic.Lead)
		due := l.cal.AddWorkdays(issued, l.between(10, 25))
		var f fate
		switch r := l.rng.IntN(100); {
		case due < l.today-2 && r < 75:
			f = fateDone
		case due < l.today-2 && r < 90:
			f = fateDoneLate
		case due < l.today-2:
			f = fateOverdue
		case r < 45:
			f = fateGreen
		case r < 60:
			f = fateDueSoon
			due = l.cal.AddWorkdays(l.today, l.between(1, 3))
		case r < 75:
			f = fateBehind
		default:
			f = fateSubmitted
		}
		name, _, _ := strings.Cut(leader, "（")
		text := fmt.Sprintf("关于%s：请%s牵头，会同有关单位%s，于%s前报送办理结果。", topic.Topic, lead.Name, topic.Ask, due)
		t, err := l.play(job{fate: f, created: issued, failLookBack: k%13 == 6, in: supervise.NewTask{
			Title: "落实" + name + "关于" + topic.Topic + "的批示" + round, Area: topic.Area, Source: supervise.SourceInstruction,
			Description: text, Acceptance: "按批示要求办结并报送办理结果", LeadUnitID: lead.ID, OwnerID: lead.Owner,
			Start: issued, Due: due, Cadence: deadline.CadenceWeekly, Priority: supervise.PriorityUrgent,
			Instruction: &supervise.NewInstruction{Leader: leader, IssuedOn: issued, Text: text,
				DocNo: fmt.Sprintf("市政府办督字〔%d〕%d号", issued.Year(), 10+k)},
		}})
		if err != nil {
			return err
		}
		l.stats.Instructions++
		l.stats.InstructionTasks++
		// Every eighth instruction also goes to a second unit.
		if k%8 == 3 && t.InstructionID != nil {
			second := l.unit([]string{"S04", "S10", "A02", "S12", "S14"}[k%5])
			if second.ID == lead.ID {
				second = l.unit("S05")
			}
			f2 := f
			if f2 == fateSubmitted || f2 == fateDueSoon {
				f2 = fateGreen
			}
			if _, err := l.play(job{fate: f2, created: issued, in: supervise.NewTask{
				Title: "配合落实" + topic.Topic + "批示" + round, Area: topic.Area, Source: supervise.SourceInstruction,
				InstructionID: *t.InstructionID, Acceptance: "按批示要求完成分工任务", LeadUnitID: second.ID, OwnerID: second.Owner,
				Start: issued, Due: due, Cadence: deadline.CadenceWeekly, Priority: supervise.PriorityImportant,
			}}); err != nil {
				return err
			}
			l.stats.InstructionTasks++
		}
	}
	return nil
}

// ProjectCount is how many key projects the demo tracks (the city's 213).
const ProjectCount = 213

// projects registers the city's key projects with investment figures,
// stages and locations across the seven districts, and their monthly
// reports.
func (l *loader) projects() error {
	fates := l.fates(map[fate]int{fateDone: 28, fateDoneLate: 4, fateSubmitted: 4, fateGreen: 120, fateBehind: 20, fateStale: 12,
		fateMissing: 6, fateOverdue: 8, fateMilestoneLate: 7, fateDueSoon: 4})
	seen := map[string]bool{}
	for i := range ProjectCount {
		dist := projectDistricts[i%len(projectDistricts)]
		place := projectPlaces[(i/len(projectDistricts))%len(projectPlaces)]
		kind := projectKinds[(i*3+i/len(projectDistricts))%len(projectKinds)]
		title := dist.Short + place + kind.Name + "项目"
		for n := 2; seen[title]; n++ {
			title = fmt.Sprintf("%s%s%s项目（%s期）", dist.Short, place, kind.Name, []string{"", "", "二", "三", "四", "五"}[min(n, 5)])
		}
		seen[title] = true
		f := fates[i]
		stage := supervise.StageConstruction
		switch {
		case f == fateDone || f == fateDoneLate:
			stage = supervise.StageCompleted
			if i%3 == 0 {
				stage = supervise.StageOperation
			}
		case i%5 == 0 && f != fateOverdue:
			stage = supervise.StagePreliminary
		}
		yi := kind.MinYi + (kind.MaxYi-kind.MinYi)*l.rng.Float64()
		planned := int64(yi*10000) * 10000 // whole 万元, in 元
		start := l.after(l.start + workday.Date(l.between(0, 10)))
		latest := l.before(l.today + 400)
		due := l.dueFor(f, start, latest)
		if f == fateGreen || f == fateBehind || f == fateStale || f == fateMissing || f == fateMilestoneLate {
			due = max(due, l.before(l.today+120))
		}
		lead := l.unit(dist.Code)
		in := supervise.NewTask{
			Title: title, Area: "key_projects", Source: supervise.SourceProject, Priority: supervise.PriorityImportant,
			Description: fmt.Sprintf("市级重点项目，计划总投资 %d 万元。", planned/10000),
			Acceptance:  "按年度计划完成投资并实现形象进度目标",
			LeadUnitID:  lead.ID, OwnerID: lead.Owner, Start: start, Due: due, Cadence: deadline.CadenceMonthly,
			PlannedInvestment: &planned, Stage: stage, Location: dist.Short + place + "片区",
			Milestones: l.milestones(projectMilestones[string(stage)], start, due),
		}
		if i%6 == 1 {
			in.CoUnitIDs = []int64{l.unit("A04").ID}
		}
		j := job{fate: f, created: start, project: true, in: in}
		if f == fateGreen && i%17 == 0 {
			j.extend = l.between(30, 60)
		}
		if _, err := l.play(j); err != nil {
			return err
		}
		l.stats.Projects++
	}
	return nil
}
