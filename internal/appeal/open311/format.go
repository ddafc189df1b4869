package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The two formats the API serves; the client picks one with the extension.
const (
	formatXML  = "xml"
	formatJSON = "json"
)

// xmlDecl is the declaration every XML response starts with (the spec
// requires it, with the encoding).
const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// utc formats t in the w3 datetime format, always UTC with Z.
func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// nstr is a string that is null in JSON when empty (the spec's examples
// show optional fields as null) and an empty element in XML.
type nstr string

func (s nstr) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// write encodes v as the format asks. For XML, v is the root element; for
// JSON, jv (the Spark-convention shape: lists are bare arrays) when given.
func write(w http.ResponseWriter, format string, status int, v any, jv any) error {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	if format == formatJSON {
		if jv == nil {
			jv = v
		}
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(jv); err != nil {
			return fmt.Errorf("open311: encode json: %w", err)
		}
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		buf.WriteString(xmlDecl)
		enc := xml.NewEncoder(&buf)
		enc.Indent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("open311: encode xml: %w", err)
		}
		buf.WriteByte('\n')
		h.Set("Content-Type", "text/xml; charset=utf-8")
	}
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// apiError is one entry of an error response.
type apiError struct {
	Code        int    `xml:"code" json:"code"`
	Description string `xml:"description" json:"description"`
}

type xmlErrors struct {
	XMLName xml.Name   `xml:"errors"`
	Errors  []apiError `xml:"error"`
}

// writeErrors answers with the spec's error list; status is the HTTP
// status (403 bad key, 404 unknown resource, 400 otherwise) and each
// entry's code is that status too, so clients that compare them agree.
func writeErrors(w http.ResponseWriter, format string, status int, descriptions ...string) error {
	errs := make([]apiError, len(descriptions))
	for i, d := range descriptions {
		errs[i] = apiError{Code: status, Description: d}
	}
	w.Header().Set("X-Biaogan-Error", fmt.Sprintf("open311_%d", status))
	return write(w, format, status, xmlErrors{Errors: errs}, errs)
}

// service is one entry of GET services.
type service struct {
	XMLName     xml.Name `xml:"service" json:"-"`
	ServiceCode string   `xml:"service_code" json:"service_code"`
	ServiceName string   `xml:"service_name" json:"service_name"`
	Description nstr     `xml:"description" json:"description"`
	Metadata    bool     `xml:"metadata" json:"metadata"`
	Type        string   `xml:"type" json:"type"`
	Keywords    nstr     `xml:"keywords" json:"keywords"`
	Group       nstr     `xml:"group" json:"group"`
}

type xmlServices struct {
	XMLName  xml.Name  `xml:"services"`
	Services []service `xml:"service"`
}

func serviceOut(s Service) service {
	return service{ServiceCode: s.Code, ServiceName: s.Name, Description: nstr(s.Description), Metadata: len(s.Attributes) > 0,
		Type: "realtime", Keywords: nstr(strings.Join(s.Keywords, ", ")), Group: nstr(s.Group)}
}

// serviceDefinition is GET services/{code}: the service's attributes (an
// empty list when it has none; metadata is false in the list then).
type serviceDefinition struct {
	XMLName     xml.Name    `xml:"service_definition" json:"-"`
	ServiceCode string      `xml:"service_code" json:"service_code"`
	Attributes  []attribute `xml:"attributes>attribute" json:"attributes"`
}

type attribute struct {
	Variable            bool       `xml:"variable" json:"variable"`
	Code                string     `xml:"code" json:"code"`
	Datatype            string     `xml:"datatype" json:"datatype"`
	Required            bool       `xml:"required" json:"required"`
	DatatypeDescription nstr       `xml:"datatype_description" json:"datatype_description"`
	Order               int        `xml:"order" json:"order"`
	Description         string     `xml:"description" json:"description"`
	Values              []valueOut `xml:"values>value,omitempty" json:"values,omitempty"`
}

type valueOut struct {
	Key  string `xml:"key" json:"key"`
	Name string `xml:"name" json:"name"`
}

