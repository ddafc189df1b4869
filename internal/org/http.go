package org

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/web"
)

// maxFormBytes bounds ordinary form posts, multipart ones included (the
// platform leaves multipart bodies to the handlers).
const maxFormBytes = 1 << 20

const pageSize = 50

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(maxFormBytes)
	}
	return r.ParseForm()
}

// option is an <option> of a <select>.
type option struct {
	Value, Label string
	Selected     bool
}

func kindLabel(lang string, k Kind) string { return tr(lang, "org.kind."+string(k)) }

func (s *Service) kindOptions(lang, selected string) []option {
	var out []option
	for _, k := range Kinds {
		out = append(out, option{Value: string(k), Label: kindLabel(lang, k), Selected: string(k) == selected})
	}
	return out
}

// unitOptions lists units in tree order, indented, leaving out skip and
// its descendants (a unit cannot move below itself).
func (s *Service) unitOptions(ctx context.Context, selected string, skip int64) ([]option, error) {
	tree, err := s.Tree(ctx)
	if err != nil {
		return nil, err
	}
	var out []option
	var walk func([]*TreeNode, int)
	walk = func(ns []*TreeNode, depth int) {
		for _, n := range ns {
			if n.ID == skip {
				continue
			}
			v := strconv.FormatInt(n.ID, 10)
			label := strings.Repeat("\u3000", depth) + n.Name + " (" + n.Code + ")"
			out = append(out, option{Value: v, Label: label, Selected: v == selected})
			walk(n.Children, depth+1)
		}
	}
	walk(tree, 0)
	return out, nil
}

// ---- unit pages ----

type nodeView struct {
	ID                                       int64
	Name, Code, KindLabel, Headcount, Status string
	Children                                 []*nodeView
}

type unitsPage struct {
	Roots []*nodeView
	Total int
}

func (s *Service) getUnits(w http.ResponseWriter, r *http.Request) error {
	tree, err := s.Tree(r.Context())
	if err != nil {
		return err
	}
	lang := web.Lang(r.Context())
	total := 0
	inactive := s.web.Messages.T(lang, "common.inactive")
	var conv func([]*TreeNode) []*nodeView
	conv = func(ns []*TreeNode) []*nodeView {
		out := make([]*nodeView, 0, len(ns))
		for _, n := range ns {
			total++
			out = append(out, &nodeView{ID: n.ID, Name: n.Name, Code: n.Code, KindLabel: kindLabel(lang, n.Kind),
				Headcount: tr(lang, "org.units.headcount", n.People), Children: conv(n.Children)})
			if !n.Active {
				out[len(out)-1].Status = inactive
			}
		}
		return out
	}
	return s.web.HTML(w, r, "org_units.html", "nav.units", unitsPage{Roots: conv(tree), Total: total})
}

type unitForm struct {
	Code, Name, Kind, ParentID, SortOrder string
	Active                                bool
}

type unitLink struct {
	ID                    int64
	Name, Code, KindLabel string
	Inactive              bool
}

type personRowView struct {
	ID                                 int64
	Name, UnitName, Title, Rank, Phone string
	UnitID                             int64
	Inactive                           bool
}

type unitPage struct {
	Unit        *Unit // nil on the new-unit page
	KindLabel   string
	Parent      *unitLink
	Children    []unitLink
	People      []personRowView
	PeopleTotal int
	PeopleMore  bool
	Form        unitForm
	Errs        fieldErrors
	Error       string
	Kinds       []option
	Parents     []option
}

func formFromUnit(u *Unit) unitForm {
	f := unitForm{Code: u.Code, Name: u.Name, Kind: string(u.Kind), SortOrder: strconv.Itoa(u.SortOrder), Active: u.Active}
	if u.ParentID != nil {
		f.ParentID = strconv.FormatInt(*u.ParentID, 10)
	}
	return f
}

func readUnitForm(r *http.Request) unitForm {
	return unitForm{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"),
		ParentID: r.PostFormValue("parent_id"), SortOrder: r.PostFormValue("sort_order"), Active: r.PostFormValue("active") != ""}
}

