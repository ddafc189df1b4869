// Package open311 serves the Open311 GeoReport v2 API under /open311/v2
// over a Backend that the appeal feature provides (app wires it).
package open311

import (
	"context"
	"time"
)

// Service is a leaf category offered as an Open311 service.
type Service struct {
	Code        string
	Name        string
	Description string
	Group       string // the parent category's name
	Keywords    []string
	// Attributes are the extra fields the service asks for (GET
	// services/{code}); none means metadata=false.
	Attributes []Attribute
}

// Attribute is an extra field of a service, sent as attribute[Code].
type Attribute struct {
	Code        string
	Datatype    string // string, number, datetime, text, singlevaluelist or multivaluelist
	Required    bool
	Description string
	Order       int              // 1 first
	Values      []AttributeValue // the choices of a singlevaluelist or multivaluelist
}

// AttributeValue is one choice of a value list.
type AttributeValue struct{ Key, Name string }

// Request is a work order as Open311 shows it: never any personal data.
type Request struct {
	ID                string
	Status            string // "open" or "closed"
	StatusNotes       string
	ServiceCode       string
	ServiceName       string
	Description       string
	AgencyResponsible string // the handling unit's name
	ServiceNotice     string
	Requested         time.Time
	Updated           time.Time
	Expected          time.Time // the deadline; zero when none yet
	Address           string
	AddressID         string
	Lat, Long         *float64
	MediaURL          string
}

// NewRequest is a validated POST requests.
type NewRequest struct {
	ServiceCode string
	Lat, Long   *float64
	Address     string
	AddressID   string
	Description string
	MediaURL    string
	Email       string
	DeviceID    string
	AccountID   string
	FirstName   string
	LastName    string
	Phone       string
	Attributes  map[string][]string
	KeyName     string // which API key submitted it
}

// Query selects requests for GET requests.
type Query struct {
	IDs         []string
	ServiceCode string
	Start, End  time.Time
	Status      string // "", "open" or "closed"
	Page        int    // 1-based
	PageSize    int
}

// Backend is what the API needs from the appeal feature. Submit returns
// ErrUnknownService for an unknown code; Request returns ErrNotFound.
type Backend interface {
	Services(ctx context.Context) ([]Service, error)
	Submit(ctx context.Context, r NewRequest) (id, notice string, err error)
	Requests(ctx context.Context, q Query) ([]Request, error)
	Request(ctx context.Context, id string) (*Request, error)
}

// Errors a Backend returns for the API to map to the spec's statuses.
var (
	ErrUnknownService = errorString("unknown service_code")
	ErrNotFound       = errorString("request not found")
)

type errorString string

func (e errorString) Error() string { return string(e) }
