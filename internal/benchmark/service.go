package benchmark

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/metric"
	"github.com/biaogan/biaogan/internal/workday"
)

// Actor is who makes a change.
type Actor struct {
	UserID   int64
	Username string
	IP       string
}

func (a Actor) id() *int64 {
	if a.UserID == 0 {
		return nil
	}
	v := a.UserID
	return &v
}

func (a Actor) entry(action, object, summary string) audit.Entry {
	name := a.Username
	if name == "" {
		name = "system"
	}
	return audit.Entry{ActorID: a.UserID, Actor: name, IP: a.IP, Action: action, Object: object, Summary: summary, Result: audit.OK}
}

// NewTask is a battle-map task a path step becomes.
type NewTask struct {
	Title       string
	Description string
	Acceptance  string
	LeadUnitID  int64
	OwnerID     int64
	Start, Due  workday.Date
}

// TaskCreator creates an assigned battle-map task (source benchmark) inside
// tx; app wires supervise.
type TaskCreator interface {
	CreateTask(ctx context.Context, tx *db.Tx, by Actor, t NewTask) (int64, error)
}

// Text is a message in both languages.
type Text struct{ ZH, EN string }

// Notice tells accounts about a stage change; app wires notify.
type Notice struct {
	To          []int64
	Title, Body Text
	Link        string
	Subject     string
}

// Notifier delivers notices inside tx.
type Notifier interface {
	Notify(ctx context.Context, tx *db.Tx, ns ...Notice) error
}

// Service is the benchmarking feature.
type Service struct {
	DB    *db.DB
	Audit *audit.Log
	Now   func() time.Time
	Loc   *time.Location
	// Metrics computes metric-sourced indicators; Tasks creates path
	// tasks; Notifier tells owner units about stage changes. Any may be
	// nil in tests that do not need them.
	Metrics  *metric.Registry
	Tasks    TaskCreator
	Notifier Notifier
}

// New returns the service.
func New(d *db.DB, al *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: d, Audit: al, Now: now, Loc: time.FixedZone("Asia/Shanghai", 8*3600)}
}

// Today is the civil date in the service's zone.
func (s *Service) Today() workday.Date { return workday.FromTime(s.Now(), s.Loc) }

func (s *Service) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Errors.

func invalid(field, zh, en string) *apperr.Error { return apperr.Invalid(field, zh+" / "+en) }

func errIndicatorNotFound(id int64) *apperr.Error {
	return apperr.NotFound("indicator_not_found", fmt.Sprintf("指标 %d 不存在 / indicator %d not found", id, id))
}

func errPeerNotFound(id int64) *apperr.Error {
	return apperr.NotFound("peer_not_found", fmt.Sprintf("标杆 %d 不存在 / peer %d not found", id, id))
}

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// Peers.

// NewPeer is a peer to add.
type NewPeer struct {
	Name       string   `json:"name"`
	Kind       PeerKind `json:"kind"`
	Region     string   `json:"region"`
	UnitID     *int64   `json:"unit_id"`
	Population *int64   `json:"population"`
	Staff      *int64   `json:"staff"`
	Learn      string   `json:"learn"`
	Contacts   string   `json:"contacts"`
}

// Peers lists the peers.
func (s *Service) Peers(ctx context.Context) ([]Peer, error) { return listPeers(ctx, s.DB) }

// Peer returns one peer.
func (s *Service) Peer(ctx context.Context, id int64) (*Peer, error) {
	p, err := loadPeer(ctx, s.DB, id)
	if err == nil && p == nil {
		return nil, errPeerNotFound(id)
	}
	return p, err
}

