package open311

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/web"
)

// Limits of the API.
const (
	// MaxDescription is the spec's limit on description, in characters.
	MaxDescription = 4000
	// MaxSpan is the widest start_date–end_date range (and the default).
	MaxSpan = 90 * 24 * time.Hour
	// MaxPageSize is the spec's "first 1000 requests" and the page_size cap.
	MaxPageSize = 1000
	// maxIDs bounds a service_request_id list; maxCodes a service_code list.
	maxIDs   = 1000
	maxCodes = 20
	// maxAttributes bounds attribute[...] entries and their values.
	maxAttributes = 50
	maxValueLen   = 1000
	maxBody       = 1 << 20
)

// Prefix is where the API is served.
const Prefix = "/open311/v2"

// changeset dates the API's discovery document (when it last changed).
var changeset = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// API serves GeoReport v2 over a Backend. Choices the spec leaves open:
//
//   - one jurisdiction: jurisdiction_id is accepted and ignored;
//   - every service is "realtime": POST answers the service_request_id (the
//     work order's number) and never a token; tokens/{t} answers the
//     request whose id is t, for clients that ask anyway;
//   - errors carry the HTTP status as their code and a "中文 / English"
//     description naming the argument; several problems are listed at once;
//   - GET requests reads page and page_size (at most 1000) besides the
//     spec's arguments; list arguments may be comma-separated or repeated;
//   - no response carries personal data: the Request type has no field for
//     it, and POST answers account_id as null.
type API struct {
	// Backend is the appeal feature's work orders; nil answers every
	// service call with the spec's "service is not running" 400.
	Backend Backend
	Keys    *Keys
	Now     func() time.Time
	Log     *slog.Logger
	// BaseURL is the public address of the server (the discovery
	// document's endpoint URL); empty uses the request's host.
	BaseURL string
	// Contact is the discovery document's contact line.
	Contact string

	server *web.Server
}

// New returns the API; backend may be nil until the appeal feature exists.
func New(b Backend, keys *Keys, now func() time.Time, log *slog.Logger) *API {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &API{Backend: b, Keys: keys, Now: now, Log: log,
		Contact: "12345 政务服务便民热线 / 12345 citizen service hotline"}
}

// Register adds the public API routes to s (no sign-in; POST is checked
// against an API key) and the key admin pages.
func (a *API) Register(s *web.Server) error {
	a.server = s
	if a.BaseURL == "" {
		a.BaseURL = strings.TrimRight(s.Cfg.BaseURL, "/")
	}
	for _, f := range []string{formatXML, formatJSON} {
		s.Handle("GET "+Prefix+"/discovery."+f, auth.PermPublic, a.withFormat(f, a.getDiscovery))
		s.Handle("GET "+Prefix+"/services."+f, auth.PermPublic, a.withFormat(f, a.getServices))
		s.Handle("GET "+Prefix+"/requests."+f, auth.PermPublic, a.withFormat(f, a.getRequests))
		s.Handle("POST "+Prefix+"/requests."+f, auth.PermPublic, a.withFormat(f, a.postRequest))
	}
	s.Handle("GET "+Prefix+"/services/{file}", auth.PermPublic, a.withFile(a.getService))
	s.Handle("GET "+Prefix+"/requests/{file}", auth.PermPublic, a.withFile(a.getRequest))
	s.Handle("GET "+Prefix+"/tokens/{file}", auth.PermPublic, a.withFile(a.getToken))
	// Anything else under the prefix: the spec's 404 in the asked format.
	notFound := func(w http.ResponseWriter, r *http.Request) error {
		return writeErrors(w, formatOf(r.URL.Path), http.StatusNotFound,
			fmt.Sprintf("没有这个资源：%s / no such resource: %s", r.URL.Path, r.URL.Path))
	}
	s.Handle("GET "+Prefix+"/", auth.PermPublic, notFound)
	s.Handle("POST "+Prefix+"/", auth.PermPublic, notFound)
	return a.registerPages(s)
}

// formatOf guesses the format of a path for errors: JSON only when asked.
func formatOf(p string) string {
	if strings.HasSuffix(p, ".json") {
		return formatJSON
	}
	return formatXML
}

