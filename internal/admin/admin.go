// Package admin holds the pages and API for administering the platform
// itself, split across the three separated admin roles (三员分立):
//
//   - every account: my account, own password, own API tokens;
//   - security admin (users.read / users.write): accounts and roles;
//   - audit admin (audit.read): the audit log, its chain verification and
//     pruning beyond the retention floor;
//   - system admin (system.config): the system page.
//
// State changes go through the auth and audit services, which write the
// audit records.
package admin

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

//go:embed templates/*.html openapi.json
var files embed.FS

// KV is one line of the system page.
type KV struct {
	// Key is a message key (e.g. "system.version") or, when the catalog
	// has no such key, the label shown as is.
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Options are what app wires in.
type Options struct {
	// SystemInfo lists facts for the system page: version, database
	// engine, data directory, schema version, time zone. The keys
	// system.version, system.db_engine, system.data_dir,
	// system.schema_version and system.time_zone are translated.
	SystemInfo func(ctx context.Context) []KV
}

// Admin serves the administration pages and API.
type Admin struct {
	auth *auth.Service
	log  *audit.Log
	opts Options
	s    *web.Server
	loc  *time.Location
}

// New returns the admin feature on the accounts service and the audit log.
func New(a *auth.Service, l *audit.Log, opts Options) *Admin {
	return &Admin{auth: a, log: l, opts: opts, loc: time.UTC}
}

// Register adds the routes, templates, messages, navigation entries and the
// OpenAPI fragment to s.
func (ad *Admin) Register(s *web.Server) error {
	ad.s = s
	if s.Cfg.Location != nil {
		ad.loc = s.Cfg.Location
	}
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return fmt.Errorf("admin: templates: %w", err)
	}
	if err := s.Render.Add(files, pages...); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	s.Messages.Add(messagesZH, messagesEN)
	if err := s.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	s.Nav(
		web.NavItem{Key: "nav.users", Path: "/admin/users", Perm: auth.PermUsersRead, Order: 90},
		web.NavItem{Key: "nav.audit", Path: "/audit", Perm: auth.PermAuditRead, Order: 91},
		web.NavItem{Key: "nav.system", Path: "/system", Perm: auth.PermSystemConfig, Order: 92},
	)

	// My account: any signed-in account.
	s.Handle("GET /account", auth.PermSignedIn, ad.getAccount)
	s.HandleExpiredOK("GET /account/password", auth.PermSignedIn, ad.getPassword)
	s.HandleExpiredOK("POST /account/password", auth.PermSignedIn, ad.postPassword)
	s.Handle("GET /account/tokens", auth.PermSignedIn, ad.getTokens)
	s.Handle("POST /account/tokens", auth.PermSignedIn, ad.postToken)
	s.Handle("POST /account/tokens/{id}/revoke", auth.PermSignedIn, ad.postRevokeToken)
	s.HandleExpiredOK("POST /api/v1/auth/password", auth.PermSignedIn, ad.apiChangePassword)
	s.Handle("GET /api/v1/tokens", auth.PermSignedIn, ad.apiListTokens)
	s.Handle("POST /api/v1/tokens", auth.PermSignedIn, ad.apiCreateToken)
	s.Handle("DELETE /api/v1/tokens/{id}", auth.PermSignedIn, ad.apiRevokeToken)

	// Accounts: security admin.
	s.Handle("GET /admin/users", auth.PermUsersRead, ad.getUsers)
	s.Handle("GET /admin/users/new", auth.PermUsersWrite, ad.getNewUser)
	s.Handle("POST /admin/users/new", auth.PermUsersWrite, ad.postNewUser)
	s.Handle("GET /admin/users/{id}", auth.PermUsersRead, ad.getUser)
	s.Handle("POST /admin/users/{id}/roles", auth.PermUsersWrite, ad.postUserRoles)
	s.Handle("POST /admin/users/{id}/disable", auth.PermUsersWrite, ad.postUserDisabled(true))
	s.Handle("POST /admin/users/{id}/enable", auth.PermUsersWrite, ad.postUserDisabled(false))
	s.Handle("POST /admin/users/{id}/unlock", auth.PermUsersWrite, ad.postUserUnlock)
	s.Handle("POST /admin/users/{id}/password", auth.PermUsersWrite, ad.postUserPassword)
	s.Handle("GET /api/v1/users", auth.PermUsersRead, ad.apiListUsers)
	s.Handle("POST /api/v1/users", auth.PermUsersWrite, ad.apiCreateUser)
	s.Handle("GET /api/v1/users/{id}", auth.PermUsersRead, ad.apiGetUser)
	s.Handle("PATCH /api/v1/users/{id}", auth.PermUsersWrite, ad.apiPatchUser)
	s.Handle("POST /api/v1/users/{id}/unlock", auth.PermUsersWrite, ad.apiUnlockUser)
	s.Handle("POST /api/v1/users/{id}/password", auth.PermUsersWrite, ad.apiResetPassword)

	// Audit log: audit admin, read-only apart from pruning.
	s.Handle("GET /audit", auth.PermAuditRead, ad.getAudit)
	s.Handle("GET /audit/verify", auth.PermAuditRead, ad.getVerify)
	s.Handle("POST /audit/prune", auth.PermAuditRead, ad.postPrune)
	s.Handle("GET /api/v1/audit", auth.PermAuditRead, ad.apiListAudit)
	s.Handle("GET /api/v1/audit/verify", auth.PermAuditRead, ad.apiVerify)

	// System: system admin.
	s.Handle("GET /system", auth.PermSystemConfig, ad.getSystem)
	return nil
}

// Errs holds form errors by field name.
type Errs map[string]string

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

// formError puts a domain error on the page: next to its field when the
// field is one of the form's (renamed through fields), else at the top. It
// returns the status to answer with, or the error itself when it is not a
// domain error.
func formError(p *web.Page, errs Errs, err error, fields map[string]string) (int, error) {
	e, ok := apperr.As(err)
	if !ok {
		return 0, err
	}
	msg := pick(p.Lang, e.Message)
	if f, ok := fields[e.Field]; ok && e.Field != "" {
		errs[f] = msg
	} else {
		p.Error = msg
	}
	return e.Status, nil
}

// pager is the paging of a list page.
type pager struct {
	Total, Limit, Offset int
	First, Last          int
	Prev, Next           string
}

func newPager(r *http.Request, total, limit, offset int) pager {
	pg := pager{Total: total, Limit: limit, Offset: offset}
	if total > 0 && offset < total {
		pg.First, pg.Last = offset+1, min(offset+limit, total)
	}
	link := func(off int) string {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "offset" && k != "msg" && k != "pruned" {
				q[k] = v
			}
		}
		if off > 0 {
			q.Set("offset", strconv.Itoa(off))
		}
		if len(q) == 0 {
			return r.URL.Path
		}
		return r.URL.Path + "?" + q.Encode()
	}
	if offset > 0 {
		pg.Prev = link(max(0, offset-limit))
	}
	if offset+limit < total {
		pg.Next = link(offset + limit)
	}
	return pg
}

// seeOther redirects after a successful form post.
func seeOther(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
