// Package org keeps the organisational units (单位) and the people (人员)
// who work in them: the unit tree, people with masked phone numbers, the
// pages and API to read and edit them, and Excel import and export.
package org

import (
	"bytes"
	"encoding/json"
	"time"
)

// Kind is what sort of unit a unit is.
type Kind string

// The unit kinds (glossary: unit).
const (
	KindOffice    Kind = "office"    // 办公室
	KindSection   Kind = "section"   // 科室
	KindAffiliate Kind = "affiliate" // 直属单位
	KindDistrict  Kind = "district"  // 区县
	KindBranch    Kind = "branch"    // 党支部
	KindOutpost   Kind = "outpost"   // 驻外机构
)

// Kinds in display order.
var Kinds = []Kind{KindOffice, KindSection, KindAffiliate, KindDistrict, KindBranch, KindOutpost}

// kindZH are the Chinese labels, used in spreadsheets as well as pages.
var kindZH = map[Kind]string{
	KindOffice: "办公室", KindSection: "科室", KindAffiliate: "直属单位",
	KindDistrict: "区县", KindBranch: "党支部", KindOutpost: "驻外机构",
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := kindZH[k]; return ok }

// Label is the Chinese label of k (办公室, 科室, …).
func (k Kind) Label() string { return kindZH[k] }

// Unit is an organisational unit; units form a tree through ParentID.
type Unit struct {
	ID        int64     `json:"id"`
	ParentID  *int64    `json:"parent_id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Kind      Kind      `json:"kind"`
	SortOrder int       `json:"sort_order"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Person is someone working in a unit. Phone is stored in full; every
// output path masks it unless the viewer may see it (people.pii).
type Person struct {
	ID        int64  `json:"id"`
	UnitID    int64  `json:"unit_id"`
	UnitCode  string `json:"unit_code"`
	UnitName  string `json:"unit_name"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	Phone     string `json:"phone"`
	BirthYear *int   `json:"birth_year"`
	// JoinedOn is a civil date, YYYY-MM-DD, or empty.
	JoinedOn  string    `json:"joined_on"`
	Rank      string    `json:"rank"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UnitInput creates a unit. The parent is named by ParentID or by
// ParentCode (handy for demo data and scripts); both may be empty for a root.
type UnitInput struct {
	ParentID   *int64 `json:"parent_id"`
	ParentCode string `json:"parent_code,omitempty"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Kind       Kind   `json:"kind"`
	SortOrder  int    `json:"sort_order"`
	// Active defaults to true.
	Active *bool `json:"active,omitempty"`
}

// UnitPatch changes some fields of a unit; absent fields stay as they are.
// ParentID distinguishes "absent" from null (make it a root).
type UnitPatch struct {
	ParentID  Nullable[int64] `json:"parent_id"`
	Code      *string         `json:"code,omitempty"`
	Name      *string         `json:"name,omitempty"`
	Kind      *Kind           `json:"kind,omitempty"`
	SortOrder *int            `json:"sort_order,omitempty"`
	Active    *bool           `json:"active,omitempty"`
}

// PersonInput creates a person; the unit is named by UnitID or UnitCode.
type PersonInput struct {
	UnitID    int64  `json:"unit_id"`
	UnitCode  string `json:"unit_code,omitempty"`
	Name      string `json:"name"`
	Title     string `json:"title"`
	Phone     string `json:"phone"`
	BirthYear *int   `json:"birth_year"`
	JoinedOn  string `json:"joined_on"`
	Rank      string `json:"rank"`
	// Active defaults to true.
	Active *bool `json:"active,omitempty"`
}

// PersonPatch changes some fields of a person; absent fields stay. An empty
// Phone or JoinedOn clears it; a null birth_year clears it.
type PersonPatch struct {
	UnitID    *int64        `json:"unit_id,omitempty"`
	Name      *string       `json:"name,omitempty"`
	Title     *string       `json:"title,omitempty"`
	Phone     *string       `json:"phone,omitempty"`
	BirthYear Nullable[int] `json:"birth_year"`
	JoinedOn  *string       `json:"joined_on,omitempty"`
	Rank      *string       `json:"rank,omitempty"`
	Active    *bool         `json:"active,omitempty"`
}

// Nullable is a JSON field that can be absent (Set false), null (Set true,
// Value nil) or a value.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// Some returns a set, non-null value.
func Some[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: &v} }

// UnmarshalJSON is only called when the field is present, which is what
// tells absent from null.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// MarshalJSON writes the value or null.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*n.Value)
}

// PeopleFilter narrows a people listing.
type PeopleFilter struct {
	UnitID int64
	// Q matches name, title and rank; phone only when SearchPhone is set
	// (for viewers who may see phones, so a search cannot probe masked numbers).
	Q           string
	SearchPhone bool
	Limit       int
	Offset      int
}

// TreeNode is a unit with its children and head count, for the tree page.
type TreeNode struct {
	Unit
	People   int
	Children []*TreeNode
}
