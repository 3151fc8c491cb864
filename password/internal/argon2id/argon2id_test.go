package argon2id

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestRFC9106Vector is the Argon2id test vector of RFC 9106 §5.3, which
// has a secret and associated data (x/crypto cannot take those).
func TestRFC9106Vector(t *testing.T) {
	pw := bytes.Repeat([]byte{0x01}, 32)
	salt := bytes.Repeat([]byte{0x02}, 16)
	secret := bytes.Repeat([]byte{0x03}, 8)
	data := bytes.Repeat([]byte{0x04}, 12)
	want := "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
	if got := hex.EncodeToString(Key(nil, pw, salt, secret, data, 3, 32, 4, 32)); got != want {
		t.Fatalf("Argon2id(RFC 9106 §5.3) = %s, want %s", got, want)
	}
}

// TestSameAsXCrypto holds Key to golang.org/x/crypto/argon2.IDKey on
// random passwords, salts and parameters, with one Memory reused across
// every size, larger and smaller, as a hash worker reuses it.
func TestSameAsXCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var mem Memory
	n := 60
	if testing.Short() {
		n = 15
	}
	for i := range n {
		pw := make([]byte, r.IntN(40))
		salt := make([]byte, 8+r.IntN(24))
		fill(r, pw)
		fill(r, salt)
		threads := uint8(1 + r.IntN(4))
		memory := uint32(8*int(threads) + r.IntN(300))
		time := uint32(1 + r.IntN(3))
		keyLen := uint32(4 + r.IntN(200)) // past 64: the long form of H'
		if i == 0 {
			memory, time, threads, keyLen = 19456, 2, 1, 32 // Custos's defaults
		}
		want := argon2.IDKey(pw, salt, time, memory, threads, keyLen)
		if got := Key(&mem, pw, salt, nil, nil, time, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("m=%d t=%d p=%d len=%d: got %x, want %x", memory, time, threads, keyLen, got, want)
		}
	}
}

// TestCompressMatchesGeneric holds the compression function in use (the
// SSE2 one on amd64) to the portable one on random blocks, both ways of
// writing out.
func TestCompressMatchesGeneric(t *testing.T) {
	if !haveAsm {
		t.Skip("the portable compression function is the one in use")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var x, y, out0 block
		for i := range x {
			x[i], y[i], out0[i] = r.Uint64(), r.Uint64(), r.Uint64()
		}
		for _, xor := range []bool{false, true} {
			a, b := out0, out0
			compress(&a, &x, &y, xor)
			compressGeneric(&b, &x, &y, xor)
			if a != b {
				t.Fatalf("xor %v: the compression functions differ", xor)
			}
		}
	}
}

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// BenchmarkKey compares Key over a reused Memory with x/crypto at
// Custos's default cost.
func BenchmarkKey(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), make([]byte, 16)
	b.Run("impl=custos", func(b *testing.B) {
		var mem Memory
		for b.Loop() {
			Key(&mem, pw, salt, nil, nil, 2, 19456, 1, 32)
		}
	})
	b.Run("impl=x-crypto", func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey(pw, salt, 2, 19456, 1, 32)
		}
	})
}
