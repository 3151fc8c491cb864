package requestinfo_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/custos/custos/requestinfo"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{name: "socket only", remote: "192.0.2.7:5555", want: "192.0.2.7"},
		{name: "xff ignored from untrusted peer", remote: "192.0.2.7:5555", xff: []string{"203.0.113.9"}, want: "192.0.2.7"},
		{name: "xff from trusted proxy", trusted: proxies, remote: "10.1.2.3:80", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "right-most untrusted hop wins", trusted: proxies, remote: "10.1.2.3:80", xff: []string{"198.51.100.1, 203.0.113.9, 10.9.9.9"}, want: "203.0.113.9"},
		{name: "several headers", trusted: proxies, remote: "10.1.2.3:80", xff: []string{"198.51.100.1", "203.0.113.9"}, want: "203.0.113.9"},
		{name: "garbage hop stops at the proxy", trusted: proxies, remote: "10.1.2.3:80", xff: []string{"not-an-ip"}, want: "10.1.2.3"},
		{name: "all trusted", trusted: proxies, remote: "10.1.2.3:80", xff: []string{"10.0.0.5"}, want: "10.0.0.5"},
		{name: "ipv6 socket", remote: "[2001:db8::1]:443", want: "2001:db8::1"},
		{name: "mapped ipv4", remote: "[::ffff:192.0.2.7]:1", want: "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := requestinfo.Resolver{TrustedProxies: tt.trusted}.ClientAddr(r)
			if got != tt.want {
				t.Fatalf("ClientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := requestinfo.ParsePrefixes("10.0.0.0/8, 192.0.2.1 ,::1")
	if err != nil || len(got) != 3 || got[1].Bits() != 32 {
		t.Fatalf("ParsePrefixes = %v, %v", got, err)
	}
	if _, err := requestinfo.ParsePrefixes("10.0.0.0/99"); err == nil {
		t.Fatal("bad prefix accepted")
	}
}

func TestUnknownProxy(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name   string
		remote string
		header string
		want   bool
	}{
		{name: "no proxy header", remote: "127.0.0.1:1", want: false},
		{name: "loopback peer forwards", remote: "127.0.0.1:1", header: "X-Forwarded-For", want: true},
		{name: "outsider says Forwarded", remote: "192.0.2.1:1", header: "Forwarded", want: true},
		{name: "outsider says X-Real-IP", remote: "192.0.2.1:1", header: "X-Real-Ip", want: true},
		{name: "outsider says Via", remote: "192.0.2.1:1", header: "Via", want: true},
		{name: "trusted proxy forwards", remote: "10.1.2.3:1", header: "X-Forwarded-For", want: false},
		{name: "mapped trusted proxy forwards", remote: "[::ffff:10.1.2.3]:1", header: "X-Forwarded-For", want: false},
		{name: "unreadable peer forwards", remote: "pipe", header: "X-Forwarded-For", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set(tt.header, "127.0.0.1")
			}
			if got := (requestinfo.Resolver{TrustedProxies: proxies}).UnknownProxy(r); got != tt.want {
				t.Fatalf("UnknownProxy = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLogPath(t *testing.T) {
	tests := []struct{ pattern, target, want string }{
		{"POST /api/v1/staff/enrol/{token}", "/api/v1/staff/enrol/tok_secret", "/api/v1/staff/enrol/{token}"},
		{"GET /forgot-password/{id}/password", "/forgot-password/flw_x/password?a=b", "/forgot-password/{id}/password"},
		{"/api/v1/x/{id}", "/api/v1/x/1", "/api/v1/x/{id}"},
		{"GET /{$}", "/?token=secret", "/"},
		{"GET /static/", "/static/style.css", "/static/style.css"},
		{"", "/nowhere?code=123456", "/nowhere"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		r.Pattern = tt.pattern
		if got := requestinfo.LogPath(r); got != tt.want {
			t.Errorf("LogPath(%q on %q) = %q, want %q", tt.target, tt.pattern, got, tt.want)
		}
	}
}
