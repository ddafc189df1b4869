package supervise_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/supervise"
	"github.com/biaogan/biaogan/internal/workday"
)

// pagesEnv is env with the pages registered, a files directory and a
// leader's account.
type pagesEnv struct {
	*env
	files  string
	client *http.Client
}

func newPagesEnv(t *testing.T) *pagesEnv {
	t.Helper()
	e := newEnv(t)
	p := &pagesEnv{env: e, files: filepath.Join(t.TempDir(), "files"),
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	e.svc.SetFilesDir(p.files)
	if err := e.svc.RegisterPages(e.ws); err != nil {
		t.Fatalf("register pages: %v", err)
	}
	t.Cleanup(e.svc.ClosePages)
	u, err := e.ws.Auth.CreateUser(e.ctx, audit.Entry{Actor: "test"}, auth.NewUser{Username: "leader", Password: password, Roles: []auth.Role{auth.RoleLeader}})
	if err != nil {
		t.Fatal(err)
	}
	e.users["leader"] = u
	return p
}

// do sends a page request as user (a bearer token: pages accept them too)
// in lang, without following redirects.
func (p *pagesEnv) do(method, path, user, lang string, body io.Reader, ctype string) response {
	p.t.Helper()
	req, err := http.NewRequest(method, p.srv.URL+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+p.token(user))
	}
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
	}
	res, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Body: raw, Header: res.Header}
}

func (p *pagesEnv) get(path, user, lang string) response {
	return p.do("GET", path, user, lang, nil, "")
}

func (p *pagesEnv) post(path, user string, form url.Values) response {
	return p.do("POST", path, user, "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

type upFile struct {
	field, name string
	data        []byte
}

func (p *pagesEnv) multipart(path, user string, fields map[string]string, files ...upFile) response {
	p.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			p.t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	return p.do("POST", path, user, "", &buf, mw.FormDataContentType())
}

// wantRedirect checks a 303 to prefix.
func (p *pagesEnv) wantRedirect(r response, prefix string) {
	p.t.Helper()
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), prefix) {
		p.t.Fatalf("got %d to %q, want 303 to %s…\n%s", r.Status, r.Header.Get("Location"), prefix, snippet(r.Body))
	}
}

func snippet(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000]
	}
	return s
}

func pngBytes(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range 4 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ooxml(t testing.TB, dir string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", dir + "/document.xml"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(`<?xml version="1.0"?><x/>`))
	}
	zw.Close()
	return buf.Bytes()
}

var rawKey = regexp.MustCompile(`(^|[^a-z/_.])(sv|flash|nav|common)\.[a-z_]+(\.[a-z_]+)?`)

