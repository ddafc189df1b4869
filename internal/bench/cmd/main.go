// Command bench runs the benchmarks the issues name against the real binary
// and writes BENCHMARKS.md with the machine and the date.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/biaogan/biaogan/internal/bench"
)

func main() {
	bin := flag.String("bin", "bin/biaogan", "the built biaogan binary")
	out := flag.String("out", "BENCHMARKS.md", "where to write the results")
	pg := flag.String("pg", os.Getenv("BIAOGAN_BENCH_DATABASE_URL"), "PostgreSQL URL (empty: start one under tmp/ if installed)")
	flag.Parse()
	if err := bench.Run(*bin, *out, *pg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
