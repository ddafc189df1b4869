package supervise

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/deadline"
	"github.com/biaogan/biaogan/internal/workday"
)

// The battle map (挂图作战): every assigned task by area, lead unit and light.
//
// It is read far more often than tasks change, by many people at once and by
// wall screens refreshing every minute, so it is computed from the stored
// light columns with a handful of queries: one GROUP BY over (lead unit,
// area, light) that yields both the area × light matrix and the per-unit
// table, one indexed range query per light for the timeline, one for the
// timeline's milestones, and two small look-ups for names. No task list is
// ever loaded whole into Go.
//
// What counts: tasks that have been assigned and not cancelled. Drafts are
// not yet anybody's work and a cancelled task is nobody's; both stay on the
// task list, off the map.

// TimelineCap bounds the timeline when no filter narrows the map: the most
// urgent open tasks (red, then yellow, green, not started; each by due date).
const TimelineCap = 200

// TimelineCapFiltered bounds the timeline of a filtered map, which also
// shows signed-off tasks after the open ones.
const TimelineCapFiltered = 1000

// BoardFilter narrows the battle map. The zero value is the whole map.
type BoardFilter struct {
	Area   string         `json:"area,omitempty"`
	UnitID int64          `json:"unit,omitempty"`
	Source Source         `json:"source,omitempty"`
	Leader string         `json:"leader,omitempty"`
	Light  deadline.Light `json:"light,omitempty"`
	// Key keeps key projects only (重点项目: source project).
	Key bool `json:"key,omitempty"`
}

// Empty reports whether f narrows nothing.
func (f BoardFilter) Empty() bool { return f == BoardFilter{} }

// Query is f as URL query parameters (area, unit, source, leader, light, key).
func (f BoardFilter) Query() url.Values {
	v := url.Values{}
	if f.Area != "" {
		v.Set("area", f.Area)
	}
	if f.UnitID != 0 {
		v.Set("unit", strconv.FormatInt(f.UnitID, 10))
	}
	if f.Source != "" {
		v.Set("source", string(f.Source))
	}
	if f.Leader != "" {
		v.Set("leader", f.Leader)
	}
	if f.Light != "" {
		v.Set("light", string(f.Light))
	}
	if f.Key {
		v.Set("key", "1")
	}
	return v
}

// ParseBoardFilter reads the filter from query parameters, naming a bad one.
func ParseBoardFilter(q url.Values) (BoardFilter, error) {
	f := BoardFilter{Area: strings.TrimSpace(q.Get("area")), Leader: strings.TrimSpace(q.Get("leader"))}
	if v := strings.TrimSpace(q.Get("unit")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, invalid("unit", "unit 须为正整数", "unit must be a positive integer")
		}
		f.UnitID = n
	}
	if v := strings.TrimSpace(q.Get("source")); v != "" {
		f.Source = Source(v)
		if !f.Source.Valid() {
			return f, invalid("source", "source 须为 "+sourceList(), "source must be one of "+sourceList())
		}
	}
	if v := strings.TrimSpace(q.Get("light")); v != "" {
		f.Light = deadline.Light(v)
		if !f.Light.Valid() {
			return f, invalid("light", "light 须为 red、yellow、green、done 或 not_started", "light must be red, yellow, green, done or not_started")
		}
	}
	switch strings.TrimSpace(q.Get("key")) {
	case "", "0", "false":
	case "1", "true", "on":
		f.Key = true
	default:
		return f, invalid("key", "key 须为 true 或 false", "key must be true or false")
	}
	return f, nil
}

// LightCounts counts tasks per light.
type LightCounts struct {
	Red        int `json:"red"`
	Yellow     int `json:"yellow"`
	Green      int `json:"green"`
	NotStarted int `json:"not_started"`
	Done       int `json:"done"`
}

func (c *LightCounts) add(l deadline.Light, n int) {
	switch l {
	case deadline.LightRed:
		c.Red += n
	case deadline.LightYellow:
		c.Yellow += n
	case deadline.LightGreen:
		c.Green += n
	case deadline.LightNotStarted:
		c.NotStarted += n
	case deadline.LightDone:
		c.Done += n
	}
}

// Get returns the count of light l.
func (c LightCounts) Get(l deadline.Light) int {
	switch l {
	case deadline.LightRed:
		return c.Red
	case deadline.LightYellow:
		return c.Yellow
	case deadline.LightGreen:
		return c.Green
	case deadline.LightNotStarted:
		return c.NotStarted
	case deadline.LightDone:
		return c.Done
	}
	return 0
}

