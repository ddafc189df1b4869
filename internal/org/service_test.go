package org_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/biaogan/biaogan/internal/org"
)

func ptr[T any](v T) *T { return &v }

func TestCreateUnitRefusesBadInputNamingTheField(t *testing.T) {
	e := newEnv(t)
	root := e.unit("BGS", "示范市人民政府办公室", org.KindOffice, "")
	cases := []struct {
		name   string
		in     org.UnitInput
		status int
		field  string
	}{
		{"empty name", org.UnitInput{Code: "S01", Name: "  ", Kind: org.KindSection}, 422, "name"},
		{"empty code", org.UnitInput{Code: "", Name: "秘书一科", Kind: org.KindSection}, 422, "code"},
		{"code with spaces", org.UnitInput{Code: "S 01", Name: "秘书一科", Kind: org.KindSection}, 422, "code"},
		{"bad kind", org.UnitInput{Code: "S01", Name: "秘书一科", Kind: "bureau"}, 422, "kind"},
		{"unknown parent id", org.UnitInput{Code: "S01", Name: "秘书一科", Kind: org.KindSection, ParentID: ptr(int64(9999))}, 422, "parent_id"},
		{"unknown parent code", org.UnitInput{Code: "S01", Name: "秘书一科", Kind: org.KindSection, ParentCode: "NOPE"}, 422, "parent_code"},
		{"duplicate code", org.UnitInput{Code: "BGS", Name: "另一个办公室", Kind: org.KindOffice}, http.StatusConflict, "code"},
		{"code differing only by case", org.UnitInput{Code: "bgs", Name: "另一个办公室", Kind: org.KindOffice}, http.StatusConflict, "code"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snap()
			_, err := e.svc.CreateUnit(ctx, sys, c.in)
			appErr(t, err, c.status, c.field)
			if after := e.snap(); after != before {
				t.Fatalf("refused create changed the database: %+v → %+v", before, after)
			}
		})
	}
	// The Chinese label is accepted for the kind.
	u, err := e.svc.CreateUnit(ctx, sys, org.UnitInput{Code: "S01", Name: "秘书一科", Kind: "科室", ParentID: &root.ID})
	if err != nil || u.Kind != org.KindSection || u.ParentID == nil || *u.ParentID != root.ID {
		t.Fatalf("create with label = %+v, %v", u, err)
	}
	rec := e.lastAudit()
	if rec.Action != "unit.create" || rec.Object != "unit:"+itoa(u.ID) || !strings.Contains(rec.Summary, "parent=BGS") {
		t.Fatalf("audit = %+v", rec)
	}
}

func TestCreatePersonRefusesBadInputNamingTheField(t *testing.T) {
	e := newEnv(t)
	e.unit("S05", "督查科", org.KindSection, "")
	cases := []struct {
		name  string
		in    org.PersonInput
		field string
	}{
		{"empty name", org.PersonInput{UnitCode: "S05", Name: ""}, "name"},
		{"phone too short", org.PersonInput{UnitCode: "S05", Name: "张伟", Phone: "1381234"}, "phone"},
		{"phone not mobile", org.PersonInput{UnitCode: "S05", Name: "张伟", Phone: "12812345678"}, "phone"},
		{"landline without area code", org.PersonInput{UnitCode: "S05", Name: "张伟", Phone: "12345678"}, "phone"},
		{"birth year too early", org.PersonInput{UnitCode: "S05", Name: "张伟", BirthYear: ptr(1850)}, "birth_year"},
		{"birth year a child", org.PersonInput{UnitCode: "S05", Name: "张伟", BirthYear: ptr(2020)}, "birth_year"},
		{"date that does not exist", org.PersonInput{UnitCode: "S05", Name: "张伟", JoinedOn: "2026-02-30"}, "joined_on"},
		{"date as words", org.PersonInput{UnitCode: "S05", Name: "张伟", JoinedOn: "yesterday"}, "joined_on"},
		{"unknown unit id", org.PersonInput{UnitID: 9999, Name: "张伟"}, "unit_id"},
		{"no unit", org.PersonInput{Name: "张伟"}, "unit_id"},
		{"unknown unit code", org.PersonInput{UnitCode: "X99", Name: "张伟"}, "unit_code"},
		{"title too long", org.PersonInput{UnitCode: "S05", Name: "张伟", Title: strings.Repeat("长", 101)}, "title"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snap()
			_, err := e.svc.CreatePerson(ctx, sys, c.in)
			appErr(t, err, 422, c.field)
			if after := e.snap(); after != before {
				t.Fatalf("refused create changed the database: %+v → %+v", before, after)
			}
		})
	}
}

