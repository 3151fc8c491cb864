package web

import (
	"html/template"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
)

// staffPageNames are the staff console's pages. Each defines "title" and
// "content" like every page, but for the staff layout
// (templates/staff_layout.html), which replaces the customer's: the staff
// colour bar, the words "Staff console", the staff member's email and the
// logout button on every page. The shared parts of layout.html (the error
// summary, the code field) stay usable.
var staffPageNames = []string{
	"staff_error", "staff_login", "staff_code", "staff_enrol", "staff_enrol_key",
	"staff_queue", "staff_review", "staff_members", "staff_disable", "staff_audit",
	"staff_tickets", "staff_ticket",
}

// addStaffPages parses the staff pages into wb.pages, so that render and
// serveError find them like any page.
func (wb *Web) addStaffPages() {
	wb.addPageSet([]string{"staff_layout.html"}, staffPageNames, staffFuncs)
}

// staffFuncs are the staff pages' own template functions.
func staffFuncs(cat message.Catalogue) template.FuncMap {
	// named is the catalogue's text for prefix+value, or the value itself.
	named := func(prefix, value string) string {
		if key := prefix + value; cat.Has(key) {
			return cat.Text(key)
		}
		return value
	}
	return template.FuncMap{
		"identityKind": func(k custos.IdentityKind) string { return named("console.identity_kind.", string(k)) },
		"docType":      func(t custos.DocumentType) string { return named("console.doc.", string(t)) },
		"fileField":    func(f string) string { return named("console.file.", f) },
		"checkName":    func(n string) string { return named("console.check.", n) },
		"role":         func(r custos.StaffRole) string { return named("console.role.", string(r)) },
		"staffState":   func(s string) string { return named("console.state.", s) },
		"idState":      func(s custos.IdentityState) string { return named("console.id_state.", string(s)) },
		"staffAction":  func(a string) string { return named("console.action.", a) },
		// text is a catalogue text named by a value (a failed check's key).
		"text": func(key string) string { return cat.Text(key) },
		"isImage": func(contentType string) bool {
			return contentType == "image/jpeg" || contentType == "image/png"
		},
		"groups": groupsOfFour,
	}
}

// groupsOfFour writes a secret for typing: groups of four, spaced.
func groupsOfFour(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
