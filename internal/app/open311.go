package app

import (
	"github.com/biaogan/biaogan/internal/appeal/open311"
	"github.com/biaogan/biaogan/internal/web"
)

// wireOpen311 serves the Open311 GeoReport v2 API over a.Open311Backend
// (issue 6) and the page where the system admin issues and revokes keys.
// Without a backend the API answers the spec's "service is not running".
func (a *App) wireOpen311(ws *web.Server) error {
	api := open311.New(a.Open311Backend, open311.NewKeys(a.DB, a.Audit, a.Now), a.Now, a.Log)
	return api.Register(ws)
}
