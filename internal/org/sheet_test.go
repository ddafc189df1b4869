package org_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/org"
)

// rowCol is what a row error says, for comparing.
type rowCol struct {
	Row    int
	Column string
	Code   string
}

func rowCols(res org.ImportResult) []rowCol {
	var out []rowCol
	for _, e := range res.Errors {
		out = append(out, rowCol{e.Row, e.Column, e.Code})
	}
	return out
}

func TestImportUnitsParentsInLaterRows(t *testing.T) {
	e := newEnv(t)
	e.unit("BGS", "示范市人民政府办公室", org.KindOffice, "")
	file := book(t,
		unitHeader,
		[]any{"Z1", "第一党支部", "党支部", "S05", 1}, // parent two rows below
		[]any{"S05", "督查科", "科室", "BGS", 5},   // parent already in the database
		[]any{"D07", "青川县人民政府办公室", "district", "", 30},
		[]any{"Z2", "第二党支部", "branch", "z1", ""}, // parent in an earlier row, any case
		[]any{"O01", "驻北京联络处", "驻外机构", "BGS", 20},
	)
	res, err := e.svc.ImportUnits(ctx, sys, bytes.NewReader(file))
	if err != nil {
		t.Fatalf("import: %v (%+v)", err, res.Errors)
	}
	if res.Created != 5 || res.Updated != 0 {
		t.Fatalf("result = %+v", res)
	}
	us, _ := e.svc.ListUnits(ctx)
	byCode := map[string]org.Unit{}
	for _, u := range us {
		byCode[u.Code] = u
	}
	parentOf := func(code string) string {
		u := byCode[code]
		if u.ParentID == nil {
			return ""
		}
		for _, p := range us {
			if p.ID == *u.ParentID {
				return p.Code
			}
		}
		return "?"
	}
	for code, want := range map[string]string{"Z1": "S05", "S05": "BGS", "D07": "", "Z2": "Z1", "O01": "BGS"} {
		if got := parentOf(code); got != want {
			t.Errorf("parent of %s = %q, want %q", code, got, want)
		}
	}
	if byCode["Z1"].Kind != org.KindBranch || byCode["O01"].Kind != org.KindOutpost || byCode["S05"].SortOrder != 5 {
		t.Fatalf("kinds or sort wrong: %+v", byCode)
	}
	if rec := e.lastAudit(); rec.Action != "unit.import" || !strings.Contains(rec.Summary, "created 5") {
		t.Fatalf("last audit = %+v", rec)
	}

	// The same file again changes nothing; an existing code updates.
	res, err = e.svc.ImportUnits(ctx, sys, bytes.NewReader(file))
	if err != nil || res.Unchanged != 5 || res.Created+res.Updated != 0 {
		t.Fatalf("re-import = %+v, %v", res, err)
	}
	res, err = e.svc.ImportUnits(ctx, sys, bytes.NewReader(book(t, unitHeader, []any{"S05", "督查督办科", "科室", "", ""})))
	if err != nil || res.Updated != 1 {
		t.Fatalf("update import = %+v, %v", res, err)
	}
	u, _ := e.svc.UnitByCode(ctx, "S05")
	if u.Name != "督查督办科" || u.ParentID == nil || u.SortOrder != 5 {
		t.Fatalf("updated unit = %+v (empty cells must keep the parent and sort order)", u)
	}
}

func TestImportUnitsReportsEveryBadRowAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.unit("BGS", "办公室", org.KindOffice, "")
	file := book(t,
		unitHeader,
		[]any{"S01", "秘书一科", "科室", "BGS", 1}, // 2: good
		[]any{"S02", "", "科室", "BGS", 2},     // 3: empty name
		[]any{"S03", "秘书三科", "处", "BGS", 3},  // 4: bad kind
		[]any{"S04", "综合科", "科室", "NOPE", 4}, // 5: unknown parent
		[]any{"s01", "重复", "科室", "BGS", 5},   // 6: duplicate of row 2 (case)
		[]any{"bgs", "办公室二", "办公室", "", 6},   // 7: differs from an existing code by case
		[]any{"X1", "甲", "科室", "X2", 7},      // 8: cycle with row 9
		[]any{"X2", "乙", "科室", "X1", "八"},    // 9: cycle, bad sort order
		[]any{"S 9", "空格", "科室", "", ""},     // 10: bad code
	)
	before := e.snap()
	res, err := e.svc.ImportUnits(ctx, sys, bytes.NewReader(file))
	if errCode(t, err) != "import_invalid" {
		t.Fatalf("err = %v", err)
	}
	want := []rowCol{
		{3, "名称", "invalid_name"},
		{4, "类型", "invalid_kind"},
		{5, "上级编码", "unknown_parent"},
		{6, "编码", "duplicate_code"},
		{7, "编码", "duplicate_code"},
		{8, "上级编码", "parent_cycle"},
		{9, "上级编码", "parent_cycle"},
		{9, "排序", "invalid_sort_order"},
		{10, "编码", "invalid_code"},
	}
	if got := rowCols(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors:\n got %v\nwant %v", got, want)
	}
	for _, re := range res.Errors {
		if re.Message == "" || !strings.Contains(re.Message, " / ") {
			t.Errorf("row %d: message %q should be in both languages", re.Row, re.Message)
		}
	}
	if after := e.snap(); after != before {
		t.Fatalf("a refused import changed the database: %+v → %+v", before, after)
	}
}

func TestImportUnitsMissingColumns(t *testing.T) {
	e := newEnv(t)
	res, err := e.svc.ImportUnits(ctx, sys, bytes.NewReader(book(t, []any{"编码", "名称"}, []any{"A", "甲"})))
	if errCode(t, err) != "import_invalid" || len(res.Errors) != 1 || res.Errors[0].Column != "类型" || res.Errors[0].Row != 1 {
		t.Fatalf("res = %+v, %v", res, err)
	}
}

func TestImportPeople(t *testing.T) {
	e := newEnv(t)
	e.unit("S05", "督查科", org.KindSection, "")
	e.unit("S06", "政务信息科", org.KindSection, "")
	e.person("S05", "王芳", "13800000001")
	// A real date cell and numbers where text is expected, as Excel users do.
	f := excelize.NewFile()
	for i, r := range [][]any{
		personHeader,
		{"王芳", "S05", "科长", "", "", "", "正科级"},                                                      // 2: updates, keeps the phone
		{"李娜", "s06", "科员", 13912345678, 1990, time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), "一级科员"}, // 3
		{"赵强", "S06", "", "0531-12345678", "1985", "2026/3/5", ""},                                  // 4
		{"刘洋", "S06", "", "", "", "2026.3.5", ""},                                                   // 5
		{"陈静", "S06", "", "", "", "2026年3月5日", ""},                                                  // 6
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.ImportPeople(ctx, sys, &buf)
	if err != nil {
		t.Fatalf("import: %v %+v", err, res.Errors)
	}
	if res.Created != 4 || res.Updated != 1 {
		t.Fatalf("result = %+v", res)
	}
	ps, total, err := e.svc.ListPeople(ctx, org.PeopleFilter{Limit: 100})
	if err != nil || total != 5 {
		t.Fatalf("people = %d, %v", total, err)
	}
	got := map[string]org.Person{}
	for _, p := range ps {
		got[p.Name] = p
	}
	if p := got["王芳"]; p.Phone != "13800000001" || p.Title != "科长" || p.Rank != "正科级" {
		t.Errorf("王芳 = %+v", p)
	}
	if p := got["李娜"]; p.Phone != "13912345678" || p.BirthYear == nil || *p.BirthYear != 1990 || p.JoinedOn != "2026-03-05" || p.UnitCode != "S06" {
		t.Errorf("李娜 = %+v", p)
	}
	for _, n := range []string{"赵强", "刘洋", "陈静"} {
		if got[n].JoinedOn != "2026-03-05" {
			t.Errorf("%s joined on %q", n, got[n].JoinedOn)
		}
	}
}

func TestImportPeopleReportsEveryBadRowAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.unit("S05", "督查科", org.KindSection, "")
	e.person("S05", "张伟", "")
	e.person("S05", "张伟", "") // two of them: an import cannot tell which
	file := book(t,
		personHeader,
		[]any{"王芳", "S05", "科长", "13812345678", 1980, "2026-03-05", "正科级"}, // 2: good
		[]any{"", "S05", "", "", "", "", ""},                               // 3: empty name
		[]any{"李娜", "S99", "", "", "", "", ""},                             // 4: unknown unit
		[]any{"赵强", "S05", "", "1234", "", "", ""},                         // 5: bad phone
		[]any{"刘洋", "S05", "", "", "1800", "2026-13-01", ""},               // 6: bad year, bad date
		[]any{"王芳", "S05", "", "", "", "", ""},                             // 7: repeats row 2
		[]any{"张伟", "S05", "", "", "", "", ""},                             // 8: ambiguous
		[]any{"孙丽", "", "", "", "", "", ""},                                // 9: no unit
	)
	before := e.snap()
	res, err := e.svc.ImportPeople(ctx, sys, bytes.NewReader(file))
	if errCode(t, err) != "import_invalid" {
		t.Fatalf("err = %v", err)
	}
	want := []rowCol{
		{3, "姓名", "invalid_name"},
		{4, "单位编码", "unknown_unit"},
		{5, "手机", "invalid_phone"},
		{6, "出生年份", "invalid_birth_year"},
		{6, "入职日期", "invalid_joined_on"},
		{7, "姓名", "duplicate_person"},
		{8, "姓名", "ambiguous_person"},
		{9, "单位编码", "invalid_unit_code"},
	}
	if got := rowCols(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors:\n got %v\nwant %v", got, want)
	}
	if after := e.snap(); after != before {
		t.Fatalf("a refused import changed the database: %+v → %+v", before, after)
	}
}

func TestImportRefusesFilesThatAreNotGoodSheets(t *testing.T) {
	e := newEnv(t)
	var plainZip bytes.Buffer
	zw := zip.NewWriter(&plainZip)
	w, _ := zw.Create("hello.txt")
	w.Write([]byte("hello"))
	zw.Close()
	emptyBook := book(t)
	cases := []struct {
		name string
		data []byte
		code string
	}{
		{"text", []byte("编码,名称,类型\nA,甲,office\n"), "import_not_xlsx"},
		{"nothing", nil, "import_empty"},
		{"zip magic then junk", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{1}, 100)...), "import_not_xlsx"},
		{"a zip that is not a workbook", plainZip.Bytes(), "import_not_xlsx"},
		{"old xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), "import_not_xlsx"},
		{"empty sheet", emptyBook, "import_empty"},
		{"header only", book(t, unitHeader), "import_empty"},
		{"header and blank rows", book(t, unitHeader, []any{"", " ", ""}, []any{}), "import_empty"},
		{"too large", bytes.Repeat([]byte("x"), org.MaxUploadBytes+1), "import_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snap()
			_, err := e.svc.ImportUnits(ctx, sys, bytes.NewReader(c.data))
			if got := errCode(t, err); got != c.code {
				t.Fatalf("code = %s (%v), want %s", got, err, c.code)
			}
			if _, err := e.svc.ImportPeople(ctx, sys, bytes.NewReader(c.data)); errCode(t, err) != c.code {
				t.Fatalf("people: %v, want %s", err, c.code)
			}
			if e.snap() != before {
				t.Fatal("database changed")
			}
		})
	}
}

func TestImportStopsPastTheRowLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 50,001-row sheet")
	}
	e := newEnv(t)
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", unitHeader); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= org.MaxImportRows+1; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, []any{fmt.Sprintf("U%d", i), "单位", "科室"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before := e.snap()
	_, err = e.svc.ImportUnits(ctx, sys, &buf)
	if got := errCode(t, err); got != "import_too_many_rows" {
		t.Fatalf("code = %s (%v)", got, err)
	}
	if e.snap() != before {
		t.Fatal("database changed")
	}
}

// bombSheet is a worksheet body of n bytes of blanks: well-formed XML
// that compresses about a thousandfold.
type bombSheet struct{ left int }

var blanks = bytes.Repeat([]byte{' '}, 64<<10)

func (b *bombSheet) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), b.left)], blanks)
	b.left -= n
	return n, nil
}

const sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
const sheetTail = `</sheetData></worksheet>`

var bombs = map[int]struct {
	comp []byte
	crc  uint32
}{}

// compressedSheet deflates a worksheet of size bytes once per size.
func compressedSheet(t *testing.T, size int) ([]byte, uint32) {
	if b, ok := bombs[size]; ok {
		return b.comp, b.crc
	}
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	crc := crc32.NewIEEE()
	body := io.MultiReader(strings.NewReader(sheetHead), &bombSheet{left: size - len(sheetHead) - len(sheetTail)}, strings.NewReader(sheetTail))
	if _, err := io.Copy(io.MultiWriter(fw, crc), body); err != nil {
		t.Fatal(err)
	}
	fw.Close()
	bombs[size] = struct {
		comp []byte
		crc  uint32
	}{comp.Bytes(), crc.Sum32()}
	return comp.Bytes(), crc.Sum32()
}

// bombBook writes a minimal workbook whose sheet1.xml expands to size
// bytes. When lie is set, the zip claims the sheet is small.
func bombBook(t *testing.T, size int, lie bool) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	small := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
	}
	names := make([]string, 0, len(small))
	for n := range small {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, small[n])
	}
	comp, crc := compressedSheet(t, size)
	declared := uint64(size)
	if lie {
		declared = 4096
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(comp)), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestImportRefusesZipBombs(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name string
		lie  bool
		code string
	}{
		{"honest sizes", false, "import_zip_bomb"},
		{"sizes that lie", true, "import_not_xlsx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := bombBook(t, 100<<20, c.lie) // 100 MB of XML
			if len(file) > 2<<20 {
				t.Fatalf("the bomb is %d bytes; it should be tiny", len(file))
			}
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err := e.svc.ImportUnits(ctx, sys, bytes.NewReader(file))
			runtime.ReadMemStats(&m1)
			if got := errCode(t, err); got != c.code {
				t.Fatalf("code = %s (%v), want %s", got, err, c.code)
			}
			if grown := m1.TotalAlloc - m0.TotalAlloc; grown > 48<<20 {
				t.Fatalf("refusing the bomb allocated %d MB", grown>>20)
			}
		})
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	a := newEnv(t)
	a.unit("BGS", "示范市人民政府办公室", org.KindOffice, "")
	a.unit("S01", "秘书一科", org.KindSection, "BGS")
	a.unit("Z01", "第一党支部", org.KindBranch, "S01")
	a.unit("D01", "东城区人民政府办公室", org.KindDistrict, "")
	a.unit("O01", "=驻京办", org.KindOutpost, "BGS")
	z, _ := a.svc.UnitByCode(ctx, "Z01")
	if _, err := a.svc.UpdateUnit(ctx, sys, z.ID, org.UnitPatch{Active: ptr(false), SortOrder: ptr(7)}); err != nil {
		t.Fatal(err)
	}
	a.person("S01", "王芳", "13812341234")
	var units, people bytes.Buffer
	if err := a.svc.ExportUnits(ctx, sys, &units); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.ExportPeople(ctx, sys, &people); err != nil {
		t.Fatal(err)
	}
	if rec := a.lastAudit(); rec.Action != "person.export" || !strings.Contains(rec.Summary, "1 people") {
		t.Fatalf("audit = %+v", rec)
	}

	b := newEnv(t)
	if res, err := b.svc.ImportUnits(ctx, sys, &units); err != nil || res.Created != 5 {
		t.Fatalf("import units = %+v, %v", res, err)
	}
	if res, err := b.svc.ImportPeople(ctx, sys, &people); err != nil || res.Created != 1 {
		t.Fatalf("import people = %+v, %v", res, err)
	}
	if got, want := describeUnits(t, b), describeUnits(t, a); got != want {
		t.Fatalf("units after the round trip:\n%s\nwant\n%s", got, want)
	}
	ps, _, _ := b.svc.ListPeople(ctx, org.PeopleFilter{})
	if len(ps) != 1 || ps[0].Phone != "13812341234" || ps[0].UnitCode != "S01" {
		t.Fatalf("people after the round trip = %+v", ps)
	}
}

