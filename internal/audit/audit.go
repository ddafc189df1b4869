// Package audit keeps the append-only, hash-chained audit log. Each record's
// SM3 hash covers its fields and the previous record's hash, so an altered or
// removed record breaks the chain from there on; database triggers refuse
// updates and deletes of records younger than the retention floor.
package audit

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/biaogan/biaogan/internal/db"
)

// MinRetention is how long records must be kept (等保: at least six months).
const MinRetention = 184 * 24 * time.Hour

// Results.
const (
	OK     = "ok"
	Denied = "denied"
	Failed = "failed"
)

// Entry is one thing that happened.
type Entry struct {
	ActorID int64  // 0 for anonymous or system
	Actor   string // username, "system" or "anonymous"
	IP      string
	Action  string // e.g. "login", "unit.update"
	Object  string // e.g. "unit:12"
	Summary string // before/after, briefly
	Result  string // OK, Denied, Failed
}

// Record is a stored entry.
type Record struct {
	ID       int64
	At       time.Time
	PrevHash string
	Hash     string
	Entry
}

// Log appends and reads audit records.
type Log struct {
	DB  *db.DB
	Now func() time.Time
}

// New returns a Log on d using the wall clock.
func New(d *db.DB) *Log { return &Log{DB: d, Now: time.Now} }

func hashOf(prev string, id int64, at time.Time, e Entry) string {
	h := sm3.New()
	// Length-prefixed fields so no two different records hash alike.
	for _, f := range []string{prev, strconv.FormatInt(id, 10), at.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(e.ActorID, 10), e.Actor, e.IP, e.Action, e.Object, e.Summary, e.Result} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Write appends e in its own transaction.
func (l *Log) Write(ctx context.Context, e Entry) error {
	return l.DB.InTx(ctx, func(tx *db.Tx) error { return l.WriteTx(ctx, tx, e) })
}

// WriteTx appends e inside tx, so the record lands with the change it
// describes or not at all.
func (l *Log) WriteTx(ctx context.Context, tx *db.Tx, e Entry) error {
	if e.Result == "" {
		e.Result = OK
	}
	if e.Actor == "" {
		e.Actor = "anonymous"
	}
	if tx.D() == db.Postgres {
		// Serialise appends across connections and instances.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727002)`); err != nil {
			return fmt.Errorf("audit: lock: %w", err)
		}
	}
	prev, lastID, err := head(ctx, tx)
	if err != nil {
		return err
	}
	// Microseconds: what both engines store exactly, so the hash recomputes.
	at := l.Now().UTC().Truncate(time.Microsecond)
	id := lastID + 1
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor_id, actor, ip, action, object, summary, result, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, at, nullID(e.ActorID), e.Actor, e.IP, e.Action, e.Object, e.Summary, e.Result, prev, hashOf(prev, id, at, e))
	if err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// head returns the hash and id the next record chains to.