// Total is the sum over all lights.
func (c LightCounts) Total() int { return c.Red + c.Yellow + c.Green + c.NotStarted + c.Done }

// BoardLights are the lights in the order the battle map shows them.
var BoardLights = []deadline.Light{deadline.LightRed, deadline.LightYellow, deadline.LightGreen, deadline.LightNotStarted, deadline.LightDone}

// BoardArea is one row of the area × light matrix.
type BoardArea struct {
	Code   string      `json:"code"`
	Name   string      `json:"name"`
	NameEN string      `json:"name_en"`
	Lights LightCounts `json:"lights"`
	Total  int         `json:"total"`
}

// BoardUnit is one row of the per-unit table.
type BoardUnit struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	// Tasks on the map (assigned, not cancelled) with this lead unit.
	Tasks int `json:"tasks"`
	// Done is signed off; OnTime is signed off on or before the due date in
	// force; Overdue is open and past its due date.
	Done    int `json:"done"`
	OnTime  int `json:"on_time"`
	Overdue int `json:"overdue"`
	LightCounts
	// CompletionRate is done / tasks, in percent with one decimal.
	CompletionRate float64 `json:"completion_rate"`
	// OnTimeRate is on time / done, in percent with one decimal (0 when
	// nothing is done yet).
	OnTimeRate float64 `json:"on_time_rate"`
}

// BoardMilestone is a milestone on the timeline.
type BoardMilestone struct {
	Name   string       `json:"name"`
	Due    workday.Date `json:"due"`
	DoneOn workday.Date `json:"done_on"`
}

// BoardItem is one bar of the timeline (Gantt).
type BoardItem struct {
	ID              int64            `json:"id"`
	Title           string           `json:"title"`
	Area            string           `json:"area"`
	Source          Source           `json:"source"`
	UnitID          int64            `json:"unit_id"`
	UnitName        string           `json:"unit_name"`
	State           State            `json:"state"`
	Light           deadline.Light   `json:"light"`
	LightReason     string           `json:"light_reason"`
	Start           workday.Date     `json:"start"`
	Due             workday.Date     `json:"due"`
	BaselineDue     workday.Date     `json:"baseline_due"`
	Progress        int              `json:"progress"`
	OverdueWorkdays int              `json:"overdue_workdays"`
	Milestones      []BoardMilestone `json:"milestones"`
}

// Board is the battle map.
type Board struct {
	Today       workday.Date `json:"today"`
	GeneratedAt time.Time    `json:"generated_at"`
	Filter      BoardFilter  `json:"filter"`
	Areas       []BoardArea  `json:"areas"`
	Units       []BoardUnit  `json:"units"`
	Lights      LightCounts  `json:"lights"`
	Total       int          `json:"total"`
	Overdue     int          `json:"overdue"`
	Timeline    []BoardItem  `json:"timeline"`
	// TimelineTotal is how many tasks could be on the timeline; Timeline
	// holds the first TimelineCap (or TimelineCapFiltered) of them.
	TimelineTotal int `json:"timeline_total"`
}

