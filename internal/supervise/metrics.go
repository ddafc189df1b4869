package supervise

import (
	"context"
	"database/sql"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

// Metric codes supervision registers (item 10). Every figure belongs to a
// task's lead unit (co-units are not scored), counts tasks that were
// assigned (drafts and cancelled tasks never count) and is computed for all
// units with one query.
const (
	MetricTasksDue          = "supervise.tasks_due"
	MetricCompleted         = "supervise.completed"
	MetricOnTimeRate        = "supervise.on_time_rate"
	MetricOverdueCount      = "supervise.overdue_count"
	MetricOverdueWorkdays   = "supervise.overdue_workdays"
	MetricReportPunctuality = "supervise.report_punctuality"
	MetricLookBackPassRate  = "supervise.lookback_pass_rate"
	MetricExtensionRate     = "supervise.extension_rate"
)

// metricCounted is the WHERE condition of a task that counts: assigned at some
// point and not cancelled.
const metricCounted = `state NOT IN ('draft','cancelled')`

// metricBaselineDue is the due date a task was assigned with: extensions move
// due_on but are scored against the original.
const metricBaselineDue = `COALESCE(baseline_due_on, due_on)`

// Metrics returns the per-unit, per-period metrics of supervision, to be
// registered with the metric registry.
func (s *Service) Metrics() []metric.Metric {
	return []metric.Metric{
		{
			Code: MetricTasksDue, Name: "到期任务数", NameEN: "Tasks due", Measure: "件", MeasureEN: "tasks", Direction: metric.Neutral,
			Description:   "完成时限（现行，含已批准的延期）在本期内的已交办任务数，含本期尚未到来的日子。",
			DescriptionEN: "Assigned tasks whose due date in force (after approved extensions) falls in the period, days still to come included.",
			Compute:       s.metricTasksDue,
		},
		{
			Code: MetricCompleted, Name: "办结任务数", NameEN: "Tasks completed", Measure: "件", MeasureEN: "tasks", Direction: metric.HigherBetter,
			Description:   "本期内销号的任务数。",
			DescriptionEN: "Tasks signed off in the period.",
			Compute:       s.metricCompleted,
		},
		{
			Code: MetricOnTimeRate, Name: "按期办结率", NameEN: "On-time completion rate", Measure: "%", MeasureEN: "%", Direction: metric.HigherBetter, Precision: 1,
			Description:   "原定完成时限（交办时的时限，延期不改变）在本期内且已过去的任务中，在原定时限当日或之前销号的比例。",
			DescriptionEN: "Of the tasks whose original due date (as assigned; extensions do not move it) fell in the period and has passed, the share signed off on or before it.",
			Compute:       s.metricOnTimeRate,
		},
		{
			Code: MetricOverdueCount, Name: "逾期任务数", NameEN: "Overdue tasks", Measure: "件", MeasureEN: "tasks", Direction: metric.LowerBetter,
			Description:   "现行完成时限在本期内且已过去的任务中，未在时限当日或之前销号的任务数（仍未办结或逾期后才销号）。",
			DescriptionEN: "Of the tasks whose due date in force fell in the period and has passed, those not signed off by it (still open, or signed off late).",
			Compute:       s.metricOverdueCount,
		},
		{
			Code: MetricOverdueWorkdays, Name: "逾期工作日", NameEN: "Overdue working days", Measure: "个工作日", MeasureEN: "working days", Direction: metric.LowerBetter,
			Description:   "上述逾期任务的逾期工作日合计：从现行完成时限次日起算，到销号日，未销号的到今天（按法定节假日和调休）。",
			DescriptionEN: "The overdue tasks' working days past the due date in force, summed: up to sign-off, or up to today while open (Chinese working-day calendar).",
			Compute:       s.metricOverdueWorkdays,
		},
		{
			Code: MetricReportPunctuality, Name: "报送及时率", NameEN: "Report punctuality", Measure: "%", MeasureEN: "%", Direction: metric.HigherBetter, Precision: 1,
			Description:   "有报送频次的任务，自交办（或开始）起按频次划分报送周期（每日、每周 7 天且 5 个工作日、每两周、每月），本期内截止的周期中有进展报送的比例。",
			DescriptionEN: "For tasks with a report cadence, report periods are counted from assignment (or start) by the cadence as the lights count them; the share of the periods ending in the period that received a progress report.",
			Compute:       s.metricReportPunctuality,
		},
		{
			Code: MetricLookBackPassRate, Name: "回头看通过率", NameEN: "Look-back pass rate", Measure: "%", MeasureEN: "%", Direction: metric.HigherBetter, Precision: 1,
			Description:   "本期内完成的回头看中通过的比例。",
			DescriptionEN: "The share of look-backs decided in the period that passed.",
			Compute:       s.metricLookBackPassRate,
		},
		{
			Code: MetricExtensionRate, Name: "延期率", NameEN: "Extension rate", Measure: "%", MeasureEN: "%", Direction: metric.LowerBetter, Precision: 1,
			Description:   "原定完成时限在本期内的任务中，获批延期的比例。",
			DescriptionEN: "Of the tasks whose original due date falls in the period, the share granted an extension.",
			Compute:       s.metricExtensionRate,
		},
	}
}

// metricCounts runs a query returning (unit id, count) rows.
func metricCounts(ctx context.Context, q db.Querier, query string, args ...any) (metric.Values, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v := metric.Values{}
	for rows.Next() {
		var unit, n int64
		if err := rows.Scan(&unit, &n); err != nil {
			return nil, err
		}
		v[unit] = float64(n)
	}
	return v, rows.Err()
}

// metricRates runs a query returning (unit id, denominator, numerator) rows
// and gives 100·numerator/denominator for units with a denominator.
func metricRates(ctx context.Context, q db.Querier, query string, args ...any) (metric.Values, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v := metric.Values{}
	for rows.Next() {
		var unit, den, num int64
		if err := rows.Scan(&unit, &den, &num); err != nil {
			return nil, err
		}
		if p, ok := metric.Percent(num, den); ok {
			v[unit] = p
		}
	}
	return v, rows.Err()
}

// metricPassed is the last day of p whose due dates are behind us: the day
// before today, or the period's end once it is over.
func metricPassed(p metric.Period) workday.Date {
	if p.Today.IsZero() || p.Today.After(p.End) {
		return p.End
	}
	return p.Today.AddDays(-1)
}

func (s *Service) metricTasksDue(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	return metricCounts(ctx, q, `SELECT lead_unit_id, COUNT(*) FROM tasks
		WHERE `+metricCounted+` AND due_on BETWEEN ? AND ? GROUP BY lead_unit_id`, p.Start, p.End)
}

func (s *Service) metricCompleted(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	return metricCounts(ctx, q, `SELECT lead_unit_id, COUNT(*) FROM tasks
		WHERE state = 'signed_off' AND signed_off_on BETWEEN ? AND ? GROUP BY lead_unit_id`, p.Start, p.Until())
}

func (s *Service) metricOnTimeRate(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	return metricRates(ctx, q, `SELECT lead_unit_id, COUNT(*),
		SUM(CASE WHEN state = 'signed_off' AND signed_off_on <= `+metricBaselineDue+` THEN 1 ELSE 0 END)
		FROM tasks WHERE `+metricCounted+` AND `+metricBaselineDue+` BETWEEN ? AND ? GROUP BY lead_unit_id`, p.Start, metricPassed(p))
}

// metricLateCond is true of a task (due in force passed) not signed off by then.
const metricLateCond = `NOT (state = 'signed_off' AND signed_off_on <= due_on)`

func (s *Service) metricOverdueCount(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	return metricCounts(ctx, q, `SELECT lead_unit_id, SUM(CASE WHEN `+metricLateCond+` THEN 1 ELSE 0 END) FROM tasks
		WHERE `+metricCounted+` AND due_on BETWEEN ? AND ? GROUP BY lead_unit_id`, p.Start, metricPassed(p))
}

// metricOverdueWorkdays reads the late tasks compactly (unit, due,
// sign-off) in one query and counts working days in Go, where the calendar
// of holidays and adjusted working days lives.
func (s *Service) metricOverdueWorkdays(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	rows, err := q.QueryContext(ctx, `SELECT lead_unit_id, due_on, CASE WHEN `+metricLateCond+` THEN 1 ELSE 0 END,
		CASE WHEN state = 'signed_off' THEN signed_off_on END
		FROM tasks WHERE `+metricCounted+` AND due_on BETWEEN ? AND ?`, p.Start, metricPassed(p))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	today := p.Today
	if today.IsZero() {
		today = p.End.AddDays(1)
	}
	v := metric.Values{}
	for rows.Next() {
		var unit int64
		var late int
		var due, done workday.Date
		if err := rows.Scan(&unit, &due, &late, &done); err != nil {
			return nil, err
		}
		v[unit] += 0 // a unit with tasks due and none late scores 0
		if late == 0 {
			continue
		}
		end := today
		if !done.IsZero() {
			end = done
		}
		v[unit] += float64(deadline.OverdueWorkdays(s.Cal, due, end))
	}
	return v, rows.Err()
}

// metricCadenceSpan is a report cadence as calendar days and working days, as the
// deadline engine counts it: a report is late once both have passed since
// the last one, so a six-day 调休 week and a holiday week are forgiven.
func metricCadenceSpan(c deadline.Cadence) (days, workdays int) {
	switch c {
	case deadline.CadenceDaily:
		return 1, 1
	case deadline.CadenceWeekly:
		return 7, 5
	case deadline.CadenceBiweekly:
		return 14, 10
	case deadline.CadenceMonthly:
		return 31, 21
	}
	return 0, 0
}

// metricNextLate is the first day a report counted from last is late.
func metricNextLate(cal *workday.Calendar, last workday.Date, days, workdays int) workday.Date {
	return max(last.AddDays(days+1), cal.AddWorkdays(last, workdays+1))
}

// metricReportPunctuality reads each reporting task with its report dates
// in one query (a join, ordered by task) and walks the report periods in Go.
func (s *Service) metricReportPunctuality(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	until := p.Until()
	rows, err := q.QueryContext(ctx, `SELECT t.id, t.lead_unit_id, t.cadence, t.start_on, t.assigned_on, t.state, t.signed_off_on, t.submitted_at, r.reported_on
		FROM tasks t LEFT JOIN task_reports r ON r.task_id = t.id AND r.reported_on <= ?
		WHERE t.cadence <> '' AND t.`+metricCounted+` AND t.assigned_on IS NOT NULL AND t.assigned_on <= ?
		AND (t.signed_off_on IS NULL OR t.signed_off_on >= ?)
		ORDER BY t.id, r.reported_on`, until, until, p.Start)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type tally struct{ due, met int64 }
	by := map[int64]*tally{}
	var (
		curID   int64
		unit    int64
		days    int
		wdays   int
		from    workday.Date // the periods are counted from here
		end     workday.Date // last day reports were owed
		reports []workday.Date
	)
	flush := func() {
		if curID == 0 || days == 0 {
			return
		}
		t := by[unit]
		if t == nil {
			t = &tally{}
			by[unit] = t
		}
		// Report periods [lo, close]; close is the last day before a
		// report metricCounted from the one before would be late. Only whole
		// periods ending in p count.
		prev, lo, i := from, from, 0
		for {
			close := metricNextLate(s.Cal, prev, days, wdays).AddDays(-1)
			if close.After(end) {
				break
			}
			got := false
			for i < len(reports) && !reports[i].After(close) {
				if !reports[i].Before(lo) {
					got = true
				}
				i++
			}
			if !close.Before(p.Start) {
				t.due++
				if got {
					t.met++
				}
			}
			prev, lo = close, close.AddDays(1)
		}
	}
	for rows.Next() {
		var id, u int64
		var cadence deadline.Cadence
		var state State
		var start, assigned, signed, rep workday.Date
		var submitted sql.NullTime
		if err := rows.Scan(&id, &u, &cadence, &start, &assigned, &state, &signed, &submitted, &rep); err != nil {
			return nil, err
		}
		if id != curID {
			flush()
			curID, unit, reports = id, u, reports[:0]
			days, wdays = metricCadenceSpan(cadence)
			from = max(start, assigned)
			end = until
			if state == StateSignedOff && !signed.IsZero() {
				end = min(end, signed)
			}
			if state == StateSubmitted && submitted.Valid {
				// A task awaiting sign-off owes no more reports.
				end = min(end, workday.FromTime(submitted.Time, s.Loc))
			}
		}
		if !rep.IsZero() {
			reports = append(reports, rep)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flush()
	v := metric.Values{}
	for u, t := range by {
		if pc, ok := metric.Percent(t.met, t.due); ok {
			v[u] = pc
		}
	}
	return v, nil
}

// metricLookBackPassRate counts the look-backs (回头看, lookback.go) decided
// as passed or failed whose planned day falls in the period so far; those
// superseded or still pending do not count.
func (s *Service) metricLookBackPassRate(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	return metricRates(ctx, q, `SELECT t.lead_unit_id, COUNT(*), SUM(CASE WHEN l.state = 'passed' THEN 1 ELSE 0 END)
		FROM task_lookbacks l JOIN tasks t ON t.id = l.task_id
		WHERE l.state IN ('passed','failed') AND l.due_on BETWEEN ? AND ? GROUP BY t.lead_unit_id`, p.Start, p.Until())
}

func (s *Service) metricExtensionRate(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	return metricRates(ctx, q, `SELECT lead_unit_id, COUNT(*),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM task_extensions e WHERE e.task_id = tasks.id AND e.state = 'approved') THEN 1 ELSE 0 END)
		FROM tasks WHERE `+metricCounted+` AND `+metricBaselineDue+` BETWEEN ? AND ? GROUP BY lead_unit_id`, p.Start, p.End)
}
