package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	langKey
	routeKey
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "biaogan_session"

// PrincipalFrom returns the signed-in account, or nil.
func PrincipalFrom(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey).(*auth.Principal)
	return p
}

// WithPrincipal puts p in ctx (tests and the identify middleware).
func WithPrincipal(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// Lang returns the request's language.
func Lang(ctx context.Context) string {
	if l, ok := ctx.Value(langKey).(string); ok {
		return l
	}
	return "zh-CN"
}

// ClientIP is the peer address (a reverse proxy should be configured to
// pass a trusted one; we do not trust X-Forwarded-For from anyone).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// identify resolves the bearer token or the session cookie and the language.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var p *auth.Principal
		var err error
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.Error(w, r, apperr.Unauthorized("bad_authorization", "Authorization 须为 Bearer 令牌 / Authorization must be a Bearer token"))
				return
			}
			p, err = s.Auth.TokenPrincipal(ctx, strings.TrimSpace(tok))
			if err == nil && p == nil {
				s.Error(w, r, apperr.Unauthorized("invalid_token", "令牌无效、已撤销或已过期 / token invalid, revoked or expired"))
				return
			}
		} else if c, cerr := r.Cookie(s.cookieName()); cerr == nil {
			p, err = s.Auth.SessionPrincipal(ctx, c.Value)
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		lang := s.Cfg.DefaultLang
		if c, err := r.Cookie("lang"); err == nil && NormLang(c.Value) != "" {
			lang = NormLang(c.Value)
		} else if strings.HasPrefix(r.URL.Path, "/api/") {
			// API clients have no language cookie; pages keep the office's
			// default whatever the browser says.
			if l := acceptLang(r.Header.Get("Accept-Language")); l != "" {
				lang = l
			}
		}
		ctx = context.WithValue(ctx, langKey, lang)
		if p != nil {
			ctx = WithPrincipal(ctx, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) cookieName() string {
	if s.Cfg.Secure {
		return "__Host-" + SessionCookie
	}
	return SessionCookie
}

// SetSession writes the session cookie.
func (s *Server) SetSession(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: secret, Path: "/", HttpOnly: true, Secure: s.Cfg.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.Auth.Settings.SessionMax.Seconds())})
}

// ClearSession removes the session cookie.
func (s *Server) ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.Cfg.Secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// csrf refuses cross-origin state-changing browser requests (Fetch
// Metadata and Origin checks); SameSite=Lax cookies are the second layer.
func csrf(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := apperr.Forbidden("cross_origin_request", "跨站请求被拒绝 / cross-origin request refused")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			WriteError(w, e)
			return
		}
		http.Error(w, e.Message, e.Status)
	}))
	return cop.Handler(next)
}

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.Cfg.Secure || r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		if r.ContentLength > s.Cfg.MaxBody && !isUpload(r) {
			s.Error(w, r, apperr.BadRequest("too_large", "请求过大 / request too large"))
			return
		}
		if !isUpload(r) {
			r.Body = http.MaxBytesReader(w, r.Body, s.Cfg.MaxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// isUpload: multipart bodies are bounded by the upload handlers themselves.
func isUpload(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		route := new(string)
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), routeKey, route)))
		if *route == "" {
			*route = "unmatched"
		}
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.reqs.WithLabelValues(*route, strconv.Itoa(sw.code)).Inc()
		s.duration.WithLabelValues(*route).Observe(time.Since(start).Seconds())
	})
}

func setRoute(r *http.Request, pattern string) {
	if p, ok := r.Context().Value(routeKey).(*string); ok {
		*p = pattern
	}
}

func prometheusGo() prometheus.Collector { return collectors.NewGoCollector() }
func prometheusProcess() prometheus.Collector {
	return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
}

// ipLimiter is a per-client-IP token bucket for sign-in attempts.
type ipLimiter struct {
	mu     sync.Mutex
	perMin int
	m      map[string]*limEntry
}

type limEntry struct {
	l    *rate.Limiter
	seen time.Time
}

func newIPLimiter(perMin int) *ipLimiter {
	return &ipLimiter{perMin: perMin, m: map[string]*limEntry{}}
}

// Allow reports whether ip may try now.
func (l *ipLimiter) Allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if len(l.m) > 10000 { // forget idle clients so memory stays bounded
		for k, e := range l.m {
			if now.Sub(e.seen) > 2*time.Minute {
				delete(l.m, k)
			}
		}
	}
	e, ok := l.m[ip]
	if !ok {
		e = &limEntry{l: rate.NewLimiter(rate.Limit(float64(l.perMin)/60), l.perMin)}
		l.m[ip] = e
	}
	e.seen = now
	return e.l.Allow()
}

// AllowLogin applies the per-IP sign-in rate limit.
func (s *Server) AllowLogin(r *http.Request) error {
	if s.limiter.Allow(ClientIP(r)) {
		return nil
	}
	return &apperr.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAt: time.Now().Add(10 * time.Second),
		Message: "尝试过于频繁，请稍后再试 / too many attempts; wait a moment"}
}

// acceptLang maps the first Accept-Language tag to a supported language.
func acceptLang(h string) string {
	tag, _, _ := strings.Cut(h, ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.ToLower(strings.TrimSpace(tag))
	switch {
	case strings.HasPrefix(tag, "en"):
		return "en"
	case strings.HasPrefix(tag, "zh"):
		return "zh-CN"
	}
	return ""
}
