// Package sheet is the platform's Excel (.xlsx) support: bounded, validated
// imports that report problems by row and column, and streaming exports that
// write formula-like text as text. Features keep their own columns and rules
// and call this package for the parts that are the same everywhere.
//
// Imports are all-or-nothing by convention: a feature reads and checks every
// row first (Read, the cell parsers), reports every problem (Invalid with
// the RowErrors), and writes in one transaction only when there is none.
package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/apperr"
)

// Upload bounds. An .xlsx is a zip, so its size says little about what it
// expands to: the expansion and the row count are bounded too.
const (
	MaxUploadBytes = 10 << 20 // the file
	MaxUnzipped    = 64 << 20 // all parts together, expanded
	MaxUnzippedXML = 16 << 20 // one worksheet in memory; larger ones stream from a temp file
	MaxZipEntries  = 2000
)

// Limits bound one kind of import.
type Limits struct {
	// MaxBytes bounds the file (default MaxUploadBytes).
	MaxBytes int64
	// MaxRows bounds the data rows, header excluded (default 5,000).
	MaxRows int
}

func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = MaxUploadBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = 5000
	}
	return l
}

func fail(status int, code, zh, en string) *apperr.Error {
	return &apperr.Error{Status: status, Code: code, Message: zh + " / " + en}
}

// The errors of an upload that cannot be read at all.
func errTooLarge(max int64) *apperr.Error {
	mb := max >> 20
	return fail(http.StatusRequestEntityTooLarge, "import_too_large", fmt.Sprintf("文件超过 %d MB", mb), fmt.Sprintf("the file is larger than %d MB", mb))
}

var (
	errEmptyFile = fail(http.StatusUnprocessableEntity, "import_empty", "文件是空的", "the file is empty")
	errOLE       = fail(http.StatusUnprocessableEntity, "import_not_xlsx", "这是旧版 .xls 或加密的文件，请在 Excel 中另存为 .xlsx 后再导入",
		"this is an old .xls or an encrypted file; save it as .xlsx in Excel and import that")
	errNotXLSX = fail(http.StatusUnprocessableEntity, "import_not_xlsx", "不是 Excel .xlsx 文件", "not an Excel .xlsx file")
	errDamaged = fail(http.StatusUnprocessableEntity, "import_not_xlsx", "Excel 文件已损坏，无法读取", "the Excel file is damaged and cannot be read")
	errZipBomb = fail(http.StatusUnprocessableEntity, "import_zip_bomb", fmt.Sprintf("文件解压后超过 %d MB，已拒绝处理", MaxUnzipped>>20),
		fmt.Sprintf("the file expands to more than %d MB; refused", MaxUnzipped>>20))
	errNoData = fail(http.StatusUnprocessableEntity, "import_empty", "工作表没有数据：第一张工作表须有表头和至少一行数据",
		"no data: the first sheet needs a header row and at least one data row")
	// ErrNoFile is the answer to an upload without a file.
	ErrNoFile = fail(http.StatusBadRequest, "import_no_file", "请选择要上传的 .xlsx 文件", "choose an .xlsx file to upload")
)

func errTooManyRows(n int) *apperr.Error {
	return fail(http.StatusUnprocessableEntity, "import_too_many_rows", fmt.Sprintf("数据超过 %d 行，请拆分后分批导入", n),
		fmt.Sprintf("more than %d data rows; split the file and import the parts", n))
}

// RowError is one problem in one cell: the row number as the spreadsheet
// shows it and the column header as written in the file.
type RowError struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Code   string `json:"code"`
	// Message is the problem in Chinese and English ("… / …").
	Message string `json:"message"`
	zh, en  string
}

// Text is the message in lang.
func (e RowError) Text(lang string) string {
	switch {
	case e.zh == "" && e.en == "":
		return e.Message
	case strings.HasPrefix(lang, "en"):
		return e.en
	}
	return e.zh
}

// Problem is a RowError in row, column with the message in both languages.
func Problem(row int, column, code, zh, en string) RowError {
	return RowError{Row: row, Column: column, Code: code, Message: zh + " / " + en, zh: zh, en: en}
}

// FromError turns a validation error (an *apperr.Error whose message is
// "中文 / English") into a row error in column.
func FromError(row int, column string, err error) RowError {
	if e, ok := apperr.As(err); ok {
		zh, en, found := strings.Cut(e.Message, " / ")
		if !found {
			en = zh
		}
		return RowError{Row: row, Column: column, Code: e.Code, Message: e.Message, zh: zh, en: en}
	}
	return RowError{Row: row, Column: column, Code: "invalid", Message: err.Error()}
}

