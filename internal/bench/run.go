package bench

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/demo"
)

// Run measures everything and writes the report to out.
func Run(bin, out, pgURL string, log io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` on %s.\n\nMachine: %s.\n\n", time.Now().Format("2006-01-02 15:04 MST"), machine())
	b.WriteString("Figures come from the real binary over loopback HTTP; the load generator runs on the same 2-core machine, so it competes with the server for CPU.\n\n")

	fmt.Fprintln(log, "cold start …")
	empty, err := coldStarts(bin, nil)
	if err != nil {
		return err
	}
	withAdmin, err := coldStarts(bin, []string{"BIAOGAN_ADMIN_USER=bench", "BIAOGAN_ADMIN_PASSWORD=Cold-Start-2026"})
	if err != nil {
		return err
	}

	b.WriteString("## Foundation (issue 2)\n\n")
	fmt.Fprintf(&b, "| figure | result | goal |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| cold start to ready, empty SQLite (exec → `/readyz` 200, migrations included; median of 7, max) | %s (max %s) | < 500 ms |\n", ms(empty[len(empty)/2]), ms(empty[len(empty)-1]))
	fmt.Fprintf(&b, "| the same, creating the first admin from `BIAOGAN_ADMIN_USER` (one argon2id hash) | %s (max %s) | |\n", ms(withAdmin[len(withAdmin)/2]), ms(withAdmin[len(withAdmin)-1]))

	fmt.Fprintln(log, "SQLite with demo data …")
	s, err := Start(bin, nil, "--demo")
	if err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	firstIdle := s.RSS()
	if s, err = s.Restart(); err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	idle := s.RSS()
	login, err := loginLatency(s)
	if err != nil {
		s.Stop()
		return err
	}
	lite, err := unitsLoad(s)
	loaded := s.RSS()
	s.Stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(&b, "| idle RSS after start with demo data (the server restarted on the loaded demo) | %.1f MB | < 60 MB |\n", idle)
	fmt.Fprintf(&b, "| idle RSS after the very first start, which generated the demo (200,000 appeals) in the same process | %.1f MB | |\n", firstIdle)
	fmt.Fprintf(&b, "| RSS after the 50-client load | %.1f MB | |\n", loaded)
	fmt.Fprintf(&b, "| login latency, `POST /api/v1/auth/login` (%s; 30 sequential) | p50 %s, p99 %s | |\n", auth.DefaultArgon2, ms(login.P50), ms(login.P99))
	fmt.Fprintf(&b, "| authenticated `GET /api/v1/units` (%d units), 50 clients, 10 s, SQLite | %s | |\n", demo.UnitCount(), lat(lite))

	pgNote := ""
	if pgURL == "" {
		pgURL, err = startPostgres()
		if err != nil {
			pgNote = "PostgreSQL not measured: " + err.Error()
		}
	}
	if pgURL != "" {
		fmt.Fprintln(log, "PostgreSQL with demo data …")
		u, cleanup, err := freshSchema(pgURL)
		if err != nil {
			return err
		}
		defer cleanup()
		s, err := Start(bin, []string{"BIAOGAN_DATABASE_URL=" + u}, "--demo")
		if err != nil {
			return err
		}
		pg, err := unitsLoad(s)
		s.Stop()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "| authenticated `GET /api/v1/units` (%d units), 50 clients, 10 s, PostgreSQL | %s | |\n", demo.UnitCount(), lat(pg))
	}
	if pgNote != "" {
		b.WriteString("\n" + pgNote + "\n")
	}
	b.WriteString("\n")

	sec, err := superviseSection(bin, pgURL, log)
	if err != nil {
		return err
	}
	b.WriteString(sec)
	for _, section := range []func(string, string, io.Writer) (string, error){benchmarkSection, assessSection, appealSection} {
		sec, err := section(bin, pgURL, log)
		if err != nil {
			return err
		}
		b.WriteString(sec)
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprint(log, b.String())
	return nil
}

func coldStarts(bin string, env []string) ([]time.Duration, error) {
	var starts []time.Duration
	for i := 0; i < 7; i++ {
		s, err := Start(bin, env)
		if err != nil {
			return nil, err
		}
		starts = append(starts, s.Took)
		s.Stop()
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	return starts, nil
}

func loginLatency(s *Server) (Latencies, error) {
	var ds []time.Duration
	start := time.Now()
	for i := 0; i < 30; i++ {
		t0 := time.Now()
		if _, err := s.Login("viewer", demo.Password); err != nil {
			return Latencies{}, err
		}
		ds = append(ds, time.Since(t0))
	}
	return summarise(ds, time.Since(start), 0), nil
}

func unitsLoad(s *Server) (Latencies, error) {
	tok, err := s.Login("supervisor", demo.Password)
	if err != nil {
		return Latencies{}, err
	}
	// Warm up connections and caches.
	Load(4, time.Second, func() (*http.Request, error) { return authed(s.URL+"/api/v1/units?limit=500", tok) })
	return Load(50, 10*time.Second, func() (*http.Request, error) { return authed(s.URL+"/api/v1/units?limit=500", tok) }), nil
}

func authed(u, tok string) (*http.Request, error) {
	r, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return r, nil
}

// startPostgres starts the project's throw-away server (.ci/pg-start).
func startPostgres() (string, error) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) == 0 {
		return "", fmt.Errorf("PostgreSQL server not installed")
	}
	dir, _ := filepath.Abs("tmp/pg-bench")
	out, err := exec.Command(".ci/pg-start", dir, "55434").Output()
	if err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// freshSchema makes an empty schema so demo data loads into a clean database.
func freshSchema(base string) (string, func(), error) {
	d, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if _, err := d.Exec("CREATE SCHEMA " + schema); err != nil {
		d.Close()
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { d.Exec("DROP SCHEMA " + schema + " CASCADE"); d.Close() }, nil
}
