// Package notify is the in-app inbox and the outbox for external channels.
//
// A feature sends a Message inside its own transaction (Send), so a
// notification exists exactly when the change it reports was committed. Each
// recipient gets a row in notifications (the inbox, read on /inbox and
// /api/v1/inbox) and, per channel, a row in outbox with the text to deliver,
// status "pending". No channel is delivered yet: SMS, WeChat and e-mail
// workers will read the pending outbox rows and record the outcome.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/db"
)

// Channel is an external delivery channel.
type Channel string

const (
	SMS    Channel = "sms"
	WeChat Channel = "wechat"
	Email  Channel = "email"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == SMS || c == WeChat || c == Email }

// Level colours a message; supervision notices (督办单) escalate blue →
// yellow → red. Most messages have none.
type Level string

const (
	LevelNone   Level = ""
	LevelBlue   Level = "blue"
	LevelYellow Level = "yellow"
	LevelRed    Level = "red"
)

// Valid reports whether l is a known level (or none).
func (l Level) Valid() bool {
	return l == LevelNone || l == LevelBlue || l == LevelYellow || l == LevelRed
}

// Text is a message part in both languages.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// In returns the text in lang, falling back to Chinese.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// Address is an external recipient without an account (a phone number, an
// e-mail address); it gets outbox rows only.
type Address struct {
	Channel Channel
	Address string
}

// Message is one message to some people.
type Message struct {
	// To lists recipient user ids; each gets an inbox row and outbox rows.
	To []int64
	// Addresses are external recipients, outbox only.
	Addresses []Address
	// Kind says what it is ("reminder", "urge", "notice", "lookback", …).
	Kind  string
	Level Level
	Title Text
	Body  Text
	// Link is a path in the product ("/tasks/12").
	Link string
	// Subject names what the message is about ("task:12").
	Subject string
	// Channels for the To recipients' outbox rows; nil means the service's
	// default channels, an empty non-nil slice the inbox only.
	Channels []Channel
}

// Service writes and reads messages.
type Service struct {
	DB  *db.DB
	Now func() time.Time
	// Channels are the default outbox channels (SMS unless set).
	Channels []Channel
}

// New returns the service; now may be nil for the wall clock.
func New(d *db.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: d, Now: now, Channels: []Channel{SMS}}
}

func (s *Service) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Limits on what a message may carry.
const (
	maxTitle = 200
	maxBody  = 4000
	maxLink  = 500
	// batchRows bounds the rows of one multi-row INSERT (well below both
	// engines' limits on parameters).
	batchRows = 500
)

func check(m *Message) error {
	m.Title.ZH, m.Title.EN = strings.TrimSpace(m.Title.ZH), strings.TrimSpace(m.Title.EN)
	if m.Title.EN == "" {
		m.Title.EN = m.Title.ZH
	}
	if m.Body.EN == "" {
		m.Body.EN = m.Body.ZH
	}
	switch {
	case m.Kind == "":
		return errors.New("notify: message needs a kind")
	case m.Title.ZH == "":
		return errors.New("notify: message needs a title")
	case !m.Level.Valid():
		return fmt.Errorf("notify: unknown level %q", m.Level)
	case utf8.RuneCountInString(m.Title.ZH) > maxTitle || utf8.RuneCountInString(m.Title.EN) > maxTitle:
		return errors.New("notify: title too long")
	case utf8.RuneCountInString(m.Body.ZH) > maxBody || utf8.RuneCountInString(m.Body.EN) > maxBody:
		return errors.New("notify: body too long")
	case len(m.Link) > maxLink || (m.Link != "" && !strings.HasPrefix(m.Link, "/")):
		return fmt.Errorf("notify: link %q must be a path on this site", m.Link)
	}
	for _, c := range m.Channels {
		if !c.Valid() {
			return fmt.Errorf("notify: unknown channel %q", c)
		}
	}
	for _, a := range m.Addresses {
		if !a.Channel.Valid() || strings.TrimSpace(a.Address) == "" {
			return fmt.Errorf("notify: bad address %q on channel %q", a.Address, a.Channel)
		}
	}
	return nil
}

// OutboxText is what an external channel carries: the Chinese title and body.
func OutboxText(m Message) string {
	if m.Body.ZH == "" {
		return m.Title.ZH
	}
	return m.Title.ZH + "：" + m.Body.ZH
}

// batch collects rows for multi-row INSERTs.
type batch struct {
	head string
	cols int
	args []any
	n    int
}

func (b *batch) add(vals ...any) { b.args = append(b.args, vals...); b.n++ }

func (b *batch) flush(ctx context.Context, tx *db.Tx) error {
	if b.n == 0 {
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.cols), ", ") + ")"
	q := b.head + strings.TrimSuffix(strings.Repeat(row+", ", b.n), ", ")
	if _, err := tx.ExecContext(ctx, q, b.args...); err != nil {
		return err
	}
	b.args, b.n = b.args[:0], 0
	return nil
}

