package web

import "embed"

// BaseOpenAPI holds openapi.json, the fragment describing the base API
// routes of registerBase (sign-in, sign-out, me, the document itself); app
// adds it with s.OpenAPI.AddFragment(web.BaseOpenAPI, "openapi.json").
//
//go:embed openapi.json
var BaseOpenAPI embed.FS
