package server

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/message"
	"github.com/custos/custos/requestinfo"
)

// checkInput refuses, before any route sees it, a request whose path or
// query holds a NUL or invalid UTF-8 once percent-decoded (%00, %FF): path
// values and query values reach the store, and PostgreSQL text can hold
// neither (it answered them with an error, so the request with a 500).
// The answer is 400 invalid_request, naming the query key when it is
// printable: the JSON error under /api/, a line of text elsewhere (as the
// mux's own 404 and 405 are). Go's HTTP server already refuses a NUL
// anywhere in the request line or in a header.
//
// A User-Agent is kept rather than refused: browsers and libraries send
// what they like there, and it is only ever stored for people to read, so
// invalid UTF-8 in it becomes U+FFFD.
func checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := inputError(r.URL); err != nil {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				httperr.WriteJSON(w, r, err, httperr.Language(r.Header.Get("Accept-Language")))
				return
			}
			cat := message.For(r.Header.Get("Accept-Language"))
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, cat.Error(err)+" "+cat.Text("error.quote_request_id", requestinfo.From(r.Context()).ID)+"\n")
			return
		}
		for i, v := range r.Header["User-Agent"] {
			r.Header["User-Agent"][i] = strings.ToValidUTF8(v, "\uFFFD")
		}
		next.ServeHTTP(w, r)
	})
}

// inputError is the invalid_request for a path or query that is not clean
// text, or nil.
func inputError(u *url.URL) error {
	if !cleanText(u.Path) {
		return custos.Fail(custos.EInvalidRequest, "error.invalid_request")
	}
	// Pairs ParseQuery cannot decode are dropped by it, and by every
	// handler's r.URL.Query(), alike: only what is decoded is checked.
	values, _ := url.ParseQuery(u.RawQuery)
	for key, vs := range values {
		bad := !cleanText(key)
		for _, v := range vs {
			bad = bad || !cleanText(v)
		}
		if bad {
			e := custos.Fail(custos.EInvalidRequest, "error.invalid_request")
			if printable(key) {
				e = e.OnField(key)
			}
			return e
		}
	}
	return nil
}

// cleanText reports whether s is UTF-8 without NUL.
func cleanText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// printable reports whether s is fit to echo back as a field name: clean
// text without control characters.
func printable(s string) bool {
	return s != "" && cleanText(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
