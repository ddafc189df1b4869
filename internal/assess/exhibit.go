package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
)

// AchievementInput is a key achievement a unit submits.
type AchievementInput struct {
	Period string
	Title  string
	Text   string
}

func halfKey(key string) (metric.Period, error) {
	mp, err := ParseKey(key)
	if err == nil && mp.Kind != metric.HalfYear {
		err = invalid("period", "半年展的期间须为 YYYY-H1 或 YYYY-H2", "an exhibition period must be YYYY-H1 or YYYY-H2")
	}
	return mp, err
}

// SubmitAchievement stores a unit's achievement for a half year, pending
// a supervisor's approval.
func (s *Service) SubmitAchievement(ctx context.Context, a Actor, in AchievementInput) (*Achievement, error) {
	if !a.Reporter && !a.System {
		return nil, forbidden("unit_only", "只有单位可以提交工作成果", "only a unit submits achievements")
	}
	if a.UnitID == 0 {
		return nil, errNoUnit()
	}
	mp, err := halfKey(in.Period)
	if err != nil {
		return nil, err
	}
	in.Title, in.Text = strings.TrimSpace(in.Title), strings.TrimSpace(in.Text)
	if in.Title == "" || len([]rune(in.Title)) > 200 {
		return nil, invalid("title", "标题必填，不超过 200 字", "title is required, at most 200 characters")
	}
	if len([]rune(in.Text)) > 5000 {
		return nil, invalid("text", "内容不超过 5000 字", "text is at most 5000 characters")
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = db.InsertID(ctx, tx, `INSERT INTO assess_achievements (period_key, unit_id, title, text, state, created_by, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
			mp.String(), a.UnitID, in.Title, in.Text, a.Username, s.stamp())
		if err != nil {
			return fmt.Errorf("assess: store achievement: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.achievement", fmt.Sprintf("achievement:%d", id), in.Title))
	})
	if err != nil {
		return nil, err
	}
	return s.achievement(ctx, id)
}

func (s *Service) achievement(ctx context.Context, id int64) (*Achievement, error) {
	var key string
	err := s.DB.QueryRowContext(ctx, `SELECT period_key FROM assess_achievements WHERE id = ?`, id).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound("achievement_not_found", fmt.Sprintf("工作成果 %d 不存在", id), fmt.Sprintf("achievement %d not found", id))
	}
	if err != nil {
		return nil, fmt.Errorf("assess: achievement %d: %w", id, err)
	}
	all, err := listAchievements(ctx, s.DB, key, 0)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, errNotFound("achievement_not_found", fmt.Sprintf("工作成果 %d 不存在", id), fmt.Sprintf("achievement %d not found", id))
}

// ReviewAchievement approves or rejects an achievement (supervisor).
func (s *Service) ReviewAchievement(ctx context.Context, a Actor, id int64, approve bool, note string) (*Achievement, error) {
	if !a.Writer {
		return nil, forbidden("supervisor_only", "只有督查员可以审核", "only a supervisor reviews achievements")
	}
	if _, err := s.achievement(ctx, id); err != nil {
		return nil, err
	}
	state := "rejected"
	if approve {
		state = "approved"
	}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE assess_achievements SET state = ?, review_note = ?, reviewed_by = ?, reviewed_at = ? WHERE id = ?`,
			state, strings.TrimSpace(note), a.Username, s.stamp(), id); err != nil {
			return fmt.Errorf("assess: review achievement %d: %w", id, err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.achievement.review", fmt.Sprintf("achievement:%d", id), state))
	})
	if err != nil {
		return nil, err
	}
	return s.achievement(ctx, id)
}

// MaxPhoto bounds a photo's size.
const MaxPhoto = 5 << 20

// AddPhoto attaches a JPEG or PNG photo to the unit's pending achievement.
func (s *Service) AddPhoto(ctx context.Context, a Actor, id int64, name string, data []byte) (int64, error) {
	ach, err := s.achievement(ctx, id)
	if err != nil {
		return 0, err
	}
	if !a.System && (!a.Reporter || a.UnitID != ach.UnitID) {
		return 0, forbidden("not_own_unit", "只能为本单位的工作成果上传照片", "photos can only be added to your own unit's achievements")
	}
	if len(data) == 0 || len(data) > MaxPhoto {
		return 0, invalid("photo", "照片须为 5 MB 以内的 JPEG 或 PNG", "a photo must be a JPEG or PNG of at most 5 MB")
	}
	ct := http.DetectContentType(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return 0, invalid("photo", "照片须为 JPEG 或 PNG", "a photo must be a JPEG or PNG")
	}
	var pid int64
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM assess_photos WHERE achievement_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("assess: count photos: %w", err)
		}
		if n >= 6 {
			return invalid("photo", "每项成果最多 6 张照片", "at most 6 photos per achievement")
		}
		pid, err = db.InsertID(ctx, tx, `INSERT INTO assess_photos (achievement_id, name, content_type, data, created_at) VALUES (?, ?, ?, ?, ?)`, id, name, ct, data, s.stamp())
		if err != nil {
			return fmt.Errorf("assess: store photo: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.photo", fmt.Sprintf("achievement:%d", id), name))
	})
	return pid, err
}

