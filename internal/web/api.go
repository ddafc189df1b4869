package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
)

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// List is the shape of every list response.
type List[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// WriteList writes {"items": [...], "total": N}; items is never null.
func WriteList[T any](w http.ResponseWriter, items []T, total int) error {
	if items == nil {
		items = []T{}
	}
	return WriteJSON(w, http.StatusOK, List[T]{Items: items, Total: total})
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Details any    `json:"details,omitempty"`
	RetryAt string `json:"retry_at,omitempty"`
}

// WriteError writes {"error": {"code", "message"}} with e's status.
func WriteError(w http.ResponseWriter, e *apperr.Error) {
	d := errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, Details: e.Details}
	if !e.RetryAt.IsZero() {
		d.RetryAt = e.RetryAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	_ = WriteJSON(w, e.Status, errorBody{Error: d})
}

// DecodeJSON reads a JSON body into v, refusing unknown fields and naming
// the problem when the body is malformed.
func DecodeJSON(r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/json") {
		return apperr.BadRequest("bad_content_type", "请求体须为 application/json / body must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return apperr.BadRequest("empty_body", "请求体为空 / request body is empty")
		case errors.As(err, &syn):
			return apperr.BadRequest("malformed_json", fmt.Sprintf("JSON 格式错误（第 %d 字节）/ malformed JSON at byte %d", syn.Offset, syn.Offset))
		case errors.As(err, &typ):
			return &apperr.Error{Status: http.StatusBadRequest, Code: "malformed_json", Field: typ.Field,
				Message: fmt.Sprintf("字段 %s 类型应为 %s / field %s must be %s", typ.Field, typ.Type, typ.Field, typ.Type)}
		case errors.As(err, &mbe):
			return err
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &apperr.Error{Status: http.StatusBadRequest, Code: "unknown_field", Field: f, Message: fmt.Sprintf("未知字段 %s / unknown field %s", f, f)}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return apperr.BadRequest("malformed_json", "JSON 不完整 / JSON ends early")
		default:
			return apperr.BadRequest("malformed_json", "JSON 无法解析 / "+err.Error())
		}
	}
	if dec.More() {
		return apperr.BadRequest("malformed_json", "JSON 之后有多余内容 / extra data after the JSON value")
	}
	return nil
}

// Page reads limit and offset (default 50, at most 500).
func Paging(r *http.Request) (limit, offset int, err error) {
	limit, offset = 50, 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, e := strconv.Atoi(s)
		if e != nil || n < 1 || n > 500 {
			return 0, 0, apperr.Invalid("limit", "limit 须为 1–500 的整数 / limit must be an integer 1–500")
		}
		limit = n
	}
	if s := r.URL.Query().Get("offset"); s != "" {
		n, e := strconv.Atoi(s)
		if e != nil || n < 0 {
			return 0, 0, apperr.Invalid("offset", "offset 须为非负整数 / offset must be a non-negative integer")
		}
		offset = n
	}
	return limit, offset, nil
}

// PathID parses a numeric path value.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.BadRequest("invalid_"+name, fmt.Sprintf("路径参数 %s 须为正整数 / path value %s must be a positive integer", name, name))
	}
	return id, nil
}
