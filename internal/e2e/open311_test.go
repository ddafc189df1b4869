package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// o311Post submits a GeoReport v2 request with key and returns the status
// and body.
func o311Post(t *testing.T, base, key string, form url.Values) (int, string) {
	t.Helper()
	form.Set("api_key", key)
	resp, err := http.PostForm(base+"/open311/v2/requests.json", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The system admin issues an Open311 key on a phone, an Open311 client
// submits a request with it, the admin revokes it and the client is
// refused with the spec's 403.
func TestBrowserOpen311Keys(t *testing.T) {
	enabled(t)
	base := server(t)
	ctx, cancel := browser(t, 375, 740)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if err := svLogin(ctx, base, "admin"); err != nil {
		t.Fatalf("admin signs in: %v", err)
	}
	name := "浏览器测试客户端"
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/open311"),
		chromedp.WaitVisible(chromedp.ID("open311-key-form")),
		chromedp.SendKeys(chromedp.ID("open311-key-name"), name),
		chromedp.Click(chromedp.ID("open311-key-submit")),
		chromedp.WaitVisible(chromedp.ID("open311-secret-value")),
	)
	if err != nil {
		t.Fatalf("issue a key: %v", err)
	}
	shot(t, ctx, "open311-key-issued")
	key, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("open311-secret-value").value`))
	if err != nil || !strings.HasPrefix(key, "o311_") {
		t.Fatalf("the new key %q (%v)", key, err)
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 376 {
		t.Errorf("the key page is %d px wide on a 375 px screen (%v)", w, err)
	}

	// A client uses the key: with the appeal backend wired it creates a
	// request; without one the API says it is not running — never 403.
	form := url.Values{"address_string": {"人民路 100 号"}, "description": {"路灯不亮"}}
	resp, err := http.Get(base + "/open311/v2/services.json")
	if err != nil {
		t.Fatal(err)
	}
	var services []struct {
		Code string `json:"service_code"`
	}
	if resp.StatusCode == http.StatusOK {
		json.NewDecoder(resp.Body).Decode(&services)
	}
	resp.Body.Close()
	if len(services) > 0 {
		form.Set("service_code", services[0].Code)
		if status, body := o311Post(t, base, key, form); status != 200 || !strings.Contains(body, "service_request_id") {
			t.Fatalf("submit with the new key: %d %s", status, body)
		}
	} else if status, body := o311Post(t, base, key, form); status == http.StatusForbidden {
		t.Fatalf("the new key was refused: %s", body)
	}

	// Revoke it on the page (accepting the confirmation).
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`tr[data-key="`+name+`"] button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+name+`"] .tag:not(.grey)`)),
	)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	shot(t, ctx, "open311-key-revoked")
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('tr[data-key="`+name+`"] button.danger').length`)); err != nil || n != 0 {
		t.Errorf("a revoked key still offers revoke (%d, %v)", n, err)
	}
	form.Set("service_code", "any")
	if status, body := o311Post(t, base, key, form); status != http.StatusForbidden || !strings.Contains(body, "api_key") {
		t.Fatalf("a revoked key: %d %s, want 403 naming api_key", status, body)
	}
}
