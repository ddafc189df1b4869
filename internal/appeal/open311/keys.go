package open311

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
)

// KeyPrefix starts every Open311 API key, so a leaked key is recognisable.
const KeyPrefix = "o311_"

// Key is an issued API key as listed: never the secret.
type Key struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the first characters, to tell keys apart
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Active reports whether the key still works.
func (k Key) Active() bool { return k.RevokedAt == nil }

// Keys issues, checks, lists and revokes Open311 API keys. Keys are stored
// as SHA-256 hashes of 256-bit random secrets; every change is audited.
type Keys struct {
	DB    *db.DB
	Audit *audit.Log
	Now   func() time.Time

	mu   sync.Mutex
	seen map[int64]time.Time // last_used_at written, per key
}

// NewKeys returns the key store.
func NewKeys(d *db.DB, al *audit.Log, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{DB: d, Audit: al, Now: now, seen: map[int64]time.Time{}}
}

func hashKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the OS random source never fails on supported systems
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Add issues a key named name and returns its secret, shown once.
func (k *Keys) Add(ctx context.Context, actor audit.Entry, name string) (string, *Key, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return "", nil, apperr.Invalid("name", "密钥名称不能为空且不超过 100 字 / key name must be 1–100 characters")
	}
	secret := newSecret()
	now := k.Now().UTC().Truncate(time.Second)
	by := actor.Actor
	if by == "" {
		by = "system"
	}
	key := &Key{Name: name, Prefix: secret[:len(KeyPrefix)+6], CreatedAt: now, CreatedBy: by}
	err := k.DB.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM open311_keys WHERE name = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("open311: add key %q: %w", name, err)
		}
		if n > 0 {
			return &apperr.Error{Status: 409, Code: "key_name_taken", Field: "name",
				Message: fmt.Sprintf("已有名为 %q 的密钥 / a key named %q exists already", name, name)}
		}
		id, err := db.InsertID(ctx, tx, `INSERT INTO open311_keys (name, key_hash, key_prefix, created_at, created_by) VALUES (?, ?, ?, ?, ?)`,
			name, hashKey(secret), key.Prefix, now, by)
		if err != nil {
			if db.IsUniqueViolation(err) {
				return &apperr.Error{Status: 409, Code: "key_name_taken", Field: "name",
					Message: fmt.Sprintf("已有名为 %q 的密钥 / a key named %q exists already", name, name)}
			}
			return fmt.Errorf("open311: add key %q: %w", name, err)
		}
		key.ID = id
		actor.Action, actor.Object, actor.Summary, actor.Result = "open311.key.add", fmt.Sprintf("open311_key:%d", id), name, audit.OK
		return k.Audit.WriteTx(ctx, tx, actor)
	})
	if err != nil {
		return "", nil, err
	}
	return secret, key, nil
}

// List lists every key, newest first.
func (k *Keys) List(ctx context.Context) ([]Key, error) {
	rows, err := k.DB.QueryContext(ctx, `SELECT id, name, key_prefix, created_at, created_by, revoked_at, revoked_by, last_used_at FROM open311_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("open311: list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var key Key
		var rev, used sql.NullTime
		var revBy sql.NullString
		if err := rows.Scan(&key.ID, &key.Name, &key.Prefix, &key.CreatedAt, &key.CreatedBy, &rev, &revBy, &used); err != nil {
			return nil, fmt.Errorf("open311: list keys: %w", err)
		}
		if rev.Valid {
			t := rev.Time
			key.RevokedAt = &t
		}
		if used.Valid {
			t := used.Time
			key.LastUsedAt = &t
		}
		key.RevokedBy = revBy.String
		out = append(out, key)
	}
	return out, rows.Err()
}

// ErrKeyNotFound is returned for an unknown key id.
var ErrKeyNotFound = apperr.NotFound("key_not_found", "没有这个密钥 / no such key")

// Revoke revokes key id; the key stops working at once. Revoking a revoked
// key is refused.
func (k *Keys) Revoke(ctx context.Context, actor audit.Entry, id int64) error {
	now := k.Now().UTC().Truncate(time.Second)
	by := actor.Actor
	if by == "" {
		by = "system"
	}
	return k.DB.InTx(ctx, func(tx *db.Tx) error {
		var name string
		var rev sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT name, revoked_at FROM open311_keys WHERE id = ?`, id).Scan(&name, &rev)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrKeyNotFound
		}
		if err != nil {
			return fmt.Errorf("open311: revoke key %d: %w", id, err)
		}
		if rev.Valid {
			return apperr.Conflict("key_revoked", fmt.Sprintf("密钥 %q 已撤销 / key %q is revoked already", name, name))
		}
		res, err := tx.ExecContext(ctx, `UPDATE open311_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL`, now, by, id)
		if err != nil {
			return fmt.Errorf("open311: revoke key %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.Conflict("key_revoked", fmt.Sprintf("密钥 %q 已撤销 / key %q is revoked already", name, name))
		}
		actor.Action, actor.Object, actor.Summary, actor.Result = "open311.key.revoke", fmt.Sprintf("open311_key:%d", id), name, audit.OK
		return k.Audit.WriteTx(ctx, tx, actor)
	})
}

// Check returns the name of the active key whose secret is s, or "" when s
// is empty, unknown or revoked. It records the key's last use to the minute.
func (k *Keys) Check(ctx context.Context, s string) (string, error) {
	if !strings.HasPrefix(s, KeyPrefix) || len(s) > 200 {
		return "", nil
	}
	var id int64
	var name string
	err := k.DB.QueryRowContext(ctx, `SELECT id, name FROM open311_keys WHERE key_hash = ? AND revoked_at IS NULL`, hashKey(s)).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("open311: check key: %w", err)
	}
	now := k.Now().UTC()
	k.mu.Lock()
	last, ok := k.seen[id]
	due := !ok || now.Sub(last) >= time.Minute
	if due {
		k.seen[id] = now
	}
	k.mu.Unlock()
	if due {
		if _, err := k.DB.ExecContext(ctx, `UPDATE open311_keys SET last_used_at = ? WHERE id = ?`, now.Truncate(time.Second), id); err != nil {
			return "", fmt.Errorf("open311: record key use: %w", err)
		}
	}
	return name, nil
}
