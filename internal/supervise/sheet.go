package supervise

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// Excel (item 11): the campaign plan (任务分解表) import with its template,
// and the battle map, overdue list and task timeline exports.

// The import page lives in templates/sheets/, out of the pages' glob
// (templates/*.html), and is registered here.
//
//go:embed templates/sheets/task_import.html openapi_sheets.json
var sheetFiles embed.FS

// Plan import bounds.
const (
	MaxPlanBytes = sheet.MaxUploadBytes // 10 MB
	MaxPlanRows  = 5000
)

var planColumns = []sheet.Column{
	{Key: "seq", Header: "序号", Aliases: []string{"编号", "no", "no.", "seq"}},
	{Key: "area", Header: "领域", Aliases: []string{"area", "所属领域", "工作领域", "板块"}, Required: true},
	{Key: "title", Header: "任务", Aliases: []string{"title", "task", "任务名称", "工作任务", "重点任务", "任务内容"}, Required: true},
	{Key: "acceptance", Header: "技术指标", Aliases: []string{"acceptance", "验收标准", "完成标准", "目标要求", "工作目标"}},
	{Key: "lead", Header: "责任单位", Aliases: []string{"lead_unit", "牵头单位", "责任部门", "牵头部门"}, Required: true},
	{Key: "co", Header: "配合单位", Aliases: []string{"co_units", "协同单位", "配合部门", "参与单位"}},
	{Key: "owner", Header: "责任人", Aliases: []string{"owner", "负责人"}, Required: true},
	{Key: "start", Header: "开始时间", Aliases: []string{"start", "开始日期", "起始时间"}},
	{Key: "due", Header: "完成时限", Aliases: []string{"due", "完成时间", "完成期限", "截止时间", "截止日期"}, Required: true},
	{Key: "milestones", Header: "时间节点", Aliases: []string{"milestones", "节点安排", "时间表", "进度安排", "阶段节点"}},
}

// planFieldColumn maps a NewTask field (as validation names it) to the plan
// column it comes from.
func planFieldColumn(field string) string {
	switch {
	case field == "title":
		return "title"
	case field == "area":
		return "area"
	case field == "acceptance":
		return "acceptance"
	case field == "lead_unit_id":
		return "lead"
	case field == "co_unit_ids":
		return "co"
	case field == "owner_id":
		return "owner"
	case field == "start":
		return "start"
	case field == "due", field == "due_workdays":
		return "due"
	case strings.HasPrefix(field, "milestones"):
		return "milestones"
	case field == "parent_id":
		return "seq"
	}
	return "title"
}

// PlanResult is what a plan import did.
type PlanResult struct {
	Created int     `json:"created"`
	TaskIDs []int64 `json:"task_ids"`
	// State is the state of the new tasks: always draft. A plan is checked
	// on the battle map before it is assigned (交办), task by task or all
	// at once.
	State  State            `json:"state"`
	Errors []sheet.RowError `json:"errors,omitempty"`
}

// planRefs is what plan rows are resolved against.
type planRefs struct {
	areas  []Area
	units  []planUnit
	people map[int64][]planPerson // by unit
}

type planUnit struct {
	ID         int64
	Code, Name string
}

type planPerson struct {
	ID   int64
	Name string
}