type formatHandler func(w http.ResponseWriter, r *http.Request, format string) error
type fileHandler func(w http.ResponseWriter, r *http.Request, format, id string) error

func (a *API) withFormat(format string, h formatHandler) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error { return h(w, r, format) }
}

// withFile splits "{id}.{format}" from the last path segment.
func (a *API) withFile(h fileHandler) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		file := r.PathValue("file")
		i := strings.LastIndexByte(file, '.')
		if i <= 0 || (file[i+1:] != formatXML && file[i+1:] != formatJSON) {
			return writeErrors(w, formatXML, http.StatusNotFound,
				fmt.Sprintf("须以 .xml 或 .json 结尾：%s / the resource must end in .xml or .json: %s", file, file))
		}
		return h(w, r, file[i+1:], file[:i])
	}
}

// notRunning answers when no Backend is wired.
func (a *API) notRunning(w http.ResponseWriter, format string) error {
	return writeErrors(w, format, http.StatusBadRequest, "Open311 服务未运行 / the open311 service is not running")
}

// backendError maps a Backend error to the spec's status: 404 for an
// unknown code or request, 400 for anything else (the spec's "general
// service error"; logged when it is not the client's fault).
func (a *API) backendError(w http.ResponseWriter, r *http.Request, format, what string, err error) error {
	switch {
	case errors.Is(err, ErrUnknownService):
		return writeErrors(w, format, http.StatusNotFound, fmt.Sprintf("没有这个 service_code：%s / unknown service_code: %s", what, what))
	case errors.Is(err, ErrNotFound):
		return writeErrors(w, format, http.StatusNotFound, fmt.Sprintf("没有这个诉求：%s / no such service request: %s", what, what))
	case errors.Is(err, context.Canceled):
		return nil
	}
	if e, ok := apperr.As(err); ok && e.Status < 500 {
		msg := e.Message
		if e.Field != "" && !strings.Contains(msg, e.Field) {
			msg = e.Field + ": " + msg
		}
		return writeErrors(w, format, http.StatusBadRequest, msg)
	}
	a.Log.Error("open311: backend failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return writeErrors(w, format, http.StatusBadRequest, "服务处理失败，请稍后再试或联系我们 / general service error; try again later or tell us")
}

// base is the server's public address: the configured base URL, else the
// request's host.
func (a *API) base(r *http.Request) string {
	if a.BaseURL != "" {
		return a.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (a *API) getDiscovery(w http.ResponseWriter, r *http.Request, format string) error {
	base := a.base(r)
	d := discovery{Changeset: utc(changeset), Contact: a.Contact,
		KeyService: "API 密钥由系统管理员签发（biaogan open311 key add NAME）/ API keys are issued by the system administrator (biaogan open311 key add NAME)",
		Endpoints: []endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: base + Prefix, Changeset: utc(changeset),
			Type: "production", Formats: []string{"text/xml", "application/json"}}}}
	return write(w, format, http.StatusOK, d, nil)
}

func (a *API) getServices(w http.ResponseWriter, r *http.Request, format string) error {
	if a.Backend == nil {
		return a.notRunning(w, format)
	}
	svcs, err := a.Backend.Services(r.Context())
	if err != nil {
		return a.backendError(w, r, format, "", err)
	}
	out := make([]service, len(svcs))
	for i, s := range svcs {
		out[i] = serviceOut(s)
	}
	return write(w, format, http.StatusOK, xmlServices{Services: out}, out)
}

func (a *API) getService(w http.ResponseWriter, r *http.Request, format, code string) error {
	if a.Backend == nil {
		return a.notRunning(w, format)
	}
	svcs, err := a.Backend.Services(r.Context())
	if err != nil {
		return a.backendError(w, r, format, code, err)
	}
	for _, s := range svcs {
		if s.Code == code {
			return write(w, format, http.StatusOK, definitionOut(s), nil)
		}
	}
	return a.backendError(w, r, format, code, ErrUnknownService)
}

func (a *API) getRequest(w http.ResponseWriter, r *http.Request, format, id string) error {
	if a.Backend == nil {
		return a.notRunning(w, format)
	}
	req, err := a.Backend.Request(r.Context(), id)
	if err != nil {
		return a.backendError(w, r, format, id, err)
	}
	out := []request{requestOut(*req)}
	return write(w, format, http.StatusOK, xmlRequests{Requests: out}, out)
}

// getToken: every service is realtime, so POST returns the id and never a
// token; a client that asks anyway gets the request whose id is the token.
func (a *API) getToken(w http.ResponseWriter, r *http.Request, format, token string) error {
	if a.Backend == nil {
		return a.notRunning(w, format)
	}
	req, err := a.Backend.Request(r.Context(), token)
	if errors.Is(err, ErrNotFound) {
		return writeErrors(w, format, http.StatusNotFound, fmt.Sprintf("没有这个 token：%s / no such token: %s", token, token))
	}
	if err != nil {
		return a.backendError(w, r, format, token, err)
	}
	out := []tokenOut{{ServiceRequestID: req.ID, Token: token}}
	return write(w, format, http.StatusOK, xmlTokens{Requests: out}, out)
}

// parseTime reads a w3 datetime, which must carry a zone (Z or ±hh:mm).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// splitList splits a comma list, dropping blanks (a list argument may also
// be repeated: the values are joined with commas first).
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseQuery reads GET requests' arguments, with the clock for the
// default range. It returns the query, the service codes asked for, and
// the problems, each naming its argument.
func ParseQuery(v url.Values, now time.Time) (Query, []string, []string) {
	var q Query
	var problems []string
	bad := func(zh, en string) { problems = append(problems, zh+" / "+en) }
	q.Page, q.PageSize = 1, MaxPageSize
	if s := strings.TrimSpace(v.Get("page")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			bad("page 须为正整数", "page must be a positive whole number")
		} else {
			q.Page = n
		}
	}
	if s := strings.TrimSpace(v.Get("page_size")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			bad(fmt.Sprintf("page_size 须为 1–%d 的整数", MaxPageSize), fmt.Sprintf("page_size must be a whole number from 1 to %d", MaxPageSize))
		} else {
			q.PageSize = n
		}
	}
	// service_request_id overrides every other argument.
	if ids := splitList(strings.Join(v["service_request_id"], ",")); len(ids) > 0 {
		if len(ids) > maxIDs {
			bad(fmt.Sprintf("service_request_id 最多 %d 个", maxIDs), fmt.Sprintf("service_request_id lists at most %d ids", maxIDs))
		}
		return Query{IDs: ids, Page: 1, PageSize: len(ids)}, nil, problems
	}
	codes := splitList(strings.Join(v["service_code"], ","))
	if len(codes) > maxCodes {
		bad(fmt.Sprintf("service_code 最多 %d 个", maxCodes), fmt.Sprintf("service_code lists at most %d codes", maxCodes))
	}
	switch st := splitList(strings.Join(v["status"], ",")); {
	case len(st) == 0:
	case len(st) == 1 && (st[0] == "open" || st[0] == "closed"):
		q.Status = st[0]
	case len(st) == 2 && slices.Contains(st, "open") && slices.Contains(st, "closed"):
		// both: every status
	default:
		bad("status 只能是 open 或 closed", "status must be open or closed")
	}
	var start, end time.Time
	var okStart, okEnd bool
	if s := strings.TrimSpace(v.Get("start_date")); s != "" {
		if start, okStart = parseTime(s); !okStart {
			bad("start_date 须为带时区的 W3C 时间，如 2026-01-01T00:00:00Z", "start_date must be a w3 datetime with a zone, eg 2026-01-01T00:00:00Z")
		}
	}
	if s := strings.TrimSpace(v.Get("end_date")); s != "" {
		if end, okEnd = parseTime(s); !okEnd {
			bad("end_date 须为带时区的 W3C 时间，如 2026-03-31T00:00:00Z", "end_date must be a w3 datetime with a zone, eg 2026-03-31T00:00:00Z")
		}
	}
	switch {
	case okStart && okEnd:
		if end.Before(start) {
			bad("end_date 早于 start_date", "end_date is before start_date")
		} else if end.Sub(start) > MaxSpan {
			bad("start_date 与 end_date 相隔不能超过 90 天", "start_date and end_date may not be more than 90 days apart")
		}
	case okStart:
		end = start.Add(MaxSpan)
	case okEnd:
		start = end.Add(-MaxSpan)
	default:
		end = now.UTC()
		start = end.Add(-MaxSpan)
	}
	q.Start, q.End = start, end
	if len(codes) > 1 && q.Page*q.PageSize > 5*MaxPageSize {
		bad("多个 service_code 时只能翻到前 5000 条", "with several service_code values only the first 5000 requests can be paged through")
	}
	return q, codes, problems
}

