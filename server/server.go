package server

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/api"
	"github.com/custos/custos/requestinfo"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registrar is a transport that adds its routes to the mux (api.API,
// web.Web).
type Registrar interface {
	Register(mux *http.ServeMux)
}

// Config is what the server is built from.
type Config struct {
	Store      custos.Store
	Hasher     HashStats // the password hasher's load, for /metrics; may be nil
	Rand       io.Reader
	Logger     *slog.Logger
	Resolver   requestinfo.Resolver
	Registry   *prometheus.Registry // metrics registry the transports registered with
	Transports []Registrar
	// HSTS sends Strict-Transport-Security on every response. Set it when
	// the public URL is https: TLS usually ends at a proxy in front, so
	// the request itself says nothing about how browsers reach us.
	HSTS bool
	// MetricsTrusted are the client addresses (as the Resolver finds
	// them) that may read /metrics here; others get 404. None means
	// loopback only.
	MetricsTrusted []netip.Prefix
	// MetricsElsewhere leaves /metrics out of this handler: it is served
	// on a listener of its own, by MetricsHandler.
	MetricsElsewhere bool
}

// loopbackOnly is the default of Config.MetricsTrusted.
var loopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// MetricsHandler serves reg at GET /metrics and nothing else, for a
// listener of its own (--metrics-addr).
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// NewRegistry returns a metrics registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// New returns the whole HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = NewRegistry()
	}
	m := newMetrics(cfg.Registry, cfg.Hasher)
	mux := http.NewServeMux()
	for _, t := range cfg.Transports {
		t.Register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := cfg.Store.Ping(ctx); err != nil {
			requestinfo.From(r.Context()).Logger.WarnContext(r.Context(), "readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "database unreachable\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	if !cfg.MetricsElsewhere {
		mux.Handle("GET /metrics", metricsGate(cfg, promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	}

	csrf := http.NewCrossOriginProtection()
	var h http.Handler = mux
	h = csrf.Handler(h)
	h = checkInput(h)
	h = securityHeaders(h, cfg.HSTS)
	h = m.instrument(h)
	h = recoverPanics(h)
	h = withRequestInfo(h, cfg)
	return h
}

// metricsGate lets only clients in cfg.MetricsTrusted read the metrics and
// answers anyone else as an unknown path. A request that came through a
// proxy not in --trusted-proxies is refused whatever its socket peer: a
// proxy on this machine would make the whole internet look like loopback.
func metricsGate(cfg Config, next http.Handler) http.Handler {
	trusted := cfg.MetricsTrusted
	if len(trusted) == 0 {
		trusted = loopbackOnly
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, err := netip.ParseAddr(requestinfo.From(r.Context()).ClientAddr)
		if err != nil || cfg.Resolver.UnknownProxy(r) || !containsAddr(trusted, addr.Unmap()) {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func containsAddr(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// quietRoutes log their request line at debug when they succeed: static
// files, health checks, scrapes, and the session checks an API client or
// a forward-auth proxy makes before every request of its own, would
// otherwise drown the rest (and writing their lines cost a session check
// about a sixteenth of its CPU). A failing one logs at info.
var quietRoutes = map[string]bool{
	"GET /static/": true, "GET /healthz": true, "GET /readyz": true, "GET /metrics": true,
	"GET /api/v1/session": true, "GET /api/v1/forward-auth": true,
}

func withRequestInfo(next http.Handler, cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		io.ReadFull(cfg.Rand, b[:])
		id := hex.EncodeToString(b[:])
		addr := cfg.Resolver.ClientAddr(r)
		info := requestinfo.Info{ID: id, ClientAddr: addr, Logger: cfg.Logger.With("request_id", id)}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		inner := r.WithContext(requestinfo.With(r.Context(), info))
		next.ServeHTTP(rec, inner)
		level := slog.LevelInfo
		if rec.status < 400 && quietRoutes[inner.Pattern] {
			level = slog.LevelDebug
		}
		info.Logger.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", requestinfo.LogPath(inner)),
			slog.Int("status", rec.status), slog.String("client", addr),
			slog.Int64("duration_us", time.Since(start).Microseconds()))
	})
}

func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				info := requestinfo.From(r.Context())
				info.Logger.ErrorContext(r.Context(), "panic", "value", v)
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, "internal error, request id "+info.ID+"\n")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows nothing but our own styles, scripts and
// images and forbids framing.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; " +
	"connect-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// strictTransportSecurity is sent when the public URL is https; a year,
// and every subdomain, as the HSTS preload list asks.
const strictTransportSecurity = "max-age=31536000; includeSubDomains"

// securityHeaderValues are the values securityHeaders sends, each a
// one-element slice made once: assigning it costs no allocation per
// response, and a later Add on the key appends to a fresh copy (the slice
// is full), so no response can change another's.
var securityHeaderValues = [...]struct {
	key string
	val []string
}{
	{"Content-Security-Policy", []string{contentSecurityPolicy}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=()"}},
}

var hstsValue = []string{strictTransportSecurity}

func securityHeaders(next http.Handler, hsts bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, v := range securityHeaderValues {
			h[v.key] = v.val // keys already canonical
		}
		if hsts {
			h["Strict-Transport-Security"] = hstsValue
		}
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// HashStats is the load of the password hasher (password.Hasher).
type HashStats interface {
	QueueDepth() int          // hashes waiting for a worker
	InFlight() int            // hashes running now
	Hashes() uint64           // argon2id computations done
	Computing() time.Duration // time spent in them, all workers together
}

func newMetrics(reg prometheus.Registerer, hasher HashStats) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "custos_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	if hasher != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "custos_password_hash_queue_depth", Help: "Password hashes waiting for a worker.",
			}, func() float64 { return float64(hasher.QueueDepth()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "custos_password_hash_in_flight", Help: "Password hashes running now.",
			}, func() float64 { return float64(hasher.InFlight()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "custos_password_hashes_total", Help: "argon2id computations done (hashes, verifications, dummy verifications).",
			}, func() float64 { return float64(hasher.Hashes()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "custos_password_hash_seconds_total", Help: "Time spent computing argon2id, all workers together (÷ custos_password_hashes_total: one computation's cost here).",
			}, func() float64 { return hasher.Computing().Seconds() }),
		)
	}
	return m
}

func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		// The mux records the matched pattern on the request; unmatched
		// paths share one label so scanners cannot grow the series.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

var _ Registrar = (*api.API)(nil)
