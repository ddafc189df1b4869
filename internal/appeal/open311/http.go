package open311

import (
	"embed"
	"fmt"
	"net/http"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

//go:embed templates/*.html
var files embed.FS

// keysView is the key admin page.
type keysView struct {
	Keys      []Key
	Name      string
	NameError string
	NewSecret string
	NewName   string
	Endpoint  string
}

func (a *API) registerPages(s *web.Server) error {
	if err := s.Render.Add(files, "templates/open311_keys.html"); err != nil {
		return fmt.Errorf("open311: %w", err)
	}
	s.Messages.Add(messagesZH, messagesEN)
	s.Nav(web.NavItem{Key: "nav.open311", Path: "/admin/open311", Perm: auth.PermOpen311Admin, Order: 93})
	s.Handle("GET /admin/open311", auth.PermOpen311Admin, func(w http.ResponseWriter, r *http.Request) error {
		return a.keysPage(w, r, http.StatusOK, &keysView{}, "")
	})
	s.Handle("POST /admin/open311/keys", auth.PermOpen311Admin, a.postKey)
	s.Handle("POST /admin/open311/keys/{id}/revoke", auth.PermOpen311Admin, a.postRevoke)
	return nil
}

func (a *API) keysPage(w http.ResponseWriter, r *http.Request, status int, v *keysView, flash string) error {
	keys, err := a.Keys.List(r.Context())
	if err != nil {
		return err
	}
	v.Keys = keys
	v.Endpoint = a.base(r) + Prefix
	s := a.server
	p := s.NewPage(r, "open311.keys.title", v)
	if flash != "" {
		p.Flash = p.T(flash)
	}
	return s.HTMLPage(w, status, "open311_keys.html", p)
}

// pick returns the part of a bilingual "中文 / English" message for lang.
func pick(lang, msg string) string {
	zh, en, ok := strings.Cut(msg, " / ")
	if !ok {
		return msg
	}
	if lang == "en" {
		return en
	}
	return zh
}

func (a *API) postKey(w http.ResponseWriter, r *http.Request) error {
	v := &keysView{Name: r.PostFormValue("name")}
	secret, key, err := a.Keys.Add(r.Context(), web.Actor(r), v.Name)
	if err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return err
		}
		v.NameError = pick(web.Lang(r.Context()), e.Message)
		return a.keysPage(w, r, e.Status, v, "")
	}
	// Render (not redirect) so the secret is shown once and never stored.
	return a.keysPage(w, r, http.StatusOK, &keysView{NewSecret: secret, NewName: key.Name}, "flash.open311_key_added")
}

func (a *API) postRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.Keys.Revoke(r.Context(), web.Actor(r), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/open311?msg=flash.open311_key_revoked", http.StatusSeeOther)
	return nil
}
