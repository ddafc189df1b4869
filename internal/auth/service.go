package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
)

// Settings are the security knobs, from config.
type Settings struct {
	Argon2         Argon2Params
	Policy         Policy
	MaxFailures    int           // consecutive failures before lockout
	LockFor        time.Duration // lockout length
	SessionIdle    time.Duration
	SessionMax     time.Duration
	APILoginTTL    time.Duration // lifetime of tokens from POST /api/v1/auth/login
	SetupTokenTTL  time.Duration
	TouchEvery     time.Duration // how often last-seen times are written
	LoginPerMinute int           // per client IP
}

// DefaultSettings follow 等保 level 3.
func DefaultSettings() Settings {
	return Settings{
		Argon2:         DefaultArgon2,
		Policy:         Policies["level3"],
		MaxFailures:    5,
		LockFor:        15 * time.Minute,
		SessionIdle:    30 * time.Minute,
		SessionMax:     12 * time.Hour,
		APILoginTTL:    12 * time.Hour,
		SetupTokenTTL:  30 * time.Minute,
		TouchEvery:     time.Minute,
		LoginPerMinute: 20,
	}
}

// Service is the accounts service.
type Service struct {
	DB       *db.DB
	Audit    *audit.Log
	Settings Settings
	Now      func() time.Time

	// dummy is a hash to verify against for unknown users (equal timing),
	// made on first use so start-up does not pay for an argon2 run.
	dummyOnce sync.Once
	dummy     string
}

// NewService wires the service.
func NewService(d *db.DB, a *audit.Log, s Settings, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: d, Audit: a, Settings: s, Now: now}
}

// Errors a user can see.
var (
	ErrBadCredentials  = &apperr.Error{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: "用户名或密码错误 / wrong username or password"}
	ErrUnauthenticated = &apperr.Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "请先登录 / sign in first"}
)

// LockedError is returned while an account is locked.
func LockedError(until time.Time) *apperr.Error {
	return &apperr.Error{Status: http.StatusLocked, Code: "account_locked", RetryAt: until,
		Message: fmt.Sprintf("账号已锁定，请于 %s 后重试 / account locked until %s", until.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))}
}

var usernameRE = regexp.MustCompile(`^[a-zA-Z0-9_.@-]{2,64}$`)

func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the OS random source never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

const userCols = `id, username, display_name, password_hash, unit_id, person_id, disabled, failed_count, locked_until, password_changed_at, last_login_at, created_at`

// scanPrefix scans some leading columns before a user's columns.
type scanPrefix struct {
	row  interface{ Scan(...any) error }
	head []any
}

func (p scanPrefix) Scan(dest ...any) error { return p.row.Scan(append(p.head, dest...)...) }

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = alias + parts[i]
	}
	return strings.Join(parts, ", ")
}

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var unit, person sql.NullInt64
	var locked, last sql.NullTime
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.passwordHash, &unit, &person, &u.Disabled, &u.FailedCount, &locked, &u.PasswordChangedAt, &last, &u.CreatedAt); err != nil {
		return nil, err
	}
	if unit.Valid {
		u.UnitID = &unit.Int64
	}
	if person.Valid {
		u.PersonID = &person.Int64
	}
	if locked.Valid {
		u.LockedUntil = &locked.Time
	}
	if last.Valid {
		u.LastLoginAt = &last.Time
	}
	return &u, nil
}

func (s *Service) roles(ctx context.Context, q db.Querier, id int64) ([]Role, error) {
	rows, err := q.QueryContext(ctx, `SELECT role FROM user_roles WHERE user_id = ? ORDER BY role`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// UserByName loads an account with its roles.
func (s *Service) UserByName(ctx context.Context, username string) (*User, error) {
	return s.userWhere(ctx, s.DB, `username = ?`, username)
}

// UserByID loads an account with its roles.
func (s *Service) UserByID(ctx context.Context, id int64) (*User, error) {
	return s.userWhere(ctx, s.DB, `id = ?`, id)
}

func (s *Service) userWhere(ctx context.Context, q db.Querier, where string, arg any) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("user_not_found", "账号不存在 / no such account")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load user: %w", err)
	}
	if u.Roles, err = s.roles(ctx, q, u.ID); err != nil {
		return nil, fmt.Errorf("auth: load roles: %w", err)
	}
	return u, nil
}

