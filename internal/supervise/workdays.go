package supervise

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

// Working-day years stored by an administrator override the embedded State
// Council data. They live in the database so every instance shares them.

// LoadYears installs the stored years into the calendar. Register calls it;
// call it again to pick up years another instance stored.
func (s *Service) LoadYears(ctx context.Context) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT year, data FROM workday_years ORDER BY year`)
	if err != nil {
		return fmt.Errorf("supervise: load workday years: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var year int
		var data string
		if err := rows.Scan(&year, &data); err != nil {
			return fmt.Errorf("supervise: scan workday year: %w", err)
		}
		y, err := workday.ParseYear(strings.NewReader(data))
		if err != nil {
			return fmt.Errorf("supervise: stored workday year %d: %w", year, err)
		}
		if err := s.Cal.SetYear(year, y); err != nil {
			return fmt.Errorf("supervise: stored workday year %d: %w", year, err)
		}
	}
	return rows.Err()
}

// StoreYear validates a year file (the holiday-cn JSON format), stores it
// and installs it in the calendar.
func (s *Service) StoreYear(ctx context.Context, actor audit.Entry, year int, r io.Reader) (workday.Year, error) {
	if year < workday.MinYear || year > workday.MaxYear {
		return workday.Year{}, invalid("year", fmt.Sprintf("年份须在 %d–%d 之间", workday.MinYear, workday.MaxYear),
			fmt.Sprintf("year must be %d–%d", workday.MinYear, workday.MaxYear))
	}
	y, err := workday.ParseYear(r)
	var ye *workday.YearError
	if errors.As(err, &ye) {
		field := ye.Field
		if field == "" {
			field = "body"
		}
		where := ye.Msg
		if ye.Field != "" {
			where = ye.Field + ": " + ye.Msg
		}
		return workday.Year{}, invalid(field, "假日数据有误："+where, "bad year data: "+where)
	}
	if err != nil {
		return workday.Year{}, err
	}
	if y.Year != year {
		return workday.Year{}, invalid("year", fmt.Sprintf("文件是 %d 年的数据，不是 %d 年", y.Year, year), fmt.Sprintf("the file is for %d, not %d", y.Year, year))
	}
	data, err := json.Marshal(y)
	if err != nil {
		return workday.Year{}, err
	}
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE workday_years SET data = ?, updated_by = ?, updated_at = ? WHERE year = ?`, string(data), actor.Actor, s.stamp(), year)
		if err != nil {
			return fmt.Errorf("supervise: store workday year: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO workday_years (year, data, updated_by, updated_at) VALUES (?, ?, ?, ?)`, year, string(data), actor.Actor, s.stamp()); err != nil {
				return fmt.Errorf("supervise: store workday year: %w", err)
			}
		}
		actor.Action, actor.Object, actor.Result = "workday.year.store", "workday:"+strconv.Itoa(year), audit.OK
		actor.Summary = fmt.Sprintf("%d days named, papers %v", len(y.Days), y.Papers)
		if err := s.Audit.WriteTx(ctx, tx, actor); err != nil {
			return err
		}
		// The calendar changes only once the year is safely stored.
		tx.AfterCommit(func() { _ = s.Cal.SetYear(year, y) })
		return nil
	})
	if err != nil {
		return workday.Year{}, err
	}
	s.staleLights()
	return y, nil
}