// TestPagesRenderForEveryRole opens every page as each role that may see
// it, in Chinese and in English: 200, the page's own words in the right
// language, no untranslated message key; and refuses the roles that may not.
func TestPagesRenderForEveryRole(t *testing.T) {
	p := newPagesEnv(t)
	ins := p.newTask("落实市长批示")
	ins.Source = supervise.SourceInstruction
	ins.Instruction = &supervise.NewInstruction{Leader: "王市长", IssuedOn: workday.MustParseDate("2026-03-02"), Text: "请督查科牵头抓好落实", DocNo: "示政批〔2026〕3号"}
	ins.Milestones = []supervise.NewMilestone{{Name: "形成方案", Due: workday.MustParseDate("2026-03-20")}}
	ins.Cadence = "weekly"
	t1 := p.inProgress(ins)
	p.report(t1, 40)
	proj := p.newTask("重点项目：应急指挥中心")
	proj.Source, proj.Assign = supervise.SourceProject, true
	planned := int64(123450000)
	proj.PlannedInvestment, proj.Stage, proj.Location = &planned, supervise.StageConstruction, "高新区"
	t2 := p.create(proj)
	draft := p.create(p.newTask("草稿任务"))
	var instrID int64
	p.d.QueryRowContext(p.ctx, `SELECT id FROM instructions`).Scan(&instrID)

	pages := []struct {
		path  string
		zh    string
		en    string
		roles []string
	}{
		{"/tasks", "任务督办", "Tasks", []string{"sup", "lia_a", "head_a", "leader", "viewer"}},
		{"/tasks?area=emergency&light=green&board=1&key=1&overdue=1&state=in_progress&leader=王市长&unit=" + strconv.FormatInt(p.unitA, 10), "任务督办", "Tasks", []string{"sup", "viewer"}},
		{fmt.Sprintf("/tasks/%d", t1.ID), "落实市长批示", "Timeline", []string{"sup", "lia_a", "head_a", "leader", "viewer", "lia_b"}},
		{fmt.Sprintf("/tasks/%d", t2.ID), "万元", "Planned investment", []string{"sup", "lia_a", "leader"}},
		{fmt.Sprintf("/tasks/%d", draft.ID), "草稿任务", "Draft", []string{"sup", "viewer"}},
		{"/tasks/mine", "待签收", "To accept", []string{"lia_a", "head_a", "lia_b"}},
		{"/tasks/new", "登记任务", "Register a task", []string{"sup"}},
		{fmt.Sprintf("/tasks/new?parent=%d", t1.ID), "分解自", "A subtask of", []string{"sup"}},
		{fmt.Sprintf("/tasks/%d/report", t1.ID), "报送进展", "Report progress", []string{"lia_a", "head_a"}},
		{"/instructions", "领导批示", "instructions", []string{"sup", "leader", "viewer", "lia_a"}},
		{fmt.Sprintf("/instructions/%d", instrID), "批示落实链条", "Instruction chain", []string{"sup", "leader", "viewer", "lia_a", "head_a"}},
		{"/battlemap", "挂图作战", "Battle map", []string{"sup", "leader", "viewer", "lia_a", "head_a"}},
		{"/battlemap?area=emergency&key=1", "挂图作战", "Battle map", []string{"leader"}},
		{"/battlemap/screen", "实时督办", "live", []string{"sup", "leader", "viewer"}},
		{"/battlemap/print", "挂图作战图", "Battle map", []string{"sup", "leader", "viewer"}},
	}
	for _, pg := range pages {
		for _, role := range pg.roles {
			for _, lang := range []string{"zh-CN", "en"} {
				r := p.get(pg.path, role, lang)
				body := string(r.Body)
				if r.Status != http.StatusOK {
					t.Fatalf("%s as %s (%s): %d\n%s", pg.path, role, lang, r.Status, snippet(r.Body))
				}
				want := pg.zh
				if lang == "en" {
					want = pg.en
				}
				if !strings.Contains(body, want) {
					t.Errorf("%s as %s (%s) lacks %q", pg.path, role, lang, want)
				}
				if m := rawKey.FindString(body); m != "" {
					t.Errorf("%s as %s (%s) shows the raw message key %q", pg.path, role, lang, m)
				}
				if strings.Contains(body, "style=") || strings.Contains(body, "<script>") {
					t.Errorf("%s has an inline style or script (the CSP forbids them)", pg.path)
				}
			}
		}
	}
	// The roles that may not.
	for _, c := range []struct{ path, role string }{
		{"/tasks", "sysadmin"}, {"/battlemap", "sysadmin"}, {"/battlemap/screen", "sysadmin"}, {"/battlemap/print", "sysadmin"},
		{"/tasks/new", "lia_a"}, {"/tasks/new", "leader"}, {"/tasks/mine", "sup"}, {"/tasks/mine", "viewer"},
		{fmt.Sprintf("/tasks/%d/report", t1.ID), "sup"}, {fmt.Sprintf("/tasks/%d/report", t1.ID), "leader"}, {fmt.Sprintf("/tasks/%d/report", t1.ID), "lia_b"},
		{"/instructions", "sysadmin"},
	} {
		if r := p.get(c.path, c.role, ""); r.Status != http.StatusForbidden {
			t.Errorf("%s as %s: %d, want 403", c.path, c.role, r.Status)
		}
	}
	// Buttons follow the role: the supervisor sees sign-off tools, the
	// lead unit the report button, another unit's liaison neither.
	detail := fmt.Sprintf("/tasks/%d", t1.ID)
	if b := string(p.get(detail, "lia_a", "").Body); !strings.Contains(b, `id="act-report"`) || strings.Contains(b, `id="act-cancel"`) {
		t.Error("the lead unit's liaison should see report, not cancel")
	}
	if b := string(p.get(detail, "lia_b", "").Body); strings.Contains(b, `id="act-report"`) || strings.Contains(b, `id="actions"`) {
		t.Error("another unit's liaison sees actions")
	}
	if b := string(p.get(detail, "sup", "").Body); !strings.Contains(b, `id="act-cancel"`) || strings.Contains(b, `id="act-report"`) {
		t.Error("the supervisor should see cancel, not report")
	}
	if b := string(p.get("/tasks/mine", "lia_a", "").Body); !strings.Contains(b, "落实市长批示") {
		t.Error("my unit's list lacks the unit's task")
	}
	if b := string(p.get("/tasks/mine", "lia_b", "").Body); strings.Contains(b, "落实市长批示") {
		t.Error("unit B's list shows unit A's task")
	}
	// The static files of the pages are served, nothing else.
	for _, f := range []string{"supervise.css", "screen.css", "print.css", "task_form.js", "battlemap_screen.js"} {
		if r := p.get("/static/supervise/"+f, "", ""); r.Status != 200 || len(r.Body) < 100 {
			t.Errorf("static %s: %d", f, r.Status)
		}
	}
	if r := p.get("/static/supervise/..%2fhttp.go", "", ""); r.Status != 404 {
		t.Errorf("static traversal: %d", r.Status)
	}
	if r := p.get("/static/supervise/print.css", "", ""); !strings.Contains(string(r.Body), "A3 landscape") {
		t.Error("print.css lacks @page size A3 landscape")
	}
}