func loadPlanRefs(ctx context.Context, q db.Querier) (*planRefs, error) {
	r := &planRefs{people: map[int64][]planPerson{}}
	rows, err := q.QueryContext(ctx, `SELECT code, name, name_en, sort_order, active FROM task_areas WHERE active = TRUE ORDER BY sort_order, code`)
	if err != nil {
		return nil, fmt.Errorf("supervise: plan areas: %w", err)
	}
	for rows.Next() {
		var a Area
		if err := rows.Scan(&a.Code, &a.Name, &a.NameEN, &a.SortOrder, &a.Active); err != nil {
			rows.Close()
			return nil, err
		}
		r.areas = append(r.areas, a)
	}
	rows.Close()
	if rows, err = q.QueryContext(ctx, `SELECT id, code, name FROM units WHERE active = TRUE ORDER BY sort_order, code`); err != nil {
		return nil, fmt.Errorf("supervise: plan units: %w", err)
	}
	for rows.Next() {
		var u planUnit
		if err := rows.Scan(&u.ID, &u.Code, &u.Name); err != nil {
			rows.Close()
			return nil, err
		}
		r.units = append(r.units, u)
	}
	rows.Close()
	if rows, err = q.QueryContext(ctx, `SELECT id, unit_id, name FROM people WHERE active = TRUE ORDER BY id`); err != nil {
		return nil, fmt.Errorf("supervise: plan people: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p planPerson
		var unit int64
		if err := rows.Scan(&p.ID, &unit, &p.Name); err != nil {
			return nil, err
		}
		r.people[unit] = append(r.people[unit], p)
	}
	return r, rows.Err()
}

func (r *planRefs) area(s string) (string, bool) {
	for _, a := range r.areas {
		if strings.EqualFold(s, a.Code) || s == a.Name || (a.NameEN != "" && strings.EqualFold(s, a.NameEN)) {
			return a.Code, true
		}
	}
	return "", false
}

func (r *planRefs) areaNames() string {
	names := make([]string, len(r.areas))
	for i, a := range r.areas {
		names[i] = a.Name
	}
	return strings.Join(names, "、")
}

// unit finds a unit by code (any letter case) or by its exact name; a name
// two units share is ambiguous (n > 1).
func (r *planRefs) unit(s string) (planUnit, int) {
	for _, u := range r.units {
		if strings.EqualFold(s, u.Code) {
			return u, 1
		}
	}
	var found planUnit
	n := 0
	for _, u := range r.units {
		if u.Name == s {
			found = u
			n++
		}
	}
	return found, n
}

// planCoSep splits the co-units cell: 、，, ; ； and line breaks.
var planCoSep = regexp.MustCompile(`[、，,;；\n\r]+`)

// planRow is a parsed plan row.
type planRow struct {
	num       int
	seq       string // dotted number ("1.2"), "" when not one
	parentSeq string
	in        NewTask
}

// planSeqRE is a decomposition number: 1, 1.2, 1.2.3 (a trailing dot or 、
// allowed).
var planSeqRE = regexp.MustCompile(`^\d{1,4}(\.\d{1,4}){0,5}$`)

func planSeq(s string) string {
	s = strings.TrimRight(sheet.Fold(sheet.NumText(s)), ".、 ")
	if !planSeqRE.MatchString(s) {
		return ""
	}
	parts := strings.Split(s, ".")
	for i, p := range parts {
		n, _ := strconv.Atoi(p)
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}

// ImportPlan reads a campaign plan (任务分解表: 序号, 领域, 任务, 技术指标, 责任单位,
// 配合单位, 责任人, 开始时间, 完成时限, 时间节点) and registers one task per row
// as a draft with source plan. A 序号 like 1.2 makes the row a subtask of
// the row numbered 1. Every problem is reported by row and column and
// nothing is saved unless every row is good: the import is one
// transaction. Only a supervisor may import.
func (s *Service) ImportPlan(ctx context.Context, a Actor, r io.Reader) (PlanResult, error) {
	res := PlanResult{State: StateDraft, TaskIDs: []int64{}}
	if !a.supervises() {
		return res, errSupervisorOnly
	}
	sh, headerErrs, err := sheet.Read(r, planColumns, sheet.Limits{MaxBytes: MaxPlanBytes, MaxRows: MaxPlanRows})
	if err != nil {
		return res, err
	}
	if len(headerErrs) > 0 {
		res.Errors = headerErrs
		return res, sheet.Invalid(headerErrs)
	}
	today := s.Today()
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		refs, err := loadPlanRefs(ctx, tx)
		if err != nil {
			return err
		}
		rows, errs := s.parsePlan(sh, refs, today)
		if len(errs) > 0 {
			res.Errors = sh.Sort(errs)
			return sheet.Invalid(res.Errors)
		}
		// Parents first: rows by depth, in file order within a depth.
		order := make([]int, len(rows))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(i, j int) int {
			return strings.Count(rows[i].seq, ".") - strings.Count(rows[j].seq, ".")
		})
		idBySeq := map[string]int64{}
		ids := make([]int64, len(rows))
		for n, i := range order {
			if n%500 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			row := rows[i]
			if row.parentSeq != "" {
				row.in.ParentID = idBySeq[row.parentSeq]
			}
			id, err := s.create(ctx, tx, a, row.in)
			if err != nil {
				if ae, ok := apperr.As(err); ok && ae.Status < 500 {
					res.Errors = []sheet.RowError{sheet.FromError(row.num, sh.Col(planFieldColumn(ae.Field), planColumns), err)}
					return sheet.Invalid(res.Errors)
				}
				return fmt.Errorf("supervise: import plan row %d: %w", row.num, err)
			}
			ids[i] = id
			if row.seq != "" {
				idBySeq[row.seq] = id
			}
		}
		res.TaskIDs, res.Created = ids, len(ids)
		e := a.entry("task.import", 0, fmt.Sprintf("plan: %d rows, %d draft tasks (ids %d–%d)", len(rows), len(ids), slices.Min(ids), slices.Max(ids)))
		e.Object = "tasks"
		return s.Audit.WriteTx(ctx, tx, e)
	})
	if err != nil {
		errs := res.Errors
		return PlanResult{State: StateDraft, TaskIDs: []int64{}, Errors: errs}, err
	}
	return res, nil
}

