package web

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the page templates; each defines "title" and "content" for
// the shared layout in layout.html.
var pageNames = []string{
	"error", "signup", "verify", "login",
	"account", "devices", "revoke", "activity", "outbox",
	"overview", "revokeothers", "forget", "event",
	"secondfactor", "confirm", "security", "protection",
	"totp", "hardware", "remove", "rename", "recovery", "password",
	"change", "changecode", "find", "forgot", "flowcode", "accounts", "newpassword", "resetdone", "undo",
	"identity",
	"ticketnew", "ticketreceipt", "ticketstatus", "tickets", "ticketcancel",
}

// page is what the shared layout needs. Every view struct embeds it.
type page struct {
	Lang     string
	Next     string // where the language switch comes back to: this page
	SignedIn bool   // show the left navigation
	Nav      string // the current navigation item: "account", "security", "devices" or "activity"
	Notice   string // catalogue key of a one-line notice at the top, or ""
	// Waiting are approved support tickets about this account that take
	// effect after their waiting period: every signed-in page says so,
	// with the way to cancel.
	Waiting []waitingTicket
	// SubAccounts shows "Sub-accounts" in the navigation: to root
	// accounts only.
	SubAccounts bool
	// Collaborators shows "Collaborators" and "Work in other accounts"
	// in the navigation: to root accounts (not sub-users).
	Collaborators bool
	// ActingIn is the root account the session works in as a
	// collaborator, "" in its own: every signed-in page shows a bar
	// that says so, with the way back.
	ActingIn string
	// Zone is the zone the viewer reads times in (the account's saved
	// one; UTC when none): page.When and page.Day use it.
	Zone *time.Location
	// Who is who is signed in, for the header: the account email, or a
	// sub-user's login name (overview.go).
	Who string
}

// languageChoice is one button of the language switch.
type languageChoice struct {
	Tag, Name, Label string
}

// waitingTicket is one line of the waiting-ticket banner.
type waitingTicket struct {
	Number    string
	Kind      string
	ExecuteAt string // UTC, in the page language's date format
}

func (p page) language() string { return p.Lang }

// text is the page language's text for key, filled with args.
func (p page) text(key string, args ...any) string { return message.For(p.Lang).Text(key, args...) }

// errorText is the page language's words for err.
func (p page) errorText(err error) string { return message.For(p.Lang).Error(err) }

// newPage starts the layout data for r.
func (wb *Web) newPage(r *http.Request) page {
	return page{Lang: language(r), Next: nextOf(r)}
}

// signedInPage starts the layout data for a page behind the login,
// with the banner of any support ticket about to change the account.
func (wb *Web) signedInPage(r *http.Request, nav string) page {
	p := page{Lang: language(r), Next: nextOf(r), SignedIn: true, Nav: nav, Zone: time.UTC}
	id, _ := r.Context().Value(signedInAccount{}).(string)
	wb.viewer(r, &p)
	p.SubAccounts = wb.showsSubAccounts(r, id)
	p.ActingIn, _ = r.Context().Value(signedInActing{}).(string)
	p.Collaborators = wb.showsCollaborators(r, id)
	if id != "" && wb.tickets != nil {
		list, err := wb.tickets.Mine(r.Context(), custos.Session{AccountID: id})
		if err == nil {
			for _, t := range list {
				if t.TargetAccountID == id && t.State == custos.TicketWaiting {
					p.Waiting = append(p.Waiting, waitingTicket{Number: t.Number, Kind: string(t.Kind),
						ExecuteAt: p.When(t.ExecuteAt)})
				}
			}
		}
	}
	return p
}

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

