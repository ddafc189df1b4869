package appeal

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// TaskCreator escalates orders to a supervision task (督办); app adapts the
// supervise feature.
type TaskCreator interface {
	CreateAppealTask(ctx context.Context, actor audit.Entry, t EscalatedTask) (int64, error)
}

// EscalatedTask is the task an escalation asks for.
type EscalatedTask struct {
	Title       string
	Description string
	UnitID      int64
	DueWorkdays int
}

// Notifier delivers reminders to a unit's people; app adapts notify.
type Notifier interface {
	NotifyUnit(ctx context.Context, tx *db.Tx, unitID int64, kind, link, subject string, titleZH, titleEN, bodyZH, bodyEN string) error
}

// Service is the appeal feature.
type Service struct {
	DB    *db.DB
	Audit *audit.Log
	Cal   *workday.Calendar
	Now   func() time.Time
	Log   *slog.Logger
	PII   *PII
	Tasks TaskCreator
	Notes Notifier

	mu   sync.RWMutex
	cats map[string]Category
	tree []Category

	model *nbCache
	web   *web.Server
	imp   *rejectStore
	cache *winCache
}

// New makes the service.
func New(d *db.DB, al *audit.Log, cal *workday.Calendar, pii *PII, now func() time.Time) *Service {
	return &Service{DB: d, Audit: al, Cal: cal, Now: now, PII: pii, Log: slog.Default(), model: &nbCache{}, imp: newRejectStore(), cache: &winCache{m: map[string]cacheEntry{}}}
}

// Today is the 12345 center's civil day.
func (s *Service) Today() workday.Date { return workday.FromTime(s.Now(), loc) }

// Actor is who acts.
type Actor struct {
	UserID int64
	Name   string
	IP     string
	UnitID int64
	Center bool // appeal.center
	Handle bool // appeal.handle
	PII    bool // appeal.pii
}

// ActorOf builds an Actor from a principal.
func ActorOf(p *auth.Principal, ip string) Actor {
	if p == nil {
		return Actor{Name: "anonymous", IP: ip}
	}
	a := Actor{UserID: p.UserID, Name: p.Username, IP: ip, Center: p.Can(auth.PermAppealCenter), Handle: p.Can(auth.PermAppealHandle), PII: p.Can(auth.PermAppealPII)}
	if p.UnitID != nil {
		a.UnitID = *p.UnitID
	}
	return a
}

// System is the actor for channels without a person (Open311, import, demo).
func System(name string) Actor { return Actor{Name: name, Center: true} }

func (a Actor) entry(action, object, summary string) audit.Entry {
	return audit.Entry{ActorID: a.UserID, Actor: a.Name, IP: a.IP, Action: action, Object: object, Summary: summary, Result: audit.OK}
}

// Errors.
func errNotFound(id int64) *apperr.Error {
	return apperr.NotFound("appeal_not_found", fmt.Sprintf("工单 %d 不存在 / work order %d not found", id, id))
}
func errConflict(id int64) *apperr.Error {
	return apperr.Conflict("appeal_changed", fmt.Sprintf("工单 %d 已被他人修改，请刷新后重试 / work order %d was changed by someone else; reload and retry", id, id))
}
func errState(a *Appeal, action string) *apperr.Error {
	return apperr.Conflict("appeal_bad_state", fmt.Sprintf("工单 %s 当前状态（%s）不能%s / work order %s in state %s cannot be %s", a.Number, a.State, action, a.Number, a.State, action))
}

var errCenterOnly = apperr.Forbidden("center_only", "只有12345中心（督查员）可以执行此操作 / only the 12345 center (supervisor) can do this")

func errNotYourUnit(a *Appeal) *apperr.Error {
	return apperr.Forbidden("not_dispatched_to_you", fmt.Sprintf("工单 %s 未派给你的单位 / work order %s was not dispatched to your unit", a.Number, a.Number))
}

// ---- categories ----

// EnsureCategories seeds the default tree into an empty table and loads it.
func (s *Service) EnsureCategories(ctx context.Context) error {
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM appeal_categories`).Scan(&n); err != nil {
		return fmt.Errorf("appeal: categories: %w", err)
	}
	if n == 0 {
		err := s.DB.InTx(ctx, func(tx *db.Tx) error {
			for i, c := range DefaultCategories() {
				if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_categories (code, parent_code, name, name_en, leaf, keywords, sort_order, active) VALUES (?, ?, ?, ?, ?, ?, ?, TRUE)`,
					c.Code, c.ParentCode, c.Name, c.NameEN, c.Leaf, c.Keywords, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("appeal: seed categories: %w", err)
		}
	}
	return s.loadCategories(ctx)
}

