package benchmark

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/biaogan/biaogan/internal/db"
	"github.com/biaogan/biaogan/internal/workday"
)

// The demo office's benchmarking: five peers, forty quarterly indicators
// over the last eight quarters with every stage represented, ten targets
// whose paths are on the battle map, and the year's learning visits.

type demoPeer struct {
	Name, Region string
	Kind         PeerKind
	Unit         string // internal peers: the unit's code
	Pop, Staff   int64
	Learn        string
	// Level is how good the peer is, relative to the indicator's base.
	Level float64
}

var demoPeers = []demoPeer{
	{"苏州市人民政府办公室", "江苏省苏州市", PeerOutOfProvince, "", 1291, 210, "“3+1”督查工作法、政务信息“精品工程”、数字政府一网统管", 1.08},
	{"青岛市人民政府办公厅", "山东省青岛市", PeerInProvince, "", 1037, 230, "“挂图作战”工作机制、12345 热线“接诉即办”、文稿质量管控", 1.03},
	{"深圳市人民政府办公厅", "广东省深圳市", PeerOutOfProvince, "", 1779, 260, "政务服务“秒批”、公文流转全程电子化", 1.06},
	{"烟台市人民政府办公室", "山东省烟台市", PeerInProvince, "", 705, 160, "基层减负“清单化”管理、会议文件精简", 0.98},
	{"督查科（内部标杆）", "本办", PeerInternal, "S05", 0, 12, "督办事项闭环管理、按期办结", 1.0},
}

type demoIndicator struct {
	Code, Name, Unit, Category string
	Dir                        Direction
	Base                       float64
	Source                     string
	Stage                      Stage // the story the values tell
	Owner                      string
}

const (
	catImage   = "形象建设"
	catSpeed   = "效率提升"
	catRules   = "程序规范"
	catConduct = "作风严实"
)

var demoIndicators = []demoIndicator{
	{"XX01", "政务信息采用率", "%", catImage, HigherBetter, 82, "", StageCompare, "S06"},
	{"XX02", "政府网站绩效评估得分", "分", catImage, HigherBetter, 86, "", StageAttain, "S16"},
	{"XX03", "政务新媒体影响力指数", "分", catImage, HigherBetter, 70, "", StageCompare, "S14"},
	{"XX04", "群众满意度", "%", catImage, HigherBetter, 85, "", StageLead, "S04"},
	{"XX05", "主流媒体正面报道", "篇", catImage, HigherBetter, 40, "", StageSeek, "S19"},
	{"XX06", "政务信息被国办采用", "篇", catImage, HigherBetter, 12, "", StageCompare, "S06"},
	{"XX07", "文稿质量评价得分", "分", catImage, HigherBetter, 88, "", StageAttain, "S01"},
	{"XX08", "接待服务满意度", "%", catImage, HigherBetter, 88, "", StageLead, "A06"},
	{"XX09", "对外宣传稿件", "篇", catImage, HigherBetter, 30, "", StageSeek, "S19"},
	{"XX10", "政务公开第三方评估得分", "分", catImage, HigherBetter, 80, "", StageCompare, "S14"},
	{"XL01", "公文平均流转时长", "天", catSpeed, LowerBetter, 3.2, "", StageCompare, "S07"},
	{"XL02", "会议材料按时报送率", "%", catSpeed, HigherBetter, 86, "", StageAttain, "S13"},
	{"XL03", "督办事项按期办结率", "%", catSpeed, HigherBetter, 85, "supervise.on_time_rate", StageCompare, "S05"},
	{"XL04", "12345 工单按时办结率", "%", catSpeed, HigherBetter, 87, "", StageCompare, "A05"},
	{"XL05", "政务服务事项网办率", "%", catSpeed, HigherBetter, 80, "", StageLead, "A04"},
	{"XL06", "建议提案按期办复率", "%", catSpeed, HigherBetter, 88, "", StageAttain, "S17"},
	{"XL07", "领导批示件平均办理时长", "天", catSpeed, LowerBetter, 9, "", StageCompare, "S05"},
	{"XL08", "进展报送及时率", "%", catSpeed, HigherBetter, 84, "supervise.report_punctuality", StageCompare, "S05"},
	{"XL09", "行政审批平均时限", "个工作日", catSpeed, LowerBetter, 6, "", StageAttain, "A04"},
	{"XL10", "信息化系统可用率", "%", catSpeed, HigherBetter, 88, "", StageSeek, "A02"},
	{"GF01", "公文差错率", "‰", catRules, LowerBetter, 2.5, "", StageCompare, "S07"},
	{"GF02", "规范性文件合法性审核率", "%", catRules, HigherBetter, 86, "", StageLead, "S09"},
	{"GF03", "会议纪要按时印发率", "%", catRules, HigherBetter, 85, "", StageAttain, "S13"},
	{"GF04", "档案归档及时率", "%", catRules, HigherBetter, 84, "", StageCompare, "S07"},
	{"GF05", "政府采购合规率", "%", catRules, HigherBetter, 88, "", StageSeek, "S10"},
	{"GF06", "保密检查发现问题数", "个", catRules, LowerBetter, 6, "", StageCompare, "S08"},
	{"GF07", "公文退文率", "%", catRules, LowerBetter, 4, "", StageAttain, "S07"},
	{"GF08", "依申请公开按期答复率", "%", catRules, HigherBetter, 87, "", StageCompare, "S14"},
	{"GF09", "内控制度覆盖率", "%", catRules, HigherBetter, 82, "", StageLead, "S10"},
	{"GF10", "审计问题整改率", "%", catRules, HigherBetter, 85, "", StageCompare, "S10"},
	{"ZF01", "会议精简率", "%", catConduct, HigherBetter, 20, "", StageCompare, "S13"},
	{"ZF02", "文件精简率", "%", catConduct, HigherBetter, 18, "", StageAttain, "S07"},
	{"ZF03", "督查检查考核事项压减率", "%", catConduct, HigherBetter, 25, "", StageCompare, "S05"},
	{"ZF04", "基层减负满意度", "%", catConduct, HigherBetter, 84, "", StageLead, "S04"},
	{"ZF05", "作风投诉件数", "件", catConduct, LowerBetter, 8, "", StageCompare, "S20"},
	{"ZF06", "学习培训参训率", "%", catConduct, HigherBetter, 86, "", StageAttain, "S11"},
	{"ZF07", "廉政谈话覆盖率", "%", catConduct, HigherBetter, 85, "", StageSeek, "S20"},
	{"ZF08", "驻点调研天数", "天", catConduct, HigherBetter, 10, "", StageCompare, "S19"},
	{"ZF09", "问题线索办结率", "%", catConduct, HigherBetter, 83, "", StageSeek, "S20"},
	{"ZF10", "机关作风第三方评议得分", "分", catConduct, HigherBetter, 84, "", StageCompare, "S20"},
}

