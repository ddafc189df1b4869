package cli

import (
	"fmt"
	"strconv"

	"github.com/biaogan/biaogan/internal/config"
	"github.com/biaogan/biaogan/internal/workday"
)

const workdayUsage = `workday add DATE N        the date N working days after DATE (DATE itself not counted; negative N counts back)
       workday between A B       the number of working days after A up to and including B
       workday check YEAR        a summary of the year's calendar and where its data comes from`

// runWorkday answers working-day questions with the calendar the server
// uses: the embedded State Council data plus any years stored by an admin.
func runWorkday(c *ctx, args []string) error {
	var cfg config.Config
	fs := c.flags("workday", &cfg)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || !oneOf(pos[0], "add", "between", "check") {
		return usagef("say add, between or check\n%s", workdayUsage)
	}
	want := map[string]int{"add": 3, "between": 3, "check": 2}[pos[0]]
	if len(pos) != want {
		return usagef("%s takes %d argument(s)\n%s", pos[0], want-1, workdayUsage)
	}
	a, err := c.open(&cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	cal := a.Cal
	date := func(s, name string) (workday.Date, error) {
		d, err := workday.ParseDate(s)
		if err != nil {
			return 0, usagef("%s %q: want YYYY-MM-DD", name, s)
		}
		return d, nil
	}
	switch pos[0] {
	case "add":
		d, err := date(pos[1], "DATE")
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(pos[2])
		if err != nil {
			return usagef("N %q: want a whole number", pos[2])
		}
		fmt.Fprintln(c.stdout, cal.AddWorkdays(d, n))
	case "between":
		from, err := date(pos[1], "A")
		if err != nil {
			return err
		}
		to, err := date(pos[2], "B")
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, cal.Between(from, to))
	case "check":
		y, err := strconv.Atoi(pos[1])
		if err != nil {
			return usagef("YEAR %q: want a year such as 2026", pos[1])
		}
		rep, err := cal.Check(y)
		if err != nil {
			return err
		}
		return rep.WriteText(c.stdout)
	}
	return nil
}
