package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
)

// MaxBody is the largest JSON body accepted.
const MaxBody = 64 << 10

// decode reads one JSON object into v: JSON content type (415 otherwise),
// at most MaxBody bytes (413), no unknown fields and nothing after it (400).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return custos.Fail(custos.EUnsupportedMediaType, "api.json_type")
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
		return custos.Fail(custos.EInvalidRequest, "api.json_one_object")
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
		return custos.Fail(custos.ETooLarge, "api.json_too_large", MaxBody)
	case errors.Is(err, io.EOF):
		return custos.Fail(custos.EInvalidRequest, "api.json_empty")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return custos.Fail(custos.EInvalidRequest, "api.json_invalid")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return custos.Fail(custos.EInvalidRequest, "api.json_not_object")
		}
		return custos.Fail(custos.EInvalidRequest, "api.json_wrong_type", typ.Field).OnField(typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return custos.Fail(custos.EInvalidRequest, "api.json_unknown_field", field).OnField(field)
	default:
		return custos.Fail(custos.EInvalidRequest, "api.json_unreadable")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// writeError answers err through the one JSON error writer: its status
// from the one table, its words from the message catalogue, and detail of
// a failure of ours only in the log.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httperr.WriteJSON(w, r, err, httperr.Clock(a.clock))
}
