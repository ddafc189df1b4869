package admin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
)

func checkDisplayName(name string) error {
	if n := len([]rune(name)); n == 0 || n > 100 {
		return apperr.Invalid("display_name", "显示名称须为 1–100 个字 / display name must be 1–100 characters")
	}
	return nil
}

// setDisplayName renames an account (auth has no method for it), audited in
// the same transaction.
func (ad *Admin) setDisplayName(ctx context.Context, actor audit.Entry, id int64, name string) error {
	if err := checkDisplayName(name); err != nil {
		return err
	}
	return ad.auth.DB.InTx(ctx, func(tx *db.Tx) error {
		q := `SELECT username, display_name FROM users WHERE id = ?`
		if tx.D() == db.Postgres {
			q += ` FOR UPDATE`
		}
		var username, old string
		err := tx.QueryRowContext(ctx, q, id).Scan(&username, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFound("user_not_found", "账号不存在 / no such account")
		}
		if err != nil {
			return fmt.Errorf("admin: load user %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET display_name = ?, updated_at = ? WHERE id = ?`,
			name, ad.auth.Now().UTC(), id); err != nil {
			return fmt.Errorf("admin: rename user %d: %w", id, err)
		}
		actor.Action, actor.Object = "user.update", fmt.Sprintf("user:%d", id)
		actor.Summary = fmt.Sprintf("%s display_name %q → %q", username, old, name)
		return ad.log.WriteTx(ctx, tx, actor)
	})
}