// demoQuarters is how many past quarters the demo fills.
const demoQuarters = 8

// ourLevel is our level in quarter q (0 = oldest) for a stage story: we
// climb towards the peers and, for attain and lead, pass them at the end.
func ourLevel(st Stage, q int) float64 {
	last := demoQuarters - 1
	switch st {
	case StageLead:
		if q >= last-1 {
			return 1.11 + 0.01*float64(q-last+1)
		}
		return 0.94 + 0.02*float64(q)
	case StageAttain:
		if q == last {
			return 1.055
		}
		return 0.92 + 0.012*float64(q)
	}
	return 0.88 + 0.008*float64(q)
}

// wobble is a small deterministic variation by indicator, subject and
// quarter (±1 %).
func wobble(i, s, q int) float64 {
	x := math.Sin(float64(i*131+s*17+q*7)) * 0.01
	return 1 + x
}

func demoValue(ind demoIndicator, level float64) float64 {
	v := ind.Base * level
	if ind.Dir == LowerBetter {
		v = ind.Base / level
	}
	if ind.Unit == "%" && v > 99.9 {
		v = 99.9
	}
	return math.Round(v*10) / 10
}

// LoadDemo adds the demo benchmarking to a database holding the demo
// office and campaign.
func LoadDemo(ctx context.Context, s *Service, now time.Time) error {
	a := Actor{Username: "demo"}
	units, err := unitsByCodeOrName(ctx, s.DB)
	if err != nil {
		return err
	}
	unit := func(code string) (int64, error) {
		id, ok := units[code]
		if !ok {
			return 0, fmt.Errorf("benchmark demo: unit %s missing", code)
		}
		return id, nil
	}
	peerIDs := make([]int64, len(demoPeers))
	for i, p := range demoPeers {
		in := NewPeer{Name: p.Name, Kind: p.Kind, Region: p.Region, Learn: p.Learn, Contacts: "办公室综合处 联络员"}
		if p.Pop > 0 {
			pop := p.Pop
			in.Population = &pop
		}
		staff := p.Staff
		in.Staff = &staff
		if p.Unit != "" {
			id, err := unit(p.Unit)
			if err != nil {
				return err
			}
			in.UnitID = &id
		}
		pe, err := s.CreatePeer(ctx, a, in)
		if err != nil {
			return fmt.Errorf("benchmark demo: peer %s: %w", p.Name, err)
		}
		peerIDs[i] = pe.ID
	}
	suzhou, qingdao := peerIDs[0], peerIDs[1]
	inds := make([]*Indicator, len(demoIndicators))
	for i, d := range demoIndicators {
		owner, err := unit(d.Owner)
		if err != nil {
			return err
		}
		in := NewIndicator{Code: d.Code, Name: d.Name, Unit: d.Unit, Direction: d.Dir, Category: d.Category, Frequency: Quarterly, Source: d.Source,
			OwnerUnitID: &owner, PeerID: &qingdao,
			Definition: fmt.Sprintf("%s：按季度统计，%s。", d.Name, map[Direction]string{HigherBetter: "数值越高越好", LowerBetter: "数值越低越好"}[d.Dir]),
			Formula:    map[bool]string{true: "分子 ÷ 分母 × 100%", false: "按期统计"}[d.Unit == "%"]}
		if d.Source == "" {
			in.Source = SourceManual
		}
		if i%7 == 3 {
			w := 2.0
			in.Weight = &w
		}
		if in.Source != SourceManual && s.Metrics == nil {
			in.Source = SourceManual
		}
		if inds[i], err = s.CreateIndicator(ctx, a, in); err != nil {
			return fmt.Errorf("benchmark demo: indicator %s: %w", d.Code, err)
		}
	}
	today := workday.FromTime(now, s.Loc)
	quarters := LastPeriods(Quarterly, PrevPeriod(Quarterly, PeriodOf(Quarterly, today)), demoQuarters)
	districts := []string{"D01", "D02", "D03", "D04", "D05"}
	// Two batches, so the stage history shows the way up.
	for _, batch := range [][2]int{{0, demoQuarters - 2}, {demoQuarters - 2, demoQuarters}} {
		var obs []NewObservation
		for i, d := range demoIndicators {
			ind := inds[i]
			for q := batch[0]; q < batch[1]; q++ {
				p := quarters[q]
				if ind.Source == SourceManual {
					obs = append(obs, NewObservation{IndicatorID: ind.ID, Subject: Us, Period: p, Value: demoValue(d, ourLevel(d.Stage, q)*wobble(i, 0, q)), Note: "年度统计报表"})
				}
				if d.Stage == StageSeek {
					continue
				}
				for k, pe := range demoPeers {
					lvl := pe.Level * (1 + 0.004*float64(q)) * wobble(i, k+1, q)
					if d.Stage == StageLead || (d.Stage == StageAttain && q == demoQuarters-1) {
						lvl = pe.Level * wobble(i, k+1, q)
					}
					obs = append(obs, NewObservation{IndicatorID: ind.ID, Subject: Subject{Kind: SubjectPeer, ID: peerIDs[k]}, Period: p, Value: demoValue(d, lvl), Note: "公开数据、实地调研"})
				}
				if d.Category == catSpeed && ind.Source == SourceManual && q >= demoQuarters-2 {
					for k, code := range districts {
						id, err := unit(code)
						if err != nil {
							return err
						}
						obs = append(obs, NewObservation{IndicatorID: ind.ID, Subject: Subject{Kind: SubjectUnit, ID: id}, Period: p, Value: demoValue(d, (0.9+0.04*float64(k))*wobble(i, 10+k, q))})
					}
				}
			}
		}
		if err := s.DB.InTx(ctx, func(tx *db.Tx) error { return s.saveObservations(ctx, tx, a, obs, "observation.import") }); err != nil {
			return fmt.Errorf("benchmark demo: observations: %w", err)
		}
	}
	if s.Metrics != nil {
		if err := s.DB.InTx(ctx, func(tx *db.Tx) error { _, err := s.RefreshPass(ctx, tx); return err }); err != nil {
			return fmt.Errorf("benchmark demo: metric values: %w", err)
		}
	}
	// Ten targets on indicators still behind, each path three steps.
	n := 0
	for i, d := range demoIndicators {
		if n == 10 {
			break
		}
		if d.Stage != StageCompare || d.Source != "" {
			continue
		}
		ind, err := s.Indicator(ctx, inds[i].ID)
		if err != nil {
			return err
		}
		if ind.LatestValue == nil {
			continue
		}
		owner, _ := unit(d.Owner)
		sup, _ := unit("S05")
		peer, peerName := qingdao, "青岛"
		if n%3 == 2 {
			peer, peerName = suzhou, "苏州"
		}
		target := demoValue(d, 1.04)
		due := today.AddDays(180 + 10*n)
		in := NewTarget{IndicatorID: ind.ID, TargetValue: &target, Due: due, PeerID: &peer,
			Note: fmt.Sprintf("对照%s经验，%s力争达到 %v%s。", peerName, d.Name, target, d.Unit),
			Path: []StepInput{
				{Title: fmt.Sprintf("学习%s做法，制定%s提升方案", peerName, d.Name), Due: today.AddDays(30 + n), LeadUnitID: owner},
				{Title: fmt.Sprintf("完善%s工作机制并试运行", d.Name), Due: today.AddDays(100 + 5*n), LeadUnitID: owner},
				{Title: fmt.Sprintf("督查%s提升措施落实情况", d.Name), Due: due.AddDays(-10), LeadUnitID: sup},
			}}
		if _, err := s.CreateTarget(ctx, a, in); err != nil {
			return fmt.Errorf("benchmark demo: target for %s: %w", d.Code, err)
		}
		n++
	}
	// The year's learning visits.
	y := today.Year()
	if today.Month() < time.October {
		y--
	}
	acts := []NewActivity{
		{PeerID: &suzhou, Kind: ActivityVisit, Title: "赴苏州市政府办公室考察学习督查督办和政务信息工作", HeldOn: workday.DateOf(y, time.July, 16),
			People:   "办公室副主任带队，督查科、政务信息科、综合科 6 人",
			Findings: "一是督查事项“立项—交办—督办—反馈—销号”全流程闭环；二是政务信息实行“精品工程”，专人约稿、集体会审；三是一网统管平台实时汇聚办件数据。",
			Report:   "赴苏州市人民政府办公室学习考察报告\n\n一、基本情况……\n二、主要做法：督查闭环管理、信息精品工程、数字化支撑。\n三、差距分析：我办政务信息采用率低于苏州约 8 个百分点，督办事项按期办结率低约 5 个百分点。\n四、借鉴举措：建立督办事项周调度，信息专报实行集体会审，推进督办系统与 12345 平台对接。"},
		{PeerID: &qingdao, Kind: ActivityVisit, Title: "赴青岛市政府办公厅学习“挂图作战”和 12345 热线“接诉即办”", HeldOn: workday.DateOf(y, time.September, 10),
			People:   "督查科、12345 热线中心、文电科 5 人",
			Findings: "青岛以“挂图作战”统领重点工作，任务、时限、责任人一图可见；热线实行“接诉即办”，按时办结率高于我市约 3 个百分点；文稿实行三级审核。",
			Report:   "赴青岛市人民政府办公厅学习报告\n\n一、挂图作战：任务清单化、清单项目化、项目责任化。\n二、接诉即办：派单、签收、办结全程计时。\n三、借鉴举措：完善我办挂图作战系统，设置红黄绿灯预警；热线工单按时办结率纳入月度晒评。"},
		{PeerID: &peerIDs[3], Kind: ActivityExchange, Title: "与烟台市政府办公室座谈交流基层减负经验", HeldOn: workday.DateOf(y, time.May, 22),
			People: "综合科、会议科 3 人", Findings: "会议、文件“清单化”管理，年度压减比例公开。"},
		{PeerID: &suzhou, Kind: ActivitySecondment, Title: "选派 2 名干部赴苏州市政府办公室跟班学习三个月", HeldOn: workday.DateOf(y, time.August, 1),
			People: "督查科、政务信息科各 1 人", Findings: "跟班期间参与督查专报 6 期、信息约稿 12 篇。"},
		{PeerID: &qingdao, Kind: ActivityAgreement, Title: "与青岛市政府办公厅签订对标学习交流协议", HeldOn: workday.DateOf(y, time.September, 11),
			People: "办公室主任", Findings: "双方每半年交换一次对标指标数据，互派干部交流学习。"},
	}
	for _, in := range acts {
		var files []Upload
		if in.Report != "" {
			files = append(files, Upload{Name: in.Title + "报告.txt", Data: []byte(in.Report)})
		}
		if _, err := s.CreateActivity(ctx, a, in, files...); err != nil {
			return fmt.Errorf("benchmark demo: activity: %w", err)
		}
	}
	return nil
}
