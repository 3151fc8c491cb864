package httperr

import (
	"context"
	"errors"
	"net/http"

	"github.com/custos/custos/requestinfo"
)

// UnavailableRetryAfter is the Retry-After, in seconds, of an unavailable
// answer (503): long enough for a database fail-over or restart to be
// under way, short enough that a client retrying then is not kept waiting.
const UnavailableRetryAfter = 5

// StatusClientClosedRequest is the status recorded, in the request log and
// the metrics, for a request whose client hung up before it was answered
// (nginx's 499). It is never a 5xx: the failure was not ours.
const StatusClientClosedRequest = 499

// ClientGone reports whether the client of r hung up: its context was
// canceled (the server cancels it when the connection closes). Whatever
// failed after that — a store call or a wait for the password hasher
// ending with context.Canceled, or anything else the cancellation cut
// short — is no failure of ours, and nobody reads its answer.
func ClientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// LogClientGone logs, at info, that the request ended because its client
// hung up, with the error it ended on.
func LogClientGone(r *http.Request, err error) {
	requestinfo.From(r.Context()).Logger.InfoContext(r.Context(), "client went away",
		"path", requestinfo.LogPath(r), "err", err.Error())
}
