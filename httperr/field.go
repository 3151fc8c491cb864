package httperr

import (
	"errors"

	"github.com/custos/custos"
)

// defaultFields is the input a code is about when the error names none:
// the codes that can only be about one input. Services should name the
// field themselves (custos.Error.OnField); until every one does, this is
// the one place both transports learn it from.
var defaultFields = map[string]string{
	custos.EInvalidEmail:    "email",
	custos.EInvalidPhone:    "phone",
	custos.EWeakPassword:    "password",
	custos.EInvalidCode:     "code",
	custos.ECaptchaRequired: "captcha_answer",
}

// DefaultField is the input the code implies, or "" when it implies none.
// The names are the pages' form fields, which for email, phone, password
// and code are the API's JSON keys too; the captcha's is the login and
// recovery forms' answer field.
func DefaultField(code string) string { return defaultFields[code] }

// Field returns the input err is about: the field the error names, or else
// its code's DefaultField; "" for anything else.
func Field(err error) string {
	var e *custos.Error
	if !errors.As(err, &e) {
		return ""
	}
	if f := namedField(e); f != "" {
		return f
	}
	return DefaultField(e.Code)
}

// namedField is the field e names itself: Field, or — transitional, while
// services still write .With("field", x) — Fields["field"].
func namedField(e *custos.Error) string {
	if e.Field != "" {
		return e.Field
	}
	f, _ := e.Fields["field"].(string)
	return f
}
