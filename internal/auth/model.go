// Package auth keeps accounts, password hashing, sessions, API tokens,
// roles and permissions, and lockout.
package auth

import (
	"slices"
	"time"
)

// User is an account.
type User struct {
	ID                int64      `json:"id"`
	Username          string     `json:"username"`
	DisplayName       string     `json:"display_name"`
	UnitID            *int64     `json:"unit_id"`
	PersonID          *int64     `json:"person_id"`
	Roles             []Role     `json:"roles"`
	Disabled          bool       `json:"disabled"`
	FailedCount       int        `json:"-"`
	LockedUntil       *time.Time `json:"locked_until,omitempty"`
	PasswordChangedAt time.Time  `json:"password_changed_at"`
	LastLoginAt       *time.Time `json:"last_login_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	passwordHash      string
}

// Principal is who is making a request.
type Principal struct {
	UserID      int64
	Username    string
	DisplayName string
	Roles       []Role
	UnitID      *int64
	// MustChangePassword is set when the password is older than the policy allows.
	MustChangePassword bool
	// SessionHash or TokenID tell how the request signed in.
	SessionHash string
	TokenID     int64
}

// Can reports whether the principal holds permission p.
func (p *Principal) Can(perm Permission) bool {
	if perm == PermPublic {
		return true
	}
	if p == nil {
		return false
	}
	if perm == PermSignedIn {
		return true
	}
	for _, r := range p.Roles {
		if RoleHas(r, perm) {
			return true
		}
	}
	return false
}

// HasRole reports whether the principal holds role r.
func (p *Principal) HasRole(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

// Token is a personal API token (the secret is shown once, at creation).
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}