// parsePlan reads every row and reports every problem it finds.
func (s *Service) parsePlan(sh *sheet.Data, refs *planRefs, today workday.Date) ([]planRow, []sheet.RowError) {
	var rows []planRow
	var errs []sheet.RowError
	col := func(key string) string { return sh.Col(key, planColumns) }
	bad := func(row int, key, code, zh, en string) {
		errs = append(errs, sheet.Problem(row, col(key), code, zh, en))
	}
	seqRow := map[string]int{}
	for _, sr := range sh.Rows {
		c := sr.Cells
		n := sr.Num
		pr := planRow{num: n}
		in := &pr.in
		in.Source = SourcePlan
		in.Title, in.Acceptance = c["title"], c["acceptance"]
		rowOK := true
		note := func(key, code, zh, en string) { bad(n, key, code, zh, en); rowOK = false }
		if in.Title == "" {
			note("title", "invalid_title", "任务不能为空", "the task is required")
		}

		if raw := c["seq"]; raw != "" {
			pr.seq = planSeq(raw)
			if pr.seq != "" {
				if prev, dup := seqRow[pr.seq]; dup {
					note("seq", "duplicate_seq", fmt.Sprintf("序号 %s 与第 %d 行重复", pr.seq, prev), fmt.Sprintf("number %s repeats row %d", pr.seq, prev))
					pr.seq = ""
				} else {
					seqRow[pr.seq] = n
				}
			}
		}
		if v := c["area"]; v == "" {
			note("area", "invalid_area", "领域不能为空", "area is required")
		} else if code, ok := refs.area(v); ok {
			in.Area = code
		} else {
			note("area", "unknown_area", fmt.Sprintf("领域“%s”不存在，可选：%s", v, refs.areaNames()), fmt.Sprintf("unknown area %q; choose one of %s", v, refs.areaNames()))
		}
		var lead planUnit
		if v := sheet.NumText(c["lead"]); v == "" {
			note("lead", "invalid_lead_unit_id", "责任单位不能为空", "the lead unit is required")
		} else if u, k := refs.unit(v); k == 1 {
			lead, in.LeadUnitID = u, u.ID
		} else if k > 1 {
			note("lead", "ambiguous_unit", fmt.Sprintf("有 %d 个单位名为“%s”，请填写单位编码", k, v), fmt.Sprintf("%d units are named %q; give the unit code", k, v))
		} else {
			note("lead", "unknown_unit", fmt.Sprintf("责任单位“%s”不存在或已停用（填写单位名称或编码）", v), fmt.Sprintf("lead unit %q is unknown or inactive (give its name or code)", v))
		}
		for _, part := range planCoSep.Split(c["co"], -1) {
			part = sheet.NumText(strings.TrimSpace(part))
			if part == "" {
				continue
			}
			u, k := refs.unit(part)
			switch {
			case k > 1:
				note("co", "ambiguous_unit", fmt.Sprintf("有 %d 个单位名为“%s”，请填写单位编码", k, part), fmt.Sprintf("%d units are named %q; give the unit code", k, part))
			case k == 0:
				note("co", "unknown_unit", fmt.Sprintf("配合单位“%s”不存在或已停用", part), fmt.Sprintf("co-unit %q is unknown or inactive", part))
			default:
				in.CoUnitIDs = append(in.CoUnitIDs, u.ID)
			}
		}
		if v := c["owner"]; v == "" {
			note("owner", "invalid_owner_id", "责任人不能为空", "the owner is required")
		} else if strings.ContainsAny(v, "、，,;；/ ") {
			note("owner", "invalid_owner_id", fmt.Sprintf("责任人只能填写一人，收到“%s”", v), fmt.Sprintf("give one owner, got %q", v))
		} else if lead.ID != 0 {
			var found []planPerson
			for _, p := range refs.people[lead.ID] {
				if p.Name == v {
					found = append(found, p)
				}
			}
			switch len(found) {
			case 1:
				in.OwnerID = found[0].ID
			case 0:
				note("owner", "unknown_owner", fmt.Sprintf("责任单位“%s”中没有名为“%s”的在职人员", lead.Name, v), fmt.Sprintf("%s has no active person named %q", lead.Name, v))
			default:
				note("owner", "ambiguous_owner", fmt.Sprintf("责任单位“%s”中有 %d 位名为“%s”的人员，请先在人员管理中区分", lead.Name, len(found), v),
					fmt.Sprintf("%s has %d people named %q; tell them apart in People first", lead.Name, len(found), v))
			}
		}
		var err error
		if in.Start, err = sheet.ParseDate(c["start"], sh.Date1904, false); err != nil {
			errs = append(errs, sheet.FromError(n, col("start"), err))
			rowOK = false
		} else if in.Start.IsZero() {
			in.Start = today
		}
		if c["due"] == "" {
			note("due", "invalid_due", "完成时限不能为空", "the due date is required")
		} else if in.Due, err = sheet.ParseDate(c["due"], sh.Date1904, true); err != nil {
			errs = append(errs, sheet.FromError(n, col("due"), err))
			rowOK = false
		}
		ms, merrs := parseMilestones(c["milestones"], in.Start, in.Due)
		for _, me := range merrs {
			note("milestones", me.code, me.zh, me.en)
		}
		in.Milestones = ms
		if rowOK {
			// What the service checks without the database.
			if err := checkNewTask(in); err != nil {
				ae, _ := apperr.As(err)
				field := ""
				if ae != nil {
					field = ae.Field
				}
				errs = append(errs, sheet.FromError(n, col(planFieldColumn(field)), err))
			}
		}
		rows = append(rows, pr)
	}
	// Decomposition: 1.2 goes under 1 when the file has a row 1; a subtask
	// is due no later than its parent.
	byseq := map[string]*planRow{}
	for i := range rows {
		if rows[i].seq != "" {
			byseq[rows[i].seq] = &rows[i]
		}
	}
	for i := range rows {
		r := &rows[i]
		if k := strings.LastIndexByte(r.seq, '.'); k > 0 {
			p := byseq[r.seq[:k]]
			if p == nil {
				continue
			}
			r.parentSeq = p.seq
			if !p.in.Due.IsZero() && r.in.Due.After(p.in.Due) {
				bad(r.num, "due", "invalid_due", fmt.Sprintf("完成时限 %s 晚于上级任务（序号 %s，第 %d 行）的 %s", r.in.Due, p.seq, p.num, p.in.Due),
					fmt.Sprintf("due %s is after %s, the due date of its parent (number %s, row %d)", r.in.Due, p.in.Due, p.seq, p.num))
			}
		}
	}
	return rows, errs
}

type planMilestoneErr struct{ code, zh, en string }

var (
	// Milestones are separated by ； ; 。 or line breaks; a piece with two
	// dates is split again at ， , or 、.
	planMsSep    = regexp.MustCompile(`[；;。\n\r]+`)
	planMsSubSep = regexp.MustCompile(`[，,、]+`)
	// planEnumerator is a leading "1." "1、" "(1)" "（一）" "①".
	planEnumerator = regexp.MustCompile(`^\s*(?:[(（]?\d{1,2}[)）.、]|[(（][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|[①-⑳])\s*`)
	planByWords    = regexp.MustCompile(`^\s*(?:之前|以前|前|止|底前|底)?\s*[:：，,、\-—~～]*\s*`)
	planEmptyParen = regexp.MustCompile(`[(（【\[]\s*(?:之前|以前|前|止)?\s*[)）】\]]`)
	planLeadWords  = regexp.MustCompile(`^\s*(?:于|在|截至|到)\s*`)
	planTrailPunct = regexp.MustCompile(`[\s:：，,、\-—~～(（【\[]+$`)
)

