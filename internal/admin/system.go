package admin

import (
	"net/http"
	"strings"

	"github.com/biaogan/biaogan/internal/auth"
)

// infoKeys maps plain SystemInfo keys to their messages.
var infoKeys = map[string]string{
	"version": "system.version", "database": "system.db_engine", "db": "system.db_engine", "engine": "system.db_engine",
	"data": "system.data_dir", "data dir": "system.data_dir", "schema": "system.schema_version", "schema version": "system.schema_version",
	"time zone": "system.time_zone", "timezone": "system.time_zone", "zone": "system.time_zone",
}

type adminRoleRow struct {
	Role  auth.Role
	Duty  string // message key
	Perms []auth.Permission
}

type systemView struct {
	Info  []KV // keys already translated
	Roles []adminRoleRow
}

func (ad *Admin) getSystem(w http.ResponseWriter, r *http.Request) error {
	v := &systemView{}
	page := ad.s.NewPage(r, "system.title", v)
	if ad.opts.SystemInfo != nil {
		for _, kv := range ad.opts.SystemInfo(r.Context()) {
			key := kv.Key
			if k, ok := infoKeys[strings.ToLower(key)]; ok {
				key = k
			}
			v.Info = append(v.Info, KV{Key: page.T(key), Value: kv.Value})
		}
	}
	for _, role := range auth.AdminRoles {
		v.Roles = append(v.Roles, adminRoleRow{Role: role, Duty: "system.duty." + string(role), Perms: auth.Matrix[role]})
	}
	return ad.s.HTMLPage(w, http.StatusOK, "admin_system.html", page)
}
