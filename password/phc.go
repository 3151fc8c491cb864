package password

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/custos/custos/password/internal/argon2id"
)

// Sizes of what Hash writes. Verify also accepts hashes made elsewhere with
// other sizes, within minSalt..maxSalt and minKey..maxKey bytes.
const (
	saltLen = 16
	keyLen  = 32
	minSalt = 8
	maxSalt = 64
	minKey  = 16
	maxKey  = 64
)

// ErrMalformedHash is wrapped by the error Verify returns when the encoded
// hash is not an argon2id PHC string it can check.
var ErrMalformedHash = errors.New("malformed argon2id hash")

// b64 is the PHC encoding: standard alphabet, no padding, and strict so that
// one hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// Hash derives an argon2id key from the NFKC form of pw with a fresh 16-byte
// salt read from rnd, and returns it in PHC string form:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// It fails when p is out of the bounds of ParseParams or rnd fails.
func Hash(pw string, p Params, rnd io.Reader) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	return encode(p, salt, derive(nil, pw, p, salt, keyLen)), nil
}

// Verify reports whether pw (after NFKC normalisation) matches the encoded
// argon2id hash, comparing in constant time, and returns the parameters the
// hash was made with. A malformed or unsupported encoded hash gives an error
// wrapping ErrMalformedHash (or ErrInvalidParams when its cost is out of
// bounds), never a panic.
func Verify(pw, encoded string) (ok bool, p Params, err error) {
	d, err := decode(encoded)
	if err != nil {
		return false, Params{}, err
	}
	return d.check(nil, pw), d.params, nil
}

// decoded is a parsed PHC string.
type decoded struct {
	params    Params
	salt, key []byte
}

// check derives the key for pw with d's salt and parameters and compares it
// with d's key in constant time.
func (d decoded) check(mem *argon2id.Memory, pw string) bool {
	got := derive(mem, pw, d.params, d.salt, uint32(len(d.key)))
	return subtle.ConstantTimeCompare(got, d.key) == 1
}

// sameShape reports whether d was made with params p and the salt and key
// sizes Hash uses today, that is, whether rehashing would change nothing
// but the salt.
func (d decoded) sameShape(p Params) bool {
	return d.params == p && len(d.salt) == saltLen && len(d.key) == keyLen
}

func derive(mem *argon2id.Memory, pw string, p Params, salt []byte, n uint32) []byte {
	return argon2id.Key(mem, []byte(norm.NFKC.String(pw)), salt, nil, nil, p.Time, p.Memory, p.Threads, n)
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2id.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses exactly the form encode writes: the fields in that order,
// version 19, decimal numbers without signs or leading zeros. Anything else
// is an error; nothing here may panic or allocate in proportion to a number
// read from the input before that number is bounded.
func decode(encoded string) (decoded, error) {
	fail := func(why string) (decoded, error) {
		return decoded{}, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" {
		return fail("want $argon2id$v=19$m=…,t=…,p=…$salt$key")
	}
	if fields[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	v, ok := strings.CutPrefix(fields[2], "v=")
	if !ok {
		return fail("missing version")
	}
	if n, ok := number(v); !ok || n != argon2id.Version {
		return fail("unsupported version")
	}
	kv := strings.Split(fields[3], ",")
	if len(kv) != 3 {
		return fail("want parameters m=…,t=…,p=…")
	}
	var n [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		s, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return fail("want parameters m=…,t=…,p=…")
		}
		if n[i], ok = number(s); !ok {
			return fail("parameter " + name + " is not a number")
		}
	}
	if n[0] > maxMemory || n[1] > maxTime || n[2] > maxThreads {
		return decoded{}, fmt.Errorf("%w: %w: cost m=%d,t=%d,p=%d out of bounds",
			ErrMalformedHash, ErrInvalidParams, n[0], n[1], n[2])
	}
	d := decoded{params: Params{Memory: uint32(n[0]), Time: uint32(n[1]), Threads: uint8(n[2])}}
	if err := d.params.validate(); err != nil {
		return decoded{}, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	// Check encoded lengths before decoding so a huge field costs nothing.
	if len(fields[4]) > b64.EncodedLen(maxSalt) || len(fields[5]) > b64.EncodedLen(maxKey) {
		return fail("salt or key too long")
	}
	var err error
	if d.salt, err = b64.DecodeString(fields[4]); err != nil {
		return fail("salt is not unpadded base64")
	}
	if d.key, err = b64.DecodeString(fields[5]); err != nil {
		return fail("key is not unpadded base64")
	}
	if len(d.salt) < minSalt || len(d.salt) > maxSalt {
		return fail(fmt.Sprintf("salt is %d bytes, want %d to %d", len(d.salt), minSalt, maxSalt))
	}
	if len(d.key) < minKey || len(d.key) > maxKey {
		return fail(fmt.Sprintf("key is %d bytes, want %d to %d", len(d.key), minKey, maxKey))
	}
	return d, nil
}

// number parses a canonical decimal: digits only, no leading zero unless it
// is "0", at most 10 digits (so it fits in a uint64 with room to spare).
func number(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
