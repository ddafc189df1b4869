package org

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/biaogan/biaogan/internal/apperr"
)

// localError is an apperr.Error that remembers its message key, so pages can
// show the message in the viewer's language while the API and the CLI get
// the usual "中文 / English" text.
type localError struct {
	e    *apperr.Error
	key  string
	args []any
}

func (l *localError) Error() string { return l.e.Error() }
func (l *localError) Unwrap() error { return l.e }

// Text is the message in lang.
func (l *localError) Text(lang string) string { return tr(lang, l.key, l.args...) }

// both is a message in both languages, the house style for API errors.
func both(key string, args ...any) string {
	return tr("zh-CN", key, args...) + " / " + tr("en", key, args...)
}

func newErr(status int, code, field, key string, args ...any) error {
	return &localError{e: &apperr.Error{Status: status, Code: code, Field: field, Message: both(key, args...)}, key: key, args: args}
}

// invalid is a 422 naming the field.
func invalid(field, key string, args ...any) error {
	return newErr(http.StatusUnprocessableEntity, "invalid_"+field, field, key, args...)
}

func errUnitNotFound() error {
	return newErr(http.StatusNotFound, "unit_not_found", "", "org.err.unit_not_found")
}

func errPersonNotFound() error {
	return newErr(http.StatusNotFound, "person_not_found", "", "org.err.person_not_found")
}

// errorText returns the field and the message of err in lang, when err is
// a domain error a user can act on.
func errorText(lang string, err error) (field, text string, ok bool) {
	var l *localError
	if errors.As(err, &l) {
		return l.e.Field, l.Text(lang), true
	}
	if e, ok := apperr.As(err); ok {
		return e.Field, e.Message, true
	}
	return "", "", false
}

// fieldErrors collects field → message for re-rendering a form.
type fieldErrors map[string]string

func (f fieldErrors) add(field, msg string) {
	if _, dup := f[field]; !dup {
		f[field] = msg
	}
}

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	return fmt.Errorf("org: "+format+": %w", append(args, err)...)
}
