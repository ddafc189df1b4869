package org

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/db"
)

// The SQL is written once with "?" placeholders and runs on both engines.

const unitCols = `id, parent_id, code, name, kind, sort_order, active, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanUnit(row scanner) (Unit, error) {
	var u Unit
	var parent sql.NullInt64
	var kind string
	if err := row.Scan(&u.ID, &parent, &u.Code, &u.Name, &kind, &u.SortOrder, &u.Active, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return u, err
	}
	u.Kind = Kind(kind)
	if parent.Valid {
		u.ParentID = &parent.Int64
	}
	return u, nil
}

// lockUnits serialises changes to the unit tree on PostgreSQL, so two
// concurrent parent changes cannot together make a cycle and two creates
// cannot take codes that differ only by case. SQLite has one writer anyway.
func lockUnits(ctx context.Context, tx *db.Tx) error {
	if tx.D() != db.Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727010)`)
	return err
}

func loadUnit(ctx context.Context, q db.Querier, id int64, forUpdate bool) (*Unit, error) {
	query := `SELECT ` + unitCols + ` FROM units WHERE id = ?`
	if forUpdate && q.D() == db.Postgres {
		query += ` FOR UPDATE`
	}
	u, err := scanUnit(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUnitNotFound()
	}
	if err != nil {
		return nil, wrapf(err, "load unit %d", id)
	}
	return &u, nil
}

func loadUnits(ctx context.Context, q db.Querier) ([]Unit, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+unitCols+` FROM units ORDER BY sort_order, code`)
	if err != nil {
		return nil, wrapf(err, "list units")
	}
	defer rows.Close()
	var us []Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, wrapf(err, "scan unit")
		}
		us = append(us, u)
	}
	return us, wrapf(rows.Err(), "list units")
}

// unitsByFoldedCode finds units whose code equals code ignoring ASCII case
// (codes are ASCII, so UPPER agrees on both engines).
func unitsByFoldedCode(ctx context.Context, q db.Querier, code string) ([]Unit, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+unitCols+` FROM units WHERE UPPER(code) = ?`, strings.ToUpper(code))
	if err != nil {
		return nil, wrapf(err, "find unit code")
	}
	defer rows.Close()
	var us []Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

func insertUnit(ctx context.Context, q db.Querier, u *Unit, now time.Time) error {
	id, err := db.InsertID(ctx, q, `INSERT INTO units (parent_id, code, name, kind, sort_order, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.ParentID, u.Code, u.Name, string(u.Kind), u.SortOrder, u.Active, now, now)
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt, u.UpdatedAt = id, now, now
	return nil
}

func updateUnitRow(ctx context.Context, q db.Querier, u *Unit, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE units SET parent_id = ?, code = ?, name = ?, kind = ?, sort_order = ?, active = ?, updated_at = ? WHERE id = ?`,
		u.ParentID, u.Code, u.Name, string(u.Kind), u.SortOrder, u.Active, now, u.ID)
	if err != nil {
		return err
	}
	u.UpdatedAt = now
	return nil
}

