// Package server assembles the HTTP handler: the api and web transports on
// one mux, behind the middleware every request passes (request id and
// logging, client address, panic recovery, security headers, cross-origin
// protection, metrics), plus /healthz, /readyz and /metrics.
//
// It imports the transports, the root package and requestinfo; cmd/custos
// builds it.
package server
