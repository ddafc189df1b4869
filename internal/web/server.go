// Package web is the HTTP platform: router with a permission on every route,
// sessions and bearer tokens, CSRF protection, security headers, templates,
// i18n, JSON helpers and the OpenAPI document. Features register their
// routes, templates, messages and navigation on a *Server.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
)

// Config is what the web layer needs from the configuration.
type Config struct {
	BaseURL     string
	DefaultLang string
	Location    *time.Location
	// Secure marks cookies Secure and sends HSTS (behind TLS).
	Secure bool
	// MaxBody bounds request bodies (uploads have their own limit).
	MaxBody int64
	Version string
}

// Handler is an HTTP handler that returns an error to be rendered.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Route is one registered route and the permission it needs.
type Route struct {
	Method, Path string
	Perm         auth.Permission
	// ExpiredOK lets an account whose password expired through (to change it).
	ExpiredOK bool
	Summary   string
}

// Pattern is the ServeMux pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// API reports whether the route belongs to the JSON API.
func (r Route) API() bool { return strings.HasPrefix(r.Path, "/api/") }

// NavItem is an entry in the navigation.
type NavItem struct {
	Key   string // message key
	Path  string
	Perm  auth.Permission
	Soon  bool // a module not built yet
	Group string
	Order int
}

// Server is the web platform.
type Server struct {
	Cfg      Config
	Auth     *auth.Service
	Log      *slog.Logger
	Messages *Catalog
	Render   *Renderer
	OpenAPI  *OpenAPI
	Metrics  *prometheus.Registry
	// Ready reports whether the service can take traffic (/readyz).
	Ready func(ctx context.Context) error

	// UnitName names the viewer's unit on the home page (wired by app).
	UnitName UnitNamer

	mux      *http.ServeMux
	stats    []StatFunc
	banners  []BannerFunc
	routes   []Route
	nav      []NavItem
	limiter  *ipLimiter
	reqs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewServer makes an empty server.
func NewServer(cfg Config, a *auth.Service, log *slog.Logger) *Server {
	if cfg.DefaultLang == "" {
		cfg.DefaultLang = "zh-CN"
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	s := &Server{Cfg: cfg, Auth: a, Log: log, Messages: NewCatalog(), OpenAPI: NewOpenAPI(cfg.Version),
		Metrics: prometheus.NewRegistry(), mux: http.NewServeMux()}
	s.Render = newRenderer(s)
	perMin := 20
	if a != nil && a.Settings.LoginPerMinute > 0 {
		perMin = a.Settings.LoginPerMinute
	}
	s.limiter = newIPLimiter(perMin)
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "biaogan_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "biaogan_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"})
	s.Metrics.MustRegister(s.reqs, s.duration, prometheusGo(), prometheusProcess())
	s.registerBase()
	return s
}

// Routes lists every registered route.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// Nav adds navigation entries.
func (s *Server) Nav(items ...NavItem) { s.nav = append(s.nav, items...) }

// Handle registers a route: pattern is "METHOD /path", perm is required.
func (s *Server) Handle(pattern string, perm auth.Permission, h Handler) {
	s.handle(pattern, perm, false, h)
}

// HandleExpiredOK registers a route reachable with an expired password.
func (s *Server) HandleExpiredOK(pattern string, perm auth.Permission, h Handler) {
	s.handle(pattern, perm, true, h)
}

func (s *Server) handle(pattern string, perm auth.Permission, expiredOK bool, h Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || perm == "" {
		panic("web: route " + pattern + " needs a method and a permission")
	}
	rt := Route{Method: method, Path: path, Perm: perm, ExpiredOK: expiredOK}
	s.routes = append(s.routes, rt)
	s.mux.Handle(pattern, s.guard(rt, h))
}

// guard enforces the route's permission, then runs h and renders its error.
func (s *Server) guard(rt Route, h Handler) http.Handler {
	api := rt.API()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r, rt.Pattern())
		p := PrincipalFrom(r.Context())
		if rt.Perm != auth.PermPublic {
			if p == nil {
				if api {
					s.Error(w, r, auth.ErrUnauthenticated)
				} else {
					http.Redirect(w, r, "/login?next="+urlEscape(r.URL.RequestURI()), http.StatusSeeOther)
				}
				return
			}
			if p.MustChangePassword && !rt.ExpiredOK {
				if api {
					s.Error(w, r, apperr.Forbidden("password_change_required", "密码已过期，请先修改密码 / your password has expired; change it first (POST /api/v1/auth/password)"))
				} else {
					http.Redirect(w, r, "/account/password?expired=1", http.StatusSeeOther)
				}
				return
			}
			if !p.Can(rt.Perm) {
				s.Error(w, r, &apperr.Error{Status: http.StatusForbidden, Code: "permission_denied",
					Message: fmt.Sprintf("需要权限 %s / permission %s required", rt.Perm, rt.Perm)})
				return
			}
		}
		if !api && rt.Perm != auth.PermPublic {
			w.Header().Set("Cache-Control", "no-store")
		}
		if err := h(w, r); err != nil {
			s.Error(w, r, err)
		}
	})
}

// Error renders err as JSON for the API and as a page otherwise.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := apperr.As(err)
	if !ok {
		if errors.Is(err, context.Canceled) {
			return
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			e = &apperr.Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("请求过大（上限 %d 字节）/ request too large (limit %d bytes)", mbe.Limit, mbe.Limit)}
		} else {
			s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			e = &apperr.Error{Status: http.StatusInternalServerError, Code: "internal", Message: "服务器内部错误 / internal server error"}
		}
	}
	if !e.RetryAt.IsZero() {
		secs := int(time.Until(e.RetryAt).Seconds()) + 1
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.Header().Set("X-Biaogan-Error", e.Code)
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/open311/") {
		WriteError(w, e)
		return
	}
	s.Render.ErrorPage(w, r, e)
}

// Handler returns the whole HTTP handler with middleware.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	h = s.identify(h)
	h = csrf(h)
	h = s.headers(h)
	h = s.observe(h)
	h = s.recoverer(h)
	return h
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.Error(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
