package org

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

//go:embed templates/*.html openapi.json
var files embed.FS

// Register adds the pages, the API, templates, messages, navigation, the
// OpenAPI fragment and the home figures to ws.
func (s *Service) Register(ws *web.Server) error {
	s.web = ws
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	if err := ws.Render.Add(files, pages...); err != nil {
		return fmt.Errorf("org: %w", err)
	}
	ws.Messages.Add(messagesZH, messagesEN)
	if err := ws.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("org: %w", err)
	}
	ws.Nav(
		web.NavItem{Key: "nav.units", Path: "/units", Perm: auth.PermUnitsRead, Order: 80},
		web.NavItem{Key: "nav.people", Path: "/people", Perm: auth.PermPeopleRead, Order: 81},
	)

	// Units: pages.
	ws.Handle("GET /units", auth.PermUnitsRead, s.getUnits)
	ws.Handle("GET /units/new", auth.PermUnitsWrite, s.getNewUnit)
	ws.Handle("POST /units", auth.PermUnitsWrite, s.postNewUnit)
	ws.Handle("GET /units/{id}", auth.PermUnitsRead, s.getUnit)
	ws.Handle("POST /units/{id}", auth.PermUnitsWrite, s.postUnit)
	ws.Handle("GET /units/template.xlsx", auth.PermUnitsWrite, s.getUnitTemplate)
	ws.Handle("GET /units/import", auth.PermUnitsWrite, s.getImport(importUnits))
	ws.Handle("POST /units/import", auth.PermUnitsWrite, s.postImport(importUnits))
	ws.Handle("GET /units/export.xlsx", auth.PermUnitsRead, s.getUnitExport)

	// People: pages.
	ws.Handle("GET /people", auth.PermPeopleRead, s.getPeople)
	ws.Handle("GET /people/new", auth.PermPeopleWrite, s.getNewPerson)
	ws.Handle("POST /people", auth.PermPeopleWrite, s.postNewPerson)
	ws.Handle("GET /people/{id}", auth.PermPeopleRead, s.getPerson)
	ws.Handle("POST /people/{id}", auth.PermPeopleWrite, s.postPerson)
	ws.Handle("POST /people/{id}/reveal", auth.PermPeoplePII, s.postReveal)
	ws.Handle("GET /people/template.xlsx", auth.PermPeopleWrite, s.getPersonTemplate)
	ws.Handle("GET /people/import", auth.PermPeopleWrite, s.getImport(importPeople))
	ws.Handle("POST /people/import", auth.PermPeopleWrite, s.postImport(importPeople))
	ws.Handle("GET /people/export.xlsx", auth.PermPeopleRead, s.getPersonExport)

	// JSON API.
	ws.Handle("GET /api/v1/units", auth.PermUnitsRead, s.apiListUnits)
	ws.Handle("POST /api/v1/units", auth.PermUnitsWrite, s.apiCreateUnit)
	ws.Handle("GET /api/v1/units/{id}", auth.PermUnitsRead, s.apiGetUnit)
	ws.Handle("PATCH /api/v1/units/{id}", auth.PermUnitsWrite, s.apiPatchUnit)
	ws.Handle("GET /api/v1/people", auth.PermPeopleRead, s.apiListPeople)
	ws.Handle("POST /api/v1/people", auth.PermPeopleWrite, s.apiCreatePerson)
	ws.Handle("GET /api/v1/people/{id}", auth.PermPeopleRead, s.apiGetPerson)
	ws.Handle("PATCH /api/v1/people/{id}", auth.PermPeopleWrite, s.apiPatchPerson)

	ws.AddStat(s.stat(auth.PermUnitsRead, "home.units_count", s.CountUnits))
	ws.AddStat(s.stat(auth.PermPeopleRead, "home.people_count", s.CountPeople))
	return nil
}

func (s *Service) stat(perm auth.Permission, key string, count func(context.Context) (int, error)) web.StatFunc {
	return func(ctx context.Context, p *auth.Principal) (web.Stat, bool) {
		if !p.Can(perm) {
			return web.Stat{}, false
		}
		n, err := count(ctx)
		if err != nil {
			if s.web != nil {
				s.web.Log.Warn("org: home figure", "key", key, "err", err)
			}
			return web.Stat{}, false
		}
		return web.Stat{Key: key, Value: strconv.Itoa(n)}, true
	}
}
