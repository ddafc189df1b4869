package web

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
)

// Stat is a figure on the home page, supplied by a feature.
type Stat struct {
	Key   string // message key of the label
	Value string
}

// StatFunc returns a home figure for the viewer, or ok=false to skip it.
type StatFunc func(ctx context.Context, p *auth.Principal) (Stat, bool)

// UnitNamer names a unit for the home page (wired by app to org).
type UnitNamer func(ctx context.Context, id int64) string

// BannerFunc returns a warning to show on every page for the viewer, or ""
// for none (e.g. next year's holiday data is missing).
type BannerFunc func(ctx context.Context, p *auth.Principal, lang string) string

// AddBanner adds a page-wide warning.
func (s *Server) AddBanner(f BannerFunc) { s.banners = append(s.banners, f) }

// AddStat adds a home-page figure.
func (s *Server) AddStat(f StatFunc) { s.stats = append(s.stats, f) }

// Actor is the audit actor of the request.
func Actor(r *http.Request) audit.Entry {
	p := PrincipalFrom(r.Context())
	e := audit.Entry{IP: ClientIP(r), Actor: "anonymous"}
	if p != nil {
		e.ActorID, e.Actor = p.UserID, p.Username
	}
	return e
}

func (s *Server) registerBase() {
	s.Handle("GET /healthz", auth.PermPublic, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := w.Write([]byte("ok\n"))
		return err
	})
	s.Handle("GET /readyz", auth.PermPublic, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.Ready(ctx); err != nil {
				s.Log.Warn("not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("not ready\n"))
				return nil
			}
		}
		_, err := w.Write([]byte("ready\n"))
		return err
	})
	metrics := promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{})
	s.Handle("GET /metrics", auth.PermSystemMonitor, func(w http.ResponseWriter, r *http.Request) error {
		metrics.ServeHTTP(w, r)
		return nil
	})
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	s.Handle("GET /static/", auth.PermPublic, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.StripPrefix("/static/", files).ServeHTTP(w, r)
		return nil
	})
	s.Handle("GET /favicon.ico", auth.PermPublic, func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
		return nil
	})
	s.Handle("POST /lang", auth.PermPublic, s.postLang)
	s.Handle("GET /login", auth.PermPublic, s.getLogin)
	s.Handle("POST /login", auth.PermPublic, s.postLogin)
	s.HandleExpiredOK("POST /logout", auth.PermSignedIn, s.postLogout)
	s.Handle("GET /setup", auth.PermPublic, s.getSetup)
	s.Handle("POST /setup", auth.PermPublic, s.postSetup)
	s.Handle("GET /{$}", auth.PermSignedIn, s.getHome)
	s.Nav(NavItem{Key: "nav.home", Path: "/", Perm: auth.PermSignedIn, Order: 0})

	s.Handle("GET /api/v1/openapi.json", auth.PermPublic, s.OpenAPI.serve)
	s.Handle("POST /api/v1/auth/login", auth.PermPublic, s.apiLogin)
	s.HandleExpiredOK("POST /api/v1/auth/logout", auth.PermSignedIn, s.apiLogout)
	s.HandleExpiredOK("GET /api/v1/me", auth.PermSignedIn, s.apiMe)
	// Anything else under /api/ is a JSON 404, never an HTML page.
	s.mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r, "unmatched-api")
		WriteError(w, apperr.NotFound("not_found", fmt.Sprintf("没有这个接口 / no such endpoint: %s %s", r.Method, r.URL.Path)))
	}))
	s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r, "unmatched")
		s.Render.ErrorPage(w, r, apperr.NotFound("not_found", "not found"))
	}))
}

func (s *Server) postLang(w http.ResponseWriter, r *http.Request) error {
	lang := NormLang(r.FormValue("lang"))
	if lang == "" {
		return apperr.Invalid("lang", "不支持的语言 / unsupported language")
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: s.Cfg.Secure, HttpOnly: true})
	http.Redirect(w, r, safeNext(r.FormValue("back")), http.StatusSeeOther)
	return nil
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

type loginData struct{ Next, Username string }

