package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Renderer renders pages inside the shared layout. Each feature adds its own
// template files; every page file defines "content" (and may define "head").
type Renderer struct {
	s      *Server
	mu     sync.RWMutex
	base   *template.Template
	pages  map[string]*template.Template
	assets map[string]bool
}

func newRenderer(s *Server) *Renderer {
	rd := &Renderer{s: s, pages: map[string]*template.Template{}, assets: map[string]bool{}}
	rd.base = template.Must(template.New("layout").Funcs(rd.funcs()).ParseFS(templateFS, "templates/layout.html"))
	for _, a := range []string{"vendor/htmx.min.js", "vendor/echarts.min.js"} {
		if _, err := fs.Stat(staticFS, "static/"+a); err == nil {
			rd.assets[a] = true
		}
	}
	if err := rd.Add(templateFS, "templates/error.html", "templates/login.html", "templates/setup.html", "templates/home.html"); err != nil {
		panic(err)
	}
	return rd
}

func (rd *Renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"time": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.In(rd.s.Cfg.Location).Format("2006-01-02 15:04")
			case *time.Time:
				if v == nil {
					return ""
				}
				return v.In(rd.s.Cfg.Location).Format("2006-01-02 15:04")
			}
			return fmt.Sprint(t)
		},
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"seq": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i
			}
			return s
		},
	}
}

// Add parses page files from fsys; a page is later named by its file name
// without directories (e.g. "units.html"), so names must be unique.
func (rd *Renderer) Add(fsys fs.FS, files ...string) error {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	for _, f := range files {
		t, err := rd.base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(fsys, f); err != nil {
			return fmt.Errorf("web: parse %s: %w", f, err)
		}
		name := f[strings.LastIndex(f, "/")+1:]
		if _, dup := rd.pages[name]; dup {
			return fmt.Errorf("web: template %s registered twice", name)
		}
		rd.pages[name] = t
	}
	return nil
}

// Page is what every template sees as ".".
type Page struct {
	Lang    string
	User    *auth.Principal
	Title   string
	Path    string
	Data    any
	Flash   string
	Error   string
	Nav     []NavView
	Banners []string
	Version string
	HTMX    bool
	ECharts bool
	s       *Server
}

// NavView is a navigation entry as shown.
type NavView struct {
	Label  string
	Path   string
	Active bool
	Soon   bool
}

// T translates a message key in the page's language.
func (p *Page) T(key string, args ...any) string { return p.s.Messages.T(p.Lang, key, args...) }

// Can reports whether the viewer holds a permission.
func (p *Page) Can(perm string) bool { return p.User.Can(auth.Permission(perm)) }

// RoleName translates a role.
func (p *Page) RoleName(r auth.Role) string { return p.T("role." + string(r)) }

// NewPage prepares page data for r.
func (s *Server) NewPage(r *http.Request, titleKey string, data any) *Page {
	p := &Page{Lang: Lang(r.Context()), User: PrincipalFrom(r.Context()), Path: r.URL.Path, Data: data, s: s,
		Version: s.Cfg.Version, HTMX: s.Render.assets["vendor/htmx.min.js"], ECharts: s.Render.assets["vendor/echarts.min.js"]}
	p.Title = p.T(titleKey)
	if m := r.URL.Query().Get("msg"); m != "" && strings.HasPrefix(m, "flash.") || m == "common.saved" {
		p.Flash = p.T(m)
	}
	if p.User != nil {
		for _, f := range s.banners {
			if b := f(r.Context(), p.User, p.Lang); b != "" {
				p.Banners = append(p.Banners, b)
			}
		}
		items := slices.Clone(s.nav)
		sort.SliceStable(items, func(i, j int) bool { return items[i].Order < items[j].Order })
		for _, it := range items {
			if !p.User.Can(it.Perm) {
				continue
			}
			active := it.Path != "" && (r.URL.Path == it.Path || (it.Path != "/" && strings.HasPrefix(r.URL.Path, it.Path+"/")))
			p.Nav = append(p.Nav, NavView{Label: p.T(it.Key), Path: it.Path, Active: active, Soon: it.Soon})
		}
	}
	return p
}

// HTML renders the named page with status 200.
func (s *Server) HTML(w http.ResponseWriter, r *http.Request, name, titleKey string, data any) error {
	return s.Render.render(w, http.StatusOK, name, s.NewPage(r, titleKey, data))
}

// HTMLPage renders a prepared page with a status.
func (s *Server) HTMLPage(w http.ResponseWriter, status int, name string, p *Page) error {
	return s.Render.render(w, status, name, p)
}

func (rd *Renderer) render(w http.ResponseWriter, status int, name string, p *Page) error {
	rd.mu.RLock()
	t := rd.pages[name]
	rd.mu.RUnlock()
	if t == nil {
		return fmt.Errorf("web: no template %s", name)
	}
	// Render to a buffer so a template error never leaves half a page.
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// ErrorPage renders a friendly error page.
func (rd *Renderer) ErrorPage(w http.ResponseWriter, r *http.Request, e *apperr.Error) {
	p := rd.s.NewPage(r, "error.title", nil)
	switch e.Status {
	case http.StatusForbidden:
		p.Error = p.T("error.forbidden")
	case http.StatusNotFound:
		p.Error = p.T("error.notfound")
	case http.StatusInternalServerError:
		p.Error = p.T("error.internal")
	default:
		p.Error = e.Message
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := rd.render(w, e.Status, "error.html", p); err != nil {
		http.Error(w, e.Message, e.Status)
	}
}
