package notify

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

//go:embed templates/*.html openapi.json
var files embed.FS

// Register adds the inbox pages, the inbox API and its OpenAPI fragment,
// the navigation entry, the messages and the home figure "未读消息" to ws.
func (s *Service) Register(ws *web.Server) error {
	if err := ws.Render.Add(files, "templates/notify_inbox.html"); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if err := ws.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	ws.Messages.Add(messagesZH, messagesEN)
	ws.Nav(web.NavItem{Key: "nav.inbox", Path: "/inbox", Perm: auth.PermSignedIn, Order: 5})

	h := &handlers{s: s, ws: ws}
	ws.Handle("GET /inbox", auth.PermSignedIn, h.getInbox)
	ws.Handle("POST /inbox/{id}/read", auth.PermSignedIn, h.postRead)
	ws.Handle("POST /inbox/read-all", auth.PermSignedIn, h.postReadAll)
	ws.Handle("GET /api/v1/inbox", auth.PermSignedIn, h.apiInbox)
	ws.Handle("POST /api/v1/inbox/{id}/read", auth.PermSignedIn, h.apiRead)
	ws.Handle("POST /api/v1/inbox/read-all", auth.PermSignedIn, h.apiReadAll)

	ws.AddStat(func(ctx context.Context, p *auth.Principal) (web.Stat, bool) {
		if p == nil {
			return web.Stat{}, false
		}
		n, err := s.Unread(ctx, p.UserID)
		if err != nil {
			ws.Log.Warn("notify: home figure", "err", err)
			return web.Stat{}, false
		}
		return web.Stat{Key: "inbox.unread_stat", Value: strconv.Itoa(n)}, true
	})
	return nil
}

type handlers struct {
	s  *Service
	ws *web.Server
}

const pageSize = 30

// apiLang is the request's language (the platform reads the cookie, or
// Accept-Language for API clients).
func apiLang(r *http.Request) string { return web.Lang(r.Context()) }

func parseBool(field, v string) (bool, error) {
	switch v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, apperr.Invalid(field, field+" 须为 1、0、true 或 false / "+field+" must be 1, 0, true or false")
}

func filterOf(r *http.Request) (InboxFilter, error) {
	q := r.URL.Query()
	unread, err := parseBool("unread", q.Get("unread"))
	if err != nil {
		return InboxFilter{}, err
	}
	kind := q.Get("kind")
	if !validKind(kind) {
		return InboxFilter{}, apperr.Invalid("kind", "kind 须为小写字母和下划线 / kind must be lower-case letters and underscores")
	}
	return InboxFilter{UnreadOnly: unread, Kind: kind}, nil
}

// Pages.

type inboxView struct {
	*Inbox
	UnreadOnly bool
	Back       string
	Prev, Next string
	First      int
	Last       int
}

func (h *handlers) getInbox(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 100000 {
			return apperr.Invalid("page", "page 须为正整数 / page must be a positive integer")
		}
	}
	f.Limit, f.Offset, f.Lang = pageSize, (page-1)*pageSize, web.Lang(r.Context())
	in, err := h.s.Inbox(r.Context(), p.UserID, f)
	if err != nil {
		return err
	}
	v := inboxView{Inbox: in, UnreadOnly: f.UnreadOnly, Back: r.URL.RequestURI()}
	link := func(pg int) string {
		q := url.Values{}
		if f.UnreadOnly {
			q.Set("unread", "1")
		}
		if f.Kind != "" {
			q.Set("kind", f.Kind)
		}
		if pg > 1 {
			q.Set("page", strconv.Itoa(pg))
		}
		if len(q) == 0 {
			return "/inbox"
		}
		return "/inbox?" + q.Encode()
	}
	if page > 1 {
		v.Prev = link(page - 1)
	}
	if f.Offset+len(in.Items) < in.Total {
		v.Next = link(page + 1)
	}
	if len(in.Items) > 0 {
		v.First, v.Last = f.Offset+1, f.Offset+len(in.Items)
	}
	return h.ws.HTML(w, r, "notify_inbox.html", "inbox.title", v)
}

// safeBack keeps redirects on this site.
func safeBack(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	return next
}

// postRead marks a message read, then goes back to the inbox, or with
// open=1 to the message's link.
func (h *handlers) postRead(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.BadRequest("bad_form", "表单无法解析 / the form cannot be read")
	}
	n, err := h.s.MarkRead(r.Context(), web.PrincipalFrom(r.Context()).UserID, id, web.Lang(r.Context()))
	if err != nil {
		return err
	}
	to := safeBack(r.PostForm.Get("back"), "/inbox")
	if r.PostForm.Get("open") == "1" && n.Link != "" {
		to = safeBack(n.Link, to)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (h *handlers) postReadAll(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.s.MarkAllRead(r.Context(), web.PrincipalFrom(r.Context()).UserID); err != nil {
		return err
	}
	http.Redirect(w, r, "/inbox?msg=flash.inbox.read_all", http.StatusSeeOther)
	return nil
}

// API.

func (h *handlers) apiInbox(w http.ResponseWriter, r *http.Request) error {
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	if f.Limit, f.Offset, err = web.Paging(r); err != nil {
		return err
	}
	f.Lang = apiLang(r)
	in, err := h.s.Inbox(r.Context(), web.PrincipalFrom(r.Context()).UserID, f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, in)
}

func (h *handlers) apiRead(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	n, err := h.s.MarkRead(r.Context(), web.PrincipalFrom(r.Context()).UserID, id, apiLang(r))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, n)
}

type readAllResponse struct {
	Marked int `json:"marked"`
	Unread int `json:"unread"`
}

func (h *handlers) apiReadAll(w http.ResponseWriter, r *http.Request) error {
	uid := web.PrincipalFrom(r.Context()).UserID
	n, err := h.s.MarkAllRead(r.Context(), uid)
	if err != nil {
		return err
	}
	left, err := h.s.Unread(r.Context(), uid)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, readAllResponse{Marked: n, Unread: left})
}
