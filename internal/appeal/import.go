package appeal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// Import of historic orders from .xlsx or .csv (UTF-8, optional BOM). The
// file is read row by row; every row is validated on its own. Good rows are
// loaded in chunks (multi-row INSERTs, rollups merged per chunk); bad rows
// are left out and listed with their reasons in a reject file (CSV: the
// row number, the reasons, then the row as it was). A row is rejected when
// a required column is empty or a value is not understood, when its order
// number is already in the database or earlier in the file, or when its
// dates are impossible (resolved before received, in the future).

// MaxImportBytes bounds an import upload (CSV; xlsx keeps sheet's bounds).
const MaxImportBytes = 256 << 20

// ImportChunk rows are loaded per transaction.
const ImportChunk = 20000

type importCol struct {
	key     string
	aliases []string
	req     bool
}

var importCols = []importCol{
	{"number", []string{"工单编号", "编号", "number"}, false},
	{"received_at", []string{"受理时间", "received_at", "received"}, true},
	{"channel", []string{"渠道", "channel"}, false},
	{"kind", []string{"类型", "诉求类型", "kind", "type"}, true},
	{"category", []string{"分类", "分类编码", "category", "category_code"}, true},
	{"content", []string{"诉求内容", "内容", "content"}, true},
	{"district", []string{"区县", "district"}, false},
	{"street", []string{"街道", "street"}, false},
	{"address", []string{"地址", "address"}, false},
	{"name", []string{"姓名", "市民姓名", "name", "citizen_name"}, false},
	{"phone", []string{"电话", "联系电话", "phone", "citizen_phone"}, false},
	{"id_number", []string{"身份证号", "id_number", "citizen_id_number"}, false},
	{"urgency", []string{"紧急程度", "urgency"}, false},
	{"unit", []string{"承办单位", "unit"}, false},
	{"resolved_at", []string{"办结时间", "resolved_at"}, false},
	{"satisfaction", []string{"满意度", "satisfaction"}, false},
	{"solved", []string{"是否解决", "solved"}, false},
}

var kindNames = map[string]Kind{"咨询": KindConsult, "求助": KindHelp, "投诉": KindComplaint, "举报": KindReport, "建议": KindSuggestion}
var satNames = map[string]string{"满意": Satisfied, "基本满意": Basic, "不满意": Unsatisfied}

// ImportResult is what an import did.
type ImportResult struct {
	Rows       int            `json:"rows"`
	Loaded     int            `json:"loaded"`
	Rejected   int            `json:"rejected"`
	DryRun     bool           `json:"dry_run"`
	Rejects    []ImportReject `json:"rejects"`
	RejectFile string         `json:"reject_file,omitempty"`
	Seconds    float64        `json:"seconds"`
}

// ImportReject is one bad row.
type ImportReject struct {
	Row     int      `json:"row"`
	Reasons []string `json:"reasons"`
}

// rowSource yields rows: the header first.
type rowSource interface {
	Next() ([]string, error) // io.EOF at the end
}

type csvSource struct{ r *csv.Reader }

func (c csvSource) Next() ([]string, error) { return c.r.Read() }

type xlsxSource struct{ rows *excelize.Rows }

func (x xlsxSource) Next() ([]string, error) {
	if !x.rows.Next() {
		return nil, io.EOF
	}
	return x.rows.Columns()
}

