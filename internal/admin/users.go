package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

// Refusals on one's own account: a security admin must not widen or
// narrow their own rights, lock themselves out, or skip the current-password
// check by resetting their own password.
var (
	errOwnRoles = &apperr.Error{Status: http.StatusForbidden, Code: "own_roles", Field: "roles",
		Message: "不能修改自己的角色，请由另一名安全管理员操作 / you cannot change your own roles; ask another security admin"}
	errOwnDisable = &apperr.Error{Status: http.StatusForbidden, Code: "own_account_disable",
		Message: "不能停用自己的账号 / you cannot disable your own account"}
	errOwnReset = &apperr.Error{Status: http.StatusForbidden, Code: "own_password_reset", Field: "password",
		Message: "不能重置自己的密码，请在“我的账号”中修改 / you cannot reset your own password; change it under My account"}
)

// roleOpt is a role checkbox.
type roleOpt struct {
	Role    auth.Role
	Checked bool
	Admin   bool // one of the three separated admin roles
}

func roleOpts(checked []auth.Role) []roleOpt {
	out := make([]roleOpt, 0, len(auth.AllRoles))
	for _, r := range auth.AllRoles {
		out = append(out, roleOpt{Role: r, Checked: slices.Contains(checked, r), Admin: slices.Contains(auth.AdminRoles, r)})
	}
	return out
}

// formRoles reads the role checkboxes.
func formRoles(r *http.Request) []auth.Role {
	_ = r.ParseForm()
	var rs []auth.Role
	for _, v := range r.PostForm["roles"] {
		if v != "" && !slices.Contains(rs, auth.Role(v)) {
			rs = append(rs, auth.Role(v))
		}
	}
	return rs
}

// checkRoles is auth.CheckRoles with a message people can read.
func checkRoles(roles []auth.Role) error {
	if len(roles) == 0 {
		return apperr.Invalid("roles", "至少指定一个角色 / give at least one role")
	}
	var admins int
	for _, r := range roles {
		if !r.Valid() {
			return apperr.Invalid("roles", fmt.Sprintf("未知角色 %q / unknown role %q", r, r))
		}
		if slices.Contains(auth.AdminRoles, r) {
			admins++
		}
	}
	if admins > 1 {
		return apperr.Invalid("roles", "三员分立：系统管理员、安全管理员、审计管理员不能由同一账号兼任 / "+
			"separation of duties: one account cannot hold two of system admin, security admin and audit admin")
	}
	return auth.CheckRoles(roles)
}

func sameRoles(a, b []auth.Role) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func (ad *Admin) locked(u *auth.User) bool {
	return u.LockedUntil != nil && u.LockedUntil.After(ad.auth.Now())
}

// List.

type userRow struct {
	auth.User
	Locked bool
}

type usersView struct {
	Users []userRow
	Pager pager
}

func (ad *Admin) getUsers(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	us, total, err := ad.auth.ListUsers(r.Context(), limit, offset)
	if err != nil {
		return err
	}
	v := usersView{Pager: newPager(r, total, limit, offset)}
	for _, u := range us {
		v.Users = append(v.Users, userRow{User: u, Locked: ad.locked(&u)})
	}
	return ad.s.HTML(w, r, "admin_users.html", "users.title", v)
}

// New account.

type newUserView struct {
	Username, DisplayName, UnitID string
	Roles                         []roleOpt
	PolicyHint                    string
	Errs                          Errs
}

func (ad *Admin) newUserPage(r *http.Request, v *newUserView) *web.Page {
	page := ad.s.NewPage(r, "users.new.title", v)
	pol := ad.auth.Settings.Policy
	v.PolicyHint = page.T("account.password.policy", pol.MinLength, pol.MinClasses)
	if v.Errs == nil {
		v.Errs = Errs{}
	}
	return page
}

func (ad *Admin) getNewUser(w http.ResponseWriter, r *http.Request) error {
	return ad.s.HTMLPage(w, http.StatusOK, "admin_user_new.html", ad.newUserPage(r, &newUserView{Roles: roleOpts(nil)}))
}

func parseUnitID(s string) (*int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return nil, apperr.Invalid("unit_id", "单位编号须为正整数 / unit id must be a positive integer")
	}
	return &n, nil
}

