package sheet_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/workday"
)

func TestParseDate(t *testing.T) {
	serial := func(y int, m time.Month, d int) string {
		days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
		return strconv.FormatFloat(days, 'f', -1, 64)
	}
	for _, c := range []struct {
		in       string
		monthEnd bool
		want     string
	}{
		{"2026-03-05", false, "2026-03-05"},
		{"2026-3-5", false, "2026-03-05"},
		{"2026/3/5", false, "2026-03-05"},
		{"2026.3.5", false, "2026-03-05"},
		{"2026年3月5日", false, "2026-03-05"},
		{"2026 年 3 月 5 日", false, "2026-03-05"},
		{"2026年3月5号", false, "2026-03-05"},
		{"２０２６／３／５", false, "2026-03-05"},
		{"20260305", false, "2026-03-05"},
		{"2026-03-05T00:00:00Z", false, "2026-03-05"},
		{"2026-03-05 08:30:00", false, "2026-03-05"},
		{"2026年6月30日前", true, "2026-06-30"},
		{"于2026年6月30日之前完成", true, "2026-06-30"},
		{"2026年6月", false, "2026-06-01"},
		{"2026年6月", true, "2026-06-30"},
		{"2026年6月底", false, "2026-06-30"},
		{"2026年2月底前", false, "2026-02-28"},
		{"2026-06", true, "2026-06-30"},
		{"2026.12", true, "2026-12-31"},
		{serial(2026, 3, 5), false, "2026-03-05"},
		{serial(2026, 3, 5) + ".5", false, "2026-03-05"},
		{"", false, "0"},
	} {
		d, err := sheet.ParseDate(c.in, false, c.monthEnd)
		got := d.String()
		if d.IsZero() {
			got = "0"
		}
		if err != nil || got != c.want {
			t.Errorf("ParseDate(%q, monthEnd=%v) = %s, %v; want %s", c.in, c.monthEnd, got, err, c.want)
		}
	}
	for _, bad := range []string{"2026-02-30", "2026-13-01", "明年三月", "3月5日", "长期坚持", "2026-03-05至2026-04-05", "0", "-3", "99999999", "2026年3月5日 完成方案"} {
		if d, err := sheet.ParseDate(bad, false, true); err == nil {
			t.Errorf("ParseDate(%q) = %s, want an error", bad, d)
		} else if ae, ok := apperr.As(err); !ok || ae.Code != "invalid_date" || !strings.Contains(ae.Message, bad) {
			t.Errorf("ParseDate(%q): error %v does not name the cell", bad, err)
		}
	}
	// The 1904 date system.
	if d, err := sheet.ParseDate("44990", true, false); err != nil || d.String() != "2027-03-06" {
		t.Errorf("1904 serial: %s %v", d, err)
	}
}

func TestFindDate(t *testing.T) {
	for _, c := range []struct {
		in                  string
		year, month, day    int
		monthEnd            bool
		before, after, text string
	}{
		{in: "2026-03-31 完成方案", year: 2026, month: 3, day: 31, after: " 完成方案"},
		{in: "完成方案（2026年3月31日前）", year: 2026, month: 3, day: 31, before: "完成方案（", after: "前）"},
		{in: "3月31日前完成方案", month: 3, day: 31, after: "前完成方案"},
		{in: "6月底前中期评估", month: 6, monthEnd: true, after: "前中期评估"},
		{in: "2026年6月底 验收", year: 2026, month: 6, monthEnd: true, after: " 验收"},
		{in: "投资12345678元，2026.9.1 开工", year: 2026, month: 9, day: 1, before: "投资12345678元，", after: " 开工"},
	} {
		m, ok := sheet.FindDate(c.in)
		if !ok || m.Year != c.year || m.Month != c.month || m.Day != c.day || m.MonthEnd != c.monthEnd {
			t.Errorf("FindDate(%q) = %+v %v", c.in, m, ok)
			continue
		}
		if b, a := m.Text[:m.Start], m.Text[m.End:]; b != c.before || a != c.after {
			t.Errorf("FindDate(%q): before %q after %q", c.in, b, a)
		}
	}
	if _, ok := sheet.FindDate("完成方案"); ok {
		t.Error("found a date in text without one")
	}
	m, _ := sheet.FindDate("3月31日")
	if d, ok := m.Resolve(2027, false); !ok || d.String() != "2027-03-31" {
		t.Errorf("resolve with a year: %s", d)
	}
	m, _ = sheet.FindDate("2月30日")
	if _, ok := m.Resolve(2026, false); ok {
		t.Error("2月30日 resolved")
	}
}

