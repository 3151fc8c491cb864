package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/custos/custos/requestinfo"
	"github.com/custos/custos/server"
)

// get asks h for path from remote, with the headers given as name, value
// pairs, and returns the status and body.
func get(h http.Handler, path, remote string, header ...string) (int, string) {
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestMetricsOnlyForTrustedClients: /metrics on the main handler answers
// only clients in MetricsTrusted (loopback by default), as the Resolver
// finds the client: a forwarding header from an untrusted peer changes
// nothing, a request through a proxy that is not trusted is refused even
// from loopback, and anyone else gets the 404 of an unknown path.
func TestMetricsOnlyForTrustedClients(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	monitoring := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	tests := []struct {
		name    string
		proxies []netip.Prefix
		trusted []netip.Prefix
		remote  string
		header  []string
		want    int
	}{
		{name: "loopback", remote: "127.0.0.1:5555", want: 200},
		{name: "loopback v6", remote: "[::1]:5555", want: 200},
		{name: "another address", remote: "192.0.2.10:5555", want: 404},
		{name: "untrusted peer says it is loopback", remote: "192.0.2.10:5555", header: []string{"X-Forwarded-For", "127.0.0.1"}, want: 404},
		{name: "untrusted peer says Forwarded", remote: "192.0.2.10:5555", header: []string{"Forwarded", "for=127.0.0.1"}, want: 404},
		{name: "a proxy on this machine not declared", remote: "127.0.0.1:5555", header: []string{"X-Forwarded-For", "203.0.113.9"}, want: 404},
		{name: "a proxy on this machine adds X-Real-IP", remote: "127.0.0.1:5555", header: []string{"X-Real-IP", "203.0.113.9"}, want: 404},
		{name: "trusted proxy forwards an outsider", proxies: proxy, remote: "10.1.1.1:80", header: []string{"X-Forwarded-For", "203.0.113.9"}, want: 404},
		{name: "trusted proxy forwards loopback", proxies: proxy, remote: "10.1.1.1:80", header: []string{"X-Forwarded-For", "127.0.0.1"}, want: 200},
		{name: "trusted proxy itself is no client to trust", proxies: proxy, remote: "10.1.1.1:80", want: 404},
		{name: "a trusted monitoring network", trusted: monitoring, remote: "192.0.2.10:5555", want: 200},
		{name: "loopback once the list is given", trusted: monitoring, remote: "127.0.0.1:5555", want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := server.New(server.Config{Rand: rand.Reader, MetricsTrusted: tt.trusted,
				Resolver: requestinfo.Resolver{TrustedProxies: tt.proxies}})
			status, body := get(h, "/metrics", tt.remote, tt.header...)
			if status != tt.want {
				t.Fatalf("GET /metrics from %s %v: %d, want %d", tt.remote, tt.header, status, tt.want)
			}
			if tt.want == 200 && !strings.Contains(body, "go_goroutines") {
				t.Errorf("GET /metrics: not the metrics:\n%.300s", body)
			}
			if tt.want == 404 {
				if _, unknown := get(h, "/nowhere", tt.remote, tt.header...); body != unknown {
					t.Errorf("refused /metrics answers %q, an unknown path %q", body, unknown)
				}
			}
		})
	}
}

// TestMetricsElsewhere: with MetricsElsewhere the main handler has no
// /metrics, even for loopback; MetricsHandler serves it and nothing else.
func TestMetricsElsewhere(t *testing.T) {
	reg := server.NewRegistry()
	h := server.New(server.Config{Rand: rand.Reader, Registry: reg, MetricsElsewhere: true})
	if status, _ := get(h, "/metrics", "127.0.0.1:5555"); status != 404 {
		t.Fatalf("main handler's /metrics with MetricsElsewhere: %d, want 404", status)
	}
	get(h, "/healthz", "127.0.0.1:5555")
	m := server.MetricsHandler(reg)
	status, body := get(m, "/metrics", "192.0.2.10:5555")
	if status != 200 || !strings.Contains(body, `custos_http_requests_total{route="GET /healthz",status="200"} 1`) {
		t.Fatalf("MetricsHandler /metrics: %d, want 200 with the main handler's series:\n%.500s", status, body)
	}
	if status, _ := get(m, "/healthz", "127.0.0.1:5555"); status != 404 {
		t.Errorf("MetricsHandler /healthz: %d, want 404", status)
	}
}

// TestRequestLogLevels: static files, health checks and scrapes log their
// request line at debug, and so do successful session checks; a page at
// info; a failing quiet route at info.
func TestRequestLogLevels(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	static := routesWithStatic{}
	h := server.New(server.Config{Rand: rand.Reader, Logger: logger, Transports: []server.Registrar{static}})
	for _, tt := range []struct {
		path, remote string
		status       int
		level        string
	}{
		{"/static/app.css", "127.0.0.1:1", 200, "DEBUG"},
		{"/static/missing.css", "127.0.0.1:1", 404, "INFO"},
		{"/healthz", "127.0.0.1:1", 200, "DEBUG"},
		{"/metrics", "127.0.0.1:1", 200, "DEBUG"},
		{"/metrics", "192.0.2.1:1", 404, "INFO"},
		{"/page", "127.0.0.1:1", 200, "INFO"},
		{"/api/v1/session", "127.0.0.1:1", 200, "DEBUG"},
		{"/api/v1/session", "192.0.2.1:1", 401, "INFO"},
	} {
		buf.Reset()
		if status, _ := get(h, tt.path, tt.remote); status != tt.status {
			t.Fatalf("GET %s: %d, want %d", tt.path, status, tt.status)
		}
		var line struct {
			Level, Msg, Path string
			Status           int
		}
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("GET %s: log %q: %v", tt.path, buf.String(), err)
		}
		if line.Msg != "request" || line.Path != tt.path || line.Status != tt.status || line.Level != tt.level {
			t.Errorf("GET %s (%d): logged %+v, want the request line at %s", tt.path, tt.status, line, tt.level)
		}
	}
}

// routesWithStatic serves /page and the static files under /static/.
type routesWithStatic struct{}

func (routesWithStatic) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
	mux.HandleFunc("GET /api/v1/session", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.RemoteAddr, "127.0.0.1:") {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/static/app.css" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("body{}"))
	})
}
