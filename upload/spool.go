package upload

import (
	"io"
	"sync"
)

// chunkSize is the size of the pieces a part's bytes are held in.
const chunkSize = 64 << 10

// chunks recycles the pieces between uploads.
var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// spool holds a part's bytes in fixed pieces. Reading a part of unknown
// length into one slice would copy it again at every growth (io.ReadAll
// allocates about five times a 10 MB file on its way); pieces are
// allocated once, recycled, and never copied for an image, whose bytes
// are only ever read as a stream and dropped once it is decoded.
type spool struct {
	bufs []*[chunkSize]byte
	n    int64
}

// fill reads r to its end into s, stopping as soon as it holds more than
// max bytes (it then reports over, and holds max+1 bytes or fewer).
func (s *spool) fill(r io.Reader, max int64) (over bool, err error) {
	for {
		off := int(s.n % chunkSize)
		if off == 0 && s.n/chunkSize == int64(len(s.bufs)) {
			s.bufs = append(s.bufs, chunks.Get().(*[chunkSize]byte))
		}
		buf := s.bufs[len(s.bufs)-1][off:]
		if room := max + 1 - s.n; int64(len(buf)) > room {
			buf = buf[:room]
		}
		n, err := r.Read(buf)
		s.n += int64(n)
		if s.n > max {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// Len is how many bytes s holds.
func (s *spool) Len() int64 { return s.n }

// reader returns a reader of s's bytes from the start.
func (s *spool) reader() *spoolReader { return &spoolReader{s: s} }

// slice returns a copy of the bytes of s in [from, to).
func (s *spool) slice(from, to int64) []byte {
	from, to = max(0, min(from, s.n)), max(0, min(to, s.n))
	out := make([]byte, 0, max(0, to-from))
	for off := from; off < to; {
		c := s.bufs[off/chunkSize][off%chunkSize:]
		if rest := to - off; int64(len(c)) > rest {
			c = c[:rest]
		}
		out = append(out, c...)
		off += int64(len(c))
	}
	return out
}

// bytes returns a copy of all of s's bytes, in one slice of their size.
func (s *spool) bytes() []byte { return s.slice(0, s.n) }

// release gives s's pieces back for other uploads; s is then empty.
func (s *spool) release() {
	for i, b := range s.bufs {
		chunks.Put(b)
		s.bufs[i] = nil
	}
	s.bufs, s.n = nil, 0
}

// spoolReader reads a spool from the start.
type spoolReader struct {
	s   *spool
	off int64
}

func (r *spoolReader) Read(p []byte) (int, error) {
	if r.off >= r.s.n {
		return 0, io.EOF
	}
	c := r.s.bufs[r.off/chunkSize][r.off%chunkSize:]
	if rest := r.s.n - r.off; int64(len(c)) > rest {
		c = c[:rest]
	}
	n := copy(p, c)
	r.off += int64(n)
	return n, nil
}

func (r *spoolReader) ReadByte() (byte, error) {
	if r.off >= r.s.n {
		return 0, io.EOF
	}
	b := r.s.bufs[r.off/chunkSize][r.off%chunkSize]
	r.off++
	return b, nil
}
