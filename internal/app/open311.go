package app

import (
	"context"

	"github.com/biaogan/biaogan/internal/appeal"
	"github.com/biaogan/biaogan/internal/appeal/open311"
	"github.com/biaogan/biaogan/internal/web"
)

// wireOpen311 serves the Open311 GeoReport v2 API over a.Open311Backend
// (issue 6) and the page where the system admin issues and revokes keys.
// Without a backend the API answers the spec's "service is not running".
func (a *App) wireOpen311(ws *web.Server) error {
	var b open311.Backend
	if a.Open311Backend != nil {
		b = kindAttribute{a.Open311Backend}
	}
	api := open311.New(b, open311.NewKeys(a.DB, a.Audit, a.Now), a.Now, a.Log)
	return api.Register(ws)
}

// kindAttribute describes to Open311 clients the one attribute the work
// orders read, attribute[kind] (the appeal type; 求助 when not sent), on
// every service that defines none of its own.
type kindAttribute struct{ open311.Backend }

// kindNames names the appeal types for Open311 clients.
var kindNames = map[appeal.Kind]string{
	appeal.KindConsult: "咨询 consultation", appeal.KindHelp: "求助 request for help", appeal.KindComplaint: "投诉 complaint",
	appeal.KindReport: "举报 report of wrongdoing", appeal.KindSuggestion: "建议 suggestion",
}

func (k kindAttribute) Services(ctx context.Context) ([]open311.Service, error) {
	svcs, err := k.Backend.Services(ctx)
	if err != nil {
		return nil, err
	}
	at := open311.Attribute{Code: "kind", Datatype: "singlevaluelist", Order: 1,
		Description: "诉求类型（不填为求助）/ type of appeal (help when not given)"}
	for _, kd := range appeal.Kinds {
		name := kindNames[kd]
		if name == "" {
			name = string(kd)
		}
		at.Values = append(at.Values, open311.AttributeValue{Key: string(kd), Name: name})
	}
	for i := range svcs {
		if len(svcs[i].Attributes) == 0 {
			svcs[i].Attributes = []open311.Attribute{at}
		}
	}
	return svcs, nil
}
