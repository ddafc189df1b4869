// Package jobs is the scheduler: named jobs that run every so often, each
// run in one database transaction together with the bookkeeping that marks
// it done, so a restart neither loses nor repeats a pass.
//
// Every job has a row in job_runs. A run first claims the row in a short
// transaction (owner, locked_until: a lease, visible to operators), then does
// its work and moves next_run_at in a second transaction that holds the row
// (SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer) and commits
// only if the claim is still its own. So several instances on one
// PostgreSQL database never run the same job at once: a second instance's
// claim skips the locked row (FOR UPDATE SKIP LOCKED) or finds the lease
// taken or the job no longer due. An instance that dies after claiming
// leaves a lease that expires after Lease; its work was rolled back, so the
// next instance does it once.
//
// Jobs should themselves be idempotent per item (the supervise passes keep a
// unique key per reminder), so that even a pass repeated by hand with RunOnce
// sends nothing twice.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/db"
)

// Func is a job's work, done inside tx; returning an error rolls it back
// and the job is retried after RetryAfter.
type Func func(ctx context.Context, tx *db.Tx) error

// ErrUnknownJob is returned by RunOnce for a name never registered.
var ErrUnknownJob = errors.New("jobs: unknown job")

// errLostClaim means another instance took the job over (an expired lease).
var errLostClaim = errors.New("jobs: claim lost to another instance")

type job struct {
	name  string
	every time.Duration
	fn    Func
}

// Scheduler runs registered jobs when they are due.
type Scheduler struct {
	DB  *db.DB
	Log *slog.Logger
	Now func() time.Time
	// Tick is how often Run looks for due jobs (default 30 s).
	Tick time.Duration
	// Lease is how long a claim keeps other instances away should this
	// instance die before finishing (default 15 min); a running job holds
	// its row anyway.
	Lease time.Duration
	// RetryAfter is the wait after a failed run, at most the job's interval
	// (default 1 min).
	RetryAfter time.Duration
	// Owner names this instance in job_runs.owner (host:pid:random).
	Owner string

	mu      sync.Mutex
	jobs    map[string]*job
	order   []string
	ensured map[string]bool
}