// CreatePeer adds a peer.
func (s *Service) CreatePeer(ctx context.Context, a Actor, in NewPeer) (*Peer, error) {
	if err := checkPeer(&in); err != nil {
		return nil, err
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := checkPeerUnit(ctx, tx, in.UnitID); err != nil {
			return err
		}
		now := s.stamp()
		var err error
		id, err = db.InsertID(ctx, tx, `INSERT INTO peers (name, kind, region, unit_id, population, staff, learn, contacts, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?)`, in.Name, in.Kind, in.Region, null(in.UnitID), in.Population, in.Staff, in.Learn, in.Contacts, now, now)
		if db.IsUniqueViolation(err) {
			return apperr.Conflict("peer_exists", fmt.Sprintf("标杆“%s”已存在 / peer %q exists", in.Name, in.Name))
		}
		if err != nil {
			return fmt.Errorf("benchmark: insert peer: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("peer.create", "peer:"+strconv.FormatInt(id, 10), fmt.Sprintf("name=%q kind=%s", in.Name, in.Kind)))
	})
	if err != nil {
		return nil, err
	}
	return s.Peer(ctx, id)
}

func checkPeer(in *NewPeer) error {
	in.Name, in.Region = strings.TrimSpace(in.Name), strings.TrimSpace(in.Region)
	switch {
	case in.Name == "":
		return invalid("name", "名称不能为空", "name is required")
	case tooLong(in.Name, 200):
		return invalid("name", "名称不超过 200 字", "name must be at most 200 characters")
	case !in.Kind.Valid():
		return invalid("kind", "类型须为 in_province、out_of_province、national 或 internal", "kind must be in_province, out_of_province, national or internal")
	case in.Kind == PeerInternal && (in.UnitID == nil || *in.UnitID <= 0):
		return invalid("unit_id", "内部标杆须指定本系统单位", "an internal peer names one of our units (unit_id)")
	case in.Population != nil && *in.Population < 0:
		return invalid("population", "人口不能为负数", "population cannot be negative")
	case in.Staff != nil && *in.Staff < 0:
		return invalid("staff", "编制人数不能为负数", "staff cannot be negative")
	case tooLong(in.Learn, 4000) || tooLong(in.Contacts, 2000):
		return invalid("learn", "内容过长", "text too long")
	}
	if in.Kind != PeerInternal {
		in.UnitID = nil
	}
	return nil
}

func checkPeerUnit(ctx context.Context, q db.Querier, unit *int64) error {
	if unit == nil {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM units WHERE id = ?`, *unit).Scan(&n); err != nil {
		return fmt.Errorf("benchmark: check unit: %w", err)
	}
	if n == 0 {
		return invalid("unit_id", fmt.Sprintf("单位 %d 不存在", *unit), fmt.Sprintf("unit %d not found", *unit))
	}
	return nil
}

// Learning activities.

// NewActivity is a learning activity to record.
type NewActivity struct {
	PeerID   *int64       `json:"peer_id"`
	Kind     ActivityKind `json:"kind"`
	Title    string       `json:"title"`
	HeldOn   workday.Date `json:"held_on"`
	People   string       `json:"people"`
	Findings string       `json:"findings"`
	Report   string       `json:"report"`
}

// Upload is a file given with a learning activity.
type Upload struct {
	Name string
	Data []byte
}

// MaxFileBytes bounds an attached report.
const MaxFileBytes = 10 << 20

var fileTypes = map[string]string{
	".pdf": "application/pdf", ".doc": "application/msword", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls": "application/vnd.ms-excel", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt": "application/vnd.ms-powerpoint", ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".txt": "text/plain; charset=utf-8", ".wps": "application/octet-stream", ".ofd": "application/octet-stream",
}

// checkUpload names the problem with an attached file.
func checkUpload(u *Upload) error {
	u.Name = strings.TrimSpace(u.Name)
	if i := strings.LastIndexAny(u.Name, `/\`); i >= 0 {
		u.Name = u.Name[i+1:]
	}
	ext := strings.ToLower(u.Name[strings.LastIndex(u.Name, ".")+1:])
	switch {
	case u.Name == "" || !strings.Contains(u.Name, "."):
		return invalid("file", "附件须有文件名和扩展名", "the file needs a name with an extension")
	case fileTypes["."+ext] == "":
		return invalid("file", "附件类型须为 PDF、Word、Excel、PPT、图片、TXT、WPS 或 OFD", "the file must be PDF, Word, Excel, PowerPoint, an image, text, WPS or OFD")
	case len(u.Data) == 0:
		return invalid("file", "附件是空的", "the file is empty")
	case len(u.Data) > MaxFileBytes:
		return invalid("file", "附件超过 10 MB", "the file is larger than 10 MB")
	}
	return nil
}

// LearningFile returns an attached report.
func (s *Service) LearningFile(ctx context.Context, id int64) (*File, error) {
	var f File
	err := s.DB.QueryRowContext(ctx, `SELECT id, name, size, content_type, data FROM learning_files WHERE id = ?`, id).Scan(&f.ID, &f.Name, &f.Size, &f.ContentType, &f.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("file_not_found", fmt.Sprintf("附件 %d 不存在 / file %d not found", id, id))
	}
	if err != nil {
		return nil, fmt.Errorf("benchmark: load file %d: %w", id, err)
	}
	return &f, nil
}

// Activities lists learning activities (of one peer when peerID ≠ 0).
func (s *Service) Activities(ctx context.Context, peerID int64) ([]Activity, error) {
	return listActivities(ctx, s.DB, peerID)
}

// CreateActivity records a learning activity with its attached reports.
func (s *Service) CreateActivity(ctx context.Context, a Actor, in NewActivity, files ...Upload) (*Activity, error) {
	in.Title = strings.TrimSpace(in.Title)
	for i := range files {
		if err := checkUpload(&files[i]); err != nil {
			return nil, err
		}
	}
	switch {
	case !in.Kind.Valid():
		return nil, invalid("kind", "类型须为 visit、training、exchange、secondment 或 agreement", "kind must be visit, training, exchange, secondment or agreement")
	case in.Title == "":
		return nil, invalid("title", "标题不能为空", "title is required")
	case tooLong(in.Title, 200):
		return nil, invalid("title", "标题不超过 200 字", "title must be at most 200 characters")
	case in.HeldOn.IsZero():
		return nil, invalid("held_on", "日期不能为空", "held_on is required")
	case tooLong(in.Findings, 20000) || tooLong(in.Report, 100000) || tooLong(in.People, 2000):
		return nil, invalid("report", "内容过长", "text too long")
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if in.PeerID != nil {
			if p, err := loadPeer(ctx, tx, *in.PeerID); err != nil {
				return err
			} else if p == nil {
				return invalid("peer_id", fmt.Sprintf("标杆 %d 不存在", *in.PeerID), fmt.Sprintf("peer %d not found", *in.PeerID))
			}
		}
		var err error
		id, err = db.InsertID(ctx, tx, `INSERT INTO learning_activities (peer_id, kind, title, held_on, people, findings, report, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, null(in.PeerID), in.Kind, in.Title, in.HeldOn, in.People, in.Findings, in.Report, a.id(), s.stamp())
		if err != nil {
			return fmt.Errorf("benchmark: insert activity: %w", err)
		}
		var names []string
		for _, f := range files {
			ext := strings.ToLower(f.Name[strings.LastIndex(f.Name, "."):])
			if _, err := tx.ExecContext(ctx, `INSERT INTO learning_files (activity_id, name, content_type, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id, f.Name, fileTypes[ext], len(f.Data), f.Data, s.stamp()); err != nil {
				return fmt.Errorf("benchmark: insert file: %w", err)
			}
			names = append(names, f.Name)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("learning.create", "learning:"+strconv.FormatInt(id, 10), fmt.Sprintf("kind=%s title=%q on=%s files=%q", in.Kind, in.Title, in.HeldOn, names)))
	})
	if err != nil {
		return nil, err
	}
	list, err := listActivities(ctx, s.DB, 0)
	if err != nil {
		return nil, err
	}
	for _, x := range list {
		if x.ID == id {
			return &x, nil
		}
	}
	return nil, fmt.Errorf("benchmark: activity %d vanished", id)
}

// Categories lists the indicator categories.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	return listCategories(ctx, s.DB)
}

// AddCategory adds an indicator category.
func (s *Service) AddCategory(ctx context.Context, a Actor, c Category) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || tooLong(c.Name, 50) {
		return invalid("name", "类别名称须为 1–50 字", "name must be 1–50 characters")
	}
	return s.DB.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO benchmark_categories (name, name_en, sort_order) VALUES (?, ?, ?)`, c.Name, strings.TrimSpace(c.NameEN), c.SortOrder)
		if db.IsUniqueViolation(err) {
			return apperr.Conflict("category_exists", fmt.Sprintf("类别“%s”已存在 / category %q exists", c.Name, c.Name))
		}
		if err != nil {
			return fmt.Errorf("benchmark: insert category: %w", err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("indicator_category.create", "category:"+c.Name, ""))
	})
}

// Indicators.

// NewIndicator is an indicator to add (or, by code, to update in an import).
type NewIndicator struct {
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Unit        string    `json:"unit"`
	Direction   Direction `json:"direction"`
	Category    string    `json:"category"`
	Frequency   Frequency `json:"frequency"`
	Source      string    `json:"source"`
	Definition  string    `json:"definition"`
	Formula     string    `json:"formula"`
	OwnerUnitID *int64    `json:"owner_unit_id"`
	Weight      *float64  `json:"weight"`
	PeerID      *int64    `json:"peer_id"`
	LeadPeriods int       `json:"lead_periods"`
}

// check validates in, naming the field; refs are checked against q.
func (s *Service) checkIndicator(ctx context.Context, q db.Querier, in *NewIndicator) error {
	in.Code, in.Name, in.Unit = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name), strings.TrimSpace(in.Unit)
	in.Category, in.Source = strings.TrimSpace(in.Category), strings.TrimSpace(in.Source)
	if in.Source == "" {
		in.Source = SourceManual
	}
	if in.Weight == nil {
		w := 1.0
		in.Weight = &w
	}
	if in.LeadPeriods == 0 {
		in.LeadPeriods = 2
	}
	switch {
	case in.Code == "":
		return invalid("code", "编码不能为空", "code is required")
	case tooLong(in.Code, 50) || strings.ContainsAny(in.Code, " \t/?#"):
		return invalid("code", "编码不超过 50 字且不含空格和 / ? #", "code must be at most 50 characters without spaces, / ? or #")
	case in.Name == "":
		return invalid("name", "名称不能为空", "name is required")
	case tooLong(in.Name, 200):
		return invalid("name", "名称不超过 200 字", "name must be at most 200 characters")
	case tooLong(in.Unit, 20):
		return invalid("unit", "计量单位不超过 20 字", "unit must be at most 20 characters")
	case !in.Direction.Valid():
		return invalid("direction", "方向须为 higher_better（越高越好）或 lower_better（越低越好）", "direction must be higher_better or lower_better")
	case !in.Frequency.Valid():
		return invalid("frequency", "频次须为 month、quarter、half 或 year", "frequency must be month, quarter, half or year")
	case math.IsNaN(*in.Weight) || *in.Weight < 0 || *in.Weight > 1000:
		return invalid("weight", "权重须为 0–1000", "weight must be 0–1000")
	case in.LeadPeriods < 1 || in.LeadPeriods > 12:
		return invalid("lead_periods", "创标连续期数须为 1–12", "lead_periods must be 1–12")
	case tooLong(in.Definition, 4000) || tooLong(in.Formula, 4000):
		return invalid("definition", "定义或公式过长", "definition or formula too long")
	}
	if in.Source != SourceManual {
		if s.Metrics == nil {
			return invalid("source", "数据来源须为 manual", "source must be manual")
		}
		if _, ok := s.Metrics.Get(in.Source); !ok {
			return invalid("source", fmt.Sprintf("数据来源须为 manual 或已登记的度量编码，%q 未登记", in.Source), fmt.Sprintf("source must be manual or a registered metric code; %q is not registered", in.Source))
		}
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM benchmark_categories WHERE name = ?`, in.Category).Scan(&n); err != nil {
		return fmt.Errorf("benchmark: check category: %w", err)
	}
	if n == 0 {
		return invalid("category", fmt.Sprintf("类别 %q 不存在", in.Category), fmt.Sprintf("category %q is unknown", in.Category))
	}
	if in.OwnerUnitID != nil {
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM units WHERE id = ? AND active = TRUE`, *in.OwnerUnitID).Scan(&n); err != nil {
			return fmt.Errorf("benchmark: check unit: %w", err)
		}
		if n == 0 {
			return invalid("owner_unit_id", fmt.Sprintf("责任单位 %d 不存在或已停用", *in.OwnerUnitID), fmt.Sprintf("owner unit %d is unknown or inactive", *in.OwnerUnitID))
		}
	}
	if in.PeerID != nil {
		p, err := loadPeer(ctx, q, *in.PeerID)
		if err != nil {
			return err
		}
		if p == nil {
			return invalid("peer_id", fmt.Sprintf("标杆 %d 不存在", *in.PeerID), fmt.Sprintf("peer %d not found", *in.PeerID))
		}
	}
	return nil
}

// Indicators lists the indicators (of one category when given) with our
// latest value.
func (s *Service) Indicators(ctx context.Context, category string) ([]*Indicator, error) {
	return listIndicators(ctx, s.DB, category)
}

