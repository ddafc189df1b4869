package workday

import (
	"bytes"
	"embed"
	"fmt"
	"path"
)

// The yearly State Council notices as published by the holiday-cn project
// (github.com/NateScarlet/holiday-cn, MIT). They are compiled in so the
// product needs no network or shared files at run time.
//
//go:embed data/*.json
var dataFS embed.FS

//go:embed data/LICENSE
var dataLicense string

// DataLicense returns the licence notice of the embedded holiday data, to be
// shown with the product's other notices as the MIT licence requires.
func DataLicense() string { return dataLicense }

// embeddedYears parses the embedded files. They are checked by the tests, so
// a failure here is a build defect and panics rather than starting a server
// that counts deadlines wrongly.
func embeddedYears() map[int]Year {
	entries, err := dataFS.ReadDir("data")
	if err != nil {
		panic(fmt.Errorf("workday: read embedded data: %w", err))
	}
	years := make(map[int]Year, len(entries))
	for _, e := range entries {
		name := path.Join("data", e.Name())
		b, err := dataFS.ReadFile(name)
		if err != nil {
			panic(fmt.Errorf("workday: read embedded %s: %w", name, err))
		}
		y, err := ParseYear(bytes.NewReader(b))
		if err != nil {
			panic(fmt.Errorf("workday: embedded %s: %w", name, err))
		}
		if want := e.Name()[:len(e.Name())-len(".json")]; fmt.Sprint(y.Year) != want {
			panic(fmt.Errorf("workday: embedded %s: states year %d", name, y.Year))
		}
		years[y.Year] = y
	}
	return years
}
