package metric

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

//go:embed openapi.json
var files embed.FS

// PermRead is what reading metrics needs: figures per unit, which anyone who
// may see the units may see.
const PermRead = auth.PermUnitsRead

// RegisterAPI adds GET /api/v1/metrics and GET /api/v1/metrics/{code} and
// their OpenAPI fragment to ws, and takes the server's time zone for Today.
func (r *Registry) RegisterAPI(ws *web.Server) error {
	if ws.Cfg.Location != nil {
		r.Loc = ws.Cfg.Location
	}
	if err := ws.OpenAPI.AddFragment(files, "openapi.json"); err != nil {
		return fmt.Errorf("metric: %w", err)
	}
	ws.Handle("GET /api/v1/metrics", PermRead, r.apiList)
	ws.Handle("GET /api/v1/metrics/{code}", PermRead, r.apiValues)
	return nil
}

func (r *Registry) apiList(w http.ResponseWriter, req *http.Request) error {
	ms := r.List()
	if f := strings.TrimSpace(req.URL.Query().Get("feature")); f != "" {
		kept := ms[:0]
		for _, m := range ms {
			if m.Feature() == f {
				kept = append(kept, m)
			}
		}
		ms = kept
	}
	return web.WriteList(w, ms, len(ms))
}

// PeriodView is a period as the API shows it.
type PeriodView struct {
	Key   string `json:"key"` // as ParsePeriod reads it: "2026-11"
	Kind  Kind   `json:"kind"`
	Label string `json:"label"`
	Start string `json:"start"`
	End   string `json:"end"`
	// Until is the last day counted: End, or today for a period not over.
	Until string `json:"until"`
	Over  bool   `json:"over"`
}

// View describes p for the API.
func (p Period) View() PeriodView {
	return PeriodView{Key: p.String(), Kind: p.Kind, Label: p.Label(), Start: p.Start.String(), End: p.End.String(),
		Until: p.Until().String(), Over: p.Over()}
}

// UnitValue is one unit's figure in GET /api/v1/metrics/{code}.
type UnitValue struct {
	UnitID   int64   `json:"unit_id"`
	UnitCode string  `json:"unit_code"`
	UnitName string  `json:"unit_name"`
	Value    float64 `json:"value"`
	Rank     int     `json:"rank"`
}

type valuesResponse struct {
	Metric Metric      `json:"metric"`
	Period PeriodView  `json:"period"`
	Items  []UnitValue `json:"items"`
	Total  int         `json:"total"`
}

// RequestPeriod reads ?period= (default: the current period of ?kind=,
// default month) for handlers that take one.
func (r *Registry) RequestPeriod(req *http.Request) (Period, error) {
	q := req.URL.Query()
	today := r.Today()
	if s := q.Get("period"); s != "" {
		p, err := ParsePeriod(s)
		if err != nil {
			return Period{}, &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_period", Field: "period",
				Message: fmt.Sprintf("period 须为 YYYY-MM-DD、YYYY-MM、YYYY-H1、YYYY-H2 或 YYYY，收到 %q / period must be YYYY-MM-DD, YYYY-MM, YYYY-H1, YYYY-H2 or YYYY, got %q", s, s)}
		}
		p.Today = today
		return p, nil
	}
	k := Month
	if s := q.Get("kind"); s != "" {
		k = Kind(s)
		if !k.Valid() {
			return Period{}, &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_kind", Field: "kind",
				Message: "kind 须为 day、month、half_year 或 year / kind must be day, month, half_year or year"}
		}
	}
	p, _ := PeriodOf(k, today)
	p.Today = today
	return p, nil
}

func (r *Registry) apiValues(w http.ResponseWriter, req *http.Request) error {
	code := req.PathValue("code")
	m, ok := r.Get(code)
	if !ok {
		return ErrUnknown(code)
	}
	p, err := r.RequestPeriod(req)
	if err != nil {
		return err
	}
	ctx := req.Context()
	v, err := r.compute(ctx, m, p)
	if err != nil {
		return err
	}
	names, err := unitNames(ctx, r, v)
	if err != nil {
		return err
	}
	ranked := Rank(m.Direction, v)
	items := make([]UnitValue, len(ranked))
	for i, x := range ranked {
		n := names[x.UnitID]
		items[i] = UnitValue{UnitID: x.UnitID, UnitCode: n[0], UnitName: n[1], Value: Round(x.Value, m.Precision), Rank: x.Rank}
	}
	return web.WriteJSON(w, http.StatusOK, valuesResponse{Metric: m, Period: p.View(), Items: items, Total: len(items)})
}

// unitNames reads the code and name of the units in v (every unit is cheap
// to read: an office has hundreds, not millions).
func unitNames(ctx context.Context, r *Registry, v Values) (map[int64][2]string, error) {
	out := make(map[int64][2]string, len(v))
	if len(v) == 0 {
		return out, nil
	}
	rows, err := r.DB.QueryContext(ctx, `SELECT id, code, name FROM units`)
	if err != nil {
		return nil, fmt.Errorf("metric: read unit names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code, name string
		if err := rows.Scan(&id, &code, &name); err != nil {
			return nil, fmt.Errorf("metric: read unit names: %w", err)
		}
		if _, ok := v[id]; ok {
			out[id] = [2]string{code, name}
		}
	}
	return out, rows.Err()
}
