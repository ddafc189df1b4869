package app

import (
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

// wireAppeal wires 12345 诉求 (issue 6).
func (a *App) wireAppeal(ws *web.Server) error {
	ws.Nav(web.NavItem{Key: "nav.appeal", Perm: auth.PermSignedIn, Soon: true, Order: 14})
	return nil
}
