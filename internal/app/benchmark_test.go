package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/biaogan/biaogan/internal/app"
	"github.com/biaogan/biaogan/internal/benchmark"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/web"
)

// bmClient calls the app as a demo account.
type bmClient struct {
	t      *testing.T
	h      http.Handler
	secret string
}

func demoSession(t *testing.T, a *app.App, user string) *bmClient {
	t.Helper()
	u, err := a.Auth.UserByName(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := a.Auth.CreateSession(context.Background(), u, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return &bmClient{t: t, h: a.Handler(), secret: secret}
}

func (c *bmClient) do(method, path, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: c.secret})
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return rec
}

func (c *bmClient) json(method, path string, in, out any) int {
	c.t.Helper()
	var b []byte
	if in != nil {
		b, _ = json.Marshal(in)
	}
	rec := c.do(method, path, "application/json", b)
	if out != nil && rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
		}
	}
	if rec.Code >= 300 && out != nil {
		if e, ok := out.(*apiErr); ok {
			_ = json.Unmarshal(rec.Body.Bytes(), e)
		}
	}
	return rec.Code
}

type apiErr struct {
	Error struct {
		Code, Message, Field string
	} `json:"error"`
}

func loadDemo(t *testing.T, a *app.App) {
	t.Helper()
	if ok, err := a.LoadDemoIfEmpty(context.Background()); err != nil || !ok {
		t.Fatalf("demo: %v %v", ok, err)
	}
}

