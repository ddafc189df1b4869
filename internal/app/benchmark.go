package app

import (
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

// wireBenchmark wires 对标 (issue 4).
func (a *App) wireBenchmark(ws *web.Server) error {
	ws.Nav(web.NavItem{Key: "nav.benchmark", Perm: auth.PermSignedIn, Soon: true, Order: 12})
	return nil
}
