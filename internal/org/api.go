package org

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

// GET /api/v1/units: every unit; limit and offset page it when given.
func (s *Service) apiListUnits(w http.ResponseWriter, r *http.Request) error {
	us, err := s.ListUnits(r.Context())
	if err != nil {
		return err
	}
	total := len(us)
	q := r.URL.Query()
	if q.Has("limit") || q.Has("offset") {
		limit, offset, err := web.Paging(r)
		if err != nil {
			return err
		}
		us = us[min(offset, total):min(offset+limit, total)]
	}
	return web.WriteList(w, us, total)
}

func (s *Service) apiCreateUnit(w http.ResponseWriter, r *http.Request) error {
	var in UnitInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.CreateUnit(r.Context(), web.Actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/units/"+strconv.FormatInt(u.ID, 10))
	return web.WriteJSON(w, http.StatusCreated, u)
}

func (s *Service) apiGetUnit(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.Unit(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

func (s *Service) apiPatchUnit(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var p UnitPatch
	if err := web.DecodeJSON(r, &p); err != nil {
		return err
	}
	u, err := s.UpdateUnit(r.Context(), web.Actor(r), id, p)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

// unmaskFor decides whether phones go out in full: only when asked
// (?unmask=1) by a holder of people.pii. Asking without the permission is
// answered with masked numbers and recorded as denied.
func (s *Service) unmaskFor(r *http.Request, object string) bool {
	if !wantUnmask(r) {
		return false
	}
	if web.PrincipalFrom(r.Context()).Can(auth.PermPeoplePII) {
		return true
	}
	e := web.Actor(r)
	e.Action, e.Object, e.Result = "person.unmask", object, audit.Denied
	e.Summary = "unmask=1 without " + string(auth.PermPeoplePII) + "; phones sent masked"
	if err := s.audit.Write(r.Context(), e); err != nil && s.web != nil {
		s.web.Log.Warn("org: audit denied unmask", "err", err)
	}
	return false
}

func maskAll(ps []Person) {
	for i := range ps {
		ps[i].Phone = MaskPhone(ps[i].Phone)
	}
}

// GET /api/v1/people?unit_id=&q=&limit=&offset=&unmask=1
func (s *Service) apiListPeople(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := PeopleFilter{Q: strings.TrimSpace(q.Get("q")), Limit: limit, Offset: offset,
		SearchPhone: web.PrincipalFrom(ctx).Can(auth.PermPeoplePII)}
	if v := q.Get("unit_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return invalid("unit_id", "org.err.unit_id_param")
		}
		f.UnitID = id
	}
	ps, total, err := s.ListPeople(ctx, f)
	if err != nil {
		return err
	}
	if s.unmaskFor(r, "people") {
		if err := s.auditReveal(ctx, web.Actor(r), ps, "api list"); err != nil {
			return err
		}
	} else {
		maskAll(ps)
	}
	return web.WriteList(w, ps, total)
}

func (s *Service) apiGetPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.Person(r.Context(), id)
	if err != nil {
		return err
	}
	if s.unmaskFor(r, "person:"+strconv.FormatInt(id, 10)) {
		if err := s.auditReveal(r.Context(), web.Actor(r), []Person{*p}, "api"); err != nil {
			return err
		}
	} else {
		p.Phone = MaskPhone(p.Phone)
	}
	return web.WriteJSON(w, http.StatusOK, p)
}

func (s *Service) apiCreatePerson(w http.ResponseWriter, r *http.Request) error {
	var in PersonInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.CreatePerson(r.Context(), web.Actor(r), in)
	if err != nil {
		return err
	}
	p.Phone = MaskPhone(p.Phone)
	w.Header().Set("Location", "/api/v1/people/"+strconv.FormatInt(p.ID, 10))
	return web.WriteJSON(w, http.StatusCreated, p)
}

func (s *Service) apiPatchPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var patch PersonPatch
	if err := web.DecodeJSON(r, &patch); err != nil {
		return err
	}
	p, err := s.UpdatePerson(r.Context(), web.Actor(r), id, patch)
	if err != nil {
		return err
	}
	p.Phone = MaskPhone(p.Phone)
	return web.WriteJSON(w, http.StatusOK, p)
}
