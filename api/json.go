package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/requestinfo"
)

// MaxBody is the largest JSON body accepted.
const MaxBody = 64 << 10

// decode reads one JSON object into v: JSON content type (415 otherwise),
// at most MaxBody bytes (413), no unknown fields and nothing after it (400).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return custos.Errorf(custos.EUnsupportedMediaType, "Send the body as application/json.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err)
		}
		return custos.Errorf(custos.EInvalidRequest, "The body must hold exactly one JSON object.")
	}
	return nil
}

// decodeOptional is decode for bodies that may be left out: an empty body
// (with or without a JSON content type) leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(w, r, v)
}

func decodeError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return custos.Errorf(custos.ETooLarge, "The body is larger than %d bytes.", MaxBody)
	case errors.Is(err, io.EOF):
		return custos.Errorf(custos.EInvalidRequest, "The body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return custos.Errorf(custos.EInvalidRequest, "The body is not valid JSON.")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return custos.Errorf(custos.EInvalidRequest, "The body must be a JSON object.")
		}
		return custos.Errorf(custos.EInvalidRequest, "Field %q has the wrong type.", typ.Field).With("field", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return custos.Errorf(custos.EInvalidRequest, "Unknown field %q.", field).With("field", field)
	default:
		return custos.Errorf(custos.EInvalidRequest, "The body could not be read as JSON.")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// writeError answers err: an *custos.Error as its code, message and fields;
// anything else as a 500 whose detail goes only to the log.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	info := requestinfo.From(r.Context())
	var e *custos.Error
	if !errors.As(err, &e) {
		info.Logger.ErrorContext(r.Context(), "request failed", "err", err.Error())
		e = &custos.Error{Code: custos.EInternal, Message: "Something went wrong on our side. Try again; if it keeps happening, quote request id " + info.ID + "."}
	}
	body := map[string]any{}
	for k, v := range e.Fields {
		if t, ok := v.(time.Time); ok {
			v = rfc3339(t)
		}
		body[k] = v
	}
	body["code"] = e.Code
	body["message"] = e.Message
	if until, ok := e.Fields["locked_until"].(time.Time); ok {
		w.Header().Set("Retry-After", retryAfter(until.Sub(a.clock.Now())))
	}
	if secs, ok := e.Fields["retry_after"].(int); ok {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if err := writeJSON(w, custos.Status(e), map[string]any{"error": body}); err != nil {
		info.Logger.DebugContext(r.Context(), "writing error response", "err", err)
	}
}

// retryAfter renders a wait as whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	secs := int(d.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	return fmt.Sprint(secs)
}