// parse turns the form into typed values, collecting what does not parse.
func (f unitForm) parse(lang string, errs fieldErrors) (parent *int64, sortOrder int) {
	if v := strings.TrimSpace(f.ParentID); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			errs.add("parent_id", tr(lang, "org.err.parent_unknown", 0))
		} else {
			parent = &id
		}
	}
	if v := strings.TrimSpace(f.SortOrder); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs.add("sort_order", tr(lang, "org.err.sort_order"))
		}
		sortOrder = n
	}
	return parent, sortOrder
}

func (s *Service) renderUnit(w http.ResponseWriter, r *http.Request, status int, u *Unit, form unitForm, errs fieldErrors, errText string) error {
	ctx := r.Context()
	lang := web.Lang(ctx)
	d := unitPage{Unit: u, Form: form, Errs: errs, Error: errText, Kinds: s.kindOptions(lang, form.Kind)}
	var skip int64
	if u != nil {
		skip = u.ID
		d.KindLabel = kindLabel(lang, u.Kind)
	}
	var err error
	if d.Parents, err = s.unitOptions(ctx, form.ParentID, skip); err != nil {
		return err
	}
	title := "org.unit.new"
	if u != nil {
		title = "nav.units"
		all, err := s.ListUnits(ctx)
		if err != nil {
			return err
		}
		for _, x := range all {
			if u.ParentID != nil && x.ID == *u.ParentID {
				d.Parent = &unitLink{ID: x.ID, Name: x.Name, Code: x.Code, KindLabel: kindLabel(lang, x.Kind), Inactive: !x.Active}
			}
			if x.ParentID != nil && *x.ParentID == u.ID {
				d.Children = append(d.Children, unitLink{ID: x.ID, Name: x.Name, Code: x.Code, KindLabel: kindLabel(lang, x.Kind), Inactive: !x.Active})
			}
		}
		if p := web.PrincipalFrom(ctx); p.Can(auth.PermPeopleRead) {
			ps, total, err := s.ListPeople(ctx, PeopleFilter{UnitID: u.ID, Limit: 200})
			if err != nil {
				return err
			}
			d.People, d.PeopleTotal, d.PeopleMore = peopleRows(ps), total, total > len(ps)
		}
	}
	page := s.web.NewPage(r, title, d)
	if u != nil {
		page.Title = u.Name
	}
	return s.web.HTMLPage(w, status, "org_unit.html", page)
}

func peopleRows(ps []Person) []personRowView {
	out := make([]personRowView, 0, len(ps))
	for _, p := range ps {
		out = append(out, personRowView{ID: p.ID, Name: p.Name, UnitName: p.UnitName, UnitID: p.UnitID, Title: p.Title, Rank: p.Rank,
			Phone: MaskPhone(p.Phone), Inactive: !p.Active})
	}
	return out
}

func (s *Service) getNewUnit(w http.ResponseWriter, r *http.Request) error {
	form := unitForm{Kind: string(KindSection), Active: true, SortOrder: "0"}
	if v := r.URL.Query().Get("parent"); v != "" {
		form.ParentID = v
	}
	return s.renderUnit(w, r, http.StatusOK, nil, form, fieldErrors{}, "")
}

// formError re-renders a form with err next to its field, or returns err
// for the platform to show when it is not the user's to fix.
func formError(lang string, err error, errs fieldErrors) (status int, general string, ok bool) {
	field, text, ok := errorText(lang, err)
	if !ok {
		return 0, "", false
	}
	status = http.StatusUnprocessableEntity
	if e, isApp := apperr.As(err); isApp {
		status = e.Status
	}
	if field == "" {
		return status, text, true
	}
	if field == "parent_code" {
		field = "parent_id"
	}
	if field == "unit_code" {
		field = "unit_id"
	}
	errs.add(field, text)
	return status, "", true
}

func (s *Service) postNewUnit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	lang := web.Lang(r.Context())
	form := readUnitForm(r)
	errs := fieldErrors{}
	parent, sortOrder := form.parse(lang, errs)
	if len(errs) > 0 {
		return s.renderUnit(w, r, http.StatusUnprocessableEntity, nil, form, errs, "")
	}
	active := form.Active
	u, err := s.CreateUnit(r.Context(), web.Actor(r), UnitInput{ParentID: parent, Code: form.Code, Name: form.Name, Kind: Kind(form.Kind), SortOrder: sortOrder, Active: &active})
	if err != nil {
		status, general, ok := formError(lang, err, errs)
		if !ok {
			return err
		}
		return s.renderUnit(w, r, status, nil, form, errs, general)
	}
	http.Redirect(w, r, fmt.Sprintf("/units/%d?msg=common.saved", u.ID), http.StatusSeeOther)
	return nil
}