// Import reads a file and loads its good rows. name decides the format.
func (s *Service) Import(ctx context.Context, ac Actor, name string, body io.Reader, dryRun bool) (*ImportResult, []byte, error) {
	if !ac.Center {
		return nil, nil, errCenterOnly
	}
	start := time.Now()
	var src rowSource
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".csv"):
		br := &bomReader{r: body}
		cr := csv.NewReader(br)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = false
		src = csvSource{cr}
	case strings.HasSuffix(strings.ToLower(name), ".xlsx"):
		b, err := sheet.ReadAll(body, sheet.MaxUploadBytes)
		if err != nil {
			return nil, nil, err
		}
		if err := sheet.Check(b); err != nil {
			return nil, nil, err
		}
		f, err := sheet.Open(b)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		rows, err := f.Rows(f.GetSheetName(0))
		if err != nil {
			return nil, nil, apperr.BadRequest("bad_xlsx", "无法读取工作表 / cannot read the worksheet")
		}
		defer rows.Close()
		src = xlsxSource{rows}
	default:
		return nil, nil, apperr.Invalid("file", "请上传 .xlsx 或 .csv 文件 / upload an .xlsx or .csv file")
	}
	header, err := src.Next()
	if err != nil {
		return nil, nil, apperr.Invalid("file", "文件为空或无法解析 / the file is empty or cannot be read")
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(h), "*")))
		for _, c := range importCols {
			for _, a := range c.aliases {
				if h == strings.ToLower(a) {
					if _, dup := idx[c.key]; dup {
						return nil, nil, apperr.Invalid("file", fmt.Sprintf("列“%s”重复 / column %q appears twice", header[i], header[i]))
					}
					idx[c.key] = i
				}
			}
		}
	}
	for _, c := range importCols {
		if _, ok := idx[c.key]; c.req && !ok {
			return nil, nil, apperr.Invalid("file", fmt.Sprintf("缺少必填列“%s” / the required column %q is missing", c.aliases[0], c.aliases[len(c.aliases)-1]))
		}
	}
	units, err := s.unitLookup(ctx)
	if err != nil {
		return nil, nil, err
	}
	imp := &importer{s: s, ac: ac, idx: idx, units: units, seen: map[string]bool{}, seq: map[workday.Date]int64{}, now: s.Now(), bulk: NewBulk()}
	if !dryRun {
		if err := imp.bulk.begin(ctx, s.DB); err != nil {
			return nil, nil, err
		}
		defer imp.bulk.end()
	}
	res := &ImportResult{DryRun: dryRun, Rejects: []ImportReject{}}
	var rej bytes.Buffer
	rw := csv.NewWriter(&rej)
	rw.Write(append([]string{"行号 row", "原因 reasons"}, header...))
	rowNo := 1
	var chunk []pending
	// The insert of one chunk runs while the next is read and prepared.
	var inflight chan error
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		return err
	}
	flush := func() error {
		good, bad := imp.prepare(ctx, chunk)
		for _, b := range bad {
			res.Rejected++
			if len(res.Rejects) < 200 {
				res.Rejects = append(res.Rejects, ImportReject{Row: b.row, Reasons: b.reasons})
			}
			rw.Write(append([]string{fmt.Sprint(b.row), strings.Join(b.reasons, "; ")}, safeCells(b.cells)...))
		}
		if err := wait(); err != nil {
			return err
		}
		if !dryRun && len(good) > 0 {
			inflight = make(chan error, 1)
			go func(good []BulkRow, done chan<- error) {
				done <- imp.bulk.inTx(ctx, func(tx *bulkTx) error {
					if err := imp.bulk.insert(ctx, tx, good); err != nil {
						return err
					}
					return imp.bulk.finish(ctx, tx)
				})
			}(good, inflight)
		}
		res.Loaded += len(good)
		chunk = make([]pending, 0, ImportChunk)
		return nil
	}
	for {
		cells, err := src.Next()
		if err == io.EOF {
			break
		}
		rowNo++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				res.Rows++
				res.Rejected++
				reason := fmt.Sprintf("CSV 格式错误 / malformed CSV: %v", pe.Err)
				if len(res.Rejects) < 200 {
					res.Rejects = append(res.Rejects, ImportReject{Row: rowNo, Reasons: []string{reason}})
				}
				rw.Write([]string{fmt.Sprint(rowNo), reason})
				continue
			}
			wait()
			return nil, nil, fmt.Errorf("appeal: import: read row %d: %w", rowNo, err)
		}
		if blank(cells) {
			continue
		}
		res.Rows++
		chunk = append(chunk, pending{row: rowNo, cells: cells})
		if len(chunk) >= ImportChunk {
			if err := flush(); err != nil {
				wait()
				return nil, nil, err
			}
		}
	}
	if err := flush(); err != nil {
		wait()
		return nil, nil, err
	}
	if err := wait(); err != nil {
		return nil, nil, err
	}
	rw.Flush()
	if !dryRun {
		if err := s.Audit.Write(ctx, ac.entry("appeal.import", "appeals", fmt.Sprintf("%s: %d rows, %d loaded, %d rejected", name, res.Rows, res.Loaded, res.Rejected))); err != nil {
			return nil, nil, err
		}
	} else {
		res.Loaded = 0
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Rejected == 0 {
		return res, nil, nil
	}
	return res, rej.Bytes(), nil
}

func safeCells(c []string) []string {
	out := make([]string, len(c))
	for i, v := range c {
		if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
			v = "'" + v
		}
		out[i] = v
	}
	return out
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

