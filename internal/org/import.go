package org

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/sheet"
)

// ---- units ----

// unitRow is a parsed row of a units sheet.
type unitRow struct {
	num       int
	code      string
	key       string // code folded for comparison
	codeOK    bool
	name      string
	kind      Kind
	parent    string // parent code folded, "" for none (or keep, on update)
	parentRaw string
	sort      *int
	active    *bool
}

// ImportUnits reads the first sheet of an .xlsx (编码, 名称, 类型, 上级编码,
// 排序[, 状态]) and creates units, or updates them where the code exists. A
// parent may be a unit in the database or any row of the file, earlier or
// later. Every bad row is reported, and nothing is written unless every row
// is good: the whole import is one transaction.
func (s *Service) ImportUnits(ctx context.Context, actor audit.Entry, r io.Reader) (ImportResult, error) {
	var res ImportResult
	sh, headerErrs, err := sheet.Read(r, unitColumns, importLimits)
	if err != nil {
		return res, err
	}
	if len(headerErrs) > 0 {
		res.Errors = headerErrs
		return res, sheet.Invalid(res.Errors)
	}
	rows, errs := parseUnitRows(sh)
	now := s.now().UTC()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockUnits(ctx, tx); err != nil {
			return err
		}
		existing, err := loadUnits(ctx, tx)
		if err != nil {
			return err
		}
		errs = append(errs, checkUnitRows(sh, rows, existing)...)
		if len(errs) > 0 {
			res.Errors = sh.Sort(errs)
			return sheet.Invalid(res.Errors)
		}
		return s.writeUnitRows(ctx, tx, actor, rows, existing, now, &res)
	})
	if err != nil {
		errs := res.Errors
		res = ImportResult{Errors: errs}
		return res, err
	}
	return res, nil
}

func parseUnitRows(sh *sheet.Data) ([]unitRow, []RowError) {
	var rows []unitRow
	var errs []RowError
	first := map[string]int{} // folded code → first row holding it
	for _, sr := range sh.Rows {
		c := sr.Cells
		ur := unitRow{num: sr.Num, code: sheet.NumText(c["code"]), name: c["name"], parentRaw: sheet.NumText(c["parent_code"])}
		ur.key = strings.ToUpper(ur.code)
		ur.parent = strings.ToUpper(ur.parentRaw)
		if err := checkCode(ur.code); err != nil {
			errs = append(errs, rowErrFrom(sr.Num, sh.Col("code", unitColumns), err))
		} else if prev, dup := first[ur.key]; dup {
			errs = append(errs, rowErr(sr.Num, sh.Col("code", unitColumns), "duplicate_code", "org.import.dup_code", prev))
		} else {
			first[ur.key] = sr.Num
			ur.codeOK = true
		}
		if err := checkText("name", ur.name, maxUnitNameLen, "org.err.unit_name_required"); err != nil {
			errs = append(errs, rowErrFrom(sr.Num, sh.Col("name", unitColumns), err))
		}
		if k, ok := parseKind(c["kind"]); ok {
			ur.kind = k
		} else {
			errs = append(errs, rowErrFrom(sr.Num, sh.Col("kind", unitColumns), invalid("kind", "org.err.kind", kindList())))
		}
		if ur.parent != "" && ur.parent == ur.key {
			errs = append(errs, rowErrFrom(sr.Num, sh.Col("parent_code", unitColumns), invalid("parent_id", "org.err.parent_self")))
			ur.parent = ""
		}
		if v := sheet.NumText(c["sort_order"]); v != "" {
			if n, err := strconv.Atoi(v); err != nil {
				errs = append(errs, rowErr(sr.Num, sh.Col("sort_order", unitColumns), "invalid_sort_order", "org.err.sort_order"))
			} else {
				ur.sort = &n
			}
		}
		if v := c["active"]; v != "" {
			if a, ok := parseActive(v); !ok {
				errs = append(errs, rowErr(sr.Num, sh.Col("active", unitColumns), "invalid_active", "org.err.active"))
			} else {
				ur.active = &a
			}
		}
		rows = append(rows, ur)
	}
	return rows, errs
}