// Photo returns a photo's bytes; an achievement not approved is shown only
// to its unit and to supervisors.
func (s *Service) Photo(ctx context.Context, a Actor, id int64) (ct string, data []byte, err error) {
	var unitID int64
	var state string
	err = s.DB.QueryRowContext(ctx, `SELECT p.content_type, p.data, a.unit_id, a.state FROM assess_photos p JOIN assess_achievements a ON a.id = p.achievement_id WHERE p.id = ?`, id).
		Scan(&ct, &data, &unitID, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, errNotFound("photo_not_found", "照片不存在", "photo not found")
	}
	if err != nil {
		return "", nil, fmt.Errorf("assess: photo %d: %w", id, err)
	}
	if state != "approved" && !a.Writer && a.UnitID != unitID {
		return "", nil, errNotFound("photo_not_found", "照片不存在", "photo not found")
	}
	return ct, data, nil
}

// ComputeExhibition builds a half year's exhibition: per unit, plan
// (tasks due) against actual (completed) by month, the approved
// achievements, the indicator stages and the mean published monthly score.
func (s *Service) ComputeExhibition(ctx context.Context, key string) (*Exhibition, error) {
	mp, err := halfKey(key)
	if err != nil {
		return nil, err
	}
	mp.Today = s.Today()
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	units, err := unitsOf(ctx, s.DB, st.Kinds)
	if err != nil {
		return nil, err
	}
	ex := &Exhibition{Period: mp.String(), Label: mp.Label()}
	type pair struct{ due, done metric.Values }
	months := monthKeys(mp)
	figs := make([]pair, len(months))
	for i, mk := range months {
		mm, _ := metric.ParsePeriod(mk)
		mm.Today = mp.Today
		for code, dst := range map[string]*metric.Values{"supervise.tasks_due": &figs[i].due, "supervise.completed": &figs[i].done} {
			if _, ok := s.Metrics.Get(code); !ok {
				*dst = metric.Values{}
				continue
			}
			v, err := s.Metrics.Compute(ctx, code, mm)
			if err != nil {
				return nil, err
			}
			*dst = v
		}
	}
	avg := metric.Values{}
	if _, ok := s.Metrics.Get(MetricMonthlyScore); ok {
		if avg, err = s.Metrics.Compute(ctx, MetricMonthlyScore, mp); err != nil {
			return nil, err
		}
	}
	achs, err := listAchievements(ctx, s.DB, mp.String(), 0)
	if err != nil {
		return nil, err
	}
	byUnit := map[int64][]Achievement{}
	for _, a := range achs {
		if a.State == "approved" {
			byUnit[a.UnitID] = append(byUnit[a.UnitID], a)
		}
	}
	var stages map[int64][]IndicatorStage
	if s.Stages != nil {
		if stages, err = s.Stages.UnitStages(ctx); err != nil {
			return nil, fmt.Errorf("assess: indicator stages: %w", err)
		}
	}
	for _, u := range units {
		eu := ExhibitUnit{UnitID: u.ID, UnitName: u.Name, Achievements: byUnit[u.ID], Stages: []IndicatorStage{}}
		if eu.Achievements == nil {
			eu.Achievements = []Achievement{}
		}
		for i, mk := range months {
			eu.Months = append(eu.Months, MonthFigure{Month: mk, Due: figs[i].due[u.ID], Completed: figs[i].done[u.ID]})
		}
		if v, ok := avg[u.ID]; ok {
			eu.AvgScore = &v
		}
		if stg := stages[u.ID]; stg != nil {
			eu.Stages = stg
		}
		ex.Units = append(ex.Units, eu)
	}
	return ex, nil
}

// ExhibitionOf returns the published exhibition, or live for those who run
// the cadence.
func (s *Service) ExhibitionOf(ctx context.Context, key string, live bool) (*Exhibition, error) {
	mp, err := halfKey(key)
	if err != nil {
		return nil, err
	}
	p, err := getPeriod(ctx, s.DB, mp.String())
	if err != nil {
		return nil, err
	}
	if p != nil && p.Published() {
		var ex Exhibition
		if err := snapshot(ctx, s.DB, p.ID, p.Version, &ex); err != nil {
			return nil, err
		}
		return &ex, nil
	}
	if !live {
		return nil, errNotFound("not_published", fmt.Sprintf("%s 的半年展尚未发布", mp.Label()), fmt.Sprintf("the exhibition of %s is not published yet", mp.String()))
	}
	return s.ComputeExhibition(ctx, mp.String())
}

// Achievements lists a half year's achievements (all states).
func (s *Service) Achievements(ctx context.Context, key string, unitID int64) ([]Achievement, error) {
	mp, err := halfKey(key)
	if err != nil {
		return nil, err
	}
	out, err := listAchievements(ctx, s.DB, mp.String(), unitID)
	if out == nil {
		out = []Achievement{}
	}
	return out, err
}

// MaxMonth is the largest plan figure of a page, for the chart scale.
func (e ExhibitUnit) MaxMonth() float64 {
	m := 1.0
	for _, f := range e.Months {
		m = max(m, f.Due, f.Completed)
	}
	return m
}

// Avg is the mean published monthly score, or "".
func (e ExhibitUnit) Avg() string {
	if e.AvgScore == nil {
		return ""
	}
	return fmt.Sprintf("%.2f", *e.AvgScore)
}
