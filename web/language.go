package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
)

// languageCookie keeps the language a person chose with the switch in the
// page header, for a year. It is not a secret: the name is the same over
// http and https.
const languageCookie = "custos_lang"

// savedLanguage is the context key of the signed-in account's saved
// language, read only when the browser has no languageCookie.
type savedLanguage struct{}

// language picks the catalogue for r: the language chosen with the
// switch (the cookie), else the signed-in account's saved language, else
// the best fit for Accept-Language, else the default.
func language(r *http.Request) string {
	if c, err := r.Cookie(languageCookie); err == nil {
		if tag, ok := message.Supported(c.Value); ok {
			return tag
		}
	}
	if saved, _ := r.Context().Value(savedLanguage{}).(string); saved != "" {
		if tag, ok := message.Supported(saved); ok {
			return tag
		}
	}
	return message.For(r.Header.Get("Accept-Language")).Language()
}

// withLanguage is r carrying its page language for the messages it causes
// (custos.WithLanguage): a code sent now is written in the language of the
// page that asked for it.
func withLanguage(r *http.Request) *http.Request {
	return r.WithContext(custos.WithLanguage(r.Context(), language(r)))
}

// withAccountLanguage adds the signed-in account's saved language to r
// when the browser has chosen none with the switch.
func (wb *Web) withAccountLanguage(r *http.Request, accountID string) *http.Request {
	if c, err := r.Cookie(languageCookie); err == nil {
		if _, ok := message.Supported(c.Value); ok {
			return r
		}
	}
	acct, err := wb.auth.Account(r.Context(), accountID)
	if err != nil || acct.Language == "" {
		return r
	}
	return withLanguage(r.WithContext(context.WithValue(r.Context(), savedLanguage{}, acct.Language)))
}

// setLanguage is the language switch (POST /language, lang and next): it
// keeps the choice in the cookie, saves it on the signed-in account (for
// the messages sent later, and the next browser), and goes back to next,
// a path on this site.
func (wb *Web) setLanguage(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	tag, ok := message.Supported(r.PostFormValue("lang"))
	if !ok {
		return custos.Fail(custos.EInvalidLanguage, "error.invalid_language")
	}
	http.SetCookie(w, &http.Cookie{Name: languageCookie, Value: tag, Path: "/",
		MaxAge: int(365 * 24 * time.Hour / time.Second), Secure: wb.cookie.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	sess, signedIn, err := wb.session(w, r)
	if err != nil {
		return err
	}
	if signedIn {
		if _, err := wb.auth.SetLanguage(r.Context(), sess.AccountID, tag); err != nil {
			return err
		}
	}
	return redirect(w, r, languageNext(r.PostFormValue("next")))
}

// languageNext is next when it is a path on this site ("/account?x=1"), else
// "/": never another origin ("//evil.example", "https://…", "/\evil").
func languageNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\x00\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// nextOf is where the language switch returns to from the page r shows:
// its path, with the query of a GET (a posted form's page is shown again
// by its GET).
func nextOf(r *http.Request) string {
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		return r.URL.Path + "?" + r.URL.RawQuery
	}
	return r.URL.Path
}