func (s *Service) loadCategories(ctx context.Context) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT code, parent_code, name, name_en, leaf, keywords FROM appeal_categories WHERE active ORDER BY sort_order, code`)
	if err != nil {
		return fmt.Errorf("appeal: categories: %w", err)
	}
	defer rows.Close()
	m := map[string]Category{}
	var tree []Category
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.Code, &c.ParentCode, &c.Name, &c.NameEN, &c.Leaf, &c.Keywords); err != nil {
			return err
		}
		m[c.Code] = c
		tree = append(tree, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.cats, s.tree = m, tree
	s.mu.Unlock()
	return nil
}

// Categories returns the tree, groups before their leaves.
func (s *Service) Categories() []Category {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Category(nil), s.tree...)
}

// Category finds a category by code.
func (s *Service) Category(code string) (Category, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cats[code]
	return c, ok
}

func (s *Service) catName(code string) string {
	c, _ := s.Category(code)
	return c.Name
}

// ---- intake ----

func validDistrict(d string) bool {
	if d == "" {
		return true
	}
	for _, x := range Districts {
		if x.Name == d {
			return true
		}
	}
	return false
}

func (s *Service) checkNew(in *NewAppeal) error {
	in.Content = strings.TrimSpace(in.Content)
	if in.Channel == "" {
		in.Channel = ChannelPhone
	}
	if in.Kind == "" {
		in.Kind = KindHelp
	}
	if in.Urgency == "" {
		in.Urgency = UrgencyNormal
	}
	ok := false
	for _, c := range Channels {
		ok = ok || c == in.Channel
	}
	if !ok {
		return apperr.Invalid("channel", "渠道须为 phone、web、app、wechat、open311、api、import 之一 / channel must be phone, web, app, wechat, open311, api or import")
	}
	ok = false
	for _, k := range Kinds {
		ok = ok || k == in.Kind
	}
	if !ok {
		return apperr.Invalid("kind", "类型须为 consult、help、complaint、report、suggestion 之一 / kind must be consult, help, complaint, report or suggestion")
	}
	c, found := s.Category(in.CategoryCode)
	if !found || !c.Leaf {
		return apperr.Invalid("category_code", fmt.Sprintf("分类 %q 不存在或不是末级分类 / category %q is unknown or not a leaf", in.CategoryCode, in.CategoryCode))
	}
	if in.Content == "" {
		return apperr.Invalid("content", "诉求内容不能为空 / content is required")
	}
	if utf8.RuneCountInString(in.Content) > 4000 {
		return apperr.Invalid("content", "诉求内容不能超过 4000 字 / content must be at most 4000 characters")
	}
	if !validDistrict(in.District) {
		return apperr.Invalid("district", fmt.Sprintf("区县 %q 不存在 / unknown district %q", in.District, in.District))
	}
	if (in.Lat == nil) != (in.Long == nil) {
		return apperr.Invalid("lat", "经纬度须同时填写 / lat and long go together")
	}
	if in.Lat != nil && (*in.Lat < -90 || *in.Lat > 90 || *in.Long < -180 || *in.Long > 180) {
		return apperr.Invalid("lat", "经纬度超出范围 / lat/long out of range")
	}
	if in.Urgency != UrgencyNormal && in.Urgency != UrgencyUrgent {
		return apperr.Invalid("urgency", "紧急程度须为 normal 或 urgent / urgency must be normal or urgent")
	}
	if p := normPhone(in.CitizenPhone); in.CitizenPhone != "" && (len(p) < 7 || len(p) > 15) {
		return apperr.Invalid("citizen_phone", "电话号码应为 7–15 位数字 / phone must have 7–15 digits")
	}
	if in.CitizenIDNo != "" && len(in.CitizenIDNo) != 18 {
		return apperr.Invalid("citizen_id_number", "身份证号应为 18 位 / ID number must have 18 characters")
	}
	if len(in.Attachments) > 10 {
		return apperr.Invalid("attachments", "附件最多 10 个 / at most 10 attachments")
	}
	return nil
}

// Create registers an intake (受理). With dispatch, a matching rule
// dispatches it at once.
func (s *Service) Create(ctx context.Context, ac Actor, in NewAppeal, dispatch bool) (*Appeal, error) {
	id, err := s.create(ctx, ac, in, dispatch)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, ac, id)
}

func (s *Service) create(ctx context.Context, ac Actor, in NewAppeal, dispatch bool) (int64, error) {
	if !ac.Center {
		return 0, errCenterOnly
	}
	if err := s.checkNew(&in); err != nil {
		return 0, err
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = s.insert(ctx, tx, ac, in)
		if err != nil {
			return err
		}
		if dispatch {
			if unit, ok, err := s.ruleUnit(ctx, tx, in.CategoryCode, in.District); err != nil {
				return err
			} else if ok {
				r, err := loadRow(ctx, tx, id)
				if err != nil {
					return err
				}
				if err := s.doTransition(ctx, tx, ac, r, "dispatch", "rule", func(a *row) error { return s.setDispatch(a, unit) }); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return id, err
}

func (s *Service) insert(ctx context.Context, tx *db.Tx, ac Actor, in NewAppeal) (int64, error) {
	now := s.Now().UTC()
	day := workday.FromTime(now, loc)
	number, err := nextNumber(ctx, tx, day)
	if err != nil {
		return 0, err
	}
	var enc [3]string
	for i, v := range []string{in.CitizenName, in.CitizenPhone, in.CitizenIDNo} {
		if enc[i], err = s.PII.Encrypt(v); err != nil {
			return 0, err
		}
	}
	ph := s.PII.PhoneHash(in.CitizenPhone)
	repeat := false
	if ph != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM appeals WHERE phone_hash = ? AND received_at >= ?`, ph, now.AddDate(0, 0, -DefaultRepeatWindow)).Scan(&n); err != nil {
			return 0, fmt.Errorf("appeal: repeat check: %w", err)
		}
		repeat = n > 0
	}
	var createdBy any
	if ac.UserID != 0 {
		createdBy = ac.UserID
	}
	var lat, lng any
	if in.Lat != nil {
		lat, lng = *in.Lat, *in.Long
	}
	sim := int64(SimHash(Segment(in.Content)))
	id, err := db.InsertID(ctx, tx, `INSERT INTO appeals (number, channel, kind, category_code, content, district, street, address, lat, lng,
		citizen_name_enc, citizen_phone_enc, citizen_idno_enc, citizen_name_mask, citizen_phone_mask, citizen_idno_mask, phone_hash,
		urgency, state, received_at, received_on, is_repeat, simhash, source_key, media_url, created_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?, ?, ?, ?)`,
		number, string(in.Channel), string(in.Kind), in.CategoryCode, in.Content, in.District, in.Street, in.Address, lat, lng,
		enc[0], enc[1], enc[2], MaskName(in.CitizenName), MaskPhone(in.CitizenPhone), MaskIDNo(in.CitizenIDNo), ph,
		in.Urgency, now, day.String(), repeat, sim, in.SourceKey, in.MediaURL, createdBy, now)
	if err != nil {
		return 0, fmt.Errorf("appeal: insert: %w", err)
	}
	for _, at := range in.Attachments {
		if strings.TrimSpace(at.Name) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_attachments (appeal_id, name, url, created_at) VALUES (?, ?, ?, ?)`, id, at.Name, at.URL, now); err != nil {
			return 0, fmt.Errorf("appeal: attachment: %w", err)
		}
	}
	r, err := loadRow(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	c := contribOf(r)
	if err := applyRollup(ctx, tx, nil, &c); err != nil {
		return 0, err
	}
	if in.Street != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_rollup_street (day, district, street, received) VALUES (?, ?, ?, 1)
			ON CONFLICT (day, district, street) DO UPDATE SET received = appeal_rollup_street.received + 1`, day.String(), in.District, in.Street); err != nil {
			return 0, fmt.Errorf("appeal: street rollup: %w", err)
		}
	}
	if err := addEvent(ctx, tx, id, now, ac, "create", "", StateReceived, nil, string(in.Channel)); err != nil {
		return 0, err
	}
	return id, s.Audit.WriteTx(ctx, tx, ac.entry("appeal.create", fmt.Sprintf("appeal:%d", id), number+" "+in.CategoryCode+" via "+string(in.Channel)))
}

