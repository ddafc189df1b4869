package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/biaogan/biaogan/internal/apperr"
)

// FeatureStatic serves a feature's own scripts and styles from dir in its
// embedded files, at a route with a {file} wildcard (e.g. GET
// /static/supervise/{file}). Only .js and .css are served: with the strict
// CSP these are the only page assets a feature ships besides templates.
func FeatureStatic(files fs.FS, dir string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("file")
		if strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
			return apperr.NotFound("not_found", "not found")
		}
		var ctype string
		switch {
		case strings.HasSuffix(name, ".js"):
			ctype = "text/javascript; charset=utf-8"
		case strings.HasSuffix(name, ".css"):
			ctype = "text/css; charset=utf-8"
		default:
			return apperr.NotFound("not_found", "not found")
		}
		b, err := fs.ReadFile(files, dir+"/"+name)
		if err != nil {
			return apperr.NotFound("not_found", "not found")
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, err = w.Write(b)
		return err
	}
}
