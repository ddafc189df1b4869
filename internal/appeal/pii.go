package appeal

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// PII encrypts citizens' personal data at rest with SM4-GCM and hashes
// phone numbers with HMAC-SM3 so repeat callers can be found without
// decrypting.
type PII struct {
	aead   cipher.AEAD
	macKey []byte
	macs   sync.Pool // of keyed HMAC-SM3 states
}

// NewPII makes the cipher from a 16-byte key.
func NewPII(key []byte) (*PII, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("appeal: personal-data key must be 16 bytes (32 hex digits), got %d", len(key))
	}
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("appeal: sm4: %w", err)
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("appeal: sm4-gcm: %w", err)
	}
	h := sm3.New()
	h.Write([]byte("biaogan appeal phone hash"))
	h.Write(key)
	return &PII{aead: aead, macKey: h.Sum(nil)}, nil
}

// ParseKey reads a key given as 32 hex digits.
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != 16 {
		return nil, errors.New("appeal: BIAOGAN_PII_KEY must be 32 hex digits (a 128-bit SM4 key)")
	}
	return k, nil
}

// DevKey is the deterministic key used when none is configured (dev and
// demo only; the app logs a warning).
func DevKey() []byte {
	h := sm3.New()
	h.Write([]byte("biaogan development personal-data key — not for production"))
	return h.Sum(nil)[:16]
}

// Encrypt seals s; "" stays "".
func (p *PII) Encrypt(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	nonce := make([]byte, p.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("appeal: nonce: %w", err)
	}
	out := p.aead.Seal(nonce, nonce, []byte(s), nil)
	return base64.RawStdEncoding.EncodeToString(out), nil
}

// Decrypt opens what Encrypt sealed.
func (p *PII) Decrypt(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(b) < p.aead.NonceSize() {
		return "", errors.New("appeal: personal data is not valid ciphertext")
	}
	n := p.aead.NonceSize()
	pt, err := p.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return "", errors.New("appeal: personal data cannot be decrypted with the configured key")
	}
	return string(pt), nil
}

// PhoneHash is the keyed hash of a normalised phone number.
func (p *PII) PhoneHash(phone string) string {
	phone = normPhone(phone)
	if phone == "" {
		return ""
	}
	m, _ := p.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sm3.New, p.macKey)
	} else {
		m.Reset()
	}
	m.Write([]byte(phone))
	var sum [sm3.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0])[:12])
	p.macs.Put(m)
	return out
}

func normPhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MaskPhone shows the first 3 and last 4 digits: 138****1234.
func MaskPhone(s string) string {
	d := normPhone(s)
	if len(d) < 7 {
		return strings.Repeat("*", len(d))
	}
	return d[:3] + strings.Repeat("*", len(d)-7) + d[len(d)-4:]
}

// MaskName keeps the first character: 张**.
func MaskName(s string) string {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(s)
	if n == 1 {
		return "*"
	}
	return string(r) + strings.Repeat("*", n-1)
}

// MaskIDNo keeps the first 6 and last 4 characters of an ID number.
func MaskIDNo(s string) string {
	if len(s) <= 10 {
		return strings.Repeat("*", len(s))
	}
	return s[:6] + strings.Repeat("*", len(s)-10) + s[len(s)-4:]
}