func TestPersonFormatsAreNormalised(t *testing.T) {
	e := newEnv(t)
	e.unit("S05", "督查科", org.KindSection, "")
	cases := []struct{ phone, wantPhone, date, wantDate string }{
		{"138 1234 5678", "13812345678", "2026/3/5", "2026-03-05"},
		{"+86 139-1234-5678", "13912345678", "2026.3.5", "2026-03-05"},
		{"0531-12345678", "0531-12345678", "2026年3月5日", "2026-03-05"},
		{"", "", "", ""},
	}
	for i, c := range cases {
		p, err := e.svc.CreatePerson(ctx, sys, org.PersonInput{UnitCode: "S05", Name: "人员" + itoa(int64(i)), Phone: c.phone, JoinedOn: c.date})
		if err != nil {
			t.Fatalf("%q %q: %v", c.phone, c.date, err)
		}
		if p.Phone != c.wantPhone || p.JoinedOn != c.wantDate {
			t.Errorf("%q %q stored as %q %q", c.phone, c.date, p.Phone, p.JoinedOn)
		}
	}
	for in, want := range map[string]string{"13812341234": "138****1234", "0531-12345678": "0531-****5678", "": "", "123": "****"} {
		if got := org.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
	rec := e.lastAudit()
	if strings.Contains(rec.Summary, "12345678") && !strings.Contains(rec.Summary, "****") {
		t.Fatalf("audit summary holds a full phone: %s", rec.Summary)
	}
}

func TestUpdateUnitRefusesCycles(t *testing.T) {
	e := newEnv(t)
	a := e.unit("A", "甲", org.KindOffice, "")
	b := e.unit("B", "乙", org.KindSection, "A")
	c := e.unit("C", "丙", org.KindBranch, "B")
	for _, tc := range []struct {
		name   string
		id     int64
		parent int64
	}{
		{"self", a.ID, a.ID},
		{"child", a.ID, b.ID},
		{"grandchild", a.ID, c.ID},
		{"own child one level down", b.ID, c.ID},
		{"unknown", b.ID, 9999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snap()
			_, err := e.svc.UpdateUnit(ctx, sys, tc.id, org.UnitPatch{ParentID: org.Some(tc.parent)})
			appErr(t, err, 422, "parent_id")
			if after := e.snap(); after != before {
				t.Fatalf("refused update changed the database: %+v → %+v", before, after)
			}
		})
	}
	// Moving C up to A is fine, and audited before → after.
	u, err := e.svc.UpdateUnit(ctx, sys, c.ID, org.UnitPatch{ParentID: org.Some(a.ID), Name: ptr("丙支部")})
	if err != nil || *u.ParentID != a.ID || u.Name != "丙支部" {
		t.Fatalf("move = %+v, %v", u, err)
	}
	rec := e.lastAudit()
	if rec.Action != "unit.update" || rec.Object != "unit:"+itoa(c.ID) || !strings.Contains(rec.Summary, "parent: B → A") || !strings.Contains(rec.Summary, "name: 丙 → 丙支部") {
		t.Fatalf("audit = %+v", rec)
	}
	// Null makes it a root.
	u, err = e.svc.UpdateUnit(ctx, sys, c.ID, org.UnitPatch{ParentID: org.Nullable[int64]{Set: true}})
	if err != nil || u.ParentID != nil {
		t.Fatalf("make root = %+v, %v", u, err)
	}
	// Taking another unit's code is a conflict on code.
	_, err = e.svc.UpdateUnit(ctx, sys, c.ID, org.UnitPatch{Code: ptr("a")})
	appErr(t, err, http.StatusConflict, "code")
	_, err = e.svc.UpdateUnit(ctx, sys, 9999, org.UnitPatch{Name: ptr("x")})
	appErr(t, err, http.StatusNotFound, "")
}