// CountUsers is used to decide whether first-admin set-up is needed.
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// NewUser is what creating an account needs.
type NewUser struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
	Roles       []Role `json:"roles"`
	UnitID      *int64 `json:"unit_id"`
	PersonID    *int64 `json:"person_id"`
	// MustChange makes the password expire at once (set by an admin reset).
	MustChange bool `json:"must_change"`
}

// CreateUser adds an account; actor is who does it (for the audit log).
func (s *Service) CreateUser(ctx context.Context, actor audit.Entry, nu NewUser) (*User, error) {
	nu.Username = strings.TrimSpace(nu.Username)
	if !usernameRE.MatchString(nu.Username) {
		return nil, apperr.Invalid("username", "用户名须为 2–64 位字母、数字或 _ . @ - / username must be 2–64 letters, digits or _ . @ -")
	}
	if len(nu.Roles) == 0 {
		return nil, apperr.Invalid("roles", "至少指定一个角色 / give at least one role")
	}
	if err := CheckRoles(nu.Roles); err != nil {
		return nil, apperr.Invalid("roles", err.Error())
	}
	if err := s.Settings.Policy.Check(nu.Username, nu.Password); err != nil {
		pe := err.(*PolicyError)
		return nil, apperr.Invalid("password", pe.ZH+" / "+pe.EN)
	}
	hash, err := HashPassword(nu.Password, s.Settings.Argon2)
	if err != nil {
		return nil, err
	}
	if nu.DisplayName == "" {
		nu.DisplayName = nu.Username
	}
	now := s.Now().UTC()
	changed := now
	if nu.MustChange {
		changed = time.Unix(0, 0).UTC()
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		id, err = db.InsertID(ctx, tx, `INSERT INTO users (username, display_name, password_hash, unit_id, person_id, password_changed_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, nu.Username, nu.DisplayName, hash, nu.UnitID, nu.PersonID, changed, now, now)
		if db.IsUniqueViolation(err) {
			return apperr.Conflict("username_taken", "用户名已存在 / username already exists")
		}
		if db.IsForeignKeyViolation(err) {
			return apperr.Invalid("unit_id", "单位或人员不存在 / unknown unit or person")
		}
		if err != nil {
			return fmt.Errorf("auth: insert user: %w", err)
		}
		for _, r := range nu.Roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(r)); err != nil {
				return fmt.Errorf("auth: insert role: %w", err)
			}
		}
		actor.Action, actor.Object = "user.create", fmt.Sprintf("user:%d", id)
		actor.Summary = fmt.Sprintf("username=%s roles=%v unit=%v", nu.Username, nu.Roles, ptrStr(nu.UnitID))
		return s.Audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return nil, err
	}
	return s.UserByID(ctx, id)
}

func ptrStr(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// SetRoles replaces an account's roles, refusing two admin roles together.
func (s *Service) SetRoles(ctx context.Context, actor audit.Entry, id int64, roles []Role) error {
	if len(roles) == 0 {
		return apperr.Invalid("roles", "至少指定一个角色 / give at least one role")
	}
	if err := CheckRoles(roles); err != nil {
		return apperr.Invalid("roles", err.Error())
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		old, err := s.lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = ?`, id); err != nil {
			return err
		}
		for _, r := range roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(r)); err != nil {
				return err
			}
		}
		actor.Action, actor.Object = "user.roles", fmt.Sprintf("user:%d", id)
		actor.Summary = fmt.Sprintf("%s roles %v → %v", old.Username, old.Roles, roles)
		return s.Audit.WriteTx(ctx, tx, actor)
	})
}

// lockUser loads an account for update inside tx (row lock on PostgreSQL;
// SQLite already has the one writer).
func (s *Service) lockUser(ctx context.Context, tx *db.Tx, id int64) (*User, error) {
	q := `SELECT ` + userCols + ` FROM users WHERE id = ?`
	if tx.D() == db.Postgres {
		q += ` FOR UPDATE`
	}
	u, err := scanUser(tx.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("user_not_found", "账号不存在 / no such account")
	}
	if err != nil {
		return nil, err
	}
	u.Roles, err = s.roles(ctx, tx, id)
	return u, err
}

