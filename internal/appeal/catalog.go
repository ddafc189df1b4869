package appeal

import "strings"

// The default category tree (12 groups, 60 leaves), the districts and
// streets of the demo city, and the word pieces the demo generator builds
// texts from. Template words are separated by spaces: the same lists seed
// the segmentation dictionary, so generated and typed texts split the same.

type leafSeed struct {
	Code, Name, NameEN string
	// Unit is the handling unit's code; "" dispatches to the district.
	Unit string
	// Problems are what citizens report; Season is the months (1–12) with
	// three times the usual volume.
	Problems []string
	Season   []int
}

type groupSeed struct {
	Code, Name, NameEN string
	Details            []string
	Leaves             []leafSeed
}

// District is a district of the city and its streets.
type District struct {
	Name     string
	UnitCode string
	Streets  []string
}

// Districts of the demo city and the district office each maps to.
var Districts = []District{
	{"东城区", "D01", []string{"东华街道", "朝阳门街道", "建国街道", "和平街道"}},
	{"西城区", "D02", []string{"西长街道", "金融街街道", "白塔街道", "广安街道"}},
	{"南湖区", "D03", []string{"南湖街道", "湖滨街道", "新港街道", "桃园街道"}},
	{"北山区", "D04", []string{"北山街道", "青松街道", "龙泉街道", "石门街道"}},
	{"高新区", "D05", []string{"科技城街道", "创新街道", "软件园街道", "云谷街道"}},
	{"临港区", "D06", []string{"港口街道", "临海街道", "保税街道", "渔港街道"}},
	{"青川县", "D07", []string{"青川镇", "川口镇", "柳河镇", "白沙镇"}},
}

var estates = []string{"幸福里 小区", "阳光 花园", "锦绣 家园", "翠苑 小区", "金色 港湾", "绿城 小区", "和谐 家园", "世纪 花园",
	"书香 门第", "滨江 花园", "东方 明珠 小区", "新华 小区", "紫荆 花园", "康乐 小区", "丽景 苑", "春晖 小区", "江南 名居", "振兴 小区"}

var prefixes = []string{"市民 来电 反映 ：", "市民 反映 ：", "来电人 称 ：", "网民 留言 ："}

var durations = []string{"已经 一周 了", "持续 半个月 了", "已经 三天 了", "反映 多次 未 解决", "最近 一个月 经常 出现", "今天 上午 开始"}

var demands = []string{"希望 相关部门 尽快 处理", "请求 有关部门 核实 处理", "要求 尽快 解决", "希望 给予 答复", "请 相关部门 加强 监管",
	"希望 尽快 派人 查看", "请求 协调 解决", "希望 彻底 整改"}