func describeUnits(t *testing.T, e *env) string {
	us, err := e.svc.ListUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code := map[int64]string{}
	for _, u := range us {
		code[u.ID] = u.Code
	}
	var lines []string
	for _, u := range us {
		p := "-"
		if u.ParentID != nil {
			p = code[*u.ParentID]
		}
		lines = append(lines, fmt.Sprintf("%s|%s|%s|%s|%d|%t", u.Code, u.Name, u.Kind, p, u.SortOrder, u.Active))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestExportWritesFormulaLikeCellsAsText(t *testing.T) {
	e := newEnv(t)
	names := []string{"=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "=HYPERLINK(\"http://x\",\"y\")"}
	for i, n := range names {
		e.unit(fmt.Sprintf("F%d", i), n, org.KindSection, "")
	}
	e.svc.CreatePerson(ctx, sys, org.PersonInput{UnitCode: "F0", Name: "=cmd|' /C calc'!A0", Title: "@SUM(1)"})
	var units, people bytes.Buffer
	if err := e.svc.ExportUnits(ctx, sys, &units); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ExportPeople(ctx, sys, &people); err != nil {
		t.Fatal(err)
	}
	check := func(data []byte, sheet string, want []string) {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		found := 0
		rows, _ := f.GetRows(sheet)
		for r, row := range rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s %s holds formula %q", sheet, cell, formula)
				}
				for _, w := range want {
					if v != w {
						continue
					}
					found++
					if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeInlineString {
						t.Errorf("%s %s (%q) has type %v, want a string", sheet, cell, v, typ)
					}
					style, _ := f.GetCellStyle(sheet, cell)
					if qp := f.Styles.CellXfs.Xf[style].QuotePrefix; qp == nil || !*qp {
						t.Errorf("%s %s (%q) lacks the quote prefix", sheet, cell, v)
					}
				}
			}
		}
		if found != len(want) {
			t.Errorf("%s: found %d of the %d formula-like values", sheet, found, len(want))
		}
	}
	check(units.Bytes(), "单位", names)
	check(people.Bytes(), "人员", []string{"=cmd|' /C calc'!A0", "@SUM(1)"})
}

func TestTemplatesHaveTheHeaders(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		write func(io.Writer) error
		sheet string
		want  []any
	}{
		{e.svc.UnitTemplate, "单位", unitHeader},
		{e.svc.PersonTemplate, "人员", personHeader},
	} {
		var buf bytes.Buffer
		if err := c.write(&buf); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows(c.sheet)
		if len(rows) != 1 || fmt.Sprint(rows[0]) != fmt.Sprint(c.want) {
			t.Fatalf("%s template rows = %v", c.sheet, rows)
		}
		if f.GetSheetList()[0] != c.sheet {
			t.Fatalf("first sheet is %v", f.GetSheetList())
		}
		f.Close()
	}
}
