package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The liaison of 综合科 (S04) files today's daily report on a 375 px phone;
// a supervisor publishes this month's showcase; the showcase page shows
// 综合科 with its rank, to the supervisor and on the liaison's phone.
func TestBrowserAssessJourney(t *testing.T) {
	enabled(t)
	url := server(t)
	ctx, cancel := browser(t, 1366, 900)
	defer cancel()

	// On the phone: the liaison files the daily report.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if err := svLogin(ctx, url, "liaison"); err != nil {
		t.Fatalf("liaison signs in: %v", err)
	}
	done := "浏览器测试：完成周例会材料 " + time.Now().Format("150405")
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/assess/daily"),
		chromedp.WaitVisible(chromedp.ID("daily-form")),
		chromedp.SendKeys(chromedp.ID("done"), done),
		chromedp.SendKeys(chromedp.ID("problems"), "无"),
		chromedp.SendKeys(chromedp.ID("tomorrow"), "督办会议筹备"),
	)
	if err != nil {
		t.Fatalf("fill the daily report: %v", err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Fatalf("the daily report form is wider than the phone (%v)", err)
	}
	shot(t, ctx, "assess-daily-phone")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("daily-save")), chromedp.WaitVisible(chromedp.ID("daily-filed"))); err != nil {
		t.Fatalf("file the daily report: %v", err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("daily-list")))
	if err != nil || !strings.Contains(list, done) || !strings.Contains(list, "综合科") {
		t.Fatalf("the recent reports do not show the new one (%v): %.300s", err, list)
	}
	shot(t, ctx, "assess-daily-filed")
	if err := svLogout(ctx); err != nil {
		t.Fatal(err)
	}

	// On a desktop: a supervisor publishes this month.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
		t.Fatal(err)
	}
	if err := svLogin(ctx, url, "supervisor"); err != nil {
		t.Fatalf("supervisor signs in: %v", err)
	}
	month := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	err = chromedp.Do(ctx,
		chromedp.Navigate(url+"/assess"),
		chromedp.WaitVisible(chromedp.ID("publish-form")),
		chromedp.SetValue(chromedp.ID("publish-key"), month),
		chromedp.Click(chromedp.ID("publish-submit")),
		chromedp.WaitVisible(chromedp.ID("showcase-table")),
	)
	if err != nil {
		t.Fatalf("publish %s: %v", month, err)
	}
	state, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("showcase-state"), "data-published"))
	if err != nil || state.Value != "true" {
		t.Fatalf("showcase after publishing: published=%q (%v)", state.Value, err)
	}
	rank := func() int {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("row-S04"), "data-rank"))
		if err != nil {
			t.Fatalf("综合科 is not on the showcase: %v", err)
		}
		n, err := strconv.Atoi(v.Value)
		if err != nil || n < 1 {
			t.Fatalf("综合科 has rank %q", v.Value)
		}
		return n
	}
	r := rank()
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("row-S04")))
	if err != nil || !strings.Contains(row, "综合科") || !strings.HasPrefix(strings.TrimSpace(row), strconv.Itoa(r)) {
		t.Fatalf("row of 综合科 %q (%v): want its name after rank %d", row, err, r)
	}
	shot(t, ctx, "assess-showcase")
	if err := svLogout(ctx); err != nil {
		t.Fatal(err)
	}

	// Every staff member reads it: the liaison on the phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if err := svLogin(ctx, url, "liaison"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/assess/showcase/"+month), chromedp.WaitVisible(chromedp.ID("showcase-table"))); err != nil {
		t.Fatalf("liaison opens the showcase: %v", err)
	}
	if got := rank(); got != r {
		t.Fatalf("the liaison sees rank %d, the supervisor published %d", got, r)
	}
	wide, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Fatalf("the showcase page is wider than the phone (%v); the table must scroll inside its frame", err)
	}
	shot(t, ctx, "assess-showcase-phone")

	// Last year's evaluation, signed off, with grades and a trace per unit.
	last := strconv.Itoa(time.Now().Year() - 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/assess/evaluation/"+last), chromedp.WaitVisible(chromedp.ID("evaluation-table"))); err != nil {
		t.Fatalf("open the %s evaluation: %v", last, err)
	}
	signed, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("evaluation-state"), "data-signed-off"))
	if err != nil || signed.Value != "true" {
		t.Fatalf("the %s evaluation is not shown signed off (%v)", last, err)
	}
	grades, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#evaluation-table tr[data-grade=excellent]").length`))
	if err != nil || grades < 1 {
		t.Fatalf("%d excellent units on the %s evaluation (%v)", grades, last, err)
	}
	wide, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Fatalf("the evaluation page is wider than the phone (%v)", err)
	}
	shot(t, ctx, "assess-evaluation-phone")
}