// ---- reading ----

// Get reads one order as ac may see it (masked unless appeal.pii, and
// unmasking is a separate audited call).
func (s *Service) Get(ctx context.Context, ac Actor, id int64) (*Appeal, error) {
	r, err := loadRow(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	a := r.Appeal
	s.decorate(a)
	if a.Events, err = s.events(ctx, id); err != nil {
		return nil, err
	}
	if a.Attachments, err = s.attachments(ctx, id); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Service) decorate(a *Appeal) {
	a.CategoryName = s.catName(a.CategoryCode)
	a.Light = string(s.light(a).Light)
}

// light evaluates the order through the deadline engine.
func (s *Service) light(a *Appeal) deadline.Result {
	if a.DueOn.IsZero() {
		if !a.State.Open() {
			return deadline.Evaluate(s.Cal, deadline.Input{Today: s.Today(), Done: true}, deadline.DefaultThresholds())
		}
		return deadline.Evaluate(s.Cal, deadline.Input{Today: s.Today()}, deadline.DefaultThresholds())
	}
	in := deadline.Input{Today: s.Today(), Start: a.DispatchedOn, AssignedOn: a.DispatchedOn, Due: a.DueOn,
		Accepted: a.AcceptedAt != nil, Submitted: a.State == StateReplied, Done: !a.State.Open()}
	return deadline.Evaluate(s.Cal, in, deadline.DefaultThresholds())
}

// List lists orders.
func (s *Service) List(ctx context.Context, f Filter) ([]*Appeal, int, error) {
	items, total, err := s.list(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	for _, a := range items {
		s.decorate(a)
	}
	return items, total, nil
}

// Unmask decrypts the citizen data of one order for a holder of
// appeal.pii, and audits it.
func (s *Service) Unmask(ctx context.Context, ac Actor, id int64) (Citizen, error) {
	if !ac.PII {
		return Citizen{}, apperr.Forbidden("pii_denied", "需要 appeal.pii 权限才能查看个人信息 / appeal.pii is required to see personal data")
	}
	r, err := loadRow(ctx, s.DB, id)
	if err != nil {
		return Citizen{}, err
	}
	var c Citizen
	for i, p := range []*string{&c.Name, &c.Phone, &c.IDNo} {
		v, err := s.PII.Decrypt([]string{r.enc.name, r.enc.phone, r.enc.idno}[i])
		if err != nil {
			return Citizen{}, err
		}
		*p = v
	}
	if err := s.Audit.Write(ctx, ac.entry("appeal.unmask", fmt.Sprintf("appeal:%d", id), "personal data of "+r.Number+" shown")); err != nil {
		return Citizen{}, err
	}
	return c, nil
}

// ---- transitions ----

// transition loads an order in a transaction, applies f, saves it, moves
// its rollup contribution, records the event and the audit entry.
func (s *Service) transition(ctx context.Context, ac Actor, id int64, action, note string, f func(r *row) error) (*Appeal, error) {
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		r, err := loadRow(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.doTransition(ctx, tx, ac, r, action, note, f)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, ac, id)
}

func (s *Service) doTransition(ctx context.Context, tx *db.Tx, ac Actor, r *row, action, note string, f func(r *row) error) error {
	before := contribOf(r)
	from := r.State
	if err := f(r); err != nil {
		return err
	}
	now := s.Now().UTC()
	if err := save(ctx, tx, r, now); err != nil {
		return err
	}
	if r.dueMoved {
		// The reminder keys start over with a new due date.
		if _, err := tx.ExecContext(ctx, `UPDATE appeals SET remind_key = '' WHERE id = ?`, r.ID); err != nil {
			return fmt.Errorf("appeal: reset reminders: %w", err)
		}
	}
	after := contribOf(r)
	if err := applyRollup(ctx, tx, &before, &after); err != nil {
		return err
	}
	evUnit := r.UnitID
	if r.returnedBy != 0 {
		evUnit = &r.returnedBy
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeal_returns (appeal_id, unit_id, returned_on, reason) VALUES (?, ?, ?, ?)`,
			r.ID, r.returnedBy, s.Today().String(), note); err != nil {
			return fmt.Errorf("appeal: return: %w", err)
		}
	}
	if err := addEvent(ctx, tx, r.ID, now, ac, action, from, r.State, evUnit, note); err != nil {
		return err
	}
	summary := fmt.Sprintf("%s: %s → %s", r.Number, from, r.State)
	if note != "" {
		summary += " (" + truncate(note, 200) + ")"
	}
	return s.Audit.WriteTx(ctx, tx, ac.entry("appeal."+action, fmt.Sprintf("appeal:%d", r.ID), summary))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func (s *Service) setDispatch(r *row, unit int64) error {
	now := s.Now().UTC()
	today := s.Today()
	r.UnitID = &unit
	r.DispatchedAt, r.DispatchedOn = &now, today
	days := DueNormalWorkdays
	if r.Urgency == UrgencyUrgent {
		days = DueUrgentWorkdays
	}
	r.DueOn = deadline.DueAfter(days).Resolve(s.Cal, today)
	r.Triage = TriageDispatched
	r.State = StateDispatched
	r.dueMoved = true
	r.AcceptedAt = nil
	return nil
}

// Triage closes an order at the center: answered on the spot, transferred
// to 110/119/120/122, or redirected to another legal channel.
func (s *Service) Triage(ctx context.Context, ac Actor, id int64, outcome, note string) (*Appeal, error) {
	if !ac.Center {
		return nil, errCenterOnly
	}
	note = strings.TrimSpace(note)
	switch outcome {
	case TriageAnswered, TriageTransferred, TriageRedirected:
	default:
		return nil, apperr.Invalid("outcome", "处置方式须为 answered、transferred、redirected / outcome must be answered, transferred or redirected")
	}
	if note == "" {
		return nil, apperr.Invalid("note", "请说明答复内容或转办去向 / say what was answered or where it went")
	}
	return s.transition(ctx, ac, id, "triage", outcome+": "+note, func(r *row) error {
		if r.State != StateReceived {
			return errState(r.Appeal, "分流 / triaged")
		}
		now := s.Now().UTC()
		r.Triage, r.TriageNote = outcome, note
		if outcome == TriageAnswered {
			r.State, r.ResolvedAt, r.Reply = StateResolved, &now, note
			r.onTime = true
		} else {
			r.State, r.ArchivedAt = StateArchived, &now
		}
		return nil
	})
}

// Dispatch sends an order to a unit (派单): by hand with unitID, by rule
// with 0. Disputed orders are dispatched this way too.
func (s *Service) Dispatch(ctx context.Context, ac Actor, id, unitID int64, note string) (*Appeal, error) {
	if !ac.Center {
		return nil, errCenterOnly
	}
	return s.transition(ctx, ac, id, "dispatch", note, func(r *row) error {
		switch r.State {
		case StateReceived, StateDisputed, StateDispatched:
		default:
			return errState(r.Appeal, "派单 / dispatched")
		}
		unit := unitID
		if unit == 0 {
			u, ok, err := s.ruleUnit(ctx, s.DB, r.CategoryCode, r.District)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.Invalid("unit_id", "没有匹配的派单规则，请选择承办单位 / no dispatch rule matches; choose a unit")
			}
			unit = u
		} else {
			var n int
			if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM units WHERE id = ? AND active`, unit).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return apperr.Invalid("unit_id", fmt.Sprintf("单位 %d 不存在 / unit %d not found", unit, unit))
			}
		}
		return s.setDispatch(r, unit)
	})
}

