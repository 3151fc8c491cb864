// Package requestinfo carries what the server learns about a request once —
// its id, the client's address, a logger tagged with the id — through the
// request context to the transports (api, web).
//
// It imports only the standard library.
package requestinfo