// Send writes the messages inside tx: an inbox row per recipient and an
// outbox row per recipient and channel, in batches.
func (s *Service) Send(ctx context.Context, tx *db.Tx, msgs ...Message) error {
	now := s.stamp()
	inbox := &batch{head: `INSERT INTO notifications (recipient_id, kind, level, title_zh, title_en, body_zh, body_en, link, subject, created_at) VALUES `, cols: 10}
	out := &batch{head: `INSERT INTO outbox (recipient_id, address, channel, kind, subject, text, created_at) VALUES `, cols: 7}
	for i := range msgs {
		m := &msgs[i]
		if err := check(m); err != nil {
			return err
		}
		chans := m.Channels
		if chans == nil {
			chans = s.Channels
		}
		text := OutboxText(*m)
		seen := make(map[int64]bool, len(m.To))
		for _, to := range m.To {
			if to <= 0 || seen[to] {
				continue
			}
			seen[to] = true
			inbox.add(to, m.Kind, string(m.Level), m.Title.ZH, m.Title.EN, m.Body.ZH, m.Body.EN, m.Link, m.Subject, now)
			if inbox.n >= batchRows {
				if err := inbox.flush(ctx, tx); err != nil {
					return fmt.Errorf("notify: write inbox: %w", err)
				}
			}
			for _, c := range chans {
				out.add(to, "", string(c), m.Kind, m.Subject, text, now)
				if out.n >= batchRows {
					if err := out.flush(ctx, tx); err != nil {
						return fmt.Errorf("notify: write outbox: %w", err)
					}
				}
			}
		}
		for _, a := range m.Addresses {
			out.add(nil, strings.TrimSpace(a.Address), string(a.Channel), m.Kind, m.Subject, text, now)
			if out.n >= batchRows {
				if err := out.flush(ctx, tx); err != nil {
					return fmt.Errorf("notify: write outbox: %w", err)
				}
			}
		}
	}
	if err := inbox.flush(ctx, tx); err != nil {
		return fmt.Errorf("notify: write inbox: %w", err)
	}
	if err := out.flush(ctx, tx); err != nil {
		return fmt.Errorf("notify: write outbox: %w", err)
	}
	return nil
}

// SendNow sends the messages in a transaction of their own.
func (s *Service) SendNow(ctx context.Context, msgs ...Message) error {
	return s.DB.InTx(ctx, func(tx *db.Tx) error { return s.Send(ctx, tx, msgs...) })
}

// Notification is one inbox row.
type Notification struct {
	ID          int64      `json:"id"`
	RecipientID int64      `json:"recipient_id"`
	Kind        string     `json:"kind"`
	Level       Level      `json:"level"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	TitleText   Text       `json:"title_text"`
	BodyText    Text       `json:"body_text"`
	Link        string     `json:"link"`
	Subject     string     `json:"subject"`
	CreatedAt   time.Time  `json:"created_at"`
	ReadAt      *time.Time `json:"read_at"`
	Unread      bool       `json:"unread"`
}

// localize fills Title and Body in lang.
func (n *Notification) localize(lang string) {
	n.Title, n.Body = n.TitleText.In(lang), n.BodyText.In(lang)
}

const notificationCols = `id, recipient_id, kind, level, title_zh, title_en, body_zh, body_en, link, subject, created_at, read_at`

type scanner interface{ Scan(...any) error }

func scanNotification(row scanner) (*Notification, error) {
	var n Notification
	var read sql.NullTime
	if err := row.Scan(&n.ID, &n.RecipientID, &n.Kind, &n.Level, &n.TitleText.ZH, &n.TitleText.EN, &n.BodyText.ZH, &n.BodyText.EN,
		&n.Link, &n.Subject, &n.CreatedAt, &read); err != nil {
		return nil, err
	}
	n.CreatedAt = n.CreatedAt.UTC()
	if read.Valid {
		t := read.Time.UTC()
		n.ReadAt = &t
	}
	n.Unread = n.ReadAt == nil
	return &n, nil
}

// InboxFilter narrows an inbox listing.
type InboxFilter struct {
	UnreadOnly bool
	Kind       string
	Limit      int
	Offset     int
	// Lang picks the language of Title and Body ("zh-CN" or "en").
	Lang string
}

// Inbox is one page of a user's inbox.
type Inbox struct {
	Items  []Notification `json:"items"`
	Total  int            `json:"total"`
	Unread int            `json:"unread"`
}

// Inbox lists a user's messages, unread first, newest first within each.
func (s *Service) Inbox(ctx context.Context, userID int64, f InboxFilter) (*Inbox, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	where := ` WHERE recipient_id = ?`
	args := []any{userID}
	if f.UnreadOnly {
		where += ` AND read_at IS NULL`
	}
	if f.Kind != "" {
		where += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	out := &Inbox{Items: []Notification{}}
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications`+where, args...).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("notify: count inbox: %w", err)
	}
	unread, err := s.Unread(ctx, userID)
	if err != nil {
		return nil, err
	}
	out.Unread = unread
	rows, err := s.DB.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications`+where+`
		ORDER BY CASE WHEN read_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("notify: list inbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("notify: scan inbox: %w", err)
		}
		n.localize(f.Lang)
		out.Items = append(out.Items, *n)
	}
	return out, rows.Err()
}