type bomReader struct {
	r    io.Reader
	done bool
}

func (b *bomReader) Read(p []byte) (int, error) {
	if b.done {
		return b.r.Read(p)
	}
	b.done = true
	var head [3]byte
	n, err := io.ReadFull(b.r, head[:])
	if n == 3 && head == [3]byte{0xEF, 0xBB, 0xBF} {
		return b.r.Read(p)
	}
	b.r = io.MultiReader(bytes.NewReader(head[:n]), b.r)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, err
	}
	return b.r.Read(p)
}

type pending struct {
	row     int
	cells   []string
	reasons []string
}

type importer struct {
	s     *Service
	ac    Actor
	idx   map[string]int
	units map[string]int64
	seen  map[string]bool
	seq   map[workday.Date]int64
	now   time.Time
	bulk  *Bulk
}

func (s *Service) unitLookup(ctx context.Context) (map[string]int64, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, code, name FROM units WHERE active`)
	if err != nil {
		return nil, fmt.Errorf("appeal: import units: %w", err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var id int64
		var code, name string
		if err := rows.Scan(&id, &code, &name); err != nil {
			return nil, err
		}
		m[code], m[name] = id, id
	}
	return m, rows.Err()
}

func (im *importer) cell(p *pending, key string) string {
	i, ok := im.idx[key]
	if !ok || i >= len(p.cells) {
		return ""
	}
	return strings.TrimSpace(p.cells[i])
}

var timeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006/01/02 15:04:05", "2006/01/02 15:04", time.RFC3339, "2006-01-02"}

func parseTime(v string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// prepare validates a chunk (in parallel: segmentation and encryption are
// the costly part) and returns the good rows ready to insert and the bad.
func (im *importer) prepare(ctx context.Context, chunk []pending) ([]BulkRow, []pending) {
	out := make([]BulkRow, len(chunk))
	ok := make([]bool, len(chunk))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(chunk); i += workers {
				out[i], ok[i] = im.row(&chunk[i])
			}
		}(w)
	}
	wg.Wait()
	// Numbers: unique in the file and the database; generated when empty.
	var given []string
	for i := range chunk {
		if ok[i] && out[i].Number != "" {
			given = append(given, out[i].Number)
		}
	}
	exists, err := im.existing(ctx, given)
	var good []BulkRow
	var bad []pending
	for i := range chunk {
		p := &chunk[i]
		if ok[i] {
			r := &out[i]
			switch {
			case err != nil:
				p.reasons = append(p.reasons, "数据库错误 / database error")
			case r.Number != "" && (exists[r.Number] || im.seen[r.Number]):
				p.reasons = append(p.reasons, "工单编号 "+r.Number+" 已存在 / order number "+r.Number+" already exists")
			default:
				if r.Number == "" {
					d := workday.FromTime(r.Received, loc)
					n, err := im.nextSeq(ctx, d)
					if err != nil {
						p.reasons = append(p.reasons, "数据库错误 / database error")
						break
					}
					r.Number = numberOf(d, n)
				}
				im.seen[r.Number] = true
				good = append(good, *r)
				continue
			}
		}
		bad = append(bad, *p)
	}
	return good, bad
}

func (im *importer) nextSeq(ctx context.Context, d workday.Date) (int64, error) {
	n, ok := im.seq[d]
	if !ok {
		if err := im.s.DB.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) FROM appeal_seq WHERE day = ?`, d.String()).Scan(&n); err != nil {
			return 0, err
		}
	}
	n++
	im.seq[d] = n
	return n, nil
}

