// Package apperr holds the typed domain error every feature returns, so each
// failure maps to one HTTP status and one stable error code.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is a failure a user can act on.
type Error struct {
	Status  int    // HTTP status
	Code    string // stable, e.g. "unit_not_found"
	Message string // for people, in the request's language where possible
	Field   string // the offending field, when there is one
	// Details carries extra data (e.g. row errors of an import).
	Details any
	// RetryAt is set for locks and rate limits.
	RetryAt time.Time
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// As finds an *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Invalid is a 422 naming the field.
func Invalid(field, msg string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + field, Field: field, Message: msg}
}

// BadRequest is a 400 for malformed requests.
func BadRequest(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

// NotFound is a 404.
func NotFound(code, msg string) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: msg}
}

// Conflict is a 409.
func Conflict(code, msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: msg}
}

// Forbidden is a 403.
func Forbidden(code, msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: code, Message: msg}
}

// Unauthorized is a 401.
func Unauthorized(code, msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: code, Message: msg}
}