// Unread counts a user's unread messages.
func (s *Service) Unread(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE recipient_id = ? AND read_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("notify: count unread: %w", err)
	}
	return n, nil
}

func errNotFound(id int64) *apperr.Error {
	return apperr.NotFound("notification_not_found", fmt.Sprintf("消息 %d 不存在 / message %d not found", id, id))
}

// MarkRead marks one of the user's messages read (again is fine) and
// returns it; someone else's message is not found.
func (s *Service) MarkRead(ctx context.Context, userID, id int64, lang string) (*Notification, error) {
	var n *Notification
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND recipient_id = ? AND read_at IS NULL`,
			s.stamp(), id, userID); err != nil {
			return fmt.Errorf("notify: mark read: %w", err)
		}
		var err error
		n, err = scanNotification(tx.QueryRowContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE id = ? AND recipient_id = ?`, id, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("notify: load message %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n.localize(lang)
	return n, nil
}

// MarkAllRead marks every unread message of the user read and returns how
// many it marked.
func (s *Service) MarkAllRead(ctx context.Context, userID int64) (int, error) {
	res, err := s.DB.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE recipient_id = ? AND read_at IS NULL`, s.stamp(), userID)
	if err != nil {
		return 0, fmt.Errorf("notify: mark all read: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Outbox status.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// OutboxItem is one outbox row.
type OutboxItem struct {
	ID          int64      `json:"id"`
	RecipientID *int64     `json:"recipient_id"`
	Address     string     `json:"address"`
	Channel     Channel    `json:"channel"`
	Kind        string     `json:"kind"`
	Subject     string     `json:"subject"`
	Text        string     `json:"text"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error"`
	CreatedAt   time.Time  `json:"created_at"`
	SentAt      *time.Time `json:"sent_at"`
}

// OutboxFilter narrows an outbox listing.
type OutboxFilter struct {
	Status      string
	Channel     Channel
	RecipientID int64
	Subject     string
	Limit       int
}

// Outbox lists outbox rows, oldest first (the order a worker sends them).
func (s *Service) Outbox(ctx context.Context, f OutboxFilter) ([]OutboxItem, error) {
	var where []string
	var args []any
	for _, c := range []struct {
		cond string
		v    any
		set  bool
	}{
		{"status = ?", f.Status, f.Status != ""},
		{"channel = ?", string(f.Channel), f.Channel != ""},
		{"recipient_id = ?", f.RecipientID, f.RecipientID != 0},
		{"subject = ?", f.Subject, f.Subject != ""},
	} {
		if c.set {
			where, args = append(where, c.cond), append(args, c.v)
		}
	}
	q := `SELECT id, recipient_id, address, channel, kind, subject, text, status, attempts, last_error, created_at, sent_at FROM outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.DB.QueryContext(ctx, q+` ORDER BY id LIMIT `+strconv.Itoa(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var o OutboxItem
		var rcpt sql.NullInt64
		var sent sql.NullTime
		if err := rows.Scan(&o.ID, &rcpt, &o.Address, &o.Channel, &o.Kind, &o.Subject, &o.Text, &o.Status, &o.Attempts, &o.LastError, &o.CreatedAt, &sent); err != nil {
			return nil, fmt.Errorf("notify: scan outbox: %w", err)
		}
		if rcpt.Valid {
			v := rcpt.Int64
			o.RecipientID = &v
		}
		if sent.Valid {
			t := sent.Time.UTC()
			o.SentAt = &t
		}
		o.CreatedAt = o.CreatedAt.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// Delivered records the outcome of one delivery attempt (for the channel
// workers to come): sent when err is nil, else failed after maxAttempts
// attempts and pending until then.
func (s *Service) Delivered(ctx context.Context, id int64, cause error, maxAttempts int) error {
	if cause == nil {
		_, err := s.DB.ExecContext(ctx, `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?`, s.stamp(), id)
		return err
	}
	msg := cause.Error()
	if utf8.RuneCountInString(msg) > 1000 {
		msg = string([]rune(msg)[:1000])
	}
	_, err := s.DB.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?,
		status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?`, msg, maxAttempts, id)
	return err
}

// validKind accepts the shape of a kind ("reminder", "lookback_due"):
// features name their own kinds.
func validKind(k string) bool {
	if len(k) > 40 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r == '_') {
			return false
		}
	}
	return true
}