// boardWhere is the WHERE clause of the tasks on the map under f.
func boardWhere(f BoardFilter) (string, []any) {
	where := []string{"state NOT IN ('draft','cancelled')"}
	var args []any
	if f.Area != "" {
		where, args = append(where, "area = ?"), append(args, f.Area)
	}
	if f.UnitID != 0 {
		where, args = append(where, "lead_unit_id = ?"), append(args, f.UnitID)
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, string(f.Source))
	}
	if f.Key {
		where = append(where, "source = 'project'")
	}
	if f.Leader != "" {
		where, args = append(where, "instruction_id IN (SELECT id FROM instructions WHERE leader = ?)"), append(args, f.Leader)
	}
	if f.Light != "" {
		where, args = append(where, "light = ?"), append(args, string(f.Light))
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// BattleMap returns the battle map under f; lang picks the language of the
// light reasons on the timeline. The result is shared with other callers:
// it must not be changed.
//
// Maps are cached until the database changes. The change check is one cheap
// statement: on SQLite "PRAGMA data_version" on a connection kept for it
// (it moves whenever another connection, in this process or another,
// commits); on PostgreSQL the current snapshot (equal snapshots see the
// same committed data). The check runs before the map is computed, so a
// cached map is never older than the version it is filed under. Where
// neither works (an engine without pg_current_snapshot) every call
// computes.
func (s *Service) BattleMap(ctx context.Context, f BoardFilter, lang string) (*Board, error) {
	e, err := s.boardEntry(ctx, f, lang)
	if err != nil {
		return nil, err
	}
	return e.b, nil
}

// boardEntry returns the cache entry of the map under f, computing it when
// the data changed since (or when there is no change check: then the entry
// is not kept).
func (s *Service) boardEntry(ctx context.Context, f BoardFilter, lang string) (*boardEntry, error) {
	if err := s.ensureFresh(ctx); err != nil {
		return nil, err
	}
	if lang != "en" {
		lang = "zh-CN"
	}
	c := &s.ext().board
	key := boardKey{f: f, lang: lang, today: s.Today()}
	token, ok := c.version(ctx, s.DB)
	if !ok {
		e := &boardEntry{done: make(chan struct{})}
		e.b, e.err = s.battleMap(ctx, f, lang)
		close(e.done)
		return e, e.err
	}
	for {
		c.mu.Lock()
		e := c.entries[key]
		if e != nil && e.token == token {
			c.mu.Unlock()
			select {
			case <-e.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if e.err == nil {
				return e, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// The one computing it failed (perhaps its request ended):
			// try again as the computer.
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
			continue
		}
		if c.entries == nil || len(c.entries) >= boardCacheSize {
			c.entries = map[boardKey]*boardEntry{}
		}
		e = &boardEntry{token: token, done: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		e.b, e.err = s.battleMap(ctx, f, lang)
		close(e.done)
		return e, e.err
	}
}

// boardCacheSize bounds the cached maps (filters × languages).
const boardCacheSize = 32

type boardKey struct {
	f     BoardFilter
	lang  string
	today workday.Date
}

type boardEntry struct {
	token string
	done  chan struct{}
	b     *Board
	err   error

	// The battle map page's data, built once per entry (it holds the
	// rendered tables and timeline, the costly part of the page).
	pmu  sync.Mutex
	page *boardPage
	json []byte // the API's answer, encoded once
}

// boardCache keeps battle maps until the database changes.
type boardCache struct {
	mu      sync.Mutex
	entries map[boardKey]*boardEntry

	vmu  sync.Mutex
	conn *sql.Conn // SQLite: the connection asked for data_version
	gen  int       // bumped when conn is replaced, so old tokens never match
	off  bool      // no usable change check on this engine
}

// version returns a token that changes whenever committed data may have
// changed, or ok=false when there is no such check.
func (c *boardCache) version(ctx context.Context, d *db.DB) (string, bool) {
	c.vmu.Lock()
	off := c.off
	c.vmu.Unlock()
	if off {
		return "", false
	}
	switch d.Dialect {
	case db.SQLite:
		c.vmu.Lock()
		defer c.vmu.Unlock()
		if c.conn == nil {
			conn, err := d.R.Conn(ctx)
			if err != nil {
				return "", false
			}
			c.conn = conn
			c.gen++
		}
		var v int64
		if err := c.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
			c.conn.Close()
			c.conn = nil
			return "", false
		}
		return strconv.Itoa(c.gen) + ":" + strconv.FormatInt(v, 10), true
	case db.Postgres:
		var snap string
		if err := d.R.QueryRowContext(ctx, `SELECT pg_current_snapshot()::text`).Scan(&snap); err != nil {
			if ctx.Err() == nil {
				c.vmu.Lock()
				c.off = true
				c.vmu.Unlock()
			}
			return "", false
		}
		return snap, true
	}
	return "", false
}

// close gives the kept connection back.
func (c *boardCache) close() {
	c.vmu.Lock()
	defer c.vmu.Unlock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// battleMap computes the battle map.
func (s *Service) battleMap(ctx context.Context, f BoardFilter, lang string) (*Board, error) {
	today := s.Today()
	b := &Board{Today: today, GeneratedAt: s.stamp(), Filter: f, Areas: []BoardArea{}, Units: []BoardUnit{}, Timeline: []BoardItem{}}
	where, args := boardWhere(f)

	// One pass over the map's tasks, grouped finely enough to give both the
	// matrix and the unit table.
	rows, err := s.DB.QueryContext(ctx, `SELECT lead_unit_id, area, light, COUNT(*),
		SUM(CASE WHEN state = 'signed_off' AND signed_off_on <= due_on THEN 1 ELSE 0 END),
		SUM(CASE WHEN state <> 'signed_off' AND due_on < ? THEN 1 ELSE 0 END)
		FROM tasks`+where+` GROUP BY lead_unit_id, area, light`, append([]any{today}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("supervise: battle map counts: %w", err)
	}
	units := map[int64]*BoardUnit{}
	areas := map[string]*LightCounts{}
	for rows.Next() {
		var unit int64
		var area string
		var light deadline.Light
		var n, onTime, overdue int
		if err := rows.Scan(&unit, &area, &light, &n, &onTime, &overdue); err != nil {
			rows.Close()
			return nil, fmt.Errorf("supervise: scan battle map counts: %w", err)
		}
		u := units[unit]
		if u == nil {
			u = &BoardUnit{ID: unit}
			units[unit] = u
		}
		u.Tasks += n
		u.OnTime += onTime
		u.Overdue += overdue
		u.add(light, n)
		a := areas[area]
		if a == nil {
			a = &LightCounts{}
			areas[area] = a
		}
		a.add(light, n)
		b.Lights.add(light, n)
		b.Overdue += overdue
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("supervise: battle map counts: %w", err)
	}
	b.Total = b.Lights.Total()

	// Areas: every active one in order (an empty row says "nothing here"),
	// then any inactive area that still has tasks.
	all, err := s.Areas(ctx, true)
	if err != nil {
		return nil, err
	}
	for _, ar := range all {
		c, has := areas[ar.Code]
		if !ar.Active && !has {
			continue
		}
		if f.Area != "" && ar.Code != f.Area {
			continue
		}
		row := BoardArea{Code: ar.Code, Name: ar.Name, NameEN: ar.NameEN}
		if has {
			row.Lights = *c
			row.Total = c.Total()
			delete(areas, ar.Code)
		}
		b.Areas = append(b.Areas, row)
	}
	for code, c := range areas { // an area code no longer in the list
		b.Areas = append(b.Areas, BoardArea{Code: code, Name: code, NameEN: code, Lights: *c, Total: c.Total()})
	}

	// Units: names, rates, and the order of concern (red, overdue, yellow).
	if len(units) > 0 {
		names, err := unitNames(ctx, s.DB)
		if err != nil {
			return nil, err
		}
		for id, u := range units {
			if n, ok := names[id]; ok {
				u.Code, u.Name = n.Code, n.Name
			}
			u.Done = u.LightCounts.Done
			u.CompletionRate = rate(u.Done, u.Tasks)
			u.OnTimeRate = rate(u.OnTime, u.Done)
			b.Units = append(b.Units, *u)
		}
		sort.Slice(b.Units, func(i, j int) bool {
			x, y := b.Units[i], b.Units[j]
			switch {
			case x.Red != y.Red:
				return x.Red > y.Red
			case x.Overdue != y.Overdue:
				return x.Overdue > y.Overdue
			case x.Yellow != y.Yellow:
				return x.Yellow > y.Yellow
			case x.Tasks != y.Tasks:
				return x.Tasks > y.Tasks
			}
			return x.Code < y.Code
		})
	}

	if err := s.boardTimeline(ctx, b, f, lang, units); err != nil {
		return nil, err
	}
	return b, nil
}

// rate is part / whole in percent with one decimal.
func rate(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part*1000/whole) / 10
}

// boardTimeline fills the timeline: per light, most urgent first, each an
// indexed range query (light, due_on) that stops at the cap.
func (s *Service) boardTimeline(ctx context.Context, b *Board, f BoardFilter, lang string, units map[int64]*BoardUnit) error {
	limit := TimelineCap
	lights := []deadline.Light{deadline.LightRed, deadline.LightYellow, deadline.LightGreen, deadline.LightNotStarted}
	if !f.Empty() {
		limit = TimelineCapFiltered
		lights = append(lights, deadline.LightDone)
	}
	if f.Light != "" {
		lights = []deadline.Light{f.Light}
	}
	for _, l := range lights {
		b.TimelineTotal += b.Lights.Get(l)
	}
	where, args := boardWhere(f)
	reason := "light_reason_zh"
	if lang == "en" {
		reason = "light_reason_en"
	}
	for _, l := range lights {
		left := limit - len(b.Timeline)
		if left <= 0 || b.Lights.Get(l) == 0 {
			continue
		}
		w, a := where, args
		if f.Light == "" {
			w, a = where+" AND light = ?", append(append([]any{}, args...), string(l))
		}
		rows, err := s.DB.QueryContext(ctx, `SELECT id, title, area, source, lead_unit_id, state, light, `+reason+`,
			start_on, due_on, baseline_due_on, progress, overdue_workdays FROM tasks`+w+` ORDER BY due_on, id LIMIT ?`, append(a, left)...)
		if err != nil {
			return fmt.Errorf("supervise: battle map timeline: %w", err)
		}
		for rows.Next() {
			var it BoardItem
			if err := rows.Scan(&it.ID, &it.Title, &it.Area, &it.Source, &it.UnitID, &it.State, &it.Light, &it.LightReason,
				&it.Start, &it.Due, &it.BaselineDue, &it.Progress, &it.OverdueWorkdays); err != nil {
				rows.Close()
				return fmt.Errorf("supervise: scan battle map timeline: %w", err)
			}
			if u := units[it.UnitID]; u != nil {
				it.UnitName = u.Name
			}
			it.Milestones = []BoardMilestone{}
			b.Timeline = append(b.Timeline, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("supervise: battle map timeline: %w", err)
		}
	}
	if len(b.Timeline) == 0 {
		return nil
	}
	ids := make([]int64, len(b.Timeline))
	for i, it := range b.Timeline {
		ids[i] = it.ID
	}
	ms, err := loadMilestones(ctx, s.DB, ids...)
	if err != nil {
		return err
	}
	for i := range b.Timeline {
		for _, m := range ms[b.Timeline[i].ID] {
			b.Timeline[i].Milestones = append(b.Timeline[i].Milestones, BoardMilestone{Name: m.Name, Due: m.Due, DoneOn: m.DoneOn})
		}
	}
	return nil
}

// unitRef names a unit.
type unitRef struct {
	ID         int64
	Code, Name string
	Active     bool
}

// unitNames reads every unit's code and name (a few hundred rows).
func unitNames(ctx context.Context, q db.Querier) (map[int64]unitRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name, active FROM units`)
	if err != nil {
		return nil, fmt.Errorf("supervise: unit names: %w", err)
	}
	defer rows.Close()
	out := map[int64]unitRef{}
	for rows.Next() {
		var u unitRef
		if err := rows.Scan(&u.ID, &u.Code, &u.Name, &u.Active); err != nil {
			return nil, fmt.Errorf("supervise: scan unit: %w", err)
		}
		out[u.ID] = u
	}
	return out, rows.Err()
}

// Leaders lists the leaders who issued instructions, for the filter.
func (s *Service) Leaders(ctx context.Context) ([]string, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT DISTINCT leader FROM instructions ORDER BY leader`)
	if err != nil {
		return nil, fmt.Errorf("supervise: list leaders: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// GET /api/v1/battlemap

func (s *Service) apiBattleMap(w http.ResponseWriter, r *http.Request) error {
	f, err := ParseBoardFilter(r.URL.Query())
	if err != nil {
		return err
	}
	e, err := s.boardEntry(r.Context(), f, lang(r))
	if err != nil {
		return err
	}
	e.pmu.Lock()
	body := e.json
	if body == nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e.b); err != nil {
			e.pmu.Unlock()
			return fmt.Errorf("supervise: encode battle map: %w", err)
		}
		body = buf.Bytes()
		e.json = body
	}
	e.pmu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}

// ---- pages ----

type boardCell struct {
	N     int
	URL   string
	Light deadline.Light
}

type boardRow struct {
	Code, Label string
	Cells       []boardCell
	Total       int
	TotalURL    string
}

type boardUnitRow struct {
	BoardUnit
	URL, OverdueURL, RedURL string
	Completion, OnTimeRate  string
	CompletionPct           int
}

type boardKPI struct {
	Light deadline.Light
	Label string
	N     int
	URL   string
}

type boardPage struct {
	B                                      *Board
	Areas, Units, Sources, Leaders, Lights []option
	Key, Filtered                          bool
	Heads                                  []boardKPI
	Matrix                                 []boardRow
	Totals                                 boardRow
	UnitRows                               []boardUnitRow
	KPIs                                   []boardKPI
	Urgent                                 []BoardItem
	Gantt                                  template.HTML
	Query                                  string
	API                                    string
	Generated                              string
	Today                                  string
	TimelineShown, TimelineTotal           int
	OverdueURL                             string
	Labels                                 string
	Lang                                   string
	// Rendered once per cached map: the filter form, the matrix, the unit
	// table (the page's many rows) and the timeline.
	FilterHTML, MatrixHTML, UnitsHTML template.HTML
	// The board shows the units of most concern; the print and ?units=all
	// show every one.
	UnitsTopHTML template.HTML
	UnitsShown   int
	UnitsAllURL  string
	AllUnits     bool
}

// boardTopUnits is how many units the board page lists unless asked for all.
const boardTopUnits = 30

// unitsView is the data of the unit table fragment.
type unitsView struct {
	Lang     string
	UnitRows []boardUnitRow
}

// drill is the task list showing what a count counted.
func drill(f BoardFilter, set ...string) string {
	v := f.Query()
	v.Set("board", "1")
	for i := 0; i+1 < len(set); i += 2 {
		v.Set(set[i], set[i+1])
	}
	return "/tasks?" + v.Encode()
}

// boardPage returns the data of the battle map pages for the request's
// filter and language, built once per cached map.
func (s *Service) boardPage(r *http.Request) (*boardPage, error) {
	ctx := r.Context()
	lang := pageLang(r)
	if lang != "en" {
		lang = "zh-CN"
	}
	f, err := ParseBoardFilter(r.URL.Query())
	if err != nil {
		return nil, err
	}
	e, err := s.boardEntry(ctx, f, lang)
	if err != nil {
		return nil, err
	}
	e.pmu.Lock()
	defer e.pmu.Unlock()
	if e.page != nil {
		return e.page, nil
	}
	d, err := s.buildBoardPage(ctx, e.b, f, lang)
	if err != nil {
		return nil, err
	}
	e.page = d
	return d, nil
}

func (s *Service) buildBoardPage(ctx context.Context, b *Board, f BoardFilter, lang string) (*boardPage, error) {
	l, err := s.labels(ctx, lang)
	if err != nil {
		return nil, err
	}
	leaders, err := s.Leaders(ctx)
	if err != nil {
		return nil, err
	}
	d := &boardPage{B: b, Lang: lang, Key: f.Key, Filtered: !f.Empty(), Areas: l.areaOptions(f.Area, false), Units: l.unitOptions(idString(f.UnitID)),
		Sources: l.sourceOptions(string(f.Source)), Leaders: stringOptions(leaders, f.Leader), Lights: l.lightOptions(string(f.Light)),
		Generated: s.localTime(b.GeneratedAt), Today: b.Today.String(), TimelineShown: min(len(b.Timeline), ganttRows), TimelineTotal: b.TimelineTotal,
		OverdueURL: drill(f, "overdue", "1")}
	if q := f.Query().Encode(); q != "" {
		d.Query = "?" + q
	}
	d.API = "/api/v1/battlemap" + d.Query
	for _, x := range BoardLights {
		k := boardKPI{Light: x, Label: l.light(x), N: b.Lights.Get(x), URL: drill(f, "light", string(x))}
		d.Heads = append(d.Heads, k)
		d.KPIs = append(d.KPIs, k)
	}
	d.Totals = boardRow{Label: pageText(lang, "sv.board.total"), Total: b.Total, TotalURL: drill(f)}
	for _, x := range BoardLights {
		d.Totals.Cells = append(d.Totals.Cells, boardCell{N: b.Lights.Get(x), URL: drill(f, "light", string(x)), Light: x})
	}
	for _, a := range b.Areas {
		row := boardRow{Code: a.Code, Label: l.area(a.Code), Total: a.Total, TotalURL: drill(f, "area", a.Code)}
		for _, x := range BoardLights {
			row.Cells = append(row.Cells, boardCell{N: a.Lights.Get(x), URL: drill(f, "area", a.Code, "light", string(x)), Light: x})
		}
		d.Matrix = append(d.Matrix, row)
	}
	for _, u := range b.Units {
		id := strconv.FormatInt(u.ID, 10)
		d.UnitRows = append(d.UnitRows, boardUnitRow{BoardUnit: u, URL: drill(f, "unit", id), OverdueURL: drill(f, "unit", id, "overdue", "1"),
			RedURL: drill(f, "unit", id, "light", "red"), Completion: strconv.FormatFloat(u.CompletionRate, 'f', 1, 64) + "%",
			OnTimeRate: strconv.FormatFloat(u.OnTimeRate, 'f', 1, 64) + "%", CompletionPct: int(u.CompletionRate)})
	}
	for _, it := range b.Timeline {
		if it.Light != deadline.LightRed && it.Light != deadline.LightYellow {
			break
		}
		if len(d.Urgent) == 20 {
			break
		}
		d.Urgent = append(d.Urgent, it)
	}
	d.Gantt = ganttSVG(b, lang)
	labels := map[string]string{"total": pageText(lang, "sv.board.total"), "overdue": pageText(lang, "sv.board.overdue"),
		"tasks": pageText(lang, "sv.board.tasks"), "completion": pageText(lang, "sv.board.completion"), "unit": pageText(lang, "sv.field.lead_unit"),
		"due": pageText(lang, "sv.field.due"), "reason": pageText(lang, "sv.field.reason"), "updated": pageText(lang, "sv.board.updated"),
		"task": pageText(lang, "sv.field.title"), "area": pageText(lang, "sv.field.area"), "red": l.light(deadline.LightRed),
		"yellow": l.light(deadline.LightYellow), "green": l.light(deadline.LightGreen), "not_started": l.light(deadline.LightNotStarted),
		"done": l.light(deadline.LightDone), "lang": lang, "offline": pageText(lang, "sv.screen.offline")}
	raw, _ := json.Marshal(labels)
	d.Labels = string(raw)
	d.UnitsShown = min(len(d.UnitRows), boardTopUnits)
	v := f.Query()
	v.Set("units", "all")
	d.UnitsAllURL = "/battlemap?" + v.Encode() + "#bm-units-card"
	for _, part := range []struct {
		name string
		dst  *template.HTML
		data any
	}{{"bm-filter", &d.FilterHTML, d}, {"bm-matrix", &d.MatrixHTML, d}, {"bm-units", &d.UnitsHTML, unitsView{lang, d.UnitRows}},
		{"bm-units", &d.UnitsTopHTML, unitsView{lang, d.UnitRows[:min(len(d.UnitRows), boardTopUnits)]}}} {
		var buf strings.Builder
		if err := boardParts.ExecuteTemplate(&buf, part.name, part.data); err != nil {
			return nil, fmt.Errorf("supervise: render %s: %w", part.name, err)
		}
		*part.dst = template.HTML(buf.String())
	}
	return d, nil
}

// boardParts renders the battle map's big tables once per cached map.
var boardParts = template.Must(template.New("parts").Funcs(template.FuncMap{"t": pageText}).ParseFS(pageFiles, "templates/parts/*.html"))

func (s *Service) getBoard(w http.ResponseWriter, r *http.Request) error {
	d, err := s.boardPage(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("units") == "all" {
		all := *d // shared: copy before changing
		all.AllUnits = true
		d = &all
	}
	return s.ws().HTML(w, r, "battlemap_board.html", "nav.battlemap", d)
}

func (s *Service) getScreen(w http.ResponseWriter, r *http.Request) error {
	d, err := s.boardPage(r)
	if err != nil {
		return err
	}
	return s.ws().HTML(w, r, "battlemap_screen.html", "sv.screen.title", d)
}

func (s *Service) getPrint(w http.ResponseWriter, r *http.Request) error {
	d, err := s.boardPage(r)
	if err != nil {
		return err
	}
	return s.ws().HTML(w, r, "battlemap_print.html", "sv.print.title", d)
}

// ganttRows bounds the rows drawn on the pages (the JSON keeps them all).
const ganttRows = 300

// ganttSVG draws the timeline as an SVG (no script, no inline style: the
// page's stylesheet colours it by class). Each row links to its task.
func ganttSVG(b *Board, lang string) template.HTML {
	items := b.Timeline[:min(len(b.Timeline), ganttRows)]
	if len(items) == 0 {
		return ""
	}
	const (
		width  = 1200.0
		labelW = 330.0
		right  = 12.0
		head   = 44.0
		rowH   = 24.0
	)
	from, to := b.Today, b.Today
	widen := func(d workday.Date) {
		if d.IsZero() {
			return
		}
		if d.Before(from) {
			from = d
		}
		if d.After(to) {
			to = d
		}
	}
	for _, it := range items {
		widen(it.Start)
		widen(it.Due)
		widen(it.BaselineDue)
		for _, m := range it.Milestones {
			widen(m.Due)
		}
	}
	from, to = from.AddDays(-3), to.AddDays(3)
	span := float64(to.Sub(from))
	chart := width - labelW - right
	x := func(d workday.Date) float64 { return labelW + float64(d.Sub(from))/span*chart }
	height := head + rowH*float64(len(items)) + 8
	var sb strings.Builder
	esc := template.HTMLEscapeString
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	fmt.Fprintf(&sb, `<svg class="gantt" id="gantt" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">`,
		f(width), f(height), f(width), f(height), esc(pageText(lang, "sv.board.timeline")))
	// Month lines: YYYY-MM when there is room, else the month number with
	// the year above January (and above the first line).
	perMonth := chart / span * 30.4
	y0, m0, _ := from.Civil()
	first := true
	for d := workday.DateOf(y0, m0+1, 1); !d.After(to); d = workday.DateOf(d.Year(), d.Month()+1, 1) {
		xx := f(x(d))
		fmt.Fprintf(&sb, `<line class="g-grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, xx, f(head-22), xx, f(height))
		m := int(d.Month())
		switch {
		case perMonth >= 48:
			fmt.Fprintf(&sb, `<text class="g-month" x="%s" y="26">%d-%02d</text>`, f(x(d)+3), d.Year(), m)
		case perMonth >= 18 || (m-1)%3 == 0:
			fmt.Fprintf(&sb, `<text class="g-month" x="%s" y="26">%02d</text>`, f(x(d)+3), m)
			if m == 1 || first {
				fmt.Fprintf(&sb, `<text class="g-year" x="%s" y="12">%d</text>`, f(x(d)+3), d.Year())
				first = false
			}
		}
	}
	for i, it := range items {
		y := head + rowH*float64(i)
		if i%2 == 1 {
			fmt.Fprintf(&sb, `<rect class="g-stripe" x="0" y="%s" width="%s" height="%s"/>`, f(y), f(width), f(rowH))
		}
		title := []rune(it.Title)
		if len(title) > 22 {
			title = append(title[:21], '…')
		}
		tip := fmt.Sprintf("%s · %s · %s %s → %s · %s", it.Title, it.UnitName, pageText(lang, "sv.field.due"), it.Start, it.Due, it.LightReason)
		if !it.BaselineDue.IsZero() && it.BaselineDue != it.Due {
			tip += " · " + pageText(lang, "sv.field.baseline_due") + " " + it.BaselineDue.String()
		}
		fmt.Fprintf(&sb, `<a href="/tasks/%d" class="g-row"><title>%s</title>`, it.ID, esc(tip))
		fmt.Fprintf(&sb, `<circle class="g-dot l-%s" cx="8" cy="%s" r="5"/><text class="g-label" x="18" y="%s">%s</text>`,
			esc(string(it.Light)), f(y+rowH/2), f(y+rowH/2+4), esc(string(title)))
		start := it.Start
		if start.IsZero() || start.Before(from) {
			start = from
		}
		if !it.BaselineDue.IsZero() && it.BaselineDue != it.Due && !it.BaselineDue.Before(start) {
			fmt.Fprintf(&sb, `<rect class="g-base" x="%s" y="%s" width="%s" height="4"/>`, f(x(start)), f(y+rowH-6), f(max(x(it.BaselineDue)-x(start), 1)))
		}
		if !it.Due.IsZero() && !it.Due.Before(start) {
			bw := max(x(it.Due.AddDays(1))-x(start), 2)
			fmt.Fprintf(&sb, `<rect class="g-bar l-%s" x="%s" y="%s" width="%s" height="12" rx="2"/>`, esc(string(it.Light)), f(x(start)), f(y+5), f(bw))
			if it.Progress > 0 {
				fmt.Fprintf(&sb, `<rect class="g-prog" x="%s" y="%s" width="%s" height="4"/>`, f(x(start)), f(y+9), f(bw*float64(min(it.Progress, 100))/100))
			}
		}
		for _, m := range it.Milestones {
			if m.Due.IsZero() {
				continue
			}
			cx, cy := x(m.Due)+chart/span/2, y+11
			cls := "g-ms"
			if !m.DoneOn.IsZero() {
				cls += " done"
			}
			fmt.Fprintf(&sb, `<polygon class="%s" points="%s,%s %s,%s %s,%s %s,%s"><title>%s %s</title></polygon>`, cls,
				f(cx), f(cy-6), f(cx+5), f(cy), f(cx), f(cy+6), f(cx-5), f(cy), esc(m.Name), m.Due)
		}
		sb.WriteString(`</a>`)
	}
	tx := f(x(b.Today) + chart/span/2)
	fmt.Fprintf(&sb, `<line class="g-today" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="g-today-label" x="%s" y="%s">%s</text>`,
		tx, f(head-8), tx, f(height), tx, f(head-1), esc(pageText(lang, "sv.board.today")))
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
