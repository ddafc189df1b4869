package bench

import "io"

// appealSection measures the figures of the appeal issue; it returns the
// BENCHMARKS.md section.
func appealSection(bin, pgURL string, log io.Writer) (string, error) {
	return "", nil
}
