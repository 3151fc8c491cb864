package password_test

import (
	"errors"

	"github.com/custos/custos/password"
)

// tiny keeps unit tests fast: 64 KiB, one pass, one lane.
var tiny = password.Params{Memory: 64, Time: 1, Threads: 1}

// byteReader is a deterministic random source that returns one byte value
// forever.
type byteReader byte

func (r byteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// counterReader is a deterministic random source that never repeats a
// 16-byte block within a test: 0, 1, 2, … as bytes.
type counterReader struct{ n byte }

func (r *counterReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

// failingReader is a random source that always fails.
type failingReader struct{}

var errNoRandom = errors.New("no randomness today")

func (failingReader) Read([]byte) (int, error) { return 0, errNoRandom }
