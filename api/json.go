package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
)

// MaxBody is the largest JSON body accepted.
const MaxBody = 64 << 10

// decode reads one JSON object into v: JSON content type (415 otherwise),
// at most MaxBody bytes (413), and (400 otherwise) exactly one value, in
// UTF-8, whose strings hold no NUL, whose objects name no member twice,
// and whose names match v's fields exactly, letter case included: no
// unknown fields, and no "Email" for "email".
//
// Nothing a decoded body holds can then break a store: PostgreSQL text
// cannot hold NUL or invalid UTF-8, and a name given twice (or in two
// spellings) would let a filter that reads the first disagree with us
// reading the last.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return custos.Fail(custos.EUnsupportedMediaType, "api.json_type")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return custos.Fail(custos.ETooLarge, "api.json_too_large", MaxBody)
		}
		return custos.Fail(custos.EInvalidRequest, "api.json_unreadable")
	}
	return decodeBytes(data, v)
}

// decodeBytes is decode's check of an already read JSON object (the data
// part of a multipart upload).
func decodeBytes(data []byte, v any) error {
	if err := checkText(data); err != nil {
		return err
	}
	if err := jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return decodeError(err)
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

// checkText reads data as exactly one JSON value, token by token, and
// refuses what the syntax allows but we do not: invalid UTF-8 (which RFC
// 8259 forbids, but a lenient decoder would turn into U+FFFD), a NUL in a
// string or name, and an object member named twice. Errors name the field
// they are about, as a dotted path of member names ("captcha.answer").
func checkText(data []byte) error {
	// Invalid UTF-8 is let through the tokenizer so that it can be
	// refused below with the field it is in.
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowInvalidUTF8(true))
	for started := false; !started || dec.StackDepth() > 0; started = true {
		if dec.PeekKind() != '"' {
			if _, err := dec.ReadToken(); err != nil {
				return syntaxError(err, started)
			}
			continue
		}
		depth := dec.StackDepth()
		kind, n := dec.StackIndex(depth)
		isName := kind == '{' && n%2 == 0
		raw, err := dec.ReadValue()
		if err != nil {
			return syntaxError(err, started)
		}
		// A bad name is reported on the object that holds it: the name
		// itself is no field of ours and not fit to echo.
		at := fieldPath(dec, depth)
		if isName {
			at = fieldPath(dec, depth-1)
		}
		text, err := jsontext.AppendUnquote(nil, raw)
		switch {
		case err != nil || !utf8.Valid(text):
			return onField(custos.Fail(custos.EInvalidRequest, "api.json_invalid"), at)
		case bytes.IndexByte(text, 0) >= 0:
			return onField(custos.Fail(custos.EInvalidRequest, "error.invalid_request"), at)
		}
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return custos.Fail(custos.EInvalidRequest, "api.json_one_object")
	}
	return nil
}

// syntaxError maps a tokenizer error: nothing at all is an empty body, a
// name given twice is refused on its field, anything else is not JSON.
func syntaxError(err error, started bool) error {
	var syntax *jsontext.SyntacticError
	switch {
	case !started && errors.Is(err, io.EOF):
		return custos.Fail(custos.EInvalidRequest, "api.json_empty")
	case errors.As(err, &syntax) && errors.Is(err, jsontext.ErrDuplicateName):
		return onField(custos.Fail(custos.EInvalidRequest, "error.invalid_request"), dottedPath(syntax.JSONPointer))
	}
	return custos.Fail(custos.EInvalidRequest, "api.json_invalid")
}

// decodeError maps an error of unmarshalling text checkText has passed:
// a member v has no field for, or a value of the wrong type.
func decodeError(err error) error {
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &sem) && errors.Is(err, jsonv2.ErrUnknownName):
		// The unknown key itself, as the contract has it.
		field := sem.JSONPointer.LastToken()
		return onField(custos.Fail(custos.EInvalidRequest, "api.json_unknown_field", field), field)
	case errors.As(err, &sem) && sem.JSONPointer == "":
		return custos.Fail(custos.EInvalidRequest, "api.json_not_object")
	case errors.As(err, &sem):
		field := dottedPath(sem.JSONPointer)
		return onField(custos.Fail(custos.EInvalidRequest, "api.json_wrong_type", field), field)
	}
	return custos.Fail(custos.EInvalidRequest, "api.json_unreadable")
}

// fieldPath is the dotted path of member names down to stack level depth
// of dec (array indices left out), after a value at that level was read.
func fieldPath(dec *jsontext.Decoder, depth int) string {
	var names []string
	level := 0
	for tok := range dec.StackPointer().Tokens() {
		level++
		if level > depth {
			break
		}
		if kind, _ := dec.StackIndex(level); kind == '{' {
			names = append(names, tok)
		}
	}
	return strings.Join(names, ".")
}

// dottedPath turns a JSON pointer into a dotted path ("/captcha/id" →
// "captcha.id").
func dottedPath(p jsontext.Pointer) string {
	var names []string
	for tok := range p.Tokens() {
		names = append(names, tok)
	}
	return strings.Join(names, ".")
}

// onField names the field e is about, unless the path is empty or not fit
// to echo back (a control character or invalid UTF-8 in a name).
func onField(e *custos.Error, path string) *custos.Error {
	if path == "" || !utf8.ValidString(path) || strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return e
	}
	return e.OnField(path)
}

// jsonHeaderValues are the headers of every JSON answer, each a
// one-element slice made once (as server's securityHeaderValues): setting
// one costs no allocation, and an Add on the key appends to a fresh copy,
// the slice being full.
var jsonHeaderValues = [...]struct {
	key string
	val []string
}{
	{"Content-Type", []string{"application/json; charset=utf-8"}},
	{"Cache-Control", []string{"no-store"}},
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	h := w.Header()
	for _, kv := range jsonHeaderValues {
		h[kv.key] = kv.val // keys already canonical
	}
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// writeError answers err through the one JSON error writer: its status
// from the one table, its words from the message catalogue, and detail of
// a failure of ours only in the log.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httperr.WriteJSON(w, r, err, httperr.Clock(a.clock))
}
