package appeal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/biaogan/biaogan/internal/appeal/open311"
	"github.com/biaogan/biaogan/internal/apperr"
)

// Open311 adapts the work orders to the Open311 API's Backend: leaf
// categories are services; a request is an order, identified by its number;
// personal data never leaves.
type Open311 struct{ S *Service }

var _ open311.Backend = Open311{}

// Services lists the leaf categories, each with its group's name.
func (o Open311) Services(ctx context.Context) ([]open311.Service, error) {
	var out []open311.Service
	for _, c := range o.S.Categories() {
		if !c.Leaf {
			continue
		}
		g, _ := o.S.Category(c.ParentCode)
		var kw []string
		if c.Keywords != "" {
			kw = strings.Split(c.Keywords, ",")
		}
		out = append(out, open311.Service{Code: c.Code, Name: c.Name, Description: c.NameEN, Group: g.Name, Keywords: kw})
	}
	return out, nil
}

// Submit creates an order on the open311 channel and dispatches it by rule.
func (o Open311) Submit(ctx context.Context, r open311.NewRequest) (string, string, error) {
	c, ok := o.S.Category(r.ServiceCode)
	if !ok || !c.Leaf {
		return "", "", open311.ErrUnknownService
	}
	in := NewAppeal{Channel: ChannelOpen311, Kind: KindHelp, CategoryCode: c.Code, Content: strings.TrimSpace(r.Description),
		Address: r.Address, Lat: r.Lat, Long: r.Long, CitizenName: strings.TrimSpace(r.LastName + r.FirstName), CitizenPhone: r.Phone,
		MediaURL: r.MediaURL, SourceKey: r.KeyName}
	if in.Content == "" {
		in.Content = c.Name
	}
	if r.AddressID != "" && in.Address == "" {
		in.Address = r.AddressID
	}
	in.District, in.Street = placeOf(in.Address)
	if k := first(r.Attributes["kind"]); k != "" {
		in.Kind = Kind(k)
	}
	if normPhone(in.CitizenPhone) == "" || len(normPhone(in.CitizenPhone)) < 7 || len(normPhone(in.CitizenPhone)) > 15 {
		in.CitizenPhone = ""
	}
	id, err := o.S.create(ctx, System("open311:"+r.KeyName), in, true)
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return "", "", err
		}
		return "", "", fmt.Errorf("appeal: open311 submit: %w", err)
	}
	var number, unit string
	var due sql.NullString
	if err := o.S.DB.QueryRowContext(ctx, `SELECT a.number, COALESCE(u.name, ''), a.due_on`+appealFrom+` WHERE a.id = ?`, id).Scan(&number, &unit, &due); err != nil {
		return "", "", fmt.Errorf("appeal: open311 submit: %w", err)
	}
	notice := "已受理，工单号 " + number + "。Received as work order " + number + "."
	if due.Valid && due.String != "" {
		notice = fmt.Sprintf("已受理并派至%s，将于 %s 前办理。Received and dispatched to %s; due by %s.", unit, due.String, unit, due.String)
	}
	return number, notice, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// placeOf finds the district and street named in an address.
func placeOf(addr string) (district, street string) {
	for _, d := range Districts {
		for _, s := range d.Streets {
			if strings.Contains(addr, s) {
				return d.Name, s
			}
		}
	}
	for _, d := range Districts {
		if strings.Contains(addr, d.Name) {
			return d.Name, ""
		}
	}
	return "", ""
}

const open311Cols = `a.number, a.state, a.category_code, a.content, COALESCE(u.name, ''), a.received_at, a.updated_at, a.due_on, a.address, a.lat, a.lng, a.media_url`

func (o Open311) scan(sc scanner) (*open311.Request, error) {
	var r open311.Request
	var state, cat string
	var dueN sql.NullString
	var lat, lng sql.NullFloat64
	if err := sc.Scan(&r.ID, &state, &cat, &r.Description, &r.AgencyResponsible, &r.Requested, &r.Updated, &dueN, &r.Address, &lat, &lng, &r.MediaURL); err != nil {
		return nil, err
	}
	r.ServiceCode, r.ServiceName = cat, o.S.catName(cat)
	r.Status = "open"
	if !State(state).Open() {
		r.Status = "closed"
	}
	r.StatusNotes = stateNote(State(state))
	r.Requested, r.Updated = r.Requested.UTC(), r.Updated.UTC()
	if d := nd(dueN); !d.IsZero() {
		// Due at the end of the working day, 18:00 in the center's zone.
		r.Expected = d.Time(loc).Add(18 * time.Hour).UTC()
	}
	r.Lat, r.Long = nf(lat), nf(lng)
	return &r, nil
}

func stateNote(s State) string {
	return map[State]string{StateReceived: "已受理 received", StateDispatched: "已派单 dispatched", StateDisputed: "派单协调中 being re-dispatched",
		StateAccepted: "办理中 in progress", StateReplied: "已答复待审核 replied, under review", StateResolved: "已办结 resolved",
		StateFollowed: "已回访 followed up", StateArchived: "已归档 archived", StateMerged: "已合并 merged with another request"}[s]
}

// Request reads one request by its number.
func (o Open311) Request(ctx context.Context, id string) (*open311.Request, error) {
	r, err := o.scan(o.S.DB.QueryRowContext(ctx, `SELECT `+open311Cols+appealFrom+` WHERE a.number = ?`, id))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, open311.ErrNotFound
		}
		return nil, fmt.Errorf("appeal: open311 request: %w", err)
	}
	return r, nil
}

// Requests lists requests by q, newest first.
func (o Open311) Requests(ctx context.Context, q open311.Query) ([]open311.Request, error) {
	var where []string
	var args []any
	if len(q.IDs) > 0 {
		ph := make([]string, len(q.IDs))
		for i, id := range q.IDs {
			ph[i] = "?"
			args = append(args, id)
		}
		where = append(where, "a.number IN ("+strings.Join(ph, ",")+")")
	} else {
		if q.ServiceCode != "" {
			where = append(where, "a.category_code = ?")
			args = append(args, q.ServiceCode)
		}
		if !q.Start.IsZero() {
			where = append(where, "a.received_at >= ?")
			args = append(args, q.Start.UTC())
		}
		if !q.End.IsZero() {
			where = append(where, "a.received_at <= ?")
			args = append(args, q.End.UTC())
		}
		switch q.Status {
		case "open":
			where = append(where, "a.state NOT IN ('resolved','followed','archived','merged')")
		case "closed":
			where = append(where, "a.state IN ('resolved','followed','archived','merged')")
		}
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	size := q.PageSize
	if size <= 0 || size > 1000 {
		size = 1000
	}
	page := q.Page
	if page < 1 {
		page = 1
	}
	rows, err := o.S.DB.QueryContext(ctx, `SELECT `+open311Cols+appealFrom+w+` ORDER BY a.received_at DESC, a.id DESC LIMIT ? OFFSET ?`, append(args, size, (page-1)*size)...)
	if err != nil {
		return nil, fmt.Errorf("appeal: open311 requests: %w", err)
	}
	defer rows.Close()
	out := []open311.Request{}
	for rows.Next() {
		r, err := o.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("appeal: open311 requests: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}