// ResetYear removes a stored year, going back to the embedded data or the
// Monday–Friday fallback.
func (s *Service) ResetYear(ctx context.Context, actor audit.Entry, year int) error {
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM workday_years WHERE year = ?`, year)
		if err != nil {
			return fmt.Errorf("supervise: reset workday year: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.NotFound("workday_year_not_stored", fmt.Sprintf("%d 年没有存储的数据 / no stored data for %d", year, year))
		}
		actor.Action, actor.Object, actor.Result = "workday.year.reset", "workday:"+strconv.Itoa(year), audit.OK
		if err := s.Audit.WriteTx(ctx, tx, actor); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.Cal.ResetYear(year) })
		return nil
	})
	if err != nil {
		return err
	}
	s.staleLights()
	return nil
}

// staleLights makes the next listing recompute lights (working-day counts
// changed). Rows lit today are recomputed on their next change or by the
// scheduler's RefreshLights after midnight.
func (s *Service) staleLights() {
	s.freshMu.Lock()
	s.freshOn = 0
	s.freshMu.Unlock()
}

// HTTP.

func queryDate(r *http.Request, name string) (workday.Date, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, invalid(name, name+" 不能为空（YYYY-MM-DD）", name+" is required (YYYY-MM-DD)")
	}
	d, err := workday.ParseDate(v)
	if err != nil {
		return 0, invalid(name, name+" 须为 YYYY-MM-DD 格式的日期", name+" must be a date YYYY-MM-DD")
	}
	return d, nil
}

type dateResponse struct {
	Date workday.Date `json:"date"`
}

// apiAdd: GET /api/v1/workdays/add?date=&days=
func (s *Service) apiWorkdaysAdd(w http.ResponseWriter, r *http.Request) error {
	d, err := queryDate(r, "date")
	if err != nil {
		return err
	}
	v := r.URL.Query().Get("days")
	n, err := strconv.Atoi(v)
	if v == "" || err != nil || n < -3660 || n > 3660 {
		return invalid("days", "days 须为 -3660 到 3660 之间的整数", "days must be an integer from -3660 to 3660")
	}
	return web.WriteJSON(w, http.StatusOK, dateResponse{Date: s.Cal.AddWorkdays(d, n)})
}

type betweenResponse struct {
	From     workday.Date `json:"from"`
	To       workday.Date `json:"to"`
	Workdays int          `json:"workdays"`
}

// apiBetween: GET /api/v1/workdays/between?from=&to=
func (s *Service) apiWorkdaysBetween(w http.ResponseWriter, r *http.Request) error {
	a, err := queryDate(r, "from")
	if err != nil {
		return err
	}
	b, err := queryDate(r, "to")
	if err != nil {
		return err
	}
	if b.Sub(a) > 36600 || a.Sub(b) > 36600 {
		return invalid("to", "日期相距过远", "dates are too far apart")
	}
	return web.WriteJSON(w, http.StatusOK, betweenResponse{From: a, To: b, Workdays: s.Cal.Between(a, b)})
}

type yearsResponse struct {
	Items []workday.YearStatus `json:"items"`
	Total int                  `json:"total"`
	// MissingNextYear is set from 1 December when next year's notice is
	// not loaded.
	MissingNextYear int `json:"missing_next_year,omitempty"`
}

func (s *Service) apiYears(w http.ResponseWriter, r *http.Request) error {
	ys := s.Cal.Years()
	resp := yearsResponse{Items: ys, Total: len(ys)}
	if y, missing := s.Cal.MissingNextYear(s.Today()); missing {
		resp.MissingNextYear = y
	}
	return web.WriteJSON(w, http.StatusOK, resp)
}

func pathYear(r *http.Request) (int, error) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil || y < 1 || y > 9999 {
		return 0, apperr.BadRequest("invalid_year", "路径中的年份无效 / the year in the path is invalid")
	}
	return y, nil
}

func (s *Service) apiYearCheck(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	rep, err := s.Cal.Check(y)
	if err != nil {
		return apperr.BadRequest("invalid_year", err.Error())
	}
	return web.WriteJSON(w, http.StatusOK, rep)
}

func (s *Service) apiYearStore(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	yd, err := s.StoreYear(r.Context(), web.Actor(r), y, bytes.NewReader(body))
	if err != nil {
		return err
	}
	rep, err := s.Cal.Check(yd.Year)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, rep)
}

func (s *Service) apiYearReset(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	if err := s.ResetYear(r.Context(), web.Actor(r), y); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
