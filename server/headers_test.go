package server_test

import (
	"crypto/rand"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/custos/custos/server"
)

// routes is a transport with a page and a handler that panics.
type routes struct{}

func (routes) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
}

// TestStrictTransportSecurity: an https public URL sends HSTS on every
// answer, errors included, whether or not TLS ended in this process (it
// usually ends at a proxy); a plain http public URL never sends it.
func TestStrictTransportSecurity(t *testing.T) {
	const want = "max-age=31536000; includeSubDomains"
	requests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantStatus int
	}{
		{name: "page", method: "GET", path: "/page", wantStatus: 200},
		{name: "health", method: "GET", path: "/healthz", wantStatus: 200},
		{name: "not found", method: "GET", path: "/nowhere", wantStatus: 404},
		{name: "wrong method", method: "DELETE", path: "/page", wantStatus: 405},
		{name: "cross-origin post", method: "POST", path: "/form", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: 403},
		{name: "panic", method: "GET", path: "/boom", wantStatus: 500},
	}
	for _, hsts := range []bool{true, false} {
		h := server.New(server.Config{Rand: rand.Reader, HSTS: hsts, Transports: []server.Registrar{routes{}}})
		for _, viaTLS := range []bool{false, true} {
			for _, tt := range requests {
				name := tt.name
				if viaTLS {
					name += " over TLS"
				}
				if hsts {
					name = "https public URL: " + name
				} else {
					name = "http public URL: " + name
				}
				t.Run(name, func(t *testing.T) {
					req := httptest.NewRequest(tt.method, tt.path, nil)
					for k, v := range tt.header {
						req.Header.Set(k, v)
					}
					if !viaTLS {
						req.TLS = nil // as a proxy in front hands it over
					} else {
						req.TLS = &tls.ConnectionState{}
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != tt.wantStatus {
						t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
					}
					got := rec.Header().Get("Strict-Transport-Security")
					switch {
					case hsts && got != want:
						t.Errorf("Strict-Transport-Security = %q, want %q", got, want)
					case !hsts && got != "":
						t.Errorf("Strict-Transport-Security = %q on a plain http public URL, want none", got)
					}
				})
			}
		}
	}
}
