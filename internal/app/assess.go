package app

import (
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

// wireAssess wires 考评 (issue 5).
func (a *App) wireAssess(ws *web.Server) error {
	ws.Nav(web.NavItem{Key: "nav.assess", Perm: auth.PermSignedIn, Soon: true, Order: 13})
	return nil
}
