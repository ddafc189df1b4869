package appeal

import (
	"context"
	"fmt"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
)

// Metric codes the appeal feature registers. Each counts the orders
// dispatched to a unit in the period (dispatched_on in the period), per
// current handling unit, with one query for all units.
const (
	MetricResponseRate     = "appeal.response_rate"
	MetricOnTimeRate       = "appeal.on_time_rate"
	MetricResolutionRate   = "appeal.resolution_rate"
	MetricSatisfactionRate = "appeal.satisfaction_rate"
	MetricFollowUpRate     = "appeal.follow_up_rate"
	MetricExtensionRate    = "appeal.extension_rate"
	MetricReturnRate       = "appeal.return_rate"
	MetricRepeatRate       = "appeal.repeat_rate"
)

type unitCounts struct {
	dispatched, responded, resolved, onTime, followed, solved, satisfied, extended, repeat, returns int64
}

func unitFigures(ctx context.Context, q db.Querier, p metric.Period) (map[int64]*unitCounts, error) {
	end := p.Until()
	rows, err := q.QueryContext(ctx, `SELECT unit_id, COUNT(*),
		SUM(CASE WHEN responded_in_time THEN 1 ELSE 0 END),
		SUM(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN resolved_at IS NOT NULL AND on_time THEN 1 ELSE 0 END),
		SUM(CASE WHEN followed_at IS NOT NULL AND satisfaction <> '' THEN 1 ELSE 0 END),
		SUM(CASE WHEN followed_at IS NOT NULL AND solved THEN 1 ELSE 0 END),
		SUM(CASE WHEN satisfaction IN ('satisfied','basic') THEN 1 ELSE 0 END),
		SUM(CASE WHEN extended THEN 1 ELSE 0 END),
		SUM(CASE WHEN is_repeat THEN 1 ELSE 0 END)
		FROM appeals WHERE unit_id IS NOT NULL AND dispatched_on >= ? AND dispatched_on <= ? GROUP BY unit_id`, p.Start.String(), end.String())
	if err != nil {
		return nil, fmt.Errorf("appeal: metrics: %w", err)
	}
	defer rows.Close()
	out := map[int64]*unitCounts{}
	for rows.Next() {
		var u int64
		c := &unitCounts{}
		if err := rows.Scan(&u, &c.dispatched, &c.responded, &c.resolved, &c.onTime, &c.followed, &c.solved, &c.satisfied, &c.extended, &c.repeat); err != nil {
			return nil, fmt.Errorf("appeal: metrics: %w", err)
		}
		out[u] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rr, err := q.QueryContext(ctx, `SELECT unit_id, COUNT(*) FROM appeal_returns WHERE returned_on >= ? AND returned_on <= ? GROUP BY unit_id`, p.Start.String(), end.String())
	if err != nil {
		return nil, fmt.Errorf("appeal: metrics: %w", err)
	}
	defer rr.Close()
	for rr.Next() {
		var u, n int64
		if err := rr.Scan(&u, &n); err != nil {
			return nil, err
		}
		if out[u] == nil {
			out[u] = &unitCounts{}
		}
		out[u].returns = n
	}
	return out, rr.Err()
}

func rate(f func(c *unitCounts) (num, den int64)) metric.ComputeFunc {
	return func(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
		m, err := unitFigures(ctx, q, p)
		if err != nil {
			return nil, err
		}
		v := metric.Values{}
		for u, c := range m {
			num, den := f(c)
			if x, ok := metric.Percent(num, den); ok {
				v[u] = metric.Round(x, 1)
			}
		}
		return v, nil
	}
}

// Metrics returns the per-unit, per-period metrics of 12345 appeals.
func (s *Service) Metrics() []metric.Metric {
	pc := func(code, zh, en string, dir metric.Direction, dzh, den string, f func(c *unitCounts) (int64, int64)) metric.Metric {
		return metric.Metric{Code: code, Name: zh, NameEN: en, Measure: "%", MeasureEN: "%", Direction: dir, Precision: 1,
			Description: dzh, DescriptionEN: den, Compute: rate(f)}
	}
	return []metric.Metric{
		pc(MetricResponseRate, "诉求响应率", "Appeal response rate", metric.HigherBetter,
			"本期派给本单位的工单中，在派单后 1 个工作日内签收的比例。", "Of the orders dispatched to the unit in the period, the share accepted within 1 working day of dispatch.",
			func(c *unitCounts) (int64, int64) { return c.responded, c.dispatched }),
		pc(MetricOnTimeRate, "诉求按期办结率", "Appeal on-time completion rate", metric.HigherBetter,
			"本期派给本单位且已办结的工单中，在办理时限（含一次延期）当日或之前办结的比例。", "Of the orders dispatched to the unit in the period and resolved, the share resolved by the deadline (after at most one extension).",
			func(c *unitCounts) (int64, int64) { return c.onTime, c.resolved }),
		pc(MetricResolutionRate, "诉求解决率", "Appeal resolution rate", metric.HigherBetter,
			"本期派给本单位且已回访的工单中，市民表示问题已解决的比例。", "Of the orders dispatched to the unit in the period and followed up, the share the citizen said was solved.",
			func(c *unitCounts) (int64, int64) { return c.solved, c.followed }),
		pc(MetricSatisfactionRate, "诉求满意率", "Appeal satisfaction rate", metric.HigherBetter,
			"本期派给本单位且已回访的工单中，评价为满意或基本满意的比例。", "Of the orders dispatched to the unit in the period and followed up, the share rated satisfied or fairly satisfied.",
			func(c *unitCounts) (int64, int64) { return c.satisfied, c.followed }),
		pc(MetricFollowUpRate, "诉求回访率", "Appeal follow-up rate", metric.HigherBetter,
			"本期派给本单位且已办结的工单中，已完成回访的比例。", "Of the orders dispatched to the unit in the period and resolved, the share followed up.",
			func(c *unitCounts) (int64, int64) { return c.followed, c.resolved }),
		pc(MetricExtensionRate, "诉求延期率", "Appeal extension rate", metric.LowerBetter,
			"本期派给本单位的工单中，申请过延期的比例。", "Of the orders dispatched to the unit in the period, the share whose deadline was extended.",
			func(c *unitCounts) (int64, int64) { return c.extended, c.dispatched }),
		pc(MetricReturnRate, "诉求退单率", "Appeal return rate", metric.LowerBetter,
			"本期本单位退回的工单数占（本期派给本单位的工单数 + 退回数）的比例。", "Orders the unit returned in the period, over the orders dispatched to it in the period plus those returns.",
			func(c *unitCounts) (int64, int64) { return c.returns, c.dispatched + c.returns }),
		pc(MetricRepeatRate, "重复诉求率", "Repeat-appeal rate", metric.LowerBetter,
			"本期派给本单位的工单中，同一来电号码 30 天内已有诉求的比例。", "Of the orders dispatched to the unit in the period, the share from a phone number that had appealed within the previous 30 days.",
			func(c *unitCounts) (int64, int64) { return c.repeat, c.dispatched }),
	}
}