// Indicator returns one indicator with its rollups.
func (s *Service) Indicator(ctx context.Context, id int64) (*Indicator, error) {
	return loadIndicator(ctx, s.DB, id)
}

// CreateIndicator adds an indicator.
func (s *Service) CreateIndicator(ctx context.Context, a Actor, in NewIndicator) (*Indicator, error) {
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := s.checkIndicator(ctx, tx, &in); err != nil {
			return err
		}
		var err error
		id, err = s.saveIndicator(ctx, tx, a, in, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Indicator(ctx, id)
}

// UpdateIndicator changes an indicator (its code too, if the new one is
// free); the stage and rollups are recomputed (a new chosen peer or
// direction can move the stage).
func (s *Service) UpdateIndicator(ctx context.Context, a Actor, id int64, in NewIndicator, active bool) (*Indicator, error) {
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		old, err := loadIndicator(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.checkIndicator(ctx, tx, &in); err != nil {
			return err
		}
		if in.Frequency != old.Frequency {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM observations WHERE indicator_id = ?`, id).Scan(&n); err != nil {
				return fmt.Errorf("benchmark: count observations: %w", err)
			}
			if n > 0 {
				return invalid("frequency", fmt.Sprintf("已有 %d 条观测值，不能修改频次", n), fmt.Sprintf("%d observations exist; the frequency cannot change", n))
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE indicators SET code = ?, name = ?, measure = ?, direction = ?, category = ?, frequency = ?, source = ?, definition = ?, formula = ?,
			owner_unit_id = ?, weight = ?, peer_id = ?, lead_periods = ?, active = ?, updated_at = ? WHERE id = ?`,
			in.Code, in.Name, in.Unit, in.Direction, in.Category, in.Frequency, in.Source, in.Definition, in.Formula, null(in.OwnerUnitID), *in.Weight, null(in.PeerID), in.LeadPeriods, active, s.stamp(), id)
		if db.IsUniqueViolation(err) {
			return apperr.Conflict("indicator_exists", fmt.Sprintf("指标编码 %s 已存在 / indicator code %s exists", in.Code, in.Code))
		}
		if err != nil {
			return fmt.Errorf("benchmark: update indicator %d: %w", id, err)
		}
		if err := s.restage(ctx, tx, id); err != nil {
			return err
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("indicator.update", "indicator:"+strconv.FormatInt(id, 10),
			fmt.Sprintf("code=%s→%s name=%q direction=%s peer=%v active=%v", old.Code, in.Code, in.Name, in.Direction, in.PeerID, active)))
	})
	if err != nil {
		return nil, err
	}
	return s.Indicator(ctx, id)
}

// UpdatePeer changes a peer; active=false retires it from the forms.
func (s *Service) UpdatePeer(ctx context.Context, a Actor, id int64, in NewPeer, active bool) (*Peer, error) {
	if err := checkPeer(&in); err != nil {
		return nil, err
	}
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if p, err := loadPeer(ctx, tx, id); err != nil {
			return err
		} else if p == nil {
			return errPeerNotFound(id)
		}
		if err := checkPeerUnit(ctx, tx, in.UnitID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE peers SET name = ?, kind = ?, region = ?, unit_id = ?, population = ?, staff = ?, learn = ?, contacts = ?, active = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.Kind, in.Region, null(in.UnitID), in.Population, in.Staff, in.Learn, in.Contacts, active, s.stamp(), id)
		if db.IsUniqueViolation(err) {
			return apperr.Conflict("peer_exists", fmt.Sprintf("标杆“%s”已存在 / peer %q exists", in.Name, in.Name))
		}
		if err != nil {
			return fmt.Errorf("benchmark: update peer %d: %w", id, err)
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("peer.update", "peer:"+strconv.FormatInt(id, 10), fmt.Sprintf("name=%q kind=%s active=%v", in.Name, in.Kind, active)))
	})
	if err != nil {
		return nil, err
	}
	return s.Peer(ctx, id)
}

