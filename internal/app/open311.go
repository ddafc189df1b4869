package app

import "github.com/biaogan/biaogan/internal/web"

// wireOpen311 serves the Open311 GeoReport v2 API over a.Open311Backend
// (issue 6).
func (a *App) wireOpen311(ws *web.Server) error {
	return nil
}