// parseMilestones reads a 时间节点 cell: "2026-03-31 完成方案；2026-06-30 中期评估",
// or "完成方案（3月31日前）", one per line, and so on. A date without its
// year takes the year that puts it within the task's start and due dates.
func parseMilestones(cell string, start, due workday.Date) ([]NewMilestone, []planMilestoneErr) {
	var out []NewMilestone
	var errs []planMilestoneErr
	for _, seg := range planMsSep.Split(cell, -1) {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		pieces := []string{seg}
		if planCountDates(seg) > 1 {
			sub := planMsSubSep.Split(seg, -1)
			ok := true
			for _, p := range sub {
				if planCountDates(p) != 1 {
					ok = false
				}
			}
			if !ok {
				errs = append(errs, planMilestoneErr{"invalid_milestones", fmt.Sprintf("时间节点“%s”含多个日期，请用；分隔各节点", seg),
					fmt.Sprintf("milestone %q holds several dates; separate milestones with ；", seg)})
				continue
			}
			pieces = sub
		}
		for _, p := range pieces {
			m, ok := sheet.FindDate(p)
			if !ok {
				errs = append(errs, planMilestoneErr{"invalid_milestones", fmt.Sprintf("时间节点“%s”缺少日期（写作“2026-03-31 完成方案”）", p),
					fmt.Sprintf("milestone %q has no date (write \"2026-03-31 完成方案\")", p)})
				continue
			}
			year := m.Year
			if year == 0 {
				year = start.Year()
				if d, ok := m.Resolve(year, true); ok && !due.IsZero() && d.Before(start) && due.Year() > year {
					year = due.Year()
				}
				if start.IsZero() {
					year = due.Year()
				}
			}
			d, ok := m.Resolve(year, true)
			if !ok {
				errs = append(errs, planMilestoneErr{"invalid_milestones", fmt.Sprintf("时间节点“%s”的日期不存在", strings.TrimSpace(p)),
					fmt.Sprintf("milestone %q names a date that does not exist", strings.TrimSpace(p))})
				continue
			}
			before := strings.TrimSpace(planLeadWords.ReplaceAllString(planEnumerator.ReplaceAllString(m.Text[:m.Start], ""), ""))
			after := strings.TrimSpace(planByWords.ReplaceAllString(m.Text[m.End:], ""))
			// "完成方案（3月31日前）": the date and its brackets go together.
			for _, pair := range []string{"（）", "()", "【】", "[]"} {
				open, close := string([]rune(pair)[0]), string([]rune(pair)[1])
				if strings.HasSuffix(before, open) && strings.HasPrefix(after, close) {
					before, after = strings.TrimSuffix(before, open), strings.TrimPrefix(after, close)
				}
			}
			before = planTrailPunct.ReplaceAllString(before, "")
			name := strings.TrimSpace(planEmptyParen.ReplaceAllString(strings.TrimSpace(before+" "+after), ""))
			name = strings.TrimSpace(strings.Trim(name, ":：，,、-—~～ "))
			if name == "" {
				errs = append(errs, planMilestoneErr{"invalid_milestones", fmt.Sprintf("时间节点“%s”缺少名称", strings.TrimSpace(p)),
					fmt.Sprintf("milestone %q has no name", strings.TrimSpace(p))})
				continue
			}
			out = append(out, NewMilestone{Name: name, Due: d})
		}
	}
	slices.SortStableFunc(out, func(a, b NewMilestone) int { return a.Due.Compare(b.Due) })
	return out, errs
}

func planCountDates(s string) int {
	n := 0
	for {
		m, ok := sheet.FindDate(s)
		if !ok {
			return n
		}
		n++
		s = m.Text[m.End:]
	}
}

// PlanTemplate writes the plan template: the headers, a drop-down of the
// active areas and a sheet of instructions.
func (s *Service) PlanTemplate(ctx context.Context, w io.Writer) error {
	refs, err := loadPlanRefs(ctx, s.DB)
	if err != nil {
		return err
	}
	var areas []string
	for _, a := range refs.areas {
		areas = append(areas, a.Name)
	}
	cols := []sheet.TemplateColumn{
		{Header: "序号", Width: 8, Text: true},
		{Header: "领域", Width: 16, Choices: areas},
		{Header: "任务", Width: 40, Text: true},
		{Header: "技术指标", Width: 30, Text: true},
		{Header: "责任单位", Width: 20, Text: true},
		{Header: "配合单位", Width: 24, Text: true},
		{Header: "责任人", Width: 10, Text: true},
		{Header: "开始时间", Width: 12},
		{Header: "完成时限", Width: 12},
		{Header: "时间节点", Width: 48, Text: true},
	}
	return sheet.WriteTemplate(w, "任务分解表", cols, []string{
		"任务分解表导入说明 / How to import a campaign plan",
		"每行一项任务。领域、任务、责任单位、责任人、完成时限必填；技术指标、配合单位、开始时间、时间节点选填。",
		"领域：填写名称或代码，可选 " + refs.areaNames() + "。",
		"责任单位、配合单位：填写单位名称或编码；配合单位可填多个，用 、 ， , ; 分隔。",
		"责任人：责任单位中一位在职人员的姓名。",
		"日期：2026-03-05、2026/3/5、2026.3.5、2026年3月5日 或日期格式的单元格均可；完成时限只写到月（2026年6月、2026年6月底）时取当月最后一天。开始时间空白时取导入当天。",
		"时间节点：每个节点写“日期 名称”，多个节点用 ； 或换行分隔，如：2026-03-31 完成方案；2026-06-30 中期评估。节点日期须在开始时间与完成时限之间；不写年份（3月31日）时按任务所在年份。",
		"序号：可用 1、1.1、1.2 表示分解，1.1 是 1 的子任务（子任务的完成时限不得晚于上级任务）。",
		"导入的任务均为草稿（来源：实施方案），核对后在任务页面交办。",
		"任何一行有错误时整个文件都不导入，页面会列出每个错误的行号和列名。",
		fmt.Sprintf("文件不超过 %d MB，数据不超过 %d 行。", MaxPlanBytes>>20, MaxPlanRows),
		"示例：1 | 应急管理 | 修订突发事件总体应急预案 | 预案通过专家评审并印发 | 应急管理科 | 法规科、综合科 | 张三 | 2026-03-01 | 2026年6月底 | 2026-03-31 完成初稿；2026-05-15 专家评审",
	})
}