func (s *Service) getUnit(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.Unit(r.Context(), id)
	if err != nil {
		return err
	}
	return s.renderUnit(w, r, http.StatusOK, u, formFromUnit(u), fieldErrors{}, "")
}

func (s *Service) postUnit(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	lang := web.Lang(ctx)
	u, err := s.Unit(ctx, id)
	if err != nil {
		return err
	}
	form := readUnitForm(r)
	errs := fieldErrors{}
	parent, sortOrder := form.parse(lang, errs)
	if len(errs) > 0 {
		return s.renderUnit(w, r, http.StatusUnprocessableEntity, u, form, errs, "")
	}
	kind := Kind(form.Kind)
	active := form.Active
	patch := UnitPatch{ParentID: Nullable[int64]{Set: true, Value: parent}, Code: &form.Code, Name: &form.Name, Kind: &kind, SortOrder: &sortOrder, Active: &active}
	if _, err := s.UpdateUnit(ctx, web.Actor(r), id, patch); err != nil {
		status, general, ok := formError(lang, err, errs)
		if !ok {
			return err
		}
		return s.renderUnit(w, r, status, u, form, errs, general)
	}
	http.Redirect(w, r, fmt.Sprintf("/units/%d?msg=common.saved", id), http.StatusSeeOther)
	return nil
}

// ---- people pages ----

type peoplePage struct {
	Q                string
	UnitID           string
	Units            []option
	People           []personRowView
	Total            int
	From, To         int
	PrevURL, NextURL string
	CanUnmaskExport  bool
}

func (s *Service) getPeople(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := PeopleFilter{Q: strings.TrimSpace(q.Get("q")), Limit: pageSize}
	f.SearchPhone = web.PrincipalFrom(ctx).Can(auth.PermPeoplePII)
	unitParam := strings.TrimSpace(q.Get("unit_id"))
	if id, err := strconv.ParseInt(unitParam, 10, 64); err == nil && id > 0 {
		f.UnitID = id
	} else {
		unitParam = ""
	}
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		f.Offset = off
	}
	ps, total, err := s.ListPeople(ctx, f)
	if err != nil {
		return err
	}
	units, err := s.unitOptions(ctx, unitParam, 0)
	if err != nil {
		return err
	}
	d := peoplePage{Q: f.Q, UnitID: unitParam, Units: units, People: peopleRows(ps), Total: total,
		CanUnmaskExport: web.PrincipalFrom(ctx).Can(auth.PermPeoplePII)}
	if len(ps) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(ps)
	}
	link := func(off int) string {
		v := url.Values{}
		if f.Q != "" {
			v.Set("q", f.Q)
		}
		if unitParam != "" {
			v.Set("unit_id", unitParam)
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		if len(v) == 0 {
			return "/people"
		}
		return "/people?" + v.Encode()
	}
	if f.Offset > 0 {
		d.PrevURL = link(max(f.Offset-pageSize, 0))
	}
	if f.Offset+len(ps) < total {
		d.NextURL = link(f.Offset + pageSize)
	}
	return s.web.HTML(w, r, "org_people.html", "nav.people", d)
}

type personForm struct {
	UnitID, Name, Title, Phone, BirthYear, JoinedOn, Rank string
	Active, ClearPhone                                    bool
}

type personPage struct {
	Person    *Person // nil on the new-person page; Phone masked unless Revealed
	Revealed  bool
	CanReveal bool
	BirthYear string
	Form      personForm
	Errs      fieldErrors
	Error     string
	Units     []option
}

func readPersonForm(r *http.Request) personForm {
	return personForm{UnitID: r.PostFormValue("unit_id"), Name: r.PostFormValue("name"), Title: r.PostFormValue("title"),
		Phone: r.PostFormValue("phone"), BirthYear: r.PostFormValue("birth_year"), JoinedOn: r.PostFormValue("joined_on"),
		Rank: r.PostFormValue("rank"), Active: r.PostFormValue("active") != "", ClearPhone: r.PostFormValue("clear_phone") != ""}
}