func book(t *testing.T, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var cols = []sheet.Column{
	{Key: "name", Header: "名称", Aliases: []string{"name"}, Required: true},
	{Key: "due", Header: "完成时限", Aliases: []string{"due", "完成时间"}, Required: true},
	{Key: "note", Header: "备注"},
}

func code(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestRead(t *testing.T) {
	file := book(t,
		[]any{},
		[]any{"名称*", "完成 时间", "其他"},
		[]any{"  甲\u3000", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), "x"},
		[]any{"", "", ""},
		[]any{"乙", "2026/3/6"},
	)
	d, herrs, err := sheet.Read(bytes.NewReader(file), cols, sheet.Limits{})
	if err != nil || len(herrs) != 0 {
		t.Fatalf("read: %v %+v", err, herrs)
	}
	if d.HeaderRow != 2 || len(d.Rows) != 2 || d.Rows[0].Num != 3 || d.Rows[1].Num != 5 {
		t.Fatalf("rows: header %d %+v", d.HeaderRow, d.Rows)
	}
	if d.Rows[0].Cells["name"] != "甲" || d.Col("due", cols) != "完成 时间" || d.Has("note") || d.Col("note", cols) != "备注" {
		t.Fatalf("cells %+v headers %+v", d.Rows[0].Cells, d.Headers)
	}
	if due, err := sheet.ParseDate(d.Rows[0].Cells["due"], d.Date1904, true); err != nil || due != workday.MustParseDate("2026-03-05") {
		t.Fatalf("date cell %q → %s %v", d.Rows[0].Cells["due"], due, err)
	}
	errs := d.Sort([]sheet.RowError{
		sheet.Problem(5, "完成 时间", "b", "乙", "b"),
		sheet.Problem(3, "完成 时间", "c", "丙", "c"),
		sheet.Problem(3, "名称*", "a", "甲", "a"),
	})
	if errs[0].Code != "a" || errs[1].Code != "c" || errs[2].Code != "b" || errs[0].Text("en") != "a" || errs[0].Text("zh-CN") != "甲" || errs[0].Message != "甲 / a" {
		t.Fatalf("sorted %+v", errs)
	}
	// Header problems.
	_, herrs, err = sheet.Read(bytes.NewReader(book(t, []any{"名称", "name", "备注"}, []any{"a", "b"})), cols, sheet.Limits{})
	if err != nil || len(herrs) != 2 || herrs[0].Code != "duplicate_column" || herrs[1].Code != "missing_column" || herrs[1].Column != "完成时限" {
		t.Fatalf("header errors %+v %v", herrs, err)
	}
}

func TestReadRefusesBadFiles(t *testing.T) {
	var plainZip bytes.Buffer
	zw := zip.NewWriter(&plainZip)
	w, _ := zw.Create("hello.txt")
	w.Write([]byte("hello"))
	zw.Close()
	header := []any{"名称", "完成时限"}
	many := [][]any{header}
	for range 11 {
		many = append(many, []any{"x", "2026-01-01"})
	}
	for _, c := range []struct {
		name string
		data []byte
		lim  sheet.Limits
		code string
	}{
		{"text", []byte("名称,完成时限\n"), sheet.Limits{}, "import_not_xlsx"},
		{"nothing", nil, sheet.Limits{}, "import_empty"},
		{"zip magic then junk", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{1}, 100)...), sheet.Limits{}, "import_not_xlsx"},
		{"a zip that is not a workbook", plainZip.Bytes(), sheet.Limits{}, "import_not_xlsx"},
		{"old xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), sheet.Limits{}, "import_not_xlsx"},
		{"header only", book(t, header), sheet.Limits{}, "import_empty"},
		{"too large", bytes.Repeat([]byte("x"), 2000), sheet.Limits{MaxBytes: 1000}, "import_too_large"},
		{"too many rows", book(t, many...), sheet.Limits{MaxRows: 10}, "import_too_many_rows"},
		{"zip bomb", bombBook(t, 100<<20), sheet.Limits{}, "import_zip_bomb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, _, err := sheet.Read(bytes.NewReader(c.data), cols, c.lim)
			runtime.ReadMemStats(&m1)
			if got := code(err); got != c.code {
				t.Fatalf("code %s (%v), want %s", got, err, c.code)
			}
			if grown := m1.TotalAlloc - m0.TotalAlloc; grown > 48<<20 {
				t.Fatalf("refusing it allocated %d MB", grown>>20)
			}
		})
	}
}

// bombBook is a minimal workbook whose one sheet expands to size bytes of
// blanks (well-formed XML that deflates about a thousandfold).
func bombBook(t *testing.T, size int) []byte {
	t.Helper()
	const head = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	const tail = `</sheetData></worksheet>`
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	crc := crc32.NewIEEE()
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(blanks{}, int64(size-len(head)-len(tail))), strings.NewReader(tail))
	if _, err := io.Copy(io.MultiWriter(fw, crc), body); err != nil {
		t.Fatal(err)
	}
	fw.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, p := range [][2]string{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	} {
		w, _ := zw.Create(p[0])
		io.WriteString(w, p[1])
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc.Sum32(),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(size)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return out.Bytes()
}

type blanks struct{}