func (a *API) getRequests(w http.ResponseWriter, r *http.Request, format string) error {
	if a.Backend == nil {
		return a.notRunning(w, format)
	}
	q, codes, problems := ParseQuery(r.URL.Query(), a.Now())
	if len(problems) > 0 {
		return writeErrors(w, format, http.StatusBadRequest, problems...)
	}
	reqs, err := a.fetch(r.Context(), q, codes)
	if err != nil && !errors.Is(err, ErrUnknownService) {
		return a.backendError(w, r, format, "", err)
	}
	out := make([]request, len(reqs))
	for i, rq := range reqs {
		out[i] = requestOut(rq)
	}
	return write(w, format, http.StatusOK, xmlRequests{Requests: out}, out)
}

// fetch runs q for each service code and merges the pages, newest first
// (the Backend filters one code at a time).
func (a *API) fetch(ctx context.Context, q Query, codes []string) ([]Request, error) {
	if len(codes) <= 1 {
		if len(codes) == 1 {
			q.ServiceCode = codes[0]
		}
		return a.Backend.Requests(ctx, q)
	}
	// Each code's newest Page×PageSize requests, read in pages of at most
	// MaxPageSize (what a Backend is asked for at once).
	need := q.Page * q.PageSize
	size := min(need, MaxPageSize)
	var all []Request
	for _, c := range codes {
		got := 0
		for p := 1; got < need; p++ {
			qq := q
			qq.ServiceCode, qq.Page, qq.PageSize = c, p, size
			rs, err := a.Backend.Requests(ctx, qq)
			if err != nil && !errors.Is(err, ErrUnknownService) {
				return nil, err
			}
			all = append(all, rs...)
			got += len(rs)
			if len(rs) < size {
				break
			}
		}
	}
	slices.SortStableFunc(all, func(x, y Request) int {
		if c := y.Requested.Compare(x.Requested); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	from := min((q.Page-1)*q.PageSize, len(all))
	to := min(from+q.PageSize, len(all))
	return all[from:to], nil
}

// ParseNew validates POST requests' form (without the key). It returns the
// request and the problems, each naming its argument.
func ParseNew(form url.Values) (NewRequest, []string) {
	var nr NewRequest
	var problems []string
	bad := func(zh, en string) { problems = append(problems, zh+" / "+en) }
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }

	nr.ServiceCode = get("service_code")
	if nr.ServiceCode == "" {
		bad("缺少 service_code", "service_code is required")
	} else if len(nr.ServiceCode) > 100 {
		bad("service_code 过长", "service_code is too long")
	}

	latS, longS := get("lat"), get("long")
	nr.Address, nr.AddressID = get("address_string"), get("address_id")
	coord := func(name, s string, limit float64) *float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			bad(name+" 须为数字", name+" must be a number")
			return nil
		}
		if f < -limit || f > limit {
			bad(fmt.Sprintf("%s 须在 -%g 到 %g 之间", name, limit, limit), fmt.Sprintf("%s must be between -%g and %g", name, limit, limit))
			return nil
		}
		return &f
	}
	switch {
	case latS != "" && longS != "":
		nr.Lat, nr.Long = coord("lat", latS, 90), coord("long", longS, 180)
	case latS != "" || longS != "":
		bad("lat 与 long 须同时提供", "lat and long must be sent together")
	case nr.Address == "" && nr.AddressID == "":
		bad("缺少位置：请提供 lat 与 long、address_string 或 address_id", "a location is required: lat and long, address_string or address_id")
	}
	if utf8.RuneCountInString(nr.Address) > 500 {
		bad("address_string 不能超过 500 字", "address_string may not exceed 500 characters")
	}
	if len(nr.AddressID) > 100 {
		bad("address_id 不能超过 100 个字符", "address_id may not exceed 100 characters")
	}

	nr.Description = strings.TrimSpace(form.Get("description"))
	if n := utf8.RuneCountInString(nr.Description); n > MaxDescription {
		bad(fmt.Sprintf("description 不能超过 %d 字（现为 %d 字）", MaxDescription, n),
			fmt.Sprintf("description may not exceed %d characters (it has %d)", MaxDescription, n))
	}
	if !utf8.ValidString(nr.Description) {
		bad("description 须为 UTF-8 文本", "description must be UTF-8 text")
	}

	if nr.MediaURL = get("media_url"); nr.MediaURL != "" {
		u, err := url.Parse(nr.MediaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(nr.MediaURL) > 2000 {
			bad("media_url 须为 http 或 https 网址", "media_url must be an http or https URL")
		}
	}
	nr.Email, nr.DeviceID, nr.AccountID = get("email"), get("device_id"), get("account_id")
	nr.FirstName, nr.LastName, nr.Phone = get("first_name"), get("last_name"), get("phone")
	for _, f := range []struct{ name, v string }{{"email", nr.Email}, {"device_id", nr.DeviceID}, {"account_id", nr.AccountID},
		{"first_name", nr.FirstName}, {"last_name", nr.LastName}, {"phone", nr.Phone}} {
		if utf8.RuneCountInString(f.v) > 100 {
			bad(f.name+" 不能超过 100 字", f.name+" may not exceed 100 characters")
		}
	}
	if nr.Email != "" && (!strings.Contains(nr.Email, "@") || strings.ContainsAny(nr.Email, " \t\r\n")) {
		bad("email 格式不正确", "email is not an e-mail address")
	}

	// attribute[CODE]=v and attribute[CODE][]=v1&attribute[CODE][]=v2.
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys) // so the answer never depends on map order
	for _, k := range keys {
		vs := form[k]
		rest, ok := strings.CutPrefix(k, "attribute[")
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(rest, "[]")
		code, ok := strings.CutSuffix(rest, "]")
		if !ok || code == "" || strings.ContainsAny(code, "[]") || len(code) > 100 {
			bad("参数名不正确："+k, "malformed argument name: "+k+" (want attribute[code] or attribute[code][])")
			continue
		}
		if nr.Attributes == nil {
			nr.Attributes = map[string][]string{}
		}
		for _, v := range vs {
			if utf8.RuneCountInString(v) > maxValueLen {
				bad(fmt.Sprintf("attribute[%s] 的值不能超过 %d 字", code, maxValueLen), fmt.Sprintf("attribute[%s] may not exceed %d characters", code, maxValueLen))
				break
			}
			nr.Attributes[code] = append(nr.Attributes[code], v)
		}
	}
	if len(nr.Attributes) > maxAttributes {
		bad(fmt.Sprintf("attribute 最多 %d 项", maxAttributes), fmt.Sprintf("at most %d attributes", maxAttributes))
	}
	return nr, problems
}

