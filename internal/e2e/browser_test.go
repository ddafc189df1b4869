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
	if os.Getenv("BIAOGAN_DEMO_APPEALS") == "" {
		// Enough appeals for every page; the full 200,000 would add half a
		// minute to each start.
		cmd.Env = append(cmd.Env, "BIAOGAN_DEMO_APPEALS=20000")
	}
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
	if buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	}
}

// A supervisor signs in, sees the home page, opens the unit tree, switches
// to English and signs out.
func TestBrowserSupervisorJourney(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 1366, 900)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), "supervisor"),
		chromedp.SendKeys(chromedp.ID("password"), "Demo@2026"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("modules")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || !strings.Contains(heading, "您好") {
		t.Fatalf("home heading %q (%v): want the Chinese greeting", heading, err)
	}
	shot(t, ctx, "home")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav.desktop a[href="/units"]`)),
		chromedp.WaitVisible(chromedp.ID("unit-tree")),
	)
	if err != nil {
		t.Fatalf("open unit tree: %v", err)
	}
	tree, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("unit-tree")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"示范市人民政府办公室", "督查科", "驻北京联络处", "青川县人民政府办公室"} {
		if !strings.Contains(tree, want) {
			t.Errorf("unit tree lacks %q", want)
		}
	}
	shot(t, ctx, "units")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-switch")),
		// The tree is on the old page too: wait for the English one.
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #unit-tree`))); err != nil {
		t.Fatalf("switch language: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || !strings.Contains(title, "Units") {
		t.Fatalf("after switching to English the title is %q (%v)", title, err)
	}
	shot(t, ctx, "units-en")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-submit"))); err != nil {
		t.Fatalf("log out: %v", err)
	}
	loginTitle, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || loginTitle != "Sign in" {
		t.Fatalf("after logout the page says %q (%v), want the English sign-in page", loginTitle, err)
	}
	// Signed out means signed out: a private page sends us back to sign in.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/units"), chromedp.WaitVisible(chromedp.ID("login-submit"))); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/login") {
		t.Fatalf("after logout /units shows %s (%v)", loc, err)
	}
}

// On a 375 px phone the navigation folds into a menu and the tree still opens.
func TestBrowserPhoneWidth(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 375, 740)
	defer cancel()
	err := chromedp.Do(ctx,
		// Headless windows are at least 500 px wide; emulate the phone's viewport.
		chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile),
		chromedp.Navigate(url+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "liaison"),
		chromedp.SendKeys(chromedp.ID("password"), "Demo@2026"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("modules")),
		chromedp.Click(chromedp.CSS(`details.menu summary`)),
		chromedp.Click(chromedp.CSS(`details.menu a[href="/units"]`)),
		chromedp.WaitVisible(chromedp.ID("unit-tree")),
	)
	if err != nil {
		t.Fatalf("phone journey: %v", err)
	}
	shot(t, ctx, "phone-units")
	scrollW, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if scrollW > 375+1 {
		t.Fatalf("page is %d px wide on a 375 px screen: it scrolls sideways", scrollW)
	}
}
