package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/appeal/open311"
	"github.com/biaogan/biaogan/internal/audit"
)

// The Open311 figures of issue 6: clients and the length of each run.
var (
	open311Clients = 50
	open311Run     = 10 * time.Second
)

// open311Texts are what citizens' apps send.
var open311Texts = []string{
	"小区门口路灯不亮已经一周，晚上行人很不安全，请尽快维修。",
	"人民路与解放路交叉口路面塌陷，有一个大坑，车辆经过很危险。",
	"楼下餐馆油烟直排，窗户都不敢开，希望有关部门管一管。",
	"工地夜间施工噪声很大，已经影响休息，请核实是否办理夜间施工许可。",
	"公交站台的顶棚破损漏雨，候车的老人孩子淋雨。",
	"河道漂浮垃圾较多，气味难闻，请安排清理。",
}

// open311Engine is one engine's figures.
type open311Engine struct {
	engine   string
	services int
	post     Latencies
	list     Latencies
	listN    int
	paged    Latencies
	note     string
}

// measureOpen311 starts the binary with the demo data on a fresh database,
// issues a key straight into it, and loads the API with 50 clients.
func measureOpen311(bin, engine, pgURL string, log io.Writer) (*open311Engine, error) {
	ctx := context.Background()
	f := &open311Engine{engine: engine}
	fresh, err := openFresh(ctx, "open311", engine, pgURL)
	if err != nil {
		return nil, err
	}
	defer fresh.Remove()
	key, _, err := open311.NewKeys(fresh.DB, audit.New(fresh.DB), nil).Add(ctx, audit.Entry{Actor: "bench"}, "bench")
	fresh.CloseDB()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "  starting with the demo data on %s …\n", engine)
	s, err := fresh.Start(bin, "--demo")
	if err != nil {
		return nil, err
	}
	defer s.Stop()

	resp, err := http.Get(s.URL + open311.Prefix + "/services.json")
	if err != nil {
		return nil, err
	}
	var services []struct {
		Code string `json:"service_code"`
	}
	ok := resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&services) == nil && len(services) > 0
	resp.Body.Close()
	if !ok {
		f.note = fmt.Sprintf("not measured: services.json answered %d (is the appeal backend wired?)", resp.StatusCode)
		return f, nil
	}
	f.services = len(services)

	post := func(client int) (*http.Request, error) {
		rng := rand.New(rand.NewPCG(uint64(client), uint64(time.Now().UnixNano())))
		form := url.Values{"api_key": {key}, "service_code": {services[rng.IntN(len(services))].Code},
			"lat": {fmt.Sprintf("%.6f", 31.1+rng.Float64()*0.3)}, "long": {fmt.Sprintf("%.6f", 121.3+rng.Float64()*0.3)},
			"description": {open311Texts[rng.IntN(len(open311Texts))]}, "phone": {fmt.Sprintf("139%08d", rng.IntN(1e8))}}
		r, err := http.NewRequest("POST", s.URL+open311.Prefix+"/requests.json", strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r, nil
	}
	get := func(path string) func(int) (*http.Request, error) {
		return func(int) (*http.Request, error) { return http.NewRequest("GET", s.URL+open311.Prefix+path, nil) }
	}
	is200 := func(st int) bool { return st == http.StatusOK }
	fmt.Fprintf(log, "  POST requests.json, %d clients on %s …\n", open311Clients, engine)
	LoadEach(4, time.Second, post, is200)
	f.post = LoadEach(open311Clients, open311Run, post, is200)

	// How many the default list returns now (the last 90 days, at most 1000).
	resp, err = http.Get(s.URL + open311.Prefix + "/requests.json")
	if err != nil {
		return nil, err
	}
	var list []json.RawMessage
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	f.listN = len(list)
	fmt.Fprintf(log, "  GET requests.json, %d clients on %s …\n", open311Clients, engine)
	f.list = LoadEach(open311Clients, open311Run, get("/requests.json"), is200)
	f.paged = LoadEach(open311Clients, open311Run, get("/requests.json?status=open&page=2&page_size=50"), is200)
	return f, nil
}

// open311Figures measures the Open311 API on SQLite and, when pgURL is set,
// PostgreSQL, and returns a "### Open311 GeoReport v2" subsection for the
// appeal section of BENCHMARKS.md.
func open311Figures(bin, pgURL string, log io.Writer) (string, error) {
	fmt.Fprintln(log, "Open311 GeoReport v2 (issue 6) …")
	figs, err := perEngine("open311", bin, pgURL, log, measureOpen311)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("### Open311 GeoReport v2\n\n")
	fmt.Fprintf(&b, "The binary with the demo data, an API key issued into the database before it starts; %d concurrent clients, %s per figure after a warm-up. "+
		"Each POST is a form-encoded request with a random service, coordinates, a description and a phone number, and creates a work order on the open311 channel.\n\n",
		open311Clients, open311Run)
	mdHeader(&b, line([]string{"figure"}, cells(figs, func(f *open311Engine) string { return f.engine }))...)
	row := func(name string, cell func(*open311Engine) string) {
		mdRow(&b, line([]string{name}, cells(figs, func(f *open311Engine) string {
			if f.note != "" { // not measured on this engine
				return f.note
			}
			return cell(f)
		}))...)
	}
	row("`POST /open311/v2/requests.json` (creates a work order)", func(f *open311Engine) string {
		return fmt.Sprintf("**%.0f requests/s**, p50 %s, p99 %s (%d errors)", f.post.RPS, ms(f.post.P50), ms(f.post.P99), f.post.Errors)
	})
	row("`GET /open311/v2/requests.json` (default: last 90 days, at most 1000)", func(f *open311Engine) string {
		return fmt.Sprintf("**p99 %s**, p50 %s, %.0f req/s, %d requests per answer (%d errors)", ms(f.list.P99), ms(f.list.P50), f.list.RPS, f.listN, f.list.Errors)
	})
	row("`GET /open311/v2/requests.json?status=open&page=2&page_size=50`", func(f *open311Engine) string {
		return fmt.Sprintf("p99 %s, p50 %s, %.0f req/s (%d errors)", ms(f.paged.P99), ms(f.paged.P50), f.paged.RPS, f.paged.Errors)
	})
	if pgURL == "" {
		b.WriteString(noPostgres)
	}
	b.WriteString("\n")
	return b.String(), nil
}
