package org

import (
	"context"
	"fmt"
	"io"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/sheet"
)

// ExportUnits writes every unit, parents before children, in the import
// format (plus 状态), so the file imports back as it is. The export is
// audited ("unit.export") before the file goes out.
func (s *Service) ExportUnits(ctx context.Context, actor audit.Entry, w io.Writer) error {
	tree, err := s.Tree(ctx)
	if err != nil {
		return err
	}
	wb, sh, err := newExport("单位", unitColumns)
	if err != nil {
		return fmt.Errorf("org: export units: %w", err)
	}
	defer wb.Close()
	codes := map[int64]string{}
	walkTree(tree, func(n *TreeNode, _ int) { codes[n.ID] = n.Code })
	n := 0
	var werr error
	walkTree(tree, func(u *TreeNode, _ int) {
		if werr != nil {
			return
		}
		parent := ""
		if u.ParentID != nil {
			parent = codes[*u.ParentID]
		}
		werr = sh.Row(u.Code, u.Name, u.Kind.Label(), parent, u.SortOrder, activeLabel(u.Active))
		n++
	})
	if werr != nil {
		return fmt.Errorf("org: export units: %w", werr)
	}
	actor.Action, actor.Object, actor.Summary = "unit.export", "units", fmt.Sprintf("%d units", n)
	if err := s.audit.Write(ctx, actor); err != nil {
		return err
	}
	_, err = wb.WriteTo(w)
	return err
}

// ExportPeople writes every person in the import format (plus 状态) with
// phone numbers in full: it is the CLI's export, run by an operator who
// holds the database anyway. Audited ("person.export").
func (s *Service) ExportPeople(ctx context.Context, actor audit.Entry, w io.Writer) error {
	return s.exportPeople(ctx, actor, w, true)
}

// exportPeople streams people from the database into the sheet; phones are
// masked unless full is set (the caller has checked people.pii).
func (s *Service) exportPeople(ctx context.Context, actor audit.Entry, w io.Writer, full bool) error {
	wb, sh, err := newExport("人员", personColumns)
	if err != nil {
		return fmt.Errorf("org: export people: %w", err)
	}
	defer wb.Close()
	n, err := s.streamPeople(ctx, s.db, sh, full)
	if err != nil {
		return fmt.Errorf("org: export people: %w", err)
	}
	phones := "phones masked"
	if full {
		phones = "phones in full"
	}
	actor.Action, actor.Object, actor.Summary = "person.export", "people", fmt.Sprintf("%d people, %s", n, phones)
	if err := s.audit.Write(ctx, actor); err != nil {
		return err
	}
	_, err = wb.WriteTo(w)
	return err
}

func (s *Service) streamPeople(ctx context.Context, q db.Querier, sh *sheet.Sheet, full bool) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+personCols+personFrom+` ORDER BY u.sort_order, u.code, p.name, p.id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return n, err
		}
		phone := p.Phone
		if !full {
			phone = MaskPhone(phone)
		}
		var by any
		if p.BirthYear != nil {
			by = *p.BirthYear
		}
		if err := sh.Row(p.Name, p.UnitCode, p.Title, phone, by, p.JoinedOn, p.Rank, activeLabel(p.Active)); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}
