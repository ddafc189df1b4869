package assess

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/web"
)

// The year's working page: declarations, spot checks, bonuses and
// deductions, ballots.

func (s *Service) yearRoutes() []route {
	return []route{
		{"GET /assess/year/{year}", auth.PermAssessRead, s.getYear},
		{"POST /assess/year/{year}/declarations", auth.PermAssessReport, s.postDeclare},
		{"POST /assess/declarations/{id}/review", auth.PermAssessWrite, s.postReviewDeclaration},
		{"POST /assess/year/{year}/spot-checks", auth.PermAssessWrite, s.postDraw},
		{"POST /assess/spot-items/{id}", auth.PermAssessWrite, s.postCheckItem},
		{"POST /assess/year/{year}/adjustments", auth.PermAssessWrite, s.postAdjustment},
		{"POST /assess/year/{year}/ballots", auth.PermAssessWrite, s.postBallots},
	}
}

type yearData struct {
	Year        int
	Scheme      *Scheme
	DeclCrit    []Criterion
	Decls       []Declaration
	Spots       []SpotItem
	Adjustments []Adjustment
	Units       []Unit
	Writer      bool
	CanDeclare  bool
	Categories  []string
	Error       string
}

func (s *Service) getYear(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	return s.yearPage(w, r, y, http.StatusOK, "")
}

func (s *Service) yearPage(w http.ResponseWriter, r *http.Request, y, status int, errText string) error {
	ctx := r.Context()
	a := actor(r)
	sc, err := s.Scheme(ctx, y)
	if err != nil {
		return err
	}
	d := yearData{Year: y, Scheme: sc, Writer: a.Writer, CanDeclare: a.Reporter && a.UnitID != 0 && !s.Today().After(sc.DeclarationDeadline), Error: errText,
		Categories: []string{"commendation", "advanced_collective", "advanced_individual", "province_first", "accountability", "other_bonus", "other_deduction"}}
	for _, c := range sc.Leaves() {
		if c.Method == MethodDeclaration {
			d.DeclCrit = append(d.DeclCrit, c)
		}
	}
	uid := int64(0)
	if !a.Writer && !a.Leader {
		uid = a.UnitID
	}
	if a.Writer || a.Leader || uid != 0 {
		if d.Decls, err = s.Declarations(ctx, y, uid); err != nil {
			return err
		}
	}
	if a.Writer {
		if d.Spots, err = s.SpotItems(ctx, y); err != nil {
			return err
		}
		if d.Units, err = s.Units(ctx); err != nil {
			return err
		}
	}
	if d.Adjustments, err = s.Adjustments(ctx, y, 0); err != nil {
		return err
	}
	return s.html(w, r, status, "assess_year.html", "assess.year.title", d)
}

// formError re-renders the year page with the error of a form, or passes
// an unexpected error on.
func (s *Service) formError(w http.ResponseWriter, r *http.Request, y int, err error) error {
	if e, ok := asClient(err); ok {
		msg := localize(r, e.Message)
		if t, ok := sheet.ErrorText(web.Lang(r.Context()), err); ok {
			msg = t
		}
		if rows, ok := e.Details.([]sheet.RowError); ok {
			var b strings.Builder
			b.WriteString(msg)
			for i, re := range rows {
				if i == 20 {
					b.WriteString(" …")
					break
				}
				b.WriteString("；" + re.Text(web.Lang(r.Context())))
			}
			msg = b.String()
		}
		return s.yearPage(w, r, y, e.Status, msg)
	}
	return err
}

func (s *Service) postDeclare(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	v, perr := strconv.ParseFloat(strings.TrimSpace(r.FormValue("claimed")), 64)
	if perr != nil {
		return s.formError(w, r, y, invalid("claimed", "申报分须为数字", "claimed must be a number"))
	}
	if _, err := s.Declare(r.Context(), actor(r), y, r.FormValue("criterion"), v, r.FormValue("evidence")); err != nil {
		return s.formError(w, r, y, err)
	}
	return redirect(w, r, fmt.Sprintf("/assess/year/%d", y), "flash.assess_saved")
}

func (s *Service) postReviewDeclaration(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	year, _, err := schemeYearOf(r.Context(), s.DB, id)
	if err != nil {
		return err
	}
	var score *float64
	if v := strings.TrimSpace(r.FormValue("score")); v != "" {
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil {
			return s.formError(w, r, year, invalid("score", "核定分须为数字", "score must be a number"))
		}
		score = &f
	}
	if _, err := s.ReviewDeclaration(r.Context(), actor(r), id, score, r.FormValue("note")); err != nil {
		return s.formError(w, r, year, err)
	}
	return redirect(w, r, fmt.Sprintf("/assess/year/%d", year), "flash.assess_saved")
}

func (s *Service) postDraw(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	rate, perr := strconv.ParseFloat(strings.TrimSpace(r.FormValue("rate")), 64)
	if perr != nil {
		return s.formError(w, r, y, invalid("rate", "抽查比例须为 0–1 的数字", "rate must be a number within 0–1"))
	}
	var seed int64
	if v := strings.TrimSpace(r.FormValue("seed")); v != "" {
		if seed, perr = strconv.ParseInt(v, 10, 64); perr != nil {
			return s.formError(w, r, y, invalid("seed", "随机种子须为整数", "seed must be an integer"))
		}
	}
	if _, err := s.DrawSpotCheck(r.Context(), actor(r), y, rate, seed); err != nil {
		return s.formError(w, r, y, err)
	}
	return redirect(w, r, fmt.Sprintf("/assess/year/%d", y), "flash.assess_saved")
}

func (s *Service) postCheckItem(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	it, err := s.CheckItem(r.Context(), actor(r), id, r.FormValue("result"), r.FormValue("note"))
	if err != nil {
		return err
	}
	sc, err := s.SpotCheck(r.Context(), it.CheckID)
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/assess/year/%d", sc.Year), "flash.assess_saved")
}

func (s *Service) postAdjustment(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	in := AdjustmentInput{Year: y, Category: r.FormValue("category"), Reason: r.FormValue("reason")}
	var perr error
	if in.Points, perr = strconv.ParseFloat(strings.TrimSpace(r.FormValue("points")), 64); perr != nil {
		return s.formError(w, r, y, invalid("points", "分值须为数字", "points must be a number"))
	}
	if v := strings.TrimSpace(r.FormValue("person_id")); v != "" {
		if in.PersonID, perr = strconv.ParseInt(v, 10, 64); perr != nil {
			return s.formError(w, r, y, invalid("person_id", "人员编号须为整数", "person_id must be an integer"))
		}
	} else if v := r.FormValue("unit_id"); v != "" {
		if in.UnitID, perr = strconv.ParseInt(v, 10, 64); perr != nil {
			return s.formError(w, r, y, invalid("unit_id", "请选择单位", "choose a unit"))
		}
	}
	if _, err := s.AddAdjustment(r.Context(), actor(r), in); err != nil {
		return s.formError(w, r, y, err)
	}
	return redirect(w, r, fmt.Sprintf("/assess/year/%d", y), "flash.assess_saved")
}

func (s *Service) postBallots(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	b, _, err := sheet.Upload(w, r, "file", 0)
	if err != nil {
		return s.formError(w, r, y, err)
	}
	if _, err := s.ImportBallots(r.Context(), actor(r), y, b); err != nil {
		return s.formError(w, r, y, err)
	}
	return redirect(w, r, fmt.Sprintf("/assess/year/%d", y), "flash.assess_saved")
}
