package cli

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/config"
)

const userUsage = `user add --username U --password P --role R[,R2] [--unit CODE] [--name NAME]
       user passwd --username U [--password P]   (reads the password from stdin when not given)
       user disable|enable|unlock --username U
       user list`

func runUser(c *ctx, args []string) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprintln(c.stdout, "usage: biaogan "+userUsage)
		return nil
	}
	sub := args[0]
	var cfg config.Config
	fs := c.flags("user "+sub, &cfg)
	username := fs.String("username", "", "account name")
	password := fs.String("password", "", "password")
	roles := fs.String("role", "", "roles, comma-separated: "+roleList())
	unit := fs.String("unit", "", "unit code")
	name := fs.String("name", "", "display name")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if !oneOf(sub, "add", "passwd", "disable", "enable", "unlock", "list") {
		return usagef("unknown subcommand %q\n%s", sub, userUsage)
	}
	if sub != "list" && *username == "" {
		return usagef("--username is required")
	}
	a, err := c.open(&cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	actor := audit.Entry{Actor: "cli"}
	switch sub {
	case "add":
		if *password == "" || *roles == "" {
			return usagef("--password and --role are required")
		}
		nu := auth.NewUser{Username: *username, Password: *password, DisplayName: *name}
		for _, r := range strings.Split(*roles, ",") {
			nu.Roles = append(nu.Roles, auth.Role(strings.TrimSpace(r)))
		}
		if *unit != "" {
			u, err := a.Org.UnitByCode(c, *unit)
			if err != nil {
				return fmt.Errorf("--unit %s: %w", *unit, err)
			}
			nu.UnitID = &u.ID
		}
		u, err := a.Auth.CreateUser(c, actor, nu)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created account %s (id %d, roles %v)\n", u.Username, u.ID, u.Roles)
	case "list":
		us, _, err := a.Auth.ListUsers(c, 10000, 0)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tNAME\tROLES\tSTATE")
		for _, u := range us {
			state := "active"
			if u.Disabled {
				state = "disabled"
			} else if u.LockedUntil != nil && u.LockedUntil.After(a.Now()) {
				state = "locked until " + u.LockedUntil.In(cfg.Location).Format("15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\n", u.ID, u.Username, u.DisplayName, u.Roles, state)
		}
		return tw.Flush()
	default:
		u, err := a.Auth.UserByName(c, *username)
		if err != nil {
			return fmt.Errorf("--username %s: %w", *username, err)
		}
		switch sub {
		case "passwd":
			pw := *password
			if pw == "" {
				fmt.Fprint(c.stderr, "new password: ")
				line, err := bufio.NewReader(c.stdin).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("read password: %w", err)
				}
				pw = strings.TrimRight(line, "\r\n")
			}
			// Set by an administrator: the owner must change it at next sign-in.
			if err := a.Auth.SetPassword(c, actor, u.ID, pw, true, ""); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "password of %s set; it must be changed at next sign-in\n", u.Username)
		case "disable", "enable":
			if err := a.Auth.SetDisabled(c, actor, u.ID, sub == "disable"); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s %sd\n", u.Username, sub)
		case "unlock":
			if err := a.Auth.Unlock(c, actor, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s unlocked\n", u.Username)
		}
	}
	return nil
}

func roleList() string {
	var s []string
	for _, r := range auth.AllRoles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}
