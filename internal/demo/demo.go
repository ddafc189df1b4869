// Package demo fills an empty database with a fictional city office, the
// same every time (seeded), so screenshots, tests and training match.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/org"
	"github.com/biaogan/biaogan/internal/supervise"
)

// Password is the password of every demo account (demo data only).
const Password = "Demo@2026"

// Account is a demo sign-in.
type Account struct {
	Username string
	Role     auth.Role
	UnitCode string
	Label    string
}

// Accounts has one account per role.
var Accounts = []Account{
	{"admin", auth.RoleSysAdmin, "S12", "系统管理员 system admin"},
	{"secadmin", auth.RoleSecAdmin, "S08", "安全管理员 security admin"},
	{"auditor", auth.RoleAuditor, "S09", "审计管理员 audit admin"},
	{"leader", auth.RoleLeader, "SFB", "领导 leader"},
	{"supervisor", auth.RoleSupervisor, "S05", "督查员 supervisor"},
	{"analyst", auth.RoleAnalyst, "S19", "对标专员 analyst"},
	{"unithead", auth.RoleUnitHead, "S04", "单位负责人 unit head (综合科)"},
	{"liaison", auth.RoleLiaison, "S04", "联络员 liaison (综合科)"},
	{"viewer", auth.RoleViewer, "S07", "只读 viewer"},
}

// UnitCount is how many units the demo creates.
func UnitCount() int {
	return 1 + len(sections) + len(affiliates) + len(outposts) + len(districts) + len(branchNames)
}

// LoadIfEmpty loads the demo when the database has no units and no
// accounts; it reports whether it did. tasks may be nil to load the office
// without the campaign.
func LoadIfEmpty(ctx context.Context, o *org.Service, a *auth.Service, tasks *supervise.Service, now time.Time) (bool, error) {
	nu, err := o.CountUnits(ctx)
	if err != nil {
		return false, err
	}
	na, err := a.CountUsers(ctx)
	if err != nil {
		return false, err
	}
	if nu > 0 || na > 0 {
		return false, nil
	}
	return true, Load(ctx, o, a, tasks, now)
}

// Load creates the demo office, people and accounts and, when tasks is not
// nil, the campaign "解放思想树标杆 争先进位走在前" with six months of history
// ending today (see campaign.go).
func Load(ctx context.Context, o *org.Service, a *auth.Service, tasks *supervise.Service, now time.Time) error {
	if tasks != nil {
		restore, err := fastWrites(ctx, tasks.DB)
		if err != nil {
			return err
		}
		defer restore()
	}
	actor := audit.Entry{Actor: "demo"}
	rng := rand.New(rand.NewPCG(2026, 1125))
	unitFirst := map[string]*org.Person{}
	unitPeople := map[string][]*org.Person{}
	users := map[string]*auth.User{}

	unit := func(in org.UnitInput) error {
		if _, err := o.CreateUnit(ctx, actor, in); err != nil {
			return fmt.Errorf("demo: unit %s: %w", in.Code, err)
		}
		return nil
	}
	if err := unit(org.UnitInput{Code: "SFB", Name: "示范市人民政府办公室", Kind: org.KindOffice}); err != nil {
		return err
	}
	for i, list := range [][]unitSeed{sections, affiliates, outposts, districts} {
		for j, u := range list {
			if err := unit(org.UnitInput{ParentCode: "SFB", Code: u.Code, Name: u.Name, Kind: org.Kind(u.Kind), SortOrder: (i+1)*100 + j}); err != nil {
				return err
			}
		}
	}
	for i, n := range branchNames {
		if err := unit(org.UnitInput{ParentCode: "S20", Code: fmt.Sprintf("B%02d", i+1), Name: "机关" + n + "党支部", Kind: org.KindBranch, SortOrder: i}); err != nil {
			return err
		}
	}

	person := func(code string, title, rank string, born int) error {
		by := born
		joined := time.Date(born+22+rng.IntN(4), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		if joined.After(now) {
			joined = now.AddDate(0, -1, 0)
		}
		p, err := o.CreatePerson(ctx, actor, org.PersonInput{UnitCode: code, Name: name(rng), Title: title, Rank: rank,
			Phone: phone(rng), BirthYear: &by, JoinedOn: joined.Format("2006-01-02")})
		if err != nil {
			return fmt.Errorf("demo: person in %s: %w", code, err)
		}
		if unitFirst[code] == nil {
			unitFirst[code] = p
		}
		unitPeople[code] = append(unitPeople[code], p)
		return nil
	}
	// The office's leadership.
	year := now.Year()
	if err := person("SFB", leaderTitles[0].Title, leaderTitles[0].Rank, year-52-rng.IntN(4)); err != nil {
		return err
	}
	for i := 0; i < 4; i++ {
		if err := person("SFB", leaderTitles[1].Title, leaderTitles[1].Rank, year-46-rng.IntN(8)); err != nil {
			return err
		}
	}
	staff := func(code string, n int) error {
		for i := 0; i < n; i++ {
			t := staffTitles[min(i, 1)]
			born := year - 40 - rng.IntN(10)
			if i >= 2 {
				t = staffTitles[2+rng.IntN(len(staffTitles)-2)]
				born = year - 24 - rng.IntN(16)
			}
			if err := person(code, t.Title, t.Rank, born); err != nil {
				return err
			}
		}
		return nil
	}
	for _, u := range sections {
		if err := staff(u.Code, 4+rng.IntN(4)); err != nil {
			return err
		}
	}
	for _, u := range affiliates {
		if err := staff(u.Code, 5+rng.IntN(4)); err != nil {
			return err
		}
	}
	for _, u := range districts {
		if err := staff(u.Code, 3+rng.IntN(3)); err != nil {
			return err
		}
	}
	for _, u := range outposts {
		if err := staff(u.Code, 2+rng.IntN(2)); err != nil {
			return err
		}
	}

	for _, acc := range Accounts {
		u, err := o.UnitByCode(ctx, acc.UnitCode)
		if err != nil {
			return fmt.Errorf("demo: account %s: %w", acc.Username, err)
		}
		nu := auth.NewUser{Username: acc.Username, Password: Password, Roles: []auth.Role{acc.Role}, UnitID: &u.ID, DisplayName: acc.Username}
		if p := unitFirst[acc.UnitCode]; p != nil && acc.Role != auth.RoleLiaison {
			nu.DisplayName, nu.PersonID = p.Name, &p.ID
		} else if p != nil {
			nu.DisplayName = p.Name + "（联络员）"
		}
		user, err := a.CreateUser(ctx, actor, nu)
		if err != nil {
			return fmt.Errorf("demo: account %s: %w", acc.Username, err)
		}
		users[acc.Username] = user
	}
	if tasks == nil {
		return nil
	}
	units := map[string]*org.Unit{}
	all, err := o.ListUnits(ctx)
	if err != nil {
		return err
	}
	for i := range all {
		units[all[i].Code] = &all[i]
	}
	_, err = loadCampaign(ctx, tasks, now, users["supervisor"], users["liaison"], unitPeople, units)
	return err
}

func name(rng *rand.Rand) string {
	s := string(surnames[rng.IntN(len(surnames))])
	n := 1 + rng.IntN(2)
	if n == 1 && rng.IntN(3) == 0 {
		n = 2
	}
	for i := 0; i < n; i++ {
		s += string(givenChars[rng.IntN(len(givenChars))])
	}
	return s
}

func phone(rng *rand.Rand) string {
	return fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000))
}
