package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

// Metric codes assess registers.
const (
	MetricDailyPunctuality = "assess.daily_punctuality"
	MetricMonthlyScore     = "assess.monthly_score"
	MetricYearScore        = "assess.year_score"
)

// DailyInput is a daily report as filed.
type DailyInput struct {
	Day      workday.Date // zero: today
	Done     string
	Moved    string
	Problems string
	Tomorrow string
}

// dueAt is the instant a day's report is due.
func (s *Service) dueAt(day workday.Date, st Settings) time.Time {
	d, err := parseClock(st.DailyDue)
	if err != nil {
		d = 17*time.Hour + 30*time.Minute
	}
	return day.Time(s.Loc).Add(d)
}

// FileDaily files (or, the same day, corrects) the unit's report of a day:
// done today, tasks moved, problems, tomorrow. The unit's task progress
// reports of that day are pulled in from supervision, not retyped.
func (s *Service) FileDaily(ctx context.Context, a Actor, in DailyInput) (*DailyReport, error) {
	if !a.Reporter && !a.System {
		return nil, forbidden("unit_only", "只有单位联络员或负责人可以报送每日报", "only a unit's liaison or head files daily reports")
	}
	if a.UnitID == 0 {
		return nil, errNoUnit()
	}
	today := s.Today()
	if in.Day.IsZero() {
		in.Day = today
	}
	if in.Day.After(today) {
		return nil, invalid("day", "不能报送未来日期的每日报", "a daily report cannot be filed for a future day")
	}
	if in.Day.Before(today.AddDays(-7)) {
		return nil, invalid("day", "只能补报最近 7 天的每日报", "only the last 7 days can be filed late")
	}
	for _, f := range []struct {
		name, v string
		need    bool
	}{{"done", in.Done, true}, {"moved", in.Moved, false}, {"problems", in.Problems, false}, {"tomorrow", in.Tomorrow, false}} {
		v := strings.TrimSpace(f.v)
		if f.need && v == "" {
			return nil, invalid(f.name, "“今日完成”必填", "done is required")
		}
		if len([]rune(v)) > 2000 {
			return nil, invalid(f.name, f.name+" 不超过 2000 字", f.name+" is at most 2000 characters")
		}
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var lines []ReportLine
	if s.Reports != nil {
		if lines, err = s.Reports.UnitReports(ctx, a.UnitID, in.Day); err != nil {
			return nil, fmt.Errorf("assess: task reports of unit %d on %s: %w", a.UnitID, in.Day, err)
		}
	}
	if lines == nil {
		lines = []ReportLine{}
	}
	raw, err := json.Marshal(lines)
	if err != nil {
		return nil, fmt.Errorf("assess: encode task lines: %w", err)
	}
	now := s.stamp()
	onTime := s.Cal.IsWorkday(in.Day) && !now.After(s.dueAt(in.Day, st))
	var id int64
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		var old int64
		var wasOnTime bool
		err := tx.QueryRowContext(ctx, `SELECT id, on_time FROM assess_daily_reports WHERE unit_id = ? AND day = ?`, a.UnitID, in.Day).Scan(&old, &wasOnTime)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id, err = db.InsertID(ctx, tx, `INSERT INTO assess_daily_reports (unit_id, day, done, moved, problems, tomorrow, task_lines, on_time, filed_by, filed_by_name, filed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.UnitID, in.Day, strings.TrimSpace(in.Done), strings.TrimSpace(in.Moved),
				strings.TrimSpace(in.Problems), strings.TrimSpace(in.Tomorrow), string(raw), onTime, nullID(a.UserID), a.Username, now)
			if err != nil {
				if db.IsUniqueViolation(err) {
					return conflict("daily_report_exists", "本单位当日的每日报刚刚已报送，请刷新", "the unit's report of the day was just filed; reload")
				}
				return fmt.Errorf("assess: store daily report: %w", err)
			}
			return s.Audit.WriteTx(ctx, tx, a.entry("assess.daily.file", fmt.Sprintf("daily:%d", id), fmt.Sprintf("unit %d day %s on_time %t", a.UnitID, in.Day, onTime)))
		case err != nil:
			return fmt.Errorf("assess: find daily report: %w", err)
		}
		// A correction keeps the first filing's punctuality.
		id = old
		if _, err := tx.ExecContext(ctx, `UPDATE assess_daily_reports SET done = ?, moved = ?, problems = ?, tomorrow = ?, task_lines = ?, filed_by = ?, filed_by_name = ? WHERE id = ?`,
			strings.TrimSpace(in.Done), strings.TrimSpace(in.Moved), strings.TrimSpace(in.Problems), strings.TrimSpace(in.Tomorrow), string(raw), nullID(a.UserID), a.Username, id); err != nil {
			return fmt.Errorf("assess: update daily report %d: %w", id, err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.daily.update", fmt.Sprintf("daily:%d", id), fmt.Sprintf("unit %d day %s", a.UnitID, in.Day)))
	})
	if err != nil {
		return nil, err
	}
	return s.Daily(ctx, id)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Daily returns one daily report.
func (s *Service) Daily(ctx context.Context, id int64) (*DailyReport, error) {
	d, err := scanDaily(s.DB.QueryRowContext(ctx, `SELECT `+dailyCols+` FROM assess_daily_reports r JOIN units u ON u.id = r.unit_id WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound("daily_report_not_found", fmt.Sprintf("每日报 %d 不存在", id), fmt.Sprintf("daily report %d not found", id))
	}
	if err != nil {
		return nil, fmt.Errorf("assess: daily report %d: %w", id, err)
	}
	return d, nil
}

// DailyOf returns the unit's report of a day, or nil.
func (s *Service) DailyOf(ctx context.Context, unitID int64, day workday.Date) (*DailyReport, error) {
	d, err := scanDaily(s.DB.QueryRowContext(ctx, `SELECT `+dailyCols+` FROM assess_daily_reports r JOIN units u ON u.id = r.unit_id WHERE r.unit_id = ? AND r.day = ?`, unitID, day))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("assess: daily report of %d on %s: %w", unitID, day, err)
	}
	return d, nil
}