// formFromPerson leaves the phone out: the edit form must not carry the
// number to someone who may edit people but not see their phones.
func formFromPerson(p *Person) personForm {
	f := personForm{UnitID: strconv.FormatInt(p.UnitID, 10), Name: p.Name, Title: p.Title, JoinedOn: p.JoinedOn, Rank: p.Rank, Active: p.Active}
	if p.BirthYear != nil {
		f.BirthYear = strconv.Itoa(*p.BirthYear)
	}
	return f
}

func (f personForm) parse(lang string, now time.Time, errs fieldErrors) (unitID int64, birth *int) {
	if v := strings.TrimSpace(f.UnitID); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			errs.add("unit_id", tr(lang, "org.err.unit_required"))
		}
		unitID = id
	}
	if v := strings.TrimSpace(f.BirthYear); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil {
			lo, hi := birthYearRange(now)
			errs.add("birth_year", tr(lang, "org.err.birth_year", lo, hi))
		}
		birth = &y
	}
	return unitID, birth
}

func (s *Service) renderPerson(w http.ResponseWriter, r *http.Request, status int, p *Person, revealed bool, form personForm, errs fieldErrors, errText string) error {
	ctx := r.Context()
	d := personPage{Revealed: revealed, CanReveal: web.PrincipalFrom(ctx).Can(auth.PermPeoplePII), Form: form, Errs: errs, Error: errText}
	if p != nil {
		shown := *p
		if !revealed {
			shown.Phone = MaskPhone(shown.Phone)
		}
		d.Person = &shown
		if p.BirthYear != nil {
			d.BirthYear = strconv.Itoa(*p.BirthYear)
		}
	}
	var err error
	if d.Units, err = s.unitOptions(ctx, form.UnitID, 0); err != nil {
		return err
	}
	page := s.web.NewPage(r, "org.person.new", d)
	if p != nil {
		page.Title = p.Name
	}
	return s.web.HTMLPage(w, status, "org_person.html", page)
}

func (s *Service) getNewPerson(w http.ResponseWriter, r *http.Request) error {
	form := personForm{Active: true, UnitID: r.URL.Query().Get("unit_id")}
	return s.renderPerson(w, r, http.StatusOK, nil, false, form, fieldErrors{}, "")
}

func (s *Service) postNewPerson(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	lang := web.Lang(ctx)
	form := readPersonForm(r)
	errs := fieldErrors{}
	unitID, birth := form.parse(lang, s.now(), errs)
	if len(errs) > 0 {
		return s.renderPerson(w, r, http.StatusUnprocessableEntity, nil, false, form, errs, "")
	}
	active := form.Active
	p, err := s.CreatePerson(ctx, web.Actor(r), PersonInput{UnitID: unitID, Name: form.Name, Title: form.Title, Phone: form.Phone,
		BirthYear: birth, JoinedOn: form.JoinedOn, Rank: form.Rank, Active: &active})
	if err != nil {
		status, general, ok := formError(lang, err, errs)
		if !ok {
			return err
		}
		return s.renderPerson(w, r, status, nil, false, form, errs, general)
	}
	http.Redirect(w, r, fmt.Sprintf("/people/%d?msg=common.saved", p.ID), http.StatusSeeOther)
	return nil
}

func (s *Service) getPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.Person(r.Context(), id)
	if err != nil {
		return err
	}
	return s.renderPerson(w, r, http.StatusOK, p, false, formFromPerson(p), fieldErrors{}, "")
}

func (s *Service) postPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	lang := web.Lang(ctx)
	p, err := s.Person(ctx, id)
	if err != nil {
		return err
	}
	form := readPersonForm(r)
	errs := fieldErrors{}
	unitID, birth := form.parse(lang, s.now(), errs)
	if unitID == 0 {
		errs.add("unit_id", tr(lang, "org.err.unit_required"))
	}
	if len(errs) > 0 {
		return s.renderPerson(w, r, http.StatusUnprocessableEntity, p, false, form, errs, "")
	}
	active := form.Active
	patch := PersonPatch{UnitID: &unitID, Name: &form.Name, Title: &form.Title, BirthYear: Nullable[int]{Set: true, Value: birth},
		JoinedOn: &form.JoinedOn, Rank: &form.Rank, Active: &active}
	// An empty phone field keeps the number (the form never shows it);
	// the checkbox clears it.
	switch {
	case strings.TrimSpace(form.Phone) != "":
		patch.Phone = &form.Phone
	case form.ClearPhone:
		empty := ""
		patch.Phone = &empty
	}
	if _, err := s.UpdatePerson(ctx, web.Actor(r), id, patch); err != nil {
		status, general, ok := formError(lang, err, errs)
		if !ok {
			return err
		}
		return s.renderPerson(w, r, status, p, false, form, errs, general)
	}
	http.Redirect(w, r, fmt.Sprintf("/people/%d?msg=common.saved", id), http.StatusSeeOther)
	return nil
}

