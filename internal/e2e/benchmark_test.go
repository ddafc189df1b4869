package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// An analyst, on a phone, enters a peer's value for an indicator still at
// 寻标, sees the gap and the stage move to 对标, sets a target with a
// two-step path, and finds the steps as tasks on the task list of the
// battle map.
func TestBrowserBenchmarkAnalystJourney(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 375, 740)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if err := svLogin(ctx, url, "analyst"); err != nil {
		t.Fatal(err)
	}
	// The overview lists XX05 (主流媒体正面报道) at seek: no peer figures yet.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/benchmark"),
		chromedp.WaitVisible(chromedp.ID("bm-index")),
		chromedp.WaitVisible(chromedp.CSS(`#ind-XX05 .st-seek`)),
	); err != nil {
		t.Fatal(err)
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 376 {
		t.Errorf("overview is %d px wide on a 375 px phone (%v)", w, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#ind-XX05 a`)),
		chromedp.WaitVisible(chromedp.CSS(`#bm-stage[data-stage="seek"]`)),
	); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "benchmark-seek")
	period, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("bm-period")))
	if err != nil {
		t.Fatal(err)
	}
	period = strings.TrimSpace(period)
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 376 {
		t.Errorf("indicator page is %d px wide on a 375 px phone (%v)", w, err)
	}
	// Qingdao's value, well ahead of ours.
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("obs-subject");
			for (const o of s.options) { if (o.text.startsWith("青岛")) { s.value = o.value; } } })()`),
		chromedp.SetValue(chromedp.ID("obs-period"), period),
		chromedp.SendKeys(chromedp.ID("obs-value"), "80"),
		chromedp.Click(chromedp.ID("obs-save")),
		chromedp.WaitVisible(chromedp.CSS(`#bm-stage[data-stage="compare"]`)),
	); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "benchmark-compare")
	us, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#bm-gap tr.us`)))
	if err != nil {
		t.Fatal(err)
	}
	cells := strings.Fields(us)
	if len(cells) < 5 || cells[0] != "2" {
		t.Fatalf("our row in the gap table: %q", us)
	}
	if g, err := strconv.ParseFloat(cells[3], 64); err != nil || g <= 0 {
		t.Fatalf("our gap: %q", us)
	}
	// A target with a two-step path.
	today := time.Now()
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("bm-new-target")),
		chromedp.WaitVisible(chromedp.ID("t-save")),
		chromedp.SendKeys(chromedp.ID("t-value"), "80"),
		chromedp.SetValue(chromedp.ID("t-due"), today.AddDate(0, 8, 0).Format("2006-01-02")),
		chromedp.SendKeys(chromedp.ID("step-title-1"), "学习青岛宣传工作经验形成方案"),
		chromedp.SetValue(chromedp.ID("step-due-1"), today.AddDate(0, 1, 0).Format("2006-01-02")),
		chromedp.SendKeys(chromedp.ID("step-title-2"), "建立主流媒体联络机制"),
		chromedp.SetValue(chromedp.ID("step-due-2"), today.AddDate(0, 6, 0).Format("2006-01-02")),
		chromedp.Evaluate[chromedp.Void](`(() => { for (const n of [1, 2]) { const s = document.getElementById("step-unit-" + n);
			for (const o of s.options) { if (o.text.startsWith(n === 1 ? "S19" : "S04")) { s.value = o.value; } } } })()`),
		chromedp.Click(chromedp.ID("t-save")),
		chromedp.WaitVisible(chromedp.CSS(`#targets a.task-link`)),
	); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "benchmark-target")
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#targets a.task-link").length`))
	if err != nil || n != 2 {
		t.Fatalf("%d task links on the target (%v)", n, err)
	}
	// The steps are tasks on the battle map's task list, assigned to their units.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/tasks?source=benchmark&scope=open"),
		chromedp.WaitVisible(chromedp.ID("task-table")),
	); err != nil {
		t.Fatal(err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("task-table")))
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"学习青岛宣传工作经验形成方案", "建立主流媒体联络机制"} {
		if !strings.Contains(list, title) {
			t.Errorf("task list lacks %q", title)
		}
	}
	shot(t, ctx, "benchmark-tasks")
}
