// Package e2e drives the real binary in a real headless Chromium.
package e2e

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// server starts the built binary with demo data and returns its URL.
func server(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("BIAOGAN_TEST_BINARY")
	if bin == "" {
		t.Fatal("BIAOGAN_TEST_BINARY must name the built biaogan binary (make test-browser sets it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--demo", "--addr", addr, "--data", filepath.Join(t.TempDir(), "data"))
	cmd.Env = append(os.Environ(), "BIAOGAN_DATABASE_URL=")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			t.Log("server: " + sc.Text())
		}
	}()
	url := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("server did not become ready in 60 s")
	return ""
}

func browser(t *testing.T, width, height int) (context.Context, context.CancelFunc) {
	t.Helper()
	exe := "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("Debian chromium not installed at %s (apt-get install chromium)", exe)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	return ctx, func() { tcancel(); cancel(); acancel() }
}

func enabled(t *testing.T) {
	if os.Getenv("BIAOGAN_BROWSER_TEST") == "" {
		t.Skip("set BIAOGAN_BROWSER_TEST=1 (make test-browser) to run the browser test")
	}
}

func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("BIAOGAN_SCREENSHOTS")
	if dir == "" {
		return
	}
	var buf []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&buf, 80)); err == nil {
		os.WriteFile(filepath.Join(dir, name+".jpg"), buf, 0o644)
	}
}

// A supervisor signs in, sees the home page, opens the unit tree, switches
// to English and signs out.
func TestBrowserSupervisorJourney(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 1366, 900)
	defer cancel()

	var heading, tree, title, loginTitle string
	err := chromedp.Run(ctx,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(`#login-submit`, chromedp.ByID),
		chromedp.SendKeys(`#username`, "supervisor", chromedp.ByID),
		chromedp.SendKeys(`#password`, "Demo@2026", chromedp.ByID),
		chromedp.Click(`#login-submit`, chromedp.ByID),
		chromedp.WaitVisible(`#modules`, chromedp.ByID),
		chromedp.Text(`h1`, &heading, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if !strings.Contains(heading, "您好") {
		t.Fatalf("home heading %q: want the Chinese greeting", heading)
	}
	shot(t, ctx, "home")
	err = chromedp.Run(ctx,
		chromedp.Click(`nav.desktop a[href="/units"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#unit-tree`, chromedp.ByID),
		chromedp.Text(`#unit-tree`, &tree, chromedp.ByID),
	)
	if err != nil {
		t.Fatalf("open unit tree: %v", err)
	}
	for _, want := range []string{"示范市人民政府办公室", "督查科", "驻北京联络处", "青川县人民政府办公室"} {
		if !strings.Contains(tree, want) {
			t.Errorf("unit tree lacks %q", want)
		}
	}
	shot(t, ctx, "units")
	err = chromedp.Run(ctx,
		chromedp.Click(`#lang-switch`, chromedp.ByID),
		chromedp.WaitVisible(`#unit-tree`, chromedp.ByID),
		chromedp.Title(&title),
	)
	if err != nil {
		t.Fatalf("switch language: %v", err)
	}
	if !strings.Contains(title, "Units") {
		t.Fatalf("after switching to English the title is %q", title)
	}
	err = chromedp.Run(ctx,
		chromedp.Click(`#logout`, chromedp.ByID),
		chromedp.WaitVisible(`#login-submit`, chromedp.ByID),
		chromedp.Text(`h1`, &loginTitle, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("log out: %v", err)
	}
	if loginTitle != "Sign in" {
		t.Fatalf("after logout the page says %q, want the English sign-in page", loginTitle)
	}
	// Signed out means signed out: the home page sends us back to sign in.
	var loc string
	if err := chromedp.Run(ctx, chromedp.Navigate(url+"/units"), chromedp.WaitVisible(`#login-submit`, chromedp.ByID), chromedp.Location(&loc)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "/login") {
		t.Fatalf("after logout /units shows %s", loc)
	}
}

// On a 375 px phone the navigation folds into a menu and the tree still opens.
func TestBrowserPhoneWidth(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 375, 740)
	defer cancel()
	var scrollW int
	err := chromedp.Run(ctx,
		chromedp.Navigate(url+"/login"),
		chromedp.SendKeys(`#username`, "liaison", chromedp.ByID),
		chromedp.SendKeys(`#password`, "Demo@2026", chromedp.ByID),
		chromedp.Click(`#login-submit`, chromedp.ByID),
		chromedp.WaitVisible(`#modules`, chromedp.ByID),
		chromedp.Click(`details.menu summary`, chromedp.ByQuery),
		chromedp.Click(`details.menu a[href="/units"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#unit-tree`, chromedp.ByID),
		chromedp.Evaluate(`document.documentElement.scrollWidth`, &scrollW),
	)
	if err != nil {
		t.Fatalf("phone journey: %v", err)
	}
	shot(t, ctx, "phone-units")
	if scrollW > 375+1 {
		t.Fatalf("page is %d px wide on a 375 px screen: it scrolls sideways", scrollW)
	}
}