// Digest is a unit's daily reports over a week or a month.
type Digest struct {
	UnitID   int64          `json:"unit_id"`
	UnitName string         `json:"unit_name"`
	Kind     string         `json:"kind"` // week, month
	Start    workday.Date   `json:"start"`
	End      workday.Date   `json:"end"`
	Workdays int            `json:"workdays"`
	Filed    int            `json:"filed"`
	OnTime   int            `json:"on_time"`
	Missing  []workday.Date `json:"missing"`
	Problems []string       `json:"problems"`
	Reports  []DailyReport  `json:"reports"`
}

// MakeDigest builds the weekly (Monday–Sunday holding date) or monthly
// digest of a unit's daily reports.
func (s *Service) MakeDigest(ctx context.Context, unitID int64, kind string, date workday.Date) (*Digest, error) {
	name, err := s.unitName(ctx, unitID)
	if err != nil {
		return nil, err
	}
	dg := &Digest{UnitID: unitID, UnitName: name, Kind: kind, Missing: []workday.Date{}, Problems: []string{}}
	switch kind {
	case "week":
		off := (int(date.Weekday()) + 6) % 7
		dg.Start = date.AddDays(-off)
		dg.End = dg.Start.AddDays(6)
	case "month":
		mp := metric.MonthOf(date)
		dg.Start, dg.End = mp.Start, mp.End
	default:
		return nil, invalid("kind", "kind 须为 week 或 month", "kind must be week or month")
	}
	rs, err := s.ListDaily(ctx, DailyFilter{UnitID: unitID, From: dg.Start, To: dg.End, Limit: 40})
	if err != nil {
		return nil, err
	}
	dg.Reports = rs
	filed := map[workday.Date]bool{}
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		filed[r.Day] = true
		dg.Filed++
		if r.OnTime {
			dg.OnTime++
		}
		if r.Problems != "" {
			dg.Problems = append(dg.Problems, r.Day.String()+"："+r.Problems)
		}
	}
	today := s.Today()
	for d := dg.Start; !d.After(dg.End) && !d.After(today); d = d.AddDays(1) {
		if s.Cal.IsWorkday(d) {
			dg.Workdays++
			if !filed[d] {
				dg.Missing = append(dg.Missing, d)
			}
		}
	}
	return dg, nil
}