// New returns a scheduler on d; now may be nil for the wall clock and log
// nil to discard.
func New(d *db.DB, log *slog.Logger, now func() time.Time) *Scheduler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	return &Scheduler{DB: d, Log: log, Now: now, Tick: 30 * time.Second, Lease: 15 * time.Minute, RetryAfter: time.Minute,
		Owner: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), randomHex(4)), jobs: map[string]*job{}, ensured: map[string]bool{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Register adds a job that runs every interval. It panics on an empty
// name, a non-positive interval or a name registered twice: all are
// wiring mistakes.
func (s *Scheduler) Register(name string, every time.Duration, fn Func) {
	if name == "" || every <= 0 || fn == nil {
		panic("jobs: Register needs a name, a positive interval and a function")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.jobs[name]; dup {
		panic("jobs: job " + name + " registered twice")
	}
	s.jobs[name] = &job{name: name, every: every, fn: fn}
	s.order = append(s.order, name)
}

// Names lists the registered jobs in registration order.
func (s *Scheduler) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

func (s *Scheduler) job(name string) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[name]
}

// stamp is the current instant as stored: UTC, microseconds.
func (s *Scheduler) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Run runs due jobs every Tick until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	tick := s.Tick
	if tick <= 0 {
		tick = 30 * time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	s.Log.Info("scheduler started", "owner", s.Owner, "jobs", s.Names())
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("scheduler", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunDue runs, one after another, every registered job that is due and not
// claimed by another instance, and returns the names of those it ran
// successfully. A job's failure is recorded and logged; the others still run.
func (s *Scheduler) RunDue(ctx context.Context) ([]string, error) {
	var ran []string
	var errs []error
	for _, name := range s.Names() {
		if ctx.Err() != nil {
			return ran, ctx.Err()
		}
		ok, err := s.run(ctx, s.job(name), false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			ran = append(ran, name)
		}
	}
	return ran, errors.Join(errs...)
}

// RunOnce runs the named job now, due or not, unless another instance is
// running it (then ran is false). Tests and the command line use it.
func (s *Scheduler) RunOnce(ctx context.Context, name string) (ran bool, err error) {
	j := s.job(name)
	if j == nil {
		return false, fmt.Errorf("%w %q", ErrUnknownJob, name)
	}
	return s.run(ctx, j, true)
}

// ensure creates the job's row (due at once) the first time it is seen.
func (s *Scheduler) ensure(ctx context.Context, j *job) error {
	s.mu.Lock()
	done := s.ensured[j.name]
	s.mu.Unlock()
	if done {
		return nil
	}
	_, err := s.DB.ExecContext(ctx, `INSERT INTO job_runs (name, every_seconds, next_run_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		j.name, int64(j.every/time.Second), s.stamp())
	if err != nil {
		return fmt.Errorf("jobs: register %s: %w", j.name, err)
	}
	s.mu.Lock()
	s.ensured[j.name] = true
	s.mu.Unlock()
	return nil
}

// run claims the job and runs it; ran is false when it was not due (and not
// forced) or another instance holds it.
func (s *Scheduler) run(ctx context.Context, j *job, force bool) (bool, error) {
	if err := s.ensure(ctx, j); err != nil {
		return false, err
	}
	token, ok, err := s.claim(ctx, j, force)
	if err != nil || !ok {
		return false, err
	}
	start := s.stamp()
	began := time.Now()
	var result string
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		q := `SELECT owner FROM job_runs WHERE name = ?`
		if tx.D() == db.Postgres {
			q += ` FOR UPDATE`
		}
		var owner string
		if err := tx.QueryRowContext(ctx, q, j.name).Scan(&owner); err != nil {
			return fmt.Errorf("jobs: hold %s: %w", j.name, err)
		}
		if owner != token {
			return errLostClaim
		}
		if err := j.fn(withResult(ctx, &result), tx); err != nil {
			return err
		}
		took := time.Since(began)
		res, err := tx.ExecContext(ctx, `UPDATE job_runs SET every_seconds = ?, next_run_at = ?, last_run_at = ?, last_ok_at = ?, last_duration_ms = ?,
			last_result = ?, last_error = '', runs = runs + 1, owner = '', locked_until = NULL WHERE name = ? AND owner = ?`,
			int64(j.every/time.Second), start.Add(j.every), start, s.stamp(), took.Milliseconds(), truncate(result, 500), j.name, token)
		if err != nil {
			return fmt.Errorf("jobs: mark %s done: %w", j.name, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errLostClaim
		}
		return nil
	})
	took := time.Since(began)
	if errors.Is(err, errLostClaim) {
		s.Log.Warn("job claim lost; another instance runs it", "job", j.name, "owner", s.Owner)
		return false, nil
	}
	if err != nil {
		s.release(ctx, j, token, start, err)
		s.Log.Error("job failed", "job", j.name, "took", took, "err", err)
		return false, fmt.Errorf("jobs: %s: %w", j.name, err)
	}
	s.Log.Debug("job done", "job", j.name, "took", took, "result", result)
	return true, nil
}

// claim takes the job for this instance if it is due (or force) and nobody
// holds it, returning the claim token written to job_runs.owner.
func (s *Scheduler) claim(ctx context.Context, j *job, force bool) (token string, ok bool, err error) {
	if !force {
		// Most ticks find nothing due: look first without a write
		// transaction (SQLite has one writer for everybody).
		var next time.Time
		var locked sql.NullTime
		err := s.DB.QueryRowContext(ctx, `SELECT next_run_at, locked_until FROM job_runs WHERE name = ?`, j.name).Scan(&next, &locked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", false, fmt.Errorf("jobs: look at %s: %w", j.name, err)
		}
		now := s.stamp()
		if err == nil && (next.After(now) || (locked.Valid && locked.Time.After(now))) {
			return "", false, nil
		}
	}
	token = s.Owner + ":" + randomHex(4)
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		q := `SELECT next_run_at, locked_until FROM job_runs WHERE name = ?`
		if tx.D() == db.Postgres {
			// A row held by a running instance is skipped, not waited for.
			q += ` FOR UPDATE SKIP LOCKED`
		}
		var next time.Time
		var locked sql.NullTime
		err := tx.QueryRowContext(ctx, q, j.name).Scan(&next, &locked)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("jobs: claim %s: %w", j.name, err)
		}
		now := s.stamp()
		if locked.Valid && locked.Time.After(now) {
			return nil
		}
		if !force && next.After(now) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE job_runs SET owner = ?, locked_until = ? WHERE name = ?`, token, now.Add(s.lease()), j.name); err != nil {
			return fmt.Errorf("jobs: claim %s: %w", j.name, err)
		}
		ok = true
		return nil
	})
	return token, ok, err
}

func (s *Scheduler) lease() time.Duration {
	if s.Lease <= 0 {
		return 15 * time.Minute
	}
	return s.Lease
}

// release gives up a failed run's claim and records the failure; the job
// is due again after RetryAfter (at most its interval).
func (s *Scheduler) release(ctx context.Context, j *job, token string, start time.Time, cause error) {
	retry := s.RetryAfter
	if retry <= 0 {
		retry = time.Minute
	}
	retry = min(retry, j.every)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.DB.ExecContext(ctx, `UPDATE job_runs SET owner = '', locked_until = NULL, last_run_at = ?, last_error = ?, failures = failures + 1,
		next_run_at = ? WHERE name = ? AND owner = ?`, start, truncate(cause.Error(), 2000), s.stamp().Add(retry), j.name, token)
	if err != nil {
		s.Log.Error("job release failed", "job", j.name, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

type resultKey struct{}

func withResult(ctx context.Context, p *string) context.Context {
	return context.WithValue(ctx, resultKey{}, p)
}

// SetResult records a short summary of the current run ("12 reminders
// sent") in job_runs.last_result; outside a job it does nothing.
func SetResult(ctx context.Context, format string, args ...any) {
	if p, ok := ctx.Value(resultKey{}).(*string); ok {
		*p = fmt.Sprintf(format, args...)
	}
}

// Status is a job's row in job_runs.
type Status struct {
	Name           string     `json:"name"`
	EverySeconds   int64      `json:"every_seconds"`
	NextRunAt      time.Time  `json:"next_run_at"`
	LastRunAt      *time.Time `json:"last_run_at"`
	LastOKAt       *time.Time `json:"last_ok_at"`
	LastDurationMS int64      `json:"last_duration_ms"`
	LastResult     string     `json:"last_result"`
	LastError      string     `json:"last_error"`
	Runs           int64      `json:"runs"`
	Failures       int64      `json:"failures"`
	Owner          string     `json:"owner"`
	LockedUntil    *time.Time `json:"locked_until"`
}

// Statuses lists every job's row, by name.
func (s *Scheduler) Statuses(ctx context.Context) ([]Status, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT name, every_seconds, next_run_at, last_run_at, last_ok_at, last_duration_ms, last_result, last_error,
		runs, failures, owner, locked_until FROM job_runs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	defer rows.Close()
	var out []Status
	for rows.Next() {
		var st Status
		var last, ok, locked sql.NullTime
		if err := rows.Scan(&st.Name, &st.EverySeconds, &st.NextRunAt, &last, &ok, &st.LastDurationMS, &st.LastResult, &st.LastError,
			&st.Runs, &st.Failures, &st.Owner, &locked); err != nil {
			return nil, fmt.Errorf("jobs: scan: %w", err)
		}
		st.NextRunAt = st.NextRunAt.UTC()
		st.LastRunAt, st.LastOKAt, st.LockedUntil = ptrTime(last), ptrTime(ok), ptrTime(locked)
		out = append(out, st)
	}
	return out, rows.Err()
}

func ptrTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}
