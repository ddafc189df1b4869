package benchmark

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/sheet"
)

// readUpload reads the "file" part of a multipart upload.
func readUpload(w http.ResponseWriter, r *http.Request) ([]byte, map[string]string, error) {
	return sheet.Upload(w, r, "file", sheet.MaxUploadBytes)
}

// Indicator library.

var indicatorSheetCols = []sheet.Column{
	{Key: "code", Header: "指标编码", Aliases: []string{"编码", "code"}, Required: true},
	{Key: "name", Header: "指标名称", Aliases: []string{"名称", "name"}, Required: true},
	{Key: "unit", Header: "计量单位", Aliases: []string{"单位", "unit"}},
	{Key: "direction", Header: "方向", Aliases: []string{"direction", "指标方向"}, Required: true},
	{Key: "category", Header: "类别", Aliases: []string{"category", "指标类别"}, Required: true},
	{Key: "frequency", Header: "频次", Aliases: []string{"frequency", "统计频次"}, Required: true},
	{Key: "source", Header: "数据来源", Aliases: []string{"source", "来源"}},
	{Key: "definition", Header: "定义", Aliases: []string{"definition", "指标定义"}},
	{Key: "formula", Header: "计算公式", Aliases: []string{"formula", "公式"}},
	{Key: "owner", Header: "责任单位", Aliases: []string{"owner", "owner_unit", "责任单位编码"}},
	{Key: "weight", Header: "权重", Aliases: []string{"weight"}},
}

func parseDirection(s string) (Direction, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "higher_better", "越高越好", "正向", "高优", "↑":
		return HigherBetter, true
	case "lower_better", "越低越好", "逆向", "负向", "低优", "↓":
		return LowerBetter, true
	}
	return "", false
}

func parseFrequency(s string) (Frequency, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "month", "月", "月度", "每月":
		return Monthly, true
	case "quarter", "季", "季度", "每季度":
		return Quarterly, true
	case "half", "half_year", "半年", "半年度":
		return HalfYear, true
	case "year", "年", "年度", "每年":
		return Yearly, true
	}
	return "", false
}

