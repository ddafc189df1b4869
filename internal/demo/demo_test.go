package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/audit"
	"github.com/biaogan/biaogan/internal/auth"
	"github.com/biaogan/biaogan/internal/db/dbtest"
	"github.com/biaogan/biaogan/internal/demo"
	"github.com/biaogan/biaogan/internal/org"
)

func TestDemoOffice(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	al := audit.New(d)
	s := auth.DefaultSettings()
	s.Argon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}
	as := auth.NewService(d, al, s, nil)
	o := org.New(d, al, time.Now)
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	loaded, err := demo.LoadIfEmpty(ctx, o, as, nil, now)
	if err != nil || !loaded {
		t.Fatalf("load: %v %v", loaded, err)
	}
	units, err := o.ListUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[org.Kind]int{}
	for _, u := range units {
		kinds[u.Kind]++
	}
	if kinds[org.KindBranch] != 13 || kinds[org.KindOutpost] != 2 || kinds[org.KindDistrict] != 7 || kinds[org.KindOffice] != 1 {
		t.Fatalf("unit kinds: %v", kinds)
	}
	if n := kinds[org.KindSection] + kinds[org.KindAffiliate]; n < 28 || n > 32 {
		t.Fatalf("%d sections and affiliated units, want about 30", n)
	}
	if len(units) != demo.UnitCount() {
		t.Fatalf("UnitCount %d but %d units", demo.UnitCount(), len(units))
	}
	people, err := o.CountPeople(ctx)
	if err != nil || people < 180 || people > 230 {
		t.Fatalf("%d people (%v), want about 200", people, err)
	}
	for _, acc := range demo.Accounts {
		u, err := as.Authenticate(ctx, acc.Username, demo.Password, "")
		if err != nil {
			t.Fatalf("demo account %s: %v", acc.Username, err)
		}
		if len(u.Roles) != 1 || u.Roles[0] != acc.Role {
			t.Fatalf("%s has roles %v", acc.Username, u.Roles)
		}
	}
	// Every role has an account.
	seen := map[auth.Role]bool{}
	for _, acc := range demo.Accounts {
		seen[acc.Role] = true
	}
	for _, r := range auth.AllRoles {
		if !seen[r] {
			t.Errorf("no demo account for %s", r)
		}
	}
	// Loading again changes nothing.
	if again, err := demo.LoadIfEmpty(ctx, o, as, nil, now); err != nil || again {
		t.Fatalf("second load: %v %v", again, err)
	}
}
