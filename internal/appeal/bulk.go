package appeal

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

// Bulk loading for the demo generator, the import and the benchmarks:
// multi-row INSERTs in big transactions, the rollups summed in memory and
// merged in at the end of each batch.

// BulkRow is one order ready to insert.
type BulkRow struct {
	Number                            string
	Channel                           Channel
	Kind                              Kind
	Category                          string
	Content                           string
	District, Street, Address         string
	Lat, Long                         *float64
	NameEnc, PhoneEnc, IDEnc          string
	NameMask, PhoneMask, IDMask       string
	PhoneHash                         string
	Urgency                           string
	State                             State
	Triage, TriageNote                string
	UnitID                            int64
	Received                          time.Time
	Dispatched, Accepted, Replied     *time.Time
	Resolved, Followed, Archived      *time.Time
	DueOn                             workday.Date
	Extended                          bool
	ReturnCount                       int
	Reply                             string
	Satisfaction                      string
	Solved                            *bool
	ReopenCount                       int
	RespondedInTime, OnTime, IsRepeat bool
	SimHash                           uint64
	SourceKey                         string
}

const bulkCols = `number, channel, kind, category_code, content, district, street, address, lat, lng,
	citizen_name_enc, citizen_phone_enc, citizen_idno_enc, citizen_name_mask, citizen_phone_mask, citizen_idno_mask, phone_hash,
	urgency, state, triage, triage_note, unit_id, received_at, received_on, dispatched_at, dispatched_on, accepted_at, due_on,
	extended, return_count, replied_at, reply, resolved_at, resolved_on, followed_at, satisfaction, solved, reopen_count, archived_at,
	responded_in_time, on_time, is_repeat, simhash, source_key, updated_at`

const bulkNCols = 45

// BulkBatch is how many rows one INSERT carries (SQLite allows 32766
// parameters, PostgreSQL 65535).
const BulkBatch = 500

type rollKey struct {
	day, cat, district string
	unit               int64
}

type rollVal struct{ received, resolved, onTime, followed, satisfied, handle int64 }

type streetKey struct{ day, district, street string }

// Bulk accumulates rollups across batches.
type Bulk struct {
	d       *db.DB // set by begin
	roll    map[rollKey]*rollVal
	streets map[streetKey]int64
	seq     map[string]int64
}

// NewBulk starts a bulk load.
func NewBulk() *Bulk {
	return &Bulk{roll: map[rollKey]*rollVal{}, streets: map[streetKey]int64{}, seq: map[string]int64{}}
}

func (b *Bulk) count(r *BulkRow, day string) {
	k := rollKey{day, r.Category, r.District, r.UnitID}
	v := b.roll[k]
	if v == nil {
		v = &rollVal{}
		b.roll[k] = v
	}
	v.received++
	if r.Resolved != nil {
		v.resolved++
		v.handle += int64(r.Resolved.Sub(r.Received).Seconds())
		if r.OnTime {
			v.onTime++
		}
	}
	if r.Followed != nil && r.Satisfaction != "" {
		v.followed++
		if r.Satisfaction == Satisfied || r.Satisfaction == Basic {
			v.satisfied++
		}
	}
	if r.Street != "" {
		b.streets[streetKey{day, r.District, r.Street}]++
	}
}

// BulkCacheKiB is the SQLite page cache a bulk load works with (the
// connection's default is 2 MB, too small for inserting into the indexes
// of a large table); it is set back when the load ends.
const BulkCacheKiB = 64 << 10

// begin readies the writer connection for a bulk load on SQLite: a big page
// cache kept across the load's transactions (set back by end, not at each
// commit, so the next batch finds its index pages in memory). It does not
// change durability: commits still sync the WAL as usual.
func (b *Bulk) begin(ctx context.Context, d *db.DB) error {
	b.d = d
	if d.D() != db.SQLite {
		return nil
	}
	if _, err := d.W.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -BulkCacheKiB)); err != nil {
		return fmt.Errorf("appeal: bulk cache: %w", err)
	}
	return nil
}

// end sets the writer connection back (see begin).
func (b *Bulk) end() {
	if b.d == nil || b.d.D() != db.SQLite {
		return
	}
	b.d.W.ExecContext(context.Background(), "PRAGMA cache_size = -2000")
}

