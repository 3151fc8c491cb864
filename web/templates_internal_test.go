package web

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos/custos/message"
)

// templateKey finds the literal keys the templates give t.
var templateKey = regexp.MustCompile(`\bt "([^"]+)"`)

// Every key the templates and the Go code of this package name must be in
// every catalogue: a missing one fails its page at render time, which only
// the tests that reach that page would notice.
func TestCatalogueHasEveryKeyUsed(t *testing.T) {
	keys := map[string]bool{}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		b, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	if len(keys) < 100 {
		t.Fatalf("found only %d literal keys in the templates", len(keys))
	}
	// The keys the templates build from a view's values.
	add := func(format func(string) string, values ...string) {
		for _, v := range values {
			keys[format(v)] = true
		}
	}
	for _, flow := range []string{"find", "forgot"} {
		add(func(s string) string { return "accounts." + flow + "." + s }, "title", "lead")
		add(func(s string) string { return "flowcode." + flow + "." + s }, "title", "sent", "sent_unknown", "submit")
	}
	for _, k := range contactKinds {
		add(func(s string) string { return "change." + k.name + "." + s }, "title", "title_add", "lead", "current", "label", "hint", "missing")
		add(func(s string) string { return "changecode." + k.name + "." + s }, "title", "sent", "sent_unknown", "submit")
	}
	for _, m := range confirmMethods {
		add(func(s string) string { return "confirm." + s + "." + m }, "label", "hint", "use")
		if m == "email" || m == "sms" {
			add(func(s string) string { return "confirm." + s + "." + m }, "offer", "sent")
		}
	}
	for _, m := range pageMethods {
		add(func(s string) string { return "secondfactor." + s + "." + m }, "label", "hint", "use")
		if m == "email" || m == "sms" {
			keys["secondfactor."+m+"_offer"] = true
		}
	}
	for _, k := range securityNotices {
		keys[k] = true
	}
	for _, login := range []bool{true, false} {
		for _, op := range []bool{true, false} {
			add(func(s string) string { return s }, protectionChange{Login: &login, Operation: &op}.lines()...)
		}
	}
	for _, lang := range message.Languages() {
		cat := message.For(lang)
		var missing []string
		for k := range keys {
			if !cat.Has(k) {
				missing = append(missing, k)
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			t.Errorf("catalogue %s lacks keys the pages use: %q", lang, missing)
		}
	}
}

// TestEveryPageParses parses every page of every group in every language,
// as the first showing of each would (pages are parsed lazily), and finds
// every page file in exactly one group: a page no group names would never
// be shown.
func TestEveryPageParses(t *testing.T) {
	wb := New(Deps{Metrics: prometheus.NewRegistry()})
	wb.addCollabPages()
	wb.addSubUserPages()
	wb.addStaffPages()
	parts := map[string]bool{"layout": true, "staff_layout": true, "collab_parts": true, "subuser_parts": true}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range message.Languages() {
		for _, f := range files {
			name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
			if parts[name] {
				continue
			}
			if wb.pages[lang][name] == nil {
				t.Errorf("%s: page %s is in no page set", lang, name)
				continue
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: page %s does not parse: %v", lang, name, r)
					}
				}()
				if tmpl := wb.template(lang, name); tmpl == nil || tmpl.Lookup("layout") == nil {
					t.Errorf("%s: page %s has no layout", lang, name)
				}
			}()
		}
	}
}
