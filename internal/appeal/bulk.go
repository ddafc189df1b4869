package appeal

import (
	"context"
	"fmt"
	"strings"
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
	roll    map[rollKey]*rollVal
	streets map[streetKey]int64
	seq     map[string]int64
}

// NewBulk starts a bulk load.
func NewBulk() *Bulk {
	return &Bulk{roll: map[rollKey]*rollVal{}, streets: map[streetKey]int64{}, seq: map[string]int64{}}
}

func (b *Bulk) count(r *BulkRow) {
	day := workday.FromTime(r.Received, loc).String()
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

// BulkCacheKiB is the SQLite page cache a bulk transaction works with
// (the connection's default is 2 MB, too small for inserting into the
// indexes of a large table); it is set back when the batch is written.
const BulkCacheKiB = 128 << 10

func bigCache(ctx context.Context, tx *db.Tx, on bool) error {
	if tx.D() != db.SQLite {
		return nil
	}
	size := -2000
	if on {
		size = -BulkCacheKiB
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", size)); err != nil {
		return fmt.Errorf("appeal: bulk cache: %w", err)
	}
	return nil
}

// Insert writes rows in one transaction (call repeatedly; Finish merges
// the rollups).
func (b *Bulk) Insert(ctx context.Context, tx *db.Tx, rows []BulkRow) (err error) {
	if err := bigCache(ctx, tx, true); err != nil {
		return err
	}
	defer func() {
		if e := bigCache(ctx, tx, false); err == nil {
			err = e
		}
	}()
	for start := 0; start < len(rows); start += BulkBatch {
		end := min(start+BulkBatch, len(rows))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO appeals (` + bulkCols + `) VALUES `)
		args := make([]any, 0, (end-start)*bulkNCols)
		ph := "(" + strings.TrimSuffix(strings.Repeat("?,", bulkNCols), ",") + ")"
		for i := start; i < end; i++ {
			r := &rows[i]
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteString(ph)
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
			for _, t := range []*time.Time{r.Dispatched, r.Accepted, r.Replied, r.Resolved, r.Followed, r.Archived} {
				if t != nil && t.After(upd) {
					upd = *t
				}
			}
			args = append(args, r.Number, string(r.Channel), string(r.Kind), r.Category, r.Content, r.District, r.Street, r.Address, lat, lng,
				r.NameEnc, r.PhoneEnc, r.IDEnc, r.NameMask, r.PhoneMask, r.IDMask, r.PhoneHash,
				r.Urgency, string(r.State), r.Triage, r.TriageNote, unit, r.Received.UTC(), workday.FromTime(r.Received, loc).String(),
				timeArg(r.Dispatched), dispOn, timeArg(r.Accepted), dateArg(r.DueOn),
				r.Extended, r.ReturnCount, timeArg(r.Replied), r.Reply, timeArg(r.Resolved), resOn, timeArg(r.Followed), r.Satisfaction, solved, r.ReopenCount, timeArg(r.Archived),
				r.RespondedInTime, r.OnTime, r.IsRepeat, int64(r.SimHash), r.SourceKey, upd.UTC())
			b.count(r)
			if day, n, ok := seqOf(r.Number); ok && n > b.seq[day] {
				b.seq[day] = n
			}
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
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
func (b *Bulk) Finish(ctx context.Context, tx *db.Tx) error {
	type kv struct {
		k rollKey
		v *rollVal
	}
	var all []kv
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
	var dall []dkv
	for k, v := range dims {
		dall = append(dall, dkv{k, v})
	}
	for start := 0; start < len(dall); start += 1000 {
		end := min(start+1000, len(dall))
		var vals []string
		var args []any
		for _, x := range dall[start:end] {
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, x.k.dim, x.k.day, x.k.key, x.v.received, x.v.resolved, x.v.onTime, x.v.followed, x.v.satisfied, x.v.handle)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(dimUpsert, strings.Join(vals, ",")), args...); err != nil {
			return fmt.Errorf("appeal: bulk rollup: %w", err)
		}
	}
	for start := 0; start < len(all); start += 1000 {
		end := min(start+1000, len(all))
		var vals []string
		var args []any
		for _, x := range all[start:end] {
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, x.k.day, x.k.cat, x.k.district, x.k.unit, x.v.received, x.v.resolved, x.v.onTime, x.v.followed, x.v.satisfied, x.v.handle)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(rollupUpsert, strings.Join(vals, ",")), args...); err != nil {
			return fmt.Errorf("appeal: bulk rollup: %w", err)
		}
	}
	type skv struct {
		k streetKey
		n int64
	}
	var sts []skv
	for k, n := range b.streets {
		sts = append(sts, skv{k, n})
	}
	for start := 0; start < len(sts); start += 2000 {
		end := min(start+2000, len(sts))
		var vals []string
		var args []any
		for _, x := range sts[start:end] {
			vals = append(vals, "(?, ?, ?, ?)")
			args = append(args, x.k.day, x.k.district, x.k.street, x.n)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_rollup_street (day, district, street, received) VALUES `+strings.Join(vals, ",")+`
			ON CONFLICT (day, district, street) DO UPDATE SET received = appeal_rollup_street.received + excluded.received`, args...); err != nil {
			return fmt.Errorf("appeal: bulk street rollup: %w", err)
		}
	}
	for day, n := range b.seq {
		d := day[:4] + "-" + day[4:6] + "-" + day[6:8]
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_seq (day, n) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET n = CASE WHEN appeal_seq.n > excluded.n THEN appeal_seq.n ELSE excluded.n END`, d, n); err != nil {
			return fmt.Errorf("appeal: bulk sequence: %w", err)
		}
	}
	b.roll, b.streets, b.seq = map[rollKey]*rollVal{}, map[streetKey]int64{}, map[string]int64{}
	return nil
}