func (a *API) postRequest(w http.ResponseWriter, r *http.Request, format string) error {
	if err := parseBody(w, r); err != nil {
		return writeErrors(w, format, http.StatusBadRequest, err.Error())
	}
	key := strings.TrimSpace(r.Form.Get("api_key"))
	if key == "" {
		return writeErrors(w, format, http.StatusForbidden, "缺少 api_key，无法提交诉求 / missing api_key -- can't proceed with create_request")
	}
	name, err := a.Keys.Check(r.Context(), key)
	if err != nil {
		return a.backendError(w, r, format, "", err)
	}
	if name == "" {
		return writeErrors(w, format, http.StatusForbidden, "api_key 无效或已撤销，无法提交诉求 / invalid or revoked api_key -- can't proceed with create_request")
	}
	if a.Backend == nil {
		return a.notRunning(w, format)
	}
	nr, problems := ParseNew(r.Form)
	if len(problems) > 0 {
		return writeErrors(w, format, http.StatusBadRequest, problems...)
	}
	// The service's attributes: required ones present, values of the
	// right type or from the list.
	svcs, err := a.Backend.Services(r.Context())
	if err != nil {
		return a.backendError(w, r, format, nr.ServiceCode, err)
	}
	i := slices.IndexFunc(svcs, func(s Service) bool { return s.Code == nr.ServiceCode })
	if i < 0 {
		return a.backendError(w, r, format, nr.ServiceCode, ErrUnknownService)
	}
	if problems := CheckAttributes(svcs[i], nr.Attributes); len(problems) > 0 {
		return writeErrors(w, format, http.StatusBadRequest, problems...)
	}
	nr.KeyName = name
	id, notice, err := a.Backend.Submit(r.Context(), nr)
	if err != nil {
		return a.backendError(w, r, format, nr.ServiceCode, err)
	}
	out := []created{{ServiceRequestID: id, ServiceNotice: nstr(notice)}}
	return write(w, format, http.StatusOK, xmlCreated{Requests: out}, out)
}

