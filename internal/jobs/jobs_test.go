package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/jobs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)} }

// counter is a job that counts its committed runs in a table, so a rolled
// back run leaves no trace.
func setupCounter(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), `CREATE TABLE job_test_runs (id INTEGER PRIMARY KEY, owner TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

func countRuns(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM job_test_runs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func counterJob(owner string, started *atomic.Int32, hold time.Duration) jobs.Func {
	return func(ctx context.Context, tx *db.Tx) error {
		if started != nil {
			started.Add(1)
		}
		if hold > 0 {
			time.Sleep(hold)
		}
		n := 0
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM job_test_runs`).Scan(&n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO job_test_runs (id, owner) VALUES (?, ?)`, n+1, owner)
		jobs.SetResult(ctx, "run %d", n+1)
		return err
	}
}

func TestDueOnceAndAgainAfterInterval(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	setupCounter(t, d)
	c := newClock()
	s := jobs.New(d, nil, c.Now)
	s.Register("count", 10*time.Minute, counterJob("a", nil, 0))

	ran, err := s.RunDue(ctx)
	if err != nil || len(ran) != 1 {
		t.Fatalf("first RunDue: ran %v err %v", ran, err)
	}
	// Not due again within the interval, even from a new scheduler (a restart).
	restarted := jobs.New(d, nil, c.Now)
	restarted.Register("count", 10*time.Minute, counterJob("b", nil, 0))
	if ran, err := restarted.RunDue(ctx); err != nil || len(ran) != 0 {
		t.Fatalf("restart RunDue before the interval: ran %v err %v", ran, err)
	}
	if ran, err := s.RunDue(ctx); err != nil || len(ran) != 0 {
		t.Fatalf("second RunDue before the interval: ran %v err %v", ran, err)
	}
	if n := countRuns(t, d); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
	c.Add(10 * time.Minute)
	if ran, err := s.RunDue(ctx); err != nil || len(ran) != 1 {
		t.Fatalf("RunDue after the interval: ran %v err %v", ran, err)
	}
	if n := countRuns(t, d); n != 2 {
		t.Fatalf("%d runs, want 2", n)
	}
	st, err := s.Statuses(ctx)
	if err != nil || len(st) != 1 {
		t.Fatalf("statuses %v %v", st, err)
	}
	if st[0].Runs != 2 || st[0].Owner != "" || st[0].LockedUntil != nil || st[0].LastResult != "run 2" || st[0].LastOKAt == nil {
		t.Fatalf("status after two runs: %+v", st[0])
	}
	if want := c.Now().Add(10 * time.Minute); !st[0].NextRunAt.Equal(want) {
		t.Fatalf("next run %s, want %s", st[0].NextRunAt, want)
	}
}

func TestFailureRollsBackAndRetries(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	setupCounter(t, d)
	c := newClock()
	s := jobs.New(d, nil, c.Now)
	fail := true
	s.Register("flaky", time.Hour, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO job_test_runs (id, owner) VALUES (1, 'x')`); err != nil {
			return err
		}
		if fail {
			return errors.New("boom")
		}
		return nil
	})
	if _, err := s.RunDue(ctx); err == nil {
		t.Fatal("a failing job reported no error")
	}
	if n := countRuns(t, d); n != 0 {
		t.Fatalf("a failed run left %d rows", n)
	}
	st, _ := s.Statuses(ctx)
	if st[0].Failures != 1 || st[0].LastError == "" || st[0].Owner != "" {
		t.Fatalf("status after failure: %+v", st[0])
	}
	// Retried after RetryAfter, not after the whole hour.
	if ran, _ := s.RunDue(ctx); len(ran) != 0 {
		t.Fatal("retried at once")
	}
	c.Add(time.Minute)
	fail = false
	if ran, err := s.RunDue(ctx); err != nil || len(ran) != 1 {
		t.Fatalf("retry: ran %v err %v", ran, err)
	}
	if n := countRuns(t, d); n != 1 {
		t.Fatalf("%d rows after the retry, want 1", n)
	}
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	setupCounter(t, d)
	c := newClock()
	// An instance claimed the job and died: its lease is in job_runs.
	if _, err := d.ExecContext(ctx, `INSERT INTO job_runs (name, every_seconds, next_run_at, owner, locked_until) VALUES ('count', 600, ?, 'dead:1:x', ?)`,
		c.Now().Add(-time.Minute), c.Now().Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s := jobs.New(d, nil, c.Now)
	s.Register("count", 10*time.Minute, counterJob("a", nil, 0))
	if ran, err := s.RunDue(ctx); err != nil || len(ran) != 0 {
		t.Fatalf("ran under another's live lease: %v %v", ran, err)
	}
	if ran, err := s.RunOnce(ctx, "count"); err != nil || ran {
		t.Fatalf("RunOnce under another's live lease: %v %v", ran, err)
	}
	c.Add(6 * time.Minute)
	if ran, err := s.RunDue(ctx); err != nil || len(ran) != 1 {
		t.Fatalf("after the lease expired: ran %v err %v", ran, err)
	}
	if _, err := s.RunOnce(ctx, "nope"); !errors.Is(err, jobs.ErrUnknownJob) {
		t.Fatalf("unknown job: %v", err)
	}
}

