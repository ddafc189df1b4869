package appeal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/appeal/open311"
	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/db"
)

func status(t *testing.T, err error) int {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("want a typed error, got %v", err)
	}
	return e.Status
}

func TestLoopFromIntakeToArchive(t *testing.T) {
	e := newEnv(t)
	a := e.create(appeal.NewAppeal{CitizenName: "王小明", CitizenPhone: "13812341234", CitizenIDNo: "110101199001011234", Street: "东华街道"})
	if a.State != appeal.StateReceived || !strings.HasPrefix(a.Number, "20260310") {
		t.Fatalf("intake: state %s number %s", a.State, a.Number)
	}
	if a.Citizen.Phone != "138****1234" || a.Citizen.Name != "王**" || a.Citizen.IDNo != "110101********1234" || !a.Citizen.Masked {
		t.Fatalf("citizen not masked: %+v", a.Citizen)
	}
	// Stored encrypted: the plain phone is nowhere in the row.
	var enc string
	if err := e.d.QueryRowContext(e.ctx, `SELECT citizen_phone_enc FROM appeals WHERE id = ?`, a.ID).Scan(&enc); err != nil || strings.Contains(enc, "13812341234") || enc == "" {
		t.Fatalf("phone at rest %q (%v)", enc, err)
	}
	c, err := e.svc.Unmask(e.ctx, e.center, a.ID)
	if err != nil || c.Phone != "13812341234" || c.Name != "王小明" {
		t.Fatalf("unmask: %+v %v", c, err)
	}
	if _, err := e.svc.Unmask(e.ctx, e.unit("D01"), a.ID); status(t, err) != http.StatusForbidden {
		t.Fatal("unmask without appeal.pii must be 403")
	}
	var audits int
	e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'appeal.unmask'`).Scan(&audits)
	if audits != 1 {
		t.Fatalf("unmask audits = %d", audits)
	}

	a = e.must(e.svc.Dispatch(e.ctx, e.center, a.ID, 0, ""))
	if a.State != appeal.StateDispatched || a.UnitID == nil || *a.UnitID != e.units["D01"] || a.DueOn.String() != "2026-03-17" {
		t.Fatalf("dispatch by rule: %+v due %s", a.UnitID, a.DueOn)
	}
	// A unit the order was not dispatched to cannot act on it.
	if _, err := e.svc.Accept(e.ctx, e.unit("D02"), a.ID); status(t, err) != http.StatusForbidden {
		t.Fatal("accept by another unit must be 403")
	}
	a = e.must(e.svc.Accept(e.ctx, e.unit("D01"), a.ID))
	if _, err := e.svc.Reply(e.ctx, e.unit("D02"), a.ID, "已处理"); status(t, err) != http.StatusForbidden {
		t.Fatal("reply by another unit must be 403")
	}
	a = e.must(e.svc.Extend(e.ctx, e.unit("D01"), a.ID, 3, "需协调环卫公司"))
	if a.DueOn.String() != "2026-03-20" {
		t.Fatalf("extended due %s", a.DueOn)
	}
	if _, err := e.svc.Extend(e.ctx, e.unit("D01"), a.ID, 2, "再延"); status(t, err) != http.StatusConflict {
		t.Fatal("a second extension must be refused")
	}
	if _, err := e.svc.Extend(e.ctx, e.unit("D01"), a.ID, 11, "x"); err == nil {
		t.Fatal("more than 10 days must be refused")
	}
	a = e.must(e.svc.Reply(e.ctx, e.unit("D01"), a.ID, "已安排环卫车每日清运两次"))
	a = e.must(e.svc.Review(e.ctx, e.center, a.ID, true, ""))
	if a.State != appeal.StateResolved {
		t.Fatalf("review: %s", a.State)
	}
	// 不满意 reopens with a new deadline.
	e.clock.SetDate("2026-03-12")
	a = e.must(e.svc.FollowUp(e.ctx, e.center, a.ID, appeal.Unsatisfied, false, "垃圾仍未清"))
	if a.State != appeal.StateDispatched || a.ReopenCount != 1 || a.DueOn.String() != "2026-03-19" {
		t.Fatalf("reopen: %s %d %s", a.State, a.ReopenCount, a.DueOn)
	}
	a = e.must(e.svc.Accept(e.ctx, e.unit("D01"), a.ID))
	a = e.must(e.svc.Reply(e.ctx, e.unit("D01"), a.ID, "已清运并增加垃圾桶"))
	a = e.must(e.svc.Review(e.ctx, e.center, a.ID, true, ""))
	a = e.must(e.svc.FollowUp(e.ctx, e.center, a.ID, appeal.Satisfied, true, ""))
	a = e.must(e.svc.Archive(e.ctx, e.center, a.ID))
	if a.State != appeal.StateArchived || len(a.Events) < 10 {
		t.Fatalf("archive: %s, %d events", a.State, len(a.Events))
	}
	// The rollup counts the order once, resolved and satisfied, under D01.
	var rec, res, fol, sat int
	if err := e.d.QueryRowContext(e.ctx, `SELECT SUM(received), SUM(resolved), SUM(followed), SUM(satisfied) FROM appeal_rollup WHERE unit_id = ?`, e.units["D01"]).Scan(&rec, &res, &fol, &sat); err != nil {
		t.Fatal(err)
	}
	if rec != 1 || res != 1 || fol != 1 || sat != 1 {
		t.Fatalf("rollup %d %d %d %d", rec, res, fol, sat)
	}
	var total int
	e.d.QueryRowContext(e.ctx, `SELECT COALESCE(SUM(received), 0) FROM appeal_rollup`).Scan(&total)
	if total != 1 {
		t.Fatalf("rollup total %d after moves", total)
	}
	// The per-dimension rollup the pages read agrees.
	for _, c := range []struct {
		dim, key string
		want     int
	}{{"all", "", 1}, {"unit", fmt.Sprint(e.units["D01"]), 1}, {"unit", "0", 0}, {"catdist", "0201|东城区", 1}, {"district", "东城区", 1}} {
		var n int
		e.d.QueryRowContext(e.ctx, `SELECT COALESCE(SUM(received), 0) FROM appeal_rollup_dim WHERE dim = ? AND key = ?`, c.dim, c.key).Scan(&n)
		if n != c.want {
			t.Errorf("rollup %s/%s = %d, want %d", c.dim, c.key, n, c.want)
		}
	}
}

func TestReturnTriageMergeAndBadInput(t *testing.T) {
	e := newEnv(t)
	a := e.create(appeal.NewAppeal{})
	if _, err := e.svc.Return(e.ctx, e.unit("D01"), a.ID, "x"); status(t, err) != http.StatusForbidden {
		t.Fatal("return of an order not dispatched to the unit must be 403")
	}
	a = e.must(e.svc.Dispatch(e.ctx, e.center, a.ID, e.units["D02"], "by hand"))
	if _, err := e.svc.Return(e.ctx, e.unit("D02"), a.ID, " "); err == nil {
		t.Fatal("a return without a reason must be refused")
	}
	a = e.must(e.svc.Return(e.ctx, e.unit("D02"), a.ID, "不属于西城区"))
	if a.State != appeal.StateReceived || a.UnitID != nil || a.ReturnCount != 1 {
		t.Fatalf("return: %s %v", a.State, a.UnitID)
	}
	a = e.must(e.svc.Dispatch(e.ctx, e.center, a.ID, e.units["D03"], ""))
	a = e.must(e.svc.Return(e.ctx, e.unit("D03"), a.ID, "也不属于南湖区"))
	if a.State != appeal.StateDisputed {
		t.Fatalf("second return: %s", a.State)
	}
	// Too late to return after 2 working days.
	a = e.must(e.svc.Dispatch(e.ctx, e.center, a.ID, e.units["D01"], "督查员裁定"))
	e.clock.SetDate("2026-03-13")
	if _, err := e.svc.Return(e.ctx, e.unit("D01"), a.ID, "late"); status(t, err) != http.StatusConflict {
		t.Fatal("a return after 2 working days must be refused")
	}

	b := e.create(appeal.NewAppeal{})
	b = e.must(e.svc.Triage(e.ctx, e.center, b.ID, appeal.TriageTransferred, "转110"))
	if b.State != appeal.StateArchived {
		t.Fatalf("triage transfer: %s", b.State)
	}
	c := e.create(appeal.NewAppeal{})
	c = e.must(e.svc.Merge(e.ctx, e.center, c.ID, a.ID))
	if c.State != appeal.StateMerged || *c.MasterID != a.ID {
		t.Fatalf("merge %s", c.State)
	}
	if _, err := e.svc.Triage(e.ctx, e.unit("D01"), a.ID, appeal.TriageAnswered, "x"); status(t, err) != http.StatusForbidden {
		t.Fatal("triage by a unit must be 403")
	}

	var before int
	e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM appeals`).Scan(&before)
	for _, in := range []appeal.NewAppeal{
		{CategoryCode: "9999", Content: "x"},
		{CategoryCode: "02", Content: "x"},
		{CategoryCode: "0201", Content: " "},
		{CategoryCode: "0201", Content: strings.Repeat("长", 4001)},
		{CategoryCode: "0201", Content: "x", District: "火星区"},
		{CategoryCode: "0201", Content: "x", CitizenPhone: "12"},
		{CategoryCode: "0201", Content: "x", Kind: "praise"},
	} {
		if _, err := e.svc.Create(e.ctx, e.center, in, false); status(t, err) != http.StatusUnprocessableEntity {
			t.Fatalf("%+v: want 422, got %v", in, err)
		}
	}
	var after int
	e.d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM appeals`).Scan(&after)
	if after != before {
		t.Fatal("bad input changed something")
	}
}

func TestOpen311Backend(t *testing.T) {
	e := newEnv(t)
	b := appeal.Open311{S: e.svc}
	svcs, err := b.Services(e.ctx)
	if err != nil || len(svcs) != 60 || svcs[0].Group == "" {
		t.Fatalf("services: %d %v", len(svcs), err)
	}
	lat, lng := 30.5, 114.3
	id, notice, err := b.Submit(e.ctx, open311.NewRequest{ServiceCode: "0102", Description: "建国街道路面坑洼", Address: "东城区建国街道88号", Lat: &lat, Long: &lng,
		FirstName: "明", LastName: "李", Phone: "13900001111", KeyName: "test"})
	if err != nil || id == "" || notice == "" {
		t.Fatalf("submit: %v", err)
	}
	if _, _, err := b.Submit(e.ctx, open311.NewRequest{ServiceCode: "nope", Description: "x"}); !errors.Is(err, open311.ErrUnknownService) {
		t.Fatalf("unknown code: %v", err)
	}
	r, err := b.Request(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "open" || r.AgencyResponsible != "单位D01" || r.Expected.IsZero() || r.ServiceCode != "0102" || *r.Lat != 30.5 {
		t.Fatalf("request: %+v", r)
	}
	if _, err := b.Request(e.ctx, "nope"); !errors.Is(err, open311.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	// Closed once resolved.
	var aid int64
	e.d.QueryRowContext(e.ctx, `SELECT id FROM appeals WHERE number = ?`, id).Scan(&aid)
	e.must(e.svc.Accept(e.ctx, e.unit("D01"), aid))
	e.must(e.svc.Reply(e.ctx, e.unit("D01"), aid, "已修复"))
	e.must(e.svc.Review(e.ctx, e.center, aid, true, ""))
	list, err := b.Requests(e.ctx, open311.Query{Status: "closed", Start: e.clock.Now().Add(-time.Hour), End: e.clock.Now().Add(time.Hour)})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("closed list: %v %v", list, err)
	}
	open, _ := b.Requests(e.ctx, open311.Query{Status: "open"})
	if len(open) != 0 {
		t.Fatalf("open list: %v", open)
	}
	byID, _ := b.Requests(e.ctx, open311.Query{IDs: []string{id, "x"}})
	if len(byID) != 1 {
		t.Fatalf("by id: %v", byID)
	}
	// Never personal data.
	for _, s := range []string{r.Description, r.StatusNotes, r.Address, r.AgencyResponsible} {
		if strings.Contains(s, "13900001111") || strings.Contains(s, "李明") {
			t.Fatal("personal data in an Open311 request")
		}
	}
}

type fakeNotes struct{ sent []string }

func (f *fakeNotes) NotifyUnit(_ context.Context, _ *db.Tx, unit int64, kind, link, subject, titleZH, titleEN, bodyZH, bodyEN string) error {
	f.sent = append(f.sent, fmt.Sprintf("%d %s %s", unit, subject, titleZH))
	return nil
}

func TestRemindersThroughTheDeadlineEngine(t *testing.T) {
	e := newEnv(t)
	notes := &fakeNotes{}
	e.svc.Notes = notes
	a := e.create(appeal.NewAppeal{})
	a = e.must(e.svc.Dispatch(e.ctx, e.center, a.ID, e.units["D01"], "")) // due 2026-03-17
	pass := func() int {
		var n int
		if err := e.d.InTx(e.ctx, func(tx *db.Tx) error {
			var err error
			n, err = e.svc.RemindPass(e.ctx, tx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pass(); n != 0 {
		t.Fatalf("reminders 5 working days ahead: %d", n)
	}
	e.clock.SetDate("2026-03-17")
	if n := pass(); n != 1 || !strings.Contains(notes.sent[0], "今天到期") {
		t.Fatalf("on the due day: %d %v", n, notes.sent)
	}
	if n := pass(); n != 0 {
		t.Fatal("the same reminder twice")
	}
	e.clock.SetDate("2026-03-18")
	if n := pass(); n != 1 || !strings.Contains(notes.sent[1], "逾期") {
		t.Fatalf("overdue: %v", notes.sent)
	}
	if got := e.must(e.svc.Get(e.ctx, e.center, a.ID)); got.Light != "red" {
		t.Fatalf("light %s", got.Light)
	}
}