// checkUnitRows checks the rows against the database: codes that clash
// with an existing one only by letter case, parents that exist neither in
// the database nor in the file, and parent links that would close a cycle.
func checkUnitRows(sh *sheet.Data, rows []unitRow, existing []Unit) []RowError {
	var errs []RowError
	byFold := make(map[string]Unit, len(existing))
	byID := make(map[int64]Unit, len(existing))
	for _, u := range existing {
		byFold[strings.ToUpper(u.Code)] = u
		byID[u.ID] = u
	}
	inFile := make(map[string]bool, len(rows))
	for _, r := range rows {
		if r.codeOK {
			inFile[r.key] = true
		}
	}
	// parentOf is the tree as it would stand after the import, by folded code.
	parentOf := make(map[string]string, len(existing)+len(rows))
	for _, u := range existing {
		if u.ParentID != nil {
			parentOf[strings.ToUpper(u.Code)] = strings.ToUpper(byID[*u.ParentID].Code)
		}
	}
	for _, r := range rows {
		if !r.codeOK {
			continue
		}
		if ex, ok := byFold[r.key]; ok && ex.Code != r.code {
			errs = append(errs, rowErr(r.num, sh.Col("code", unitColumns), "duplicate_code", "org.err.code_case", ex.Code, ex.Name))
		}
		if r.parent == "" {
			continue // a new root, or an existing unit keeping its parent
		}
		if _, ok := byFold[r.parent]; !ok && !inFile[r.parent] {
			errs = append(errs, rowErr(r.num, sh.Col("parent_code", unitColumns), "unknown_parent", "org.import.parent_unknown", r.parentRaw))
			continue
		}
		parentOf[r.key] = r.parent
	}
	for _, r := range rows {
		if !r.codeOK || r.parent == "" {
			continue
		}
		seen := map[string]bool{}
		for cur := r.parent; cur != "" && !seen[cur]; cur = parentOf[cur] {
			if cur == r.key {
				errs = append(errs, rowErr(r.num, sh.Col("parent_code", unitColumns), "parent_cycle", "org.import.cycle", r.parentRaw))
				break
			}
			seen[cur] = true
		}
	}
	return errs
}

// writeUnitRows writes parents before children, so a parent defined in a
// later row exists by the time a child needs its id.
func (s *Service) writeUnitRows(ctx context.Context, tx *db.Tx, actor audit.Entry, rows []unitRow, existing []Unit, now time.Time, res *ImportResult) error {
	byFold := make(map[string]Unit, len(existing))
	idOf := make(map[string]int64, len(existing)+len(rows))
	codeByID := make(map[int64]string, len(existing)+len(rows))
	for _, u := range existing {
		k := strings.ToUpper(u.Code)
		byFold[k] = u
		idOf[k] = u.ID
		codeByID[u.ID] = u.Code
	}
	rowOf := make(map[string]int, len(rows))
	for i, r := range rows {
		rowOf[r.key] = i
	}
	code := func(id *int64) string {
		if id == nil {
			return "-"
		}
		return codeByID[*id]
	}
	done := make([]bool, len(rows))
	var write func(i int) error
	write = func(i int) error {
		if done[i] {
			return nil
		}
		done[i] = true
		r := rows[i]
		var parent *int64
		if r.parent != "" {
			if j, ok := rowOf[r.parent]; ok {
				if err := write(j); err != nil {
					return err
				}
			}
			id, ok := idOf[r.parent]
			if !ok {
				return fmt.Errorf("org: import row %d: parent %s not written", r.num, r.parentRaw)
			}
			parent = &id
		}
		e := actor
		if ex, ok := byFold[r.key]; ok {
			n := ex
			n.Name, n.Kind = r.name, r.kind
			if parent != nil {
				n.ParentID = parent
			}
			if r.sort != nil {
				n.SortOrder = *r.sort
			}
			if r.active != nil {
				n.Active = *r.active
			}
			var d diff
			d.add("name", ex.Name, n.Name)
			d.add("kind", ex.Kind, n.Kind)
			d.add("parent", code(ex.ParentID), code(n.ParentID))
			d.add("sort", ex.SortOrder, n.SortOrder)
			d.add("active", ex.Active, n.Active)
			if len(d) == 0 {
				res.Unchanged++
				return nil
			}
			if err := updateUnitRow(ctx, tx, &n, now); err != nil {
				return wrapf(err, "import row %d", r.num)
			}
			res.Updated++
			e.Action, e.Object, e.Summary = "unit.update", fmt.Sprintf("unit:%d", n.ID), d.String()+fmt.Sprintf(" (import row %d)", r.num)
			return s.audit.WriteTx(ctx, tx, e)
		}
		u := Unit{Code: r.code, Name: r.name, Kind: r.kind, ParentID: parent, Active: true}
		if r.sort != nil {
			u.SortOrder = *r.sort
		}
		if r.active != nil {
			u.Active = *r.active
		}
		if err := insertUnit(ctx, tx, &u, now); err != nil {
			return wrapf(err, "import row %d", r.num)
		}
		idOf[r.key], codeByID[u.ID] = u.ID, u.Code
		res.Created++
		e.Action, e.Object, e.Summary = "unit.create", fmt.Sprintf("unit:%d", u.ID), unitSummary(u, code(parent))+fmt.Sprintf(" (import row %d)", r.num)
		return s.audit.WriteTx(ctx, tx, e)
	}
	for i := range rows {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := write(i); err != nil {
			return err
		}
	}
	e := actor
	e.Action, e.Object = "unit.import", "units"
	e.Summary = fmt.Sprintf("%d rows: created %d, updated %d, unchanged %d", len(rows), res.Created, res.Updated, res.Unchanged)
	return s.audit.WriteTx(ctx, tx, e)
}

