package admin

import (
	"net/http"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

type accountView struct {
	User *auth.User
	// Reset: the password was set by an administrator and must be changed.
	Reset      bool
	Expired    bool
	AgeDays    int
	HasMaxAge  bool
	DaysLeft   int
	TokenCount int
}

func (ad *Admin) getAccount(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	u, err := ad.auth.UserByID(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	now := ad.auth.Now()
	v := accountView{User: u, Reset: u.PasswordChangedAt.Unix() <= 0, Expired: ad.auth.PasswordExpired(u)}
	age := now.Sub(u.PasswordChangedAt)
	v.AgeDays = int(age.Hours() / 24)
	if maxAge := ad.auth.Settings.Policy.MaxAge; maxAge > 0 {
		v.HasMaxAge = true
		v.DaysLeft = max(0, int((maxAge-age).Hours()/24))
	}
	toks, err := ad.auth.ListTokens(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if tokenStatus(t, now) == "active" {
			v.TokenCount++
		}
	}
	return ad.s.HTML(w, r, "admin_account.html", "account.title", v)
}

type passwordView struct {
	Expired    bool
	PolicyHint string
	Errs       Errs
}

func (ad *Admin) passwordPage(r *http.Request) (*web.Page, *passwordView) {
	p := web.PrincipalFrom(r.Context())
	v := &passwordView{Expired: p.MustChangePassword || r.URL.Query().Get("expired") == "1", Errs: Errs{}}
	page := ad.s.NewPage(r, "account.password.title", v)
	pol := ad.auth.Settings.Policy
	v.PolicyHint = page.T("account.password.policy", pol.MinLength, pol.MinClasses)
	return page, v
}

func (ad *Admin) getPassword(w http.ResponseWriter, r *http.Request) error {
	page, _ := ad.passwordPage(r)
	return ad.s.HTMLPage(w, http.StatusOK, "admin_account_password.html", page)
}

func (ad *Admin) postPassword(w http.ResponseWriter, r *http.Request) error {
	page, v := ad.passwordPage(r)
	p := web.PrincipalFrom(r.Context())
	cur, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	var err error
	if next != "" && r.PostFormValue("repeat_password") != next {
		err = apperr.Invalid("repeat_password", "两次输入的新密码不一致 / the two new passwords differ")
	} else {
		err = ad.changePassword(r, p, cur, next)
	}
	if err != nil {
		status, err := formError(page, v.Errs, err, map[string]string{
			"current_password": "current_password", "new_password": "new_password", "repeat_password": "repeat_password"})
		if err != nil {
			return err
		}
		return ad.s.HTMLPage(w, status, "admin_account_password.html", page)
	}
	return seeOther(w, r, "/account?msg=flash.password_changed")
}

// changePassword checks the current password (through Authenticate, so
// wrong guesses count towards the lockout) and sets the new one, ending the
// account's other sessions and keeping the current one.
func (ad *Admin) changePassword(r *http.Request, p *auth.Principal, current, next string) error {
	if current == "" {
		return apperr.Invalid("current_password", "请输入当前密码 / enter your current password")
	}
	if next == "" {
		return apperr.Invalid("new_password", "请输入新密码 / enter a new password")
	}
	if err := ad.auth.Settings.Policy.Check(p.Username, next); err != nil {
		if pe, ok := err.(*auth.PolicyError); ok {
			return apperr.Invalid("new_password", pe.ZH+" / "+pe.EN)
		}
		return apperr.Invalid("new_password", err.Error())
	}
	if current == next {
		return apperr.Invalid("new_password", "新密码不能与当前密码相同 / the new password must differ from the current one")
	}
	if _, err := ad.auth.Authenticate(r.Context(), p.Username, current, web.ClientIP(r)); err != nil {
		if e, ok := apperr.As(err); ok && e.Code == auth.ErrBadCredentials.Code {
			return apperr.Invalid("current_password", "当前密码不正确 / the current password is wrong")
		}
		return err
	}
	err := ad.auth.SetPassword(r.Context(), web.Actor(r), p.UserID, next, false, p.SessionHash)
	if e, ok := apperr.As(err); ok && e.Field == "password" {
		return apperr.Invalid("new_password", e.Message)
	}
	return err
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (ad *Admin) apiChangePassword(w http.ResponseWriter, r *http.Request) error {
	var req passwordChangeRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := ad.changePassword(r, web.PrincipalFrom(r.Context()), req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Tokens.

type tokenRow struct {
	auth.Token
	Status string // active, revoked, expired
}

func tokenStatus(t auth.Token, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && now.After(*t.ExpiresAt):
		return "expired"
	}
	return "active"
}

type tokensView struct {
	Tokens []tokenRow
	// NewSecret is shown once, right after creation.
	NewSecret string
	NewName   string
	Name      string
	Expires   string
	MinDate   string
	Errs      Errs
}

func (ad *Admin) tokensPage(r *http.Request, v *tokensView) (*web.Page, error) {
	p := web.PrincipalFrom(r.Context())
	toks, err := ad.auth.ListTokens(r.Context(), p.UserID)
	if err != nil {
		return nil, err
	}
	now := ad.auth.Now()
	for _, t := range toks {
		v.Tokens = append(v.Tokens, tokenRow{Token: t, Status: tokenStatus(t, now)})
	}
	v.MinDate = now.In(ad.loc).Format(time.DateOnly)
	if v.Errs == nil {
		v.Errs = Errs{}
	}
	return ad.s.NewPage(r, "account.tokens.title", v), nil
}

func (ad *Admin) getTokens(w http.ResponseWriter, r *http.Request) error {
	page, err := ad.tokensPage(r, &tokensView{})
	if err != nil {
		return err
	}
	return ad.s.HTMLPage(w, http.StatusOK, "admin_account_tokens.html", page)
}

// parseExpiry reads an optional expiry date (YYYY-MM-DD in the configured
// zone); the token works through the end of that day.
func (ad *Admin) parseExpiry(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, ad.loc)
	if err != nil {
		return nil, apperr.Invalid("expires_at", "到期日期格式应为 YYYY-MM-DD / expiry date must be YYYY-MM-DD")
	}
	t := d.AddDate(0, 0, 1)
	return &t, nil
}

func (ad *Admin) postToken(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	v := &tokensView{Name: r.PostFormValue("name"), Expires: r.PostFormValue("expires"), Errs: Errs{}}
	expires, err := ad.parseExpiry(v.Expires)
	var secret string
	var tok *auth.Token
	if err == nil {
		secret, tok, err = ad.auth.CreateToken(r.Context(), web.Actor(r), p.UserID, v.Name, expires)
	}
	if err != nil {
		page, perr := ad.tokensPage(r, v)
		if perr != nil {
			return perr
		}
		status, err := formError(page, v.Errs, err, map[string]string{"name": "name", "expires_at": "expires"})
		if err != nil {
			return err
		}
		return ad.s.HTMLPage(w, status, "admin_account_tokens.html", page)
	}
	// Render (not redirect) so the secret is shown once and never stored.
	v = &tokensView{NewSecret: secret, NewName: tok.Name}
	page, err := ad.tokensPage(r, v)
	if err != nil {
		return err
	}
	page.Flash = page.T("flash.token_created")
	return ad.s.HTMLPage(w, http.StatusOK, "admin_account_tokens.html", page)
}

func (ad *Admin) postRevokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	p := web.PrincipalFrom(r.Context())
	if err := ad.auth.RevokeToken(r.Context(), web.Actor(r), p.UserID, id); err != nil {
		return err
	}
	return seeOther(w, r, "/account/tokens?msg=flash.token_revoked")
}

func (ad *Admin) apiListTokens(w http.ResponseWriter, r *http.Request) error {
	toks, err := ad.auth.ListTokens(r.Context(), web.PrincipalFrom(r.Context()).UserID)
	if err != nil {
		return err
	}
	return web.WriteList(w, toks, len(toks))
}

type tokenCreateRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type tokenCreated struct {
	auth.Token
	// Secret is returned once and never again.
	Secret string `json:"token"`
}

func (ad *Admin) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenCreateRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	secret, tok, err := ad.auth.CreateToken(r.Context(), web.Actor(r), web.PrincipalFrom(r.Context()).UserID, req.Name, req.ExpiresAt)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, tokenCreated{Token: *tok, Secret: secret})
}

func (ad *Admin) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := ad.auth.RevokeToken(r.Context(), web.Actor(r), web.PrincipalFrom(r.Context()).UserID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