func head(ctx context.Context, q db.Querier) (string, int64, error) {
	var hash string
	var id int64
	err := q.QueryRowContext(ctx, `SELECT hash, id FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&hash, &id)
	if err == nil {
		return hash, id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", 0, fmt.Errorf("audit: read head: %w", err)
	}
	// Empty log: continue from the last prune's anchor, if any.
	var first int64
	err = q.QueryRowContext(ctx, `SELECT prev_hash, first_id FROM audit_anchor ORDER BY id DESC LIMIT 1`).Scan(&hash, &first)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("audit: read anchor: %w", err)
	}
	return hash, first - 1, nil
}

// VerifyResult tells how a chain walk ended.
type VerifyResult struct {
	Checked int64
	// BadID is the first record that does not fit the chain (0 when intact).
	BadID  int64
	Reason string
}

// Verify walks the whole chain from the oldest kept record.
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	prev, expectID := "", int64(1)
	var first int64
	err := l.DB.QueryRowContext(ctx, `SELECT prev_hash, first_id FROM audit_anchor ORDER BY id DESC LIMIT 1`).Scan(&prev, &first)
	switch {
	case err == nil:
		expectID = first
	case !errors.Is(err, sql.ErrNoRows):
		return res, fmt.Errorf("audit: read anchor: %w", err)
	}
	rows, err := l.DB.QueryContext(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, ip, action, object, summary, result, prev_hash, hash
		FROM audit_log ORDER BY id`)
	if err != nil {
		return res, fmt.Errorf("audit: read log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.ID, &r.At, &r.ActorID, &r.Actor, &r.IP, &r.Action, &r.Object, &r.Summary, &r.Result, &r.PrevHash, &r.Hash); err != nil {
			return res, fmt.Errorf("audit: scan: %w", err)
		}
		switch {
		case r.ID != expectID:
			res.BadID, res.Reason = r.ID, fmt.Sprintf("record %d is missing before record %d", expectID, r.ID)
		case r.PrevHash != prev:
			res.BadID, res.Reason = r.ID, "previous-hash link broken (a record before it was altered or removed)"
		case hashOf(prev, r.ID, r.At, r.Entry) != r.Hash:
			res.BadID, res.Reason = r.ID, "record content does not match its hash (altered)"
		}
		if res.BadID != 0 {
			return res, nil
		}
		res.Checked++
		prev, expectID = r.Hash, r.ID+1
	}
	return res, rows.Err()
}

// Prune removes records older than before, which must be at least
// MinRetention ago, and records the prune itself.
func (l *Log) Prune(ctx context.Context, before time.Time, actor Entry) (int64, error) {
	now := l.Now()
	if before.After(now.Add(-MinRetention)) {
		return 0, fmt.Errorf("audit: records must be kept at least %d days; prune only before %s",
			int(MinRetention.Hours()/24), now.Add(-MinRetention).Format("2006-01-02"))
	}
	var n int64
	err := l.DB.InTx(ctx, func(tx *db.Tx) error {
		if tx.D() == db.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727002)`); err != nil {
				return err
			}
		}
		var firstKept int64
		var prev string
		err := tx.QueryRowContext(ctx, `SELECT id, prev_hash FROM audit_log WHERE at >= ? ORDER BY id LIMIT 1`, before.UTC()).Scan(&firstKept, &prev)
		if errors.Is(err, sql.ErrNoRows) {
			// Everything is old: the chain continues after the head.
			var head int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM audit_log`).Scan(&head); err != nil {
				return err
			}
			if head == 0 {
				return nil
			}
			if err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = ?`, head).Scan(&prev); err != nil {
				return err
			}
			firstKept = head + 1
		} else if err != nil {
			return fmt.Errorf("audit: find first kept record: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id < ?`, firstKept)
		if err != nil {
			return fmt.Errorf("audit: prune: %w", err)
		}
		n, _ = res.RowsAffected()
		if n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_anchor (at, first_id, prev_hash) VALUES (?, ?, ?)`, now.UTC(), firstKept, prev); err != nil {
			return fmt.Errorf("audit: anchor: %w", err)
		}
		actor.Action = "audit.prune"
		actor.Summary = fmt.Sprintf("removed %d records before %s", n, before.UTC().Format(time.RFC3339))
		actor.Result = OK
		return l.WriteTx(ctx, tx, actor)
	})
	return n, err
}

// Filter narrows a listing.
type Filter struct {
	Actor, Action string
	From, To      time.Time
	Limit, Offset int
}

// List returns records newest first and the total matching.
func (l *Log) List(ctx context.Context, f Filter) ([]Record, int, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		where = append(where, "action LIKE ?")
		args = append(args, f.Action+"%")
	}
	if !f.From.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.To.UTC())
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := l.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("audit: count: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := l.DB.QueryContext(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, ip, action, object, summary, result, prev_hash, hash
		FROM audit_log`+w+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.ID, &r.At, &r.ActorID, &r.Actor, &r.IP, &r.Action, &r.Object, &r.Summary, &r.Result, &r.PrevHash, &r.Hash); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}
