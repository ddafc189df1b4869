package demo

// The fictional 示范市人民政府办公室: its sections, affiliated units, party
// branches, outposts and the district offices it coordinates.

type unitSeed struct {
	Code, Name, Kind string
}

var sections = []unitSeed{
	{"S01", "秘书一科", "section"}, {"S02", "秘书二科", "section"}, {"S03", "秘书三科", "section"},
	{"S04", "综合科", "section"}, {"S05", "督查科", "section"}, {"S06", "政务信息科", "section"},
	{"S07", "文电科", "section"}, {"S08", "机要保密科", "section"}, {"S09", "法规科", "section"},
	{"S10", "财务科", "section"}, {"S11", "人事科", "section"}, {"S12", "行政科", "section"},
	{"S13", "会议科", "section"}, {"S14", "政务公开科", "section"}, {"S15", "应急管理科", "section"},
	{"S16", "信息化建设科", "section"}, {"S17", "建议提案办理科", "section"}, {"S18", "外事科", "section"},
	{"S19", "调研科", "section"}, {"S20", "机关党委办公室", "section"}, {"S21", "老干部科", "section"},
	{"S22", "安全保卫科", "section"},
}

var affiliates = []unitSeed{
	{"A01", "市政府研究室", "affiliate"}, {"A02", "市大数据中心", "affiliate"},
	{"A03", "市机关事务服务中心", "affiliate"}, {"A04", "市政务服务中心", "affiliate"},
	{"A05", "市12345政务服务便民热线中心", "affiliate"}, {"A06", "市接待服务中心", "affiliate"},
	{"A07", "市政府金融工作办公室", "affiliate"}, {"A08", "市地方志编纂中心", "affiliate"},
}

var outposts = []unitSeed{
	{"O01", "驻北京联络处（驻京办）", "outpost"}, {"O02", "驻上海联络处（驻沪办）", "outpost"},
}

var districts = []unitSeed{
	{"D01", "东城区人民政府办公室", "district"}, {"D02", "西城区人民政府办公室", "district"},
	{"D03", "南湖区人民政府办公室", "district"}, {"D04", "北山区人民政府办公室", "district"},
	{"D05", "高新技术产业开发区管委会办公室", "district"}, {"D06", "临港经济区管委会办公室", "district"},
	{"D07", "青川县人民政府办公室", "district"},
}

var branchNames = []string{"第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十", "第十一", "第十二", "第十三"}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")

var givenChars = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强志明海燕红梅玉兰晓东晓明丹丹文博浩然子涵雨轩欣怡思远佳琪梓萱宇航嘉怡俊杰慧敏宏伟立新振华德胜永刚春生秋云冬梅晨曦")

// Titles by how senior the position is; ranks follow them.
var leaderTitles = []struct{ Title, Rank string }{
	{"主任", "正处级"}, {"副主任", "副处级"},
}

var staffTitles = []struct{ Title, Rank string }{
	{"科长", "正科级"}, {"副科长", "副科级"}, {"一级主任科员", "一级主任科员"}, {"二级主任科员", "二级主任科员"},
	{"三级主任科员", "三级主任科员"}, {"四级主任科员", "四级主任科员"}, {"一级科员", "一级科员"}, {"科员", "二级科员"},
}