// TestTwoInstancesNeverRunTheSamePassTwice starts several schedulers on one
// database at once, each with its own connections, and has them all try the
// same due job: exactly one runs it.
func TestTwoInstancesNeverRunTheSamePassTwice(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	setupCounter(t, d)
	c := newClock()
	var started atomic.Int32
	const instances = 4
	var scheds []*jobs.Scheduler
	for i := range instances {
		other := d
		if d.Dialect == db.Postgres {
			var err error
			if other, err = db.Open(ctx, "", d.URL); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
		} else if i > 0 {
			var err error
			if other, err = db.OpenSQLite(ctx, d.Path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
		}
		s := jobs.New(other, nil, c.Now)
		s.Register("count", 10*time.Minute, counterJob(s.Owner, &started, 50*time.Millisecond))
		scheds = append(scheds, s)
	}
	for round := range 3 {
		var wg sync.WaitGroup
		var ranTotal atomic.Int32
		for _, s := range scheds {
			wg.Go(func() {
				ran, err := s.RunDue(ctx)
				if err != nil {
					t.Errorf("RunDue: %v", err)
				}
				ranTotal.Add(int32(len(ran)))
			})
		}
		wg.Wait()
		if ranTotal.Load() != 1 {
			t.Fatalf("round %d: %d instances ran the pass, want exactly 1", round, ranTotal.Load())
		}
		if n := countRuns(t, d); n != round+1 {
			t.Fatalf("round %d: %d committed runs, want %d", round, n, round+1)
		}
		c.Add(10 * time.Minute)
	}
	if started.Load() != 3 {
		t.Fatalf("job body started %d times, want 3", started.Load())
	}
}

func TestRunStopsWithContext(t *testing.T) {
	d := dbtest.Open(t)
	setupCounter(t, d)
	s := jobs.New(d, nil, nil)
	s.Tick = 10 * time.Millisecond
	s.Register("count", time.Hour, counterJob("a", nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for countRuns(t, d) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	if n := countRuns(t, d); n != 1 {
		t.Fatalf("%d runs in an hour's interval, want 1", n)
	}
}

func TestRegisterRefusesMistakes(t *testing.T) {
	s := jobs.New(nil, nil, nil)
	s.Register("a", time.Minute, func(context.Context, *db.Tx) error { return nil })
	for _, f := range []func(){
		func() { s.Register("a", time.Minute, func(context.Context, *db.Tx) error { return nil }) },
		func() { s.Register("", time.Minute, func(context.Context, *db.Tx) error { return nil }) },
		func() { s.Register("b", 0, func(context.Context, *db.Tx) error { return nil }) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}
