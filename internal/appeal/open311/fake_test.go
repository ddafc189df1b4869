package open311

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// fakeBackend is a small in-memory Backend for the protocol tests; the
// real appeal backend is tested through the wired app (internal/app).
type fakeBackend struct {
	mu        sync.Mutex
	now       func() time.Time
	services  []Service
	reqs      []Request
	submitted []NewRequest
	fail      error
}

func newFake(now func() time.Time) *fakeBackend {
	return &fakeBackend{now: now, services: []Service{
		{Code: "0101", Name: "道路破损", Description: "路面坑洼、井盖缺失", Group: "城市管理", Keywords: []string{"道路", "坑洼"}},
		{Code: "0102", Name: "占道经营", Description: "", Group: "城市管理"},
		{Code: "0201", Name: "噪声扰民", Description: "夜间施工噪声", Group: "生态环境", Keywords: []string{"噪声"}, Attributes: []Attribute{
			{Code: "kind", Datatype: "singlevaluelist", Description: "诉求类型", Values: []AttributeValue{{"help", "求助"}, {"complaint", "投诉"}}},
			{Code: "when", Datatype: "datetime", Required: true, Description: "什么时候听到的"},
			{Code: "floors", Datatype: "number", Description: "楼层"},
			{Code: "sources", Datatype: "multivaluelist", Description: "噪声来源", Values: []AttributeValue{{"site", "工地"}, {"shop", "商铺"}}},
		}},
	}}
}

func (f *fakeBackend) Services(ctx context.Context) ([]Service, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	return slices.Clone(f.services), nil
}

func (f *fakeBackend) service(code string) (Service, bool) {
	for _, s := range f.services {
		if s.Code == code {
			return s, true
		}
	}
	return Service{}, false
}

func (f *fakeBackend) Submit(ctx context.Context, r NewRequest) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", "", f.fail
	}
	s, ok := f.service(r.ServiceCode)
	if !ok {
		return "", "", ErrUnknownService
	}
	f.submitted = append(f.submitted, r)
	now := f.now()
	id := fmt.Sprintf("%s%05d", now.Format("20060102"), len(f.reqs)+1)
	f.reqs = append(f.reqs, Request{ID: id, Status: "open", ServiceCode: s.Code, ServiceName: s.Name, Description: r.Description,
		AgencyResponsible: "市城市管理局", ServiceNotice: "5 个工作日内答复", Requested: now, Updated: now, Expected: now.Add(7 * 24 * time.Hour),
		Address: r.Address, AddressID: r.AddressID, Lat: r.Lat, Long: r.Long, MediaURL: r.MediaURL})
	return id, "5 个工作日内答复", nil
}

func (f *fakeBackend) add(r Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
}

func (f *fakeBackend) Requests(ctx context.Context, q Query) ([]Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []Request
	for _, r := range f.reqs {
		if len(q.IDs) > 0 {
			if slices.Contains(q.IDs, r.ID) {
				out = append(out, r)
			}
			continue
		}
		if q.ServiceCode != "" && r.ServiceCode != q.ServiceCode {
			continue
		}
		if q.Status != "" && r.Status != q.Status {
			continue
		}
		if r.Requested.Before(q.Start) || r.Requested.After(q.End) {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(x, y Request) int {
		if c := y.Requested.Compare(x.Requested); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	size := min(q.PageSize, MaxPageSize) // as the real backend caps it
	from := min((q.Page-1)*size, len(out))
	return out[from:min(from+size, len(out))], nil
}

func (f *fakeBackend) Request(ctx context.Context, id string) (*Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reqs {
		if r.ID == id {
			return &r, nil
		}
	}
	return nil, ErrNotFound
}

func (f *fakeBackend) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.submitted)
}
