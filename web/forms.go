package web

import (
	"errors"
	"slices"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/message"
)

// shownPage is a page a handler answers instead of what was asked: the
// form again with its problems next to their fields, or a step that can
// never succeed now in its expired state. A handler returns it as its
// error (formAgain, gone) and serveError renders it, so that no handler
// writes an error status itself.
type shownPage struct {
	name string
	view viewer
	// code is what the answer's status means, through the one table:
	// invalid_request (400) for a form to fill in again, expired (410)
	// for a step that is over.
	code string
}

func (p *shownPage) Error() string { return "web: page " + p.name + " shown again (" + p.code + ")" }

// status is the page's status. A form shown again answers 400 whatever
// its problem's own code: the API's 401 would make the browser ask for
// HTTP authentication, which these pages do not use, and the page itself
// says what is wrong. A step that is over answers 410.
func (p *shownPage) status() int { return httperr.Status(&custos.Error{Code: p.code}) }

// formAgain shows the form page name again with view, whose form holds
// the problems (formProblem, formErrors.add).
func formAgain(name string, view viewer) error {
	return &shownPage{name: name, view: view, code: custos.EInvalidRequest}
}

// gone shows page name with view in its expired state: the flow, code or
// link it was for can never succeed now.
func gone(name string, view viewer) error {
	return &shownPage{name: name, view: view, code: custos.EExpired}
}

// formProblem adds err to f, in the words of the catalogue for lang, when
// it is a problem with what was entered (a custos.Error with a 4xx
// status) and reports whether it did; anything else is for serveError.
// The problem sits next to its field when the field the error is about
// (httperr.Field) is one of fields, the fields the page shows, and only
// in the summary otherwise.
func formProblem(f *formErrors, lang string, err error, fields ...string) bool {
	return formProblemOr(f, lang, err, "", fields...)
}

// formProblemOr is formProblem with a field for the problems that name
// none of fields: on a form with one main input, a refusal such as
// too_many_requests belongs next to it.
func formProblemOr(f *formErrors, lang string, err error, fallback string, fields ...string) bool {
	var ce *custos.Error
	if !errors.As(err, &ce) || httperr.Status(err) >= 500 {
		return false
	}
	field := httperr.Field(err)
	if !slices.Contains(fields, field) {
		field = fallback
	}
	f.add(field, message.For(lang).Error(err))
	return true
}
