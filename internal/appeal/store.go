package appeal

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

const appealCols = `a.id, a.number, a.channel, a.kind, a.category_code, a.content, a.district, a.street, a.address, a.lat, a.lng,
	a.citizen_name_enc, a.citizen_phone_enc, a.citizen_idno_enc, a.citizen_name_mask, a.citizen_phone_mask, a.citizen_idno_mask,
	a.urgency, a.state, a.triage, a.triage_note, a.unit_id, COALESCE(u.name, ''), a.master_id, a.received_at, a.dispatched_at, a.dispatched_on,
	a.accepted_at, a.due_on, a.extended, a.extension_reason, a.return_count, a.replied_at, a.reply, a.resolved_at, a.followed_at,
	a.satisfaction, a.solved, a.reopen_count, a.archived_at, a.is_repeat, a.task_id, a.media_url, a.simhash, a.version, a.updated_at,
	a.responded_in_time, a.on_time`

const appealFrom = ` FROM appeals a LEFT JOIN units u ON u.id = a.unit_id`

type scanner interface{ Scan(...any) error }

func nt(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

func ni(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func nf(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}

func nd(n sql.NullString) workday.Date {
	if !n.Valid || n.String == "" {
		return 0
	}
	d, _ := workday.ParseDate(n.String)
	return d
}

// row carries the flags the rollup and metrics need beyond Appeal.
type row struct {
	*Appeal
	respondedInTime, onTime bool
	returnedBy              int64
	dueMoved                bool
}

func scanAppeal(sc scanner) (*row, error) {
	a := &Appeal{}
	var lat, lng sql.NullFloat64
	var unit, master, task sql.NullInt64
	var disp, acc, rep, res, fol, arc sql.NullTime
	var dispOn, due sql.NullString
	var solved sql.NullBool
	var sim int64
	r := &row{Appeal: a}
	err := sc.Scan(&a.ID, &a.Number, &a.Channel, &a.Kind, &a.CategoryCode, &a.Content, &a.District, &a.Street, &a.Address, &lat, &lng,
		&a.enc.name, &a.enc.phone, &a.enc.idno, &a.Citizen.Name, &a.Citizen.Phone, &a.Citizen.IDNo,
		&a.Urgency, &a.State, &a.Triage, &a.TriageNote, &unit, &a.UnitName, &master, &a.ReceivedAt, &disp, &dispOn,
		&acc, &due, &a.Extended, &a.ExtReason, &a.ReturnCount, &rep, &a.Reply, &res, &fol,
		&a.Satisfaction, &solved, &a.ReopenCount, &arc, &a.IsRepeat, &task, &a.MediaURL, &sim, &a.Version, &a.UpdatedAt,
		&r.respondedInTime, &r.onTime)
	if err != nil {
		return nil, err
	}
	a.Citizen.Masked = true
	a.Lat, a.Long = nf(lat), nf(lng)
	a.UnitID, a.MasterID, a.TaskID = ni(unit), ni(master), ni(task)
	a.DispatchedAt, a.AcceptedAt, a.RepliedAt, a.ResolvedAt, a.FollowedAt, a.ArchivedAt = nt(disp), nt(acc), nt(rep), nt(res), nt(fol), nt(arc)
	a.DispatchedOn, a.DueOn = nd(dispOn), nd(due)
	a.ReceivedAt, a.UpdatedAt = a.ReceivedAt.UTC(), a.UpdatedAt.UTC()
	if solved.Valid {
		v := solved.Bool
		a.Solved = &v
	}
	a.simhash = uint64(sim)
	return r, nil
}

func loadRow(ctx context.Context, q db.Querier, id int64) (*row, error) {
	r, err := scanAppeal(q.QueryRowContext(ctx, `SELECT `+appealCols+appealFrom+` WHERE a.id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, errNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("appeal: load %d: %w", id, err)
	}
	return r, nil
}

func dateArg(d workday.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func int64Arg(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// save writes every mutable column, checking the version read.
func save(ctx context.Context, tx *db.Tx, r *row, now time.Time) error {
	a := r.Appeal
	var solved any
	if a.Solved != nil {
		solved = *a.Solved
	}
	res, err := tx.ExecContext(ctx, `UPDATE appeals SET category_code = ?, state = ?, triage = ?, triage_note = ?, unit_id = ?, master_id = ?,
		dispatched_at = ?, dispatched_on = ?, accepted_at = ?, due_on = ?, extended = ?, extension_reason = ?, return_count = ?,
		replied_at = ?, reply = ?, resolved_at = ?, resolved_on = ?, followed_at = ?, satisfaction = ?, solved = ?, reopen_count = ?,
		archived_at = ?, task_id = ?, responded_in_time = ?, on_time = ?, urgency = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`,
		a.CategoryCode, string(a.State), a.Triage, a.TriageNote, int64Arg(a.UnitID), int64Arg(a.MasterID),
		timeArg(a.DispatchedAt), dateArg(a.DispatchedOn), timeArg(a.AcceptedAt), dateArg(a.DueOn), a.Extended, a.ExtReason, a.ReturnCount,
		timeArg(a.RepliedAt), a.Reply, timeArg(a.ResolvedAt), resolvedOn(a), timeArg(a.FollowedAt), a.Satisfaction, solved, a.ReopenCount,
		timeArg(a.ArchivedAt), int64Arg(a.TaskID), r.respondedInTime, r.onTime, a.Urgency, now, a.ID, a.Version)
	if err != nil {
		return fmt.Errorf("appeal: save %d: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errConflict(a.ID)
	}
	a.Version++
	return nil
}

var loc = mustLoc()

func mustLoc() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}

func resolvedOn(a *Appeal) any {
	if a.ResolvedAt == nil {
		return nil
	}
	return workday.FromTime(*a.ResolvedAt, loc).String()
}

// contrib is an order's contribution to the rollup.
type contrib struct {
	day, cat, district                              string
	unit                                            int64
	received, resolved, onTime, followed, satisfied int64
	handle                                          int64
}

func contribOf(r *row) contrib {
	a := r.Appeal
	c := contrib{day: workday.FromTime(a.ReceivedAt, loc).String(), cat: a.CategoryCode, district: a.District, received: 1}
	if a.UnitID != nil {
		c.unit = *a.UnitID
	}
	if a.ResolvedAt != nil {
		c.resolved = 1
		c.handle = int64(a.ResolvedAt.Sub(a.ReceivedAt).Seconds())
		if r.onTime {
			c.onTime = 1
		}
	}
	if a.FollowedAt != nil && a.Satisfaction != "" {
		c.followed = 1
		if a.Satisfaction == Satisfied || a.Satisfaction == Basic {
			c.satisfied = 1
		}
	}
	return c
}

const rollupUpsert = `INSERT INTO appeal_rollup (day, category_code, district, unit_id, received, resolved, on_time, followed, satisfied, handle_seconds)
	VALUES %s ON CONFLICT (day, category_code, district, unit_id) DO UPDATE SET
	received = appeal_rollup.received + excluded.received, resolved = appeal_rollup.resolved + excluded.resolved,
	on_time = appeal_rollup.on_time + excluded.on_time, followed = appeal_rollup.followed + excluded.followed,
	satisfied = appeal_rollup.satisfied + excluded.satisfied, handle_seconds = appeal_rollup.handle_seconds + excluded.handle_seconds`

const dimUpsert = `INSERT INTO appeal_rollup_dim (dim, day, key, received, resolved, on_time, followed, satisfied, handle_seconds)
	VALUES %s ON CONFLICT (dim, day, key) DO UPDATE SET
	received = appeal_rollup_dim.received + excluded.received, resolved = appeal_rollup_dim.resolved + excluded.resolved,
	on_time = appeal_rollup_dim.on_time + excluded.on_time, followed = appeal_rollup_dim.followed + excluded.followed,
	satisfied = appeal_rollup_dim.satisfied + excluded.satisfied, handle_seconds = appeal_rollup_dim.handle_seconds + excluded.handle_seconds`

// dimKey is one row of appeal_rollup_dim.
type dimKey struct{ dim, day, key string }

// dimsOf lists the dimension rows a base rollup key adds to.
func dimsOf(day, cat, district string, unit int64) [5]dimKey {
	return [5]dimKey{{"all", day, ""}, {"cat", day, cat}, {"district", day, district}, {"unit", day, fmt.Sprint(unit)}, {"catdist", day, cat + "|" + district}}
}

// applyRollup moves an order's contribution from before to after.
func applyRollup(ctx context.Context, tx *db.Tx, before, after *contrib) error {
	if before != nil && after != nil && *before == *after {
		return nil
	}
	var vals []string
	var args []any
	add := func(c *contrib, sign int64) {
		vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, c.day, c.cat, c.district, c.unit, sign*c.received, sign*c.resolved, sign*c.onTime, sign*c.followed, sign*c.satisfied, sign*c.handle)
	}
	// Two rows with one key in one statement conflict on PostgreSQL: one
	// statement each.
	for _, x := range []struct {
		c    *contrib
		sign int64
	}{{before, -1}, {after, 1}} {
		if x.c == nil {
			continue
		}
		vals, args = vals[:0], args[:0]
		add(x.c, x.sign)
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(rollupUpsert, strings.Join(vals, ",")), args...); err != nil {
			return fmt.Errorf("appeal: rollup: %w", err)
		}
		vals, args = vals[:0], args[:0]
		c, sg := x.c, x.sign
		for _, k := range dimsOf(c.day, c.cat, c.district, c.unit) {
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, k.dim, k.day, k.key, sg*c.received, sg*c.resolved, sg*c.onTime, sg*c.followed, sg*c.satisfied, sg*c.handle)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(dimUpsert, strings.Join(vals, ",")), args...); err != nil {
			return fmt.Errorf("appeal: rollup: %w", err)
		}
	}
	return nil
}

func addEvent(ctx context.Context, tx *db.Tx, id int64, at time.Time, ac Actor, action string, from, to State, unit *int64, note string) error {
	var actorID any
	if ac.UserID != 0 {
		actorID = ac.UserID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO appeal_events (appeal_id, at, actor_id, actor, action, from_state, to_state, unit_id, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, at, actorID, ac.Name, action, string(from), string(to), int64Arg(unit), note)
	if err != nil {
		return fmt.Errorf("appeal: event: %w", err)
	}
	return nil
}

func (s *Service) events(ctx context.Context, id int64) ([]Event, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT at, actor, action, from_state, to_state, unit_id, note FROM appeal_events WHERE appeal_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("appeal: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var u sql.NullInt64
		if err := rows.Scan(&e.At, &e.Actor, &e.Action, &e.FromState, &e.ToState, &u, &e.Note); err != nil {
			return nil, fmt.Errorf("appeal: events: %w", err)
		}
		e.At = e.At.UTC()
		e.UnitID = ni(u)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Service) attachments(ctx context.Context, id int64) ([]Attachment, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name, url FROM appeal_attachments WHERE appeal_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("appeal: attachments: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var x Attachment
		if err := rows.Scan(&x.ID, &x.Name, &x.URL); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// list reads orders by f; total counts all matches.
func (s *Service) list(ctx context.Context, f Filter) ([]*Appeal, int, error) {
	var where []string
	var args []any
	if f.State != "" {
		where = append(where, "a.state = ?")
		args = append(args, string(f.State))
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "a.state IN ("+strings.Join(ph, ",")+")")
	}
	if f.UnitID != 0 {
		where = append(where, "a.unit_id = ?")
		args = append(args, f.UnitID)
	}
	if f.Category != "" {
		where = append(where, "(a.category_code = ? OR a.category_code LIKE ?)")
		args = append(args, f.Category, f.Category+"%")
	}
	if f.District != "" {
		where = append(where, "a.district = ?")
		args = append(args, f.District)
	}
	if f.Query != "" {
		where = append(where, "(a.number = ? OR a.content LIKE ?)")
		args = append(args, f.Query, "%"+f.Query+"%")
	}
	if !f.From.IsZero() {
		where = append(where, "a.received_at >= ?")
		args = append(args, f.From.Time(loc).UTC())
	}
	if !f.To.IsZero() {
		where = append(where, "a.received_at < ?")
		args = append(args, f.To.AddDays(1).Time(loc).UTC())
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM appeals a`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("appeal: count: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT `+appealCols+appealFrom+w+` ORDER BY a.received_at DESC, a.id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("appeal: list: %w", err)
	}
	defer rows.Close()
	var out []*Appeal
	for rows.Next() {
		r, err := scanAppeal(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("appeal: list: %w", err)
		}
		out = append(out, r.Appeal)
	}
	return out, total, rows.Err()
}

// nextNumber allocates the order number: date + 6-digit sequence.
func nextNumber(ctx context.Context, tx *db.Tx, day workday.Date) (string, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO appeal_seq (day, n) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET n = appeal_seq.n + 1 RETURNING n`, day.String()).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("appeal: number: %w", err)
	}
	return numberOf(day, n), nil
}

func numberOf(day workday.Date, n int64) string {
	y, m, d := day.Civil()
	return fmt.Sprintf("%04d%02d%02d%06d", y, int(m), d, n)
}