// ImportIndicators reads an indicator library: a row per indicator, added
// or (by code) updated. All rows are checked first; any problem and
// nothing is imported.
func (s *Service) ImportIndicators(ctx context.Context, a Actor, b []byte) (int, error) {
	d, rerrs, err := sheet.Read(bytes.NewReader(b), indicatorSheetCols, sheet.Limits{MaxRows: 2000})
	if err != nil {
		return 0, err
	}
	units, err := unitsByCodeOrName(ctx, s.DB)
	if err != nil {
		return 0, err
	}
	var ins []NewIndicator
	seen := map[string]int{}
	for _, row := range d.Rows {
		c := row.Cells
		col := func(k string) string { return d.Col(k, indicatorSheetCols) }
		in := NewIndicator{Code: sheet.NumText(c["code"]), Name: c["name"], Unit: c["unit"], Category: c["category"], Source: c["source"],
			Definition: c["definition"], Formula: c["formula"]}
		if in.Source == "手工" || in.Source == "手工录入" {
			in.Source = SourceManual
		}
		ok := true
		if dir, good := parseDirection(c["direction"]); good {
			in.Direction = dir
		} else {
			rerrs = append(rerrs, sheet.Problem(row.Num, col("direction"), "invalid_direction", "方向须为“越高越好”或“越低越好”", "direction must be higher_better or lower_better"))
			ok = false
		}
		if f, good := parseFrequency(c["frequency"]); good {
			in.Frequency = f
		} else {
			rerrs = append(rerrs, sheet.Problem(row.Num, col("frequency"), "invalid_frequency", "频次须为 月、季度、半年 或 年", "frequency must be month, quarter, half or year"))
			ok = false
		}
		if v := c["owner"]; v != "" {
			if id, found := units[v]; found {
				in.OwnerUnitID = &id
			} else {
				rerrs = append(rerrs, sheet.Problem(row.Num, col("owner"), "unknown_unit", fmt.Sprintf("责任单位 %q 不存在（填单位编码或名称）", v), fmt.Sprintf("owner unit %q not found (give its code or name)", v)))
				ok = false
			}
		}
		if v := c["weight"]; v != "" {
			if x, good := ParseValue(v); good {
				in.Weight = &x
			} else {
				rerrs = append(rerrs, sheet.Problem(row.Num, col("weight"), "invalid_weight", "权重须为数字", "weight must be a number"))
				ok = false
			}
		}
		if prev, dup := seen[in.Code]; dup && in.Code != "" {
			rerrs = append(rerrs, sheet.Problem(row.Num, col("code"), "duplicate_code", fmt.Sprintf("指标编码与第 %d 行重复", prev), fmt.Sprintf("the code repeats row %d", prev)))
			ok = false
		}
		seen[in.Code] = row.Num
		// Check the rest even when direction or frequency were bad, so
		// every problem of the row is reported at once.
		chk := in
		if !chk.Direction.Valid() {
			chk.Direction = HigherBetter
		}
		if !chk.Frequency.Valid() {
			chk.Frequency = Quarterly
		}
		if err := s.checkIndicator(ctx, s.DB, &chk); err != nil {
			if _, isApp := asApp(err); !isApp {
				return 0, err
			}
			field := map[string]string{"code": "code", "name": "name", "unit": "unit", "category": "category", "source": "source", "weight": "weight",
				"owner_unit_id": "owner", "definition": "definition"}[fieldOf(err)]
			rerrs = append(rerrs, sheet.FromError(row.Num, col(field), err))
			continue
		}
		if ok {
			ins = append(ins, chk)
		}
	}
	if len(rerrs) > 0 {
		return 0, sheet.Invalid(d.Sort(rerrs))
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		for _, in := range ins {
			if _, err := s.saveIndicator(ctx, tx, a, in, true); err != nil {
				return err
			}
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("indicator.import", "indicators", fmt.Sprintf("%d rows", len(ins))))
	})
	if err != nil {
		return 0, err
	}
	return len(ins), nil
}

