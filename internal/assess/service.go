package assess

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

// Service is the assessment feature.
type Service struct {
	DB      *db.DB
	Audit   *audit.Log
	Cal     *workday.Calendar
	Metrics *metric.Registry
	Now     func() time.Time
	Loc     *time.Location

	// Reports, Stages and Notifier are wired by app; nil sources give
	// nothing and a nil notifier sends nothing.
	Reports  ReportSource
	Stages   StageSource
	Notifier Notifier

	ws        webState
	showcases showcaseCache
}

var beijing = time.FixedZone("Asia/Shanghai", 8*3600)

// New returns the service.
func New(d *db.DB, al *audit.Log, cal *workday.Calendar, reg *metric.Registry, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: d, Audit: al, Cal: cal, Metrics: reg, Now: now, Loc: beijing}
}

// Today is the civil date in the service's zone.
func (s *Service) Today() workday.Date { return workday.FromTime(s.Now(), s.Loc) }

// Actor is who acts.
type Actor struct {
	UserID   int64
	Username string
	IP       string
	UnitID   int64
	Roles    []auth.Role
	Reporter bool // assess.report: acts for UnitID
	Writer   bool // assess.write
	Rater    bool // assess.rate
	Leader   bool // assess.signoff
	System   bool
}

// ActorOf makes the actor of a principal.
func ActorOf(p *auth.Principal, ip string) Actor {
	if p == nil {
		return Actor{Username: "anonymous", IP: ip}
	}
	a := Actor{UserID: p.UserID, Username: p.Username, IP: ip, Roles: p.Roles,
		Reporter: p.Can(auth.PermAssessReport), Writer: p.Can(auth.PermAssessWrite),
		Rater: p.Can(auth.PermAssessRate), Leader: p.Can(auth.PermAssessSignOff)}
	if p.UnitID != nil {
		a.UnitID = *p.UnitID
	}
	return a
}

// SystemActor is the product acting on its own ("demo", "system").
func SystemActor(name string) Actor {
	return Actor{Username: name, System: true, Writer: true, Leader: true}
}

func (a Actor) entry(action, object, summary string) audit.Entry {
	return audit.Entry{ActorID: a.UserID, Actor: a.Username, IP: a.IP, Action: action, Object: object, Summary: summary}
}

// Errors.

func msg(zh, en string) string { return zh + " / " + en }

func invalid(field, zh, en string) *apperr.Error {
	return &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + field, Field: field, Message: msg(zh, en)}
}

func errNotFound(code, zh, en string) *apperr.Error { return apperr.NotFound(code, msg(zh, en)) }

func conflict(code, zh, en string) *apperr.Error { return apperr.Conflict(code, msg(zh, en)) }

func forbidden(code, zh, en string) *apperr.Error { return apperr.Forbidden(code, msg(zh, en)) }

func errSignedOff(key string) *apperr.Error {
	return conflict("result_signed_off", fmt.Sprintf("%s 的考评结果已由领导签发，不可再更改", key),
		fmt.Sprintf("the result of %s has been signed off and can no longer be changed", key))
}

func errNoUnit() *apperr.Error {
	return forbidden("no_unit", "您的账号未关联单位，无法代表单位报送", "your account belongs to no unit, so it cannot act for one")
}

// Settings returns the rules in force.
func (s *Service) Settings(ctx context.Context) (Settings, error) { return loadSettings(ctx, s.DB) }

// SaveSettings replaces the rules (supervisor).
func (s *Service) SaveSettings(ctx context.Context, a Actor, st Settings) (Settings, error) {
	if len(st.Formula) == 0 {
		return st, invalid("formula", "月度得分公式至少需要一项", "the monthly formula needs at least one term")
	}
	for i, t := range st.Formula {
		f := fmt.Sprintf("formula[%d]", i)
		if !metric.ValidCode(t.Metric) {
			return st, invalid(f, fmt.Sprintf("%s：指标代码 %q 无效", f, t.Metric), fmt.Sprintf("%s: metric code %q is malformed", f, t.Metric))
		}
		if t.Weight < 0 || t.Weight > 100 {
			return st, invalid(f, fmt.Sprintf("%s：权重须在 0–100 之间", f), fmt.Sprintf("%s: weight must be 0–100", f))
		}
	}
	if st.HonourTop < 0 || st.WatchBottom < 0 {
		return st, invalid("honour_top", "红黑榜人数不能为负", "list sizes cannot be negative")
	}
	if _, err := parseClock(st.DailyDue); err != nil {
		return st, invalid("daily_due", "daily_due 须为 HH:MM", "daily_due must be HH:MM")
	}
	if st.ObjectionDays < 1 || st.ObjectionDays > 30 {
		return st, invalid("objection_days", "异议期须为 1–30 个工作日", "objection_days must be 1–30 working days")
	}
	if len(st.Kinds) == 0 {
		st.Kinds = DefaultSettings().Kinds
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return st, fmt.Errorf("assess: encode settings: %w", err)
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO assess_settings (key, value, updated_at) VALUES ('rules', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, string(raw), s.stamp()); err != nil {
			return fmt.Errorf("assess: save settings: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.settings", "assess:settings", string(raw)))
	})
	return st, err
}

