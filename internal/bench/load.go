package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
)

// The pieces every section shares: a fresh database per engine, timed
// requests and load loops, summaries, and the markdown tables. Each section
// keeps only what it measures.

// freshDB is an empty, migrated database for one engine that the binary is
// then started on: SQLite in a new data directory, or PostgreSQL in a fresh
// schema of pgURL. env and dataDir are what Start needs to find it.
type freshDB struct {
	DB      *db.DB // for the generator; nil once closed
	dir     string // the temporary directory (SQLite data, files a section writes)
	dataDir string
	env     []string
	cleanup func() // drops the PostgreSQL schema
}

// openFresh opens and migrates a fresh database; name tells the temporary
// directories of the sections apart. Remove it (after the server stopped)
// with Remove.
func openFresh(ctx context.Context, name, engine, pgURL string) (*freshDB, error) {
	dir, err := os.MkdirTemp("", "biaogan-bench-"+name+"-")
	if err != nil {
		return nil, err
	}
	f := &freshDB{dir: dir, dataDir: filepath.Join(dir, "data"), cleanup: func() {}}
	if engine == "PostgreSQL" {
		u, cleanup, err := freshSchema(pgURL)
		if err != nil {
			f.Remove()
			return nil, err
		}
		f.cleanup = cleanup
		f.env = []string{"BIAOGAN_DATABASE_URL=" + u}
		f.DB, err = db.Open(ctx, "", u)
	} else {
		f.DB, err = db.Open(ctx, f.dataDir, "")
	}
	if err == nil {
		_, err = f.DB.Migrate(ctx)
	}
	if err != nil {
		f.Remove()
		return nil, err
	}
	return f, nil
}

// Remove closes the database if still open, drops the schema and deletes
// the directory.
func (f *freshDB) Remove() {
	f.CloseDB()
	f.cleanup()
	os.RemoveAll(f.dir)
}

// CloseDB closes the generator's connection so the binary has the
// database to itself.
func (f *freshDB) CloseDB() {
	if f.DB != nil {
		f.DB.Close()
		f.DB = nil
	}
}

// Start runs the binary on the database.
func (f *freshDB) Start(bin string, args ...string) (*Server, error) {
	return Start(bin, f.env, append(args, "--data", f.dataDir)...)
}

// benchAuth creates the bench accounts through the real service, with cheap
// hashing: these are test accounts, and login speed is measured elsewhere.
func benchAuth(d *db.DB) *auth.Service {
	settings := auth.DefaultSettings()
	settings.Argon2 = auth.Argon2Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32}
	return auth.NewService(d, audit.New(d), settings, nil)
}

// addBenchUser adds one account with benchPassword.
func addBenchUser(ctx context.Context, as *auth.Service, name string, role auth.Role, unit int64) error {
	_, err := as.CreateUser(ctx, audit.Entry{Actor: "bench"}, auth.NewUser{Username: name, Password: benchPassword, Roles: []auth.Role{role}, UnitID: &unit})
	return err
}

