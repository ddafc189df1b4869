package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// svLogin signs in as user (demo password) and waits for the home page.
func svLogin(ctx context.Context, url, user string) error {
	return chromedp.Do(ctx,
		chromedp.Navigate(url+"/login"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), "Demo@2026"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("modules")),
	)
}

func svLogout(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-submit")))
}

// svState waits until the task page shows state.
func svState(state string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#task-state[data-state=%q]`, state)))
}

// svCounts reads the battle map's total and done figures.
func svCounts(ctx context.Context, url string) (total, done int, err error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/battlemap"), chromedp.WaitVisible(chromedp.ID("bm-kpis"))); err != nil {
		return 0, 0, err
	}
	tt, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("bm-total")))
	if err != nil {
		return 0, 0, err
	}
	dd, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("bm-done")))
	if err != nil {
		return 0, 0, err
	}
	total, err = strconv.Atoi(strings.TrimSpace(tt))
	if err != nil {
		return 0, 0, err
	}
	done, err = strconv.Atoi(strings.TrimSpace(dd))
	return total, done, err
}

func svPNG(t *testing.T) string {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range 16 {
		img.Set(i, i, color.RGBA{R: 183, G: 28, B: 28, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "会议纪要.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A supervisor creates and assigns a task; the liaison of 综合科 (S04)
// accepts it and reports 100 % with a file, then submits it; the supervisor
// signs it off; the battle map counts it as done. Then the pages are
// checked on a 375 px phone and the big screen draws its charts.
func TestBrowserSuperviseJourney(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 1366, 900)
	defer cancel()
	file := svPNG(t)

	if err := svLogin(ctx, url, "supervisor"); err != nil {
		t.Fatalf("supervisor signs in: %v", err)
	}
	total0, done0, err := svCounts(ctx, url)
	if err != nil {
		t.Fatalf("battle map before: %v", err)
	}
	shot(t, ctx, "sv-battlemap-before")

	// Create and assign.
	title := "浏览器测试：完善值班制度 " + time.Now().Format("150405")
	today := time.Now()
	err = chromedp.Do(ctx,
		chromedp.Navigate(url+"/tasks/new"),
		chromedp.WaitVisible(chromedp.ID("task-form")),
		chromedp.SendKeys(chromedp.ID("title"), title),
		chromedp.SetValue(chromedp.ID("area"), "emergency"),
		chromedp.SendKeys(chromedp.ID("acceptance"), "制度印发并组织学习"),
		chromedp.Poll[chromedp.Void](`(() => { const s = document.getElementById("lead_unit_id");
			for (const o of s.options) { if (o.text.includes("(S04)")) { s.value = o.value; s.dispatchEvent(new Event("change")); return true; } }
			return false; })()`),
		// The owners of 综合科 arrive from /api/v1/people.
		chromedp.Poll[chromedp.Void](`document.getElementById("owner_id").options.length > 1`, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Poll[chromedp.Void](`(() => { const s = document.getElementById("owner_id"); s.selectedIndex = 1; return s.value !== ""; })()`),
		chromedp.SetValue(chromedp.ID("due"), today.AddDate(0, 1, 0).Format("2006-01-02")),
		chromedp.SendKeys(chromedp.ID("ms_name_0"), "起草制度"),
		chromedp.SetValue(chromedp.ID("ms_due_0"), today.AddDate(0, 0, 14).Format("2006-01-02")),
	)
	if err != nil {
		t.Fatalf("fill the task form: %v", err)
	}
	shot(t, ctx, "sv-new")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("task-save")), svState("assigned")); err != nil {
		t.Fatalf("save and assign: %v", err)
	}
	taskURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(taskURL, "/tasks/") {
		t.Fatalf("after saving the page is %q (%v)", taskURL, err)
	}
	taskURL = strings.Split(taskURL, "?")[0]
	if unit, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("fact-unit"))); err != nil || unit != "综合科" {
		t.Fatalf("lead unit %q (%v)", unit, err)
	}
	shot(t, ctx, "sv-assigned")
	if err := svLogout(ctx); err != nil {
		t.Fatal(err)
	}

	// The liaison accepts, reports 100 % with a file, and submits.
	if err := svLogin(ctx, url, "liaison"); err != nil {
		t.Fatalf("liaison signs in: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(url+"/tasks/mine"),
		chromedp.WaitVisible(chromedp.ID("to-accept")),
	)
	if err != nil {
		t.Fatalf("my unit's tasks: %v", err)
	}
	mine, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("to-accept")))
	if err != nil || !strings.Contains(mine, title) {
		t.Fatalf("the liaison's list to accept lacks the task: %q (%v)", mine, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(taskURL),
		chromedp.WaitVisible(chromedp.ID("act-accept")),
		chromedp.Click(chromedp.ID("act-accept")),
		svState("accepted"),
		chromedp.Click(chromedp.ID("act-report")),
		chromedp.WaitVisible(chromedp.ID("report-form")),
		chromedp.SetValue(chromedp.ID("percent"), "100"),
		chromedp.SendKeys(chromedp.ID("text"), "制度已印发，已组织全科学习。"),
		chromedp.SendKeys(chromedp.ID("next_steps"), "迎接督查"),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{file}),
	)
	if err != nil {
		t.Fatalf("accept and fill the report: %v", err)
	}
	shot(t, ctx, "sv-report")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("report-save")),
		svState("in_progress"),
		chromedp.WaitVisible(chromedp.CSS("#reports .file-link")),
	)
	if err != nil {
		t.Fatalf("send the report: %v", err)
	}
	if f, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#reports .file-link"))); err != nil || f != "会议纪要.png" {
		t.Fatalf("report file %q (%v)", f, err)
	}
	if p, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("fact-progress"))); err != nil || p != "100%" {
		t.Fatalf("progress %q (%v)", p, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("act-submit")), svState("submitted")); err != nil {
		t.Fatalf("submit: %v", err)
	}
	shot(t, ctx, "sv-submitted")

	// On a phone the liaison's pages do not scroll sideways.
	err = chromedp.Do(ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{strings.TrimPrefix(taskURL, url), "/tasks/mine", "/tasks", "/battlemap", strings.TrimPrefix(taskURL, url) + "/report"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(url+path), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatalf("phone %s: %v", path, err)
		}
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if w > 376 {
			t.Errorf("%s is %d px wide on a 375 px phone", path, w)
		}
		shot(t, ctx, "sv-phone"+strings.ReplaceAll(path, "/", "-"))
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
		t.Fatal(err)
	}
	if err := svLogout(ctx); err != nil {
		t.Fatal(err)
	}

	// The supervisor signs it off; the battle map counts it.
	if err := svLogin(ctx, url, "supervisor"); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(taskURL),
		chromedp.WaitVisible(chromedp.ID("act-sign_off")),
		chromedp.Click(chromedp.ID("act-sign_off")),
		svState("signed_off"),
	)
	if err != nil {
		t.Fatalf("sign off: %v", err)
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"交办", "签收", "报送进展", "上传附件", "申请办结", "销号"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	total1, done1, err := svCounts(ctx, url)
	if err != nil {
		t.Fatalf("battle map after: %v", err)
	}
	if total1 != total0+1 || done1 != done0+1 {
		t.Fatalf("battle map: total %d → %d, done %d → %d; want each one more", total0, total1, done0, done1)
	}
	shot(t, ctx, "sv-battlemap-after")

	// An instruction's chain (the demo's leaders' instructions).
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/instructions"), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		t.Fatalf("instructions: %v", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#instruction-table tbody a").length`)); err == nil && n > 0 {
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#instruction-table tbody a")),
			chromedp.WaitVisible(chromedp.ID("chain-instruction")),
		)
		if err != nil {
			t.Fatalf("open a chain: %v", err)
		}
		shot(t, ctx, "sv-chain")
	}

	// The big screen draws with ECharts under the strict CSP, and its
	// figures come from the API.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1920, 1080)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(url+"/battlemap/screen"),
		chromedp.WaitVisible(chromedp.ID("screen")),
		chromedp.Poll[chromedp.Void](`!window.echarts || document.querySelectorAll("#chart-areas canvas, #chart-lights canvas").length >= 2`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatalf("big screen: %v", err)
	}
	if d, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("s-done"))); err != nil || strings.TrimSpace(d) != strconv.Itoa(done1) {
		t.Errorf("big screen done %q (%v), want %d", d, err, done1)
	}
	shot(t, ctx, "sv-screen")
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/battlemap/print"), chromedp.WaitVisible(chromedp.ID("print-sheet"))); err != nil {
		t.Fatalf("print: %v", err)
	}
	shot(t, ctx, "sv-print")
}