func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) error {
	if PrincipalFrom(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.HTML(w, r, "login.html", "login.title", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) error {
	username, password := r.FormValue("username"), r.FormValue("password")
	page := s.NewPage(r, "login.title", loginData{Next: safeNext(r.FormValue("next")), Username: username})
	w.Header().Set("Cache-Control", "no-store")
	if err := s.AllowLogin(r); err != nil {
		page.Error = page.T("login.ratelimited")
		return s.HTMLPage(w, http.StatusTooManyRequests, "login.html", page)
	}
	u, err := s.Auth.Authenticate(r.Context(), username, password, ClientIP(r))
	if err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return err
		}
		switch e.Code {
		case "account_locked":
			page.Error = page.T("login.locked", e.RetryAt.In(s.Cfg.Location).Format("15:04"))
		default:
			page.Error = page.T("login.failed")
		}
		return s.HTMLPage(w, e.Status, "login.html", page)
	}
	secret, err := s.Auth.CreateSession(r.Context(), u, ClientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	// A new id at every sign-in; an old cookie is simply replaced.
	s.SetSession(w, secret)
	next := safeNext(r.FormValue("next"))
	if s.Auth.PasswordExpired(u) {
		next = "/account/password?expired=1"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	if err := s.Auth.EndSession(r.Context(), p, ClientIP(r)); err != nil {
		return err
	}
	s.ClearSession(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

type setupData struct {
	Valid           bool
	Token, Username string
}

func (s *Server) getSetup(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	w.Header().Set("Cache-Control", "no-store")
	return s.HTML(w, r, "setup.html", "setup.title", setupData{Valid: s.Auth.CheckSetupToken(r.Context(), tok), Token: tok})
}

func (s *Server) postSetup(w http.ResponseWriter, r *http.Request) error {
	tok, username := r.FormValue("token"), r.FormValue("username")
	u, err := s.Auth.CompleteSetup(r.Context(), tok, username, r.FormValue("password"), ClientIP(r))
	if err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return err
		}
		p := s.NewPage(r, "setup.title", setupData{Valid: s.Auth.CheckSetupToken(r.Context(), tok), Token: tok, Username: username})
		p.Error = e.Message
		return s.HTMLPage(w, e.Status, "setup.html", p)
	}
	secret, err := s.Auth.CreateSession(r.Context(), u, ClientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	s.SetSession(w, secret)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

type homeData struct {
	UnitName     string
	PasswordDays int
	Stats        []Stat
}

func (s *Server) getHome(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	d := homeData{}
	if p.UnitID != nil && s.UnitName != nil {
		d.UnitName = s.UnitName(r.Context(), *p.UnitID)
	}
	if u, err := s.Auth.UserByID(r.Context(), p.UserID); err == nil && s.Auth.Settings.Policy.MaxAge > 0 {
		left := s.Auth.Settings.Policy.MaxAge - s.Auth.Now().Sub(u.PasswordChangedAt)
		d.PasswordDays = int(left.Hours()/24) + 1
	}
	for _, f := range s.stats {
		if st, ok := f(r.Context(), p); ok {
			d.Stats = append(d.Stats, st)
		}
	}
	return s.HTML(w, r, "home.html", "nav.home", d)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token           string    `json:"token"`
	ExpiresAt       time.Time `json:"expires_at"`
	PasswordExpired bool      `json:"password_expired"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	if err := s.AllowLogin(r); err != nil {
		return err
	}
	var req loginRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Username == "" {
		return apperr.Invalid("username", "用户名不能为空 / username is required")
	}
	if req.Password == "" {
		return apperr.Invalid("password", "密码不能为空 / password is required")
	}
	u, err := s.Auth.Authenticate(r.Context(), req.Username, req.Password, ClientIP(r))
	if err != nil {
		return err
	}
	exp := s.Auth.Now().Add(s.Auth.Settings.APILoginTTL).UTC()
	actor := audit.Entry{ActorID: u.ID, Actor: u.Username, IP: ClientIP(r)}
	secret, _, err := s.Auth.CreateToken(r.Context(), actor, u.ID, "api login", &exp)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, loginResponse{Token: secret, ExpiresAt: exp, PasswordExpired: s.Auth.PasswordExpired(u)})
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.EndSession(r.Context(), PrincipalFrom(r.Context()), ClientIP(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type meResponse struct {
	ID                 int64       `json:"id"`
	Username           string      `json:"username"`
	DisplayName        string      `json:"display_name"`
	Roles              []auth.Role `json:"roles"`
	UnitID             *int64      `json:"unit_id"`
	MustChangePassword bool        `json:"must_change_password"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFrom(r.Context())
	return WriteJSON(w, http.StatusOK, meResponse{ID: p.UserID, Username: p.Username, DisplayName: p.DisplayName, Roles: p.Roles, UnitID: p.UnitID, MustChangePassword: p.MustChangePassword})
}
