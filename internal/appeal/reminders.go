package appeal

import (
	"context"
	"fmt"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/workday"
)

// ReminderEvery is how often (in working days) overdue orders are chased.
const ReminderEvery = 1

// RemindPass sends the deadline engine's reminders (3 and 1 working days
// before, on the day, then every working day overdue) for open orders at
// units, once each, recording the key sent. It returns how many it sent.
func (s *Service) RemindPass(ctx context.Context, tx *db.Tx) (int, error) {
	if s.Notes == nil {
		return 0, nil
	}
	today := s.Today()
	horizon := s.Cal.AddWorkdays(today, 3)
	rows, err := tx.QueryContext(ctx, `SELECT id, number, unit_id, due_on, remind_key FROM appeals
		WHERE state IN ('dispatched','accepted') AND unit_id IS NOT NULL AND due_on IS NOT NULL AND due_on <= ? ORDER BY due_on, id LIMIT 5000`, horizon.String())
	if err != nil {
		return 0, fmt.Errorf("appeal: remind: %w", err)
	}
	type item struct {
		id     int64
		number string
		unit   int64
		due    workday.Date
		rem    deadline.Reminder
	}
	var due []item
	for rows.Next() {
		var it item
		var d, key string
		if err := rows.Scan(&it.id, &it.number, &it.unit, &d, &key); err != nil {
			rows.Close()
			return 0, err
		}
		if it.due, err = workday.ParseDate(d); err != nil {
			continue
		}
		if r, ok := deadline.DueReminder(s.Cal, it.due, ReminderEvery, key, today); ok {
			it.rem = r
			due = append(due, it)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, it := range due {
		t := it.rem.Text()
		if err := s.Notes.NotifyUnit(ctx, tx, it.unit, "reminder", fmt.Sprintf("/appeals/%d", it.id), fmt.Sprintf("appeal:%d", it.id),
			"12345工单 "+it.number+" "+t.ZH, "12345 order "+it.number+": "+t.EN, t.ZH, t.EN); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE appeals SET remind_key = ? WHERE id = ?`, it.rem.Key, it.id); err != nil {
			return 0, fmt.Errorf("appeal: remind: %w", err)
		}
	}
	return len(due), nil
}