func (ad *Admin) postNewUser(w http.ResponseWriter, r *http.Request) error {
	roles := formRoles(r)
	v := &newUserView{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"),
		UnitID: r.PostFormValue("unit_id"), Roles: roleOpts(roles)}
	unit, err := parseUnitID(v.UnitID)
	var u *auth.User
	if err == nil {
		u, err = ad.createUser(r, auth.NewUser{Username: v.Username, DisplayName: strings.TrimSpace(v.DisplayName),
			Password: r.PostFormValue("password"), Roles: roles, UnitID: unit})
	}
	if err != nil {
		page := ad.newUserPage(r, v)
		if e, ok := apperr.As(err); ok && e.Code == "username_taken" {
			e = &apperr.Error{Status: e.Status, Code: e.Code, Field: "username", Message: e.Message}
			err = e
		}
		status, err := formError(page, v.Errs, err, map[string]string{"username": "username", "display_name": "display_name",
			"unit_id": "unit_id", "roles": "roles", "password": "password"})
		if err != nil {
			return err
		}
		return ad.s.HTMLPage(w, status, "admin_user_new.html", page)
	}
	return seeOther(w, r, fmt.Sprintf("/admin/users/%d?msg=flash.user_created", u.ID))
}

// createUser creates an account whose password must be changed at first
// sign-in.
func (ad *Admin) createUser(r *http.Request, nu auth.NewUser) (*auth.User, error) {
	if err := checkRoles(nu.Roles); err != nil {
		return nil, err
	}
	if len([]rune(nu.DisplayName)) > 100 {
		return nil, apperr.Invalid("display_name", "显示名称不超过 100 字 / display name must be at most 100 characters")
	}
	nu.MustChange = true
	return ad.auth.CreateUser(r.Context(), web.Actor(r), nu)
}

// One account.

type userView struct {
	U          *auth.User
	Locked     bool
	Self       bool
	Reset      bool
	Roles      []roleOpt
	PolicyHint string
	Errs       Errs
}

func (ad *Admin) userPage(r *http.Request, id int64) (*web.Page, *userView, error) {
	u, err := ad.auth.UserByID(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	p := web.PrincipalFrom(r.Context())
	v := &userView{U: u, Locked: ad.locked(u), Self: p.UserID == u.ID, Reset: u.PasswordChangedAt.Unix() <= 0,
		Roles: roleOpts(u.Roles), Errs: Errs{}}
	page := ad.s.NewPage(r, "users.detail.title", v)
	page.Title = page.T("users.detail.title") + " · " + u.Username
	pol := ad.auth.Settings.Policy
	v.PolicyHint = page.T("account.password.policy", pol.MinLength, pol.MinClasses)
	return page, v, nil
}

func (ad *Admin) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	page, _, err := ad.userPage(r, id)
	if err != nil {
		return err
	}
	return ad.s.HTMLPage(w, http.StatusOK, "admin_user.html", page)
}

// userAction runs a form action on account {id}; a domain error re-renders
// the account page with the message (and, for a roles form, the roles that
// were asked for), anything else is a server error.
func (ad *Admin) userAction(w http.ResponseWriter, r *http.Request, flash string, asked []roleOpt, do func(id int64, self bool) error) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	err = do(id, web.PrincipalFrom(r.Context()).UserID == id)
	if err == nil {
		return seeOther(w, r, fmt.Sprintf("/admin/users/%d?msg=%s", id, flash))
	}
	if e, ok := apperr.As(err); ok && e.Status == http.StatusNotFound {
		return err
	}
	page, v, perr := ad.userPage(r, id)
	if perr != nil {
		return perr
	}
	if asked != nil {
		v.Roles = asked
	}
	status, err := formError(page, v.Errs, err, map[string]string{"roles": "roles", "password": "password"})
	if err != nil {
		return err
	}
	return ad.s.HTMLPage(w, status, "admin_user.html", page)
}

func (ad *Admin) postUserRoles(w http.ResponseWriter, r *http.Request) error {
	roles := formRoles(r)
	return ad.userAction(w, r, "flash.roles_saved", roleOpts(roles), func(id int64, self bool) error {
		if self {
			return errOwnRoles
		}
		if err := checkRoles(roles); err != nil {
			return err
		}
		return ad.auth.SetRoles(r.Context(), web.Actor(r), id, roles)
	})
}

func (ad *Admin) postUserDisabled(disabled bool) web.Handler {
	flash := "flash.user_enabled"
	if disabled {
		flash = "flash.user_disabled"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		return ad.userAction(w, r, flash, nil, func(id int64, self bool) error {
			if self && disabled {
				return errOwnDisable
			}
			return ad.auth.SetDisabled(r.Context(), web.Actor(r), id, disabled)
		})
	}
}