func (im *importer) existing(ctx context.Context, nums []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(nums); start += 500 {
		end := min(start+500, len(nums))
		ph := strings.TrimSuffix(strings.Repeat("?,", end-start), ",")
		args := make([]any, 0, end-start)
		for _, n := range nums[start:end] {
			args = append(args, n)
		}
		rows, err := im.s.DB.QueryContext(ctx, `SELECT number FROM appeals WHERE number IN (`+ph+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("appeal: import numbers: %w", err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err == nil {
				out[n] = true
			}
		}
		rows.Close()
	}
	return out, nil
}

// row validates one row; reasons name the column.
func (im *importer) row(p *pending) (BulkRow, bool) {
	s := im.s
	bad := func(col, zh, en string) {
		p.reasons = append(p.reasons, fmt.Sprintf("%s：%s / %s: %s", col, zh, col, en))
	}
	r := BulkRow{Channel: ChannelImport, Urgency: UrgencyNormal, State: StateReceived, SourceKey: "import"}
	r.Number = im.cell(p, "number")
	if len(r.Number) > 40 {
		bad("工单编号", "不能超过 40 个字符", "must be at most 40 characters")
	}
	var ok bool
	if v := im.cell(p, "received_at"); v == "" {
		bad("受理时间", "必填", "required")
	} else if r.Received, ok = parseTime(v); !ok {
		bad("受理时间", "无法识别的时间 "+v, "not a date-time: "+v)
	} else if r.Received.After(im.now) {
		bad("受理时间", "不能晚于现在", "is in the future")
	}
	if v := im.cell(p, "channel"); v != "" {
		found := false
		for _, c := range Channels {
			found = found || string(c) == v
		}
		if !found {
			bad("渠道", "未知渠道 "+v, "unknown channel "+v)
		}
		r.Channel = Channel(v)
	}
	v := im.cell(p, "kind")
	if k, ok := kindNames[v]; ok {
		r.Kind = k
	} else {
		r.Kind = Kind(v)
		found := false
		for _, k := range Kinds {
			found = found || k == r.Kind
		}
		if !found {
			bad("类型", "须为 咨询/求助/投诉/举报/建议", "must be consult/help/complaint/report/suggestion")
		}
	}
	v = im.cell(p, "category")
	c, found := s.Category(v)
	if !found {
		for _, x := range s.Categories() {
			if x.Name == v && x.Leaf {
				c, found = x, true
			}
		}
	}
	if !found || !c.Leaf {
		bad("分类", "不是已知的末级分类 "+v, "not a known leaf category "+v)
	}
	r.Category = c.Code
	r.Content = im.cell(p, "content")
	if r.Content == "" {
		bad("诉求内容", "必填", "required")
	} else if utf8.RuneCountInString(r.Content) > 4000 {
		bad("诉求内容", "超过 4000 字", "over 4000 characters")
	}
	r.District, r.Street, r.Address = im.cell(p, "district"), im.cell(p, "street"), im.cell(p, "address")
	if !validDistrict(r.District) {
		bad("区县", "未知区县 "+r.District, "unknown district "+r.District)
	}
	name, phone, idno := im.cell(p, "name"), im.cell(p, "phone"), im.cell(p, "id_number")
	if d := normPhone(phone); phone != "" && (len(d) < 7 || len(d) > 15) {
		bad("电话", "应为 7–15 位数字", "must have 7–15 digits")
	}
	if idno != "" && len(idno) != 18 {
		bad("身份证号", "应为 18 位", "must have 18 characters")
	}
	switch u := im.cell(p, "urgency"); u {
	case "", "普通", UrgencyNormal:
	case "紧急", UrgencyUrgent:
		r.Urgency = UrgencyUrgent
	default:
		bad("紧急程度", "须为 普通 或 紧急", "must be normal or urgent")
	}
	if u := im.cell(p, "unit"); u != "" {
		id, ok := im.units[u]
		if !ok {
			bad("承办单位", "未知单位 "+u, "unknown unit "+u)
		}
		r.UnitID = id
	}
	if v := im.cell(p, "resolved_at"); v != "" {
		t, ok := parseTime(v)
		switch {
		case !ok:
			bad("办结时间", "无法识别的时间 "+v, "not a date-time: "+v)
		case t.Before(r.Received):
			bad("办结时间", "早于受理时间", "is before the received time")
		case t.After(im.now):
			bad("办结时间", "不能晚于现在", "is in the future")
		default:
			r.Resolved = &t
		}
	}
	if v := im.cell(p, "satisfaction"); v != "" {
		sat, ok := satNames[v]
		if !ok {
			for _, x := range []string{Satisfied, Basic, Unsatisfied} {
				if x == v {
					sat, ok = x, true
				}
			}
		}
		if !ok {
			bad("满意度", "须为 满意/基本满意/不满意", "must be satisfied/basic/unsatisfied")
		} else if r.Resolved == nil {
			bad("满意度", "未办结的工单不能有满意度", "needs a resolved time")
		}
		r.Satisfaction = sat
	}
	if v := im.cell(p, "solved"); v != "" {
		var b bool
		switch v {
		case "是", "yes", "true", "1":
			b = true
		case "否", "no", "false", "0":
		default:
			bad("是否解决", "须为 是 或 否", "must be yes or no")
		}
		r.Solved = &b
	}
	if len(p.reasons) > 0 {
		return r, false
	}
	// The loop as far as the history says.
	if r.UnitID != 0 {
		t := r.Received
		r.Dispatched, r.Triage, r.State = &t, TriageDispatched, StateDispatched
		days := DueNormalWorkdays
		if r.Urgency == UrgencyUrgent {
			days = DueUrgentWorkdays
		}
		r.DueOn = s.Cal.AddWorkdays(workday.FromTime(t, loc), days)
	}
	if r.Resolved != nil {
		r.State = StateResolved
		if r.UnitID == 0 {
			r.Triage = TriageAnswered
		}
		r.OnTime = r.DueOn.IsZero() || !workday.FromTime(*r.Resolved, loc).After(r.DueOn)
		if r.Satisfaction != "" {
			r.Followed, r.State = r.Resolved, StateArchived
		}
	}
	var err error
	if r.NameEnc, err = s.PII.Encrypt(name); err == nil {
		if r.PhoneEnc, err = s.PII.Encrypt(phone); err == nil {
			r.IDEnc, err = s.PII.Encrypt(idno)
		}
	}
	if err != nil {
		bad("姓名", "加密失败", "cannot be encrypted")
		return r, false
	}
	r.NameMask, r.PhoneMask, r.IDMask, r.PhoneHash = MaskName(name), MaskPhone(phone), MaskIDNo(idno), s.PII.PhoneHash(phone)
	r.SimHash = SimHash(Segment(r.Content))
	return r, true
}

// ---- HTTP ----

type rejectStore struct {
	mu sync.Mutex
	m  map[string]rejectFile
}

type rejectFile struct {
	b  []byte
	at time.Time
}

func newRejectStore() *rejectStore { return &rejectStore{m: map[string]rejectFile{}} }

func (r *rejectStore) put(b []byte) string {
	var k [12]byte
	rand.Read(k[:])
	tok := hex.EncodeToString(k[:])
	r.mu.Lock()
	defer r.mu.Unlock()
	for t, f := range r.m {
		if time.Since(f.at) > 30*time.Minute || len(r.m) > 50 {
			delete(r.m, t)
		}
	}
	r.m[tok] = rejectFile{b, time.Now()}
	return tok
}

func (r *rejectStore) get(tok string) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.m[tok]
	return f.b, ok
}

