package sheet

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/workday"
)

// ContentType is the media type of .xlsx files.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// FormulaLike reports whether a value begins like a formula (= + - @, or a
// tab or return): such text is written so that it stays text.
func FormulaLike(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// Styles are the cell formats of a workbook.
type Styles struct {
	Header, Text, Quoted, Title int
}

// NewStyles adds the formats to f. Quoted is text with the quote prefix, so
// the spreadsheet neither evaluates it nor turns it into a formula when
// someone edits the cell.
func NewStyles(f *excelize.File) (Styles, error) {
	var st Styles
	var err error
	if st.Header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}); err != nil {
		return st, err
	}
	if st.Title, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}); err != nil {
		return st, err
	}
	// Number format 49 is "@": text, so codes and dates stay as typed.
	if st.Text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil {
		return st, err
	}
	// Locked is the default anyway; it only keeps NewStyle from handing back
	// the text style's id, which would then get the quote prefix too.
	if st.Quoted, err = f.NewStyle(&excelize.Style{NumFmt: 49, Protection: &excelize.Protection{Locked: true}}); err != nil {
		return st, err
	}
	// excelize's Style has no quote-prefix option; set it on the cell format.
	xfs := f.Styles.CellXfs.Xf
	if st.Quoted == st.Text || st.Quoted >= len(xfs) {
		return st, fmt.Errorf("sheet: no separate cell format for quoted text")
	}
	t := true
	xfs[st.Quoted].QuotePrefix = &t
	return st, nil
}

// Cell is a text cell: blank when empty, quoted when formula-like.
func (st Styles) Cell(s string) any {
	if s == "" {
		return nil
	}
	if FormulaLike(s) {
		return excelize.Cell{StyleID: st.Quoted, Value: s}
	}
	return excelize.Cell{StyleID: st.Text, Value: s}
}

// Value is a cell for v: strings (and dates, written YYYY-MM-DD as text) go
// through Cell; numbers stay numbers; nil and zero dates are blank.
func (st Styles) Value(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return st.Cell(x)
	case workday.Date:
		if x.IsZero() {
			return nil
		}
		return st.Cell(x.String())
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return st.Cell(x.Format("2006-01-02 15:04"))
	case *int64:
		if x == nil {
			return nil
		}
		return *x
	case *int:
		if x == nil {
			return nil
		}
		return *x
	case fmt.Stringer:
		return st.Cell(x.String())
	case excelize.Cell:
		if s, ok := x.Value.(string); ok && FormulaLike(s) {
			x.StyleID = st.Quoted
		}
		return x
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return st.Cell(rv.String()) // string types: states, lights, codes
	}
	return v
}

// Workbook is an export built sheet by sheet with excelize's streaming
// writer, so a large list never sits in memory as cells.
type Workbook struct {
	F      *excelize.File
	Styles Styles
	cur    *Sheet
	n      int
}