func (s *Service) ownUnit(ac Actor, r *row) error {
	if !ac.Handle || r.UnitID == nil || *r.UnitID != ac.UnitID {
		return errNotYourUnit(r.Appeal)
	}
	return nil
}

// Accept is the unit's 签收.
func (s *Service) Accept(ctx context.Context, ac Actor, id int64) (*Appeal, error) {
	return s.transition(ctx, ac, id, "accept", "", func(r *row) error {
		if err := s.ownUnit(ac, r); err != nil {
			return err
		}
		if r.State != StateDispatched {
			return errState(r.Appeal, "签收 / accepted")
		}
		now := s.Now().UTC()
		r.State, r.AcceptedAt = StateAccepted, &now
		r.respondedInTime = s.Cal.Between(r.DispatchedOn, s.Today()) <= RespondWithinDays
		return nil
	})
}

// Return sends a misrouted order back within 2 working days of dispatch,
// with a reason; a second return makes it disputed for a supervisor.
func (s *Service) Return(ctx context.Context, ac Actor, id int64, reason string) (*Appeal, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, apperr.Invalid("reason", "退单须说明理由 / a return needs a reason")
	}
	return s.transition(ctx, ac, id, "return", reason, func(r *row) error {
		if err := s.ownUnit(ac, r); err != nil {
			return err
		}
		if r.State != StateDispatched && r.State != StateAccepted {
			return errState(r.Appeal, "退单 / returned")
		}
		if s.Cal.Between(r.DispatchedOn, s.Today()) > ReturnWindowDays {
			return apperr.Conflict("return_too_late", fmt.Sprintf("派单已超过 %d 个工作日，不能退单 / more than %d working days since dispatch; the order can no longer be returned", ReturnWindowDays, ReturnWindowDays))
		}
		r.ReturnCount++
		r.returnedBy = *r.UnitID
		r.UnitID, r.DispatchedAt, r.DispatchedOn, r.DueOn, r.AcceptedAt = nil, nil, 0, 0, nil
		r.State = StateReceived
		if r.ReturnCount >= 2 {
			r.State = StateDisputed
		}
		return nil
	})
}