// TestCreateForm keeps what was typed and says what is wrong next to the
// field; a good form creates and assigns the task.
func TestCreateForm(t *testing.T) {
	p := newPagesEnv(t)
	form := url.Values{
		"title": {"完善值班制度"}, "area": {"emergency"}, "source": {"plan"}, "lead_unit_id": {strconv.FormatInt(p.unitA, 10)},
		"owner_id": {strconv.FormatInt(p.ownerA, 10)}, "start": {"2026-03-01"}, "due": {"2026-02-20"}, "priority": {"important"},
		"acceptance": {"制度印发"}, "ms_name_1": {"起草"}, "ms_due_1": {"2026-03-15"}, "assign": {"1"},
	}
	r := p.post("/tasks", "sup", form)
	body := string(r.Body)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-due"`) || !strings.Contains(body, `value="完善值班制度"`) ||
		!strings.Contains(body, "制度印发") || !strings.Contains(body, `value="起草"`) {
		t.Fatalf("due before start: %d\n%s", r.Status, snippet(r.Body))
	}
	if !strings.Contains(body, "张三") {
		t.Error("the owner list of the chosen lead unit is not shown again")
	}
	form.Set("due", "2026-03-31")
	form.Set("owner_id", strconv.FormatInt(p.ownerB, 10))
	r = p.post("/tasks", "sup", form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-owner_id"`) {
		t.Fatalf("owner outside the unit: %d\n%s", r.Status, snippet(r.Body))
	}
	form.Set("owner_id", strconv.FormatInt(p.ownerA, 10))
	form.Set("ms_due_1", "2026-04-15")
	r = p.post("/tasks", "sup", form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "2026-04-15") || !regexp.MustCompile(`name="ms_due_1"[^>]*>\s*<span class="error">`).Match(r.Body) {
		t.Fatalf("milestone after due: %d\n%s", r.Status, snippet(r.Body))
	}
	form.Set("instruction_leader", "ignored for a plan task")
	form.Set("ms_due_1", "2026-03-15")
	form.Set("lang", "en")
	r = p.do("POST", "/tasks", "sup", "en", strings.NewReader(url.Values{"title": {""}}.Encode()), "application/x-www-form-urlencoded")
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "title is required") {
		t.Fatalf("English error: %d\n%s", r.Status, snippet(r.Body))
	}
	if n := p.count("tasks"); n != 0 {
		t.Fatalf("refused forms saved %d tasks", n)
	}
	r = p.post("/tasks", "sup", form)
	p.wantRedirect(r, "/tasks/")
	id, _ := strconv.ParseInt(strings.TrimPrefix(strings.Split(r.Header.Get("Location"), "?")[0], "/tasks/"), 10, 64)
	tk := p.task(id)
	if tk.State != supervise.StateAssigned || tk.Priority != supervise.PriorityImportant || len(tk.Milestones) != 1 || tk.Milestones[0].Name != "起草" {
		t.Fatalf("created %+v", tk)
	}
	// A key project in 万元, an instruction registered with its task.
	r = p.post("/tasks", "sup", url.Values{"title": {"项目"}, "area": {"emergency"}, "source": {"project"}, "lead_unit_id": {strconv.FormatInt(p.unitA, 10)},
		"owner_id": {strconv.FormatInt(p.ownerA, 10)}, "start": {"2026-03-01"}, "due": {"2026-12-31"}, "planned_investment": {"12345.6789"}, "stage": {"construction"}})
	p.wantRedirect(r, "/tasks/")
	var planned int64
	p.d.QueryRowContext(p.ctx, `SELECT planned_investment FROM tasks WHERE title = '项目'`).Scan(&planned)
	if planned != 123456789 {
		t.Errorf("12345.6789 万元 stored as %d 元", planned)
	}
	r = p.post("/tasks", "sup", url.Values{"title": {"批示任务"}, "area": {"emergency"}, "source": {"instruction"}, "lead_unit_id": {strconv.FormatInt(p.unitA, 10)},
		"owner_id": {strconv.FormatInt(p.ownerA, 10)}, "start": {"2026-03-01"}, "due_workdays": {"10"}, "instruction_leader": {"李副市长"},
		"instruction_date": {"2026-03-09"}, "instruction_text": {"抓紧办理"}})
	p.wantRedirect(r, "/tasks/")
	var leader string
	p.d.QueryRowContext(p.ctx, `SELECT leader FROM instructions`).Scan(&leader)
	if leader != "李副市长" {
		t.Errorf("instruction leader %q", leader)
	}
	// The page form is refused to a liaison at the door.
	if r := p.post("/tasks", "lia_a", form); r.Status != http.StatusForbidden {
		t.Errorf("liaison creating: %d", r.Status)
	}
}

