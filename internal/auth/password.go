package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost settings.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// DefaultArgon2 costs about 60–100 ms on one server core: slow for guessing,
// quick for people.
var DefaultArgon2 = Argon2Params{Memory: 64 * 1024, Time: 2, Threads: 2, KeyLen: 32}

func (p Argon2Params) String() string {
	return fmt.Sprintf("argon2id m=%d KiB, t=%d, p=%d", p.Memory, p.Time, p.Threads)
}

// HashPassword returns a PHC-format argon2id hash.
func HashPassword(pw string, p Argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword checks pw against hash and reports whether the hash should
// be redone with the current parameters.
func VerifyPassword(pw, hash string, cur Argon2Params) (ok, rehash bool) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false, false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false
	}
	return true, p.Memory != cur.Memory || p.Time != cur.Time || p.Threads != cur.Threads || uint32(len(want)) != cur.KeyLen
}

// Policy is a password policy profile.
type Policy struct {
	Name       string
	MinLength  int
	MinClasses int           // of lower, upper, digit, symbol
	MaxAge     time.Duration // 0: never expires
}

// Policies are the selectable profiles; "level3" (等保三级) is the default.
var Policies = map[string]Policy{
	"level3": {Name: "level3", MinLength: 8, MinClasses: 3, MaxAge: 90 * 24 * time.Hour},
	"level2": {Name: "level2", MinLength: 8, MinClasses: 2, MaxAge: 180 * 24 * time.Hour},
}

// PolicyError says which rule a password broke, in both languages.
type PolicyError struct{ ZH, EN string }

func (e *PolicyError) Error() string { return e.EN }

// Check returns nil when pw is acceptable for username.
func (p Policy) Check(username, pw string) error {
	if n := len([]rune(pw)); n < p.MinLength {
		return &PolicyError{fmt.Sprintf("密码至少 %d 个字符", p.MinLength), fmt.Sprintf("password must be at least %d characters", p.MinLength)}
	}
	var lower, upper, digit, other int
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	if lower+upper+digit+other < p.MinClasses {
		return &PolicyError{fmt.Sprintf("密码须包含大写字母、小写字母、数字、符号中的至少 %d 类", p.MinClasses),
			fmt.Sprintf("password must mix at least %d of: lower case, upper case, digits, symbols", p.MinClasses)}
	}
	u := strings.ToLower(username)
	l := strings.ToLower(pw)
	if u != "" && (strings.Contains(l, u) || strings.Contains(l, reverse(u))) {
		return &PolicyError{"密码不能包含用户名", "password must not contain the username"}
	}
	return nil
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
