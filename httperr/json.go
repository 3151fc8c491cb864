package httperr

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
	"github.com/custos/custos/requestinfo"
)

// Option adjusts WriteJSON.
type Option func(*options)

type options struct {
	clock custos.Clock
	lang  string
}

// Clock gives WriteJSON the current time, which the Retry-After of an
// account_locked answer counts from. Without it a lock's answer carries
// no Retry-After (a retry_after field still gives one).
func Clock(c custos.Clock) Option { return func(o *options) { o.clock = c } }

// Language picks the catalogue the message is written in: a tag or an
// Accept-Language value, as message.For takes. The default language
// otherwise.
func Language(lang string) Option { return func(o *options) { o.lang = lang } }

// WriteJSON answers err as {"error": {"code", "message", "field", …}} with
// the status from Status:
//   - "message" is the catalogue's words for err (message.Catalogue.Error);
//     a 5xx never shows detail: its words are its code's (or its Key's),
//     followed by the request id to quote to support, and err is logged
//     with the request's logger (tagged with the request id);
//   - "field", when the error names the input it is about (Field, or the
//     transitional Fields["field"]); a code's DefaultField is not added,
//     so the fixed wire format stays as it is;
//   - every other member of Fields, times as RFC 3339 UTC strings;
//   - a Retry-After header in seconds for "locked_until" (with Clock) and
//     for "retry_after", and of UnavailableRetryAfter for an unavailable
//     error that names no wait of its own.
//
// Anything that is not a *custos.Error answers 500 "internal". A failure
// after the client hung up is not one of ours (ClientGone): it is logged
// at info and answered StatusClientClosedRequest, which nobody reads but
// the logs and metrics.
func WriteJSON(w http.ResponseWriter, r *http.Request, err error, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	info := requestinfo.From(r.Context())
	cat := message.For(o.lang)
	status := Status(err)
	if status >= 500 && ClientGone(r) {
		LogClientGone(r, err)
		w.WriteHeader(StatusClientClosedRequest)
		return
	}

	var e *custos.Error
	if !errors.As(err, &e) {
		e = &custos.Error{Code: custos.EInternal}
	}
	text := cat.Error(e)
	if status >= 500 {
		info.Logger.ErrorContext(r.Context(), "request failed", "path", requestinfo.LogPath(r), "status", status, "err", err.Error())
		text = cat.Error(&custos.Error{Code: e.Code, Key: e.Key, Args: e.Args}) + " " + cat.Text("error.quote_request_id", info.ID)
	}

	body := make(map[string]any, len(e.Fields)+3)
	for k, v := range e.Fields {
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339)
		}
		body[k] = v
	}
	body["code"] = e.Code
	body["message"] = text
	if f := namedField(e); f != "" {
		body["field"] = f
	}

	h := w.Header()
	if until, ok := e.Fields["locked_until"].(time.Time); ok && o.clock != nil {
		h.Set("Retry-After", retryAfter(until.Sub(o.clock.Now())))
	}
	if secs, ok := e.Fields["retry_after"].(int); ok {
		h.Set("Retry-After", strconv.Itoa(secs))
	} else if e.Code == custos.EUnavailable {
		h.Set("Retry-After", strconv.Itoa(UnavailableRetryAfter))
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(map[string]any{"error": body}); err != nil {
		info.Logger.DebugContext(r.Context(), "writing error response", "err", err)
	}
}

// retryAfter renders a wait as whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	secs := int(d.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	return strconv.Itoa(secs)
}
