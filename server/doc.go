// Package server assembles the HTTP handler: the transports it is given
// (each a Registrar; app passes api and web) on one mux, behind the
// middleware every request passes (request id and logging through
// requestinfo, the client's address from the Resolver, panic recovery,
// security headers with a strict Content-Security-Policy and, when the
// public URL is https, Strict-Transport-Security, the refusal of a path or
// query that is not clean text (a NUL or invalid UTF-8: 400 before any
// route), cross-origin protection, per-route metrics), plus /healthz,
// /readyz (the store's Ping) and /metrics (Prometheus, with the password
// Hasher's queue depth, in-flight and total computations; answered only to
// the clients in Config.MetricsTrusted — loopback by default — and to no
// one through a proxy that is not trusted, or left to MetricsHandler on a
// listener of its own). Static files, health checks and scrapes log their
// request line at debug, everything else at info. A request whose
// client hung up is logged and counted under the status the transports
// record for it, 499 (httperr.StatusClientClosedRequest), never as a 5xx.
//
// It imports the root package, requestinfo, httperr and message (to answer
// a refused path or query as the transports would), api (only to assert
// that *api.API is a Registrar) and the Prometheus client; the password
// hasher's load reaches it through the HashStats interface. app builds it.
package server