// Extend moves the due date once, by at most 10 working days, with a reason.
func (s *Service) Extend(ctx context.Context, ac Actor, id int64, days int, reason string) (*Appeal, error) {
	reason = strings.TrimSpace(reason)
	if days < 1 || days > MaxExtensionDays {
		return nil, apperr.Invalid("days", fmt.Sprintf("延期天数须为 1–%d 个工作日 / an extension is 1–%d working days", MaxExtensionDays, MaxExtensionDays))
	}
	if reason == "" {
		return nil, apperr.Invalid("reason", "延期须说明理由 / an extension needs a reason")
	}
	return s.transition(ctx, ac, id, "extend", fmt.Sprintf("+%d: %s", days, reason), func(r *row) error {
		if err := s.ownUnit(ac, r); err != nil {
			return err
		}
		if r.State != StateAccepted && r.State != StateDispatched {
			return errState(r.Appeal, "延期 / extended")
		}
		if r.Extended {
			return apperr.Conflict("extension_used", fmt.Sprintf("工单 %s 已延期过一次，不能再次延期 / work order %s was already extended once", r.Number, r.Number))
		}
		r.Extended, r.ExtReason = true, reason
		r.DueOn = s.Cal.AddWorkdays(r.DueOn, days)
		r.dueMoved = true
		return nil
	})
}

