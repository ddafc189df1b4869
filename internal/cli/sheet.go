package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/biaogan/biaogan/internal/apperr"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/config"
)

func runImport(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("import", &cfg)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || !oneOf(pos[0], "units", "people") {
		return usagef("say what to import (units or people) and the .xlsx file")
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := c.open(&cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	actor := audit.Entry{Actor: "cli"}
	var res fmt.Stringer
	if pos[0] == "units" {
		r, err := a.Org.ImportUnits(c, actor, f)
		if err != nil {
			return importError(c, err)
		}
		res = r
	} else {
		r, err := a.Org.ImportPeople(c, actor, f)
		if err != nil {
			return importError(c, err)
		}
		res = r
	}
	fmt.Fprintln(c.stdout, res.String())
	return nil
}

func runExport(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("export", &cfg)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || !oneOf(pos[0], "units", "people") {
		return usagef("say what to export (units or people) and the .xlsx file")
	}
	a, err := c.open(&cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	f, err := os.OpenFile(pos[1], os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	actor := audit.Entry{Actor: "cli"}
	if pos[0] == "units" {
		err = a.Org.ExportUnits(c, actor, f)
	} else {
		err = a.Org.ExportPeople(c, actor, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(pos[1])
		return err
	}
	fmt.Fprintf(c.stdout, "exported %s to %s\n", pos[0], pos[1])
	return nil
}

// importError prints every bad row before returning the error.
func importError(c *ctx, err error) error {
	if e, ok := apperr.As(err); ok && e.Details != nil {
		b, _ := json.MarshalIndent(e.Details, "", "  ")
		fmt.Fprintln(c.stderr, string(b))
	}
	return err
}
