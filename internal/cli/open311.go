package cli

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/biaogan/biaogan/internal/app"
	"github.com/biaogan/biaogan/internal/appeal/open311"
	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/config"
)

const open311Usage = `open311 key add NAME      issue an API key for an Open311 client and print it (shown once)
       open311 key list          list the keys: id, name, start of the key, issued, last used, status
       open311 key revoke ID     revoke a key; clients using it get 403 at once`

// runOpen311 manages the Open311 GeoReport v2 API keys (the same store as
// the admin page /admin/open311).
func runOpen311(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("open311", &cfg)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || pos[0] != "key" || !oneOf(pos[1], "add", "list", "revoke") {
		return usagef("say key add, key list or key revoke\n%s", open311Usage)
	}
	want := map[string]int{"add": 3, "list": 2, "revoke": 3}[pos[1]]
	if len(pos) != want {
		return usagef("key %s takes %d argument(s)\n%s", pos[1], want-2, open311Usage)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	d, err := app.Open(c, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	keys := open311.NewKeys(d, audit.New(d), nil)
	actor := audit.Entry{Actor: "cli"}
	switch pos[1] {
	case "add":
		secret, k, err := keys.Add(c, actor, pos[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "key %d %q issued; it is shown this once, only its digest is stored:\n", k.ID, k.Name)
		fmt.Fprintln(c.stdout, secret)
	case "list":
		ks, err := keys.List(c)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tKEY\tISSUED\tBY\tLAST USED\tSTATUS")
		for _, k := range ks {
			used, status := "-", "active"
			if k.LastUsedAt != nil {
				used = k.LastUsedAt.UTC().Format("2006-01-02 15:04Z")
			}
			if k.RevokedAt != nil {
				status = "revoked " + k.RevokedAt.UTC().Format("2006-01-02 15:04Z")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.CreatedAt.UTC().Format("2006-01-02 15:04Z"), k.CreatedBy, used, status)
		}
		return tw.Flush()
	case "revoke":
		id, err := strconv.ParseInt(pos[2], 10, 64)
		if err != nil || id < 1 {
			return usagef("ID %q: want the key's number from open311 key list", pos[2])
		}
		if err := keys.Revoke(c, actor, id); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "key %d revoked\n", id)
	}
	return nil
}
