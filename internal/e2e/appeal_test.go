package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// apState waits until the order page shows state.
func apState(state string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#appeal-state[data-state=%q]`, state)))
}

// apNarrow reports whether the page fits a 375 px screen.
func apNarrow(ctx context.Context, t *testing.T, page string) {
	t.Helper()
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Errorf("%s is wider than the phone screen (%v)", page, err)
	}
}

// The 12345 center registers an appeal and dispatches it by rule to 综合科
// (S04); the liaison of S04 accepts and replies on a phone; the center
// approves the reply and records a satisfied follow-up. The analysis page
// states the spike rule and lists the planted systemic problem with its
// create-task button.
func TestBrowserAppealJourney(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 1366, 900)
	defer cancel()

	if err := svLogin(ctx, url, "supervisor"); err != nil {
		t.Fatalf("supervisor signs in: %v", err)
	}
	text := "浏览器测试：咨询人才引进补贴政策的申请条件 " + time.Now().Format("150405")
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/appeals/new"),
		chromedp.WaitVisible(chromedp.ID("appeal-new")),
		chromedp.SetValue(chromedp.ID("f-category"), "1103"),
		chromedp.SetValue(chromedp.ID("f-kind"), "consult"),
		chromedp.SendKeys(chromedp.ID("f-content"), text),
		chromedp.SetValue(chromedp.ID("f-district"), "东城区"),
		chromedp.SendKeys(chromedp.ID("f-street"), "东华街道"),
		chromedp.SendKeys(chromedp.ID("f-name"), "李明"),
		chromedp.SendKeys(chromedp.ID("f-phone"), "13912345678"),
		chromedp.Click(chromedp.ID("create-dispatch-btn")),
		apState("dispatched"),
	)
	if err != nil {
		t.Fatalf("register and dispatch: %v", err)
	}
	shot(t, ctx, "ap-dispatched")
	orderURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(orderURL, "/appeals/") {
		t.Fatalf("after registering the page is %q (%v)", orderURL, err)
	}
	orderURL = strings.Split(orderURL, "?")[0]
	if unit, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("appeal-unit"))); err != nil || unit != "综合科" {
		t.Fatalf("dispatched to %q (%v)", unit, err)
	}
	citizen, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("citizen")))
	if err != nil || !strings.Contains(citizen, "139****5678") || strings.Contains(citizen, "13912345678") {
		t.Fatalf("citizen not masked: %q (%v)", citizen, err)
	}
	// The supervisor holds appeal.pii: unmasking shows the number.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("unmask-btn")), chromedp.WaitVisible(chromedp.ID("citizen-plain"))); err != nil {
		t.Fatalf("unmask: %v", err)
	}
	if plain, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("citizen-plain"))); !strings.Contains(plain, "13912345678") {
		t.Fatalf("unmasked %q", plain)
	}
	if err := svLogout(ctx); err != nil {
		t.Fatal(err)
	}

	// The liaison of 综合科 works on a phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if err := svLogin(ctx, url, "liaison"); err != nil {
		t.Fatalf("liaison signs in: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/appeals/mine"), chromedp.WaitVisible(chromedp.ID("appeal-items"))); err != nil {
		t.Fatalf("my unit's orders: %v", err)
	}
	apNarrow(ctx, t, "/appeals/mine")
	shot(t, ctx, "ap-mine-phone")
	err = chromedp.Do(ctx,
		chromedp.Navigate(orderURL),
		chromedp.WaitVisible(chromedp.ID("accept-btn")),
		chromedp.Click(chromedp.ID("accept-btn")),
		apState("accepted"),
	)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	apNarrow(ctx, t, "order page")
	// An empty reply is refused by the browser; a real one goes through.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("reply-text"), "已电话告知申请条件及所需材料，并提供政策原文链接。"),
		chromedp.Click(chromedp.ID("reply-btn")),
		apState("replied"),
	)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	shot(t, ctx, "ap-replied-phone")
	// The liaison cannot act for the center.
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#approve-btn, #dispatch-btn, #follow-btn").length`)); err != nil || n != 0 {
		t.Fatalf("center actions shown to the liaison: %d (%v)", n, err)
	}
	if err := svLogout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
		t.Fatal(err)
	}

	// The center approves and follows up.
	if err := svLogin(ctx, url, "supervisor"); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(orderURL),
		chromedp.WaitVisible(chromedp.ID("approve-btn")),
		chromedp.Click(chromedp.ID("approve-btn")),
		apState("resolved"),
		chromedp.Click(chromedp.ID("sat-satisfied")),
		chromedp.Click(chromedp.ID("follow-btn")),
		apState("followed"),
	)
	if err != nil {
		t.Fatalf("review and follow-up: %v", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#timeline li").length`)); err != nil || n < 5 {
		t.Fatalf("timeline has %d steps (%v)", n, err)
	}

	// Analysis: the rule is stated; the planted systemic problem is listed.
	err = chromedp.Do(ctx,
		chromedp.Navigate(url+"/appeals/analysis"),
		chromedp.WaitVisible(chromedp.ID("spike-rule")),
		chromedp.WaitVisible(chromedp.ID("league")),
		chromedp.Click(chromedp.ID("show-clusters")),
		chromedp.WaitVisible(chromedp.ID("cluster-task-0")),
	)
	if err != nil {
		t.Fatalf("analysis: %v", err)
	}
	if txt, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("cluster-0"))); !strings.Contains(txt, "二次供水") {
		t.Fatalf("first cluster is not the planted systemic problem: %q", txt)
	}
	shot(t, ctx, "ap-analysis")
}
