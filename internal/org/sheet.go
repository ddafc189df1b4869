package org

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Upload bounds. An .xlsx is a zip, so the file size says little about what
// it expands to: the expansion and the row count are bounded too.
const (
	MaxUploadBytes = 10 << 20 // request body
	MaxImportRows  = 50000    // data rows, header excluded
	maxUnzipped    = 64 << 20 // all parts together, expanded
	maxUnzippedXML = 16 << 20 // one worksheet in memory; larger ones stream from a temp file
	maxZipEntries  = 2000
)

// ImportResult says what an import did, or would have done had every row
// been good.
type ImportResult struct {
	Created   int        `json:"created"`
	Updated   int        `json:"updated"`
	Unchanged int        `json:"unchanged"`
	Errors    []RowError `json:"errors,omitempty"`
}

func (r ImportResult) String() string {
	if len(r.Errors) > 0 {
		return fmt.Sprintf("%d bad rows; nothing imported", len(r.Errors))
	}
	return fmt.Sprintf("created %d, updated %d, unchanged %d", r.Created, r.Updated, r.Unchanged)
}

// RowError is one problem in one cell: the spreadsheet row number (as Excel
// shows it) and the column header.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Code    string `json:"code"`
	Message string `json:"message"`
	key     string
	args    []any
}

// Text is the message in lang.
func (e RowError) Text(lang string) string {
	if e.key == "" {
		return e.Message
	}
	return tr(lang, e.key, e.args...)
}

func rowErr(row int, column, code, key string, args ...any) RowError {
	return RowError{Row: row, Column: column, Code: code, Message: both(key, args...), key: key, args: args}
}

// rowErrFrom turns a field validation error into a row error in column.
func rowErrFrom(row int, column string, err error) RowError {
	var l *localError
	if errors.As(err, &l) {
		return RowError{Row: row, Column: column, Code: l.e.Code, Message: l.e.Message, key: l.key, args: l.args}
	}
	return RowError{Row: row, Column: column, Code: "invalid", Message: err.Error()}
}

// importInvalid is the error returned with the bad rows; nothing was written.
func importInvalid(errs []RowError) error {
	e := newErr(http.StatusUnprocessableEntity, "import_invalid", "", "org.import.invalid", len(errs))
	e.(*localError).e.Details = errs
	return e
}

// column is one spreadsheet column.
type column struct {
	key      string
	header   string // the header in our template
	aliases  []string
	required bool
}

var unitColumns = []column{
	{key: "code", header: "编码", aliases: []string{"code", "单位编码"}, required: true},
	{key: "name", header: "名称", aliases: []string{"name", "单位名称"}, required: true},
	{key: "kind", header: "类型", aliases: []string{"kind", "单位类型"}, required: true},
	{key: "parent_code", header: "上级编码", aliases: []string{"parent_code", "上级单位编码"}},
	{key: "sort_order", header: "排序", aliases: []string{"sort_order", "sort", "排序号"}},
	{key: "active", header: "状态", aliases: []string{"active", "status"}},
}

var personColumns = []column{
	{key: "name", header: "姓名", aliases: []string{"name"}, required: true},
	{key: "unit_code", header: "单位编码", aliases: []string{"unit_code"}, required: true},
	{key: "title", header: "职务", aliases: []string{"title"}},
	{key: "phone", header: "手机", aliases: []string{"phone", "手机号", "手机号码", "联系电话", "电话"}},
	{key: "birth_year", header: "出生年份", aliases: []string{"birth_year", "出生年"}},
	{key: "joined_on", header: "入职日期", aliases: []string{"joined_on", "参加工作时间", "入职时间"}},
	{key: "rank", header: "职级", aliases: []string{"rank"}},
	{key: "active", header: "状态", aliases: []string{"active", "status"}},
}

// The templates carry the first columns only (the spec's headers); exports
// add 状态 so that a round trip keeps inactive entries inactive.
const (
	unitTemplateCols   = 5
	personTemplateCols = 7
)

// sheetRow is one non-blank data row.
type sheetRow struct {
	num   int
	cells map[string]string
}

// sheetData is the first worksheet, read and bounded.
type sheetData struct {
	headerRow int
	headers   map[string]string // column key → header as written in the file
	order     map[string]int    // header → position, for sorting errors
	rows      []sheetRow
	date1904  bool
}