// ---- people ----

// personRow is a parsed row of a people sheet; nil means the cell was
// empty, which keeps the stored value when the person exists.
type personRow struct {
	num     int
	name    string
	unitRaw string
	unitKey string
	title   *string
	phone   *string
	birth   *int
	joined  *string
	rank    *string
	active  *bool
}

func optText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ImportPeople reads the first sheet of an .xlsx (姓名, 单位编码, 职务, 手机,
// 出生年份, 入职日期, 职级[, 状态]). A row updates the person of that name in
// that unit when there is exactly one, and creates one when there is none.
// Every bad row is reported and nothing is written unless every row is good.
func (s *Service) ImportPeople(ctx context.Context, actor audit.Entry, r io.Reader) (ImportResult, error) {
	var res ImportResult
	sh, headerErrs, err := sheet.Read(r, personColumns, importLimits)
	if err != nil {
		return res, err
	}
	if len(headerErrs) > 0 {
		res.Errors = headerErrs
		return res, sheet.Invalid(res.Errors)
	}
	rows, errs := s.parsePersonRows(sh)
	now := s.now().UTC()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		units, err := loadUnits(ctx, tx)
		if err != nil {
			return err
		}
		index, err := personIDsByKey(ctx, tx)
		if err != nil {
			return err
		}
		plans, dbErrs := planPersonRows(sh, rows, units, index)
		errs = append(errs, dbErrs...)
		if len(errs) > 0 {
			res.Errors = sh.Sort(errs)
			return sheet.Invalid(res.Errors)
		}
		return s.writePersonRows(ctx, tx, actor, plans, now, &res)
	})
	if err != nil {
		errs := res.Errors
		res = ImportResult{Errors: errs}
		return res, err
	}
	return res, nil
}

func (s *Service) parsePersonRows(sh *sheet.Data) ([]personRow, []RowError) {
	var rows []personRow
	var errs []RowError
	first := map[string]int{}
	now := s.now()
	for _, sr := range sh.Rows {
		c := sr.Cells
		pr := personRow{num: sr.Num, name: c["name"], unitRaw: sheet.NumText(c["unit_code"])}
		pr.unitKey = strings.ToUpper(pr.unitRaw)
		if err := checkText("name", pr.name, maxPersonNameLen, "org.err.person_name_required"); err != nil {
			errs = append(errs, rowErrFrom(sr.Num, sh.Col("name", personColumns), err))
		}
		if pr.unitRaw == "" {
			errs = append(errs, rowErr(sr.Num, sh.Col("unit_code", personColumns), "invalid_unit_code", "org.err.unit_required"))
		}
		if pr.name != "" && pr.unitRaw != "" {
			k := pr.unitKey + "\x00" + pr.name
			if prev, dup := first[k]; dup {
				errs = append(errs, rowErr(sr.Num, sh.Col("name", personColumns), "duplicate_person", "org.import.dup_person", prev))
			} else {
				first[k] = sr.Num
			}
		}
		if pr.title = optText(c["title"]); pr.title != nil {
			if err := checkText("title", *pr.title, maxTitleLen, ""); err != nil {
				errs = append(errs, rowErrFrom(sr.Num, sh.Col("title", personColumns), err))
			}
		}
		if v := sheet.NumText(c["phone"]); v != "" {
			if p, err := normPhone(v); err != nil {
				errs = append(errs, rowErrFrom(sr.Num, sh.Col("phone", personColumns), err))
			} else {
				pr.phone = &p
			}
		}
		if v := sheet.NumText(c["birth_year"]); v != "" {
			lo, hi := birthYearRange(now)
			if y, err := strconv.Atoi(v); err != nil {
				errs = append(errs, rowErrFrom(sr.Num, sh.Col("birth_year", personColumns), invalid("birth_year", "org.err.birth_year", lo, hi)))
			} else if err := checkBirthYear(&y, now); err != nil {
				errs = append(errs, rowErrFrom(sr.Num, sh.Col("birth_year", personColumns), err))
			} else {
				pr.birth = &y
			}
		}
		if v := dateText(c["joined_on"], sh.Date1904); v != "" {
			if d, err := normDate(v, now); err != nil {
				errs = append(errs, rowErrFrom(sr.Num, sh.Col("joined_on", personColumns), err))
			} else {
				pr.joined = &d
			}
		}
		if pr.rank = optText(c["rank"]); pr.rank != nil {
			if err := checkText("rank", *pr.rank, maxRankLen, ""); err != nil {
				errs = append(errs, rowErrFrom(sr.Num, sh.Col("rank", personColumns), err))
			}
		}
		if v := c["active"]; v != "" {
			if a, ok := parseActive(v); !ok {
				errs = append(errs, rowErr(sr.Num, sh.Col("active", personColumns), "invalid_active", "org.err.active"))
			} else {
				pr.active = &a
			}
		}
		rows = append(rows, pr)
	}
	return rows, errs
}

