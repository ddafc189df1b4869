package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/web"
)

// Service holds the rules for units and people. Every change runs in one
// transaction together with its audit record.
type Service struct {
	db    *db.DB
	audit *audit.Log
	now   func() time.Time
	web   *web.Server
}

// New returns the service; now is the clock (nil: the wall clock).
func New(d *db.DB, a *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, audit: a, now: now}
}

// ---- units ----

// ListUnits returns every unit, ordered by sort order and code.
func (s *Service) ListUnits(ctx context.Context) ([]Unit, error) {
	return loadUnits(ctx, s.db)
}

// Unit returns one unit or a 404 error.
func (s *Service) Unit(ctx context.Context, id int64) (*Unit, error) {
	return loadUnit(ctx, s.db, id, false)
}

// UnitByCode returns the unit with exactly this code, or a 404 error.
func (s *Service) UnitByCode(ctx context.Context, code string) (*Unit, error) {
	u, err := scanUnit(s.db.QueryRowContext(ctx, `SELECT `+unitCols+` FROM units WHERE code = ?`, strings.TrimSpace(code)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUnitNotFound()
	}
	if err != nil {
		return nil, wrapf(err, "unit by code")
	}
	return &u, nil
}

// UnitName names a unit, or returns "" when there is none (for the home page).
func (s *Service) UnitName(ctx context.Context, id int64) string {
	var name string
	if err := s.db.QueryRowContext(ctx, `SELECT name FROM units WHERE id = ?`, id).Scan(&name); err != nil {
		return ""
	}
	return name
}

// CountUnits counts active units.
func (s *Service) CountUnits(ctx context.Context) (int, error) {
	return count(ctx, s.db, `SELECT COUNT(*) FROM units WHERE active = ?`, true)
}

// CountPeople counts active people.
func (s *Service) CountPeople(ctx context.Context) (int, error) {
	return count(ctx, s.db, `SELECT COUNT(*) FROM people WHERE active = ?`, true)
}

// Tree returns the unit forest with head counts, children in sort order.
func (s *Service) Tree(ctx context.Context) ([]*TreeNode, error) {
	us, err := s.ListUnits(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := peopleCounts(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return buildTree(us, counts), nil
}

func buildTree(us []Unit, counts map[int64]int) []*TreeNode {
	nodes := make(map[int64]*TreeNode, len(us))
	for _, u := range us {
		nodes[u.ID] = &TreeNode{Unit: u, People: counts[u.ID]}
	}
	var roots []*TreeNode
	for _, u := range us { // us is sorted, so children come out sorted
		n := nodes[u.ID]
		if u.ParentID != nil && nodes[*u.ParentID] != nil {
			p := nodes[*u.ParentID]
			p.Children = append(p.Children, n)
			continue
		}
		roots = append(roots, n)
	}
	// A unit unreachable from a root would sit in a cycle; the service never
	// makes one, but show it rather than lose it.
	seen := map[int64]bool{}
	walkTree(roots, func(n *TreeNode, _ int) { seen[n.ID] = true })
	for _, u := range us {
		if !seen[u.ID] {
			n := nodes[u.ID]
			roots = append(roots, &TreeNode{Unit: n.Unit, People: n.People})
			seen[u.ID] = true
		}
	}
	return roots
}

// walkTree visits nodes depth first, parents before children.
func walkTree(ns []*TreeNode, fn func(n *TreeNode, depth int)) {
	var walk func([]*TreeNode, int)
	walk = func(ns []*TreeNode, d int) {
		for _, n := range ns {
			fn(n, d)
			walk(n.Children, d+1)
		}
	}
	walk(ns, 0)
}

// normUnit trims and checks the fields that need no database. keptCode
// is the stored code, which is not re-checked, so a unit loaded before the
// code rules tightened can still be edited.
func normUnit(u *Unit, keptCode string) error {
	u.Code = strings.TrimSpace(u.Code)
	u.Name = strings.TrimSpace(u.Name)
	if keptCode == "" || u.Code != keptCode {
		if err := checkCode(u.Code); err != nil {
			return err
		}
	}
	if err := checkText("name", u.Name, maxUnitNameLen, "org.err.unit_name_required"); err != nil {
		return err
	}
	k, ok := parseKind(string(u.Kind))
	if !ok {
		return invalid("kind", "org.err.kind", kindList())
	}
	u.Kind = k
	return nil
}

func kindList() string {
	var b []string
	for _, k := range Kinds {
		b = append(b, string(k)+"("+k.Label()+")")
	}
	return strings.Join(b, ", ")
}

// checkCodeFree refuses a code another unit holds, also when it differs
// only by letter case (BGS and bgs would be two units nobody can tell apart).
func checkCodeFree(ctx context.Context, q db.Querier, code string, self int64) error {
	us, err := unitsByFoldedCode(ctx, q, code)
	if err != nil {
		return err
	}
	for _, u := range us {
		if u.ID == self {
			continue
		}
		if u.Code == code {
			return newErr(http.StatusConflict, "unit_code_taken", "code", "org.err.code_taken", code, u.Name)
		}
		return newErr(http.StatusConflict, "unit_code_taken", "code", "org.err.code_case", u.Code, u.Name)
	}
	return nil
}

// resolveParent finds the parent named by id or code; none means a root.
func resolveParent(ctx context.Context, q db.Querier, id *int64, code string) (*Unit, error) {
	code = strings.TrimSpace(code)
	var p *Unit
	if id != nil {
		u, err := loadUnit(ctx, q, *id, false)
		if err != nil {
			if isNotFound(err) {
				return nil, invalid("parent_id", "org.err.parent_unknown", *id)
			}
			return nil, err
		}
		p = u
	}
	if code != "" {
		u, err := scanUnit(q.QueryRowContext(ctx, `SELECT `+unitCols+` FROM units WHERE code = ?`, code))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalid("parent_code", "org.err.parent_code_unknown", code)
		}
		if err != nil {
			return nil, wrapf(err, "find parent")
		}
		if p != nil && p.ID != u.ID {
			return nil, invalid("parent_code", "org.err.parent_mismatch")
		}
		p = &u
	}
	return p, nil
}

func isNotFound(err error) bool {
	var l *localError
	return errors.As(err, &l) && l.e.Status == http.StatusNotFound
}

// checkNoCycle refuses to hang unit id below itself or below one of its
// own descendants.
func checkNoCycle(ctx context.Context, q db.Querier, id int64, parent *int64) error {
	if parent == nil {
		return nil
	}
	if *parent == id {
		return invalid("parent_id", "org.err.parent_self")
	}
	seen := map[int64]bool{}
	cur := *parent
	for !seen[cur] {
		seen[cur] = true
		var up sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT parent_id FROM units WHERE id = ?`, cur).Scan(&up); err != nil {
			return wrapf(err, "walk ancestors")
		}
		if !up.Valid {
			return nil
		}
		if up.Int64 == id {
			return invalid("parent_id", "org.err.parent_cycle")
		}
		cur = up.Int64
	}
	return nil
}

// CreateUnit adds a unit; actor is who does it (web.Actor(r), or a system
// entry for demo data and the CLI).
func (s *Service) CreateUnit(ctx context.Context, actor audit.Entry, in UnitInput) (*Unit, error) {
	u := Unit{Code: in.Code, Name: in.Name, Kind: in.Kind, SortOrder: in.SortOrder, Active: true}
	if in.Active != nil {
		u.Active = *in.Active
	}
	if err := normUnit(&u, ""); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockUnits(ctx, tx); err != nil {
			return err
		}
		parent, err := resolveParent(ctx, tx, in.ParentID, in.ParentCode)
		if err != nil {
			return err
		}
		if parent != nil {
			u.ParentID = &parent.ID
		}
		if err := checkCodeFree(ctx, tx, u.Code, 0); err != nil {
			return err
		}
		if err := insertUnit(ctx, tx, &u, now); err != nil {
			if db.IsUniqueViolation(err) {
				return newErr(http.StatusConflict, "unit_code_taken", "code", "org.err.code_taken", u.Code, "?")
			}
			return wrapf(err, "insert unit")
		}
		actor.Action, actor.Object = "unit.create", fmt.Sprintf("unit:%d", u.ID)
		actor.Summary = unitSummary(u, parentCode(parent))
		return s.audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func parentCode(p *Unit) string {
	if p == nil {
		return "-"
	}
	return p.Code
}

func unitSummary(u Unit, parent string) string {
	return fmt.Sprintf("code=%s name=%s kind=%s parent=%s sort=%d active=%t", u.Code, u.Name, u.Kind, parent, u.SortOrder, u.Active)
}

// codeOf names a unit id by its code for audit summaries.
func codeOf(ctx context.Context, q db.Querier, id *int64) string {
	if id == nil {
		return "-"
	}
	var c string
	if err := q.QueryRowContext(ctx, `SELECT code FROM units WHERE id = ?`, *id).Scan(&c); err != nil {
		return fmt.Sprintf("#%d", *id)
	}
	return c
}

// diff lists "field: before → after" for the fields that changed.
type diff []string

func (d *diff) add(field string, before, after any) {
	b, a := fmt.Sprint(before), fmt.Sprint(after)
	if b != a {
		*d = append(*d, fmt.Sprintf("%s: %s → %s", field, b, a))
	}
}

func (d diff) String() string {
	if len(d) == 0 {
		return "no change"
	}
	return strings.Join(d, "; ")
}

// applyUnitPatch returns old with the patch applied (not yet validated).
func applyUnitPatch(old Unit, p UnitPatch) Unit {
	u := old
	if p.ParentID.Set {
		u.ParentID = p.ParentID.Value
	}
	if p.Code != nil {
		u.Code = *p.Code
	}
	if p.Name != nil {
		u.Name = *p.Name
	}
	if p.Kind != nil {
		u.Kind = *p.Kind
	}
	if p.SortOrder != nil {
		u.SortOrder = *p.SortOrder
	}
	if p.Active != nil {
		u.Active = *p.Active
	}
	return u
}

// UpdateUnit changes a unit, refusing a parent that would make a cycle.
func (s *Service) UpdateUnit(ctx context.Context, actor audit.Entry, id int64, p UnitPatch) (*Unit, error) {
	var u Unit
	now := s.now().UTC()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockUnits(ctx, tx); err != nil {
			return err
		}
		old, err := loadUnit(ctx, tx, id, true)
		if err != nil {
			return err
		}
		u = applyUnitPatch(*old, p)
		if err := normUnit(&u, old.Code); err != nil {
			return err
		}
		if p.ParentID.Set && p.ParentID.Value != nil {
			if _, err := resolveParent(ctx, tx, p.ParentID.Value, ""); err != nil {
				return err
			}
			if err := checkNoCycle(ctx, tx, id, p.ParentID.Value); err != nil {
				return err
			}
		}
		if u.Code != old.Code {
			if err := checkCodeFree(ctx, tx, u.Code, id); err != nil {
				return err
			}
		}
		if err := updateUnitRow(ctx, tx, &u, now); err != nil {
			if db.IsUniqueViolation(err) {
				return newErr(http.StatusConflict, "unit_code_taken", "code", "org.err.code_taken", u.Code, "?")
			}
			return wrapf(err, "update unit %d", id)
		}
		var d diff
		d.add("code", old.Code, u.Code)
		d.add("name", old.Name, u.Name)
		d.add("kind", old.Kind, u.Kind)
		d.add("parent", codeOf(ctx, tx, old.ParentID), codeOf(ctx, tx, u.ParentID))
		d.add("sort", old.SortOrder, u.SortOrder)
		d.add("active", old.Active, u.Active)
		actor.Action, actor.Object, actor.Summary = "unit.update", fmt.Sprintf("unit:%d", id), d.String()
		return s.audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ---- people ----

// ListPeople returns a page of people and the total matching. Phones are
// in full: callers mask them.
func (s *Service) ListPeople(ctx context.Context, f PeopleFilter) ([]Person, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	return listPeople(ctx, s.db, f)
}

// Person returns one person (phone in full) or a 404 error.
func (s *Service) Person(ctx context.Context, id int64) (*Person, error) {
	return loadPerson(ctx, s.db, id, false)
}

// normPerson trims and checks the fields that need no database.
func (s *Service) normPerson(p *Person) error {
	p.Name = strings.TrimSpace(p.Name)
	p.Title = strings.TrimSpace(p.Title)
	p.Rank = strings.TrimSpace(p.Rank)
	if err := checkText("name", p.Name, maxPersonNameLen, "org.err.person_name_required"); err != nil {
		return err
	}
	if err := checkText("title", p.Title, maxTitleLen, ""); err != nil {
		return err
	}
	phone, err := normPhone(p.Phone)
	if err != nil {
		return err
	}
	p.Phone = phone
	if err := checkBirthYear(p.BirthYear, s.now()); err != nil {
		return err
	}
	joined, err := normDate(p.JoinedOn, s.now())
	if err != nil {
		return err
	}
	p.JoinedOn = joined
	return checkText("rank", p.Rank, maxRankLen, "")
}

// resolveUnit finds the unit a person belongs to by id or code.
func resolveUnit(ctx context.Context, q db.Querier, id int64, code string) (*Unit, error) {
	code = strings.TrimSpace(code)
	if id == 0 && code == "" {
		return nil, invalid("unit_id", "org.err.unit_required")
	}
	var u *Unit
	if id != 0 {
		x, err := loadUnit(ctx, q, id, false)
		if err != nil {
			if isNotFound(err) {
				return nil, invalid("unit_id", "org.err.unit_unknown", id)
			}
			return nil, err
		}
		u = x
	}
	if code != "" {
		x, err := scanUnit(q.QueryRowContext(ctx, `SELECT `+unitCols+` FROM units WHERE code = ?`, code))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalid("unit_code", "org.err.unit_code_unknown", code)
		}
		if err != nil {
			return nil, wrapf(err, "find unit")
		}
		if u != nil && u.ID != x.ID {
			return nil, invalid("unit_code", "org.err.unit_mismatch")
		}
		u = &x
	}
	return u, nil
}

func personSummary(p Person) string {
	by := "-"
	if p.BirthYear != nil {
		by = fmt.Sprint(*p.BirthYear)
	}
	return fmt.Sprintf("name=%s unit=%s title=%s phone=%s birth_year=%s joined_on=%s rank=%s active=%t",
		p.Name, p.UnitCode, p.Title, MaskPhone(p.Phone), by, p.JoinedOn, p.Rank, p.Active)
}

// CreatePerson adds a person to a unit.
func (s *Service) CreatePerson(ctx context.Context, actor audit.Entry, in PersonInput) (*Person, error) {
	p := Person{Name: in.Name, Title: in.Title, Phone: in.Phone, BirthYear: in.BirthYear, JoinedOn: in.JoinedOn, Rank: in.Rank, Active: true}
	if in.Active != nil {
		p.Active = *in.Active
	}
	if err := s.normPerson(&p); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := resolveUnit(ctx, tx, in.UnitID, in.UnitCode)
		if err != nil {
			return err
		}
		p.UnitID, p.UnitCode, p.UnitName = u.ID, u.Code, u.Name
		if err := insertPerson(ctx, tx, &p, now); err != nil {
			if db.IsForeignKeyViolation(err) {
				return invalid("unit_id", "org.err.unit_unknown", p.UnitID)
			}
			return wrapf(err, "insert person")
		}
		actor.Action, actor.Object, actor.Summary = "person.create", fmt.Sprintf("person:%d", p.ID), personSummary(p)
		return s.audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func applyPersonPatch(old Person, p PersonPatch) Person {
	n := old
	if p.UnitID != nil {
		n.UnitID = *p.UnitID
	}
	if p.Name != nil {
		n.Name = *p.Name
	}
	if p.Title != nil {
		n.Title = *p.Title
	}
	if p.Phone != nil {
		n.Phone = *p.Phone
	}
	if p.BirthYear.Set {
		n.BirthYear = p.BirthYear.Value
	}
	if p.JoinedOn != nil {
		n.JoinedOn = *p.JoinedOn
	}
	if p.Rank != nil {
		n.Rank = *p.Rank
	}
	if p.Active != nil {
		n.Active = *p.Active
	}
	return n
}

func personDiff(old, n Person) diff {
	var d diff
	d.add("unit", old.UnitCode, n.UnitCode)
	d.add("name", old.Name, n.Name)
	d.add("title", old.Title, n.Title)
	d.add("phone", MaskPhone(old.Phone), MaskPhone(n.Phone))
	by := func(p *int) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	d.add("birth_year", by(old.BirthYear), by(n.BirthYear))
	d.add("joined_on", old.JoinedOn, n.JoinedOn)
	d.add("rank", old.Rank, n.Rank)
	d.add("active", old.Active, n.Active)
	if len(d) == 0 && old.Phone != n.Phone {
		// Same mask, different number: still say the phone changed.
		d = append(d, "phone: changed")
	}
	return d
}

// UpdatePerson changes a person.
func (s *Service) UpdatePerson(ctx context.Context, actor audit.Entry, id int64, patch PersonPatch) (*Person, error) {
	var p Person
	now := s.now().UTC()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := loadPerson(ctx, tx, id, true)
		if err != nil {
			return err
		}
		p = applyPersonPatch(*old, patch)
		if err := s.normPerson(&p); err != nil {
			return err
		}
		if p.UnitID != old.UnitID {
			u, err := resolveUnit(ctx, tx, p.UnitID, "")
			if err != nil {
				return err
			}
			p.UnitCode, p.UnitName = u.Code, u.Name
		}
		if err := updatePersonRow(ctx, tx, &p, now); err != nil {
			return wrapf(err, "update person %d", id)
		}
		actor.Action, actor.Object, actor.Summary = "person.update", fmt.Sprintf("person:%d", id), personDiff(*old, p).String()
		return s.audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// RevealPhone returns the person with the full phone number and records
// who saw it. Callers check people.pii first.
func (s *Service) RevealPhone(ctx context.Context, actor audit.Entry, id int64, via string) (*Person, error) {
	p, err := s.Person(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.auditReveal(ctx, actor, []Person{*p}, via); err != nil {
		return nil, err
	}
	return p, nil
}

// auditReveal writes one person.unmask record per person shown, in one
// transaction, before anything is sent.
func (s *Service) auditReveal(ctx context.Context, actor audit.Entry, ps []Person, via string) error {
	if len(ps) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, p := range ps {
			e := actor
			e.Action, e.Object = "person.unmask", fmt.Sprintf("person:%d", p.ID)
			e.Summary = fmt.Sprintf("phone %s shown (%s)", MaskPhone(p.Phone), via)
			if err := s.audit.WriteTx(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}