// peopleCounts counts active people per unit.
func peopleCounts(ctx context.Context, q db.Querier) (map[int64]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT unit_id, COUNT(*) FROM people WHERE active = ? GROUP BY unit_id`, true)
	if err != nil {
		return nil, wrapf(err, "count people")
	}
	defer rows.Close()
	m := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		m[id] = n
	}
	return m, rows.Err()
}

const personCols = `p.id, p.unit_id, u.code, u.name, p.name, p.title, p.phone, p.birth_year, p.joined_on, p.rank, p.active, p.created_at, p.updated_at`

const personFrom = ` FROM people p JOIN units u ON u.id = p.unit_id`

func scanPerson(row scanner) (Person, error) {
	var p Person
	var by sql.NullInt64
	var joined sql.NullString
	if err := row.Scan(&p.ID, &p.UnitID, &p.UnitCode, &p.UnitName, &p.Name, &p.Title, &p.Phone, &by, &joined, &p.Rank, &p.Active, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return p, err
	}
	if by.Valid {
		y := int(by.Int64)
		p.BirthYear = &y
	}
	p.JoinedOn = joined.String
	return p, nil
}

func loadPerson(ctx context.Context, q db.Querier, id int64, forUpdate bool) (*Person, error) {
	query := `SELECT ` + personCols + personFrom + ` WHERE p.id = ?`
	if forUpdate && q.D() == db.Postgres {
		query += ` FOR UPDATE OF p`
	}
	p, err := scanPerson(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errPersonNotFound()
	}
	if err != nil {
		return nil, wrapf(err, "load person %d", id)
	}
	return &p, nil
}

// likeEscape makes s a literal LIKE pattern fragment (with ESCAPE '\').
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func peopleWhere(f PeopleFilter) (string, []any) {
	var where []string
	var args []any
	if f.UnitID > 0 {
		where = append(where, "p.unit_id = ?")
		args = append(args, f.UnitID)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		pat := "%" + strings.ToLower(likeEscape(q)) + "%"
		cond := `LOWER(p.name) LIKE ? ESCAPE '\' OR LOWER(p.title) LIKE ? ESCAPE '\' OR LOWER(p.rank) LIKE ? ESCAPE '\'`
		args = append(args, pat, pat, pat)
		if f.SearchPhone {
			cond += ` OR p.phone LIKE ? ESCAPE '\'`
			args = append(args, pat)
		}
		where = append(where, "("+cond+")")
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

func listPeople(ctx context.Context, q db.Querier, f PeopleFilter) ([]Person, int, error) {
	w, args := peopleWhere(f)
	var total int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*)`+personFrom+w, args...).Scan(&total); err != nil {
		return nil, 0, wrapf(err, "count people")
	}
	rows, err := q.QueryContext(ctx, `SELECT `+personCols+personFrom+w+` ORDER BY u.sort_order, u.code, p.name, p.id LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, wrapf(err, "list people")
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, 0, wrapf(err, "scan person")
		}
		out = append(out, p)
	}
	return out, total, wrapf(rows.Err(), "list people")
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func insertPerson(ctx context.Context, q db.Querier, p *Person, now time.Time) error {
	id, err := db.InsertID(ctx, q, `INSERT INTO people (unit_id, name, title, phone, birth_year, joined_on, rank, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.UnitID, p.Name, p.Title, p.Phone, nullInt(p.BirthYear), nullStr(p.JoinedOn), p.Rank, p.Active, now, now)
	if err != nil {
		return err
	}
	p.ID, p.CreatedAt, p.UpdatedAt = id, now, now
	return nil
}

func updatePersonRow(ctx context.Context, q db.Querier, p *Person, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE people SET unit_id = ?, name = ?, title = ?, phone = ?, birth_year = ?, joined_on = ?, rank = ?, active = ?, updated_at = ? WHERE id = ?`,
		p.UnitID, p.Name, p.Title, p.Phone, nullInt(p.BirthYear), nullStr(p.JoinedOn), p.Rank, p.Active, now, p.ID)
	if err != nil {
		return err
	}
	p.UpdatedAt = now
	return nil
}

// personKey is how an import row finds an existing person: unit and name.
type personKey struct {
	unitID int64
	name   string
}

// personIDsByKey maps unit and name to the ids of the people holding them.
func personIDsByKey(ctx context.Context, q db.Querier) (map[personKey][]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, unit_id, name FROM people ORDER BY id`)
	if err != nil {
		return nil, wrapf(err, "index people")
	}
	defer rows.Close()
	m := map[personKey][]int64{}
	for rows.Next() {
		var id int64
		var k personKey
		if err := rows.Scan(&id, &k.unitID, &k.name); err != nil {
			return nil, err
		}
		m[k] = append(m[k], id)
	}
	return m, rows.Err()
}

func count(ctx context.Context, q db.Querier, query string, args ...any) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}
