// Package httperr maps errors to HTTP for both transports (api and web):
// the one table from error code to status (Status), the one exception to
// it (WithStatus, for the second step of login), the input an error is
// about (Field, with the default field of the codes that imply one), and
// the one JSON error writer (WriteJSON), which both the API and the web's
// security-key endpoints answer with; and what both share about answers
// that are no plain error: the Retry-After of an unavailable answer
// (UnavailableRetryAfter) and a request whose client hung up (ClientGone,
// recorded as StatusClientClosedRequest and logged at info).
//
// It imports only the standard library, the root package, message and
// requestinfo.
package httperr