// Exports.

// xlSourceNames are the sources in Chinese, for exports.
var xlSourceNames = map[Source]string{SourcePlan: "实施方案", SourceInstruction: "领导批示", SourceAssigned: "上级交办", SourceProject: "重点项目",
	SourceConcern: "群众关注", SourceFinding: "督查问题", SourceAppeal: "12345诉求", SourceBenchmark: "对标达标"}

var xlEventNames = map[string]string{
	EventCreate: "登记", string(ActionAssign): "交办", string(ActionAccept): "签收", string(ActionStart): "开始办理", string(ActionSubmit): "申请办结",
	string(ActionSignOff): "销号", string(ActionReturn): "退回", string(ActionCancel): "撤销", string(ActionReopen): "重新办理",
	EventReport: "报送进展", EventMilestoneAdd: "新增节点", EventMilestoneDone: "节点完成", EventExtensionRequest: "申请延期",
	EventExtensionApprove: "同意延期", EventExtensionRefuse: "不同意延期", EventSubtaskAdd: "分解子任务",
	EventAttach: "上传附件", EventUrge: "催办", EventNotice: "督办单", EventLookBackPlan: "回头看安排", EventLookBackPass: "回头看通过",
	EventLookBackFail: "回头看未通过",
}

func xlEventName(kind string) string {
	if n, ok := xlEventNames[kind]; ok {
		return n
	}
	return kind
}

func (a Actor) exportEntry(object, summary string) audit.Entry {
	e := a.entry("task.export", 0, summary)
	e.Object = object
	return e
}

type xlUnitInfo struct {
	Code, Name string
}