// TestPagesLifecycle drives a task through every page action.
func TestPagesLifecycle(t *testing.T) {
	p := newPagesEnv(t)
	in := p.newTask("完善应急预案")
	in.Milestones = []supervise.NewMilestone{{Name: "初稿", Due: workday.MustParseDate("2026-03-20")}}
	tk := p.create(in)
	path := fmt.Sprintf("/tasks/%d", tk.ID)
	state := func() supervise.State { return p.task(tk.ID).State }

	p.wantRedirect(p.post(path+"/assign", "sup", nil), path+"?msg=flash.sv.assign")
	// Another unit's liaison may not accept: the page says why.
	r := p.post(path+"/accept", "lia_b", nil)
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), `id="form-error"`) || !strings.Contains(string(r.Body), "仅责任单位") {
		t.Fatalf("accept by unit B: %d\n%s", r.Status, snippet(r.Body))
	}
	// A liaison cannot reach a supervisor's action at all.
	if r := p.post(path+"/sign-off", "lia_a", nil); r.Status != http.StatusForbidden || r.Header.Get("X-Biaogan-Error") != "permission_denied" {
		t.Fatalf("sign-off by a liaison: %d %s", r.Status, r.Header.Get("X-Biaogan-Error"))
	}
	p.wantRedirect(p.post(path+"/accept", "lia_a", nil), path)
	// Not allowed in this state: 409 and the allowed actions.
	if r := p.post(path+"/sign-off", "sup", nil); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "start") {
		t.Fatalf("sign-off of an accepted task: %d", r.Status)
	}
	// Milestones and extension requests.
	r = p.post(path+"/milestones", "lia_a", url.Values{"name": {"征求意见"}, "due": {"2026-04-30"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-milestone"`) || !strings.Contains(string(r.Body), `value="征求意见"`) {
		t.Fatalf("milestone after due: %d\n%s", r.Status, snippet(r.Body))
	}
	p.wantRedirect(p.post(path+"/milestones", "lia_a", url.Values{"name": {"征求意见"}, "due": {"2026-03-25"}}), path)
	ms := p.task(tk.ID).Milestones
	p.wantRedirect(p.post(fmt.Sprintf("/milestones/%d/complete", ms[0].ID), "lia_a", url.Values{"evidence": {"初稿已成"}}), path)
	p.wantRedirect(p.post(path+"/extensions", "lia_a", url.Values{"new_due": {"2026-04-10"}, "reason": {"需征求多方意见"}}), path)
	var extID int64
	p.d.QueryRowContext(p.ctx, `SELECT id FROM task_extensions`).Scan(&extID)
	r = p.post(fmt.Sprintf("/extensions/%d/decision", extID), "sup", url.Values{"decision": {"refuse"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-decision"`) {
		t.Fatalf("refusal without a note: %d", r.Status)
	}
	p.wantRedirect(p.post(fmt.Sprintf("/extensions/%d/decision", extID), "sup", url.Values{"decision": {"approve"}, "note": {"同意"}}), path)
	if got := p.task(tk.ID); got.Due.String() != "2026-04-10" || got.BaselineDue.String() != "2026-03-31" {
		t.Fatalf("after extension: due %s baseline %s", got.Due, got.BaselineDue)
	}
	// A report of 100 % with a file, then submission with no text: the
	// file is the evidence.
	r = p.multipart(path+"/report", "lia_a", map[string]string{"percent": "100", "text": "预案已印发", "next_steps": "组织演练"},
		upFile{"files", "印发通知.png", pngBytes(t)})
	p.wantRedirect(r, path+"?msg=flash.sv.report")
	if state() != supervise.StateInProgress {
		t.Fatalf("state after the report: %s", state())
	}
	detail := string(p.get(path, "sup", "").Body)
	if !strings.Contains(detail, "印发通知.png") || !strings.Contains(detail, "预案已印发") || !strings.Contains(detail, "100%") {
		t.Fatalf("the task page lacks the report or its file\n%s", snippet([]byte(detail)))
	}
	p.wantRedirect(p.post(path+"/submit", "lia_a", url.Values{"evidence": {""}}), path)
	// Return needs a reason, shown next to the form.
	r = p.post(path+"/return", "sup", url.Values{"reason": {"  "}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-return"`) {
		t.Fatalf("return without a reason: %d", r.Status)
	}
	p.wantRedirect(p.post(path+"/return", "sup", url.Values{"reason": {"缺少演练记录"}}), path)
	p.wantRedirect(p.post(path+"/submit", "lia_a", url.Values{"evidence": {"已补充演练记录"}}), path)
	p.wantRedirect(p.post(path+"/sign-off", "sup", nil), path+"?msg=flash.sv.sign_off")
	if state() != supervise.StateSignedOff {
		t.Fatalf("state %s", state())
	}
	// The timeline has it all, in both languages.
	zh := string(p.get(path, "viewer", "zh-CN").Body)
	en := string(p.get(path, "viewer", "en").Body)
	for _, want := range []string{"交办", "签收", "申请延期", "同意延期", "上传附件", "报送进展", "退回", "销号"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese timeline lacks %q", want)
		}
	}
	for _, want := range []string{"Assigned", "Accepted", "Extension approved", "Files uploaded", "Returned", "Signed off"} {
		if !strings.Contains(en, want) {
			t.Errorf("English timeline lacks %q", want)
		}
	}
	// Reopen and cancel with reasons.
	p.wantRedirect(p.post(path+"/reopen", "sup", url.Values{"reason": {"回头看发现问题"}, "due": {"2026-04-20"}}), path)
	p.wantRedirect(p.post(path+"/cancel", "sup", url.Values{"reason": {"任务调整"}}), path)
	if state() != supervise.StateCancelled {
		t.Fatalf("state %s", state())
	}
	// Report with submission in one go.
	t2 := p.inProgress(p.newTask("第二项"))
	r = p.multipart(fmt.Sprintf("/tasks/%d/report", t2.ID), "lia_a", map[string]string{"percent": "100", "text": "完成", "submit": "1"},
		upFile{"files", "a.png", pngBytes(t)})
	p.wantRedirect(r, fmt.Sprintf("/tasks/%d?msg=flash.sv.report_submit", t2.ID))
	if st := p.task(t2.ID).State; st != supervise.StateSubmitted {
		t.Fatalf("report and submit: %s", st)
	}
}

// TestAttachmentSniffing: the content decides. A PNG named .pdf is stored as
// a PNG named .png; an executable named .pdf, a plain ZIP and text are
// refused; 20 MB is the limit; a refusal keeps nothing.
func TestAttachmentSniffing(t *testing.T) {
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	jpg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0}, make([]byte, 100)...)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 200)...)
	plainZip := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("readme.txt")
		w.Write([]byte("hello"))
		zw.Close()
		return buf.Bytes()
	}()
	for _, c := range []struct {
		name string
		data []byte
		ext  string
	}{
		{"png", pngBytes(t), "png"}, {"pdf", pdf, "pdf"}, {"jpg", jpg, "jpg"},
		{"docx", ooxml(t, "word"), "docx"}, {"xlsx", ooxml(t, "xl"), "xlsx"},
		{"exe", exe, ""}, {"zip", plainZip, ""}, {"text", []byte("just some text\n"), ""}, {"html", []byte("<html><script>alert(1)</script>"), ""},
	} {
		ext, ok := supervise.SniffAttachment(bytes.NewReader(c.data), int64(len(c.data)))
		if ext != c.ext || ok != (c.ext != "") {
			t.Errorf("%s: sniffed %q %v, want %q", c.name, ext, ok, c.ext)
		}
	}

	p := newPagesEnv(t)
	tk := p.inProgress(p.newTask("佐证材料"))
	api := fmt.Sprintf("/api/v1/tasks/%d/attachments", tk.ID)
	filesLeft := func() int {
		n := 0
		filepath.WalkDir(p.files, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	// A PNG named .pdf: accepted as a PNG, renamed.
	r := p.multipart(api, "lia_a", nil, upFile{"file", "扫描件.pdf", pngBytes(t)})
	var out struct {
		Items []supervise.Attachment `json:"items"`
	}
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &out) != nil || len(out.Items) != 1 {
		t.Fatalf("png named pdf: %d %s", r.Status, r.Body)
	}
	a := out.Items[0]
	if a.Name != "扫描件.png" || a.ContentType != "image/png" || len(a.SHA256) != 64 || a.Size != int64(len(pngBytes(t))) {
		t.Fatalf("stored %+v", a)
	}
	// Download: the same bytes, as an attachment, not sniffable.
	dl := p.do("GET", a.URL, "viewer", "", nil, "")
	if dl.Status != 200 || !bytes.Equal(dl.Body, pngBytes(t)) || dl.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") || dl.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: %d %v", dl.Status, dl.Header)
	}
	if r := p.get(fmt.Sprintf("/attachments/%d", a.ID), "lia_b", ""); r.Status != 200 {
		t.Errorf("page download by a reader: %d", r.Status)
	}
	if r := p.do("GET", a.URL, "sysadmin", "", nil, ""); r.Status != http.StatusForbidden {
		t.Errorf("download without tasks.read: %d", r.Status)
	}
	before, files := p.count("task_attachments"), filesLeft()
	// Refused, naming the field, keeping nothing: an .exe renamed .pdf, a
	// plain ZIP, one bad file among good ones, 20 MB + 1.
	big := append([]byte("%PDF-1.7\n"), make([]byte, supervise.MaxAttachmentBytes+1-9)...)
	for _, c := range []struct {
		name  string
		files []upFile
		code  string
	}{
		{"exe as pdf", []upFile{{"file", "setup.pdf", exe}}, "attachment_type"},
		{"plain zip as docx", []upFile{{"file", "a.docx", plainZip}}, "attachment_type"},
		{"one bad among good", []upFile{{"file", "ok.png", pngBytes(t)}, {"file", "bad.pdf", exe}}, "attachment_type"},
		{"20 MB + 1", []upFile{{"file", "big.pdf", big}}, "attachment_too_large"},
		{"empty", []upFile{{"file", "empty.pdf", nil}}, "attachment_empty"},
	} {
		r := p.multipart(api, "lia_a", nil, c.files...)
		p.wantError(r, http.StatusUnprocessableEntity, c.code, "file")
		if n := p.count("task_attachments"); n != before {
			t.Errorf("%s: %d attachments, want %d", c.name, n, before)
		}
		if n := filesLeft(); n != files {
			t.Errorf("%s: %d files in the files directory, want %d", c.name, n, files)
		}
	}
	// Exactly 20 MB is fine.
	r = p.multipart(api, "lia_a", nil, upFile{"file", "limit.pdf", big[:supervise.MaxAttachmentBytes]})
	if r.Status != http.StatusCreated {
		t.Fatalf("20 MB: %d %s", r.Status, r.Body)
	}
	// Other units and closed tasks take no files; a report id must be the task's.
	p.wantError(p.multipart(api, "lia_b", nil, upFile{"file", "x.png", pngBytes(t)}), http.StatusForbidden, "not_lead_unit", "")
	p.wantError(p.multipart(api, "lia_a", map[string]string{"report_id": "999"}, upFile{"file", "x.png", pngBytes(t)}), http.StatusUnprocessableEntity, "invalid_report_id", "report_id")
	p.wantError(p.request("POST", api, "lia_a", map[string]string{"file": "x"}), http.StatusBadRequest, "bad_content_type", "")
	// The page form names its own field.
	r = p.multipart(fmt.Sprintf("/tasks/%d/attachments", tk.ID), "lia_a", nil, upFile{"files", "setup.pdf", exe})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-attach"`) {
		t.Fatalf("page upload of an exe: %d", r.Status)
	}
	// A report whose file is refused saves neither report nor file.
	reports := p.count("task_reports")
	r = p.multipart(fmt.Sprintf("/tasks/%d/report", tk.ID), "lia_a", map[string]string{"percent": "50", "text": "进展"}, upFile{"files", "x.pdf", exe})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-files"`) || !strings.Contains(string(r.Body), ">进展</textarea>") {
		t.Fatalf("report with an exe: %d\n%s", r.Status, snippet(r.Body))
	}
	// And a report refused for its own fields keeps no file.
	r = p.multipart(fmt.Sprintf("/tasks/%d/report", tk.ID), "lia_a", map[string]string{"percent": "150", "text": "进展"}, upFile{"files", "x.png", pngBytes(t)})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-percent"`) {
		t.Fatalf("report at 150 %%: %d", r.Status)
	}
	if p.count("task_reports") != reports || p.count("task_attachments") != before+1 || filesLeft() != files+1 {
		t.Fatalf("refused reports kept something: reports %d attachments %d files %d", p.count("task_reports"), p.count("task_attachments"), filesLeft())
	}
	// A changed file is not served.
	var rel string
	p.d.QueryRowContext(p.ctx, `SELECT path FROM task_attachments WHERE id = ?`, a.ID).Scan(&rel)
	if err := os.WriteFile(filepath.Join(p.files, filepath.FromSlash(rel)), []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := p.do("GET", a.URL, "viewer", "", nil, ""); r.Status != http.StatusInternalServerError {
		t.Errorf("tampered file served: %d", r.Status)
	}
}