func TestBenchmarkDemoTellsTheWholeStory(t *testing.T) {
	a := newApp(t)
	loadDemo(t, a)
	c := demoSession(t, a, "leader")
	var peers struct {
		Items []benchmark.Peer
		Total int
	}
	if c.json("GET", "/api/v1/peers", nil, &peers) != 200 || peers.Total != 5 {
		t.Fatalf("peers: %+v", peers)
	}
	kinds := map[string]benchmark.PeerKind{}
	for _, p := range peers.Items {
		kinds[p.Name] = p.Kind
	}
	if kinds["苏州市人民政府办公室"] != benchmark.PeerOutOfProvince || kinds["青岛市人民政府办公厅"] != benchmark.PeerInProvince {
		t.Errorf("peer kinds: %v", kinds)
	}
	var inds struct {
		Items []benchmark.Indicator
		Total int
	}
	c.json("GET", "/api/v1/indicators", nil, &inds)
	stages, cats := map[benchmark.Stage]int{}, map[string]int{}
	for _, in := range inds.Items {
		stages[in.Stage]++
		cats[in.Category]++
	}
	if inds.Total < 35 || len(cats) != 4 {
		t.Errorf("indicators: %d in %v", inds.Total, cats)
	}
	for _, st := range benchmark.Stages {
		if stages[st] == 0 {
			t.Errorf("no indicator at stage %s: %v", st, stages)
		}
	}
	var targets struct {
		Items []benchmark.Target
		Total int
	}
	c.json("GET", "/api/v1/targets", nil, &targets)
	if targets.Total != 10 {
		t.Fatalf("%d targets", targets.Total)
	}
	for _, tg := range targets.Items {
		if len(tg.TaskIDs) != len(tg.Path) || len(tg.Path) == 0 {
			t.Fatalf("target %d: tasks %v for %d steps", tg.ID, tg.TaskIDs, len(tg.Path))
		}
		task, err := a.Tasks.Task(context.Background(), tg.TaskIDs[0])
		if err != nil || task.Source != "benchmark" || task.State != "assigned" || task.Area != "benchmark" {
			t.Fatalf("task of target %d: %+v %v", tg.ID, task, err)
		}
	}
	var acts struct {
		Items []benchmark.Activity
	}
	c.json("GET", "/api/v1/learning-activities", nil, &acts)
	var july, sept bool
	for _, x := range acts.Items {
		july = july || (strings.Contains(x.PeerName, "苏州") && x.HeldOn.Month() == 7 && x.Report != "")
		sept = sept || (strings.Contains(x.PeerName, "青岛") && x.HeldOn.Month() == 9 && x.Report != "")
	}
	if !july || !sept {
		t.Errorf("learning visits: %+v", acts.Items)
	}
	// The pages render for a reader, and the stages reach the assessment.
	for _, p := range []string{"/benchmark", "/benchmark/summary", "/benchmark/peers", "/benchmark/learning", "/benchmark/targets",
		fmt.Sprintf("/benchmark/indicators/%d", inds.Items[0].ID), fmt.Sprintf("/benchmark/indicators/%d/report", inds.Items[0].ID)} {
		if rec := c.do("GET", p, "", nil); rec.Code != 200 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	for _, p := range []string{"/benchmark/summary.xlsx", fmt.Sprintf("/benchmark/indicators/%d/report.xlsx", inds.Items[0].ID)} {
		if rec := c.do("GET", p, "", nil); rec.Code != 200 || !bytes.HasPrefix(rec.Body.Bytes(), []byte("PK")) {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	os, err := a.Benchmark.OwnerStages(context.Background())
	if err != nil || len(os) != inds.Total {
		t.Errorf("owner stages: %d, %v", len(os), err)
	}
}

// failSecond lets the first path step's task be created for real, then
// fails the second, as a task supervise refuses would.
type failSecond struct {
	inner benchmark.TaskCreator
	n     int
}

func (f *failSecond) CreateTask(ctx context.Context, tx *db.Tx, by benchmark.Actor, t benchmark.NewTask) (int64, error) {
	f.n++
	if f.n == 2 {
		return 0, fmt.Errorf("step refused")
	}
	return f.inner.CreateTask(ctx, tx, by, t)
}

func TestBenchmarkAPIFromPeerValueToBattleMapTasks(t *testing.T) {
	a := newApp(t)
	loadDemo(t, a)
	c := demoSession(t, a, "analyst")
	ctx := context.Background()
	var inds struct{ Items []benchmark.Indicator }
	c.json("GET", "/api/v1/indicators", nil, &inds)
	var seek *benchmark.Indicator
	for i := range inds.Items {
		if inds.Items[i].Stage == benchmark.StageSeek && inds.Items[i].Source == "manual" {
			seek = &inds.Items[i]
			break
		}
	}
	if seek == nil || seek.LatestValue == nil {
		t.Fatal("no manual indicator at seek with our value")
	}
	var peers struct{ Items []benchmark.Peer }
	c.json("GET", "/api/v1/peers", nil, &peers)
	qd := peers.Items[0].ID
	for _, p := range peers.Items {
		if strings.HasPrefix(p.Name, "青岛") {
			qd = p.ID
		}
	}
	// Bad input names the field and saves nothing.
	var e apiErr
	if code := c.json("POST", "/api/v1/observations", map[string]any{"indicator_id": seek.ID, "subject": fmt.Sprintf("peer:%d", qd), "period": "2026-09", "value": 1}, &e); code != 422 || e.Error.Field != "period" {
		t.Errorf("month for a quarterly indicator: %d %+v", code, e)
	}
	if code := c.json("POST", "/api/v1/observations", map[string]any{"indicator_id": seek.ID, "subject": "peer:99999", "period": seek.LatestPeriod, "value": 1}, &e); code != 422 || e.Error.Field != "subject" {
		t.Errorf("unknown subject: %d %+v", code, e)
	}
	if code := c.json("POST", "/api/v1/observations", map[string]any{"indicator_id": seek.ID, "subject": "us", "period": seek.LatestPeriod, "value": "很多"}, &e); code != 422 || e.Error.Field != "value" {
		t.Errorf("not a number: %d %+v", code, e)
	}
	// A peer value ahead of ours: the gap appears and the stage moves to compare.
	ahead := *seek.LatestValue * 1.2
	if seek.Direction == benchmark.LowerBetter {
		ahead = *seek.LatestValue * 0.8
	}
	if code := c.json("POST", "/api/v1/observations", map[string]any{"indicator_id": seek.ID, "subject": fmt.Sprintf("peer:%d", qd), "period": seek.LatestPeriod, "value": ahead}, nil); code != 200 {
		t.Fatalf("peer value: %d", code)
	}
	var gap struct {
		Period   string
		Subjects []benchmark.GapRow
	}
	c.json("GET", fmt.Sprintf("/api/v1/indicators/%d/gap", seek.ID), nil, &gap)
	if gap.Period != seek.LatestPeriod || len(gap.Subjects) != 2 || gap.Subjects[1].Subject != "us" || gap.Subjects[1].Rank != 2 || gap.Subjects[1].Gap <= 0 {
		t.Fatalf("gap: %+v", gap)
	}
	var ind benchmark.Indicator
	c.json("GET", fmt.Sprintf("/api/v1/indicators/%d", seek.ID), nil, &ind)
	if ind.Stage != benchmark.StageCompare {
		t.Fatalf("stage after a peer value: %s", ind.Stage)
	}
	var hist struct{ Items []benchmark.StageChange }
	c.json("GET", fmt.Sprintf("/api/v1/indicators/%d/stages", seek.ID), nil, &hist)
	if len(hist.Items) < 2 || hist.Items[0].To != benchmark.StageCompare {
		t.Errorf("stage history: %+v", hist.Items)
	}
	// A target with a two-step path: two assigned battle-map tasks.
	var units []struct{ ID int64 }
	rows, err := a.DB.QueryContext(ctx, `SELECT id FROM units WHERE code IN ('S04','S05') ORDER BY code`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		units = append(units, struct{ ID int64 }{id})
	}
	rows.Close()
	today := a.Tasks.Today()
	target := map[string]any{"indicator_id": seek.ID, "target_value": ahead, "due": today.AddDays(200).String(), "peer_id": qd,
		"path": []map[string]any{{"title": "学习青岛做法形成方案", "due": today.AddDays(30).String(), "lead_unit_id": units[0].ID},
			{"title": "督查落实", "due": today.AddDays(150).String(), "lead_unit_id": units[1].ID}}}
	wrong := map[string]any{}
	for k, v := range target {
		wrong[k] = v
	}
	wrong["target_value"] = *seek.LatestValue * 0.5
	if seek.Direction == benchmark.LowerBetter {
		wrong["target_value"] = *seek.LatestValue * 2
	}
	var tasksBefore int
	a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks`).Scan(&tasksBefore)
	if code := c.json("POST", "/api/v1/targets", wrong, &e); code != 422 || e.Error.Field != "target_value" {
		t.Errorf("wrong-direction target: %d %+v", code, e)
	}
	late := map[string]any{}
	for k, v := range target {
		late[k] = v
	}
	late["path"] = []map[string]any{{"title": "晚了", "due": today.AddDays(201).String(), "lead_unit_id": units[0].ID}}
	if code := c.json("POST", "/api/v1/targets", late, &e); code != 422 || e.Error.Field != "path[0].due" {
		t.Errorf("step after the target's due: %d %+v", code, e)
	}
	// The second step failing takes the first step's real task with it.
	real := a.Benchmark.Tasks
	a.Benchmark.Tasks = &failSecond{inner: real}
	if code := c.json("POST", "/api/v1/targets", target, &e); code != 500 {
		t.Errorf("failing step: %d", code)
	}
	a.Benchmark.Tasks = real
	var tasksAfter, targetsNow int
	a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks`).Scan(&tasksAfter)
	a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM targets`).Scan(&targetsNow)
	if tasksAfter != tasksBefore || targetsNow != 10 {
		t.Fatalf("refused targets left %d tasks and %d targets", tasksAfter-tasksBefore, targetsNow-10)
	}
	var tg benchmark.Target
	if code := c.json("POST", "/api/v1/targets", target, &tg); code != 201 || len(tg.TaskIDs) != 2 {
		t.Fatalf("target: %d %+v", code, tg)
	}
	var list struct {
		Items []struct {
			ID     int64
			Title  string
			Source string
			State  string
		}
	}
	c.json("GET", "/api/v1/tasks?source=benchmark&limit=500", nil, &list)
	found := 0
	for _, it := range list.Items {
		if (it.ID == tg.TaskIDs[0] || it.ID == tg.TaskIDs[1]) && it.State == "assigned" {
			found++
		}
	}
	if found != 2 {
		t.Errorf("the path's tasks are not on the task list: %+v", tg.TaskIDs)
	}
	// Only the analyst writes: a leader may read but not set targets.
	leader := demoSession(t, a, "leader")
	if code := leader.json("POST", "/api/v1/targets", target, &e); code != 403 {
		t.Errorf("leader set a target: %d", code)
	}
	// The peer page changes a peer; a leader may not.
	edit := url.Values{"name": {"青岛市人民政府办公厅"}, "kind": {"in_province"}, "region": {"山东省青岛市"}, "learn": {"挂图作战、接诉即办"}, "active": {"1"}}
	if rec := c.do("POST", fmt.Sprintf("/benchmark/peers/%d", qd), "application/x-www-form-urlencoded", []byte(edit.Encode())); rec.Code != http.StatusSeeOther {
		t.Errorf("peer edit: %d %s", rec.Code, rec.Body)
	}
	if rec := leader.do("POST", fmt.Sprintf("/benchmark/peers/%d", qd), "application/x-www-form-urlencoded", []byte(edit.Encode())); rec.Code != http.StatusForbidden {
		t.Errorf("leader edited a peer: %d", rec.Code)
	}
	// A learning activity with its report attached, then downloaded.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"kind": "visit", "title": "赴青岛考察", "held_on": "2026-09-10", "peer_id": fmt.Sprint(qd)} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "青岛考察报告.pdf")
	fw.Write([]byte("%PDF-1.4 考察报告"))
	mw.Close()
	if rec := c.do("POST", "/benchmark/learning", mw.FormDataContentType(), body.Bytes()); rec.Code != http.StatusSeeOther {
		t.Fatalf("learning with a file: %d %s", rec.Code, rec.Body)
	}
	var acts struct{ Items []benchmark.Activity }
	c.json("GET", fmt.Sprintf("/api/v1/learning-activities?peer_id=%d", qd), nil, &acts)
	var fileID int64
	for _, x := range acts.Items {
		if x.Title == "赴青岛考察" && len(x.Files) == 1 {
			fileID = x.Files[0].ID
		}
	}
	if rec := leader.do("GET", fmt.Sprintf("/benchmark/learning/files/%d", fileID), "", nil); rec.Code != 200 || rec.Body.String() != "%PDF-1.4 考察报告" ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Errorf("file download: %d %q", rec.Code, rec.Header().Get("Content-Disposition"))
	}
	// The page form posts a peer value and shows the error in place.
	form := url.Values{"subject": {"us"}, "period": {"2026-13"}, "value": {"1"}}
	rec := c.do("POST", fmt.Sprintf("/benchmark/indicators/%d/observations", seek.ID), "application/x-www-form-urlencoded", []byte(form.Encode()))
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "期间") {
		t.Errorf("form error: %d", rec.Code)
	}
}