type personPlan struct {
	row      personRow
	unit     Unit
	existing int64 // 0: create
}

// planPersonRows resolves units and finds which rows update whom.
func planPersonRows(sh *sheet.Data, rows []personRow, units []Unit, index map[personKey][]int64) ([]personPlan, []RowError) {
	var errs []RowError
	byFold := make(map[string]Unit, len(units))
	for _, u := range units {
		byFold[strings.ToUpper(u.Code)] = u
	}
	plans := make([]personPlan, 0, len(rows))
	for _, r := range rows {
		if r.unitRaw == "" {
			continue
		}
		u, ok := byFold[r.unitKey]
		if !ok {
			errs = append(errs, rowErr(r.num, sh.Col("unit_code", personColumns), "unknown_unit", "org.import.unit_unknown", r.unitRaw))
			continue
		}
		p := personPlan{row: r, unit: u}
		switch ids := index[personKey{u.ID, r.name}]; len(ids) {
		case 0:
		case 1:
			p.existing = ids[0]
		default:
			errs = append(errs, rowErr(r.num, sh.Col("name", personColumns), "ambiguous_person", "org.import.person_ambiguous", len(ids), u.Code))
			continue
		}
		plans = append(plans, p)
	}
	return plans, errs
}

func (s *Service) writePersonRows(ctx context.Context, tx *db.Tx, actor audit.Entry, plans []personPlan, now time.Time, res *ImportResult) error {
	for i, pl := range plans {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r := pl.row
		e := actor
		if pl.existing != 0 {
			old, err := loadPerson(ctx, tx, pl.existing, true)
			if err != nil {
				return err
			}
			n := *old
			n.UnitID, n.UnitCode, n.UnitName = pl.unit.ID, pl.unit.Code, pl.unit.Name
			if r.title != nil {
				n.Title = *r.title
			}
			if r.phone != nil {
				n.Phone = *r.phone
			}
			if r.birth != nil {
				n.BirthYear = r.birth
			}
			if r.joined != nil {
				n.JoinedOn = *r.joined
			}
			if r.rank != nil {
				n.Rank = *r.rank
			}
			if r.active != nil {
				n.Active = *r.active
			}
			d := personDiff(*old, n)
			if len(d) == 0 {
				res.Unchanged++
				continue
			}
			if err := updatePersonRow(ctx, tx, &n, now); err != nil {
				return wrapf(err, "import row %d", r.num)
			}
			res.Updated++
			e.Action, e.Object, e.Summary = "person.update", fmt.Sprintf("person:%d", n.ID), d.String()+fmt.Sprintf(" (import row %d)", r.num)
			if err := s.audit.WriteTx(ctx, tx, e); err != nil {
				return err
			}
			continue
		}
		p := Person{UnitID: pl.unit.ID, UnitCode: pl.unit.Code, UnitName: pl.unit.Name, Name: r.name, BirthYear: r.birth, Active: true}
		if r.title != nil {
			p.Title = *r.title
		}
		if r.phone != nil {
			p.Phone = *r.phone
		}
		if r.joined != nil {
			p.JoinedOn = *r.joined
		}
		if r.rank != nil {
			p.Rank = *r.rank
		}
		if r.active != nil {
			p.Active = *r.active
		}
		if err := insertPerson(ctx, tx, &p, now); err != nil {
			return wrapf(err, "import row %d", r.num)
		}
		res.Created++
		e.Action, e.Object, e.Summary = "person.create", fmt.Sprintf("person:%d", p.ID), personSummary(p)+fmt.Sprintf(" (import row %d)", r.num)
		if err := s.audit.WriteTx(ctx, tx, e); err != nil {
			return err
		}
	}
	e := actor
	e.Action, e.Object = "person.import", "people"
	e.Summary = fmt.Sprintf("%d rows: created %d, updated %d, unchanged %d", len(plans), res.Created, res.Updated, res.Unchanged)
	return s.audit.WriteTx(ctx, tx, e)
}