// TestSubmissionNeedsEvidence: 100 % alone is not enough; a file is.
func TestSubmissionNeedsEvidence(t *testing.T) {
	p := newPagesEnv(t)
	tk := p.inProgress(p.newTask("需要材料"))
	p.report(tk, 100)
	path := fmt.Sprintf("/tasks/%d", tk.ID)
	r := p.post(path+"/submit", "lia_a", url.Values{"evidence": {""}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-submit"`) {
		t.Fatalf("submit without evidence: %d", r.Status)
	}
	p.wantRedirect(p.multipart(path+"/attachments", "lia_a", nil, upFile{"files", "证明.docx", ooxml(t, "word")}), path)
	p.wantRedirect(p.post(path+"/submit", "lia_a", url.Values{"evidence": {""}}), path)
	if st := p.task(tk.ID).State; st != supervise.StateSubmitted {
		t.Fatalf("state %s", st)
	}
}

type boardJSON struct {
	Areas []struct {
		Code   string         `json:"code"`
		Lights map[string]int `json:"lights"`
		Total  int            `json:"total"`
	} `json:"areas"`
	Units []struct {
		ID             int64   `json:"id"`
		Name           string  `json:"name"`
		Tasks          int     `json:"tasks"`
		Done           int     `json:"done"`
		OnTime         int     `json:"on_time"`
		Overdue        int     `json:"overdue"`
		Red            int     `json:"red"`
		Yellow         int     `json:"yellow"`
		CompletionRate float64 `json:"completion_rate"`
	} `json:"units"`
	Lights   map[string]int `json:"lights"`
	Total    int            `json:"total"`
	Overdue  int            `json:"overdue"`
	Timeline []struct {
		ID          int64  `json:"id"`
		Light       string `json:"light"`
		Due         string `json:"due"`
		BaselineDue string `json:"baseline_due"`
		UnitName    string `json:"unit_name"`
		Milestones  []struct {
			Name string `json:"name"`
		} `json:"milestones"`
	} `json:"timeline"`
	TimelineTotal int    `json:"timeline_total"`
	GeneratedAt   string `json:"generated_at"`
}

func (p *pagesEnv) board(query string) boardJSON {
	p.t.Helper()
	var b boardJSON
	if st := p.call("GET", "/api/v1/battlemap"+query, "leader", nil, &b); st != http.StatusOK {
		p.t.Fatalf("battlemap%s: %d", query, st)
	}
	return b
}

func (b boardJSON) area(code string) map[string]int {
	for _, a := range b.Areas {
		if a.Code == code {
			return a.Lights
		}
	}
	return nil
}

// TestBattleMapCounts checks the map against tasks made to be red, yellow,
// green, not started and done, in two areas and two units, and that every
// change shows at once.
func TestBattleMapCounts(t *testing.T) {
	p := newPagesEnv(t) // today 2026-03-10
	d := workday.MustParseDate
	mk := func(title, area string, unit int64, start, due string, src supervise.Source) *supervise.Task {
		in := p.newTask(title)
		in.Area, in.Start, in.Due, in.Source, in.Assign = area, d(start), d(due), src, true
		in.LeadUnitID, in.OwnerID = unit, p.ownerA
		if unit == p.unitB {
			in.OwnerID = p.ownerB
		}
		if src == supervise.SourceInstruction {
			in.Instruction = &supervise.NewInstruction{Leader: "王市长", IssuedOn: d("2026-03-01"), Text: "抓落实"}
		}
		return p.create(in)
	}
	red1 := mk("逾期一", "emergency", p.unitA, "2026-02-01", "2026-03-05", supervise.SourcePlan)
	mk("逾期二", "gov_info", p.unitB, "2026-02-01", "2026-03-06", supervise.SourceInstruction)
	mk("将到期", "emergency", p.unitA, "2026-03-01", "2026-03-12", supervise.SourcePlan)
	green := mk("正常", "emergency", p.unitB, "2026-03-01", "2026-04-30", supervise.SourceProject)
	mk("未开始", "gov_info", p.unitA, "2026-04-01", "2026-05-30", supervise.SourcePlan)
	p.create(p.newTask("草稿不上图"))
	cancelled := mk("已撤销", "emergency", p.unitA, "2026-03-01", "2026-04-30", supervise.SourcePlan)
	p.transition(p.supervisor(), cancelled.ID, supervise.ActionCancel, "调整")
	done := mk("已完成", "gov_info", p.unitB, "2026-03-01", "2026-04-30", supervise.SourcePlan)
	p.transition(p.liaison(p.unitB), done.ID, supervise.ActionAccept, "")
	p.transition(p.liaison(p.unitB), done.ID, supervise.ActionStart, "")
	p.report(done, 100)
	p.transition(p.liaison(p.unitB), done.ID, supervise.ActionSubmit, "")
	p.transition(p.supervisor(), done.ID, supervise.ActionSignOff, "")

	b := p.board("")
	want := map[string]int{"red": 2, "yellow": 1, "green": 1, "not_started": 1, "done": 1}
	for k, v := range want {
		if b.Lights[k] != v {
			t.Errorf("lights[%s] = %d, want %d (%v)", k, b.Lights[k], v, b.Lights)
		}
	}
	if b.Total != 6 || b.Overdue != 2 || b.GeneratedAt == "" {
		t.Errorf("total %d overdue %d generated %q", b.Total, b.Overdue, b.GeneratedAt)
	}
	if em := b.area("emergency"); em["red"] != 1 || em["yellow"] != 1 || em["green"] != 1 || em["done"] != 0 {
		t.Errorf("emergency row %v", em)
	}
	if gi := b.area("gov_info"); gi["red"] != 1 || gi["not_started"] != 1 || gi["done"] != 1 {
		t.Errorf("gov_info row %v", gi)
	}
	if len(b.Areas) != 8 {
		t.Errorf("%d areas, want all 8 active ones (7 + benchmark targets)", len(b.Areas))
	}
	// The matrix agrees with the tasks table.
	var n int
	p.d.QueryRowContext(p.ctx, `SELECT COUNT(*) FROM tasks WHERE state NOT IN ('draft','cancelled')`).Scan(&n)
	sum := 0
	for _, a := range b.Areas {
		sum += a.Total
	}
	if sum != n || b.Total != n {
		t.Errorf("matrix sums to %d, map total %d, tasks on the map %d", sum, b.Total, n)
	}
	for _, u := range b.Units {
		switch u.ID {
		case p.unitA:
			if u.Tasks != 3 || u.Red != 1 || u.Yellow != 1 || u.Overdue != 1 || u.Done != 0 || u.Name != "督查科" {
				t.Errorf("unit A %+v", u)
			}
		case p.unitB:
			if u.Tasks != 3 || u.Red != 1 || u.Done != 1 || u.OnTime != 1 || u.CompletionRate != 33.3 {
				t.Errorf("unit B %+v", u)
			}
		default:
			t.Errorf("unexpected unit %+v", u)
		}
	}
	// Most urgent first; done tasks stay off the unfiltered timeline.
	if len(b.Timeline) != 5 || b.Timeline[0].ID != red1.ID || b.Timeline[0].Light != "red" || b.Timeline[4].Light != "not_started" || b.TimelineTotal != 5 {
		t.Errorf("timeline %+v (total %d)", b.Timeline, b.TimelineTotal)
	}
	// Filters.
	for q, total := range map[string]int{
		"?area=emergency": 3, "?unit=" + strconv.FormatInt(p.unitB, 10): 3, "?source=instruction": 1, "?leader=王市长": 1,
		"?light=red": 2, "?key=1": 1, "?key=true&area=gov_info": 0, "?leader=nobody": 0,
	} {
		if got := p.board(q); got.Total != total {
			t.Errorf("%s: total %d, want %d", q, got.Total, total)
		}
	}
	if f := p.board("?unit=" + strconv.FormatInt(p.unitB, 10)); len(f.Timeline) != 3 || f.Timeline[2].Light != "done" {
		t.Errorf("filtered timeline includes done ones last: %+v", f.Timeline)
	}
	p.wantError(p.request("GET", "/api/v1/battlemap?light=purple", "leader", nil), 422, "invalid_light", "light")
	p.wantError(p.request("GET", "/api/v1/battlemap?unit=x", "leader", nil), 422, "invalid_unit", "unit")
	// A change shows at once (the cache follows the data): sign off the
	// green one, extend... the counts move.
	p.transition(p.liaison(p.unitB), green.ID, supervise.ActionAccept, "")
	p.transition(p.liaison(p.unitB), green.ID, supervise.ActionStart, "")
	p.report(green, 100)
	p.transition(p.liaison(p.unitB), green.ID, supervise.ActionSubmit, "")
	p.transition(p.supervisor(), green.ID, supervise.ActionSignOff, "")
	b2 := p.board("")
	if b2.Lights["green"] != 0 || b2.Lights["done"] != 2 {
		t.Errorf("after sign-off: %v", b2.Lights)
	}
	// The drill-down lists what a count counted.
	r := p.get("/tasks?board=1&area=emergency&light=red", "leader", "")
	if !strings.Contains(string(r.Body), "逾期一") || strings.Contains(string(r.Body), "逾期二") || !strings.Contains(string(r.Body), "第 1–1 条，共 1 条") {
		t.Errorf("drill-down\n%s", snippet(r.Body))
	}
	if b := string(p.get("/battlemap?units=all", "leader", "en").Body); !strings.Contains(b, `id="bm-units"`) || !strings.Contains(b, "信息科") {
		t.Error("the board with every unit lacks the unit table")
	}
	if b := string(p.get("/battlemap/print", "leader", "").Body); !strings.Contains(b, "/static/supervise/print.css") || !strings.Contains(b, `<svg class="gantt"`) {
		t.Error("the print page lacks its A3 stylesheet or the timeline")
	}
	// The page shows the same figures and the Gantt with a today line.
	page := string(p.get("/battlemap", "leader", "").Body)
	for _, want := range []string{`id="bm-red">2<`, `id="bm-done">2<`, `class="g-today"`, `<svg class="gantt"`, "逾期一"} {
		if !strings.Contains(page, want) {
			t.Errorf("battle map page lacks %q", want)
		}
	}
}

// TestInstructionChain follows an instruction to two units, a subtask,
// reports, sign-off and a look-back.
func TestInstructionChain(t *testing.T) {
	p := newPagesEnv(t)
	in := p.newTask("落实批示：完善预案")
	in.Source = supervise.SourceInstruction
	in.Instruction = &supervise.NewInstruction{Leader: "王市长", IssuedOn: workday.MustParseDate("2026-03-02"), Text: "请抓紧完善应急预案", DocNo: "批〔2026〕1号"}
	in.Assign = true
	t1 := p.create(in)
	in2 := p.newTask("落实批示：信息报送")
	in2.Source, in2.InstructionID, in2.LeadUnitID, in2.OwnerID, in2.Assign = supervise.SourceInstruction, *t1.InstructionID, p.unitB, p.ownerB, true
	t2 := p.create(in2)
	sub := p.newTask("子任务：修订条款")
	sub.ParentID, sub.Assign = t1.ID, true
	t3 := p.create(sub)
	a := p.liaison(p.unitA)
	p.transition(a, t1.ID, supervise.ActionAccept, "")
	p.transition(a, t3.ID, supervise.ActionAccept, "")
	p.report(t3, 100)
	p.transition(a, t3.ID, supervise.ActionSubmit, "")
	p.transition(p.supervisor(), t3.ID, supervise.ActionSignOff, "")
	// A look-back, as its module records it: an event on the timeline.
	if _, err := p.d.ExecContext(p.ctx, `INSERT INTO task_events (task_id, at, actor, kind, note, detail) VALUES (?, ?, 'reviewer1', 'lookback_pass', '整改到位', '')`,
		t3.ID, p.clock.Now().UTC().Add(1)); err != nil {
		t.Fatal(err)
	}
	var c supervise.Chain
	path := fmt.Sprintf("/api/v1/instructions/%d/chain", *t1.InstructionID)
	if st := p.call("GET", path, "leader", nil, &c); st != http.StatusOK {
		t.Fatalf("chain: %d", st)
	}
	if c.Instruction.Leader != "王市长" || c.Total != 3 || c.Done != 1 || c.Open != 2 || len(c.Tasks) != 3 {
		t.Fatalf("chain %+v", c)
	}
	// Tree order: t1, its subtask, then t2.
	if c.Tasks[0].ID != t1.ID || c.Tasks[1].ID != t3.ID || c.Tasks[1].Depth != 1 || c.Tasks[2].ID != t2.ID {
		t.Fatalf("order %d %d %d", c.Tasks[0].ID, c.Tasks[1].ID, c.Tasks[2].ID)
	}
	ct := c.Tasks[1]
	if ct.LeadUnit.Name != "督查科" || ct.Owner.Name != "张三" || len(ct.Reports) != 1 || *ct.Reports[0].Percent != 100 {
		t.Errorf("subtask %+v", ct)
	}
	if ct.SignOff == nil || ct.SignOff.Actor != "sup" || ct.SignOff.HolderKind != "closed" || ct.SignedOffAt == nil {
		t.Errorf("sign-off %+v", ct.SignOff)
	}
	if len(ct.LookBacks) != 1 || ct.LookBacks[0].Actor != "reviewer1" || ct.LookBacks[0].HolderKind != "reviewer" {
		t.Errorf("look-backs %+v", ct.LookBacks)
	}
	var kinds, holders []string
	for _, s := range ct.Steps {
		kinds = append(kinds, s.Kind)
		holders = append(holders, s.HolderKind)
	}
	if strings.Join(kinds, ",") != "create,assign,accept,start,report,submit,sign_off,lookback_pass" ||
		strings.Join(holders, ",") != "supervisor,lead_unit,lead_unit,lead_unit,lead_unit,supervisor,closed,reviewer" {
		t.Errorf("steps %v holders %v", kinds, holders)
	}
	if c.Tasks[2].LeadUnit.Name != "信息科" || c.Tasks[2].Holder != "信息科" || c.Tasks[2].Owner.Name != "李四" {
		t.Errorf("unit B's task %+v", c.Tasks[2])
	}
	for i := 1; i < len(c.Steps); i++ {
		if c.Steps[i].At.Before(c.Steps[i-1].At) {
			t.Fatal("chain steps out of time order")
		}
	}
	if c.Steps[0].At.IsZero() {
		t.Error("steps lack timestamps")
	}
	// The page, in both languages.
	pg := fmt.Sprintf("/instructions/%d", *t1.InstructionID)
	zh := string(p.get(pg, "leader", "zh-CN").Body)
	for _, want := range []string{"请抓紧完善应急预案", "督查科", "信息科", "张三", "李四", "回头看通过", "督查员", "已销号", "共 3 项任务"} {
		if !strings.Contains(zh, want) {
			t.Errorf("chain page lacks %q", want)
		}
	}
	if en := string(p.get(pg, "leader", "en").Body); !strings.Contains(en, "Supervisors") || !strings.Contains(en, "Look-back passed") {
		t.Error("English chain page lacks its holders")
	}
	// The list, and an unknown instruction.
	var list struct {
		Items []supervise.InstructionItem `json:"items"`
		Total int                         `json:"total"`
	}
	if st := p.call("GET", "/api/v1/instructions?leader=王市长", "viewer", nil, &list); st != 200 || list.Total != 1 || list.Items[0].Tasks != 2 || list.Items[0].Done != 0 {
		t.Fatalf("instructions: %d %+v", st, list)
	}
	p.wantError(p.request("GET", "/api/v1/instructions/999/chain", "leader", nil), 404, "instruction_not_found", "")
	if r := p.get("/instructions/999", "leader", ""); r.Status != 404 {
		t.Errorf("unknown instruction page: %d", r.Status)
	}
}

// TestPagesRoutesDocumented: the API routes RegisterPages adds are in the
// OpenAPI document.
func TestPagesRoutesDocumented(t *testing.T) {
	p := newPagesEnv(t)
	for _, path := range []string{"/api/v1/battlemap", "/api/v1/instructions", "/api/v1/instructions/{id}/chain", "/api/v1/tasks/{id}/attachments", "/api/v1/attachments/{id}"} {
		if !p.ws.OpenAPI.Has("GET", path) {
			t.Errorf("GET %s is not documented", path)
		}
	}
	if !p.ws.OpenAPI.Has("POST", "/api/v1/tasks/{id}/attachments") {
		t.Error("POST attachments is not documented")
	}
	if missing := p.ws.Messages.Missing(); len(missing) > 0 {
		t.Errorf("messages missing a translation: %v", missing)
	}
}

// TestFollowUpPages: a supervisor urges from the task page, records a
// failed look-back there (which reopens the task), and finds the work on
// the look-back and notice lists.
func TestFollowUpPages(t *testing.T) {
	p := newPagesEnv(t)
	tk := p.inProgress(p.newTask("需要督促"))
	path := fmt.Sprintf("/tasks/%d", tk.ID)
	r := p.post(path+"/urge", "sup", url.Values{"message": {" "}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-urge"`) {
		t.Fatalf("urge without a message: %d", r.Status)
	}
	if r := p.post(path+"/urge", "lia_a", url.Values{"message": {"x"}}); r.Status != http.StatusForbidden {
		t.Fatalf("urge by a liaison: %d", r.Status)
	}
	p.wantRedirect(p.post(path+"/urge", "sup", url.Values{"message": {"请本周内报送进展"}}), path+"?msg=flash.sv.urged")
	if b := string(p.get(path, "viewer", "").Body); !strings.Contains(b, "请本周内报送进展") || !strings.Contains(b, `id="follow-up"`) {
		t.Fatal("the task page lacks the urge")
	}
	p.report(tk, 100)
	p.transition(p.liaison(p.unitA), tk.ID, supervise.ActionSubmit, "")
	p.wantRedirect(p.post(path+"/sign-off", "sup", nil), path)
	var lb int64
	if err := p.d.QueryRowContext(p.ctx, `SELECT id FROM task_lookbacks WHERE task_id = ?`, tk.ID).Scan(&lb); err != nil {
		t.Fatalf("no look-back scheduled at sign-off: %v", err)
	}
	if b := string(p.get(path, "sup", "").Body); !strings.Contains(b, `id="form-lookback"`) {
		t.Fatal("the supervisor sees no look-back form on a signed-off task")
	}
	if b := string(p.get(path, "viewer", "").Body); strings.Contains(b, `id="form-lookback"`) {
		t.Fatal("a viewer sees the look-back form")
	}
	lbPath := fmt.Sprintf("/lookbacks/%d/result", lb)
	r = p.post(lbPath, "sup", url.Values{"result": {"fail"}, "new_due": {"2026-04-30"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="err-lookback"`) {
		t.Fatalf("a failed look-back without findings: %d", r.Status)
	}
	p.wantRedirect(p.post(lbPath, "sup", url.Values{"result": {"fail"}, "findings": {"台账不全"}, "new_due": {"2026-04-30"}}), path+"?msg=flash.sv.lookback")
	if got := p.task(tk.ID); got.State != supervise.StateInProgress || got.Due.String() != "2026-04-30" {
		t.Fatalf("after a failed look-back: %s due %s", got.State, got.Due)
	}
	for _, pg := range []string{"/lookbacks?all=1", "/notices", "/lookbacks"} {
		for _, lang := range []string{"zh-CN", "en"} {
			r := p.get(pg, "leader", lang)
			if r.Status != 200 || rawKey.Match(r.Body) {
				t.Fatalf("%s (%s): %d %s", pg, lang, r.Status, rawKey.Find(r.Body))
			}
		}
	}
	if b := string(p.get("/lookbacks?all=1", "sup", "").Body); !strings.Contains(b, "需要督促") || !strings.Contains(b, "台账不全") {
		t.Error("the look-back list lacks the task")
	}
	if r := p.get("/lookbacks", "sysadmin", ""); r.Status != http.StatusForbidden {
		t.Errorf("look-backs for a sysadmin: %d", r.Status)
	}
}