var catalog = []groupSeed{
	{"01", "城乡建设", "Urban construction", []string{"影响 居民 正常 生活", "存在 安全 隐患", "周边 居民 意见 很大", "多次 向 社区 反映 无果"}, []leafSeed{
		{"0101", "违章建筑", "Illegal construction", "", []string{"有 住户 在 楼顶 私自 搭建 彩钢房", "一楼 住户 违规 扩建 院子", "有人 占用 公共 绿地 违建 房屋", "商户 私自 加盖 二层"}, nil},
		{"0102", "道路破损", "Damaged roads", "", []string{"路面 坑洼 不平 积水 严重", "人行道 地砖 松动 破损", "道路 塌陷 出现 大坑", "路面 开裂 车辆 颠簸"}, []int{6, 7, 8}},
		{"0103", "施工扰民", "Construction noise", "", []string{"工地 夜间 施工 噪音 很大", "渣土车 夜间 运输 扬尘 严重", "工地 凌晨 还在 打桩", "施工 围挡 占用 人行道"}, []int{4, 5, 6, 7, 8, 9}},
		{"0104", "井盖缺失", "Missing manhole covers", "", []string{"路边 井盖 丢失 没有 警示", "井盖 破损 下陷", "雨水 井盖 松动 发出 响声", "污水井 冒水 井盖 移位"}, nil},
		{"0105", "老旧小区改造", "Old-estate renovation", "", []string{"老旧 小区 改造 进度 缓慢", "改造 后 外墙 脱落", "改造 施工 质量 差 楼道 漏水", "加装 电梯 协调 困难"}, nil},
	}},
	{"02", "市容环境", "City appearance", []string{"严重 影响 市容 市貌", "气味 难闻 影响 出行", "周边 居民 不堪 其扰", "城管 来 过 但 反复 出现"}, []leafSeed{
		{"0201", "垃圾清运", "Garbage collection", "", []string{"垃圾 桶 满溢 无人 清运", "建筑 垃圾 长期 堆放", "垃圾 中转站 臭味 熏天", "生活 垃圾 清运 不及时"}, []int{7, 8}},
		{"0202", "占道经营", "Street vending", "", []string{"流动 摊贩 占道 经营", "商户 店外 经营 占用 人行道", "夜市 摊位 堵塞 消防 通道", "早市 占用 机动车道"}, []int{5, 6, 7, 8, 9}},
		{"0203", "油烟污染", "Cooking-fume pollution", "", []string{"饭店 油烟 直排 进入 居民家", "烧烤 店 油烟 扰民", "餐馆 没有 安装 油烟 净化器", "楼下 餐饮 店 排烟 口 对着 窗户"}, nil},
		{"0204", "噪声扰民", "Noise nuisance", "", []string{"广场舞 音响 声音 太大", "商铺 高音 喇叭 促销 扰民", "酒吧 深夜 噪音 扰民", "楼上 装修 噪音 影响 休息"}, []int{6, 7, 8}},
		{"0205", "绿化养护", "Greenery upkeep", "", []string{"行道树 枝叶 遮挡 路灯", "绿化带 杂草 丛生", "树木 倒伏 无人 清理", "小区 绿地 被 改成 菜地"}, []int{4, 5}},
	}},
	{"03", "供水供电供气", "Water, power and gas", []string{"给 生活 带来 很大 不便", "老人 小孩 生活 困难", "没有 提前 通知", "咨询 供水 公司 没有 答复"}, []leafSeed{
		{"0301", "停水", "Water outage", "", []string{"小区 突然 停水", "高层 住户 水压 不足 经常 停水", "停水 没有 提前 通知", "管道 维修 停水 时间 过长"}, []int{7, 8}},
		{"0302", "水质问题", "Water quality", "", []string{"自来水 浑浊 有 异味", "自来水 有 白色 沉淀物", "自来水 有 漂白粉 味道", "净水 出水 有 杂质"}, nil},
		{"0303", "停电", "Power outage", "", []string{"小区 频繁 停电", "夏季 用电 高峰 跳闸 停电", "停电 后 迟迟 不来 抢修", "电压 不稳 烧坏 电器"}, []int{7, 8}},
		{"0304", "燃气安全", "Gas safety", "", []string{"楼道 有 燃气 泄漏 气味", "燃气 管道 老化 锈蚀", "燃气 公司 上门 安检 收费", "餐馆 违规 使用 液化气 罐"}, []int{11, 12, 1}},
		{"0305", "供暖不热", "Poor heating", "", []string{"暖气 不热 室温 只有 十几度", "供暖 管道 漏水", "供暖 费 收取 不合理", "暖气 片 上 热 下 凉"}, []int{11, 12, 1, 2}},
	}},
	{"04", "交通出行", "Transport", []string{"上下班 高峰 特别 拥堵", "存在 交通 安全 隐患", "给 市民 出行 带来 不便", "希望 优化 交通 组织"}, []leafSeed{
		{"0401", "公交线路", "Bus routes", "", []string{"公交 车 班次 太少 等车 时间 长", "建议 新增 公交 线路", "公交 站台 设置 不合理", "公交 司机 服务 态度 差"}, nil},
		{"0402", "出租车服务", "Taxi service", "", []string{"出租车 拒载 乱收费", "出租车 司机 绕路", "网约车 平台 乱 加价", "出租车 不 打表"}, nil},
		{"0403", "交通信号灯", "Traffic lights", "", []string{"路口 红绿灯 时间 设置 不合理", "信号灯 损坏 不亮", "人行 横道 信号灯 时间 太短", "路口 缺少 信号灯"}, nil},
		{"0404", "停车难", "Parking shortage", "", []string{"医院 周边 停车 难", "路边 停车 位 收费 不规范", "车辆 乱停 乱放 堵塞 道路", "建议 增设 公共 停车场"}, nil},
		{"0405", "共享单车", "Shared bikes", "", []string{"共享 单车 乱停 乱放 堵塞 人行道", "共享 单车 押金 无法 退还", "损坏 的 共享 单车 长期 堆放", "共享 单车 占用 盲道"}, []int{4, 5, 9, 10}},
	}},
	{"05", "物业管理", "Property management", []string{"业主 意见 很大", "物业 公司 推诿 不 处理", "严重 影响 业主 生活", "多次 找 物业 没有 结果"}, []leafSeed{
		{"0501", "物业服务", "Property services", "", []string{"物业 服务 差 卫生 无人 打扫", "物业 费 上涨 不合理", "物业 公司 撤场 无人 管理", "物业 不 公开 收支 情况"}, nil},
		{"0502", "电梯故障", "Lift failure", "", []string{"电梯 经常 故障 困人", "电梯 停运 多日 无人 维修", "电梯 年检 过期", "电梯 运行 有 异响"}, nil},
		{"0503", "维修基金", "Maintenance fund", "", []string{"维修 基金 申请 使用 困难", "维修 基金 使用 不 透明", "房屋 漏水 申请 维修 基金 无果", "维修 基金 退还 问题"}, nil},
		{"0504", "小区停车", "Estate parking", "", []string{"小区 车位 只 租 不 售", "外来 车辆 占用 小区 车位", "小区 停车 费 上涨", "消防 通道 被 车辆 占用"}, nil},
		{"0505", "业委会", "Owners' committee", "", []string{"业委会 选举 不 规范", "业委会 长期 不 换届", "业委会 与 物业 串通", "成立 业委会 受阻"}, nil},
	}},
	{"06", "劳动社保", "Labour and social security", []string{"生活 陷入 困难", "多次 讨要 无果", "单位 推诿 扯皮", "希望 维护 合法 权益"}, []leafSeed{
		{"0601", "拖欠工资", "Unpaid wages", "", []string{"公司 拖欠 工资 三个月", "工地 包工头 拖欠 农民工 工资", "离职 后 公司 不 结清 工资", "公司 拖欠 加班费"}, []int{12, 1}},
		{"0602", "社保缴纳", "Social insurance", "", []string{"单位 未 给 员工 缴纳 社保", "社保 断缴 如何 补缴", "社保 转移 手续 办理 慢", "灵活 就业 社保 缴费 咨询"}, nil},
		{"0603", "医保报销", "Medical insurance", "", []string{"异地 就医 医保 报销 困难", "医保 报销 比例 咨询", "门诊 慢性病 医保 办理", "医保 卡 无法 使用"}, nil},
		{"0604", "养老金", "Pensions", "", []string{"养老金 发放 延迟", "退休 手续 办理 咨询", "养老金 调整 标准 咨询", "养老 保险 认证 问题"}, []int{1, 7}},
		{"0605", "就业培训", "Employment training", "", []string{"就业 培训 补贴 申领", "失业 登记 办理 咨询", "创业 担保 贷款 咨询", "技能 培训 报名 咨询"}, []int{3, 7}},
	}},
	{"07", "教育", "Education", []string{"家长 十分 着急", "学校 没有 给 说法", "希望 教育 部门 重视", "影响 孩子 学习"}, []leafSeed{
		{"0701", "入学招生", "School admission", "", []string{"孩子 入学 学位 不足", "学区 划分 不 合理", "随迁 子女 入学 材料 咨询", "小学 招生 政策 咨询"}, []int{5, 6, 7, 8}},
		{"0702", "校外培训", "Off-campus tutoring", "", []string{"校外 培训 机构 跑路 无法 退费", "培训 机构 违规 补课", "培训 机构 虚假 宣传", "培训 机构 收费 过高"}, []int{7, 8}},
		{"0703", "校园安全", "School safety", "", []string{"学校 门口 交通 拥堵 存在 隐患", "学校 食堂 卫生 差", "校园 周边 有 流动 摊贩", "校车 超载"}, []int{9}},
		{"0704", "学生资助", "Student aid", "", []string{"贫困 学生 资助 申请", "助学 贷款 办理 咨询", "资助 金 未 发放", "奖学金 评定 不 公平"}, []int{9}},
		{"0705", "幼儿园", "Kindergartens", "", []string{"公办 幼儿园 学位 紧张", "幼儿园 收费 过高", "幼儿园 教师 体罚 孩子", "普惠 幼儿园 申请"}, []int{6, 7}},
	}},
	{"08", "医疗卫生", "Health", []string{"患者 意见 很大", "希望 卫健 部门 调查", "影响 群众 就医", "存在 健康 风险"}, []leafSeed{
		{"0801", "医疗服务", "Medical services", "", []string{"医院 挂号 难 排队 时间 长", "医生 服务 态度 差", "医院 过度 检查", "社区 医院 缺少 药品"}, nil},
		{"0802", "疫苗接种", "Vaccination", "", []string{"疫苗 预约 困难", "儿童 疫苗 接种 点 太少", "疫苗 接种 时间 咨询", "接种 后 出现 不良 反应"}, []int{3, 4, 10}},
		{"0803", "药品价格", "Drug prices", "", []string{"药店 药品 价格 过高", "医院 药品 比 药店 贵", "药店 不 执行 医保 价格", "买到 过期 药品"}, nil},
		{"0804", "医患纠纷", "Doctor–patient disputes", "", []string{"手术 后 出现 并发症 医院 推卸 责任", "医院 误诊 延误 治疗", "医疗 事故 鉴定 咨询", "医院 拒绝 提供 病历"}, nil},
		{"0805", "公共卫生", "Public hygiene", "", []string{"小区 蚊虫 鼠患 严重", "公共 厕所 卫生 差", "病死 动物 无人 处理", "二次 供水 水箱 卫生 差"}, []int{6, 7, 8}},
	}},
	{"09", "市场监管", "Market regulation", []string{"消费者 权益 受到 侵害", "商家 拒绝 处理", "希望 市场 监管 部门 查处", "已 保留 购物 凭证"}, []leafSeed{
		{"0901", "食品安全", "Food safety", "", []string{"超市 销售 过期 食品", "餐馆 后厨 卫生 脏乱", "外卖 食品 中 发现 异物", "无证 作坊 生产 食品"}, []int{6, 7, 8}},
		{"0902", "价格欺诈", "Price fraud", "", []string{"商家 先 涨价 后 打折", "景区 商店 价格 欺诈", "明码 标价 与 实际 收费 不符", "商家 虚构 原价"}, []int{10, 11}},
		{"0903", "消费维权", "Consumer rights", "", []string{"网购 商品 质量 问题 商家 不 退货", "家电 维修 乱 收费", "手机 维修 被 调包 零件", "装修 公司 合同 纠纷"}, []int{11}},
		{"0904", "虚假广告", "False advertising", "", []string{"保健品 虚假 宣传 疗效", "楼盘 广告 虚假 宣传", "直播 带货 虚假 宣传", "医疗 美容 虚假 广告"}, nil},
		{"0905", "预付卡退费", "Prepaid-card refunds", "", []string{"健身房 关门 预付卡 无法 退费", "美容院 跑路 会员卡 余额 无法 退还", "理发店 办卡 后 倒闭", "教育 机构 预付 费用 无法 退还"}, nil},
	}},
	{"10", "住房", "Housing", []string{"购房者 合法 权益 受损", "开发商 拖延 不 处理", "希望 住建 部门 介入", "影响 正常 入住"}, []leafSeed{
		{"1001", "房产证办理", "Property certificates", "", []string{"交房 多年 无法 办理 房产证", "不动产 登记 办理 时间 长", "房产证 办理 材料 咨询", "开发商 欠 税 导致 无法 办证"}, nil},
		{"1002", "商品房质量", "New-home quality", "", []string{"新房 墙体 开裂", "新房 卫生间 漏水", "交房 标准 与 合同 不符", "楼盘 外墙 保温层 脱落"}, nil},
		{"1003", "保障房", "Subsidised housing", "", []string{"公租房 申请 条件 咨询", "保障房 分配 不 公平", "廉租房 租金 补贴 发放", "人才 公寓 申请 咨询"}, nil},
		{"1004", "房屋租赁", "Renting", "", []string{"房东 不 退 押金", "中介 公司 乱 收费", "群租房 存在 安全 隐患", "长租 公寓 爆雷 租金 无法 退还"}, []int{7, 8}},
		{"1005", "拆迁安置", "Resettlement", "", []string{"拆迁 补偿 标准 不 合理", "安置房 迟迟 不能 交付", "过渡 安置 费 未 发放", "拆迁 安置 政策 咨询"}, nil},
	}},
	{"11", "政务服务", "Government services", []string{"来回 跑了 好几 趟", "希望 提高 办事 效率", "窗口 人员 解释 不清", "希望 优化 服务"}, []leafSeed{
		{"1101", "办事效率", "Service efficiency", "A04", []string{"政务 大厅 排队 时间 太长", "办事 材料 要求 反复 补交", "窗口 工作 人员 不足", "审批 时限 超过 承诺 时间"}, nil},
		{"1102", "证照办理", "Licences and certificates", "A04", []string{"营业 执照 办理 咨询", "居住证 办理 流程 咨询", "身份证 异地 办理", "食品 经营 许可证 办理 慢"}, nil},
		{"1103", "政策咨询", "Policy enquiries", "S04", []string{"咨询 人才 引进 补贴 政策", "咨询 购房 补贴 政策", "咨询 企业 减税 政策", "咨询 生育 补贴 政策"}, nil},
		{"1104", "工作作风", "Officials' conduct", "S04", []string{"工作 人员 态度 生硬 推诿", "工作 时间 窗口 无人", "工作 人员 上班 时间 玩 手机", "办事 门难进 脸难看"}, nil},
		{"1105", "政务网站", "Government websites", "A02", []string{"政务 网站 无法 登录", "政务 服务 平台 系统 故障", "网上 办事 功能 不 好用", "政务 APP 经常 闪退"}, nil},
	}},
	{"12", "生态环境", "Environment", []string{"严重 影响 周边 居民 健康", "晚上 更加 明显", "环保 部门 查处 后 又 反弹", "希望 加大 执法 力度"}, []leafSeed{
		{"1201", "大气污染", "Air pollution", "", []string{"工厂 烟囱 冒 黑烟", "企业 夜间 偷排 废气", "露天 焚烧 垃圾", "工地 扬尘 污染"}, []int{11, 12, 1}},
		{"1202", "水体污染", "Water pollution", "", []string{"河道 发黑 发臭", "企业 向 河道 排放 污水", "河面 漂浮 大量 垃圾", "池塘 死鱼 水体 变色"}, []int{6, 7, 8}},
		{"1203", "工业噪声", "Industrial noise", "", []string{"工厂 机器 噪音 扰民", "企业 夜间 生产 噪音 大", "物流 园区 夜间 装卸 噪音", "工厂 风机 噪音 持续"}, nil},
		{"1204", "秸秆焚烧", "Straw burning", "", []string{"农田 焚烧 秸秆 烟雾 很大", "田间 焚烧 垃圾 和 秸秆", "夜间 偷偷 焚烧 秸秆", "秸秆 焚烧 影响 交通"}, []int{6, 10}},
		{"1205", "餐厨垃圾", "Kitchen waste", "", []string{"餐厨 垃圾 随意 倾倒", "地沟油 收集 点 臭味", "餐厨 垃圾 收运 不 及时", "泔水 车 沿路 滴漏"}, []int{7, 8}},
	}},
}