// funcs are the template functions bound to one catalogue.
func funcs(cat message.Catalogue) template.FuncMap {
	return template.FuncMap{
		// t fails the page on a key no catalogue has, so that the page
		// tests catch it rather than people seeing a key. A key only the
		// default language has reads in it (the message package's tests
		// fail on that instead).
		"t": func(key string, args ...any) (string, error) {
			if !cat.Has(key) && !message.For(message.DefaultLanguage).Has(key) {
				return "", fmt.Errorf("message catalogue %s: no text for %q", cat.Language(), key)
			}
			return cat.Text(key, args...), nil
		},
		// when and day show an instant in UTC, where the viewer's zone is
		// not known (before sign-in, the staff console); a holder's pages
		// call $.When and $.Day for their zone. Both go through formatTime.
		"when": func(t time.Time) string { return formatTime(cat, time.UTC, t) },
		"day":  func(t time.Time) string { return formatDay(cat, time.UTC, t) },
		"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// languages are the choices of the language switch, each named
		// in its own language.
		"languages": func() []languageChoice {
			var out []languageChoice
			for _, tag := range message.Languages() {
				out = append(out, languageChoice{Tag: tag, Name: cat.Text("lang.name." + tag), Label: message.For(tag).Text("lang.switch_to", message.For(tag).Text("lang.name."+tag))})
			}
			return out
		},
		"device": func(ua string) string {
			return deviceName(cat, ua)
		},
		"event": func(typ string) string {
			if key := "event." + typ; cat.Has(key) {
				return cat.Text(key)
			}
			return typ
		},
		// deviceType names an MFA device type in words.
		"deviceType": func(t custos.DeviceType) string {
			if key := "mfa.type." + string(t); cat.Has(key) {
				return cat.Text(key)
			}
			return string(t)
		},
		"kind": func(k custos.AccountKind) string {
			if key := "kind." + string(k); cat.Has(key) {
				return cat.Text(key)
			}
			return string(k)
		},
		"orNone": func(s string) string {
			if strings.TrimSpace(s) == "" {
				return cat.Text("none")
			}
			return s
		},
	}
}

// addPageSet adds a group of pages, for every language, to wb.pages:
// each of names over the layout and the group's shared parts (a file
// that redefines "layout", as the staff console's does, may be among
// them), with the group's own template functions when extra is not nil.
//
// Nothing is parsed here: a page's templates are parsed the first time
// it is shown in a language, so a server holds the pages and languages
// it serves, not all 70-odd pages in every language (about 15 MiB), and
// an API-only deployment holds none. A template that does not parse
// panics then (they are embedded: that is a build mistake, and
// TestEveryPageParses finds it first).
func (wb *Web) addPageSet(parts []string, names []string, extra func(message.Catalogue) template.FuncMap) {
	for _, lang := range message.Languages() {
		base := &pageBase{parse: func() *template.Template {
			cat := message.For(lang)
			base := template.New("layout.html").Funcs(funcs(cat))
			if extra != nil {
				base = base.Funcs(extra(cat))
			}
			base = template.Must(base.ParseFS(templateFS, "templates/layout.html"))
			for _, part := range parts {
				base = template.Must(base.ParseFS(templateFS, "templates/"+part))
			}
			return base
		}}
		set := wb.pages[lang]
		if set == nil {
			set = make(map[string]*lazyPage)
			wb.pages[lang] = set
		}
		for _, name := range names {
			set[name] = &lazyPage{base: base, file: "templates/" + name + ".html"}
		}
	}
}

// pageBase is the layout and shared parts of one group of pages in one
// language, parsed once, cloned for each page.
type pageBase struct {
	once  sync.Once
	parse func() *template.Template
	mu    sync.Mutex // Clone is not meant to race itself
	t     *template.Template
}

func (b *pageBase) clone() *template.Template {
	b.once.Do(func() { b.t = b.parse() })
	b.mu.Lock()
	defer b.mu.Unlock()
	return template.Must(b.t.Clone())
}

// lazyPage is one page in one language, parsed on first use.
type lazyPage struct {
	once sync.Once
	base *pageBase
	file string
	t    *template.Template
}

func (p *lazyPage) get() *template.Template {
	p.once.Do(func() { p.t = template.Must(p.base.clone().ParseFS(templateFS, p.file)) })
	return p.t
}

// isRoot reports whether the signed-in account is a root (not a
// sub-user), for the navigation items only roots have. It is one read of
// the account by id.
func (wb *Web) isRoot(r *http.Request, accountID string) bool {
	if accountID == "" {
		return false
	}
	acct, err := wb.auth.Account(r.Context(), accountID)
	return err == nil && !acct.IsSubUser()
}