func (ad *Admin) postUserUnlock(w http.ResponseWriter, r *http.Request) error {
	return ad.userAction(w, r, "flash.user_unlocked", nil, func(id int64, _ bool) error {
		return ad.auth.Unlock(r.Context(), web.Actor(r), id)
	})
}

func (ad *Admin) postUserPassword(w http.ResponseWriter, r *http.Request) error {
	return ad.userAction(w, r, "flash.password_reset", nil, func(id int64, self bool) error {
		return ad.resetPassword(r, id, self, r.PostFormValue("password"))
	})
}

func (ad *Admin) resetPassword(r *http.Request, id int64, self bool, pw string) error {
	if self {
		return errOwnReset
	}
	if pw == "" {
		return apperr.Invalid("password", "请输入新的初始密码 / enter a new initial password")
	}
	return ad.auth.SetPassword(r.Context(), web.Actor(r), id, pw, true, "")
}

// API.

func (ad *Admin) apiListUsers(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := web.Paging(r)
	if err != nil {
		return err
	}
	us, total, err := ad.auth.ListUsers(r.Context(), limit, offset)
	if err != nil {
		return err
	}
	return web.WriteList(w, us, total)
}

type userCreateRequest struct {
	Username    string      `json:"username"`
	DisplayName string      `json:"display_name"`
	Password    string      `json:"password"`
	Roles       []auth.Role `json:"roles"`
	UnitID      *int64      `json:"unit_id"`
	PersonID    *int64      `json:"person_id"`
}

func (ad *Admin) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var req userCreateRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	u, err := ad.createUser(r, auth.NewUser{Username: req.Username, DisplayName: strings.TrimSpace(req.DisplayName),
		Password: req.Password, Roles: req.Roles, UnitID: req.UnitID, PersonID: req.PersonID})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/users/%d", u.ID))
	return web.WriteJSON(w, http.StatusCreated, u)
}

func (ad *Admin) apiGetUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := ad.auth.UserByID(r.Context(), id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

type userPatchRequest struct {
	Roles       *[]auth.Role `json:"roles"`
	Disabled    *bool        `json:"disabled"`
	DisplayName *string      `json:"display_name"`
}

func (ad *Admin) apiPatchUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req userPatchRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	u, err := ad.auth.UserByID(ctx, id)
	if err != nil {
		return err
	}
	self := web.PrincipalFrom(ctx).UserID == id
	// Check everything before changing anything.
	var setName, setRoles, setDisabled bool
	var name string
	if req.DisplayName != nil {
		name = strings.TrimSpace(*req.DisplayName)
		if err := checkDisplayName(name); err != nil {
			return err
		}
		setName = name != u.DisplayName
	}
	if req.Roles != nil {
		if err := checkRoles(*req.Roles); err != nil {
			return err
		}
		setRoles = !sameRoles(*req.Roles, u.Roles)
		if setRoles && self {
			return errOwnRoles
		}
	}
	if req.Disabled != nil {
		setDisabled = *req.Disabled != u.Disabled
		if *req.Disabled && self {
			return errOwnDisable
		}
	}
	actor := web.Actor(r)
	if setName {
		if err := ad.setDisplayName(ctx, actor, id, name); err != nil {
			return err
		}
	}
	if setRoles {
		if err := ad.auth.SetRoles(ctx, actor, id, *req.Roles); err != nil {
			return err
		}
	}
	if setDisabled {
		if err := ad.auth.SetDisabled(ctx, actor, id, *req.Disabled); err != nil {
			return err
		}
	}
	return ad.writeUser(ctx, w, id)
}

func (ad *Admin) writeUser(ctx context.Context, w http.ResponseWriter, id int64) error {
	u, err := ad.auth.UserByID(ctx, id)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, u)
}

func (ad *Admin) apiUnlockUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := ad.auth.Unlock(r.Context(), web.Actor(r), id); err != nil {
		return err
	}
	return ad.writeUser(r.Context(), w, id)
}

type passwordResetRequest struct {
	Password string `json:"password"`
}

func (ad *Admin) apiResetPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var req passwordResetRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	if _, err := ad.auth.UserByID(r.Context(), id); err != nil {
		return err
	}
	if err := ad.resetPassword(r, id, web.PrincipalFrom(r.Context()).UserID == id, req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