func parseClock(v string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(v))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Periods.

// ParseKey reads a period key: "2026-10", "2026-H1" or "2026".
func ParseKey(key string) (metric.Period, error) {
	p, err := metric.ParsePeriod(key)
	if err != nil || p.Kind == metric.Day {
		return metric.Period{}, invalid("period", fmt.Sprintf("期间 %q 须为 YYYY-MM、YYYY-H1、YYYY-H2 或 YYYY", key),
			fmt.Sprintf("period %q must be YYYY-MM, YYYY-H1, YYYY-H2 or YYYY", key))
	}
	return p, nil
}

// ListPeriods lists the stored periods, newest first.
func (s *Service) ListPeriods(ctx context.Context) ([]Period, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+periodCols+` FROM assess_periods ORDER BY start_on DESC, end_on DESC`)
	if err != nil {
		return nil, fmt.Errorf("assess: periods: %w", err)
	}
	defer rows.Close()
	out := []Period{}
	for rows.Next() {
		p, err := scanPeriod(rows)
		if err != nil {
			return nil, fmt.Errorf("assess: scan period: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// Period returns a period as stored, or as it would be opened.
func (s *Service) Period(ctx context.Context, key string) (*Period, error) {
	mp, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	p, err := getPeriod(ctx, s.DB, mp.String())
	if err != nil || p != nil {
		return p, err
	}
	return &Period{Key: mp.String(), Kind: string(mp.Kind), Label: mp.Label(), Start: mp.Start, End: mp.End, State: StateOpen}, nil
}

// OpenPeriod stores a period (open) if it is not there yet.
func (s *Service) OpenPeriod(ctx context.Context, a Actor, key string) (*Period, error) {
	mp, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	var p *Period
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		old, err := getPeriod(ctx, tx, mp.String())
		if err != nil {
			return err
		}
		if p, err = s.ensurePeriod(ctx, tx, mp); err != nil {
			return err
		}
		if old != nil {
			return nil
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.period.open", "period:"+p.Key, ""))
	})
	return p, err
}

// openObjections counts the open objections of a period.
func openObjections(ctx context.Context, q db.Querier, key string) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM assess_objections WHERE period_key = ? AND state = 'open'`, key).Scan(&n); err != nil {
		return 0, fmt.Errorf("assess: count objections of %s: %w", key, err)
	}
	return n, nil
}

// yearLocked fails when the year's result is signed off.
func yearLocked(ctx context.Context, q db.Querier, year int) error {
	p, err := getPeriod(ctx, q, fmt.Sprint(year))
	if err != nil {
		return err
	}
	if p != nil && p.SignedOff() {
		return errSignedOff(p.Key)
	}
	return nil
}

// Publish freezes a snapshot of a period: the showcase of a month, the
// exhibition of a half year, the evaluation of a year. A second publication
// is a correction and needs a reason; a period with open objections or a
// signed-off result cannot be published.
func (s *Service) Publish(ctx context.Context, a Actor, key, reason string) (*Period, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以发布", "only a supervisor can publish")
	}
	mp, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	key = mp.String()
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > 2000 {
		return nil, invalid("reason", "原因不超过 2000 字", "reason is at most 2000 characters")
	}
	if mp.Start.After(s.Today()) {
		return nil, invalid("period", fmt.Sprintf("%s 尚未开始，不能发布", mp.Label()), fmt.Sprintf("%s has not started; it cannot be published", key))
	}
	// Compute outside the write transaction: reads only.
	var data any
	switch mp.Kind {
	case metric.Month:
		data, err = s.ComputeShowcase(ctx, key)
	case metric.HalfYear:
		data, err = s.ComputeExhibition(ctx, key)
	case metric.Year:
		data, err = s.ComputeEvaluation(ctx, mp.Start.Year())
	}
	if err != nil {
		return nil, err
	}
	var out *Period
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.ensurePeriod(ctx, tx, mp)
		if err != nil {
			return err
		}
		if p.SignedOff() {
			return errSignedOff(key)
		}
		n, err := openObjections(ctx, tx, key)
		if err != nil {
			return err
		}
		if n > 0 {
			return conflict("open_objections", fmt.Sprintf("%s 尚有 %d 条异议未答复，答复后才能发布", key, n),
				fmt.Sprintf("%s has %d open objection(s); answer them before publishing", key, n))
		}
		if p.Version > 0 && reason == "" {
			return invalid("reason", "重新发布须说明原因", "a re-publication needs a reason")
		}
		version := p.Version + 1
		now := s.stamp()
		switch v := data.(type) {
		case *Showcase:
			v.Published, v.Version, v.At = true, version, now
		case *Exhibition:
			v.Published, v.Version = true, version
		case *Evaluation:
			v.Published, v.Version, v.At = true, version, now
		}
		raw, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("assess: encode snapshot: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assess_snapshots (period_id, version, reason, data, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ID, version, reason, string(raw), a.Username, now); err != nil {
			if db.IsUniqueViolation(err) {
				return conflict("publish_conflict", "期间刚被他人发布，请刷新后重试", "the period was just published by someone else; reload and retry")
			}
			return fmt.Errorf("assess: store snapshot of %s: %w", key, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE assess_periods SET version = ?, state = 'closed', published_at = ?, published_on = ? WHERE id = ? AND version = ?`,
			version, now, s.Today(), p.ID, p.Version)
		if err != nil {
			return fmt.Errorf("assess: mark %s published: %w", key, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return conflict("publish_conflict", "期间刚被他人发布，请刷新后重试", "the period was just published by someone else; reload and retry")
		}
		action := "assess.publish"
		if version > 1 {
			action = "assess.republish"
		}
		if err := s.Audit.WriteTx(ctx, tx, a.entry(action, "period:"+key, fmt.Sprintf("version %d; reason: %s", version, reason))); err != nil {
			return err
		}
		out, err = getPeriod(ctx, tx, key)
		return err
	})
	return out, err
}