func (d *sheetData) has(key string) bool { _, ok := d.headers[key]; return ok }

func (d *sheetData) pos(header string) int {
	if i, ok := d.order[header]; ok {
		return i
	}
	return 1 << 20
}

func (d *sheetData) col(key string) string {
	if h, ok := d.headers[key]; ok {
		return h
	}
	return key
}

func importErr(status int, code, key string, args ...any) error {
	return newErr(status, code, "", key, args...)
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// readUpload reads at most MaxUploadBytes.
func readUpload(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxUploadBytes+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || len(b) > MaxUploadBytes {
		return nil, importErr(http.StatusRequestEntityTooLarge, "import_too_large", "org.import.too_large", MaxUploadBytes>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("org: read upload: %w", err)
	}
	return b, nil
}

// checkXLSX looks at the bytes before excelize does: the zip magic, that it
// is a workbook, and how far it expands. Declared sizes can lie, so every
// part is also expanded once into io.Discard, bounded, which costs CPU but
// no memory; archive/zip refuses a part longer than it declared.
func checkXLSX(b []byte) error {
	if len(b) == 0 {
		return importErr(http.StatusUnprocessableEntity, "import_empty", "org.import.empty_file")
	}
	if bytes.HasPrefix(b, oleMagic) {
		return importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.ole")
	}
	if !bytes.HasPrefix(b, zipMagic) {
		return importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.not_xlsx")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.not_xlsx")
	}
	if len(zr.File) > maxZipEntries {
		return importErr(http.StatusUnprocessableEntity, "import_zip_bomb", "org.import.zip_bomb", maxUnzipped>>20)
	}
	var declared uint64
	workbook := false
	for _, zf := range zr.File {
		declared += zf.UncompressedSize64
		if declared > maxUnzipped {
			return importErr(http.StatusUnprocessableEntity, "import_zip_bomb", "org.import.zip_bomb", maxUnzipped>>20)
		}
		if strings.EqualFold(zf.Name, "xl/workbook.xml") {
			workbook = true
		}
	}
	if !workbook {
		return importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.not_xlsx")
	}
	var actual int64
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			return importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.damaged")
		}
		n, err := io.Copy(io.Discard, io.LimitReader(rc, maxUnzipped-actual+1))
		rc.Close()
		actual += n
		if actual > maxUnzipped {
			return importErr(http.StatusUnprocessableEntity, "import_zip_bomb", "org.import.zip_bomb", maxUnzipped>>20)
		}
		if err != nil {
			return importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.damaged")
		}
	}
	return nil
}

// openXLSX opens checked bytes with excelize's own expansion limits as a
// second fence.
func openXLSX(b []byte) (*excelize.File, error) {
	if err := checkXLSX(b); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzippedXML})
	if err != nil {
		if f != nil {
			f.Close()
		}
		if strings.Contains(err.Error(), "unzip size") {
			return nil, importErr(http.StatusUnprocessableEntity, "import_zip_bomb", "org.import.zip_bomb", maxUnzipped>>20)
		}
		return nil, importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.damaged")
	}
	return f, nil
}

var blankReplacer = strings.NewReplacer("\u00a0", " ", "\u3000", " ")

func cleanCell(s string) string { return strings.TrimSpace(blankReplacer.Replace(s)) }

