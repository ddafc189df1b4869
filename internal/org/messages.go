package org

import "fmt"

// tr translates an org message without a web.Server, so the service can
// word its errors (both languages for the API, one for pages) on its own.
func tr(lang, key string, args ...any) string {
	m := messagesZH
	if lang == "en" {
		m = messagesEN
	}
	s, ok := m[key]
	if !ok {
		if s, ok = messagesZH[key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

var messagesZH = map[string]string{
	"org.kind.office":    "办公室",
	"org.kind.section":   "科室",
	"org.kind.affiliate": "直属单位",
	"org.kind.district":  "区县",
	"org.kind.branch":    "党支部",
	"org.kind.outpost":   "驻外机构",

	"org.units.headcount": "%d 人",
	"org.units.empty":     "还没有单位。可以新建，或下载模板后批量导入。",
	"org.unit.new":        "新建单位",
	"org.unit.add_child":  "新建下级单位",
	"org.unit.parent":     "上级单位",
	"org.unit.no_parent":  "无（顶级单位）",
	"org.unit.children":   "下级单位",
	"org.unit.kind":       "类型",
	"org.unit.sort_order": "排序",
	"org.unit.all_people": "查看全部人员",
	"org.unit.details":    "基本信息",

	"org.people.search_hint": "姓名、职务或职级",
	"org.people.all_units":   "全部单位",
	"org.people.none":        "没有符合条件的人员。",
	"org.people.export_full": "导出（含完整手机号）",
	"org.people.range":       "第 %d–%d 条，共 %d 条",

	"org.person.new":           "新建人员",
	"org.person.name":          "姓名",
	"org.person.title":         "职务",
	"org.person.rank":          "职级",
	"org.person.phone":         "手机",
	"org.person.birth_year":    "出生年份",
	"org.person.joined_on":     "入职日期",
	"org.person.reveal":        "显示",
	"org.person.revealed_note": "本次查看已记入审计日志",
	"org.person.phone_keep":    "留空则不修改",
	"org.person.clear_phone":   "清除手机号",
	"org.person.choose_unit":   "请选择单位",
	"org.person.date_hint":     "如 2026-03-05",

	"org.import.units_title":      "导入单位",
	"org.import.people_title":     "导入人员",
	"org.import.units_help":       "第一张工作表的第一行为表头：编码、名称、类型、上级编码、排序（可选：状态）。上级可以是系统中已有的单位，也可以是本文件中前后任意一行。编码已存在的单位会被更新，空白单元格保留原值。任何一行有错误时不导入任何数据。",
	"org.import.people_help":      "第一张工作表的第一行为表头：姓名、单位编码、职务、手机、出生年份、入职日期、职级（可选：状态）。同一单位中已有同名人员时更新该人员，空白单元格保留原值。任何一行有错误时不导入任何数据。",
	"org.import.file":             "Excel 文件（.xlsx，不超过 10 MB）",
	"org.import.done":             "导入完成：新建 %d 条，更新 %d 条，未变 %d 条。",
	"org.import.row":              "行",
	"org.import.column":           "列",
	"org.import.message":          "问题",
	"org.import.dup_code":         "编码与第 %d 行重复",
	"org.import.parent_unknown":   "上级编码 %s 既不在系统中，也不在本文件中",
	"org.import.cycle":            "上级编码 %s 会让单位成为自己的下级（循环）",
	"org.import.dup_person":       "与第 %d 行重复（同一单位同名）",
	"org.import.unit_unknown":     "单位编码 %s 不存在",
	"org.import.person_ambiguous": "该单位已有 %d 位同名人员（单位 %s），无法确定更新哪一位，请在页面上逐个修改",

	"org.err.unit_not_found":       "单位不存在",
	"org.err.person_not_found":     "人员不存在",
	"org.err.code_required":        "编码不能为空",
	"org.err.code_long":            "编码不能超过 %d 个字符",
	"org.err.code_chars":           "编码只能包含字母、数字和 - _ .，且以字母或数字开头",
	"org.err.code_taken":           "编码 %s 已被“%s”使用",
	"org.err.code_case":            "编码与已有单位的编码 %s（%s）仅大小写不同",
	"org.err.too_long":             "不能超过 %d 个字",
	"org.err.unit_name_required":   "名称不能为空",
	"org.err.person_name_required": "姓名不能为空",
	"org.err.kind":                 "类型须为：%s",
	"org.err.phone":                "手机号须为 11 位手机号（如 13812345678）或带区号的固定电话（如 0531-12345678）",
	"org.err.birth_year":           "出生年份须为 %d–%d 之间的四位数字",
	"org.err.date":                 "日期无效，请写成 2026-03-05、2026/3/5、2026.3.5 或 2026年3月5日",
	"org.err.date_range":           "日期须在 1900 年到 %d 年之间",
	"org.err.parent_unknown":       "上级单位不存在（%d）",
	"org.err.parent_code_unknown":  "上级单位编码 %s 不存在",
	"org.err.parent_mismatch":      "parent_id 与 parent_code 指向不同的单位",
	"org.err.parent_self":          "单位不能以自身为上级",
	"org.err.parent_cycle":         "不能把单位移到它自己的下级单位之下（会形成循环）",
	"org.err.unit_required":        "请选择所属单位",
	"org.err.unit_unknown":         "所属单位不存在（%d）",
	"org.err.unit_code_unknown":    "单位编码 %s 不存在",
	"org.err.unit_mismatch":        "unit_id 与 unit_code 指向不同的单位",
	"org.err.sort_order":           "排序须为整数",
	"org.err.active":               "状态须为“启用”或“停用”",
	"org.err.unit_id_param":        "unit_id 须为正整数",
}

var messagesEN = map[string]string{
	"org.kind.office":    "Office",
	"org.kind.section":   "Section",
	"org.kind.affiliate": "Affiliated unit",
	"org.kind.district":  "District",
	"org.kind.branch":    "Party branch",
	"org.kind.outpost":   "Outpost",

	"org.units.headcount": "%d people",
	"org.units.empty":     "No units yet. Create one, or download the template and import many at once.",
	"org.unit.new":        "New unit",
	"org.unit.add_child":  "New sub-unit",
	"org.unit.parent":     "Parent unit",
	"org.unit.no_parent":  "None (top-level unit)",
	"org.unit.children":   "Sub-units",
	"org.unit.kind":       "Kind",
	"org.unit.sort_order": "Sort order",
	"org.unit.all_people": "All people",
	"org.unit.details":    "Details",

	"org.people.search_hint": "Name, title or rank",
	"org.people.all_units":   "All units",
	"org.people.none":        "No people match.",
	"org.people.export_full": "Export with full phone numbers",
	"org.people.range":       "%d–%d of %d",

	"org.person.new":           "New person",
	"org.person.name":          "Name",
	"org.person.title":         "Title",
	"org.person.rank":          "Rank",
	"org.person.phone":         "Phone",
	"org.person.birth_year":    "Birth year",
	"org.person.joined_on":     "Joined on",
	"org.person.reveal":        "Show",
	"org.person.revealed_note": "this viewing has been recorded in the audit log",
	"org.person.phone_keep":    "leave empty to keep",
	"org.person.clear_phone":   "Remove the phone number",
	"org.person.choose_unit":   "Choose a unit",
	"org.person.date_hint":     "e.g. 2026-03-05",

	"org.import.units_title":      "Import units",
	"org.import.people_title":     "Import people",
	"org.import.units_help":       "Row 1 of the first sheet holds the headers: 编码 (code), 名称 (name), 类型 (kind), 上级编码 (parent code), 排序 (sort order), optionally 状态 (status). A parent may be a unit already in the system or any row of the file, earlier or later. Rows whose code exists update that unit; empty cells keep the stored value. If any row is wrong, nothing is imported.",
	"org.import.people_help":      "Row 1 of the first sheet holds the headers: 姓名 (name), 单位编码 (unit code), 职务 (title), 手机 (phone), 出生年份 (birth year), 入职日期 (joined on), 职级 (rank), optionally 状态 (status). A row updates the person of that name in that unit if there is one; empty cells keep the stored value. If any row is wrong, nothing is imported.",
	"org.import.file":             "Excel file (.xlsx, at most 10 MB)",
	"org.import.done":             "Imported: %d created, %d updated, %d unchanged.",
	"org.import.row":              "Row",
	"org.import.column":           "Column",
	"org.import.message":          "Problem",
	"org.import.dup_code":         "code repeats row %d",
	"org.import.parent_unknown":   "parent code %s is neither in the system nor in this file",
	"org.import.cycle":            "parent code %s would put the unit below itself (a cycle)",
	"org.import.dup_person":       "repeats row %d (same name in the same unit)",
	"org.import.unit_unknown":     "unit code %s does not exist",
	"org.import.person_ambiguous": "%d people of this name already work in unit %s; cannot tell which to update, edit them on the page",

	"org.err.unit_not_found":       "no such unit",
	"org.err.person_not_found":     "no such person",
	"org.err.code_required":        "code is required",
	"org.err.code_long":            "code must be at most %d characters",
	"org.err.code_chars":           "code may hold letters, digits and - _ . only, starting with a letter or digit",
	"org.err.code_taken":           "code %s is already used by “%s”",
	"org.err.code_case":            "code differs only in letter case from %s (%s)",
	"org.err.too_long":             "at most %d characters",
	"org.err.unit_name_required":   "name is required",
	"org.err.person_name_required": "name is required",
	"org.err.kind":                 "kind must be one of: %s",
	"org.err.phone":                "phone must be an 11-digit mobile number (13812345678) or a landline with its area code (0531-12345678)",
	"org.err.birth_year":           "birth year must be a year from %d to %d",
	"org.err.date":                 "not a valid date; write 2026-03-05, 2026/3/5, 2026.3.5 or 2026年3月5日",
	"org.err.date_range":           "the date must fall between 1900 and %d",
	"org.err.parent_unknown":       "no such parent unit (%d)",
	"org.err.parent_code_unknown":  "no unit has the parent code %s",
	"org.err.parent_mismatch":      "parent_id and parent_code name different units",
	"org.err.parent_self":          "a unit cannot be its own parent",
	"org.err.parent_cycle":         "a unit cannot move below one of its own sub-units (that would make a cycle)",
	"org.err.unit_required":        "choose the unit",
	"org.err.unit_unknown":         "no such unit (%d)",
	"org.err.unit_code_unknown":    "no unit has the code %s",
	"org.err.unit_mismatch":        "unit_id and unit_code name different units",
	"org.err.sort_order":           "sort order must be a whole number",
	"org.err.active":               "status must be 启用 (active) or 停用 (inactive)",
	"org.err.unit_id_param":        "unit_id must be a positive integer",
}
