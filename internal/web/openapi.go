package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// OpenAPI gathers the document from fragments that features embed next to
// their handlers (an "openapi.json" holding "paths" and "components").
type OpenAPI struct {
	mu      sync.Mutex
	version string
	paths   map[string]map[string]any
	schemas map[string]any
}

// NewOpenAPI returns an empty document.
func NewOpenAPI(version string) *OpenAPI {
	return &OpenAPI{version: version, paths: map[string]map[string]any{}, schemas: map[string]any{}}
}

// AddFragment merges a fragment file from fsys.
func (o *OpenAPI) AddFragment(fsys fs.FS, name string) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("openapi: read %s: %w", name, err)
	}
	var frag struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &frag); err != nil {
		return fmt.Errorf("openapi: parse %s: %w", name, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for p, ops := range frag.Paths {
		if o.paths[p] == nil {
			o.paths[p] = map[string]any{}
		}
		for m, op := range ops {
			o.paths[p][m] = op
		}
	}
	for k, v := range frag.Components.Schemas {
		o.schemas[k] = v
	}
	return nil
}

// Has reports whether the document describes method on path ("/api/v1/units/{id}").
func (o *OpenAPI) Has(method, path string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	rel := strings.TrimPrefix(path, "/api/v1")
	ops := o.paths[rel]
	_, ok := ops[strings.ToLower(method)]
	return ok
}

// Document returns the whole OpenAPI 3.1 document.
func (o *OpenAPI) Document() map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	keys := make([]string, 0, len(o.paths))
	for k := range o.paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	paths := map[string]any{}
	for _, k := range keys {
		paths[k] = o.paths[k]
	}
	schemas := map[string]any{"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
		"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
			"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}, "field": map[string]any{"type": "string"}}}}}}
	for k, v := range o.schemas {
		schemas[k] = v
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "biaogan API", "version": o.version,
			"description": "标杆 JSON API. Lists are {\"items\": [...], \"total\": N}; errors are {\"error\": {\"code\", \"message\"}}. Sign in with POST /auth/login or a personal token, then send Authorization: Bearer <token>."},
		"servers":    []any{map[string]any{"url": "/api/v1"}},
		"paths":      paths,
		"security":   []any{map[string]any{"bearer": []string{}}},
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

func (o *OpenAPI) serve(w http.ResponseWriter, r *http.Request) error {
	return WriteJSON(w, http.StatusOK, o.Document())
}
