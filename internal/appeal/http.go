package appeal

import (
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

func (s *Service) registerPages(ws *web.Server) error {
	ws.Messages.Add(messagesZH, messagesEN)
	ws.Nav(web.NavItem{Key: "nav.appeal", Path: "/appeals", Perm: auth.PermAppealRead, Order: 14})
	return nil
}
