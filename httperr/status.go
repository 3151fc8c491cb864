package httperr

import (
	"errors"
	"net/http"

	"github.com/custos/custos"
)

// statusByCode is the one table that maps error codes to HTTP status.
var statusByCode = map[string]int{
	custos.EInvalidRequest:        http.StatusBadRequest,
	custos.EUnsupportedMediaType:  http.StatusUnsupportedMediaType,
	custos.ETooLarge:              http.StatusRequestEntityTooLarge,
	custos.ENotFound:              http.StatusNotFound,
	custos.EMethodNotAllowed:      http.StatusMethodNotAllowed,
	custos.EConflict:              http.StatusConflict,
	custos.EEmailTaken:            http.StatusConflict,
	custos.EWeakPassword:          http.StatusUnprocessableEntity,
	custos.EInvalidEmail:          http.StatusUnprocessableEntity,
	custos.EInvalidCode:           http.StatusUnprocessableEntity,
	custos.EExpired:               http.StatusGone,
	custos.EInvalidCredentials:    http.StatusUnauthorized,
	custos.ECaptchaRequired:       http.StatusUnauthorized,
	custos.EAccountLocked:         http.StatusLocked,
	custos.ETooManyRequests:       http.StatusTooManyRequests,
	custos.EUnauthenticated:       http.StatusUnauthorized,
	custos.EForbidden:             http.StatusForbidden,
	custos.EVerificationRequired:  http.StatusForbidden,
	custos.ENoSecondFactor:        http.StatusUnprocessableEntity,
	custos.EInvalidPhone:          http.StatusUnprocessableEntity,
	custos.EMethodNotChosen:       http.StatusUnprocessableEntity,
	custos.EInvalidLanguage:       http.StatusBadRequest,
	custos.EUnavailable:           http.StatusServiceUnavailable,
	custos.EIdentityLimit:         http.StatusConflict,
	custos.EInvalidDocumentNumber: http.StatusUnprocessableEntity,
	custos.EInvalidUpload:         http.StatusUnprocessableEntity,
	custos.EAlreadyDecided:        http.StatusConflict,
	custos.EIdentityChangeTooSoon: http.StatusConflict,
	custos.EInternal:              http.StatusInternalServerError,
	custos.EInvalidTimeZone:       http.StatusBadRequest,
}

// Status returns the HTTP status for err: the one a WithStatus wrapper
// names, else the table entry for its code, and 500 for anything that is
// not a *custos.Error (or a code the table lacks).
func Status(err error) int {
	var s *statusError
	if errors.As(err, &s) {
		return s.status
	}
	var e *custos.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	if s, ok := statusByCode[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// statusError is an error answered with a status of the handler's choosing.
type statusError struct {
	err    error
	status int
}

func (s *statusError) Error() string { return s.err.Error() }
func (s *statusError) Unwrap() error { return s.err }

// WithStatus returns err answered with status instead of its code's. It is
// for the few endpoints whose fixed contract differs from the table, and
// only there: the second step of login answers a wrong code (invalid_code)
// 401, where every other endpoint answers it 422 (docs/API.md). The
// error's code, words and fields stay as they are. A nil err stays nil.
func WithStatus(err error, status int) error {
	if err == nil {
		return nil
	}
	return &statusError{err: err, status: status}
}
