package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// KeySize is the length of every key in bytes (AES-256).
const KeySize = 32

var keyIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,16}$`)

// Ring is an ordered set of named keys; the first is the primary.
type Ring struct {
	ids  []string
	keys map[string][]byte
}

// Parse reads a ring from its text form: comma-separated `id:base64key`
// entries (standard or URL base64 of 32 bytes), the first being primary.
// Errors never repeat key material.
func Parse(s string) (*Ring, error) {
	r := &Ring{keys: map[string][]byte{}}
	for i, part := range strings.Split(strings.TrimSpace(s), ",") {
		id, enc, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("key %d: want id:base64key with an id of a-z, 0-9 and -", i+1)
		}
		key, err := decodeKey(enc)
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("key %q: want %d bytes in base64", id, KeySize)
		}
		if _, dup := r.keys[id]; dup {
			return nil, fmt.Errorf("key %q appears twice", id)
		}
		r.ids = append(r.ids, id)
		r.keys[id] = key
	}
	return r, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// Generate makes a ring of one fresh key named id.
func Generate(rnd io.Reader, id string) (*Ring, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return &Ring{ids: []string{id}, keys: map[string][]byte{id: key}}, nil
}

// LoadOrCreate reads the ring kept in path, or generates one and writes it
// there (mode 0600) when the file does not exist. It is for local and dev
// mode, where the operator gives no --keys.
func LoadOrCreate(path string, rnd io.Reader) (*Ring, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		r, err := Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	r, err := Generate(rnd, "k1")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(r.String() + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return r, f.Close()
}

// String returns the text form Parse reads. It contains the keys: write it
// only to a protected file.
func (r *Ring) String() string {
	parts := make([]string, len(r.ids))
	for i, id := range r.ids {
		parts[i] = id + ":" + base64.StdEncoding.EncodeToString(r.keys[id])
	}
	return strings.Join(parts, ",")
}

// Primary returns the id of the key used for new data.
func (r *Ring) Primary() string { return r.ids[0] }

// MAC returns HMAC-SHA256 of data under a key derived from the primary key
// for the given purpose, so MACs made for one purpose never verify another.
func (r *Ring) MAC(purpose string, data []byte) []byte {
	return mac(r.keys[r.ids[0]], purpose, data)
}

// MACs returns the MAC of data under every key of the ring, the primary's
// first: a lookup by keyed hash (a document number) then still finds what
// was stored before the primary key changed.
func (r *Ring) MACs(purpose string, data []byte) [][]byte {
	out := make([][]byte, len(r.ids))
	for i, id := range r.ids {
		out[i] = mac(r.keys[id], purpose, data)
	}
	return out
}

func mac(key []byte, purpose string, data []byte) []byte {
	sub := hmac.New(sha256.New, key)
	sub.Write([]byte("custos mac key\x00" + purpose))
	m := hmac.New(sha256.New, sub.Sum(nil))
	m.Write(data)
	return m.Sum(nil)
}

// Seal encrypts plaintext with the primary key; aad binds the ciphertext to
// its context (for example a device id). The output names its key.
func (r *Ring) Seal(rnd io.Reader, plaintext, aad []byte) ([]byte, error) {
	id := r.ids[0]
	gcm, err := newGCM(r.keys[id])
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := append([]byte(id+"$"), nonce...)
	return gcm.Seal(out, nonce, plaintext, aad), nil
}

// Open decrypts what Seal made with any key still in the ring.
func (r *Ring) Open(sealed, aad []byte) ([]byte, error) {
	id, rest, ok := bytes.Cut(sealed, []byte("$"))
	key, known := r.keys[string(id)]
	if !ok || !known {
		return nil, errors.New("open: unknown key")
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(rest) < gcm.NonceSize() {
		return nil, errors.New("open: too short")
	}
	pt, err := gcm.Open(nil, rest[:gcm.NonceSize()], rest[gcm.NonceSize():], aad)
	if err != nil {
		return nil, errors.New("open: authentication failed")
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