func definitionOut(s Service) serviceDefinition {
	d := serviceDefinition{ServiceCode: s.Code, Attributes: []attribute{}}
	for i, at := range s.Attributes {
		order := at.Order
		if order == 0 {
			order = i + 1
		}
		o := attribute{Variable: true, Code: at.Code, Datatype: at.Datatype, Required: at.Required, Order: order, Description: at.Description}
		for _, v := range at.Values {
			o.Values = append(o.Values, valueOut{Key: v.Key, Name: v.Name})
		}
		d.Attributes = append(d.Attributes, o)
	}
	return d
}

// request is one entry of GET requests and GET requests/{id}. There is no
// field for personal data: the Request a Backend returns has none either.
type request struct {
	XMLName           xml.Name `xml:"request" json:"-"`
	ServiceRequestID  string   `xml:"service_request_id" json:"service_request_id"`
	Status            string   `xml:"status" json:"status"`
	StatusNotes       nstr     `xml:"status_notes" json:"status_notes"`
	ServiceName       string   `xml:"service_name" json:"service_name"`
	ServiceCode       string   `xml:"service_code" json:"service_code"`
	Description       nstr     `xml:"description" json:"description"`
	AgencyResponsible nstr     `xml:"agency_responsible" json:"agency_responsible"`
	ServiceNotice     nstr     `xml:"service_notice" json:"service_notice"`
	RequestedDatetime string   `xml:"requested_datetime" json:"requested_datetime"`
	UpdatedDatetime   string   `xml:"updated_datetime" json:"updated_datetime"`
	ExpectedDatetime  nstr     `xml:"expected_datetime" json:"expected_datetime"`
	Address           nstr     `xml:"address" json:"address"`
	AddressID         nstr     `xml:"address_id" json:"address_id"`
	Zipcode           nstr     `xml:"zipcode" json:"zipcode"`
	Lat               *float64 `xml:"lat" json:"lat"`
	Long              *float64 `xml:"long" json:"long"`
	MediaURL          nstr     `xml:"media_url" json:"media_url"`
}

func requestOut(r Request) request {
	updated := r.Updated
	if updated.IsZero() {
		updated = r.Requested
	}
	return request{ServiceRequestID: r.ID, Status: r.Status, StatusNotes: nstr(r.StatusNotes), ServiceName: r.ServiceName,
		ServiceCode: r.ServiceCode, Description: nstr(r.Description), AgencyResponsible: nstr(r.AgencyResponsible),
		ServiceNotice: nstr(r.ServiceNotice), RequestedDatetime: utc(r.Requested), UpdatedDatetime: utc(updated),
		ExpectedDatetime: nstr(utc(r.Expected)), Address: nstr(r.Address), AddressID: nstr(r.AddressID),
		Lat: r.Lat, Long: r.Long, MediaURL: nstr(r.MediaURL)}
}

type xmlRequests struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []request `xml:"request"`
}

// created is the answer to POST requests: realtime, so an id and no token.
type created struct {
	XMLName          xml.Name `xml:"request" json:"-"`
	ServiceRequestID string   `xml:"service_request_id" json:"service_request_id"`
	ServiceNotice    nstr     `xml:"service_notice" json:"service_notice"`
	AccountID        nstr     `xml:"account_id" json:"account_id"`
}

type xmlCreated struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []created `xml:"request"`
}

// tokenOut is GET tokens/{token}.
type tokenOut struct {
	XMLName          xml.Name `xml:"request" json:"-"`
	ServiceRequestID string   `xml:"service_request_id" json:"service_request_id"`
	Token            string   `xml:"token" json:"token"`
}

type xmlTokens struct {
	XMLName  xml.Name   `xml:"service_requests"`
	Requests []tokenOut `xml:"request"`
}

// discovery is the Service Discovery document.
type discovery struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact" json:"contact"`
	KeyService string     `xml:"key_service" json:"key_service"`
	Endpoints  []endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

type endpoint struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}