func TestUpdatePersonAuditsMaskedPhones(t *testing.T) {
	e := newEnv(t)
	e.unit("S05", "督查科", org.KindSection, "")
	e.unit("S06", "政务信息科", org.KindSection, "")
	p := e.person("S05", "李娜", "13812341234")
	s06, _ := e.svc.UnitByCode(ctx, "S06")
	before := e.snap()
	_, err := e.svc.UpdatePerson(ctx, sys, p.ID, org.PersonPatch{Phone: ptr("bad")})
	appErr(t, err, 422, "phone")
	if e.snap() != before {
		t.Fatal("refused update changed the database")
	}
	n, err := e.svc.UpdatePerson(ctx, sys, p.ID, org.PersonPatch{Phone: ptr("13912345678"), UnitID: &s06.ID, BirthYear: org.Some(1985)})
	if err != nil || n.Phone != "13912345678" || n.UnitCode != "S06" || *n.BirthYear != 1985 {
		t.Fatalf("update = %+v, %v", n, err)
	}
	rec := e.lastAudit()
	want := []string{"unit: S05 → S06", "phone: 138****1234 → 139****5678", "birth_year: - → 1985"}
	for _, w := range want {
		if !strings.Contains(rec.Summary, w) {
			t.Errorf("audit summary %q lacks %q", rec.Summary, w)
		}
	}
	if strings.Contains(rec.Summary, "13912345678") {
		t.Fatalf("audit summary holds the full phone: %s", rec.Summary)
	}
}

func TestTreeAndLookups(t *testing.T) {
	e := newEnv(t)
	e.unit("BGS", "办公室", org.KindOffice, "")
	e.unit("S02", "秘书二科", org.KindSection, "BGS")
	e.unit("S01", "秘书一科", org.KindSection, "BGS")
	e.person("S01", "王芳", "")
	tree, err := e.svc.Tree(ctx)
	if err != nil || len(tree) != 1 || len(tree[0].Children) != 2 {
		t.Fatalf("tree = %+v, %v", tree, err)
	}
	if tree[0].Children[0].Code != "S01" || tree[0].Children[0].People != 1 {
		t.Fatalf("children = %+v", tree[0].Children[0])
	}
	u, err := e.svc.UnitByCode(ctx, "S02")
	if err != nil || e.svc.UnitName(ctx, u.ID) != "秘书二科" || e.svc.UnitName(ctx, 9999) != "" {
		t.Fatalf("lookups: %v", err)
	}
	if _, err := e.svc.UnitByCode(ctx, "NOPE"); errCode(t, err) != "unit_not_found" {
		t.Fatal("unknown code")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Two people moving A under B and B under A at the same moment: one wins,
// the other is refused, and the tree has no cycle.
func TestConcurrentMovesCannotMakeACycle(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		a := e.unit("A"+itoa(int64(i)), "甲", org.KindOffice, "")
		b := e.unit("B"+itoa(int64(i)), "乙", org.KindOffice, "")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, move := range [][2]int64{{a.ID, b.ID}, {b.ID, a.ID}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[j] = e.svc.UpdateUnit(ctx, sys, move[0], org.UnitPatch{ParentID: org.Some(move[1])})
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: errors %v and %v; want exactly one winner", i, errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				appErr(t, err, 422, "parent_id")
			}
		}
	}
}
