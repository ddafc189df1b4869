package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/biaogan/biaogan/internal/config"
	"github.com/biaogan/biaogan/internal/demo"
)

func runServe(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("serve", &cfg)
	config.BindServe(fs, c.env, &cfg)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	start := time.Now()
	a, err := c.open(&cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	defer a.Tasks.ClosePages() // before the database closes
	log := a.Log

	if cfg.Demo {
		loaded, err := a.LoadDemoIfEmpty(c)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if loaded {
			log.Info("demo data loaded")
			// Generating the demo (200,000 appeals) grows the heap to a few
			// hundred MB that the server never needs again: hand it back now
			// rather than when the scavenger gets round to it, with the page
			// caches of the connections that did the work.
			a.DB.ReleaseIdle()
			debug.FreeOSMemory()
		}
	}
	setup, err := a.EnsureAdmin(c)
	if err != nil {
		return err
	}

	// Start-up work (argon2 hashes for demo accounts, demo rows) grows the
	// heap; give it back so an idle server stays small.
	debug.FreeOSMemory()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	sctx, stop := signalContext(c)
	defer stop()
	hctx, hcancel := context.WithCancel(context.Background())
	defer hcancel()
	go a.Housekeeping(hctx)

	url := cfg.BaseURL
	if url == "" {
		url = "http://" + ln.Addr().String()
	}
	fmt.Fprintf(c.stdout, "biaogan is ready at %s (%s, started in %s)\n", url, a.DB.Dialect, time.Since(start).Round(time.Millisecond))
	if setup != "" {
		fmt.Fprintf(c.stdout, "\nNo account exists yet. Create the system administrator within 30 minutes at:\n  %s\n\n", setup)
	}
	if cfg.Demo {
		fmt.Fprintln(c.stdout, "\nDemo accounts (one per role; password for all: "+demo.Password+"):")
		for _, acc := range demo.Accounts {
			fmt.Fprintf(c.stdout, "  %-12s %s\n", acc.Username, acc.Label)
		}
		fmt.Fprintln(c.stdout)
	}
	log.Info("listening", "addr", ln.Addr().String(), "db", a.DB.Dialect.String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-sctx.Done():
	}
	log.Info("shutting down")
	shctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
