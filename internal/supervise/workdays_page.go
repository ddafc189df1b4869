package supervise

import (
	"embed"
	"fmt"
	"net/http"
	"strconv"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
	"github.com/biaogan/biaogan/internal/workday"
)

//go:embed templates/workdays/*.html
var workdayPageFiles embed.FS

// maxYearFile bounds an uploaded holiday file (a real one is about 3 KB).
const maxYearFile = 1 << 20

// RegisterWorkdayPages adds the admin page where a year's holidays and
// adjusted working days are uploaded (the State Council's JSON format) or
// reset to the embedded data.
func (s *Service) RegisterWorkdayPages(ws *web.Server) error {
	if err := ws.Render.Add(workdayPageFiles, "templates/workdays/workday_years.html"); err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	ws.Messages.Add(map[string]string{
		"nav.workdays": "工作日历", "workdays.title": "工作日历（法定节假日与调休）",
		"workdays.intro": "内置 2015–2026 年国务院办公厅放假安排。新一年的安排发布后，在此上传该年的 JSON 文件（格式同内置数据：year、papers、days[name, date, isOffDay]）；上传的年份优先于内置数据。",
		"workdays.year":  "年份", "workdays.source": "来源", "workdays.workdays": "工作日", "workdays.adjusted": "调休上班日",
		"workdays.file": "JSON 文件", "workdays.upload": "上传", "workdays.reset": "恢复内置数据",
		"workdays.src.embedded": "内置", "workdays.src.stored": "管理员上传", "workdays.src.fallback": "无数据（按周一至周五）",
		"workdays.saved": "已保存 %d 年的工作日历",
	}, map[string]string{
		"nav.workdays": "Working days", "workdays.title": "Working-day calendar (public holidays and adjusted workdays)",
		"workdays.intro": "The State Council's holiday schedules for 2015–2026 are built in. When a new year's schedule is published, upload that year's JSON file here (same format as the built-in data: year, papers, days[name, date, isOffDay]); an uploaded year takes precedence over the built-in data.",
		"workdays.year":  "Year", "workdays.source": "Source", "workdays.workdays": "Working days", "workdays.adjusted": "Adjusted workdays",
		"workdays.file": "JSON file", "workdays.upload": "Upload", "workdays.reset": "Back to built-in data",
		"workdays.src.embedded": "built in", "workdays.src.stored": "uploaded by an admin", "workdays.src.fallback": "no data (Monday–Friday)",
		"workdays.saved": "Saved the calendar of %d",
	})
	ws.Nav(web.NavItem{Key: "nav.workdays", Path: "/workdays", Perm: auth.PermWorkdayAdmin, Order: 93})
	ws.Handle("GET /workdays", auth.PermWorkdayAdmin, s.getWorkdays)
	ws.Handle("POST /workdays", auth.PermWorkdayAdmin, s.postWorkdays)
	ws.Handle("POST /workdays/{year}/reset", auth.PermWorkdayAdmin, s.postWorkdayReset)
	return nil
}

type workdayRow struct {
	Year     int
	Source   string
	Workdays int
	Adjusted int
	Stored   bool
}

type workdaysData struct {
	Years []workdayRow
	Year  int
	Saved string
}

func (s *Service) workdaysPage(r *http.Request, status int, w http.ResponseWriter, errMsg string, d workdaysData) error {
	for _, ys := range s.Cal.Years() {
		rep, err := s.Cal.Check(ys.Year)
		if err != nil {
			return err
		}
		d.Years = append(d.Years, workdayRow{Year: ys.Year, Source: "workdays.src." + string(ys.Source), Workdays: rep.Workdays,
			Adjusted: len(rep.AdjustedWorkdays), Stored: ys.Source == workday.SourceStored})
	}
	p := s.ws().NewPage(r, "workdays.title", d)
	p.Error = errMsg
	return s.ws().HTMLPage(w, status, "workday_years.html", p)
}

func (s *Service) getWorkdays(w http.ResponseWriter, r *http.Request) error {
	d := workdaysData{Year: s.Today().Year() + 1}
	if y, err := strconv.Atoi(r.URL.Query().Get("saved")); err == nil {
		d.Saved = s.ws().Messages.T(web.Lang(r.Context()), "workdays.saved", y)
	}
	return s.workdaysPage(r, http.StatusOK, w, "", d)
}

func (s *Service) postWorkdays(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxYearFile+4096)
	fail := func(e *apperr.Error) error {
		year, _ := strconv.Atoi(r.FormValue("year"))
		return s.workdaysPage(r, e.Status, w, e.Message, workdaysData{Year: year})
	}
	if err := r.ParseMultipartForm(maxYearFile); err != nil {
		return fail(invalid("file", "文件须为不超过 1 MB 的 JSON", "the file must be JSON of at most 1 MB"))
	}
	year, err := strconv.Atoi(r.FormValue("year"))
	if err != nil {
		return fail(invalid("year", "请填写年份", "give the year"))
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		return fail(invalid("file", "请选择 JSON 文件", "choose a JSON file"))
	}
	defer f.Close()
	if _, err := s.StoreYear(r.Context(), web.Actor(r), year, f); err != nil {
		if e, ok := apperr.As(err); ok {
			return fail(e)
		}
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/workdays?saved=%d", year), http.StatusSeeOther)
	return nil
}

func (s *Service) postWorkdayReset(w http.ResponseWriter, r *http.Request) error {
	year, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return invalid("year", "年份无效", "bad year")
	}
	if err := s.ResetYear(r.Context(), web.Actor(r), year); err != nil {
		return err
	}
	http.Redirect(w, r, "/workdays", http.StatusSeeOther)
	return nil
}
