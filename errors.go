package custos

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the public API (docs/API.md): never
// rename one. Their HTTP status is the transports' business (package
// httperr), and their words the message catalogue's ("error." + code).
const (
	EInvalidRequest       = "invalid_request"        // malformed or unknown input
	EUnsupportedMediaType = "unsupported_media_type" // body is not JSON
	ETooLarge             = "request_too_large"      // body over the limit
	ENotFound             = "not_found"
	EMethodNotAllowed     = "method_not_allowed"
	EConflict             = "conflict"
	EEmailTaken           = "email_taken"
	EWeakPassword         = "weak_password"
	EInvalidEmail         = "invalid_email"
	EInvalidCode          = "invalid_code"
	EExpired              = "expired"
	EInvalidCredentials   = "invalid_credentials"
	ECaptchaRequired      = "captcha_required"
	EAccountLocked        = "account_locked"
	ETooManyRequests      = "too_many_requests"
	EUnauthenticated      = "unauthenticated"
	EForbidden            = "forbidden"
	EVerificationRequired = "verification_required"
	ENoSecondFactor       = "no_second_factor"
	EInvalidPhone         = "invalid_phone"
	EMethodNotChosen      = "method_not_chosen" // a protection method other than the one the holder chose
	EInvalidLanguage      = "invalid_language"  // a language tag no catalogue has
	EUnavailable          = "unavailable"       // a dependency (database, mail) failed
	EInternal             = "internal"
)

// Error is the one error type the services return. Code is stable and
// machine-readable. The words a person sees come from the message
// catalogue (package message): Key names the text and Args fill it; an
// empty Key means the code's own text ("error." + Code). Field names the
// input the error is about (the JSON key or form field, or a file part),
// so both transports place it without a table of their own. Fields are
// extra members of the JSON error object (for example "captcha_required"
// or "locked_until").
type Error struct {
	Code   string
	Key    string
	Args   []any
	Field  string
	Fields map[string]any
	// Message is detail for logs and for errors made with Errorf by the
	// adapters; people never see it.
	Message string
}

// Fail returns an *Error with code whose people-facing text is the
// catalogue's key, filled with args.
func Fail(code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// OnField returns a copy of e about the input named field.
func (e *Error) OnField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	if e.Key != "" {
		return e.Code + ": " + e.Key
	}
	return e.Code
}

// Errorf returns an *Error with code and a formatted detail for the logs.
// People see the code's catalogue text, never the detail.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e with one more field.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Fields = make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	c.Fields[key] = value
	return &c
}

// ErrorCode returns the code of err when it is (or wraps) an *Error, and
// EInternal otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// IsCode reports whether err is (or wraps) an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
