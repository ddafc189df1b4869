package supervise

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/biaogan/biaogan/internal/workday"
)

// DayReport is one progress report a unit filed on a day, for the unit's
// daily report (考评 每日报 pulls these in rather than having them retyped).
type DayReport struct {
	TaskID  int64
	Title   string
	Percent *int
	Text    string
}

// UnitReportsOn lists the progress reports filed for unitID on day, oldest
// first.
func (s *Service) UnitReportsOn(ctx context.Context, unitID int64, day workday.Date) ([]DayReport, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT r.task_id, t.title, r.percent, r.text FROM task_reports r JOIN tasks t ON t.id = r.task_id
		WHERE r.unit_id = ? AND r.reported_on = ? ORDER BY r.id LIMIT 200`, unitID, day)
	if err != nil {
		return nil, fmt.Errorf("supervise: reports of unit %d on %s: %w", unitID, day, err)
	}
	defer rows.Close()
	var out []DayReport
	for rows.Next() {
		var d DayReport
		var pct sql.NullInt64
		if err := rows.Scan(&d.TaskID, &d.Title, &pct, &d.Text); err != nil {
			return nil, fmt.Errorf("supervise: scan report: %w", err)
		}
		if pct.Valid {
			p := int(pct.Int64)
			d.Percent = &p
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