// postReveal shows the page with the full phone number, audited. A POST,
// so the number is never in a URL, a link preview or the browser history.
func (s *Service) postReveal(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.RevealPhone(r.Context(), web.Actor(r), id, "page")
	if err != nil {
		return err
	}
	return s.renderPerson(w, r, http.StatusOK, p, true, formFromPerson(p), fieldErrors{}, "")
}

// ---- spreadsheets ----

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// sendXLSX builds the file first, so a failure is an error page and not a
// truncated download.
func sendXLSX(w http.ResponseWriter, name string, build func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := build(&buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, err := buf.WriteTo(w)
	return err
}

func (s *Service) getUnitTemplate(w http.ResponseWriter, r *http.Request) error {
	return sendXLSX(w, "units-template.xlsx", s.UnitTemplate)
}

func (s *Service) getPersonTemplate(w http.ResponseWriter, r *http.Request) error {
	return sendXLSX(w, "people-template.xlsx", s.PersonTemplate)
}

func (s *Service) getUnitExport(w http.ResponseWriter, r *http.Request) error {
	name := "units-" + s.now().Format("20060102") + ".xlsx"
	return sendXLSX(w, name, func(out io.Writer) error { return s.ExportUnits(r.Context(), web.Actor(r), out) })
}

func (s *Service) getPersonExport(w http.ResponseWriter, r *http.Request) error {
	full := wantUnmask(r) && web.PrincipalFrom(r.Context()).Can(auth.PermPeoplePII)
	name := "people-" + s.now().Format("20060102") + ".xlsx"
	return sendXLSX(w, name, func(out io.Writer) error { return s.exportPeople(r.Context(), web.Actor(r), out, full) })
}

func wantUnmask(r *http.Request) bool {
	v := r.URL.Query().Get("unmask")
	return v == "1" || v == "true"
}

type importKind struct {
	what     string // units | people
	titleKey string
	run      func(s *Service, ctx context.Context, actor audit.Entry, r io.Reader) (ImportResult, error)
}

var (
	importUnits  = importKind{what: "units", titleKey: "org.import.units_title", run: (*Service).ImportUnits}
	importPeople = importKind{what: "people", titleKey: "org.import.people_title", run: (*Service).ImportPeople}
)

type rowErrView struct {
	Row             int
	Column, Message string
}

type importPage struct {
	What     string
	Done     bool
	Result   ImportResult
	Error    string
	Errors   []rowErrView
	Template string
	Back     string
}

func (k importKind) page() importPage {
	return importPage{What: k.what, Template: "/" + k.what + "/template.xlsx", Back: "/" + k.what}
}

func (s *Service) getImport(k importKind) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.web.HTML(w, r, "org_import.html", k.titleKey, k.page())
	}
}

// postImport reads the "file" part of a bounded multipart body (sheet.Upload).
func (s *Service) postImport(k importKind) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		lang := web.Lang(ctx)
		d := k.page()
		status := http.StatusOK
		file, _, err := sheet.Upload(w, r, "file", MaxUploadBytes)
		if err == nil {
			d.Result, err = k.run(s, ctx, web.Actor(r), bytes.NewReader(file))
		}
		if err != nil {
			_, text, ok := errorText(lang, err)
			if !ok {
				return err
			}
			if l := (*localError)(nil); !errors.As(err, &l) {
				text, _ = sheet.ErrorText(lang, err) // the platform's upload and import errors
			}
			if e, isApp := apperr.As(err); isApp {
				status = e.Status
			}
			d.Error = text
			for _, re := range d.Result.Errors {
				d.Errors = append(d.Errors, rowErrView{Row: re.Row, Column: re.Column, Message: re.Text(lang)})
			}
		} else {
			d.Done = true
		}
		page := s.web.NewPage(r, k.titleKey, d)
		return s.web.HTMLPage(w, status, "org_import.html", page)
	}
}
