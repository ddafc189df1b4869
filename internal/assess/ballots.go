package assess

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/web"
)

// Paper ballots of the overall rating (service recipients and others who
// hold no account) are imported from a workbook by a supervisor. A ballot
// number n is stored as rater −n, apart from account ids.
var ballotCols = []sheet.Column{
	{Key: "group", Header: "评议组", Aliases: []string{"group"}, Required: true},
	{Key: "ballot", Header: "选票编号", Aliases: []string{"ballot"}, Required: true},
	{Key: "rater_unit", Header: "评分人单位代码", Aliases: []string{"rater_unit"}},
	{Key: "unit", Header: "被评单位代码", Aliases: []string{"unit"}, Required: true},
	{Key: "criterion", Header: "指标代码", Aliases: []string{"criterion"}, Required: true},
	{Key: "score", Header: "分数", Aliases: []string{"score"}, Required: true},
}

// ImportBallots reads the workbook and stores every ballot line, or none:
// each bad row is named with its column.
func (s *Service) ImportBallots(ctx context.Context, a Actor, year int, file []byte) (int, error) {
	if !a.Writer {
		return 0, forbidden("supervisor_only", "只有督查员可以导入评议选票", "only a supervisor imports ballots")
	}
	sc, err := s.Scheme(ctx, year)
	if err != nil {
		return 0, err
	}
	data, errs, err := sheet.Read(bytes.NewReader(file), ballotCols, sheet.Limits{MaxRows: 50000})
	if err != nil {
		return 0, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return 0, err
	}
	units, err := unitsOf(ctx, s.DB, st.Kinds)
	if err != nil {
		return 0, err
	}
	byCode := map[string]int64{}
	for _, u := range units {
		byCode[u.Code] = u.ID
	}
	groups := map[string]bool{}
	for _, g := range sc.RaterGroups {
		groups[g.Code] = true
	}
	type line struct {
		crit, unit, rater int64
		group             string
		score             float64
	}
	var lines []line
	col := func(k string) string { return data.Col(k, ballotCols) }
	for _, r := range data.Rows {
		c := r.Cells
		var l line
		if !groups[c["group"]] {
			errs = append(errs, sheet.Problem(r.Num, col("group"), "unknown_group", fmt.Sprintf("评议组 %q 不在方案中", c["group"]), fmt.Sprintf("rater group %q is not in the scheme", c["group"])))
		}
		l.group = c["group"]
		n, err := strconv.ParseInt(c["ballot"], 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, sheet.Problem(r.Num, col("ballot"), "invalid_ballot", "选票编号须为正整数", "the ballot number must be a positive integer"))
		}
		l.rater = -n
		var ok bool
		if l.unit, ok = byCode[c["unit"]]; !ok {
			errs = append(errs, sheet.Problem(r.Num, col("unit"), "unknown_unit", fmt.Sprintf("单位代码 %q 不在考评范围内", c["unit"]), fmt.Sprintf("unit code %q is not assessed", c["unit"])))
		}
		if c["rater_unit"] != "" && c["rater_unit"] == c["unit"] {
			errs = append(errs, sheet.Problem(r.Num, col("rater_unit"), "own_unit", "不能为本单位评分", "a rater cannot rate their own unit"))
		}
		if cr, found := sc.criterion(c["criterion"]); !found || cr.Method != MethodRating {
			errs = append(errs, sheet.Problem(r.Num, col("criterion"), "not_rating", fmt.Sprintf("%q 不是综合评比指标", c["criterion"]), fmt.Sprintf("%q is not a rating criterion", c["criterion"])))
		} else {
			l.crit = cr.ID
		}
		v, err := strconv.ParseFloat(sheet.NumText(c["score"]), 64)
		if err != nil || v < 0 || v > 100 {
			errs = append(errs, sheet.Problem(r.Num, col("score"), "invalid_score", fmt.Sprintf("分数须在 0–100 之间，收到 %q", c["score"]), fmt.Sprintf("score must be within 0–100, got %q", c["score"])))
		}
		l.score = v
		lines = append(lines, l)
	}
	if len(errs) > 0 {
		return 0, sheet.Invalid(data.Sort(errs))
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		if err := yearLocked(ctx, tx, year); err != nil {
			return err
		}
		now := s.stamp()
		for _, l := range lines {
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_ratings (criterion_id, group_code, rater_id, unit_id, score, created_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (criterion_id, rater_id, unit_id) DO UPDATE SET score = excluded.score, group_code = excluded.group_code, created_at = excluded.created_at`,
				l.crit, l.group, l.rater, l.unit, l.score, now); err != nil {
				return fmt.Errorf("assess: store ballot: %w", err)
			}
		}
		return s.Audit.WriteTx(ctx, tx, a.entry("assess.ballots.import", fmt.Sprintf("scheme:%d", year), fmt.Sprintf("%d ballot lines", len(lines))))
	})
	if err != nil {
		return 0, err
	}
	return len(lines), nil
}

// POST /api/v1/ratings/import?year=… (multipart: file)
func (s *Service) apiImportBallots(w http.ResponseWriter, r *http.Request) error {
	y, err := queryYear(r)
	if err != nil {
		return err
	}
	b, _, err := sheet.Upload(w, r, "file", 0)
	if err != nil {
		return err
	}
	n, err := s.ImportBallots(r.Context(), actor(r), y, b)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]int{"imported": n})
}

// GET /api/v1/ratings/template
func (s *Service) apiBallotTemplate(w http.ResponseWriter, r *http.Request) error {
	cols := make([]sheet.TemplateColumn, len(ballotCols))
	for i, c := range ballotCols {
		cols[i] = sheet.TemplateColumn{Header: c.Header, Width: 16, Text: c.Key != "score"}
	}
	return sheet.Send(w, "assess-ballots.xlsx", func(out io.Writer) error {
		return sheet.WriteTemplate(out, "选票", cols, []string{
			"每行一张选票对一个单位一个综合评比指标的评分（0–100）。",
			"评议组填方案中的代码（如 leaders、peers、recipients）；选票编号为正整数，同一编号视为同一评分人。",
			"评分人单位代码可空；与被评单位相同则拒绝（不得为本单位评分）。任一行有误则整表不导入。",
		})
	})
}