func (s *Service) readUpload(w http.ResponseWriter, r *http.Request) (*ImportResult, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxImportBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, apperr.BadRequest("bad_upload", "请以 multipart/form-data 上传文件 / upload the file as multipart/form-data")
	}
	dry := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, apperr.Invalid("file", "请选择要导入的文件 / choose a file to import")
		}
		if err != nil {
			return nil, apperr.BadRequest("bad_upload", "上传无法读取 / the upload cannot be read")
		}
		switch part.FormName() {
		case "dry_run":
			b, _ := io.ReadAll(io.LimitReader(part, 10))
			dry = string(b) == "true" || string(b) == "1" || string(b) == "on"
		case "file":
			res, rej, err := s.Import(r.Context(), actor(r), part.FileName(), part, dry)
			if err != nil {
				return nil, err
			}
			if rej != nil {
				res.RejectFile = "/appeals/import/rejects/" + s.imp.put(rej)
			}
			return res, nil
		}
	}
}

func (s *Service) apiImport(w http.ResponseWriter, r *http.Request) error {
	res, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, res)
}

func (s *Service) getImport(w http.ResponseWriter, r *http.Request) error {
	return s.web.HTML(w, r, "appeal_import.html", "appeal.import", (*ImportResult)(nil))
}

func (s *Service) postImport(w http.ResponseWriter, r *http.Request) error {
	res, err := s.readUpload(w, r)
	if err != nil {
		ae, ok := apperr.As(err)
		if !ok || ae.Status >= 500 {
			return err
		}
		p := s.web.NewPage(r, "appeal.import", (*ImportResult)(nil))
		p.Error = ae.Message
		return s.web.HTMLPage(w, ae.Status, "appeal_import.html", p)
	}
	return s.web.HTML(w, r, "appeal_import.html", "appeal.import", res)
}

func (s *Service) getRejects(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.imp.get(r.PathValue("token"))
	if !ok {
		return apperr.NotFound("reject_file_gone", "退回文件已过期（保留 30 分钟）/ the reject file has expired (kept 30 minutes)")
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="rejects.csv"`)
	w.Write([]byte{0xEF, 0xBB, 0xBF})
	_, err := w.Write(b)
	return err
}
