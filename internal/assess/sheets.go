package assess

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/sheet"
	"github.com/biaogan/biaogan/internal/web"
)

// Exports are the tables that can be downloaded as xlsx.
var Exports = []string{"showcase", "exhibition", "evaluation", "daily", "declarations", "spot-items", "ratings", "adjustments", "objections"}

func tr(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// GET /api/v1/assess/exports/{table}?period=…|year=…
func (s *Service) apiExport(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := withTimeout(r.Context())
	defer cancel()
	table := r.PathValue("table")
	l := web.Lang(r.Context())
	a := actor(r)
	q := r.URL.Query()
	wb, err := sheet.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	name := table
	switch table {
	case "showcase":
		sc, err := s.ShowcaseOf(ctx, q.Get("period"), live(r))
		if err != nil {
			return err
		}
		name += "-" + sc.Period
		headers := []string{tr(l, "名次", "Rank"), tr(l, "变化", "Movement"), tr(l, "单位", "Unit"), tr(l, "得分", "Score"), tr(l, "红黑榜", "List")}
		for _, f := range sc.Figures {
			headers = append(headers, f.FigureName(l))
		}
		sh, err := wb.Sheet(sc.Period, headers, []float64{8, 8, 30, 10, 10})
		if err != nil {
			return err
		}
		for _, it := range sc.Items {
			row := []any{it.Rank, it.MovementText(), it.UnitName, it.Score, listName(l, it.List)}
			for _, f := range sc.Figures {
				if v, ok := it.Values[f.Code]; ok {
					row = append(row, v)
				} else {
					row = append(row, "")
				}
			}
			if err := sh.Row(row...); err != nil {
				return err
			}
		}
	case "exhibition":
		ex, err := s.ExhibitionOf(ctx, q.Get("period"), live(r))
		if err != nil {
			return err
		}
		name += "-" + ex.Period
		sh, err := wb.Sheet(ex.Period, []string{tr(l, "单位", "Unit"), tr(l, "月份", "Month"), tr(l, "到期任务", "Due"), tr(l, "办结任务", "Completed")}, []float64{30, 10, 10, 10})
		if err != nil {
			return err
		}
		for _, u := range ex.Units {
			for _, m := range u.Months {
				if err := sh.Row(u.UnitName, m.Month, m.Due, m.Completed); err != nil {
					return err
				}
			}
		}
		sh2, err := wb.Sheet(tr(l, "工作成果", "Achievements"), []string{tr(l, "单位", "Unit"), tr(l, "标题", "Title"), tr(l, "内容", "Text")}, []float64{30, 40, 80})
		if err != nil {
			return err
		}
		for _, u := range ex.Units {
			for _, ac := range u.Achievements {
				if err := sh2.Row(u.UnitName, ac.Title, ac.Text); err != nil {
					return err
				}
			}
		}
	case "evaluation":
		y, err := queryYear(r)
		if err != nil {
			return err
		}
		ev, err := s.EvaluationOf(ctx, y, live(r))
		if err != nil {
			return err
		}
		name += "-" + strconv.Itoa(y)
		sh, err := wb.Sheet(strconv.Itoa(y), []string{tr(l, "名次", "Rank"), tr(l, "单位", "Unit"), tr(l, "基础分", "Base"), tr(l, "加分", "Bonus"), tr(l, "扣分", "Deduction"),
			tr(l, "总分", "Score"), tr(l, "等次", "Grade")}, []float64{8, 30, 10, 10, 10, 10, 10})
		if err != nil {
			return err
		}
		for _, it := range ev.Items {
			if err := sh.Row(it.Rank, it.UnitName, it.Base, it.Bonus, it.Deduction, it.Score, gradeName(l, it.Grade)); err != nil {
				return err
			}
		}
		sh2, err := wb.Sheet(tr(l, "得分明细", "Trace"), []string{tr(l, "单位", "Unit"), tr(l, "指标", "Criterion"), tr(l, "方法", "Method"), tr(l, "权重", "Weight"), tr(l, "得分", "Points"), tr(l, "依据", "Inputs")}, []float64{30, 14, 12, 8, 8, 80})
		if err != nil {
			return err
		}
		for _, it := range ev.Items {
			for _, t := range it.Trace {
				if err := sh2.Row(it.UnitName, t.Criterion, t.Method, t.Weight, t.Points, strings.Join(t.Inputs, "；")); err != nil {
					return err
				}
			}
		}
	case "daily":
		from, err := queryDate(r, "from")
		if err != nil {
			return err
		}
		to, err := queryDate(r, "to")
		if err != nil {
			return err
		}
		uid, err := queryID(r, "unit_id")
		if err != nil {
			return err
		}
		rs, err := s.ListDaily(ctx, DailyFilter{UnitID: uid, From: from, To: to, Limit: 1000})
		if err != nil {
			return err
		}
		sh, err := wb.Sheet(tr(l, "每日报", "Daily reports"), []string{tr(l, "日期", "Day"), tr(l, "单位", "Unit"), tr(l, "今日完成", "Done"), tr(l, "任务推进", "Tasks moved"),
			tr(l, "问题", "Problems"), tr(l, "明日计划", "Tomorrow"), tr(l, "按时", "On time"), tr(l, "报送人", "Filed by")}, []float64{12, 24, 40, 40, 30, 30, 8, 12})
		if err != nil {
			return err
		}
		for _, d := range rs {
			if err := sh.Row(d.Day.String(), d.UnitName, d.Done, d.Moved, d.Problems, d.Tomorrow, d.OnTime, d.FiledByName); err != nil {
				return err
			}
		}
	case "declarations":
		y, err := queryYear(r)
		if err != nil {
			return err
		}
		uid := int64(0)
		if !a.Writer && !a.Leader {
			if uid = a.UnitID; uid == 0 {
				return forbidden("not_own_unit", "只能导出本单位的申报", "you can export your own unit's declarations only")
			}
		}
		ds, err := s.Declarations(ctx, y, uid)
		if err != nil {
			return err
		}
		sh, err := wb.Sheet(tr(l, "自主申报", "Declarations"), []string{"ID", tr(l, "指标", "Criterion"), tr(l, "单位", "Unit"), tr(l, "申报分", "Claimed"), tr(l, "核定分", "Score"),
			tr(l, "状态", "State"), tr(l, "佐证", "Evidence")}, []float64{8, 12, 30, 10, 10, 10, 60})
		if err != nil {
			return err
		}
		for _, d := range ds {
			var sc any = ""
			if d.Score != nil {
				sc = *d.Score
			}
			if err := sh.Row(d.ID, d.Criterion, d.UnitName, d.Claimed, sc, d.State, d.Evidence); err != nil {
				return err
			}
		}
	case "spot-items", "ratings":
		if !a.Writer {
			return forbidden("supervisor_only", "只有督查员可以导出抽查与评分明细", "only a supervisor exports spot checks and ratings")
		}
		y, err := queryYear(r)
		if err != nil {
			return err
		}
		if table == "ratings" {
			rs, err := s.Ratings(ctx, y)
			if err != nil {
				return err
			}
			sh, err := wb.Sheet(tr(l, "评分", "Ratings"), []string{"ID", tr(l, "指标", "Criterion"), tr(l, "评议组", "Group"), tr(l, "评分人", "Rater"), tr(l, "被评单位", "Unit"), tr(l, "分数", "Score")}, nil)
			if err != nil {
				return err
			}
			for _, x := range rs {
				if err := sh.Row(x.ID, x.CriterionID, x.Group, x.RaterID, x.UnitID, x.Score); err != nil {
					return err
				}
			}
		} else {
			items, err := s.SpotItems(ctx, y)
			if err != nil {
				return err
			}
			sh, err := wb.Sheet(tr(l, "抽查", "Spot checks"), []string{"ID", tr(l, "批次", "Draw"), tr(l, "单位", "Unit"), tr(l, "类型", "Kind"), tr(l, "对象", "Item"), tr(l, "结果", "Result"), tr(l, "说明", "Note")}, []float64{8, 8, 30, 12, 10, 10, 40})
			if err != nil {
				return err
			}
			for _, x := range items {
				if err := sh.Row(x.ID, x.CheckID, x.UnitName, x.Kind, x.RefID, x.Result, x.Note); err != nil {
					return err
				}
			}
		}
	case "adjustments":
		y, err := queryYear(r)
		if err != nil {
			return err
		}
		as, err := s.Adjustments(ctx, y, 0)
		if err != nil {
			return err
		}
		sh, err := wb.Sheet(tr(l, "加减分", "Bonuses and deductions"), []string{"ID", tr(l, "单位", "Unit"), tr(l, "个人", "Person"), tr(l, "类别", "Category"), tr(l, "分值", "Points"), tr(l, "事由", "Reason")}, []float64{8, 30, 12, 20, 8, 60})
		if err != nil {
			return err
		}
		for _, x := range as {
			pts := x.Points
			if x.Kind == KindDeduction {
				pts = -pts
			}
			if err := sh.Row(x.ID, x.UnitName, x.PersonName, x.Category, pts, x.Reason); err != nil {
				return err
			}
		}
	case "objections":
		os, err := s.Objections(ctx, q.Get("period"))
		if err != nil {
			return err
		}
		sh, err := wb.Sheet(tr(l, "异议", "Objections"), []string{"ID", tr(l, "期间", "Period"), tr(l, "单位", "Unit"), tr(l, "内容", "Text"), tr(l, "状态", "State"), tr(l, "答复", "Answer")}, []float64{8, 10, 30, 60, 10, 60})
		if err != nil {
			return err
		}
		for _, o := range os {
			if err := sh.Row(o.ID, o.Period, o.UnitName, o.Text, o.State, o.Answer); err != nil {
				return err
			}
		}
	default:
		return errNotFound("export_not_found", fmt.Sprintf("没有名为 %q 的导出", table), fmt.Sprintf("no export named %q", table))
	}
	return sheet.Send(w, "assess-"+name+".xlsx", func(out io.Writer) error {
		_, err := wb.WriteTo(out)
		return err
	})
}

func listName(lang, l string) string {
	switch l {
	case ListHonour:
		return tr(lang, "红榜", "Honour roll")
	case ListWatch:
		return tr(lang, "黑榜", "Watch list")
	}
	return ""
}

func gradeName(lang, g string) string {
	switch g {
	case GradeExcellent:
		return tr(lang, "优秀", "Excellent")
	case GradeGood:
		return tr(lang, "良好", "Good")
	case GradeFair:
		return tr(lang, "一般", "Fair")
	case GradePoor:
		return tr(lang, "较差", "Poor")
	}
	return g
}