// The planted systemic problem of the demo: the same complaint about
// secondary water supply from many estates across districts.
const systemicText = "自来水 发黄 有 铁锈 味 ， 烧开 后 有 黄色 沉淀 ， 怀疑 二次 供水 水箱 长期 未 清洗 ， 请 尽快 检测 水质 并 清洗 水箱"

// DefaultCategories returns the built-in tree, groups first.
func DefaultCategories() []Category {
	var out []Category
	for _, g := range catalog {
		out = append(out, Category{Code: g.Code, Name: g.Name, NameEN: g.NameEN})
		for _, l := range g.Leaves {
			out = append(out, Category{Code: l.Code, ParentCode: g.Code, Name: l.Name, NameEN: l.NameEN, Leaf: true,
				Keywords: strings.Join(firstWords(l.Problems), ",")})
		}
	}
	return out
}

func firstWords(ps []string) []string {
	var out []string
	for _, p := range ps {
		f := strings.Fields(p)
		if len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// unitCodeFor is the demo dispatch rule: a city unit for some categories,
// the district office otherwise.
func unitCodeFor(cat, district string) string {
	for _, g := range catalog {
		for _, l := range g.Leaves {
			if l.Code == cat && l.Unit != "" {
				return l.Unit
			}
		}
	}
	for _, d := range Districts {
		if d.Name == district {
			return d.UnitCode
		}
	}
	return ""
}

// dictionaryWords lists every word of the templates and places.
func dictionaryWords() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		for _, w := range strings.Fields(s) {
			if !seen[w] && len([]rune(w)) > 1 {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	for _, g := range catalog {
		add(g.Name)
		for _, d := range g.Details {
			add(d)
		}
		for _, l := range g.Leaves {
			add(l.Name)
			for _, p := range l.Problems {
				add(p)
			}
		}
	}
	for _, l := range [][]string{estates, prefixes, durations, demands, {systemicText}} {
		for _, s := range l {
			add(s)
		}
	}
	for _, d := range Districts {
		add(d.Name)
		for _, s := range d.Streets {
			add(s)
		}
	}
	add(extraWords)
	return out
}

// extraWords are common words of appeals beyond the templates.
const extraWords = `小区 居民 业主 社区 街道 物业 噪音 垃圾 停车 投诉 举报 咨询 建议 求助 反映 处理 解决 问题 情况 部门 政府 公司 单位 工作 人员
时间 希望 要求 尽快 严重 影响 安全 隐患 漏水 停水 停电 污染 油烟 施工 夜间 道路 路灯 树木 学校 医院 孩子 老人 工资 社保 医保 房子 房东
租金 押金 退费 电梯 暖气 燃气 自来水 公交 出租车 红绿灯 违建 占道 摊贩 扬尘 臭味 异味 发黄 水质 水箱 供水 检测 清洗`