// RemindPass sends, on a working day after the due time, one reminder per
// unit that has not filed today's report to its liaisons and head. It
// returns how many units were reminded.
func (s *Service) RemindPass(ctx context.Context, tx *db.Tx) (int, error) {
	today := s.Today()
	if !s.Cal.IsWorkday(today) {
		return 0, nil
	}
	st, err := loadSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	if s.Now().Before(s.dueAt(today, st)) {
		return 0, nil
	}
	units, err := unitsOf(ctx, tx, st.Kinds)
	if err != nil {
		return 0, err
	}
	done := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT unit_id FROM assess_daily_reports WHERE day = ? UNION SELECT unit_id FROM assess_daily_reminders WHERE day = ?`, today, today)
	if err != nil {
		return 0, fmt.Errorf("assess: reports of %s: %w", today, err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("assess: scan unit: %w", err)
		}
		done[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	members, err := unitMembers(ctx, tx)
	if err != nil {
		return 0, err
	}
	n := 0
	now := s.stamp()
	var notices []Notice
	for _, u := range units {
		if done[u.ID] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assess_daily_reminders (unit_id, day, sent_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, u.ID, today, now); err != nil {
			return n, fmt.Errorf("assess: record reminder of %d: %w", u.ID, err)
		}
		n++
		if len(members[u.ID]) > 0 {
			notices = append(notices, Notice{To: members[u.ID], Kind: "daily_report",
				Title: [2]string{fmt.Sprintf("%s 每日报尚未报送", today), fmt.Sprintf("Daily report for %s not filed", today)},
				Body: [2]string{fmt.Sprintf("%s 尚未报送 %s 的每日报（%s 截止），请尽快报送。", u.Name, today, st.DailyDue),
					fmt.Sprintf("%s has not filed its daily report for %s (due %s); please file it now.", u.Name, today, st.DailyDue)},
				Link: "/assess/daily"})
		}
	}
	if s.Notifier != nil && len(notices) > 0 {
		if err := s.Notifier.Notify(ctx, tx, notices...); err != nil {
			return n, err
		}
	}
	return n, nil
}

// metricDailyPunctuality: of the working days of the period so far, the
// share on which the unit filed its daily report on time.
func (s *Service) metricDailyPunctuality(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	until := p.Until()
	wd := 0
	for d := p.Start; !d.After(until); d = d.AddDays(1) {
		if s.Cal.IsWorkday(d) {
			wd++
		}
	}
	out := metric.Values{}
	if wd == 0 {
		return out, nil
	}
	st, err := loadSettings(ctx, q)
	if err != nil {
		return nil, err
	}
	units, err := unitsOf(ctx, q, st.Kinds)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int64{}
	rows, err := q.QueryContext(ctx, `SELECT unit_id, COUNT(*) FROM assess_daily_reports WHERE day >= ? AND day <= ? AND on_time = TRUE GROUP BY unit_id`, p.Start, until)
	if err != nil {
		return nil, fmt.Errorf("assess: punctuality: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("assess: scan punctuality: %w", err)
		}
		counts[id] = n
	}
	for _, u := range units {
		v, _ := metric.Percent(counts[u.ID], int64(wd))
		out[u.ID] = v
	}
	return out, rows.Err()
}

// RegisteredMetrics are the metrics assess registers: daily-report
// punctuality and the published scores (internal indicators for
// benchmarking).
func (s *Service) RegisteredMetrics() []metric.Metric {
	return []metric.Metric{
		{Code: MetricDailyPunctuality, Name: "每日报及时率", NameEN: "Daily-report punctuality", Measure: "%", MeasureEN: "%", Direction: metric.HigherBetter, Precision: 1,
			Description:   "本期已过去的工作日中，单位在规定时间前报送每日报的比例。",
			DescriptionEN: "Of the working days of the period so far, the share on which the unit filed its daily report by the due time.",
			Compute:       s.metricDailyPunctuality},
		{Code: MetricMonthlyScore, Name: "每月晒得分", NameEN: "Monthly showcase score", Measure: "分", MeasureEN: "points", Direction: metric.HigherBetter, Precision: 2,
			Description:   "已发布的每月晒得分；跨月期间取已发布各月的平均分。",
			DescriptionEN: "The published monthly showcase score; over a longer period, the mean of the published months in it.",
			Compute:       s.metricMonthlyScore},
		{Code: MetricYearScore, Name: "年终考评得分", NameEN: "Year-end evaluation score", Measure: "分", MeasureEN: "points", Direction: metric.HigherBetter, Precision: 2,
			Description:   "已发布的年终考评总分（期间所在年度）。",
			DescriptionEN: "The published year-end evaluation score of the period's year.",
			Compute:       s.metricYearScore},
	}
}

func (s *Service) metricMonthlyScore(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.data FROM assess_periods p JOIN assess_snapshots s ON s.period_id = p.id AND s.version = p.version
		WHERE p.kind = 'month' AND p.version > 0 AND p.start_on >= ? AND p.end_on <= ?`, p.Start, p.End)
	if err != nil {
		return nil, fmt.Errorf("assess: monthly scores: %w", err)
	}
	defer rows.Close()
	sum, n := map[int64]float64{}, map[int64]int{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("assess: scan snapshot: %w", err)
		}
		var sc Showcase
		if err := json.Unmarshal([]byte(raw), &sc); err != nil {
			return nil, fmt.Errorf("assess: decode snapshot: %w", err)
		}
		for _, it := range sc.Items {
			if it.Rank > 0 {
				sum[it.UnitID] += it.Score
				n[it.UnitID]++
			}
		}
	}
	out := metric.Values{}
	for id, v := range sum {
		out[id] = round2(v / float64(n[id]))
	}
	return out, rows.Err()
}