// readSheet streams the first worksheet: the first non-blank row is the
// header, blank rows are skipped, and reading stops past MaxImportRows.
// Header problems come back as row errors.
func readSheet(r io.Reader, cols []column) (*sheetData, []RowError, error) {
	b, err := readUpload(r)
	if err != nil {
		return nil, nil, err
	}
	f, err := openXLSX(b)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	names := f.GetSheetList()
	if len(names) == 0 {
		return nil, nil, importErr(http.StatusUnprocessableEntity, "import_empty", "org.import.empty")
	}
	d := &sheetData{headers: map[string]string{}, order: map[string]int{}}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		d.date1904 = *props.Date1904
	}
	rows, err := f.Rows(names[0])
	if err != nil {
		return nil, nil, importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.damaged")
	}
	defer rows.Close()
	var index map[int]string // cell position → column key
	var rerrs []RowError
	num := 0
	for rows.Next() {
		num++
		// Raw values: dates come as serial numbers, not as whatever the
		// cell's number format would print.
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, nil, importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.damaged")
		}
		blank := true
		for i := range cells {
			cells[i] = cleanCell(cells[i])
			if cells[i] != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		if index == nil {
			d.headerRow = num
			index = map[int]string{}
			for i, h := range cells {
				if _, seen := d.order[h]; !seen {
					d.order[h] = i
				}
				if key := matchColumn(cols, h); key != "" {
					if _, dup := d.headers[key]; dup {
						rerrs = append(rerrs, rowErr(num, h, "duplicate_column", "org.import.dup_column"))
						continue
					}
					index[i] = key
					d.headers[key] = h
				}
			}
			for _, c := range cols {
				if c.required && !d.has(c.key) {
					rerrs = append(rerrs, rowErr(num, c.header, "missing_column", "org.import.missing_column"))
				}
			}
			continue
		}
		if len(d.rows) >= MaxImportRows {
			return nil, nil, importErr(http.StatusUnprocessableEntity, "import_too_many_rows", "org.import.too_many_rows", MaxImportRows)
		}
		row := sheetRow{num: num, cells: make(map[string]string, len(index))}
		for i, v := range cells {
			if key, ok := index[i]; ok {
				row.cells[key] = v
			}
		}
		d.rows = append(d.rows, row)
	}
	if err := rows.Error(); err != nil {
		return nil, nil, importErr(http.StatusUnprocessableEntity, "import_not_xlsx", "org.import.damaged")
	}
	if index == nil || len(d.rows) == 0 {
		return nil, nil, importErr(http.StatusUnprocessableEntity, "import_empty", "org.import.empty")
	}
	return d, rerrs, nil
}

func matchColumn(cols []column, h string) string {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(h, "*"), "（必填）"))
	for _, c := range cols {
		if h == strings.ToLower(c.header) {
			return c.key
		}
		for _, a := range c.aliases {
			if h == strings.ToLower(a) {
				return c.key
			}
		}
	}
	return ""
}

// numText undoes what a spreadsheet does to numbers typed into text
// columns: 1.3812345678E10 → 13812345678, 1980.0 → 1980.
func numText(s string) string {
	if s == "" || !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return s
	}
	return strconv.FormatInt(int64(f), 10)
}

// dateText turns a date cell into text normDate understands: an Excel
// serial number (a real date cell), an ISO date-time, or text as typed.
func dateText(s string, date1904 bool) string {
	if s == "" {
		return s
	}
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') && s[4] == '-' {
		return s[:10]
	}
	if dateNumRE.MatchString(s) {
		return s // 20260305 typed as a number
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 1 || f >= 2958466 {
		return s
	}
	t, err := excelize.ExcelDateToTime(f, date1904)
	if err != nil {
		return s
	}
	return t.Format("2006-01-02")
}

// cellStyles are the export's cell formats. A value that begins like a
// formula (= + - @, or a tab or return) is written as text that stays text:
// an inline string with the quote-prefix style, so the spreadsheet neither
// evaluates it nor turns it into a formula when someone edits the cell.
type cellStyles struct{ header, text, quoted int }

func formulaLike(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

func (st cellStyles) cell(s string) any {
	if s == "" {
		return nil // leave the cell blank
	}
	if formulaLike(s) {
		return excelize.Cell{StyleID: st.quoted, Value: s}
	}
	return excelize.Cell{StyleID: st.text, Value: s}
}

func newStyles(f *excelize.File) (cellStyles, error) {
	var st cellStyles
	var err error
	if st.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}}); err != nil {
		return st, err
	}
	// Number format 49 is "@": text, so phone numbers and codes stay as typed.
	if st.text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil {
		return st, err
	}
	// Locked is the default anyway; it only keeps NewStyle from handing back
	// the text style's id, which would then get the quote prefix too.
	if st.quoted, err = f.NewStyle(&excelize.Style{NumFmt: 49, Protection: &excelize.Protection{Locked: true}}); err != nil {
		return st, err
	}
	// excelize's Style has no quote-prefix option; set it on the cell format.
	xfs := f.Styles.CellXfs.Xf
	if st.quoted == st.text || st.quoted >= len(xfs) {
		return st, fmt.Errorf("org: no separate cell format for quoted text")
	}
	t := true
	xfs[st.quoted].QuotePrefix = &t
	return st, nil
}