// execer runs a statement with "?" placeholders: *db.Tx and *bulkTx.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// bulkTx is a write transaction that prepares each distinct statement
// once: a bulk batch runs the same multi-row INSERT dozens of times and
// parsing tens of thousands of placeholders each time is not free.
type bulkTx struct {
	tx    *sql.Tx
	d     db.Dialect
	stmts map[string]*sql.Stmt
	noFK  bool // SQLite with foreign keys off: insert checks unit ids
}

func (t *bulkTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st := t.stmts[q]
	if st == nil {
		var err error
		if st, err = t.tx.PrepareContext(ctx, t.d.Rebind(q)); err != nil {
			return nil, err
		}
		t.stmts[q] = st
	}
	return st.ExecContext(ctx, args...)
}

// inTx runs fn in one write transaction on the writer (like db.InTx, whose
// transactions cannot prepare statements).
//
// On SQLite the transaction runs with foreign keys off (the INSERT checks
// its unit ids itself, see insert): with them on, a multi-row INSERT must
// keep a statement journal so a violation can undo just that statement,
// which costs a copy of every page it touches. The setting is per
// connection and set back before the connection goes back to the pool.
func (b *Bulk) inTx(ctx context.Context, fn func(tx *bulkTx) error) error {
	var stx *sql.Tx
	var err error
	if b.d.D() == db.SQLite {
		conn, err := b.d.W.Conn(ctx)
		if err != nil {
			return fmt.Errorf("appeal: bulk begin: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("appeal: bulk begin: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.Background(), "PRAGMA foreign_keys = ON"); err != nil {
				// Never hand a connection without foreign keys back.
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
		stx, err = conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("appeal: bulk begin: %w", err)
		}
	} else if stx, err = b.d.W.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("appeal: bulk begin: %w", err)
	}
	tx := &bulkTx{tx: stx, d: b.d.D(), stmts: map[string]*sql.Stmt{}, noFK: b.d.D() == db.SQLite}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("appeal: bulk commit: %w", err)
	}
	return nil
}

var bulkInsertFull sync.Map // verb → the INSERT of BulkBatch rows

// bulkInsertSQL is the INSERT of n rows (the one for BulkBatch rows is
// built once). verb is "INSERT", or "INSERT OR FAIL" on SQLite: a
// violation still fails the statement (and the batch is rolled back) but
// SQLite need not keep a statement journal to undo just that statement.
func bulkInsertSQL(verb string, n int) string {
	build := func(n int) string {
		ph := "(" + strings.TrimSuffix(strings.Repeat("?,", bulkNCols), ",") + ")"
		var sb strings.Builder
		sb.Grow(len(bulkCols) + 40 + n*(len(ph)+1))
		sb.WriteString(verb + ` INTO appeals (` + bulkCols + `) VALUES `)
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(ph)
		}
		return sb.String()
	}
	if n != BulkBatch {
		return build(n)
	}
	if q, ok := bulkInsertFull.Load(verb); ok {
		return q.(string)
	}
	q := build(n)
	bulkInsertFull.Store(verb, q)
	return q
}