func xlUnitInfos(ctx context.Context, q db.Querier) (map[int64]xlUnitInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name FROM units`)
	if err != nil {
		return nil, fmt.Errorf("supervise: unit names: %w", err)
	}
	defer rows.Close()
	out := map[int64]xlUnitInfo{}
	for rows.Next() {
		var id int64
		var u xlUnitInfo
		if err := rows.Scan(&id, &u.Code, &u.Name); err != nil {
			return nil, err
		}
		out[id] = u
	}
	return out, rows.Err()
}

// xlFilterText describes a battle map filter in Chinese.
func xlFilterText(f BoardFilter, areas []Area, infos map[int64]xlUnitInfo) string {
	var parts []string
	if f.Area != "" {
		name := f.Area
		for _, a := range areas {
			if a.Code == f.Area {
				name = a.Name
			}
		}
		parts = append(parts, "领域 "+name)
	}
	if f.UnitID != 0 {
		parts = append(parts, "责任单位 "+infos[f.UnitID].Name)
	}
	if f.Source != "" {
		parts = append(parts, "来源 "+xlSourceNames[f.Source])
	}
	if f.Key {
		parts = append(parts, "重点项目")
	}
	if f.Leader != "" {
		parts = append(parts, "批示领导 "+f.Leader)
	}
	if f.Light != "" {
		parts = append(parts, f.Light.Text().ZH)
	}
	if len(parts) == 0 {
		return "全部任务"
	}
	return strings.Join(parts, "，")
}

func xlFilterLog(f BoardFilter) string {
	if q := f.Query().Encode(); q != "" {
		return q
	}
	return "all tasks"
}

// ExportBattleMap writes the battle map under f as a workbook: the area ×
// light matrix, the per-unit table and the timeline's tasks, with the same
// numbers as the map itself (it is BattleMap's result). Audited.
func (s *Service) ExportBattleMap(ctx context.Context, a Actor, f BoardFilter, w io.Writer) error {
	b, err := s.BattleMap(ctx, f, "zh-CN")
	if err != nil {
		return err
	}
	areas, err := s.Areas(ctx, true)
	if err != nil {
		return err
	}
	infos, err := xlUnitInfos(ctx, s.DB)
	if err != nil {
		return err
	}
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	headers := []string{"领域"}
	for _, l := range BoardLights {
		headers = append(headers, l.Text().ZH)
	}
	headers = append(headers, "合计")
	sh, err := wb.Sheet("领域×灯", headers, []float64{20, 10, 10, 10, 10, 10, 10})
	if err != nil {
		return err
	}
	lightRow := func(name string, c LightCounts) error {
		row := []any{name}
		for _, l := range BoardLights {
			row = append(row, c.Get(l))
		}
		return sh.Row(append(row, c.Total())...)
	}
	for _, ar := range b.Areas {
		if err := lightRow(ar.Name, ar.Lights); err != nil {
			return err
		}
	}
	if err := lightRow("合计", b.Lights); err != nil {
		return err
	}

	us, err := wb.Sheet("单位", []string{"单位编码", "单位", "任务数", "已销号", "按期办结", "逾期未办结", "红灯", "黄灯", "绿灯", "未开始", "完成率(%)", "按期率(%)"},
		[]float64{10, 28, 8, 8, 10, 10, 8, 8, 8, 8, 10, 10})
	if err != nil {
		return err
	}
	for _, u := range b.Units {
		if err := us.Row(u.Code, u.Name, u.Tasks, u.Done, u.OnTime, u.Overdue, u.Red, u.Yellow, u.Green, u.NotStarted, u.CompletionRate, u.OnTimeRate); err != nil {
			return err
		}
	}

	tl, err := wb.Sheet("任务", []string{"任务编号", "任务", "领域", "来源", "责任单位", "状态", "灯", "原因", "开始时间", "完成时限", "原定时限", "进度(%)", "逾期工作日"},
		[]float64{9, 40, 14, 10, 22, 10, 8, 36, 11, 11, 11, 8, 10})
	if err != nil {
		return err
	}
	areaName := map[string]string{}
	for _, ar := range areas {
		areaName[ar.Code] = ar.Name
	}
	for _, it := range b.Timeline {
		baseline := it.BaselineDue
		if baseline == it.Due {
			baseline = 0
		}
		if err := tl.Row(it.ID, it.Title, areaName[it.Area], xlSourceNames[it.Source], it.UnitName, it.State.Text().ZH, it.Light.Text().ZH,
			it.LightReason, it.Start, it.Due, baseline, it.Progress, it.OverdueWorkdays); err != nil {
			return err
		}
	}

	about, err := wb.Sheet("说明", nil, []float64{110})
	if err != nil {
		return err
	}
	for _, line := range []string{
		"挂图作战 · 导出于 " + s.Now().In(s.Loc).Format("2006-01-02 15:04"),
		"范围：" + xlFilterText(f, areas, infos),
		fmt.Sprintf("共 %d 项任务，逾期未办结 %d 项；灯按 %s 计算。草稿和已撤销的任务不在图上。", b.Total, b.Overdue, b.Today),
		"按期办结：在现行完成时限当日或之前销号；完成率＝已销号／任务数；按期率＝按期办结／已销号。",
		fmt.Sprintf("“任务”表列出时间轴上的 %d 项（共 %d 项，最紧急的在前）；逾期任务的完整清单请导出逾期清单。", len(b.Timeline), b.TimelineTotal),
	} {
		if err := about.Row(line); err != nil {
			return err
		}
	}
	if err := s.Audit.Write(ctx, a.exportEntry("battlemap", fmt.Sprintf("battle map xlsx: %s; %d tasks, %d units", xlFilterLog(f), b.Total, len(b.Units)))); err != nil {
		return err
	}
	_, err = wb.WriteTo(w)
	return err
}

// ExportOverdue writes every task on the map (under f) past its due date
// and not signed off, most overdue first, streaming rows from the
// database. Audited.
func (s *Service) ExportOverdue(ctx context.Context, a Actor, f BoardFilter, w io.Writer) error {
	if err := s.ensureFresh(ctx); err != nil {
		return err
	}
	today := s.Today()
	where, args := boardWhere(f)
	where += ` AND due_on < ? AND state IN ('assigned','accepted','in_progress','submitted')`
	args = append(args, today)
	rows, err := s.DB.QueryContext(ctx, `SELECT t.id, COALESCE(a.name, t.area), t.title, t.source, COALESCE(u.name, ''), COALESCE(p.name, ''),
		t.start_on, t.due_on, t.baseline_due_on, t.progress, t.state, t.light, t.light_reason_zh, t.last_report_on
		FROM (SELECT * FROM tasks`+where+`) t
		LEFT JOIN task_areas a ON a.code = t.area LEFT JOIN units u ON u.id = t.lead_unit_id LEFT JOIN people p ON p.id = t.owner_id
		ORDER BY t.due_on, t.id`, args...)
	if err != nil {
		return fmt.Errorf("supervise: overdue export: %w", err)
	}
	defer rows.Close()
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	sh, err := wb.Sheet("逾期任务", []string{"序号", "任务编号", "领域", "任务", "来源", "责任单位", "责任人", "开始时间", "完成时限", "原定时限",
		"逾期工作日", "进度(%)", "状态", "灯", "原因", "最近报送"}, []float64{6, 9, 14, 40, 10, 22, 10, 11, 11, 11, 10, 8, 10, 6, 36, 11})
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		var id int64
		var area, title, unit, owner, reason string
		var source Source
		var start, due, baseline, lastReport workday.Date
		var progress int
		var state State
		var light deadline.Light
		if err := rows.Scan(&id, &area, &title, &source, &unit, &owner, &start, &due, &baseline, &progress, &state, &light, &reason, &lastReport); err != nil {
			return fmt.Errorf("supervise: overdue export: %w", err)
		}
		n++
		if baseline == due {
			baseline = 0
		}
		if err := sh.Row(n, id, area, title, xlSourceNames[source], unit, owner, start, due, baseline,
			deadline.OverdueWorkdays(s.Cal, due, today), progress, state.Text().ZH, light.Text().ZH, reason, lastReport); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("supervise: overdue export: %w", err)
	}
	if err := s.Audit.Write(ctx, a.exportEntry("tasks", fmt.Sprintf("overdue xlsx: %s; %d tasks", xlFilterLog(f), n))); err != nil {
		return err
	}
	_, err = wb.WriteTo(w)
	return err
}

func xlWanYuan(yuan *int64) any {
	if yuan == nil {
		return nil
	}
	return float64(*yuan) / 10000
}

// ExportTimeline writes one task's record: its particulars, roadmap
// (milestones), timeline of events, progress reports and extension
// requests. Audited.
func (s *Service) ExportTimeline(ctx context.Context, a Actor, id int64, w io.Writer) error {
	d, err := s.Detail(ctx, id, "zh-CN")
	if err != nil {
		return err
	}
	infos, err := xlUnitInfos(ctx, s.DB)
	if err != nil {
		return err
	}
	var owner string
	if err := s.DB.QueryRowContext(ctx, `SELECT name FROM people WHERE id = ?`, d.OwnerID).Scan(&owner); err != nil {
		return fmt.Errorf("supervise: timeline export: owner: %w", err)
	}
	areaName := d.Area
	if as, err := s.Areas(ctx, true); err == nil {
		for _, ar := range as {
			if ar.Code == d.Area {
				areaName = ar.Name
			}
		}
	}
	local := func(t time.Time) string { return t.In(s.Loc).Format("2006-01-02 15:04") }
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	info, err := wb.Sheet("任务", []string{"项目", "内容"}, []float64{14, 80})
	if err != nil {
		return err
	}
	var co []string
	for _, u := range d.CoUnitIDs {
		co = append(co, infos[u].Name)
	}
	kv := [][2]any{
		{"任务编号", d.ID}, {"任务", d.Title}, {"来源", xlSourceNames[d.Source]}, {"领域", areaName}, {"描述", d.Description},
		{"技术指标", d.Acceptance}, {"责任单位", infos[d.LeadUnitID].Name}, {"配合单位", strings.Join(co, "、")}, {"责任人", owner},
		{"开始时间", d.Start}, {"完成时限", d.Due}, {"原定时限", d.BaselineDue}, {"交办日期", d.AssignedOn}, {"状态", d.State.Text().ZH},
		{"灯", d.Light.Text().ZH}, {"原因", d.LightText.ZH}, {"进度(%)", d.Progress}, {"最近报送", d.LastReportOn}, {"销号日期", d.SignedOffOn},
	}
	if in := d.Instruction; in != nil {
		kv = append(kv, [2]any{"批示领导", in.Leader}, [2]any{"批示日期", in.IssuedOn}, [2]any{"批示内容", in.Text})
	}
	if d.Source == SourceProject {
		kv = append(kv, [2]any{"计划投资(万元)", xlWanYuan(d.PlannedInvestment)}, [2]any{"完成投资(万元)", xlWanYuan(d.CompletedInvestment)},
			[2]any{"项目阶段", d.Stage.Name()}, [2]any{"项目地点", d.Location})
	}
	for _, p := range kv {
		if err := info.Row(p[0], p[1]); err != nil {
			return err
		}
	}
	today := s.Today()
	ms, err := wb.Sheet("时间表", []string{"序号", "节点", "计划完成", "实际完成", "完成情况", "佐证"}, []float64{6, 36, 12, 12, 10, 40})
	if err != nil {
		return err
	}
	for _, m := range d.Milestones {
		status := "未到期"
		switch {
		case !m.DoneOn.IsZero() && m.DoneOn.After(m.Due):
			status = "逾期完成"
		case !m.DoneOn.IsZero():
			status = "按期完成"
		case !d.State.Open():
			status = "未完成"
		case today.After(m.Due):
			status = "已逾期"
		}
		if err := ms.Row(m.Seq, m.Name, m.Due, m.DoneOn, status, m.Evidence); err != nil {
			return err
		}
	}
	ev, err := wb.Sheet("时间线", []string{"时间", "操作人", "事项", "状态变化", "说明", "详情"}, []float64{17, 14, 12, 18, 40, 36})
	if err != nil {
		return err
	}
	for _, e := range d.Events {
		change := ""
		if e.FromState != "" || e.ToState != "" {
			change = e.FromState.Text().ZH + " → " + e.ToState.Text().ZH
			if e.FromState == "" {
				change = e.ToState.Text().ZH
			}
		}
		if err := ev.Row(local(e.At), e.Actor, xlEventName(e.Kind), change, e.Note, e.Detail); err != nil {
			return err
		}
	}
	rp, err := wb.Sheet("进展", []string{"报送日期", "进度(%)", "进展情况", "困难问题", "下步打算", "完成投资(万元)", "报送人"}, []float64{11, 8, 40, 24, 24, 12, 12})
	if err != nil {
		return err
	}
	for _, r := range d.Reports {
		if err := rp.Row(r.ReportedOn, r.Percent, r.Text, r.Difficulties, r.NextSteps, xlWanYuan(r.CompletedInvestment), r.CreatedByName); err != nil {
			return err
		}
	}
	ex, err := wb.Sheet("延期", []string{"申请时间", "原时限", "新时限", "理由", "结果", "审批人", "审批意见"}, []float64{17, 11, 11, 30, 8, 12, 30})
	if err != nil {
		return err
	}
	for _, x := range d.Extensions {
		result := map[ExtensionState]string{ExtensionPending: "待审批", ExtensionApproved: "同意", ExtensionRefused: "不同意"}[x.State]
		if err := ex.Row(local(x.RequestedAt), x.OldDue, x.NewDue, x.Reason, result, x.DecidedByName, x.DecisionNote); err != nil {
			return err
		}
	}
	if err := s.Audit.Write(ctx, a.exportEntry("task:"+strconv.FormatInt(id, 10),
		fmt.Sprintf("timeline xlsx: %d events, %d reports, %d milestones", len(d.Events), len(d.Reports), len(d.Milestones)))); err != nil {
		return err
	}
	_, err = wb.WriteTo(w)
	return err
}

// HTTP.

// RegisterSheets adds the plan import (page and API), the template and the
// exports to ws, with the import page's template, messages and the API's
// OpenAPI fragment. Import needs tasks.write; exports tasks.read.
func (s *Service) RegisterSheets(ws *web.Server) error {
	if ws.Cfg.Location != nil {
		s.Loc = ws.Cfg.Location
	}
	if err := ws.Render.Add(sheetFiles, "templates/sheets/task_import.html"); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	if err := ws.OpenAPI.AddFragment(sheetFiles, "openapi_sheets.json"); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	ws.Messages.Add(planMessagesZH, planMessagesEN)
	h := &sheetHandlers{s: s, ws: ws}
	ws.Handle("GET /tasks/template.xlsx", auth.PermTasksWrite, h.template)
	ws.Handle("GET /tasks/import", auth.PermTasksWrite, h.importForm)
	ws.Handle("POST /tasks/import", auth.PermTasksWrite, h.importPost)
	ws.Handle("POST /api/v1/tasks/import", auth.PermTasksWrite, h.apiImport)
	ws.Handle("GET /tasks/export/battlemap.xlsx", auth.PermTasksRead, h.battleMap)
	ws.Handle("GET /tasks/export/overdue.xlsx", auth.PermTasksRead, h.overdue)
	ws.Handle("GET /tasks/{id}/timeline.xlsx", auth.PermTasksRead, h.timeline)
	return nil
}

var planMessagesZH = map[string]string{
	"taskimport.title":    "导入任务分解表",
	"taskimport.help":     "第一张工作表的第一行为表头：序号、领域、任务、技术指标、责任单位、配合单位、责任人、开始时间、完成时限、时间节点。每行登记一项任务（草稿，来源为实施方案），核对后再交办。序号 1.1 表示 1 的子任务。任何一行有错误时不导入任何数据。",
	"taskimport.file":     "Excel 文件（.xlsx，不超过 10 MB、5000 行）",
	"taskimport.done":     "导入完成：登记 %d 项任务（草稿，待交办）。",
	"taskimport.row":      "行",
	"taskimport.column":   "列",
	"taskimport.message":  "问题",
	"taskimport.back":     "任务",
	"taskimport.first":    "第一项",
	"taskimport.errors":   "共 %d 处错误",
	"taskimport.template": "下载任务分解表模板",
}

var planMessagesEN = map[string]string{
	"taskimport.title":    "Import a campaign plan",
	"taskimport.help":     "Row 1 of the first sheet holds the headers: 序号 (number), 领域 (area), 任务 (task), 技术指标 (acceptance measure), 责任单位 (lead unit), 配合单位 (co-units), 责任人 (owner), 开始时间 (start), 完成时限 (due), 时间节点 (milestones). Each row registers one task (a draft, source plan) to check before it is assigned. Number 1.1 is a subtask of 1. If any row is wrong, nothing is imported.",
	"taskimport.file":     "Excel file (.xlsx, at most 10 MB and 5,000 rows)",
	"taskimport.done":     "Imported: %d tasks registered (drafts, to be assigned).",
	"taskimport.row":      "Row",
	"taskimport.column":   "Column",
	"taskimport.message":  "Problem",
	"taskimport.back":     "Tasks",
	"taskimport.first":    "First task",
	"taskimport.errors":   "%d problems",
	"taskimport.template": "Download the plan template",
}

type sheetHandlers struct {
	s  *Service
	ws *web.Server
}

func (h *sheetHandlers) template(w http.ResponseWriter, r *http.Request) error {
	return sheet.Send(w, "task-plan-template.xlsx", func(out io.Writer) error { return h.s.PlanTemplate(r.Context(), out) })
}

type planErrView struct {
	Row             int
	Column, Message string
}

type planImportPage struct {
	Done    bool
	Result  PlanResult
	FirstID int64
	Error   string
	Errors  []planErrView
}

func (h *sheetHandlers) importForm(w http.ResponseWriter, r *http.Request) error {
	return h.ws.HTML(w, r, "task_import.html", "taskimport.title", planImportPage{})
}

func (h *sheetHandlers) importPost(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var d planImportPage
	status := http.StatusOK
	file, _, err := sheet.Upload(w, r, "file", MaxPlanBytes)
	if err == nil {
		d.Result, err = h.s.ImportPlan(ctx, actor(r), bytes.NewReader(file))
	}
	if err != nil {
		ae, ok := apperr.As(err)
		if !ok {
			return err
		}
		status = ae.Status
		l := web.Lang(ctx)
		d.Error = xlMessageIn(ae.Message, l)
		for _, re := range d.Result.Errors {
			d.Errors = append(d.Errors, planErrView{Row: re.Row, Column: re.Column, Message: re.Text(l)})
		}
	} else {
		d.Done = true
		if len(d.Result.TaskIDs) > 0 {
			d.FirstID = slices.Min(d.Result.TaskIDs)
		}
	}
	return h.ws.HTMLPage(w, status, "task_import.html", h.ws.NewPage(r, "taskimport.title", d))
}

// messageIn picks one language out of a "中文 / English" message.
func xlMessageIn(msg, lang string) string {
	zh, en, ok := strings.Cut(msg, " / ")
	if !ok {
		return msg
	}
	if strings.HasPrefix(lang, "en") {
		return en
	}
	return zh
}

// POST /api/v1/tasks/import: multipart with the .xlsx in "file"; 201 with
// the new tasks' ids, or 422 import_invalid with the row errors in details.
func (h *sheetHandlers) apiImport(w http.ResponseWriter, r *http.Request) error {
	file, _, err := sheet.Upload(w, r, "file", MaxPlanBytes)
	if err != nil {
		return err
	}
	res, err := h.s.ImportPlan(r.Context(), actor(r), bytes.NewReader(file))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, res)
}

func (h *sheetHandlers) stamp() string { return h.s.Now().In(h.s.Loc).Format("20060102") }

func (h *sheetHandlers) battleMap(w http.ResponseWriter, r *http.Request) error {
	f, err := ParseBoardFilter(r.URL.Query())
	if err != nil {
		return err
	}
	return sheet.Send(w, "battlemap-"+h.stamp()+".xlsx", func(out io.Writer) error { return h.s.ExportBattleMap(r.Context(), actor(r), f, out) })
}

func (h *sheetHandlers) overdue(w http.ResponseWriter, r *http.Request) error {
	f, err := ParseBoardFilter(r.URL.Query())
	if err != nil {
		return err
	}
	return sheet.Send(w, "overdue-"+h.stamp()+".xlsx", func(out io.Writer) error { return h.s.ExportOverdue(r.Context(), actor(r), f, out) })
}

func (h *sheetHandlers) timeline(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	return sheet.Send(w, fmt.Sprintf("task-%d-timeline-%s.xlsx", id, h.stamp()), func(out io.Writer) error {
		return h.s.ExportTimeline(r.Context(), actor(r), id, out)
	})
}
