package custos

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
)

// NewID returns an opaque identifier: prefix, an underscore and 20 random
// hex characters (80 bits), drawn from rnd.
func NewID(rnd io.Reader, prefix string) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return prefix + "_" + hex.EncodeToString(b[:]), nil
}

// NewToken returns a 256-bit random secret, base64url without padding
// (43 characters), for session and login tokens.
func NewToken(rnd io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// NewCode returns n uniformly random decimal digits, for one-time codes.
func NewCode(rnd io.Reader, n int) (string, error) {
	out := make([]byte, n)
	var b [4]byte
	for i := 0; i < n; {
		if _, err := io.ReadFull(rnd, b[:]); err != nil {
			return "", fmt.Errorf("random code: %w", err)
		}
		v := binary.BigEndian.Uint32(b[:])
		// Reject the top sliver so every digit is equally likely.
		if v >= 4294967290 {
			continue
		}
		out[i] = byte('0' + v%10)
		i++
	}
	return string(out), nil
}

// SecretHash is how a bearer secret (a session, login, trusted-device or
// undo token) is stored and looked up: its SHA-256, so the store never
// holds the secret itself.
func SecretHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// SecretID is the store id of a flow that a bearer secret names (a login
// token, an "it wasn't me" link): the hex of half its hash.
func SecretID(token string) string {
	return hex.EncodeToString(SecretHash(token)[:16])
}