func unitsByCodeOrName(ctx context.Context, q db.Querier) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name FROM units WHERE active = TRUE`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: units: %w", err)
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

// Observations in the wide layout.

// ImportOptions are the upload form's fields: the period when the columns
// are subjects, the subject when the columns are periods (a "期间" or
// "对象" column in the sheet wins).
type ImportOptions struct {
	Period  string
	Subject string
	// Indicator is unused (kept for forms that send it).
	Indicator string
}

var usHeaders = map[string]bool{"我办": true, "本办": true, "我市": true, "us": true, "本单位": true}

// ImportObservations reads observations in the wide layout people keep:
// rows are indicators (by code in a "指标编码" column), the other columns
// are subjects (我办, a peer's name, a unit's code or name) or periods
// (2026-Q1, 2026年3月 …). Blank cells are skipped; "95%" is 95 for a %
// indicator; a value for a cell that has one replaces it and keeps the
// old one in history. Any problem and nothing is imported.
func (s *Service) ImportObservations(ctx context.Context, a Actor, b []byte, opt ImportOptions) (int, error) {
	raw, err := sheet.ReadAll(bytes.NewReader(b), sheet.MaxUploadBytes)
	if err != nil {
		return 0, err
	}
	f, err := sheet.Open(raw)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	grid, err := f.GetRows(f.GetSheetList()[0], excelize.Options{RawCellValue: true})
	if err != nil {
		return 0, fmt.Errorf("benchmark: read sheet: %w", err)
	}
	if len(grid) > 5001 {
		return 0, sheet.Invalid([]sheet.RowError{sheet.Problem(5002, "", "too_many_rows", "数据超过 5000 行", "more than 5,000 rows")})
	}
	inds, err := listIndicators(ctx, s.DB, "")
	if err != nil {
		return 0, err
	}
	byCode := map[string]*Indicator{}
	for _, in := range inds {
		byCode[in.Code] = in
	}
	peers, err := listPeers(ctx, s.DB)
	if err != nil {
		return 0, err
	}
	units, err := unitsByCodeOrName(ctx, s.DB)
	if err != nil {
		return 0, err
	}
	subjectOf := func(h string) (Subject, bool) {
		if usHeaders[strings.ToLower(h)] {
			return Us, true
		}
		if sub, ok := ParseSubject(h); ok {
			return sub, true
		}
		for _, p := range peers {
			if p.Name == h {
				return Subject{Kind: SubjectPeer, ID: p.ID}, true
			}
		}
		if id, ok := units[h]; ok {
			return Subject{Kind: SubjectUnit, ID: id}, true
		}
		return Subject{}, false
	}
	periodLike := func(h string) bool {
		for _, fr := range Frequencies {
			if _, ok := ParsePeriod(fr, h); ok {
				return true
			}
		}
		return false
	}
	// The header: the first non-blank row.
	hi := -1
	for i, row := range grid {
		for _, c := range row {
			if sheet.Clean(c) != "" {
				hi = i
				break
			}
		}
		if hi >= 0 {
			break
		}
	}
	if hi < 0 || hi == len(grid)-1 {
		return 0, sheet.Invalid([]sheet.RowError{sheet.Problem(1, "", "import_empty", "工作表没有数据", "the sheet has no data")})
	}
	header := grid[hi]
	var rerrs []sheet.RowError
	codeCol, periodCol, subjectCol := -1, -1, -1
	type dataCol struct {
		i       int
		head    string
		subject *Subject
	}
	var cols []dataCol
	for i, h := range header {
		h = sheet.Clean(h)
		switch strings.ToLower(h) {
		case "":
			continue
		case "指标编码", "编码", "code":
			codeCol = i
			continue
		case "指标名称", "名称", "name", "计量单位", "单位", "unit", "类别":
			continue
		case "期间", "period", "统计期":
			periodCol = i
			continue
		case "对象", "subject", "对标对象":
			subjectCol = i
			continue
		}
		if sub, ok := subjectOf(h); ok {
			cols = append(cols, dataCol{i: i, head: h, subject: &sub})
		} else if periodLike(h) {
			cols = append(cols, dataCol{i: i, head: h})
		} else {
			rerrs = append(rerrs, sheet.Problem(hi+1, h, "unknown_subject", fmt.Sprintf("表头 %q 既不是对象（我办、标杆名称、单位编码或名称）也不是期间", h),
				fmt.Sprintf("header %q is neither a subject (我办, a peer's name, a unit's code or name) nor a period", h)))
		}
	}
	if codeCol < 0 {
		rerrs = append(rerrs, sheet.Problem(hi+1, "指标编码", "missing_column", "缺少此列", "this column is missing"))
	}
	if len(rerrs) > 0 {
		return 0, sheet.Invalid(rerrs)
	}
	cell := func(row []string, i int) string {
		if i < 0 || i >= len(row) {
			return ""
		}
		return sheet.Clean(row[i])
	}
	var obs []NewObservation
	for ri := hi + 1; ri < len(grid); ri++ {
		row, num := grid[ri], ri+1
		code := sheet.NumText(cell(row, codeCol))
		blank := code == ""
		for _, c := range cols {
			if cell(row, c.i) != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		ind := byCode[code]
		if ind == nil {
			rerrs = append(rerrs, sheet.Problem(num, header[codeCol], "unknown_indicator", fmt.Sprintf("指标编码 %q 不存在", code), fmt.Sprintf("indicator code %q not found", code)))
			continue
		}
		rowPeriod, rowSubject := opt.Period, opt.Subject
		if v := cell(row, periodCol); v != "" {
			rowPeriod = v
		}
		if v := cell(row, subjectCol); v != "" {
			rowSubject = v
		}
		for _, c := range cols {
			v := cell(row, c.i)
			if v == "" {
				continue
			}
			in := ObservationInput{IndicatorID: ind.ID, Value: v}
			if c.subject != nil {
				in.Subject, in.Period = c.subject.String(), rowPeriod
				if rowPeriod == "" {
					rerrs = append(rerrs, sheet.Problem(num, c.head, "missing_period", "未指定期间：请在“期间”列或上传表单中填写", "no period: fill the 期间 column or the upload form's period"))
					continue
				}
			} else {
				in.Period = c.head
				sub, ok := subjectOf(rowSubject)
				if rowSubject == "" || !ok {
					rerrs = append(rerrs, sheet.Problem(num, c.head, "invalid_subject", fmt.Sprintf("对象 %q 无效：请在“对象”列或上传表单中填写我办、标杆名称或单位", rowSubject),
						fmt.Sprintf("subject %q is invalid: fill the 对象 column or the form with 我办, a peer's name or a unit", rowSubject)))
					continue
				}
				in.Subject = sub.String()
			}
			o, err := checkObservation(ctx, s.DB, ind, in)
			if err != nil {
				if _, isApp := asApp(err); !isApp {
					return 0, err
				}
				rerrs = append(rerrs, sheet.FromError(num, c.head, err))
				continue
			}
			obs = append(obs, o)
		}
	}
	if len(rerrs) > 0 {
		return 0, sheet.Invalid(rerrs)
	}
	if len(obs) == 0 {
		return 0, sheet.Invalid([]sheet.RowError{sheet.Problem(hi+2, "", "import_empty", "没有可导入的数值", "no values to import")})
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error { return s.saveObservations(ctx, tx, a, obs, "observation.import") })
	if err != nil {
		return 0, err
	}
	return len(obs), nil
}

// WriteObservationTemplate writes the wide template for a period: a row per
// active indicator, a column for us and for each active peer.
func (s *Service) WriteObservationTemplate(ctx context.Context, w io.Writer) error {
	inds, err := listIndicators(ctx, s.DB, "")
	if err != nil {
		return err
	}
	peers, err := listPeers(ctx, s.DB)
	if err != nil {
		return err
	}
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	headers := []string{"指标编码", "指标名称", "计量单位", "期间", "我办"}
	widths := []float64{12, 28, 10, 12, 12}
	for _, p := range peers {
		if p.Active {
			headers = append(headers, p.Name)
			widths = append(widths, 16)
		}
	}
	sh, err := wb.Sheet("观测值", headers, widths)
	if err != nil {
		return err
	}
	for _, in := range inds {
		if !in.Active {
			continue
		}
		if err := sh.Row(in.Code, in.Name, in.Unit, PeriodOf(in.Frequency, s.Today())); err != nil {
			return err
		}
	}
	_, err = wb.WriteTo(w)
	return err
}

// WriteIndicatorTemplate writes the indicator library template.
func WriteIndicatorTemplate(w io.Writer) error {
	cols := make([]sheet.TemplateColumn, len(indicatorSheetCols))
	for i, c := range indicatorSheetCols {
		cols[i] = sheet.TemplateColumn{Header: c.Header, Text: c.Key == "code"}
		switch c.Key {
		case "direction":
			cols[i].Choices = []string{"越高越好", "越低越好"}
		case "frequency":
			cols[i].Choices = []string{"月", "季度", "半年", "年"}
		case "name", "definition", "formula":
			cols[i].Width = 30
		}
	}
	return sheet.WriteTemplate(w, "指标库", cols, []string{
		"每行一个指标；指标编码已存在的行更新该指标。",
		"方向：越高越好 / 越低越好；频次：月、季度、半年、年；类别须为已有类别（如 形象建设、效率提升、程序规范、作风严实）。",
		"数据来源：手工（manual）或度量编码（如 supervise.on_time_rate），度量来源的指标本办和单位数值自动计算。",
		"责任单位：单位编码或名称。发现任何错误则整表不导入。",
	})
}

// WriteReport writes the 对标分析报告 of one indicator as xlsx.
func (s *Service) WriteReport(ctx context.Context, w io.Writer, rep *Report) error {
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	ind := rep.Gap.Ind
	sh, err := wb.Sheet("对标分析", nil, []float64{24, 16, 10, 12, 12, 12})
	if err != nil {
		return err
	}
	rows := [][]any{
		{"对标分析报告：" + ind.Code + " " + ind.Name},
		{"类别", ind.Category, "方向", dirZH(ind.Direction), "计量单位", ind.Unit},
		{"阶段", stageNames[ind.Stage].ZH, "期间", rep.Gap.Period, "对标指数", floatOr(rep.Gap.Score)},
		{},
		{"对象", "数值", "排名", "差距", "差距%"},
	}
	for _, r := range rep.Gap.Subjects {
		rows = append(rows, []any{r.Name, r.Value, r.Rank, r.Gap, r.GapPct})
	}
	rows = append(rows, []any{}, []any{"趋势（期间）", "我办", "最优标杆", "差距"})
	for i, p := range rep.Gap.Trend.Periods {
		rows = append(rows, []any{p, floatOr(rep.Gap.Trend.Us[i]), floatOr(rep.Gap.Trend.Best[i]), floatOr(rep.Gap.Trend.Gap[i])})
	}
	closing := "否"
	if rep.Gap.Trend.Closing {
		closing = "是"
	}
	rows = append(rows, []any{"追赶速度快于标杆", closing, "我办每期改进", rep.Gap.Trend.OurRate, "标杆每期变化", rep.Gap.Trend.BestRate})
	for _, t := range rep.Targets {
		rows = append(rows, []any{}, []any{"目标值", t.TargetValue, "基线", t.Baseline, "时限", t.Due.String()}, []any{"进度%", floatOr(t.Progress)},
			[]any{"步骤", "时限", "责任单位", "责任人", "任务编号"})
		for _, st := range t.Path {
			task := ""
			if st.TaskID != nil {
				task = strconv.FormatInt(*st.TaskID, 10)
			}
			rows = append(rows, []any{st.Title, st.Due.String(), st.UnitName, st.OwnerName, task})
		}
	}
	for i, r := range rows {
		if i == 0 {
			if err := sh.Title(fmt.Sprint(r[0])); err != nil {
				return err
			}
			continue
		}
		if err := sh.Row(r...); err != nil {
			return err
		}
	}
	_, err = wb.WriteTo(w)
	return err
}

// WriteSummary writes the leaders' summary as xlsx.
func (s *Service) WriteSummary(ctx context.Context, w io.Writer, ov *Overview) error {
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	sh, err := wb.Sheet("对标总览", []string{"类别", "指标编码", "指标名称", "阶段", "期间", "我办", "排名", "差距%", "对标指数", "最优", "内部标杆"}, []float64{12, 12, 28, 8, 10, 10, 8, 10, 10, 24, 20})
	if err != nil {
		return err
	}
	for _, c := range ov.Categories {
		for _, it := range c.Items {
			rank := ""
			if it.Of > 0 {
				rank = fmt.Sprintf("%d/%d", it.Rank, it.Of)
			}
			if err := sh.Row(c.Category, it.Code, it.Name, stageNames[it.Stage].ZH, it.Period, floatOr(it.LatestValue), rank, floatOr(it.GapPct), floatOr(it.Score), it.Best, it.BestUnitName); err != nil {
				return err
			}
		}
	}
	_, err = wb.WriteTo(w)
	return err
}

func floatOr(p *float64) any {
	if p == nil {
		return ""
	}
	return *p
}

func dirZH(d Direction) string {
	if d == LowerBetter {
		return "越低越好"
	}
	return "越高越好"
}
