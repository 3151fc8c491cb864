package tokenimport

import "io"

// NewLimitReader exposes the size guard of ParsePSKC with a small limit, so
// the test of its edge need not push megabytes through the race detector.
func NewLimitReader(r io.Reader, n int64) io.Reader {
	return &limitReader{r: r, left: n, limit: n}
}