// Invalid is the 422 an import returns with its row errors (in Details);
// nothing was written.
func Invalid(errs []RowError) *apperr.Error {
	e := fail(http.StatusUnprocessableEntity, "import_invalid", fmt.Sprintf("发现 %d 处错误，未导入任何数据", len(errs)),
		fmt.Sprintf("%d problems found; nothing was imported", len(errs)))
	e.Details = errs
	return e
}

// ErrorText is the message of an *apperr.Error written "中文 / English" (as
// this package writes its errors) in lang: English for "en…", else Chinese.
// ok is false when err is not an *apperr.Error.
func ErrorText(lang string, err error) (text string, ok bool) {
	e, ok := apperr.As(err)
	if !ok {
		return "", false
	}
	zh, en, found := strings.Cut(e.Message, " / ")
	switch {
	case !found:
		return e.Message, true
	case strings.HasPrefix(lang, "en"):
		return en, true
	}
	return zh, true
}

// Column is one column a feature reads.
type Column struct {
	Key    string // the feature's name for it
	Header string // the header in the feature's template
	// Aliases are other headers people write for it.
	Aliases  []string
	Required bool
}

// Row is one non-blank data row: its number as the spreadsheet shows it and
// its cells by column key, cleaned (trimmed; no-break and ideographic spaces
// made plain).
type Row struct {
	Num   int
	Cells map[string]string
}

// Data is the first worksheet of an upload, read and bounded.
type Data struct {
	HeaderRow int
	// Headers maps a column key to the header as written in the file.
	Headers map[string]string
	Rows    []Row
	// Date1904 is the workbook's date system, for serial-number dates.
	Date1904 bool
	order    map[string]int
}

// Has reports whether the file has the column.
func (d *Data) Has(key string) bool { _, ok := d.Headers[key]; return ok }

// Col is the header of the column as written in the file (or as the
// template writes it when the file lacks it), for row errors.
func (d *Data) Col(key string, cols []Column) string {
	if h, ok := d.Headers[key]; ok {
		return h
	}
	for _, c := range cols {
		if c.Key == key {
			return c.Header
		}
	}
	return key
}

// Sort orders errors by row, then by column as they stand in the file.
func (d *Data) Sort(errs []RowError) []RowError {
	pos := func(h string) int {
		if i, ok := d.order[h]; ok {
			return i
		}
		return 1 << 20
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Row != errs[j].Row {
			return errs[i].Row < errs[j].Row
		}
		return pos(errs[i].Column) < pos(errs[j].Column)
	})
	return errs
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// ReadAll reads at most max bytes (MaxUploadBytes when max ≤ 0), refusing
// larger input with 413.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = MaxUploadBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(len(b)) > max {
		return nil, errTooLarge(max)
	}
	if err != nil {
		return nil, fmt.Errorf("sheet: read upload: %w", err)
	}
	return b, nil
}

// Check looks at the bytes before excelize does: the zip magic, that it is
// a workbook, and how far it expands. Declared sizes can lie, so every part
// is also expanded once into io.Discard, bounded, which costs CPU but no
// memory; archive/zip refuses a part longer than it declared.
func Check(b []byte) error {
	if len(b) == 0 {
		return errEmptyFile
	}
	if bytes.HasPrefix(b, oleMagic) {
		return errOLE
	}
	if !bytes.HasPrefix(b, zipMagic) {
		return errNotXLSX
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return errNotXLSX
	}
	if len(zr.File) > MaxZipEntries {
		return errZipBomb
	}
	var declared uint64
	workbook := false
	for _, zf := range zr.File {
		declared += zf.UncompressedSize64
		if declared > MaxUnzipped {
			return errZipBomb
		}
		if strings.EqualFold(zf.Name, "xl/workbook.xml") {
			workbook = true
		}
	}
	if !workbook {
		return errNotXLSX
	}
	var actual int64
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			return errDamaged
		}
		n, err := io.Copy(io.Discard, io.LimitReader(rc, MaxUnzipped-actual+1))
		rc.Close()
		actual += n
		if actual > MaxUnzipped {
			return errZipBomb
		}
		if err != nil {
			return errDamaged
		}
	}
	return nil
}