func (blanks) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestWorkbookWritesFormulaLikeTextAsText(t *testing.T) {
	wb, err := sheet.NewWorkbook()
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	s, err := wb.Sheet("一", []string{"文字", "数字", "日期"}, []float64{20, 10, 12})
	if err != nil {
		t.Fatal(err)
	}
	evil := []string{"=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "=cmd|' /C calc'!A0", "\t=x"}
	for i, v := range evil {
		if err := s.Row(v, i, workday.MustParseDate("2026-03-05")); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := wb.Sheet("二", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Title("=标题"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Row("普通", nil, workday.Date(0)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := wb.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "一" || got[1] != "二" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := f.GetRows("一")
	if len(rows) != len(evil)+1 || rows[0][0] != "文字" {
		t.Fatalf("rows %v", rows)
	}
	for i, v := range evil {
		cell := "A" + string(rune('2'+i))
		if got, _ := f.GetCellValue("一", cell); got != v {
			t.Errorf("%s = %q, want %q", cell, got, v)
		}
		if formula, _ := f.GetCellFormula("一", cell); formula != "" {
			t.Errorf("%s holds formula %q", cell, formula)
		}
		style, _ := f.GetCellStyle("一", cell)
		if qp := f.Styles.CellXfs.Xf[style].QuotePrefix; qp == nil || !*qp {
			t.Errorf("%s (%q) lacks the quote prefix", cell, v)
		}
		if typ, _ := f.GetCellType("一", "B"+string(rune('2'+i))); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
			t.Errorf("number written as text")
		}
	}
	if v, _ := f.GetCellValue("一", "C2"); v != "2026-03-05" {
		t.Errorf("date %q", v)
	}
	style, _ := f.GetCellStyle("二", "A1")
	if qp := f.Styles.CellXfs.Xf[style].QuotePrefix; qp == nil || !*qp {
		t.Error("formula-like title lacks the quote prefix")
	}
}

func TestWriteTemplate(t *testing.T) {
	var buf bytes.Buffer
	err := sheet.WriteTemplate(&buf, "任务", []sheet.TemplateColumn{
		{Header: "领域", Choices: []string{"甲", "乙", "丙"}},
		{Header: "任务", Width: 40, Text: true},
		{Header: "完成时限"},
	}, []string{"说明一", "说明二"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("任务")
	if len(rows) != 1 || strings.Join(rows[0], ",") != "领域,任务,完成时限" {
		t.Fatalf("header %v", rows)
	}
	dvs, _ := f.GetDataValidations("任务")
	if len(dvs) != 1 || !strings.Contains(dvs[0].Formula1, "选项") {
		t.Fatalf("drop-downs %+v", dvs)
	}
	if v, _ := f.GetSheetVisible("选项"); v {
		t.Error("the choices sheet is visible")
	}
	notes, _ := f.GetRows("说明")
	if len(notes) != 2 {
		t.Fatalf("notes %v", notes)
	}
	// The template reads back with no rows.
	if _, _, err := sheet.Read(bytes.NewReader(buf.Bytes()), cols, sheet.Limits{}); code(err) != "import_empty" {
		t.Fatalf("empty template: %v", err)
	}
}

func TestUpload(t *testing.T) {
	body := func(name string, data []byte, extra map[string]string) (*bytes.Buffer, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range extra {
			mw.WriteField(k, v)
		}
		if name != "" {
			w, _ := mw.CreateFormFile(name, "plan.xlsx")
			w.Write(data)
		}
		mw.Close()
		return &b, mw.FormDataContentType()
	}
	b, ct := body("file", []byte("abc"), map[string]string{"note": "x"})
	r := httptest.NewRequest("POST", "/", b)
	r.Header.Set("Content-Type", ct)
	got, fields, err := sheet.Upload(httptest.NewRecorder(), r, "file", 100)
	if err != nil || string(got) != "abc" || fields["note"] != "x" {
		t.Fatalf("upload: %q %v %v", got, fields, err)
	}
	b, ct = body("file", bytes.Repeat([]byte("x"), 200), nil)
	r = httptest.NewRequest("POST", "/", b)
	r.Header.Set("Content-Type", ct)
	if _, _, err := sheet.Upload(httptest.NewRecorder(), r, "file", 100); code(err) != "import_too_large" {
		t.Fatalf("large: %v", err)
	}
	b, ct = body("", nil, map[string]string{"a": "b"})
	r = httptest.NewRequest("POST", "/", b)
	r.Header.Set("Content-Type", ct)
	if _, _, err := sheet.Upload(httptest.NewRecorder(), r, "file", 100); code(err) != "import_no_file" {
		t.Fatalf("no file: %v", err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	r.Header.Set("Content-Type", "application/json")
	if _, _, err := sheet.Upload(httptest.NewRecorder(), r, "file", 100); code(err) != "import_no_file" {
		t.Fatalf("not multipart: %v", err)
	}
}

func TestErrorText(t *testing.T) {
	err := sheet.Invalid([]sheet.RowError{sheet.Problem(2, "A", "x", "甲", "a")})
	if got, ok := sheet.ErrorText("en", err); !ok || got != "1 problems found; nothing was imported" {
		t.Errorf("en: %q %v", got, ok)
	}
	if got, ok := sheet.ErrorText("zh-CN", err); !ok || got != "发现 1 处错误，未导入任何数据" {
		t.Errorf("zh: %q %v", got, ok)
	}
	if _, ok := sheet.ErrorText("en", io.EOF); ok {
		t.Error("a plain error is not a sheet error")
	}
}