// Reply is the unit's 答复.
func (s *Service) Reply(ctx context.Context, ac Actor, id int64, text string) (*Appeal, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, apperr.Invalid("reply", "答复内容不能为空 / the reply is required")
	}
	if utf8.RuneCountInString(text) > 4000 {
		return nil, apperr.Invalid("reply", "答复不能超过 4000 字 / the reply must be at most 4000 characters")
	}
	return s.transition(ctx, ac, id, "reply", truncate(text, 200), func(r *row) error {
		if err := s.ownUnit(ac, r); err != nil {
			return err
		}
		if r.State != StateAccepted {
			return errState(r.Appeal, "答复 / replied (accept it first)")
		}
		now := s.Now().UTC()
		r.State, r.RepliedAt, r.Reply = StateReplied, &now, text
		return nil
	})
}

// Review is the center's check of a reply: approve → 办结, or send back.
func (s *Service) Review(ctx context.Context, ac Actor, id int64, approve bool, note string) (*Appeal, error) {
	if !ac.Center {
		return nil, errCenterOnly
	}
	note = strings.TrimSpace(note)
	if !approve && note == "" {
		return nil, apperr.Invalid("note", "退回须说明理由 / say why the reply is sent back")
	}
	action := "resolve"
	if !approve {
		action = "review_reject"
	}
	return s.transition(ctx, ac, id, action, note, func(r *row) error {
		if r.State != StateReplied {
			return errState(r.Appeal, "审核 / reviewed")
		}
		if approve {
			now := s.Now().UTC()
			r.State, r.ResolvedAt = StateResolved, &now
			r.onTime = !r.DueOn.IsZero() && !s.Today().After(r.DueOn)
		} else {
			r.State, r.RepliedAt = StateAccepted, nil
		}
		return nil
	})
}