// SignOff makes a published year's result final (leader).
func (s *Service) SignOff(ctx context.Context, a Actor, year int) (*Period, error) {
	if !a.Leader {
		return nil, forbidden("leader_only", "只有领导可以签发", "only a leader can sign off")
	}
	key := fmt.Sprint(year)
	var out *Period
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		p, err := getPeriod(ctx, tx, key)
		if err != nil {
			return err
		}
		if p == nil || !p.Published() {
			return conflict("not_published", fmt.Sprintf("%d 年考评结果尚未发布", year), fmt.Sprintf("the %d evaluation is not published yet", year))
		}
		if p.SignedOff() {
			return errSignedOff(key)
		}
		n, err := openObjections(ctx, tx, key)
		if err != nil {
			return err
		}
		if n > 0 {
			return conflict("open_objections", fmt.Sprintf("尚有 %d 条异议未答复", n), fmt.Sprintf("%d objection(s) are still open", n))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assess_periods SET signed_off_at = ?, signed_off_by = ? WHERE id = ?`, s.stamp(), a.Username, p.ID); err != nil {
			return fmt.Errorf("assess: sign off %d: %w", year, err)
		}
		if err := s.Audit.WriteTx(ctx, tx, a.entry("assess.signoff", "period:"+key, fmt.Sprintf("version %d", p.Version))); err != nil {
			return err
		}
		out, err = getPeriod(ctx, tx, key)
		return err
	})
	return out, err
}

// Objections.

// Object files a unit's objection to a published period, within the
// configured working days of publication.
func (s *Service) Object(ctx context.Context, a Actor, key, text string) (*Objection, error) {
	if !a.Reporter && !a.System {
		return nil, forbidden("unit_only", "只有单位可以提出异议", "only a unit can object")
	}
	if a.UnitID == 0 {
		return nil, errNoUnit()
	}
	mp, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	key = mp.String()
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > 5000 {
		return nil, invalid("text", "异议内容必填，不超过 5000 字", "text is required, at most 5000 characters")
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		p, err := getPeriod(ctx, tx, key)
		if err != nil {
			return err
		}
		if p == nil || !p.Published() {
			return conflict("not_published", fmt.Sprintf("%s 尚未发布，无可异议", key), fmt.Sprintf("%s is not published; there is nothing to object to", key))
		}
		if p.SignedOff() {
			return errSignedOff(key)
		}
		last := s.Cal.AddWorkdays(p.PublishedOn, st.ObjectionDays)
		if s.Today().After(last) {
			return invalid("period", fmt.Sprintf("异议期已于 %s 截止（发布后 %d 个工作日）", last, st.ObjectionDays),
				fmt.Sprintf("objections closed on %s (%d working days after publication)", last, st.ObjectionDays))
		}
		id, err = db.InsertID(ctx, tx, `INSERT INTO assess_objections (period_key, unit_id, text, state, created_by, created_at) VALUES (?, ?, ?, 'open', ?, ?)`,
			key, a.UnitID, text, a.Username, s.stamp())
		if err != nil {
			return fmt.Errorf("assess: store objection: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.objection", fmt.Sprintf("objection:%d", id), key))
	})
	if err != nil {
		return nil, err
	}
	return s.objection(ctx, id)
}

func (s *Service) objection(ctx context.Context, id int64) (*Objection, error) {
	var o Objection
	err := s.DB.QueryRowContext(ctx, `SELECT o.id, o.period_key, o.unit_id, u.name, o.text, o.state, o.answer, o.created_at
		FROM assess_objections o JOIN units u ON u.id = o.unit_id WHERE o.id = ?`, id).Scan(&o.ID, &o.Period, &o.UnitID, &o.UnitName, &o.Text, &o.State, &o.Answer, &o.CreatedAt)
	if err != nil {
		return nil, errNotFound("objection_not_found", fmt.Sprintf("异议 %d 不存在", id), fmt.Sprintf("objection %d not found", id))
	}
	return &o, nil
}

// Answer answers an objection (supervisor).
func (s *Service) Answer(ctx context.Context, a Actor, id int64, answer string) (*Objection, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以答复异议", "only a supervisor answers objections")
	}
	answer = strings.TrimSpace(answer)
	if answer == "" || len([]rune(answer)) > 5000 {
		return nil, invalid("answer", "答复内容必填，不超过 5000 字", "answer is required, at most 5000 characters")
	}
	o, err := s.objection(ctx, id)
	if err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE assess_objections SET state = 'answered', answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND state = 'open'`,
			answer, a.Username, s.stamp(), id)
		if err != nil {
			return fmt.Errorf("assess: answer objection %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return conflict("objection_answered", "该异议已答复", "the objection is already answered")
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.objection.answer", fmt.Sprintf("objection:%d", id), o.Period))
	})
	if err != nil {
		return nil, err
	}
	return s.objection(ctx, id)
}