// Open opens checked bytes with excelize's own expansion limits as a second
// fence.
func Open(b []byte) (*excelize.File, error) {
	if err := Check(b); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: MaxUnzipped, UnzipXMLSizeLimit: MaxUnzippedXML})
	if err != nil {
		if f != nil {
			f.Close()
		}
		if strings.Contains(err.Error(), "unzip size") {
			return nil, errZipBomb
		}
		return nil, errDamaged
	}
	return f, nil
}

var blankReplacer = strings.NewReplacer("\u00a0", " ", "\u3000", " ", "\u200b", "", "\ufeff", "")

// Clean trims a cell and makes odd spaces plain.
func Clean(s string) string { return strings.TrimSpace(blankReplacer.Replace(s)) }

// Read reads an upload's first worksheet: the first non-blank row is the
// header, blank rows are skipped, and reading stops past lim.MaxRows.
// Header problems (a required column missing, a column twice) come back as
// row errors; an unreadable file as an *apperr.Error.
func Read(r io.Reader, cols []Column, lim Limits) (*Data, []RowError, error) {
	lim = lim.orDefault()
	b, err := ReadAll(r, lim.MaxBytes)
	if err != nil {
		return nil, nil, err
	}
	f, err := Open(b)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	names := f.GetSheetList()
	if len(names) == 0 {
		return nil, nil, errNoData
	}
	d := &Data{Headers: map[string]string{}, order: map[string]int{}}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		d.Date1904 = *props.Date1904
	}
	rows, err := f.Rows(names[0])
	if err != nil {
		return nil, nil, errDamaged
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
			return nil, nil, errDamaged
		}
		blank := true
		for i := range cells {
			cells[i] = Clean(cells[i])
			if cells[i] != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		if index == nil {
			d.HeaderRow = num
			index = map[int]string{}
			for i, h := range cells {
				if _, seen := d.order[h]; !seen {
					d.order[h] = i
				}
				key := match(cols, h)
				if key == "" {
					continue
				}
				if _, dup := d.Headers[key]; dup {
					rerrs = append(rerrs, Problem(num, h, "duplicate_column", "表头重复", "the column appears twice"))
					continue
				}
				index[i] = key
				d.Headers[key] = h
			}
			for _, c := range cols {
				if c.Required && !d.Has(c.Key) {
					rerrs = append(rerrs, Problem(num, c.Header, "missing_column", "缺少此列", "this column is missing"))
				}
			}
			continue
		}
		if len(d.Rows) >= lim.MaxRows {
			return nil, nil, errTooManyRows(lim.MaxRows)
		}
		row := Row{Num: num, Cells: make(map[string]string, len(index))}
		for i, v := range cells {
			if key, ok := index[i]; ok {
				row.Cells[key] = v
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if err := rows.Error(); err != nil {
		return nil, nil, errDamaged
	}
	if index == nil || len(d.Rows) == 0 {
		return nil, nil, errNoData
	}
	return d, rerrs, nil
}

// match finds the column a header names: the template's header or an alias,
// ignoring case, a trailing "*" or "（必填）", and spaces inside.
func match(cols []Column, h string) string {
	h = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(h), "*"), "（必填）")
	h = strings.ToLower(strings.Join(strings.Fields(h), ""))
	for _, c := range cols {
		if h == strings.ToLower(c.Header) {
			return c.Key
		}
		for _, a := range c.Aliases {
			if h == strings.ToLower(a) {
				return c.Key
			}
		}
	}
	return ""
}

// Upload reads the named file part of a multipart request, streaming it
// rather than letting ParseMultipartForm spill it to disk, and bounded by
// max (MaxUploadBytes when max ≤ 0) plus room for the framing. It returns
// the form's other (small) text fields too.
func Upload(w http.ResponseWriter, r *http.Request, field string, max int64) ([]byte, map[string]string, error) {
	if max <= 0 {
		max = MaxUploadBytes
	}
	r.Body = http.MaxBytesReader(w, r.Body, max+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, ErrNoFile
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, fields, ErrNoFile
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, fields, errTooLarge(max)
			}
			return nil, fields, ErrNoFile
		}
		if part.FormName() != field {
			if part.FileName() == "" && len(fields) < 20 {
				v, _ := io.ReadAll(io.LimitReader(part, 4<<10))
				fields[part.FormName()] = string(v)
			}
			part.Close()
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, max+1))
		part.Close()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || int64(len(b)) > max {
			return nil, fields, errTooLarge(max)
		}
		if err != nil || (len(b) == 0 && part.FileName() == "") {
			return nil, fields, ErrNoFile
		}
		return b, fields, nil
	}
}