// FollowUp records the follow-up call: satisfaction and whether it was
// solved. 不满意 reopens the order (重办) with a new deadline.
func (s *Service) FollowUp(ctx context.Context, ac Actor, id int64, satisfaction string, solved bool, note string) (*Appeal, error) {
	if !ac.Center {
		return nil, errCenterOnly
	}
	switch satisfaction {
	case Satisfied, Basic, Unsatisfied:
	default:
		return nil, apperr.Invalid("satisfaction", "满意度须为 satisfied、basic、unsatisfied / satisfaction must be satisfied, basic or unsatisfied")
	}
	action := "follow_up"
	if satisfaction == Unsatisfied {
		action = "reopen"
	}
	return s.transition(ctx, ac, id, action, satisfaction+" "+note, func(r *row) error {
		if r.State != StateResolved {
			return errState(r.Appeal, "回访 / followed up")
		}
		now := s.Now().UTC()
		r.FollowedAt, r.Satisfaction, r.Solved = &now, satisfaction, &solved
		r.State = StateFollowed
		if satisfaction == Unsatisfied && r.UnitID != nil {
			// 重办: back to the same unit with a fresh deadline.
			r.ReopenCount++
			unit := *r.UnitID
			r.ResolvedAt, r.RepliedAt, r.onTime = nil, nil, false
			return s.setDispatch(r, unit)
		}
		return nil
	})
}

// Archive files a followed-up (or resolved) order (归档).
func (s *Service) Archive(ctx context.Context, ac Actor, id int64) (*Appeal, error) {
	if !ac.Center {
		return nil, errCenterOnly
	}
	return s.transition(ctx, ac, id, "archive", "", func(r *row) error {
		if r.State != StateFollowed && r.State != StateResolved {
			return errState(r.Appeal, "归档 / archived")
		}
		now := s.Now().UTC()
		r.State, r.ArchivedAt = StateArchived, &now
		return nil
	})
}

// Merge files a duplicate under its master order.
func (s *Service) Merge(ctx context.Context, ac Actor, id, masterID int64) (*Appeal, error) {
	if !ac.Center {
		return nil, errCenterOnly
	}
	if id == masterID {
		return nil, apperr.Invalid("master_id", "不能合并到自身 / an order cannot be merged into itself")
	}
	m, err := loadRow(ctx, s.DB, masterID)
	if err != nil {
		return nil, apperr.Invalid("master_id", fmt.Sprintf("主工单 %d 不存在 / master order %d not found", masterID, masterID))
	}
	if m.State == StateMerged {
		return nil, apperr.Invalid("master_id", "主工单本身已被合并 / the master order is itself merged")
	}
	return s.transition(ctx, ac, id, "merge", "→ "+m.Number, func(r *row) error {
		if !r.State.Open() {
			return errState(r.Appeal, "合并 / merged")
		}
		r.State, r.MasterID = StateMerged, &masterID
		return nil
	})
}

