package web

import (
	"errors"
	"slices"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
)

// formProblem adds err to f when it is a problem with what was entered (a
// custos.Error with a 4xx status) and reports whether it did; anything else
// is for serveError. The problem sits next to its field when the code or
// the error's "field" names one of fields, the fields the page shows, and
// only in the summary otherwise.
func formProblem(f *formErrors, err error, fields ...string) bool {
	return formProblemOr(f, err, "", fields...)
}

// formProblemOr is formProblem with a field for the problems that name
// none of fields: on a form with one main input, a refusal such as
// too_many_requests belongs next to it.
func formProblemOr(f *formErrors, err error, fallback string, fields ...string) bool {
	var ce *custos.Error
	if !errors.As(err, &ce) || httperr.Status(err) >= 500 {
		return false
	}
	field := ""
	switch ce.Code {
	case custos.EInvalidEmail:
		field = "email"
	case custos.EInvalidPhone:
		field = "phone"
	case custos.EWeakPassword:
		field = "password"
	case custos.EInvalidCode:
		field = "code"
	case custos.ECaptchaRequired:
		field = "captcha_answer"
	default:
		field, _ = ce.Fields["field"].(string)
	}
	if !slices.Contains(fields, field) {
		field = fallback
	}
	f.add(field, ce.Message)
	return true
}

// errorMessage is the people-facing message of a custos.Error, or "".
func errorMessage(err error) string {
	var ce *custos.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return ""
}