// firstPeople maps each unit to its first person (the task owner).
func firstPeople(ctx context.Context, d *db.DB) (map[int64]int64, error) {
	rows, err := d.QueryContext(ctx, `SELECT unit_id, MIN(id) FROM people GROUP BY unit_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owners := map[int64]int64{}
	for rows.Next() {
		var u, p int64
		if err := rows.Scan(&u, &p); err != nil {
			return nil, err
		}
		owners[u] = p
	}
	return owners, rows.Err()
}

// noPostgres ends a section measured on SQLite only.
const noPostgres = "\nPostgreSQL not measured (no server).\n"

// perEngine runs measure on SQLite and, when pgURL is set, on PostgreSQL.
func perEngine[F any](what, bin, pgURL string, log io.Writer, measure func(bin, engine, pgURL string, log io.Writer) (F, error)) ([]F, error) {
	lite, err := measure(bin, "SQLite", "", log)
	if err != nil {
		return nil, fmt.Errorf("%s on SQLite: %w", what, err)
	}
	figs := []F{lite}
	if pgURL != "" {
		pg, err := measure(bin, "PostgreSQL", pgURL, log)
		if err != nil {
			return nil, fmt.Errorf("%s on PostgreSQL: %w", what, err)
		}
		figs = append(figs, pg)
	}
	return figs, nil
}

// timed sends r and reads the whole answer: the duration is what a user
// waits for the full body, not only the headers.
func timed(c *http.Client, r *http.Request) (int, time.Duration, error) {
	t0 := time.Now()
	resp, err := c.Do(r)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(t0), nil
}

// status sends one authenticated GET of path and times the whole answer.
func status(s *Server, path, tok string) (int, time.Duration, error) {
	r, err := authed(s.URL+path, tok)
	if err != nil {
		return 0, 0, err
	}
	return timed(&http.Client{Timeout: 60 * time.Second}, r)
}

// postJSON sends one authenticated JSON POST and times it (a generous
// timeout: publishing computes a whole month).
func (s *Server) postJSON(path, tok string, body any) (int, time.Duration, error) {
	b, _ := json.Marshal(body)
	r, err := http.NewRequest("POST", s.URL+path, bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Content-Type", "application/json")
	return timed(&http.Client{Timeout: 120 * time.Second}, r)
}

// Load sends requests from `clients` goroutines for `d`; req builds one
// request; any status below 400 counts as success.
func Load(clients int, d time.Duration, req func() (*http.Request, error)) Latencies {
	return LoadEach(clients, d, func(int) (*http.Request, error) { return req() }, func(st int) bool { return st < 400 })
}

// LoadEach is Load with a request builder per client (client 0..clients-1),
// for clients that act as different people. ok decides which statuses count
// as success.
func LoadEach(clients int, d time.Duration, req func(client int) (*http.Request, error), ok func(status int) bool) Latencies {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(client int) {
			defer wg.Done()
			// Each client keeps its own figures so the lock is not
			// taken while measuring.
			var mine []time.Duration
			bad := 0
			for time.Now().Before(stop) {
				r, err := req(client)
				if err != nil {
					bad++
					continue
				}
				st, took, err := timed(c, r)
				if err != nil || !ok(st) {
					bad++
					continue
				}
				mine = append(mine, took)
			}
			mu.Lock()
			all = append(all, mine...)
			errs += bad
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	return summarise(all, time.Since(start), errs)
}

// sorted is a sorted copy, so callers' run order stays as measured.
func sorted(ds []time.Duration) []time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

func median(ds []time.Duration) time.Duration { return sorted(ds)[len(ds)/2] }

func maxOf(ds []time.Duration) time.Duration {
	m := time.Duration(0)
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func medianMax(ds []time.Duration) string {
	if len(ds) == 0 {
		return "—"
	}
	s := sorted(ds)
	return fmt.Sprintf("**%s** median, max %s (%d runs)", ms(s[len(s)/2]), ms(s[len(s)-1]), len(s))
}

func lat(l Latencies) string {
	return fmt.Sprintf("p50 %s, p99 %s, %.0f req/s (%d errors)", ms(l.P50), ms(l.P99), l.RPS, l.Errors)
}

// mdRow writes one markdown table row: | a | b | c |
func mdRow(b *strings.Builder, cells ...string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// mdHeader writes a table's header row and its separator.
func mdHeader(b *strings.Builder, cells ...string) {
	mdRow(b, cells...)
	b.WriteString("|" + strings.Repeat("---|", len(cells)) + "\n")
}

// cells is one cell per engine's figures.
func cells[F any](figs []F, cell func(F) string) []string {
	out := make([]string, len(figs))
	for i, f := range figs {
		out[i] = cell(f)
	}
	return out
}

// line joins a row's leading cells, one cell per engine and trailing cells.
func line(lead []string, engines []string, trail ...string) []string {
	return append(append(append([]string(nil), lead...), engines...), trail...)
}