// headerCells are the first n headers in the header style.
func headerCells(cols []column, n int, style int) []any {
	out := make([]any, 0, n)
	for _, c := range cols[:n] {
		out = append(out, excelize.Cell{StyleID: style, Value: c.header})
	}
	return out
}

// writeTemplate builds an empty template with the headers, a kind
// drop-down where there is one, and a sheet of instructions.
func writeTemplate(w io.Writer, sheet string, cols []column, n int, notes []string, kindCol string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	for i, c := range cols[:n] {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellValue(sheet, cell, c.header); err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, cell, cell, st.header); err != nil {
			return err
		}
		colName, _ := excelize.ColumnNumberToName(i + 1)
		_ = f.SetColWidth(sheet, colName, colName, 18)
		// Text format for the data cells, so 0531-… and long numbers stay text.
		if c.key != "sort_order" && c.key != "birth_year" && c.key != "joined_on" {
			_ = f.SetColStyle(sheet, colName, st.text)
		}
	}
	if kindCol != "" {
		dv := excelize.NewDataValidation(true)
		dv.Sqref = kindCol + "2:" + kindCol + "50001"
		var labels []string
		for _, k := range Kinds {
			labels = append(labels, k.Label())
		}
		if err := dv.SetDropList(labels); err == nil {
			_ = f.AddDataValidation(sheet, dv)
		}
	}
	if _, err := f.NewSheet("说明"); err != nil {
		return err
	}
	for i, line := range notes {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetCellValue("说明", cell, line); err != nil {
			return err
		}
	}
	_ = f.SetColWidth("说明", "A", "A", 100)
	f.SetActiveSheet(0)
	return f.Write(w)
}

// UnitTemplate writes the units import template.
func (s *Service) UnitTemplate(w io.Writer) error {
	return writeTemplate(w, "单位", unitColumns, unitTemplateCols, []string{
		"单位导入说明 / How to import units",
		"编码、名称、类型必填。编码只能使用字母、数字、- _ .，不区分大小写地唯一。",
		"类型填写：办公室、科室、直属单位、区县、党支部、驻外机构（或 office、section、affiliate、district、branch、outpost）。",
		"上级编码可以是系统中已有的单位，也可以是本文件中任意一行（前后均可）。",
		"编码已存在的行更新该单位；对已有单位，空白单元格保留原值。",
		"任何一行有错误时整个文件都不导入，页面会列出每个错误的行号和列名。",
		fmt.Sprintf("文件不超过 %d MB，数据不超过 %d 行。", MaxUploadBytes>>20, MaxImportRows),
	}, "C")
}

// PersonTemplate writes the people import template.
func (s *Service) PersonTemplate(w io.Writer) error {
	return writeTemplate(w, "人员", personColumns, personTemplateCols, []string{
		"人员导入说明 / How to import people",
		"姓名、单位编码必填；单位编码须为系统中已有的单位。",
		"手机：11 位手机号，或带区号的固定电话，如 0531-12345678。",
		"出生年份：四位数字；入职日期：2026-03-05、2026/3/5、2026.3.5、2026年3月5日 或日期格式的单元格。",
		"同一单位中已有同名人员时更新该人员；空白单元格保留原值。同一单位同名人员多于一人时请在页面上逐个修改。",
		"任何一行有错误时整个文件都不导入，页面会列出每个错误的行号和列名。",
		fmt.Sprintf("文件不超过 %d MB，数据不超过 %d 行。", MaxUploadBytes>>20, MaxImportRows),
	}, "")
}

// newExport starts a one-sheet workbook with a streaming writer.
func newExport(sheet string, cols []column) (*excelize.File, *excelize.StreamWriter, cellStyles, error) {
	f := excelize.NewFile()
	fail := func(err error) (*excelize.File, *excelize.StreamWriter, cellStyles, error) {
		f.Close()
		return nil, nil, cellStyles{}, err
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fail(err)
	}
	st, err := newStyles(f)
	if err != nil {
		return fail(err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fail(err)
	}
	if err := sw.SetColWidth(1, len(cols), 18); err != nil {
		return fail(err)
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fail(err)
	}
	if err := sw.SetRow("A1", headerCells(cols, len(cols), st.header)); err != nil {
		return fail(err)
	}
	return f, sw, st, nil
}

func activeLabel(a bool) string {
	if a {
		return "启用"
	}
	return "停用"
}
