package requestinfo

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Info is what the server knows about one request.
type Info struct {
	ID         string       // request id, also sent as X-Request-Id
	ClientAddr string       // client IP address, without port
	Logger     *slog.Logger // tagged with the request id
}

type key struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the Info in ctx, or a zero Info with a discarding logger.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	if info.Logger == nil {
		info.Logger = slog.New(slog.DiscardHandler)
	}
	return info
}

// Resolver finds a request's client address: the socket peer, or — only when
// that peer is a trusted proxy — the right-most untrusted address of
// X-Forwarded-For.
type Resolver struct {
	TrustedProxies []netip.Prefix
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or addresses.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (rs Resolver) trusted(a netip.Addr) bool {
	for _, p := range rs.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// proxyHeaders are the headers a proxy adds to what it forwards.
var proxyHeaders = []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Forwarded", "Via"}

// UnknownProxy reports whether r came through a proxy that is not trusted:
// it carries a header a proxy adds, and its socket peer is not one of the
// TrustedProxies. The socket peer of such a request is the proxy, not the
// client, so its address vouches for nothing (a proxy on this machine
// makes every request look like one from loopback).
func (rs Resolver) UnknownProxy(r *http.Request) bool {
	forwarded := false
	for _, h := range proxyHeaders {
		if r.Header.Get(h) != "" {
			forwarded = true
			break
		}
	}
	if !forwarded {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	return err != nil || !rs.trusted(peer.Unmap())
}

// Logger returns the request's logger in ctx, tagged with its id, or
// fallback outside a request.
func Logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if info, ok := ctx.Value(key{}).(Info); ok && info.Logger != nil {
		return info.Logger
	}
	return fallback
}

// LogPath is the path a log line may show for r: never the query (it may
// carry secrets), and for a route with parameters its template
// (/api/v1/staff/enrol/{token}), since a parameter may be a token or a
// flow's secret id. Outside a matched route it is the path as sent.
func LogPath(r *http.Request) string {
	if strings.Contains(strings.ReplaceAll(r.Pattern, "{$}", ""), "{") {
		if _, path, ok := strings.Cut(r.Pattern, " "); ok {
			return path
		}
		return r.Pattern
	}
	return r.URL.Path
}

// ClientAddr returns the client's IP address for r.
func (rs Resolver) ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !rs.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer.String()
		}
		a = a.Unmap()
		if !rs.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}