// Objections lists the objections of a period ("" for all).
func (s *Service) Objections(ctx context.Context, key string) ([]Objection, error) {
	out, err := listObjections(ctx, s.DB, key)
	if out == nil {
		out = []Objection{}
	}
	return out, err
}

// Comments.

// AddComment stores a leader's comment on a published period.
func (s *Service) AddComment(ctx context.Context, a Actor, key string, unitID *int64, text string) (*Comment, error) {
	if !a.Leader {
		return nil, forbidden("leader_only", "只有领导可以点评", "only a leader can comment")
	}
	mp, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	key = mp.String()
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > 2000 {
		return nil, invalid("text", "点评内容必填，不超过 2000 字", "text is required, at most 2000 characters")
	}
	var c Comment
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		p, err := getPeriod(ctx, tx, key)
		if err != nil {
			return err
		}
		if p == nil || !p.Published() {
			return conflict("not_published", fmt.Sprintf("%s 尚未发布", key), fmt.Sprintf("%s is not published", key))
		}
		now := s.stamp()
		id, err := db.InsertID(ctx, tx, `INSERT INTO assess_comments (period_key, unit_id, text, author, created_at) VALUES (?, ?, ?, ?, ?)`, key, unitID, text, a.Username, now)
		if err != nil {
			if db.IsForeignKeyViolation(err) {
				return invalid("unit_id", "单位不存在", "no such unit")
			}
			return fmt.Errorf("assess: store comment: %w", err)
		}
		c = Comment{ID: id, Period: key, UnitID: unitID, Text: text, Author: a.Username, CreatedAt: now}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.comment", fmt.Sprintf("comment:%d", id), key))
	})
	return &c, err
}

// asClient finds a client error (4xx) in err.
func asClient(err error) (*apperr.Error, bool) {
	e, ok := apperr.As(err)
	if !ok || e.Status >= 500 {
		return nil, false
	}
	return e, true
}
