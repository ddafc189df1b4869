package org

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/sheet"
)

// Upload bounds: the file as the platform bounds it, and the rows.
const (
	MaxUploadBytes = sheet.MaxUploadBytes // request body
	MaxImportRows  = 50000                // data rows, header excluded
)

var importLimits = sheet.Limits{MaxBytes: MaxUploadBytes, MaxRows: MaxImportRows}

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
type RowError = sheet.RowError

func rowErr(row int, column, code, key string, args ...any) RowError {
	return sheet.Problem(row, column, code, tr("zh-CN", key, args...), tr("en", key, args...))
}

// rowErrFrom turns a field validation error into a row error in column.
func rowErrFrom(row int, column string, err error) RowError {
	var l *localError
	if errors.As(err, &l) {
		return sheet.Problem(row, column, l.e.Code, tr("zh-CN", l.key, l.args...), tr("en", l.key, l.args...))
	}
	return sheet.FromError(row, column, err)
}

var unitColumns = []sheet.Column{
	{Key: "code", Header: "编码", Aliases: []string{"code", "单位编码"}, Required: true},
	{Key: "name", Header: "名称", Aliases: []string{"name", "单位名称"}, Required: true},
	{Key: "kind", Header: "类型", Aliases: []string{"kind", "单位类型"}, Required: true},
	{Key: "parent_code", Header: "上级编码", Aliases: []string{"parent_code", "上级单位编码"}},
	{Key: "sort_order", Header: "排序", Aliases: []string{"sort_order", "sort", "排序号"}},
	{Key: "active", Header: "状态", Aliases: []string{"active", "status"}},
}

var personColumns = []sheet.Column{
	{Key: "name", Header: "姓名", Aliases: []string{"name"}, Required: true},
	{Key: "unit_code", Header: "单位编码", Aliases: []string{"unit_code"}, Required: true},
	{Key: "title", Header: "职务", Aliases: []string{"title"}},
	{Key: "phone", Header: "手机", Aliases: []string{"phone", "手机号", "手机号码", "联系电话", "电话"}},
	{Key: "birth_year", Header: "出生年份", Aliases: []string{"birth_year", "出生年"}},
	{Key: "joined_on", Header: "入职日期", Aliases: []string{"joined_on", "参加工作时间", "入职时间"}},
	{Key: "rank", Header: "职级", Aliases: []string{"rank"}},
	{Key: "active", Header: "状态", Aliases: []string{"active", "status"}},
}

// The templates carry the first columns only (the spec's headers); exports
// add 状态 so that a round trip keeps inactive entries inactive.
const (
	unitTemplateCols   = 5
	personTemplateCols = 7
)

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

// writeTemplate builds an empty template with the first n headers, a kind
// drop-down where there is one, and a sheet of instructions.
func writeTemplate(w io.Writer, name string, cols []sheet.Column, n int, notes []string, kindKey string) error {
	tcols := make([]sheet.TemplateColumn, 0, n)
	for _, c := range cols[:n] {
		tc := sheet.TemplateColumn{Header: c.Header, Width: 18,
			// Text format for the data cells, so 0531-… and long numbers stay text.
			Text: c.Key != "sort_order" && c.Key != "birth_year" && c.Key != "joined_on"}
		if c.Key == kindKey {
			for _, k := range Kinds {
				tc.Choices = append(tc.Choices, k.Label())
			}
		}
		tcols = append(tcols, tc)
	}
	return sheet.WriteTemplate(w, name, tcols, notes)
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
	}, "kind")
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
func newExport(name string, cols []sheet.Column) (*sheet.Workbook, *sheet.Sheet, error) {
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return nil, nil, err
	}
	headers := make([]string, len(cols))
	widths := make([]float64, len(cols))
	for i, c := range cols {
		headers[i], widths[i] = c.Header, 18
	}
	sh, err := wb.Sheet(name, headers, widths)
	if err != nil {
		wb.Close()
		return nil, nil, err
	}
	return wb, sh, nil
}

func activeLabel(a bool) string {
	if a {
		return "启用"
	}
	return "停用"
}
