package appeal

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

// Chinese word segmentation with go-ego/gse over a small embedded
// dictionary (the template and place vocabulary of catalog.go plus common
// appeal words), loaded on first use so an idle server does not hold it.

var (
	segOnce sync.Once
	seg     gse.Segmenter // read-only once loaded: safe for concurrent use
)

func loadSeg() {
	segOnce.Do(func() {
		seg.SkipLog = true
		var b strings.Builder
		for _, w := range dictionaryWords() {
			b.WriteString(w)
			b.WriteString(" 1000\n")
		}
		if err := seg.LoadDictStr(b.String()); err != nil {
			panic("appeal: segmentation dictionary: " + err.Error())
		}
	})
}

var stopWords = map[string]bool{"的": true, "了": true, "在": true, "有": true, "和": true, "是": true, "后": true, "被": true, "也": true,
	"都": true, "就": true, "还": true, "又": true, "与": true, "对": true, "但": true, "没有": true, "市民": true, "来电": true, "反映": true,
	"来电人": true, "网民": true, "留言": true, "希望": true, "请求": true, "要求": true, "尽快": true, "相关部门": true, "有关部门": true, "请": true}

// Segment splits text into words: dictionary words, single Han characters
// otherwise, ASCII runs as one word; punctuation and stop words dropped.
func Segment(text string) []string {
	loadSeg()
	parts := seg.Slice(text)
	out := parts[:0]
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || stopWords[p] {
			continue
		}
		keep := false
		for _, r := range p {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				keep = true
				break
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

// SimHash is the 64-bit SimHash of the words (each distinct word weighs
// its length in characters, so single characters count little).
func SimHash(words []string) uint64 {
	var v [64]int
	var seen map[string]bool // long texts only; short ones look back
	if len(words) > 64 {
		seen = make(map[string]bool, len(words))
	}
	for i, w := range words {
		if seen != nil {
			if seen[w] {
				continue
			}
			seen[w] = true
		} else if slices.Contains(words[:i], w) {
			continue
		}
		x := fnv64(w)
		wt := utf8.RuneCountInString(w)
		for i := 0; i < 64; i++ {
			if x&(1<<uint(i)) != 0 {
				v[i] += wt
			} else {
				v[i] -= wt
			}
		}
	}
	var out uint64
	for i := 0; i < 64; i++ {
		if v[i] > 0 {
			out |= 1 << uint(i)
		}
	}
	return out
}

// Hamming is the number of differing bits.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// fnv64 is FNV-1a (hash/fnv's New64a) without the allocation.
func fnv64(w string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(w); i++ {
		h ^= uint64(w[i])
		h *= 1099511628211
	}
	return h
}