// Escalate turns one or more orders into a supervision task (督办).
func (s *Service) Escalate(ctx context.Context, ac Actor, ids []int64, title string, unitID int64) (int64, error) {
	if !ac.Center {
		return 0, errCenterOnly
	}
	if s.Tasks == nil {
		return 0, apperr.Conflict("escalation_unavailable", "督办功能未接入 / supervision is not wired")
	}
	if len(ids) == 0 || len(ids) > 1000 {
		return 0, apperr.Invalid("ids", "请选择 1–1000 件工单 / choose 1–1000 work orders")
	}
	title = strings.TrimSpace(title)
	var numbers []string
	var desc strings.Builder
	for _, id := range ids {
		r, err := loadRow(ctx, s.DB, id)
		if err != nil {
			return 0, apperr.Invalid("ids", fmt.Sprintf("工单 %d 不存在 / work order %d not found", id, id))
		}
		numbers = append(numbers, r.Number)
		if unitID == 0 && r.UnitID != nil {
			unitID = *r.UnitID
		}
		if len(numbers) <= 20 {
			fmt.Fprintf(&desc, "%s %s：%s\n", r.Number, s.catName(r.CategoryCode), truncate(r.Content, 80))
		}
		if title == "" {
			title = "12345诉求督办：" + s.catName(r.CategoryCode)
		}
	}
	if unitID == 0 {
		return 0, apperr.Invalid("unit_id", "请指定责任单位 / choose the lead unit")
	}
	if len(numbers) > 20 {
		fmt.Fprintf(&desc, "…共 %d 件 / %d orders in all\n", len(numbers), len(numbers))
	}
	taskID, err := s.Tasks.CreateAppealTask(ctx, ac.entry("task.create", "", ""), EscalatedTask{Title: truncate(title, 100), Description: desc.String(), UnitID: unitID, DueWorkdays: 10})
	if err != nil {
		return 0, err
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		now := s.Now().UTC()
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE appeals SET task_id = ?, version = version + 1, updated_at = ? WHERE id = ?`, taskID, now, id); err != nil {
				return fmt.Errorf("appeal: link task: %w", err)
			}
			if err := addEvent(ctx, tx, id, now, ac, "escalate", "", "", nil, fmt.Sprintf("task %d", taskID)); err != nil {
				return err
			}
		}
		return s.Audit.WriteTx(ctx, tx, ac.entry("appeal.escalate", fmt.Sprintf("task:%d", taskID), fmt.Sprintf("%d orders: %s", len(numbers), truncate(strings.Join(numbers, ","), 300))))
	})
	if err != nil {
		return 0, err
	}
	// Cached clusters must show their new task.
	s.cache.mu.Lock()
	s.cache.m = map[string]cacheEntry{}
	s.cache.mu.Unlock()
	return taskID, nil
}

// ---- dispatch rules ----

func (s *Service) ruleUnit(ctx context.Context, q db.Querier, cat, district string) (int64, bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT category_code, district, unit_id FROM appeal_rules WHERE category_code IN (?, '') AND district IN (?, '')`, cat, district)
	if err != nil {
		return 0, false, fmt.Errorf("appeal: rules: %w", err)
	}
	defer rows.Close()
	best, score := int64(0), -1
	for rows.Next() {
		var c, d string
		var u int64
		if err := rows.Scan(&c, &d, &u); err != nil {
			return 0, false, err
		}
		sc := 0
		if c != "" {
			sc += 2
		}
		if d != "" {
			sc++
		}
		if sc > score {
			best, score = u, sc
		}
	}
	return best, score >= 0, rows.Err()
}

// Rule is a dispatch rule.
type Rule struct {
	CategoryCode string `json:"category_code"`
	District     string `json:"district"`
	UnitID       int64  `json:"unit_id"`
}

// SetRule adds or replaces the rule for category + district.
func (s *Service) SetRule(ctx context.Context, ac Actor, r Rule) error {
	if !ac.Center {
		return errCenterOnly
	}
	if r.CategoryCode != "" {
		if _, ok := s.Category(r.CategoryCode); !ok {
			return apperr.Invalid("category_code", "分类不存在 / unknown category")
		}
	}
	if !validDistrict(r.District) {
		return apperr.Invalid("district", "区县不存在 / unknown district")
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO appeal_rules (category_code, district, unit_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (category_code, district) DO UPDATE SET unit_id = excluded.unit_id`, r.CategoryCode, r.District, r.UnitID, s.Now().UTC())
		if db.IsForeignKeyViolation(err) {
			return apperr.Invalid("unit_id", "单位不存在 / unit not found")
		}
		if err != nil {
			return fmt.Errorf("appeal: rule: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, ac.entry("appeal.rule", "appeal_rule:"+r.CategoryCode+"/"+r.District, fmt.Sprintf("→ unit %d", r.UnitID)))
	})
}

// Rules lists the dispatch rules.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT category_code, district, unit_id FROM appeal_rules ORDER BY category_code, district`)
	if err != nil {
		return nil, fmt.Errorf("appeal: rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.CategoryCode, &r.District, &r.UnitID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SeedRules stores the default dispatch rules: the city unit of a
// category when it has one, the district office otherwise. unit maps a
// unit code to its id (0 when missing: the rule is skipped).
func SeedRules(ctx context.Context, s *Service, unit func(code string) int64) error {
	sys := System("seed")
	for _, g := range catalog {
		for _, l := range g.Leaves {
			if l.Unit != "" {
				if id := unit(l.Unit); id != 0 {
					if err := s.SetRule(ctx, sys, Rule{CategoryCode: l.Code, UnitID: id}); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, d := range Districts {
		if id := unit(d.UnitCode); id != 0 {
			if err := s.SetRule(ctx, sys, Rule{District: d.Name, UnitID: id}); err != nil {
				return err
			}
		}
	}
	return nil
}