func (s *Service) metricYearScore(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	out := metric.Values{}
	pp, err := getPeriod(ctx, q, fmt.Sprint(p.Start.Year()))
	if err != nil || pp == nil || !pp.Published() {
		return out, err
	}
	var ev Evaluation
	if err := snapshot(ctx, q, pp.ID, pp.Version, &ev); err != nil {
		return nil, err
	}
	for _, r := range ev.Items {
		out[r.UnitID] = r.Score
	}
	return out, nil
}

// filedOn is the set of units that filed a report of day.
func (s *Service) filedOn(ctx context.Context, day workday.Date) (map[int64]bool, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT unit_id FROM assess_daily_reports WHERE day = ?`, day)
	if err != nil {
		return nil, fmt.Errorf("assess: reports of %s: %w", day, err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("assess: scan unit: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// unitMembers are the users who file for each unit (liaisons and heads).
func unitMembers(ctx context.Context, q db.Querier) (map[int64][]int64, error) {
	members := map[int64][]int64{}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT u.unit_id, u.id FROM users u JOIN user_roles r ON r.user_id = u.id
		WHERE u.disabled = FALSE AND u.unit_id IS NOT NULL AND r.role IN ('liaison','unit_head') ORDER BY u.unit_id, u.id`)
	if err != nil {
		return nil, fmt.Errorf("assess: unit members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid, id int64
		if err := rows.Scan(&uid, &id); err != nil {
			return nil, fmt.Errorf("assess: scan member: %w", err)
		}
		members[uid] = append(members[uid], id)
	}
	return members, rows.Err()
}

// DigestPass sends each unit's members the digest of its daily reports:
// on Mondays for the week before, on the 1st for the month before. Each
// digest goes out once (a marker in the settings table records it). It
// returns how many units got one.
func (s *Service) DigestPass(ctx context.Context, tx *db.Tx) (int, error) {
	today := s.Today()
	type span struct {
		kind, zh, en string
		start, end   workday.Date
	}
	var spans []span
	if today.Weekday() == time.Monday {
		spans = append(spans, span{"week", "上周", "last week", today.AddDays(-7), today.AddDays(-1)})
	}
	if today.Day() == 1 {
		m := metric.MonthOf(today.AddDays(-1))
		spans = append(spans, span{"month", "上月", "last month", m.Start, m.End})
	}
	if len(spans) == 0 {
		return 0, nil
	}
	st, err := loadSettings(ctx, tx)
	if err != nil {
		return 0, err
	}
	units, err := unitsOf(ctx, tx, st.Kinds)
	if err != nil {
		return 0, err
	}
	members, err := unitMembers(ctx, tx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sp := range spans {
		res, err := tx.ExecContext(ctx, `INSERT INTO assess_settings (key, value, updated_at) VALUES (?, 'sent', ?) ON CONFLICT DO NOTHING`,
			"digest:"+sp.kind+":"+sp.start.String(), s.stamp())
		if err != nil {
			return n, fmt.Errorf("assess: mark digest: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue // sent already
		}
		wd := 0
		for d := sp.start; !d.After(sp.end); d = d.AddDays(1) {
			if s.Cal.IsWorkday(d) {
				wd++
			}
		}
		filed, onTime := map[int64]int{}, map[int64]int{}
		rows, err := tx.QueryContext(ctx, `SELECT unit_id, COUNT(*), SUM(CASE WHEN on_time THEN 1 ELSE 0 END) FROM assess_daily_reports WHERE day >= ? AND day <= ? GROUP BY unit_id`, sp.start, sp.end)
		if err != nil {
			return n, fmt.Errorf("assess: digest counts: %w", err)
		}
		for rows.Next() {
			var id int64
			var f, o int
			if err := rows.Scan(&id, &f, &o); err != nil {
				rows.Close()
				return n, fmt.Errorf("assess: scan digest counts: %w", err)
			}
			filed[id], onTime[id] = f, o
		}
		rows.Close()
		var notices []Notice
		for _, u := range units {
			if len(members[u.ID]) == 0 {
				continue
			}
			n++
			notices = append(notices, Notice{To: members[u.ID], Kind: "daily_digest",
				Title: [2]string{fmt.Sprintf("%s%s每日报汇总", u.Name, sp.zh), fmt.Sprintf("%s: daily reports of %s", u.Name, sp.en)},
				Body: [2]string{fmt.Sprintf("%s 至 %s：%d 个工作日，报送 %d 次，按时 %d 次。", sp.start, sp.end, wd, filed[u.ID], onTime[u.ID]),
					fmt.Sprintf("%s to %s: %d working days, %d reports filed, %d on time.", sp.start, sp.end, wd, filed[u.ID], onTime[u.ID])},
				Link: fmt.Sprintf("/assess/digest?unit_id=%d&kind=%s&date=%s", u.ID, sp.kind, sp.start)})
		}
		if s.Notifier != nil && len(notices) > 0 {
			if err := s.Notifier.Notify(ctx, tx, notices...); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