// saveIndicator inserts in, or updates the indicator with its code when
// update is set.
func (s *Service) saveIndicator(ctx context.Context, tx *db.Tx, a Actor, in NewIndicator, update bool) (int64, error) {
	now := s.stamp()
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM indicators WHERE code = ?`, in.Code).Scan(&id)
	switch {
	case err == nil && !update:
		return 0, apperr.Conflict("indicator_exists", fmt.Sprintf("指标编码 %s 已存在 / indicator code %s exists", in.Code, in.Code))
	case err == nil:
		_, err = tx.ExecContext(ctx, `UPDATE indicators SET name = ?, measure = ?, direction = ?, category = ?, frequency = ?, source = ?, definition = ?, formula = ?,
			owner_unit_id = ?, weight = ?, peer_id = ?, lead_periods = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.Unit, in.Direction, in.Category, in.Frequency, in.Source, in.Definition, in.Formula, null(in.OwnerUnitID), *in.Weight, null(in.PeerID), in.LeadPeriods, now, id)
		if err != nil {
			return 0, fmt.Errorf("benchmark: update indicator %s: %w", in.Code, err)
		}
		if err := s.restage(ctx, tx, id); err != nil {
			return 0, err
		}
		return id, s.Audit.WriteTx(ctx, tx, a.entry("indicator.update", "indicator:"+strconv.FormatInt(id, 10), fmt.Sprintf("code=%s name=%q", in.Code, in.Name)))
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("benchmark: find indicator %s: %w", in.Code, err)
	}
	id, err = db.InsertID(ctx, tx, `INSERT INTO indicators (code, name, measure, direction, category, frequency, source, definition, formula, owner_unit_id, weight, peer_id, lead_periods, stage, stage_since, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seek', ?, TRUE, ?, ?)`,
		in.Code, in.Name, in.Unit, in.Direction, in.Category, in.Frequency, in.Source, in.Definition, in.Formula, null(in.OwnerUnitID), *in.Weight, null(in.PeerID), in.LeadPeriods, now, now, now)
	if err != nil {
		return 0, fmt.Errorf("benchmark: insert indicator %s: %w", in.Code, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO stage_history (indicator_id, from_stage, to_stage, from_rank, to_rank, period, changed_at) VALUES (?, '', 'seek', 0, 1, '', ?)`, id, now); err != nil {
		return 0, fmt.Errorf("benchmark: stage history: %w", err)
	}
	return id, s.Audit.WriteTx(ctx, tx, a.entry("indicator.create", "indicator:"+strconv.FormatInt(id, 10), fmt.Sprintf("code=%s name=%q source=%s", in.Code, in.Name, in.Source)))
}

// Observations.

// NewObservation is a value to record.
type NewObservation struct {
	IndicatorID int64
	Subject     Subject
	Period      string
	Value       float64
	Note        string
	Evidence    string
}

// ObservationInput is an observation as a form or the API gives it:
// strings, checked by CheckObservation.
type ObservationInput struct {
	IndicatorID int64  `json:"indicator_id"`
	Subject     string `json:"subject"`
	Period      string `json:"period"`
	Value       any    `json:"value"`
	Note        string `json:"note"`
	Evidence    string `json:"evidence"`
}

// subjectExists checks a subject against the units and peers.
func subjectExists(ctx context.Context, q db.Querier, sub Subject) (bool, error) {
	table := ""
	switch sub.Kind {
	case SubjectUs:
		return true, nil
	case SubjectUnit:
		table = "units"
	case SubjectPeer:
		table = "peers"
	default:
		return false, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, sub.ID).Scan(&n); err != nil {
		return false, fmt.Errorf("benchmark: check subject: %w", err)
	}
	return n > 0, nil
}

// checkObservation turns an input into a value for ind, naming the field.
func checkObservation(ctx context.Context, q db.Querier, ind *Indicator, in ObservationInput) (NewObservation, error) {
	out := NewObservation{IndicatorID: ind.ID, Note: strings.TrimSpace(in.Note), Evidence: strings.TrimSpace(in.Evidence)}
	sub, ok := ParseSubject(in.Subject)
	if !ok {
		return out, invalid("subject", fmt.Sprintf("对象 %q 无效：须为 us、unit:<编号> 或 peer:<编号>", in.Subject), fmt.Sprintf("subject %q is invalid: use us, unit:<id> or peer:<id>", in.Subject))
	}
	if exists, err := subjectExists(ctx, q, sub); err != nil {
		return out, err
	} else if !exists {
		return out, invalid("subject", fmt.Sprintf("对象 %s 不存在", sub), fmt.Sprintf("subject %s not found", sub))
	}
	if ind.Source != SourceManual && sub.Kind != SubjectPeer {
		return out, invalid("subject", fmt.Sprintf("指标 %s 的本办和单位数值由度量 %s 自动计算，只能录入标杆数值", ind.Code, ind.Source),
			fmt.Sprintf("indicator %s computes our and our units' values from metric %s; enter peer values only", ind.Code, ind.Source))
	}
	out.Subject = sub
	p, ok := ParsePeriod(ind.Frequency, in.Period)
	if !ok {
		return out, invalid("period", fmt.Sprintf("期间 %q 与指标频次（%s）不符，格式为 %s", in.Period, ind.Frequency, PeriodFormat(ind.Frequency)),
			fmt.Sprintf("period %q does not fit the indicator's frequency (%s): use %s", in.Period, ind.Frequency, PeriodFormat(ind.Frequency)))
	}
	out.Period = p
	var v float64
	switch x := in.Value.(type) {
	case float64:
		v, ok = x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case string:
		v, ok = ParseValue(x)
		if ok && strings.Contains(x, "%") && ind.Unit != "%" {
			ok = false
		}
	default:
		ok = false
	}
	if !ok {
		return out, invalid("value", fmt.Sprintf("数值 %v 不是数字", display(in.Value)), fmt.Sprintf("value %v is not a number", display(in.Value)))
	}
	out.Value = v
	if tooLong(out.Note, 2000) || tooLong(out.Evidence, 2000) {
		return out, invalid("note", "说明或佐证过长", "note or evidence too long")
	}
	return out, nil
}

func display(v any) string {
	if v == nil {
		return "（空）"
	}
	return fmt.Sprintf("%q", fmt.Sprint(v))
}

// SaveObservation records one value: a second value for the same cell
// replaces it and keeps the old one in history. The stage is recomputed.
func (s *Service) SaveObservation(ctx context.Context, a Actor, in ObservationInput) (*Observation, error) {
	var out NewObservation
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		ind, err := loadIndicator(ctx, tx, in.IndicatorID)
		if e, ok := apperr.As(err); ok && e.Status == http.StatusNotFound {
			return invalid("indicator_id", fmt.Sprintf("指标 %d 不存在", in.IndicatorID), fmt.Sprintf("indicator %d not found", in.IndicatorID))
		}
		if err != nil {
			return err
		}
		out, err = checkObservation(ctx, tx, ind, in)
		if err != nil {
			return err
		}
		return s.saveObservations(ctx, tx, a, []NewObservation{out}, "observation.save")
	})
	if err != nil {
		return nil, err
	}
	list, err := listObservations(ctx, s.DB, out.IndicatorID, out.Period, 0)
	if err != nil {
		return nil, err
	}
	for _, o := range list {
		if o.Subject == out.Subject.String() {
			o.History, err = observationHistory(ctx, s.DB, o.ID)
			return &o, err
		}
	}
	return nil, fmt.Errorf("benchmark: observation vanished")
}

// saveObservations stores checked values in tx, refusing fixed
// metric values, then restages the indicators touched and audits.
func (s *Service) saveObservations(ctx context.Context, tx *db.Tx, a Actor, obs []NewObservation, action string) error {
	now := s.stamp()
	touched := map[int64]bool{}
	var order []int64
	changed := 0
	for _, o := range obs {
		c, err := upsertObservation(ctx, tx, o, false, a.id(), now)
		if err != nil {
			return err
		}
		if c {
			changed++
		}
		if !touched[o.IndicatorID] {
			touched[o.IndicatorID] = true
			order = append(order, o.IndicatorID)
		}
	}
	for _, id := range order {
		if err := s.restage(ctx, tx, id); err != nil {
			return err
		}
	}
	summary := fmt.Sprintf("%d values, %d changed", len(obs), changed)
	object := "observations"
	if len(obs) == 1 {
		o := obs[0]
		object = "indicator:" + strconv.FormatInt(o.IndicatorID, 10)
		summary = fmt.Sprintf("subject=%s period=%s value=%v", o.Subject, o.Period, o.Value)
	}
	return s.Audit.WriteTx(ctx, tx, a.entry(action, object, summary))
}

// restage recomputes an indicator's stage and rollups from its
// observations, records a stage change in the history, tells the owner
// unit, and marks targets attained.
func (s *Service) restage(ctx context.Context, tx *db.Tx, id int64) error {
	ind, err := loadIndicator(ctx, tx, id)
	if err != nil {
		return err
	}
	series, err := loadSeries(ctx, tx, id)
	if err != nil {
		return err
	}
	return s.apply(ctx, tx, ind, series)
}

// apply writes what series says of ind: rollups, stage, attained targets.
func (s *Service) apply(ctx context.Context, tx *db.Tx, ind *Indicator, series Series) error {
	id := ind.ID
	var chosen int64
	if ind.PeerID != nil {
		chosen = *ind.PeerID
	}
	st, period := StageOf(ind.Direction, series, chosen, ind.LeadPeriods)
	sum := summarize(ind.Direction, series)
	if _, err := tx.ExecContext(ctx, `UPDATE indicators SET latest_period = ?, latest_value = ?, score = ?, rank_us = ?, subjects = ?, gap = ?, gap_pct = ?, best_subject = ?, best_unit = ? WHERE id = ?`,
		sum.period, sum.latest, sum.score, sum.rank, sum.of, sum.gap, sum.gapPct, sum.best, sum.bestIn, id); err != nil {
		return fmt.Errorf("benchmark: update rollups of %d: %w", id, err)
	}
	if err := s.markAttained(ctx, tx, ind, series); err != nil {
		return err
	}
	if st == ind.Stage {
		return nil
	}
	now := s.stamp()
	if _, err := tx.ExecContext(ctx, `UPDATE indicators SET stage = ?, stage_since = ? WHERE id = ?`, st, now, id); err != nil {
		return fmt.Errorf("benchmark: update stage: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO stage_history (indicator_id, from_stage, to_stage, from_rank, to_rank, period, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, ind.Stage, st, ind.Stage.Rank(), st.Rank(), period, now); err != nil {
		return fmt.Errorf("benchmark: stage history: %w", err)
	}
	if s.Notifier == nil || ind.OwnerUnitID == nil {
		return nil
	}
	to, err := unitRecipients(ctx, tx, *ind.OwnerUnitID)
	if err != nil || len(to) == 0 {
		return err
	}
	from, toName := stageNames[ind.Stage], stageNames[st]
	return s.Notifier.Notify(ctx, tx, Notice{To: to, Link: "/benchmark/indicators/" + strconv.FormatInt(id, 10), Subject: "indicator:" + strconv.FormatInt(id, 10),
		Title: Text{ZH: fmt.Sprintf("对标阶段变化：%s %s → %s", ind.Name, from.ZH, toName.ZH), EN: fmt.Sprintf("Benchmark stage: %s %s → %s", ind.Name, from.EN, toName.EN)},
		Body: Text{ZH: fmt.Sprintf("指标 %s（%s）在 %s 期由“%s”变为“%s”。", ind.Code, ind.Name, period, from.ZH, toName.ZH),
			EN: fmt.Sprintf("Indicator %s (%s) moved from %s to %s in period %s.", ind.Code, ind.Name, from.EN, toName.EN, period)}})
}

// RecomputeAll recomputes every indicator's stage and rollups from the
// whole history, read in one query, and writes them in one transaction
// (after a bulk load, or to repair). It returns how many indicators it
// wrote.
func (s *Service) RecomputeAll(ctx context.Context, a Actor) (int, error) {
	inds, err := listIndicators(ctx, s.DB, "")
	if err != nil {
		return 0, err
	}
	all, err := loadAllSeries(ctx, s.DB, "")
	if err != nil {
		return 0, err
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		for _, ind := range inds {
			ser := all[ind.ID]
			if ser == nil {
				ser = &Series{Values: map[string]map[Subject]float64{}}
			}
			if err := s.apply(ctx, tx, ind, *ser); err != nil {
				return err
			}
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("indicator.recompute", "indicators", fmt.Sprintf("%d indicators", len(inds))))
	})
	if err != nil {
		return 0, err
	}
	return len(inds), nil
}

var stageNames = map[Stage]Text{
	StageSeek: {"寻标", "seek"}, StageCompare: {"对标", "compare"}, StageAttain: {"达标", "attain"}, StageLead: {"创标", "lead"}, "": {"—", "—"},
}

// markAttained sets attained_on on open targets our latest value reaches.
func (s *Service) markAttained(ctx context.Context, tx *db.Tx, ind *Indicator, series Series) error {
	var latest *float64
	for i := len(series.Periods) - 1; i >= 0; i-- {
		if v, ok := series.Values[series.Periods[i]][Us]; ok {
			latest = &v
			break
		}
	}
	if latest == nil {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, target_value FROM targets WHERE indicator_id = ? AND attained_on IS NULL`, ind.ID)
	if err != nil {
		return fmt.Errorf("benchmark: open targets: %w", err)
	}
	var reached []int64
	for rows.Next() {
		var id int64
		var tv float64
		if err := rows.Scan(&id, &tv); err != nil {
			rows.Close()
			return err
		}
		if Reached(ind.Direction, *latest, tv) {
			reached = append(reached, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range reached {
		if _, err := tx.ExecContext(ctx, `UPDATE targets SET attained_on = ? WHERE id = ?`, s.Today(), id); err != nil {
			return fmt.Errorf("benchmark: mark target attained: %w", err)
		}
	}
	return nil
}

// Observations lists an indicator's observations (of one period when
// given), each with its subject's name.
func (s *Service) Observations(ctx context.Context, indicatorID int64, period, lang string) ([]Observation, error) {
	if _, err := loadIndicator(ctx, s.DB, indicatorID); err != nil {
		return nil, err
	}
	list, err := listObservations(ctx, s.DB, indicatorID, period, 0)
	if err != nil {
		return nil, err
	}
	peers, units, err := names(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	for i := range list {
		sub, _ := ParseSubject(list[i].Subject)
		list[i].SubjectName = subjectName(sub, peers, units, lang)
	}
	return list, nil
}

func subjectName(sub Subject, peers, units map[int64]string, lang string) string {
	switch sub.Kind {
	case SubjectPeer:
		return peers[sub.ID]
	case SubjectUnit:
		return units[sub.ID]
	}
	if lang == "en" {
		return "Our office"
	}
	return "我办"
}

// Stages returns an indicator's stage history, newest first.
func (s *Service) Stages(ctx context.Context, indicatorID int64) ([]StageChange, error) {
	if _, err := loadIndicator(ctx, s.DB, indicatorID); err != nil {
		return nil, err
	}
	return stageHistory(ctx, s.DB, indicatorID)
}

// Gap analysis.

// GapResult is one indicator's gap table in one period, with the trend.
type GapResult struct {
	Period   string     `json:"period"`
	Periods  []string   `json:"periods"`
	Subjects []GapRow   `json:"subjects"`
	Trend    Trend      `json:"trend"`
	Internal []GapRow   `json:"internal"`
	Score    *float64   `json:"score"`
	Ind      *Indicator `json:"-"`
}

// TrendPeriods is how many periods the trend covers.
const TrendPeriods = 8

// Gap is the gap table of an indicator in period (the latest with data
// when empty): every subject of us and the peers ranked, with its gap to
// the best; the units ranked among themselves (internal benchmarking).
func (s *Service) Gap(ctx context.Context, indicatorID int64, period, lang string) (*GapResult, error) {
	peers, units, err := names(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	return s.gap(ctx, indicatorID, period, lang, peers, units)
}

func (s *Service) gap(ctx context.Context, indicatorID int64, period, lang string, peers, units map[int64]string) (*GapResult, error) {
	ind, err := s.Indicator(ctx, indicatorID)
	if err != nil {
		return nil, err
	}
	series, err := loadSeries(ctx, s.DB, indicatorID)
	if err != nil {
		return nil, err
	}
	res := &GapResult{Ind: ind, Periods: series.Periods, Subjects: []GapRow{}, Internal: []GapRow{}}
	if period != "" {
		p, ok := ParsePeriod(ind.Frequency, period)
		if !ok {
			return nil, invalid("period", fmt.Sprintf("期间 %q 与指标频次（%s）不符，格式为 %s", period, ind.Frequency, PeriodFormat(ind.Frequency)),
				fmt.Sprintf("period %q does not fit the indicator's frequency (%s): use %s", period, ind.Frequency, PeriodFormat(ind.Frequency)))
		}
		res.Period = p
	} else if n := len(series.Periods); n > 0 {
		res.Period = series.Periods[n-1]
	} else {
		res.Period = PeriodOf(ind.Frequency, s.Today())
	}
	var outer, inner []Value
	var us *float64
	var peerVals []float64
	for sub, v := range series.Values[res.Period] {
		if sub.Kind == SubjectUnit {
			inner = append(inner, Value{sub, v})
			continue
		}
		outer = append(outer, Value{sub, v})
		if sub.Kind == SubjectUs {
			v := v
			us = &v
		} else {
			peerVals = append(peerVals, v)
		}
	}
	res.Subjects, res.Internal = Gaps(ind.Direction, outer), Gaps(ind.Direction, inner)
	for _, rows := range [][]GapRow{res.Subjects, res.Internal} {
		for i := range rows {
			sub, _ := ParseSubject(rows[i].Subject)
			rows[i].Name = subjectName(sub, peers, units, lang)
		}
	}
	if sc, ok := Score(ind.Direction, us, peerVals); ok {
		sc = round(sc)
		res.Score = &sc
	}
	res.Trend = TrendOf(ind.Direction, series, LastPeriods(ind.Frequency, res.Period, TrendPeriods))
	return res, nil
}

// IndicatorScore is one indicator's line of the overview: its rollups
// with the names of the best subject and of the best unit (the internal
// benchmark).
type IndicatorScore struct {
	*Indicator
	Period       string `json:"period"`
	Best         string `json:"best_name"`
	BestUnitName string `json:"best_unit_name"`
}

// CategoryIndex is the composite benchmark index of one category.
type CategoryIndex struct {
	Category string            `json:"category"`
	Index    *float64          `json:"index"`
	Stages   map[Stage]int     `json:"stages"`
	Stage    Stage             `json:"stage"`
	Items    []*IndicatorScore `json:"items"`
}

// Overview is the composite index, per category and overall.
type Overview struct {
	Index      *float64         `json:"index"`
	Categories []*CategoryIndex `json:"categories"`
	Stages     map[Stage]int    `json:"stages"`
}

// Analyse rolls the indicators' scores (each 0–100 against the best peer
// in its latest period, kept on write) up, weighted, into a 0–100 index
// per category and overall, with the stage counts; it reads the
// indicators, not their observations.
func (s *Service) Analyse(ctx context.Context, lang string) (*Overview, error) {
	inds, err := listIndicators(ctx, s.DB, "")
	if err != nil {
		return nil, err
	}
	peers, units, err := names(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	cats, err := listCategories(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	return analyse(inds, cats, peers, units, lang), nil
}

func analyse(inds []*Indicator, cats []Category, peers, units map[int64]string, lang string) *Overview {
	ov := &Overview{Stages: map[Stage]int{}}
	byCat := map[string]*CategoryIndex{}
	for _, c := range cats {
		ci := &CategoryIndex{Category: c.Name, Stages: map[Stage]int{}}
		byCat[c.Name] = ci
		ov.Categories = append(ov.Categories, ci)
	}
	type acc struct{ sum, w float64 }
	catAcc := map[string]*acc{}
	total := &acc{}
	name := func(v string) string {
		sub, ok := ParseSubject(v)
		if !ok {
			return ""
		}
		return subjectName(sub, peers, units, lang)
	}
	for _, ind := range inds {
		if !ind.Active {
			continue
		}
		ci := byCat[ind.Category]
		if ci == nil {
			ci = &CategoryIndex{Category: ind.Category, Stages: map[Stage]int{}}
			byCat[ind.Category] = ci
			ov.Categories = append(ov.Categories, ci)
		}
		ci.Stages[ind.Stage]++
		ov.Stages[ind.Stage]++
		ci.Items = append(ci.Items, &IndicatorScore{Indicator: ind, Period: ind.LatestPeriod, Best: name(ind.BestSubject), BestUnitName: name(ind.BestUnit)})
		if ind.Score == nil {
			continue
		}
		a := catAcc[ind.Category]
		if a == nil {
			a = &acc{}
			catAcc[ind.Category] = a
		}
		a.sum += *ind.Score * ind.Weight
		a.w += ind.Weight
		total.sum += *ind.Score * ind.Weight
		total.w += ind.Weight
	}
	for _, ci := range ov.Categories {
		if a := catAcc[ci.Category]; a != nil && a.w > 0 {
			v := math.Round(a.sum/a.w*10) / 10
			ci.Index = &v
		}
		ci.Stage = rollUp(ci.Stages)
	}
	if total.w > 0 {
		v := math.Round(total.sum/total.w*10) / 10
		ov.Index = &v
	}
	return ov
}

// rollUp is a category's stage: the stage most of its indicators are at
// or beyond (the lowest stage reached by more than half).
func rollUp(counts map[Stage]int) Stage {
	n := 0
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return StageSeek
	}
	out := StageSeek
	atOrBeyond := 0
	for i := len(Stages) - 1; i >= 0; i-- {
		atOrBeyond += counts[Stages[i]]
		if atOrBeyond*2 > n {
			out = Stages[i]
			break
		}
	}
	return out
}

// OwnerStages lists every indicator with an owner unit and its stage (the
// 考评 half-year exhibition reads them).
func (s *Service) OwnerStages(ctx context.Context) ([]OwnerStage, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT owner_unit_id, id, code, name, category, stage, stage_since FROM indicators WHERE owner_unit_id IS NOT NULL AND active = TRUE ORDER BY owner_unit_id, code`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: owner stages: %w", err)
	}
	defer rows.Close()
	var out []OwnerStage
	for rows.Next() {
		var o OwnerStage
		if err := rows.Scan(&o.UnitID, &o.IndicatorID, &o.Code, &o.Name, &o.Category, &o.Stage, &o.Since); err != nil {
			return nil, err
		}
		o.Since = o.Since.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// Targets.

// StepInput is one step of a target's path.
type StepInput struct {
	Title      string       `json:"title"`
	Due        workday.Date `json:"due"`
	LeadUnitID int64        `json:"lead_unit_id"`
	OwnerID    int64        `json:"owner_id"`
}

// NewTarget is a target to set.
type NewTarget struct {
	IndicatorID int64        `json:"indicator_id"`
	TargetValue *float64     `json:"target_value"`
	Due         workday.Date `json:"due"`
	Baseline    *float64     `json:"baseline"`
	PeerID      *int64       `json:"peer_id"`
	Note        string       `json:"note"`
	Path        []StepInput  `json:"path"`
}

// Targets lists targets (of one indicator when given) with progress.
func (s *Service) Targets(ctx context.Context, indicatorID int64) ([]*Target, error) {
	ts, err := listTargets(ctx, s.DB, indicatorID)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return ts, nil
	}
	latest := map[int64]float64{}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, latest_value FROM indicators WHERE latest_value IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: latest values: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v float64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		latest[id] = v
	}
	for _, t := range ts {
		if v, ok := latest[t.IndicatorID]; ok {
			p := Progress(t.Baseline, t.TargetValue, v)
			t.Latest, t.Progress = &v, &p
		}
	}
	return ts, rows.Err()
}

// Target returns one target.
func (s *Service) Target(ctx context.Context, id int64) (*Target, error) {
	var ind int64
	if err := s.DB.QueryRowContext(ctx, `SELECT indicator_id FROM targets WHERE id = ?`, id).Scan(&ind); errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("target_not_found", fmt.Sprintf("目标 %d 不存在 / target %d not found", id, id))
	} else if err != nil {
		return nil, fmt.Errorf("benchmark: load target %d: %w", id, err)
	}
	ts, err := s.Targets(ctx, ind)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, fmt.Errorf("benchmark: target %d vanished", id)
}

// CreateTarget sets a target and turns each step of its path into an
// assigned battle-map task (source benchmark) linked back to the step —
// all in one transaction, so if any step fails nothing of the target, its
// steps or its tasks remains.
func (s *Service) CreateTarget(ctx context.Context, a Actor, in NewTarget) (*Target, error) {
	in.Note = strings.TrimSpace(in.Note)
	switch {
	case in.IndicatorID <= 0:
		return nil, invalid("indicator_id", "请指定指标", "indicator_id is required")
	case in.TargetValue == nil:
		return nil, invalid("target_value", "目标值不能为空", "target_value is required")
	case math.IsNaN(*in.TargetValue) || math.IsInf(*in.TargetValue, 0):
		return nil, invalid("target_value", "目标值须为数字", "target_value must be a number")
	case in.Due.IsZero():
		return nil, invalid("due", "完成时限不能为空", "due is required")
	case in.Due.Before(s.Today()):
		return nil, invalid("due", fmt.Sprintf("完成时限 %s 已过", in.Due), fmt.Sprintf("due %s is in the past", in.Due))
	case len(in.Path) == 0:
		return nil, invalid("path", "达标路径至少需要一步", "the path needs at least one step")
	case len(in.Path) > 30:
		return nil, invalid("path", "达标路径不超过 30 步", "the path has at most 30 steps")
	case tooLong(in.Note, 4000):
		return nil, invalid("note", "说明过长", "note too long")
	}
	for i := range in.Path {
		st := &in.Path[i]
		st.Title = strings.TrimSpace(st.Title)
		f := func(name string) string { return fmt.Sprintf("path[%d].%s", i, name) }
		switch {
		case st.Title == "":
			return nil, invalid(f("title"), fmt.Sprintf("第 %d 步的标题不能为空", i+1), fmt.Sprintf("step %d needs a title", i+1))
		case tooLong(st.Title, 200):
			return nil, invalid(f("title"), fmt.Sprintf("第 %d 步的标题不超过 200 字", i+1), fmt.Sprintf("step %d: title must be at most 200 characters", i+1))
		case st.Due.IsZero():
			return nil, invalid(f("due"), fmt.Sprintf("第 %d 步的时限不能为空", i+1), fmt.Sprintf("step %d needs a due date", i+1))
		case st.Due.After(in.Due):
			return nil, invalid(f("due"), fmt.Sprintf("第 %d 步的时限 %s 晚于目标时限 %s", i+1, st.Due, in.Due), fmt.Sprintf("step %d is due %s, after the target's due %s", i+1, st.Due, in.Due))
		case st.Due.Before(s.Today()):
			return nil, invalid(f("due"), fmt.Sprintf("第 %d 步的时限 %s 已过", i+1, st.Due), fmt.Sprintf("step %d is due %s, in the past", i+1, st.Due))
		case st.LeadUnitID <= 0:
			return nil, invalid(f("lead_unit_id"), fmt.Sprintf("第 %d 步须指定责任单位", i+1), fmt.Sprintf("step %d needs a lead unit", i+1))
		}
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		ind, err := loadIndicator(ctx, tx, in.IndicatorID)
		if e, ok := apperr.As(err); ok && e.Status == http.StatusNotFound {
			return invalid("indicator_id", fmt.Sprintf("指标 %d 不存在", in.IndicatorID), fmt.Sprintf("indicator %d not found", in.IndicatorID))
		}
		if err != nil {
			return err
		}
		if in.Baseline == nil {
			var v float64
			err := tx.QueryRowContext(ctx, `SELECT value FROM observations WHERE indicator_id = ? AND subject_kind = 'us' ORDER BY period DESC LIMIT 1`, ind.ID).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				return invalid("baseline", "本办尚无该指标的数值，请填写基线值", "we have no value of this indicator yet; give a baseline")
			}
			if err != nil {
				return fmt.Errorf("benchmark: baseline: %w", err)
			}
			in.Baseline = &v
		}
		tv, base := *in.TargetValue, *in.Baseline
		switch {
		case ind.Direction == LowerBetter && tv >= base:
			return invalid("target_value", fmt.Sprintf("指标“%s”越低越好，目标值 %v 须低于基线值 %v", ind.Name, tv, base),
				fmt.Sprintf("%s is lower-better: the target %v must be below the baseline %v", ind.Name, tv, base))
		case ind.Direction == HigherBetter && tv <= base:
			return invalid("target_value", fmt.Sprintf("指标“%s”越高越好，目标值 %v 须高于基线值 %v", ind.Name, tv, base),
				fmt.Sprintf("%s is higher-better: the target %v must be above the baseline %v", ind.Name, tv, base))
		}
		if in.PeerID != nil {
			if p, err := loadPeer(ctx, tx, *in.PeerID); err != nil {
				return err
			} else if p == nil {
				return invalid("peer_id", fmt.Sprintf("标杆 %d 不存在", *in.PeerID), fmt.Sprintf("peer %d not found", *in.PeerID))
			}
		}
		for i := range in.Path {
			if err := checkStepRefs(ctx, tx, i, &in.Path[i]); err != nil {
				return err
			}
		}
		now := s.stamp()
		id, err = db.InsertID(ctx, tx, `INSERT INTO targets (indicator_id, target_value, baseline, due_on, peer_id, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			ind.ID, tv, base, in.Due, null(in.PeerID), in.Note, a.id(), now)
		if err != nil {
			return fmt.Errorf("benchmark: insert target: %w", err)
		}
		var taskIDs []string
		for i, st := range in.Path {
			var taskID *int64
			if s.Tasks != nil {
				start := s.Today()
				tid, err := s.Tasks.CreateTask(ctx, tx, a, NewTask{
					Title:       st.Title,
					Description: fmt.Sprintf("对标达标路径第 %d 步：指标 %s %s，目标值 %v%s（基线 %v），目标时限 %s。", i+1, ind.Code, ind.Name, tv, ind.Unit, base, in.Due),
					Acceptance:  fmt.Sprintf("%s 达到 %v%s", ind.Name, tv, ind.Unit),
					LeadUnitID:  st.LeadUnitID, OwnerID: st.OwnerID, Start: start, Due: st.Due})
				if err != nil {
					if e, ok := apperr.As(err); ok && e.Field != "" {
						e2 := *e
						e2.Field = fmt.Sprintf("path[%d].%s", i, e.Field)
						e2.Code = "invalid_path"
						return &e2
					}
					return fmt.Errorf("benchmark: create task for step %d: %w", i+1, err)
				}
				taskID = &tid
				taskIDs = append(taskIDs, strconv.FormatInt(tid, 10))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO target_steps (target_id, seq, title, due_on, lead_unit_id, owner_id, task_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				id, i+1, st.Title, st.Due, st.LeadUnitID, st.OwnerID, null(taskID)); err != nil {
				return fmt.Errorf("benchmark: insert step %d: %w", i+1, err)
			}
		}
		if err := s.markAttained(ctx, tx, ind, mustSeries(ctx, tx, ind.ID)); err != nil {
			return err
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("target.create", "target:"+strconv.FormatInt(id, 10),
			fmt.Sprintf("indicator=%s target=%v baseline=%v due=%s tasks=%s", ind.Code, tv, base, in.Due, strings.Join(taskIDs, ","))))
	})
	if err != nil {
		return nil, err
	}
	return s.Target(ctx, id)
}

func mustSeries(ctx context.Context, q db.Querier, id int64) Series {
	s, _ := loadSeries(ctx, q, id)
	return s
}

// checkStepRefs checks a step's lead unit and owner, taking the unit's
// first active person as owner when none is given.
func checkStepRefs(ctx context.Context, q db.Querier, i int, st *StepInput) error {
	f := func(name string) string { return fmt.Sprintf("path[%d].%s", i, name) }
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM units WHERE id = ? AND active = TRUE`, st.LeadUnitID).Scan(&n); err != nil {
		return fmt.Errorf("benchmark: check unit: %w", err)
	}
	if n == 0 {
		return invalid(f("lead_unit_id"), fmt.Sprintf("第 %d 步的责任单位 %d 不存在或已停用", i+1, st.LeadUnitID), fmt.Sprintf("step %d: lead unit %d is unknown or inactive", i+1, st.LeadUnitID))
	}
	if st.OwnerID == 0 {
		err := q.QueryRowContext(ctx, `SELECT id FROM people WHERE unit_id = ? AND active = TRUE ORDER BY id LIMIT 1`, st.LeadUnitID).Scan(&st.OwnerID)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid(f("owner_id"), fmt.Sprintf("第 %d 步的责任单位没有人员，请指定责任人", i+1), fmt.Sprintf("step %d: the lead unit has nobody; name an owner", i+1))
		}
		if err != nil {
			return fmt.Errorf("benchmark: default owner: %w", err)
		}
		return nil
	}
	var unit int64
	err := q.QueryRowContext(ctx, `SELECT unit_id FROM people WHERE id = ? AND active = TRUE`, st.OwnerID).Scan(&unit)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return invalid(f("owner_id"), fmt.Sprintf("第 %d 步的责任人 %d 不存在或已停用", i+1, st.OwnerID), fmt.Sprintf("step %d: owner %d is unknown or inactive", i+1, st.OwnerID))
	case err != nil:
		return fmt.Errorf("benchmark: check owner: %w", err)
	case unit != st.LeadUnitID:
		return invalid(f("owner_id"), fmt.Sprintf("第 %d 步的责任人 %d 不属于责任单位 %d", i+1, st.OwnerID, st.LeadUnitID), fmt.Sprintf("step %d: owner %d does not belong to lead unit %d", i+1, st.OwnerID, st.LeadUnitID))
	}
	return nil
}

// Metric-sourced indicators.

// RefreshPass computes the values of metric-sourced indicators: the
// current period (replaced on each pass) and the periods just closed,
// which are then fixed and never recomputed. It returns how many values it
// stored.
func (s *Service) RefreshPass(ctx context.Context, tx *db.Tx) (int, error) {
	if s.Metrics == nil {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, frequency, source FROM indicators WHERE source <> 'manual' AND active = TRUE ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("benchmark: metric indicators: %w", err)
	}
	type mi struct {
		id     int64
		f      Frequency
		source string
	}
	var list []mi
	for rows.Next() {
		var x mi
		if err := rows.Scan(&x.id, &x.f, &x.source); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	today := s.Today()
	now := s.stamp()
	n := 0
	for _, x := range list {
		cur := PeriodOf(x.f, today)
		for _, p := range []string{PrevPeriod(x.f, cur), cur} {
			closed := p != cur
			if closed {
				var fixed int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM observations WHERE indicator_id = ? AND period = ? AND fixed = TRUE AND subject_kind <> 'peer'`, x.id, p).Scan(&fixed); err != nil {
					return n, fmt.Errorf("benchmark: fixed values: %w", err)
				}
				if fixed > 0 {
					continue
				}
			}
			mp := MetricPeriod(x.f, p)
			mp.Today = today
			vals, err := s.Metrics.Compute(ctx, x.source, mp)
			if err != nil {
				return n, fmt.Errorf("benchmark: indicator %d: %w", x.id, err)
			}
			if len(vals) == 0 {
				continue
			}
			ids := make([]int64, 0, len(vals))
			sum := 0.0
			for u, v := range vals {
				ids = append(ids, u)
				sum += v
			}
			slices.Sort(ids)
			for _, u := range ids {
				v := math.Round(vals[u]*100) / 100
				if _, err := upsertObservation(ctx, tx, NewObservation{IndicatorID: x.id, Subject: Subject{Kind: SubjectUnit, ID: u}, Period: p, Value: v, Note: "metric " + x.source}, closed, nil, now); err != nil {
					return n, err
				}
				n++
			}
			// Our office: the mean over the units measured.
			us := math.Round(sum/float64(len(ids))*100) / 100
			if _, err := upsertObservation(ctx, tx, NewObservation{IndicatorID: x.id, Subject: Us, Period: p, Value: us, Note: "metric " + x.source + " (mean of units)"}, closed, nil, now); err != nil {
				return n, err
			}
			n++
		}
		if err := s.restage(ctx, tx, x.id); err != nil {
			return n, err
		}
	}
	if n > 0 {
		if err := s.Audit.WriteTx(ctx, tx, Actor{Username: "system"}.entry("observation.compute", "observations", fmt.Sprintf("%d metric values for %d indicators", n, len(list)))); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Metrics registered per unit (item 8).

const (
	MetricTargetsOnTime = "benchmark.targets_on_time"
	MetricStageAdvances = "benchmark.stage_advances"
)

// MetricList returns the metrics benchmarking registers.
func (s *Service) MetricList() []metric.Metric {
	return []metric.Metric{
		{Code: MetricTargetsOnTime, Name: "对标目标按期达成率", NameEN: "Benchmark targets attained on time", Measure: "%", MeasureEN: "%", Direction: metric.HigherBetter, Precision: 1,
			Description:   "指标责任单位的对标目标中，时限在本期内且已到的目标，在时限当日或之前达到目标值的比例。",
			DescriptionEN: "Of the benchmark targets of the indicators a unit owns that fell due in the period (and whose due date has passed), the share reached on or before the due date.",
			Compute:       metricTargetsOnTime},
		{Code: MetricStageAdvances, Name: "对标阶段提升次数", NameEN: "Benchmark stage advances", Measure: "次", MeasureEN: "advances", Direction: metric.HigherBetter,
			Description:   "本期内，单位负责的指标由低阶段进入高阶段（寻标→对标→达标→创标）的次数。",
			DescriptionEN: "How often, in the period, an indicator the unit owns moved up a stage (seek → compare → attain → lead).",
			Compute:       metricStageAdvances},
	}
}

func metricTargetsOnTime(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	until := p.Until()
	rows, err := q.QueryContext(ctx, `SELECT i.owner_unit_id, COUNT(*), SUM(CASE WHEN t.attained_on IS NOT NULL AND t.attained_on <= t.due_on THEN 1 ELSE 0 END)
		FROM targets t JOIN indicators i ON i.id = t.indicator_id
		WHERE i.owner_unit_id IS NOT NULL AND t.due_on >= ? AND t.due_on <= ? AND t.due_on < ?
		GROUP BY i.owner_unit_id`, p.Start, p.End, until.AddDays(1))
	if err != nil {
		return nil, fmt.Errorf("benchmark: targets on time: %w", err)
	}
	defer rows.Close()
	v := metric.Values{}
	for rows.Next() {
		var unit, den, num int64
		if err := rows.Scan(&unit, &den, &num); err != nil {
			return nil, err
		}
		if r, ok := metric.Percent(num, den); ok {
			v[unit] = metric.Round(r, 1)
		}
	}
	return v, rows.Err()
}

func metricStageAdvances(ctx context.Context, q db.Querier, p metric.Period) (metric.Values, error) {
	from := p.Start.Time(time.UTC).Add(-8 * time.Hour)
	to := p.Until().AddDays(1).Time(time.UTC).Add(-8 * time.Hour)
	rows, err := q.QueryContext(ctx, `SELECT i.owner_unit_id, COUNT(*) FROM stage_history h JOIN indicators i ON i.id = h.indicator_id
		WHERE i.owner_unit_id IS NOT NULL AND h.to_rank > h.from_rank AND h.from_rank > 0 AND h.changed_at >= ? AND h.changed_at < ?
		GROUP BY i.owner_unit_id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("benchmark: stage advances: %w", err)
	}
	defer rows.Close()
	v := metric.Values{}
	for rows.Next() {
		var unit, n int64
		if err := rows.Scan(&unit, &n); err != nil {
			return nil, err
		}
		v[unit] = float64(n)
	}
	return v, rows.Err()
}

func asApp(err error) (*apperr.Error, bool) { return apperr.As(err) }

func fieldOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Field
	}
	return ""
}

// Report is the 对标分析报告 of one indicator.
type Report struct {
	Gap     *GapResult
	Targets []*Target
	Stages  []StageChange
	Owner   string
	Peer    string
	// The names of peers and units, for more of the same page.
	peers, units map[int64]string
}

// RecentObservations are the report's indicator's latest n observations,
// named.
func (s *Service) RecentObservations(ctx context.Context, rep *Report, n int, lang string) ([]Observation, error) {
	list, err := listObservations(ctx, s.DB, rep.Gap.Ind.ID, "", n)
	if err != nil {
		return nil, err
	}
	for i := range list {
		sub, _ := ParseSubject(list[i].Subject)
		list[i].SubjectName = subjectName(sub, rep.peers, rep.units, lang)
	}
	return list, nil
}

// Report gathers an indicator's report for period (the latest when empty).
func (s *Service) Report(ctx context.Context, id int64, period, lang string) (*Report, error) {
	peers, units, err := names(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	g, err := s.gap(ctx, id, period, lang, peers, units)
	if err != nil {
		return nil, err
	}
	rep := &Report{Gap: g, peers: peers, units: units}
	if rep.Targets, err = s.Targets(ctx, id); err != nil {
		return nil, err
	}
	if rep.Stages, err = stageHistory(ctx, s.DB, id); err != nil {
		return nil, err
	}
	if g.Ind.OwnerUnitID != nil {
		rep.Owner = units[*g.Ind.OwnerUnitID]
	}
	if g.Ind.PeerID != nil {
		rep.Peer = peers[*g.Ind.PeerID]
	}
	return rep, nil
}

// Option is a choice in a form's select.
type Option struct {
	Value, Label string
}

// unitOptions lists the active units for selects.
func unitOptions(ctx context.Context, q db.Querier) ([]Option, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name FROM units WHERE active = TRUE ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: units: %w", err)
	}
	defer rows.Close()
	var out []Option
	for rows.Next() {
		var id int64
		var code, name string
		if err := rows.Scan(&id, &code, &name); err != nil {
			return nil, err
		}
		out = append(out, Option{Value: strconv.FormatInt(id, 10), Label: code + " " + name})
	}
	return out, rows.Err()
}

// GapHistory computes the gap table of every indicator in every period it
// has values for, with the composite score of each, from one query: the
// whole history at once (what the bench measures). It returns how many
// tables and subject rows it computed.
func (s *Service) GapHistory(ctx context.Context) (tables, rows int, err error) {
	inds, err := listIndicators(ctx, s.DB, "")
	if err != nil {
		return 0, 0, err
	}
	all, err := loadAllSeries(ctx, s.DB, "")
	if err != nil {
		return 0, 0, err
	}
	outer := make([]Value, 0, 32)
	pv := make([]float64, 0, 32)
	for _, ind := range inds {
		ser := all[ind.ID]
		if ser == nil {
			continue
		}
		for _, p := range ser.Periods {
			outer, pv = outer[:0], pv[:0]
			var us *float64
			for sub, v := range ser.Values[p] {
				if sub.Kind == SubjectUnit {
					continue
				}
				outer = append(outer, Value{sub, v})
				if sub.Kind == SubjectUs {
					v := v
					us = &v
				} else {
					pv = append(pv, v)
				}
			}
			rows += len(Gaps(ind.Direction, outer))
			Score(ind.Direction, us, pv)
			tables++
		}
		TrendOf(ind.Direction, *ser, ser.Periods[max(0, len(ser.Periods)-TrendPeriods):])
	}
	return tables, rows, nil
}

// UnitStanding is one unit's place in internal benchmarking.
type UnitStanding struct {
	UnitID int64  `json:"unit_id"`
	Name   string `json:"name"`
	// Indicators is how many indicators the unit has a value for (in each
	// indicator's latest period); Firsts how often it is the best unit
	// (the internal benchmark); Score the mean of 100 − gap % to the best
	// unit; Rank orders the units by Score.
	Indicators int     `json:"indicators"`
	Firsts     int     `json:"firsts"`
	Score      float64 `json:"score"`
	Rank       int     `json:"rank"`
	// Best lists the indicators it is the internal benchmark of.
	Best []string `json:"best"`
}

// Internal ranks our units on the indicators they share: in each
// indicator's latest period, the units are ranked and scored against the
// best unit; the scores are averaged per unit. One query.
func (s *Service) Internal(ctx context.Context) ([]UnitStanding, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT i.id, i.name, i.direction, o.subject_id, o.value, u.name FROM observations o
		JOIN indicators i ON i.id = o.indicator_id AND o.period = i.latest_period
		JOIN units u ON u.id = o.subject_id
		WHERE o.subject_kind = 'unit' AND i.active = TRUE ORDER BY i.id`)
	if err != nil {
		return nil, fmt.Errorf("benchmark: internal benchmarking: %w", err)
	}
	defer rows.Close()
	type ind struct {
		name string
		dir  Direction
		vals []Value
	}
	var order []int64
	inds := map[int64]*ind{}
	unitNames := map[int64]string{}
	for rows.Next() {
		var id, unit int64
		var name, uname string
		var dir Direction
		var v float64
		if err := rows.Scan(&id, &name, &dir, &unit, &v, &uname); err != nil {
			return nil, err
		}
		x := inds[id]
		if x == nil {
			x = &ind{name: name, dir: dir}
			inds[id] = x
			order = append(order, id)
		}
		x.vals = append(x.vals, Value{Subject{Kind: SubjectUnit, ID: unit}, v})
		unitNames[unit] = uname
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	by := map[int64]*UnitStanding{}
	for _, id := range order {
		x := inds[id]
		if len(x.vals) < 2 {
			continue // nothing shared
		}
		for _, r := range Gaps(x.dir, x.vals) {
			sub, _ := ParseSubject(r.Subject)
			st := by[sub.ID]
			if st == nil {
				st = &UnitStanding{UnitID: sub.ID, Name: unitNames[sub.ID], Best: []string{}}
				by[sub.ID] = st
			}
			st.Indicators++
			st.Score += math.Max(0, 100-r.GapPct)
			if r.Rank == 1 {
				st.Firsts++
				st.Best = append(st.Best, x.name)
			}
		}
	}
	out := make([]UnitStanding, 0, len(by))
	for _, st := range by {
		st.Score = math.Round(st.Score/float64(st.Indicators)*10) / 10
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b UnitStanding) int {
		switch {
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case a.Firsts != b.Firsts:
			return b.Firsts - a.Firsts
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i := range out {
		if i > 0 && out[i].Score == out[i-1].Score {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out, nil
}