// NewWorkbook starts an empty workbook.
func NewWorkbook() (*Workbook, error) {
	f := excelize.NewFile()
	st, err := NewStyles(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Workbook{F: f, Styles: st}, nil
}

// Close releases the workbook's temporary files.
func (wb *Workbook) Close() error { return wb.F.Close() }

// Sheet is one worksheet being written, row after row.
type Sheet struct {
	Name string
	wb   *Workbook
	sw   *excelize.StreamWriter
	row  int
}

// Sheet starts the next worksheet (ending the one before) with a bold,
// frozen header row; widths are column widths in characters (0: default).
func (wb *Workbook) Sheet(name string, headers []string, widths []float64) (*Sheet, error) {
	if err := wb.flush(); err != nil {
		return nil, err
	}
	if wb.n == 0 {
		if err := wb.F.SetSheetName("Sheet1", name); err != nil {
			return nil, fmt.Errorf("sheet: %w", err)
		}
	} else if _, err := wb.F.NewSheet(name); err != nil {
		return nil, fmt.Errorf("sheet: %w", err)
	}
	wb.n++
	sw, err := wb.F.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("sheet: %w", err)
	}
	for i, w := range widths {
		if w > 0 {
			if err := sw.SetColWidth(i+1, i+1, w); err != nil {
				return nil, fmt.Errorf("sheet: %w", err)
			}
		}
	}
	s := &Sheet{Name: name, wb: wb, sw: sw}
	wb.cur = s
	if len(headers) > 0 {
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, fmt.Errorf("sheet: %w", err)
		}
		cells := make([]any, len(headers))
		for i, h := range headers {
			cells[i] = excelize.Cell{StyleID: wb.Styles.Header, Value: h}
		}
		if err := s.raw(cells); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Row appends a row; each value goes through Styles.Value.
func (s *Sheet) Row(values ...any) error {
	cells := make([]any, len(values))
	for i, v := range values {
		cells[i] = s.wb.Styles.Value(v)
	}
	return s.raw(cells)
}

// Title appends a row with one bold title cell.
func (s *Sheet) Title(text string) error {
	c := excelize.Cell{StyleID: s.wb.Styles.Title, Value: text}
	if FormulaLike(text) {
		c.StyleID = s.wb.Styles.Quoted
	}
	return s.raw([]any{c})
}

// Blank appends an empty row.
func (s *Sheet) Blank() error { s.row++; return nil }

// Rows is how many rows were written, the header included.
func (s *Sheet) Rows() int { return s.row }

func (s *Sheet) raw(cells []any) error {
	s.row++
	if err := s.sw.SetRow("A"+strconv.Itoa(s.row), cells); err != nil {
		return fmt.Errorf("sheet: write %s row %d: %w", s.Name, s.row, err)
	}
	return nil
}

func (wb *Workbook) flush() error {
	if wb.cur == nil {
		return nil
	}
	err := wb.cur.sw.Flush()
	wb.cur = nil
	if err != nil {
		return fmt.Errorf("sheet: %w", err)
	}
	return nil
}

// WriteTo ends the last sheet and writes the workbook.
func (wb *Workbook) WriteTo(w io.Writer) (int64, error) {
	if err := wb.flush(); err != nil {
		return 0, err
	}
	wb.F.SetActiveSheet(0)
	return wb.F.WriteTo(w)
}

// Send builds a file into memory and sends it as an attachment named name,
// so a failure half-way gives an error page rather than half a file.
func Send(w http.ResponseWriter, name string, build func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := build(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, err := buf.WriteTo(w)
	return err
}

// TemplateColumn is one column of an import template.
type TemplateColumn struct {
	Header string
	Width  float64
	// Text formats the column as text, so codes keep their leading zeros
	// (leave it off for date columns, so Excel date cells work).
	Text bool
	// Choices, when set, become a drop-down list (typing other values is
	// still allowed; the import checks them).
	Choices []string
}

// WriteTemplate writes an empty import template: one sheet with the
// headers (bold, frozen), drop-downs where a column has choices, and a
// sheet "说明" with notes, one per line.
func WriteTemplate(w io.Writer, name string, cols []TemplateColumn, notes []string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	st, err := NewStyles(f)
	if err != nil {
		return err
	}
	lists := ""
	for i, c := range cols {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := f.SetCellValue(name, col+"1", c.Header); err != nil {
			return err
		}
		width := c.Width
		if width == 0 {
			width = 16
		}
		if err := f.SetColWidth(name, col, col, width); err != nil {
			return err
		}
		if c.Text {
			if err := f.SetColStyle(name, col, st.Text); err != nil {
				return err
			}
		}
		if len(c.Choices) == 0 {
			continue
		}
		// The choices live on a hidden sheet: an inline list is limited to
		// 255 characters.
		if lists == "" {
			lists = "选项"
			if _, err := f.NewSheet(lists); err != nil {
				return err
			}
		}
		for j, v := range c.Choices {
			if err := f.SetCellValue(lists, col+strconv.Itoa(j+1), v); err != nil {
				return err
			}
		}
		dv := excelize.NewDataValidation(true)
		dv.Sqref = col + "2:" + col + "5001"
		dv.SetSqrefDropList(fmt.Sprintf("'%s'!$%s$1:$%s$%d", lists, col, col, len(c.Choices)))
		dv.ShowErrorMessage = false
		if err := f.AddDataValidation(name, dv); err != nil {
			return err
		}
	}
	last, _ := excelize.ColumnNumberToName(len(cols))
	if err := f.SetCellStyle(name, "A1", last+"1", st.Header); err != nil {
		return err
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if _, err := f.NewSheet("说明"); err != nil {
		return err
	}
	for i, line := range notes {
		if err := f.SetCellValue("说明", "A"+strconv.Itoa(i+1), line); err != nil {
			return err
		}
	}
	if err := f.SetColWidth("说明", "A", "A", 110); err != nil {
		return err
	}
	if lists != "" {
		if err := f.SetSheetVisible(lists, false); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}
