package web

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/custos/custos"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the page templates; each defines "title" and "content" for
// the shared layout in layout.html.
var pageNames = []string{
	"error", "signup", "verify", "login",
	"account", "devices", "revoke", "activity", "outbox",
	"secondfactor", "confirm", "security", "protection",
	"totp", "hardware", "remove", "rename", "recovery", "password",
	"change", "changecode", "find", "forgot", "flowcode", "accounts", "newpassword", "resetdone", "undo",
}

// page is what the shared layout needs. Every view struct embeds it.
type page struct {
	Lang     string
	SignedIn bool   // show the left navigation
	Nav      string // the current navigation item: "account", "security", "devices" or "activity"
	Notice   string // catalogue key of a one-line notice at the top, or ""
}

func (p page) language() string { return p.Lang }

// newPage starts the layout data for r.
func (wb *Web) newPage(r *http.Request) page {
	return page{Lang: language(r)}
}

// signedInPage starts the layout data for a page behind the login.
func (wb *Web) signedInPage(r *http.Request, nav string) page {
	return page{Lang: language(r), SignedIn: true, Nav: nav}
}

// language picks the catalogue for r. There is one catalogue so far;
// choosing by Accept-Language belongs here once Simplified Chinese exists.
func language(r *http.Request) string { return defaultLanguage }

// fieldError is one problem with a form, tied to a field id ("" for the
// form as a whole).
type fieldError struct {
	Field   string
	Message string
}

// formErrors collects a form's problems in page order: the summary at the
// top lists them all and each field shows its own.
type formErrors struct {
	list []fieldError
}

func (f *formErrors) add(field, message string) {
	f.list = append(f.list, fieldError{Field: field, Message: message})
}

// Summary lists every problem, for the box at the top of the form.
func (f formErrors) Summary() []fieldError { return f.list }

// Field returns the problem with the field, or "".
func (f formErrors) Field(name string) string {
	for _, e := range f.list {
		if e.Field == name {
			return e.Message
		}
	}
	return ""
}

// Any reports whether the form has a problem.
func (f formErrors) Any() bool { return len(f.list) > 0 }

// mustParsePages parses every page once per language.
func mustParsePages() map[string]map[string]*template.Template {
	out := make(map[string]map[string]*template.Template, len(catalogues))
	for lang, cat := range catalogues {
		base := template.Must(template.New("layout.html").Funcs(funcs(cat)).
			ParseFS(templateFS, "templates/layout.html"))
		set := make(map[string]*template.Template, len(pageNames))
		for _, name := range pageNames {
			set[name] = template.Must(template.Must(base.Clone()).
				ParseFS(templateFS, "templates/"+name+".html"))
		}
		out[lang] = set
	}
	return out
}

// funcs are the template functions bound to one catalogue.
func funcs(cat catalogue) template.FuncMap {
	return template.FuncMap{
		"t": cat.text,
		// when formats an instant for people, always in UTC: without
		// script the page cannot know the viewer's zone, and UTC is said.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return cat.must("none")
			}
			return t.UTC().Format(cat.must("format.datetime"))
		},
		"day": func(t time.Time) string { return t.UTC().Format(cat.must("format.date")) },
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"device": func(ua string) string {
			return deviceName(cat, ua)
		},
		"event": func(typ string) string {
			if s, ok := cat["event."+typ]; ok {
				return s
			}
			return typ
		},
		// deviceType names an MFA device type in words.
		"deviceType": func(t custos.DeviceType) string {
			if s, ok := cat["mfa.type."+string(t)]; ok {
				return s
			}
			return string(t)
		},
		"kind": func(k custos.AccountKind) string {
			if s, ok := cat["kind."+string(k)]; ok {
				return s
			}
			return string(k)
		},
		"orNone": func(s string) string {
			if strings.TrimSpace(s) == "" {
				return cat.must("none")
			}
			return s
		},
	}
}

// deviceName turns a User-Agent header into the words people use: "Chrome
// on Linux". It looks only for the few names that matter and falls back to
// "Unknown device"; the full header is shown beside it.
func deviceName(cat catalogue, ua string) string {
	browser := ""
	for _, b := range [...]struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"Chrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Safari/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client/", "Go HTTP client"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range [...]struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"},
		{"Windows", "Windows"}, {"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return fmt.Sprintf(cat.must("device.on"), browser, system)
	case browser != "":
		return browser
	case system != "":
		return system
	}
	return cat.must("device.unknown")
}
