// Package appeal is 12345 诉求: work orders from intake through dispatch,
// handling, reply, review, follow-up and archive; the unit metrics; the
// rollups and the analysis (spikes, repeats, hot words, systemic-problem
// clusters, dispatch suggestion); import of historic orders; and the
// Backend the Open311 API (appeal/open311) serves.
package appeal

import (
	"time"

	"github.com/biaogan/biaogan/internal/workday"
)

// Channel is how an appeal came in.
type Channel string

const (
	ChannelPhone   Channel = "phone"
	ChannelWeb     Channel = "web"
	ChannelApp     Channel = "app"
	ChannelWechat  Channel = "wechat"
	ChannelOpen311 Channel = "open311"
	ChannelAPI     Channel = "api"
	ChannelImport  Channel = "import"
)

// Channels lists the valid channels.
var Channels = []Channel{ChannelPhone, ChannelWeb, ChannelApp, ChannelWechat, ChannelOpen311, ChannelAPI, ChannelImport}

// Kind is the appeal type (咨询, 求助, 投诉, 举报, 建议).
type Kind string

const (
	KindConsult    Kind = "consult"
	KindHelp       Kind = "help"
	KindComplaint  Kind = "complaint"
	KindReport     Kind = "report"
	KindSuggestion Kind = "suggestion"
)

// Kinds lists the valid kinds.
var Kinds = []Kind{KindConsult, KindHelp, KindComplaint, KindReport, KindSuggestion}

// State is where an order stands in the loop
// 受理 → 派单 → 签收/办理 → 答复 → 办结 → 回访/评价 → 归档.
type State string

const (
	StateReceived   State = "received"   // 受理: at the center, not dispatched
	StateDispatched State = "dispatched" // 派单: awaiting the unit's acceptance
	StateDisputed   State = "disputed"   // returned twice: a supervisor decides
	StateAccepted   State = "accepted"   // 签收, 办理中
	StateReplied    State = "replied"    // 答复: awaiting the center's review
	StateResolved   State = "resolved"   // 办结: awaiting follow-up
	StateFollowed   State = "followed"   // 回访 and 评价 done
	StateArchived   State = "archived"   // 归档
	StateMerged     State = "merged"     // merged under a master order
)

// Open reports whether the order is not yet 办结 or 归档 (Open311 "open").
func (s State) Open() bool {
	switch s {
	case StateResolved, StateFollowed, StateArchived, StateMerged:
		return false
	}
	return true
}

// Triage outcomes at intake.
const (
	TriageAnswered    = "answered"    // 当场答复
	TriageTransferred = "transferred" // 转 110/119/120/122
	TriageRedirected  = "redirected"  // 诉讼、复议、信息公开、信访渠道
	TriageDispatched  = "dispatched"
)

// Satisfaction at follow-up.
const (
	Satisfied   = "satisfied"   // 满意
	Basic       = "basic"       // 基本满意
	Unsatisfied = "unsatisfied" // 不满意
)

// Urgency of an order.
const (
	UrgencyNormal = "normal"
	UrgencyUrgent = "urgent"
)

// Rules of the loop, in working days.
const (
	DueUrgentWorkdays   = 1
	DueNormalWorkdays   = 5
	MaxExtensionDays    = 10
	ReturnWindowDays    = 2
	RespondWithinDays   = 1
	DefaultRepeatWindow = 30
)

// Citizen is the personal data of an order: shown masked unless the viewer
// holds appeal.pii.
type Citizen struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	IDNo  string `json:"id_number"`
	// Masked is true when the values are masks.
	Masked bool `json:"masked"`
}

// Appeal is a work order.
type Appeal struct {
	ID           int64        `json:"id"`
	Number       string       `json:"number"`
	Channel      Channel      `json:"channel"`
	Kind         Kind         `json:"kind"`
	CategoryCode string       `json:"category_code"`
	CategoryName string       `json:"category_name"`
	Content      string       `json:"content"`
	District     string       `json:"district"`
	Street       string       `json:"street"`
	Address      string       `json:"address"`
	Lat          *float64     `json:"lat,omitempty"`
	Long         *float64     `json:"long,omitempty"`
	Citizen      Citizen      `json:"citizen"`
	Urgency      string       `json:"urgency"`
	State        State        `json:"state"`
	Triage       string       `json:"triage"`
	TriageNote   string       `json:"triage_note"`
	UnitID       *int64       `json:"unit_id"`
	UnitName     string       `json:"unit_name"`
	MasterID     *int64       `json:"master_id,omitempty"`
	ReceivedAt   time.Time    `json:"received_at"`
	DispatchedAt *time.Time   `json:"dispatched_at,omitempty"`
	DispatchedOn workday.Date `json:"dispatched_on,omitzero"`
	AcceptedAt   *time.Time   `json:"accepted_at,omitempty"`
	DueOn        workday.Date `json:"due_on,omitzero"`
	Extended     bool         `json:"extended"`
	ExtReason    string       `json:"extension_reason"`
	ReturnCount  int          `json:"return_count"`
	RepliedAt    *time.Time   `json:"replied_at,omitempty"`
	Reply        string       `json:"reply"`
	ResolvedAt   *time.Time   `json:"resolved_at,omitempty"`
	FollowedAt   *time.Time   `json:"followed_at,omitempty"`
	Satisfaction string       `json:"satisfaction"`
	Solved       *bool        `json:"solved,omitempty"`
	ReopenCount  int          `json:"reopen_count"`
	ArchivedAt   *time.Time   `json:"archived_at,omitempty"`
	IsRepeat     bool         `json:"is_repeat"`
	TaskID       *int64       `json:"task_id,omitempty"`
	MediaURL     string       `json:"media_url,omitempty"`
	Light        string       `json:"light"`
	Version      int          `json:"version"`
	UpdatedAt    time.Time    `json:"updated_at"`

	Events      []Event      `json:"events,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`

	simhash uint64
	enc     encCitizen
}

type encCitizen struct{ name, phone, idno string }

// Event is one step in an order's timeline.
type Event struct {
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	FromState string    `json:"from_state"`
	ToState   string    `json:"to_state"`
	UnitID    *int64    `json:"unit_id,omitempty"`
	Note      string    `json:"note"`
}

// Attachment is a file or link attached to an order.
type Attachment struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Category is a node of the category tree.
type Category struct {
	Code       string `json:"code"`
	ParentCode string `json:"parent_code"`
	Name       string `json:"name"`
	NameEN     string `json:"name_en"`
	Leaf       bool   `json:"leaf"`
	Keywords   string `json:"keywords"`
}

// NewAppeal is an intake.
type NewAppeal struct {
	Channel      Channel      `json:"channel"`
	Kind         Kind         `json:"kind"`
	CategoryCode string       `json:"category_code"`
	Content      string       `json:"content"`
	District     string       `json:"district"`
	Street       string       `json:"street"`
	Address      string       `json:"address"`
	Lat          *float64     `json:"lat"`
	Long         *float64     `json:"long"`
	CitizenName  string       `json:"citizen_name"`
	CitizenPhone string       `json:"citizen_phone"`
	CitizenIDNo  string       `json:"citizen_id_number"`
	Urgency      string       `json:"urgency"`
	MediaURL     string       `json:"media_url"`
	Attachments  []Attachment `json:"attachments"`
	SourceKey    string       `json:"-"`
}

// Filter selects orders for lists.
type Filter struct {
	State    State
	States   []State
	UnitID   int64
	Category string
	District string
	Query    string
	From, To workday.Date
	Limit    int
	Offset   int
}
