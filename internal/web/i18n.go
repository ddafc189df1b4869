package web

import (
	"fmt"
	"sort"
	"sync"
)

// Languages the product speaks; the first is the default.
var Languages = []string{"zh-CN", "en"}

// Catalog maps message keys to text per language. Features add their own
// messages at wiring time.
type Catalog struct {
	mu   sync.RWMutex
	msgs map[string]map[string]string
}

// NewCatalog returns a catalog with the platform's messages.
func NewCatalog() *Catalog {
	c := &Catalog{msgs: map[string]map[string]string{}}
	c.Add(baseZH, baseEN)
	return c
}

// Add merges messages for both languages; the two maps must have the same keys.
func (c *Catalog) Add(zh, en map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for lang, m := range map[string]map[string]string{"zh-CN": zh, "en": en} {
		if c.msgs[lang] == nil {
			c.msgs[lang] = map[string]string{}
		}
		for k, v := range m {
			c.msgs[lang][k] = v
		}
	}
}

// T translates key, formatting args when given.
func (c *Catalog) T(lang, key string, args ...any) string {
	c.mu.RLock()
	s, ok := c.msgs[lang][key]
	if !ok {
		s, ok = c.msgs["zh-CN"][key]
	}
	c.mu.RUnlock()
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Missing lists keys present in one language but not the other.
func (c *Catalog) Missing() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for _, a := range Languages {
		for _, b := range Languages {
			if a == b {
				continue
			}
			for k := range c.msgs[a] {
				if _, ok := c.msgs[b][k]; !ok {
					out = append(out, b+": "+k)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// NormLang maps a requested language to a supported one.
func NormLang(l string) string {
	switch l {
	case "en", "en-US", "en-GB":
		return "en"
	case "zh", "zh-CN", "zh-Hans":
		return "zh-CN"
	}
	return ""
}