// checkUnits stands in for the foreign key on unit_id when it is off.
func checkUnits(ctx context.Context, tx *bulkTx, rows []BulkRow) error {
	seen := map[int64]bool{}
	var ids []any
	for i := range rows {
		if u := rows[i].UnitID; u != 0 && !seen[u] {
			seen[u] = true
			ids = append(ids, u)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var n int
	q := `SELECT COUNT(*) FROM units WHERE id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + `)`
	if err := tx.tx.QueryRowContext(ctx, q, ids...).Scan(&n); err != nil {
		return fmt.Errorf("appeal: bulk units: %w", err)
	}
	if n != len(ids) {
		return errors.New("appeal: bulk insert: FOREIGN KEY constraint failed (unknown unit)")
	}
	return nil
}

// Insert writes rows in one transaction (call repeatedly; Finish merges
// the rollups).
func (b *Bulk) Insert(ctx context.Context, tx *db.Tx, rows []BulkRow) error {
	return b.insert(ctx, tx, rows)
}

func (b *Bulk) insert(ctx context.Context, tx execer, rows []BulkRow) error {
	verb := "INSERT"
	if bt, ok := tx.(*bulkTx); ok && bt.noFK {
		if err := checkUnits(ctx, bt, rows); err != nil {
			return err
		}
		verb = "INSERT OR FAIL"
	}
	args := make([]any, 0, min(len(rows), BulkBatch)*bulkNCols)
	for start := 0; start < len(rows); start += BulkBatch {
		end := min(start+BulkBatch, len(rows))
		args = args[:0]
		for i := start; i < end; i++ {
			r := &rows[i]
			var lat, lng, unit, solved any
			if r.Lat != nil && r.Long != nil {
				lat, lng = *r.Lat, *r.Long
			}
			if r.UnitID != 0 {
				unit = r.UnitID
			}
			if r.Solved != nil {
				solved = *r.Solved
			}
			var dispOn, resOn any
			if r.Dispatched != nil {
				dispOn = workday.FromTime(*r.Dispatched, loc).String()
			}
			if r.Resolved != nil {
				resOn = workday.FromTime(*r.Resolved, loc).String()
			}
			upd := r.Received
			for _, t := range [...]*time.Time{r.Dispatched, r.Accepted, r.Replied, r.Resolved, r.Followed, r.Archived} {
				if t != nil && t.After(upd) {
					upd = *t
				}
			}
			day := workday.FromTime(r.Received, loc).String()
			args = append(args, r.Number, string(r.Channel), string(r.Kind), r.Category, r.Content, r.District, r.Street, r.Address, lat, lng,
				r.NameEnc, r.PhoneEnc, r.IDEnc, r.NameMask, r.PhoneMask, r.IDMask, r.PhoneHash,
				r.Urgency, string(r.State), r.Triage, r.TriageNote, unit, r.Received.UTC(), day,
				timeArg(r.Dispatched), dispOn, timeArg(r.Accepted), dateArg(r.DueOn),
				r.Extended, r.ReturnCount, timeArg(r.Replied), r.Reply, timeArg(r.Resolved), resOn, timeArg(r.Followed), r.Satisfaction, solved, r.ReopenCount, timeArg(r.Archived),
				r.RespondedInTime, r.OnTime, r.IsRepeat, int64(r.SimHash), r.SourceKey, upd.UTC())
			b.count(r, day)
			if day, n, ok := seqOf(r.Number); ok && n > b.seq[day] {
				b.seq[day] = n
			}
		}
		if _, err := tx.ExecContext(ctx, bulkInsertSQL(verb, end-start), args...); err != nil {
			return fmt.Errorf("appeal: bulk insert: %w", err)
		}
	}
	return nil
}

// seqOf splits a number of our own form (YYYYMMDD + sequence) into the
// day and the sequence; imported numbers of other forms give ok=false.
func seqOf(number string) (day string, n int64, ok bool) {
	if len(number) < 9 || len(number) > 20 {
		return "", 0, false
	}
	for _, c := range number {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	if _, err := workday.ParseDate(number[:4] + "-" + number[4:6] + "-" + number[6:8]); err != nil {
		return "", 0, false
	}
	for _, c := range number[8:] {
		n = n*10 + int64(c-'0')
	}
	return number[:8], n, true
}

// RollupRow is one base rollup row, for tools that write rollups directly
// (the benchmarks).
type RollupRow struct {
	Day, Category, District                         string
	UnitID                                          int64
	Received, Resolved, OnTime, Followed, Satisfied int64
	HandleSeconds                                   int64
}

// AddRollup adds base rollup rows to the bulk load (written by Finish with
// their dimension rows).
func (b *Bulk) AddRollup(rows ...RollupRow) {
	for _, r := range rows {
		k := rollKey{r.Day, r.Category, r.District, r.UnitID}
		v := b.roll[k]
		if v == nil {
			v = &rollVal{}
			b.roll[k] = v
		}
		v.received += r.Received
		v.resolved += r.Resolved
		v.onTime += r.OnTime
		v.followed += r.Followed
		v.satisfied += r.Satisfied
		v.handle += r.HandleSeconds
	}
}

// AddStreet adds to the street rollup.
func (b *Bulk) AddStreet(day, district, street string, n int64) {
	b.streets[streetKey{day, district, street}] += n
}

// Finish merges the summed rollups and the day sequences.
func (b *Bulk) Finish(ctx context.Context, tx *db.Tx) error { return b.finish(ctx, tx) }

// valuesSQL is "(?, …), (?, …)…": n groups of cols placeholders.
func valuesSQL(n, cols int) string {
	g := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(g+",", n), ",")
}

// finish writes the rollups in key order (the B-trees are then filled
// front to back instead of at random places).
func (b *Bulk) finish(ctx context.Context, tx execer) error {
	type kv struct {
		k rollKey
		v *rollVal
	}
	all := make([]kv, 0, len(b.roll))
	dims := map[dimKey]*rollVal{}
	for k, v := range b.roll {
		all = append(all, kv{k, v})
		for _, dk := range dimsOf(k.day, k.cat, k.district, k.unit) {
			x := dims[dk]
			if x == nil {
				x = &rollVal{}
				dims[dk] = x
			}
			x.received += v.received
			x.resolved += v.resolved
			x.onTime += v.onTime
			x.followed += v.followed
			x.satisfied += v.satisfied
			x.handle += v.handle
		}
	}
	type dkv struct {
		k dimKey
		v *rollVal
	}
	dall := make([]dkv, 0, len(dims))
	for k, v := range dims {
		dall = append(dall, dkv{k, v})
	}
	slices.SortFunc(dall, func(a, b dkv) int {
		return cmp.Or(strings.Compare(a.k.dim, b.k.dim), strings.Compare(a.k.day, b.k.day), strings.Compare(a.k.key, b.k.key))
	})
	slices.SortFunc(all, func(a, b kv) int {
		return cmp.Or(strings.Compare(a.k.day, b.k.day), strings.Compare(a.k.cat, b.k.cat), strings.Compare(a.k.district, b.k.district), cmp.Compare(a.k.unit, b.k.unit))
	})
	var args []any
	for start := 0; start < len(dall); start += 1000 {
		end := min(start+1000, len(dall))
		args = args[:0]
		for _, x := range dall[start:end] {
			args = append(args, x.k.dim, x.k.day, x.k.key, x.v.received, x.v.resolved, x.v.onTime, x.v.followed, x.v.satisfied, x.v.handle)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(dimUpsert, valuesSQL(end-start, 9)), args...); err != nil {
			return fmt.Errorf("appeal: bulk rollup: %w", err)
		}
	}
	for start := 0; start < len(all); start += 1000 {
		end := min(start+1000, len(all))
		args = args[:0]
		for _, x := range all[start:end] {
			args = append(args, x.k.day, x.k.cat, x.k.district, x.k.unit, x.v.received, x.v.resolved, x.v.onTime, x.v.followed, x.v.satisfied, x.v.handle)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(rollupUpsert, valuesSQL(end-start, 10)), args...); err != nil {
			return fmt.Errorf("appeal: bulk rollup: %w", err)
		}
	}
	type skv struct {
		k streetKey
		n int64
	}
	sts := make([]skv, 0, len(b.streets))
	for k, n := range b.streets {
		sts = append(sts, skv{k, n})
	}
	slices.SortFunc(sts, func(a, b skv) int {
		return cmp.Or(strings.Compare(a.k.day, b.k.day), strings.Compare(a.k.district, b.k.district), strings.Compare(a.k.street, b.k.street))
	})
	for start := 0; start < len(sts); start += 2000 {
		end := min(start+2000, len(sts))
		args = args[:0]
		for _, x := range sts[start:end] {
			args = append(args, x.k.day, x.k.district, x.k.street, x.n)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_rollup_street (day, district, street, received) VALUES `+valuesSQL(end-start, 4)+`
			ON CONFLICT (day, district, street) DO UPDATE SET received = appeal_rollup_street.received + excluded.received`, args...); err != nil {
			return fmt.Errorf("appeal: bulk street rollup: %w", err)
		}
	}
	days := make([]string, 0, len(b.seq))
	for day := range b.seq {
		days = append(days, day)
	}
	slices.Sort(days)
	for _, day := range days {
		d := day[:4] + "-" + day[4:6] + "-" + day[6:8]
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_seq (day, n) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET n = CASE WHEN appeal_seq.n > excluded.n THEN appeal_seq.n ELSE excluded.n END`, d, b.seq[day]); err != nil {
			return fmt.Errorf("appeal: bulk sequence: %w", err)
		}
	}
	b.roll, b.streets, b.seq = map[rollKey]*rollVal{}, map[streetKey]int64{}, map[string]int64{}
	return nil
}
