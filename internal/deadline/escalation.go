package deadline

// Level is the colour of a supervision notice (督办单), which escalates the
// longer an item stays overdue.
type Level string

const (
	LevelNone   Level = "none"
	LevelBlue   Level = "blue"
	LevelYellow Level = "yellow"
	LevelRed    Level = "red"
)

// Escalation returns the notice level for an item overdue by overdueDays
// working days: blue from th.NoticeBlueAfter, yellow from
// th.NoticeYellowAfter, red from th.NoticeRedAfter, none before.
func Escalation(overdueDays int, th Thresholds) Level {
	switch {
	case overdueDays <= 0:
		return LevelNone
	case overdueDays >= th.NoticeRedAfter:
		return LevelRed
	case overdueDays >= th.NoticeYellowAfter:
		return LevelYellow
	case overdueDays >= th.NoticeBlueAfter:
		return LevelBlue
	}
	return LevelNone
}

// Severity orders levels: none 0, blue 1, yellow 2, red 3.
func (l Level) Severity() int {
	switch l {
	case LevelBlue:
		return 1
	case LevelYellow:
		return 2
	case LevelRed:
		return 3
	}
	return 0
}

// Text names the level in both languages.
func (l Level) Text() Text {
	switch l {
	case LevelBlue:
		return Text{ZH: "蓝色督办", EN: "Blue notice"}
	case LevelYellow:
		return Text{ZH: "黄色督办", EN: "Yellow notice"}
	case LevelRed:
		return Text{ZH: "红色督办", EN: "Red notice"}
	}
	return Text{ZH: "无需督办", EN: "No notice"}
}
