package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/web"
)

// auditQuery is the filter as typed.
type auditQuery struct {
	Actor, Action, From, To string
}

// parseBound reads a date (YYYY-MM-DD in the configured zone; as an upper
// bound it includes the whole day) or an RFC 3339 time.
func (ad *Admin) parseBound(field, s string, upper bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, ad.loc); err == nil {
		if upper {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, apperr.Invalid(field, "日期格式应为 YYYY-MM-DD 或 RFC 3339 / date must be YYYY-MM-DD or RFC 3339")
}

// auditFilter reads actor, action (prefix), from, to, limit and offset.
func (ad *Admin) auditFilter(r *http.Request) (audit.Filter, auditQuery, error) {
	q := r.URL.Query()
	aq := auditQuery{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	f := audit.Filter{Actor: aq.Actor, Action: aq.Action}
	var err error
	if f.Limit, f.Offset, err = web.Paging(r); err != nil {
		return f, aq, err
	}
	if f.From, err = ad.parseBound("from", aq.From, false); err != nil {
		return f, aq, err
	}
	if f.To, err = ad.parseBound("to", aq.To, true); err != nil {
		return f, aq, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, aq, apperr.Invalid("to", "结束日期不能早于开始日期 / the end date must not be before the start date")
	}
	return f, aq, nil
}

type auditView struct {
	Q       auditQuery
	Records []audit.Record
	Pager   pager
	Errs    Errs
}

func (ad *Admin) getAudit(w http.ResponseWriter, r *http.Request) error {
	v := &auditView{Errs: Errs{}}
	page := ad.s.NewPage(r, "audit.title", v)
	f, aq, err := ad.auditFilter(r)
	v.Q = aq
	if err != nil {
		status, err := formError(page, v.Errs, err, map[string]string{"from": "from", "to": "to", "limit": "limit", "offset": "offset"})
		if err != nil {
			return err
		}
		return ad.s.HTMLPage(w, status, "admin_audit.html", page)
	}
	recs, total, err := ad.log.List(r.Context(), f)
	if err != nil {
		return err
	}
	v.Records = recs
	v.Pager = newPager(r, total, f.Limit, f.Offset)
	return ad.s.HTMLPage(w, http.StatusOK, "admin_audit.html", page)
}

type verifyView struct {
	Res    audit.VerifyResult
	Intact bool
	// Before is the prune form's date; Latest the latest date it accepts.
	Before, Latest string
	Pruned         string
	Errs           Errs
}

func (ad *Admin) verifyPage(r *http.Request) (*web.Page, *verifyView, error) {
	res, err := ad.log.Verify(r.Context())
	if err != nil {
		return nil, nil, err
	}
	latest := ad.log.Now().Add(-audit.MinRetention).In(ad.loc).Format(time.DateOnly)
	v := &verifyView{Res: res, Intact: res.BadID == 0, Latest: latest, Before: latest, Errs: Errs{}}
	if n, err := strconv.ParseInt(r.URL.Query().Get("pruned"), 10, 64); err == nil && n >= 0 {
		v.Pruned = strconv.FormatInt(n, 10)
	}
	return ad.s.NewPage(r, "audit.verify.title", v), v, nil
}

func (ad *Admin) getVerify(w http.ResponseWriter, r *http.Request) error {
	page, _, err := ad.verifyPage(r)
	if err != nil {
		return err
	}
	return ad.s.HTMLPage(w, http.StatusOK, "admin_audit_verify.html", page)
}

func (ad *Admin) postPrune(w http.ResponseWriter, r *http.Request) error {
	in := strings.TrimSpace(r.PostFormValue("before"))
	before, err := time.ParseInLocation(time.DateOnly, in, ad.loc)
	if err != nil {
		return ad.pruneRefused(w, r, in, "audit.prune.bad_date", "")
	}
	n, err := ad.log.Prune(r.Context(), before, web.Actor(r))
	if err != nil {
		if before.After(ad.log.Now().Add(-audit.MinRetention)) {
			// The retention floor: audit.Prune's own message says which dates it takes.
			return ad.pruneRefused(w, r, in, "audit.prune.refused", strings.TrimPrefix(err.Error(), "audit: "))
		}
		return err
	}
	return seeOther(w, r, "/audit/verify?pruned="+strconv.FormatInt(n, 10))
}

func (ad *Admin) pruneRefused(w http.ResponseWriter, r *http.Request, in, key, detail string) error {
	page, v, err := ad.verifyPage(r)
	if err != nil {
		return err
	}
	v.Before = in
	v.Errs["before"] = page.T(key)
	if detail != "" {
		v.Errs["before"] += "：" + detail
	}
	return ad.s.HTMLPage(w, http.StatusUnprocessableEntity, "admin_audit_verify.html", page)
}

// API.

type recordJSON struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	ActorID  *int64    `json:"actor_id"`
	Actor    string    `json:"actor"`
	IP       string    `json:"ip"`
	Action   string    `json:"action"`
	Object   string    `json:"object"`
	Summary  string    `json:"summary"`
	Result   string    `json:"result"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

func (ad *Admin) apiListAudit(w http.ResponseWriter, r *http.Request) error {
	f, _, err := ad.auditFilter(r)
	if err != nil {
		return err
	}
	recs, total, err := ad.log.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]recordJSON, 0, len(recs))
	for _, rec := range recs {
		j := recordJSON{ID: rec.ID, At: rec.At.UTC(), Actor: rec.Actor, IP: rec.IP, Action: rec.Action, Object: rec.Object,
			Summary: rec.Summary, Result: rec.Result, PrevHash: rec.PrevHash, Hash: rec.Hash}
		if rec.ActorID != 0 {
			id := rec.ActorID
			j.ActorID = &id
		}
		out = append(out, j)
	}
	return web.WriteList(w, out, total)
}

type verifyJSON struct {
	Intact  bool   `json:"intact"`
	Checked int64  `json:"checked"`
	BadID   int64  `json:"bad_id"`
	Reason  string `json:"reason"`
}

func (ad *Admin) apiVerify(w http.ResponseWriter, r *http.Request) error {
	res, err := ad.log.Verify(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, verifyJSON{Intact: res.BadID == 0, Checked: res.Checked, BadID: res.BadID, Reason: res.Reason})
}