// SetDisabled disables or enables an account; disabling ends its sessions
// and tokens at once.
func (s *Service) SetDisabled(ctx context.Context, actor audit.Entry, id int64, disabled bool) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		u, err := s.lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`, disabled, s.Now().UTC(), id); err != nil {
			return err
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, s.Now().UTC(), id); err != nil {
				return err
			}
		}
		actor.Action, actor.Object = "user.enable", fmt.Sprintf("user:%d", id)
		if disabled {
			actor.Action = "user.disable"
		}
		actor.Summary = u.Username
		return s.Audit.WriteTx(ctx, tx, actor)
	})
}

// Unlock lifts a lockout.
func (s *Service) Unlock(ctx context.Context, actor audit.Entry, id int64) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		u, err := s.lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = NULL, failed_count = 0, updated_at = ? WHERE id = ?`, s.Now().UTC(), id); err != nil {
			return err
		}
		actor.Action, actor.Object, actor.Summary = "user.unlock", fmt.Sprintf("user:%d", id), u.Username
		return s.Audit.WriteTx(ctx, tx, actor)
	})
}

// SetPassword sets a new password. An admin reset (byAdmin) makes the
// password expire at once so the owner must choose their own; either way the
// account's other sessions end.
func (s *Service) SetPassword(ctx context.Context, actor audit.Entry, id int64, pw string, byAdmin bool, keepSession string) error {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Settings.Policy.Check(u.Username, pw); err != nil {
		pe := err.(*PolicyError)
		return apperr.Invalid("password", pe.ZH+" / "+pe.EN)
	}
	if ok, _ := VerifyPassword(pw, u.passwordHash, s.Settings.Argon2); ok && !byAdmin {
		return apperr.Invalid("password", "新密码不能与旧密码相同 / the new password must differ from the old one")
	}
	hash, err := HashPassword(pw, s.Settings.Argon2)
	if err != nil {
		return err
	}
	changed := s.Now().UTC()
	if byAdmin {
		changed = time.Unix(0, 0).UTC()
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, failed_count = 0, locked_until = NULL, updated_at = ? WHERE id = ?`,
			hash, changed, s.Now().UTC(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, id, keepSession); err != nil {
			return err
		}
		actor.Action, actor.Object, actor.Summary = "user.password", fmt.Sprintf("user:%d", id), u.Username
		if byAdmin {
			actor.Action = "user.password_reset"
		}
		return s.Audit.WriteTx(ctx, tx, actor)
	})
}

// ListUsers returns every account with roles.
func (s *Service) ListUsers(ctx context.Context, limit, offset int) ([]User, int, error) {
	var total int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("auth: list users: %w", err)
	}
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		us = append(us, *u)
	}
	rows.Close()
	for i := range us {
		if us[i].Roles, err = s.roles(ctx, s.DB, us[i].ID); err != nil {
			return nil, 0, err
		}
	}
	return us, total, nil
}

// Authenticate checks a username and password, applying lockout, and
// returns the account. It writes the audit records for success, failure and
// lockout.
func (s *Service) Authenticate(ctx context.Context, username, password, ip string) (*User, error) {
	now := s.Now().UTC()
	u, err := s.UserByName(ctx, strings.TrimSpace(username))
	if e, ok := apperr.As(err); ok && e.Code == "user_not_found" {
		s.dummyOnce.Do(func() { s.dummy, _ = HashPassword("not-a-password", s.Settings.Argon2) })
		VerifyPassword(password, s.dummy, s.Settings.Argon2) // same time as a real check
		_ = s.Audit.Write(ctx, audit.Entry{Actor: "anonymous", IP: ip, Action: "login", Object: "username:" + truncate(username, 64), Summary: "unknown username", Result: audit.Failed})
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	actor := audit.Entry{ActorID: u.ID, Actor: u.Username, IP: ip, Action: "login", Object: fmt.Sprintf("user:%d", u.ID)}
	if u.LockedUntil != nil && u.LockedUntil.After(now) {
		actor.Result, actor.Summary = audit.Denied, "account locked"
		_ = s.Audit.Write(ctx, actor)
		return nil, LockedError(*u.LockedUntil)
	}
	ok, rehash := VerifyPassword(password, u.passwordHash, s.Settings.Argon2)
	if !ok || u.Disabled {
		var lockedUntil *time.Time
		err := s.DB.InTx(ctx, func(tx *db.Tx) error {
			// Count in the database so concurrent attempts all count.
			var n int
			if err := tx.QueryRowContext(ctx, `UPDATE users SET failed_count = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 1 ELSE failed_count + 1 END,
				locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN NULL ELSE locked_until END
				WHERE id = ? RETURNING failed_count`, now, now, u.ID).Scan(&n); err != nil {
				return err
			}
			actor.Result, actor.Summary = audit.Failed, "wrong password"
			if u.Disabled {
				actor.Summary = "account disabled"
			}
			if err := s.Audit.WriteTx(ctx, tx, actor); err != nil {
				return err
			}
			if n >= s.Settings.MaxFailures {
				until := now.Add(s.Settings.LockFor)
				lockedUntil = &until
				if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = ?, failed_count = 0 WHERE id = ?`, until, u.ID); err != nil {
					return err
				}
				lock := actor
				lock.Action, lock.Result = "login.lockout", audit.OK
				lock.Summary = fmt.Sprintf("%d consecutive failures; locked until %s", n, until.Format(time.RFC3339))
				return s.Audit.WriteTx(ctx, tx, lock)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("auth: record failure: %w", err)
		}
		if lockedUntil != nil {
			return nil, LockedError(*lockedUntil)
		}
		return nil, ErrBadCredentials
	}
	var newHash any
	if rehash {
		if h, err := HashPassword(password, s.Settings.Argon2); err == nil {
			newHash = h
		}
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_count = 0, locked_until = NULL, last_login_at = ?, password_hash = COALESCE(?, password_hash) WHERE id = ?`,
			now, newHash, u.ID); err != nil {
			return err
		}
		actor.Result = audit.OK
		if rehash {
			actor.Summary = "password rehashed with " + s.Settings.Argon2.String()
		}
		return s.Audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("auth: record login: %w", err)
	}
	return u, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// PasswordExpired tells whether the policy forces a change.
func (s *Service) PasswordExpired(u *User) bool {
	return s.Settings.Policy.MaxAge > 0 && s.Now().Sub(u.PasswordChangedAt) > s.Settings.Policy.MaxAge
}

func (s *Service) principal(u *User) *Principal {
	return &Principal{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Roles: u.Roles, UnitID: u.UnitID,
		MustChangePassword: s.PasswordExpired(u)}
}

// CreateSession starts a session and returns the secret for the cookie.
func (s *Service) CreateSession(ctx context.Context, u *User, ip, ua string) (string, error) {
	secret := randomSecret(32) // 256 bits
	now := s.Now().UTC()
	_, err := s.DB.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		hashSecret(secret), u.ID, now, now, now.Add(s.Settings.SessionMax), ip, truncate(ua, 200))
	if err != nil {
		return "", fmt.Errorf("auth: create session: %w", err)
	}
	return secret, nil
}

// SessionPrincipal resolves a session cookie; nil when absent or expired.
func (s *Service) SessionPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if secret == "" || len(secret) > 100 {
		return nil, nil
	}
	h := hashSecret(secret)
	var last, exp time.Time
	row := s.DB.QueryRowContext(ctx, `SELECT s.last_seen_at, s.expires_at, `+prefixed("u.", userCols)+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, h)
	u, err := scanUser(scanPrefix{row, []any{&last, &exp}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read session: %w", err)
	}
	now := s.Now().UTC()
	if now.After(exp) || now.Sub(last) > s.Settings.SessionIdle {
		_, _ = s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h)
		return nil, nil
	}
	if u.Disabled {
		return nil, nil
	}
	if u.Roles, err = s.roles(ctx, s.DB, u.ID); err != nil {
		return nil, fmt.Errorf("auth: load roles: %w", err)
	}
	if now.Sub(last) > s.Settings.TouchEvery {
		if _, err := s.DB.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, now, h); err != nil {
			return nil, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	p := s.principal(u)
	p.SessionHash = h
	return p, nil
}

// EndSession removes a session (logout).
func (s *Service) EndSession(ctx context.Context, p *Principal, ip string) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, p.SessionHash); err != nil {
			return err
		}
		if p.TokenID != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, s.Now().UTC(), p.TokenID); err != nil {
				return err
			}
		}
		return s.Audit.WriteTx(ctx, tx, audit.Entry{ActorID: p.UserID, Actor: p.Username, IP: ip, Action: "logout", Object: fmt.Sprintf("user:%d", p.UserID)})
	})
}

// CreateToken issues a personal API token; the secret is returned once.
func (s *Service) CreateToken(ctx context.Context, actor audit.Entry, userID int64, name string, expires *time.Time) (string, *Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return "", nil, apperr.Invalid("name", "令牌名称不能为空且不超过 100 字 / token name must be 1–100 characters")
	}
	now := s.Now().UTC()
	if expires != nil && !expires.After(now) {
		return "", nil, apperr.Invalid("expires_at", "到期时间须在将来 / expiry must be in the future")
	}
	secret := "bgt_" + randomSecret(32)
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = db.InsertID(ctx, tx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			userID, name, hashSecret(secret), now, utcPtr(expires))
		if err != nil {
			return fmt.Errorf("auth: create token: %w", err)
		}
		actor.Action, actor.Object, actor.Summary = "token.create", fmt.Sprintf("token:%d", id), name
		return s.Audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &Token{ID: id, Name: name, CreatedAt: now, ExpiresAt: expires}, nil
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// ListTokens lists an account's tokens (never the secrets).
func (s *Service) ListTokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []Token
	for rows.Next() {
		var t Token
		var exp, rev, used sql.NullTime
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &exp, &rev, &used); err != nil {
			return nil, err
		}
		if exp.Valid {
			t.ExpiresAt = &exp.Time
		}
		if rev.Valid {
			t.RevokedAt = &rev.Time
		}
		if used.Valid {
			t.LastUsedAt = &used.Time
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// RevokeToken revokes one of the account's tokens.
func (s *Service) RevokeToken(ctx context.Context, actor audit.Entry, userID, tokenID int64) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, s.Now().UTC(), tokenID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.NotFound("token_not_found", "令牌不存在或已撤销 / no such active token")
		}
		actor.Action, actor.Object = "token.revoke", fmt.Sprintf("token:%d", tokenID)
		return s.Audit.WriteTx(ctx, tx, actor)
	})
}

// TokenPrincipal resolves a bearer token; nil when unknown, revoked or expired.
func (s *Service) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, "bgt_") || len(secret) > 100 {
		return nil, nil
	}
	var id int64
	var exp, rev, used sql.NullTime
	// One round trip for the token and its account; roles follow.
	row := s.DB.QueryRowContext(ctx, `SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, `+prefixed("u.", userCols)+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, hashSecret(secret))
	u, err := scanUser(scanPrefix{row, []any{&id, &exp, &rev, &used}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read token: %w", err)
	}
	now := s.Now().UTC()
	if rev.Valid || (exp.Valid && now.After(exp.Time)) || u.Disabled {
		return nil, nil
	}
	if u.Roles, err = s.roles(ctx, s.DB, u.ID); err != nil {
		return nil, fmt.Errorf("auth: load roles: %w", err)
	}
	if !used.Valid || now.Sub(used.Time) > s.Settings.TouchEvery {
		if _, err := s.DB.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, id); err != nil {
			return nil, fmt.Errorf("auth: touch token: %w", err)
		}
	}
	p := s.principal(u)
	p.TokenID = id
	return p, nil
}

// CreateSetupToken makes a one-time link secret for creating the first admin.
func (s *Service) CreateSetupToken(ctx context.Context) (string, time.Time, error) {
	secret := randomSecret(24)
	now := s.Now().UTC()
	exp := now.Add(s.Settings.SetupTokenTTL)
	_, err := s.DB.ExecContext(ctx, `INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)`, hashSecret(secret), now, exp)
	return secret, exp, err
}

// CheckSetupToken tells whether secret is a live set-up token and no account exists.
func (s *Service) CheckSetupToken(ctx context.Context, secret string) bool {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM setup_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, hashSecret(secret), s.Now().UTC()).Scan(&n)
	if err != nil || n == 0 {
		return false
	}
	c, err := s.CountUsers(ctx)
	return err == nil && c == 0
}

// CompleteSetup creates the first system admin with a set-up token.
func (s *Service) CompleteSetup(ctx context.Context, secret, username, password, ip string) (*User, error) {
	if !s.CheckSetupToken(ctx, secret) {
		return nil, apperr.Forbidden("setup_token_invalid", "设置链接无效或已过期 / the set-up link is invalid or has expired")
	}
	u, err := s.CreateUser(ctx, audit.Entry{Actor: "setup", IP: ip}, NewUser{Username: username, Password: password, Roles: []Role{RoleSysAdmin}, DisplayName: "系统管理员"})
	if err != nil {
		return nil, err
	}
	_, err = s.DB.ExecContext(ctx, `UPDATE setup_tokens SET used_at = ? WHERE token_hash = ?`, s.Now().UTC(), hashSecret(secret))
	return u, err
}

// Cleanup removes expired sessions and set-up tokens.
func (s *Service) Cleanup(ctx context.Context) error {
	now := s.Now().UTC()
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?`, now, now.Add(-s.Settings.SessionIdle)); err != nil {
		return fmt.Errorf("auth: clean sessions: %w", err)
	}
	_, err := s.DB.ExecContext(ctx, `DELETE FROM setup_tokens WHERE expires_at < ?`, now)
	return err
}
