package org_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/org"
)

var (
	ctx   = context.Background()
	sys   = audit.Entry{Actor: "test"}
	today = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
)

func clock() time.Time { return today }

type env struct {
	t   *testing.T
	db  *db.DB
	log *audit.Log
	svc *org.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t)
	al := audit.New(d)
	al.Now = clock
	return &env{t: t, db: d, log: al, svc: org.New(d, al, clock)}
}

// snapshot counts what a refused change must leave alone.
type snapshot struct{ units, people, audit int }

func (e *env) snap() snapshot {
	e.t.Helper()
	var s snapshot
	for q, p := range map[string]*int{`SELECT COUNT(*) FROM units`: &s.units, `SELECT COUNT(*) FROM people`: &s.people, `SELECT COUNT(*) FROM audit_log`: &s.audit} {
		if err := e.db.QueryRowContext(ctx, q).Scan(p); err != nil {
			e.t.Fatal(err)
		}
	}
	return s
}

func (e *env) unit(code, name string, kind org.Kind, parent string) *org.Unit {
	e.t.Helper()
	u, err := e.svc.CreateUnit(ctx, sys, org.UnitInput{Code: code, Name: name, Kind: kind, ParentCode: parent})
	if err != nil {
		e.t.Fatalf("create unit %s: %v", code, err)
	}
	return u
}

func (e *env) person(unit, name, phone string) *org.Person {
	e.t.Helper()
	p, err := e.svc.CreatePerson(ctx, sys, org.PersonInput{UnitCode: unit, Name: name, Phone: phone, Title: "科员"})
	if err != nil {
		e.t.Fatalf("create person %s: %v", name, err)
	}
	return p
}

// lastAudit returns the newest audit record.
func (e *env) lastAudit() audit.Record {
	e.t.Helper()
	rs, _, err := e.log.List(ctx, audit.Filter{Limit: 1})
	if err != nil || len(rs) == 0 {
		e.t.Fatalf("audit list: %v (%d records)", err, len(rs))
	}
	return rs[0]
}

// appErr asserts err is a domain error with the status and field.
func appErr(t *testing.T, err error, status int, field string) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d on field %q", status, field)
	}
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("got %v (%T), want an apperr", err, err)
	}
	if e.Status != status || e.Field != field {
		t.Fatalf("got status %d field %q (%s), want %d on field %q", e.Status, e.Field, e.Message, status, field)
	}
	return e
}

func errCode(t *testing.T, err error) string {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an apperr", err)
	}
	return e.Code
}

// book builds an .xlsx whose first sheet holds rows (row 1 first).
func book(t testing.TB, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var unitHeader = []any{"编码", "名称", "类型", "上级编码", "排序"}
var personHeader = []any{"姓名", "单位编码", "职务", "手机", "出生年份", "入职日期", "职级"}