// parseBody reads a form-encoded (or multipart) body of at most 1 MiB.
func parseBody(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return bodyError(err)
		}
	case ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if ct == "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if err := r.ParseForm(); err != nil {
			return bodyError(err)
		}
	default:
		return fmt.Errorf("请求体须为 application/x-www-form-urlencoded / the body must be application/x-www-form-urlencoded, not %s", ct)
	}
	return nil
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("请求过大（上限 %d 字节）/ request too large (limit %d bytes)", mbe.Limit, mbe.Limit)
	}
	return fmt.Errorf("请求体无法解析 / the form cannot be parsed: %v", err)
}

// CheckAttributes checks the attribute[...] values sent for a service
// against its definition; attributes it does not define pass through.
func CheckAttributes(s Service, got map[string][]string) []string {
	var problems []string
	bad := func(zh, en string) { problems = append(problems, zh+" / "+en) }
	for _, at := range s.Attributes {
		var vs []string
		for _, v := range got[at.Code] {
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
		name := "attribute[" + at.Code + "]"
		if len(vs) == 0 {
			if at.Required {
				bad("缺少 "+name, name+" is required")
			}
			continue
		}
		inList := func(v string) bool {
			return slices.ContainsFunc(at.Values, func(x AttributeValue) bool { return x.Key == v })
		}
		keys := make([]string, len(at.Values))
		for i, x := range at.Values {
			keys[i] = x.Key
		}
		switch at.Datatype {
		case "singlevaluelist":
			if len(vs) > 1 {
				bad(name+" 只能有一个值", name+" takes one value")
			} else if !inList(vs[0]) {
				bad(fmt.Sprintf("%s 须为 %s 之一", name, strings.Join(keys, "、")), fmt.Sprintf("%s must be one of %s", name, strings.Join(keys, ", ")))
			}
		case "multivaluelist":
			for _, v := range vs {
				if !inList(v) {
					bad(fmt.Sprintf("%s 的值须为 %s", name, strings.Join(keys, "、")), fmt.Sprintf("%s values must be among %s", name, strings.Join(keys, ", ")))
					break
				}
			}
		case "number":
			if f, err := strconv.ParseFloat(vs[0], 64); len(vs) > 1 || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				bad(name+" 须为一个数字", name+" must be one number")
			}
		case "datetime":
			if _, ok := parseTime(vs[0]); len(vs) > 1 || !ok {
				bad(name+" 须为带时区的 W3C 时间", name+" must be one w3 datetime with a zone")
			}
		case "string":
			if len(vs) > 1 || strings.ContainsAny(vs[0], "\r\n") {
				bad(name+" 须为一行文字", name+" must be one line of text")
			}
		}
	}
	return problems
}
