package message

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/custos/custos"
)

// DefaultLanguage is the language used when no other fits.
const DefaultLanguage = "en"

// catalogues holds one table per language tag. Texts that take values use
// fmt verbs.
var catalogues = map[string]map[string]string{
	"en": join(enPages, enErrors, enServices, enProtectionMethods, enIDCheck, enUpload, enIdentity, enWebIdentity, enWebStaff, enTickets, enSubUsers, enWebStaffTickets, enWebTickets, enWebSubUsers, enWebSubLogin, enWebCollabs, enWebAlerts),
}

// join merges tables kept in separate files into one catalogue. A key in
// two tables is a mistake in the source (one text would silently win), so
// it panics, at start-up and in every test.
func join(tables ...map[string]string) map[string]string {
	out := make(map[string]string)
	for _, t := range tables {
		for k, v := range t {
			if _, dup := out[k]; dup {
				panic("message: key " + k + " is in two tables")
			}
			out[k] = v
		}
	}
	return out
}

// Catalogue is every text in one language, by key.
type Catalogue struct {
	lang  string
	texts map[string]string
}

// Languages returns the tags of every catalogue, the default first.
func Languages() []string {
	out := []string{DefaultLanguage}
	for tag := range catalogues {
		if tag != DefaultLanguage {
			out = append(out, tag)
		}
	}
	slices.Sort(out[1:])
	return out
}

// For returns the catalogue that best fits lang: a language tag ("zh-CN")
// or a whole Accept-Language header ("zh-CN,zh;q=0.9,en;q=0.8"). A tag
// matches a catalogue of the same tag, ignoring case, or else one of the
// same language ("en-GB" finds "en"). With no match it is the default
// language's.
func For(lang string) Catalogue {
	for _, want := range preferred(lang) {
		if tag, ok := match(want); ok {
			return Catalogue{lang: tag, texts: catalogues[tag]}
		}
	}
	return Catalogue{lang: DefaultLanguage, texts: catalogues[DefaultLanguage]}
}

// preferred reads a tag list in the order its q-values rank it, dropping
// tags with q=0.
func preferred(header string) []string {
	type ranked struct {
		tag string
		q   float64
	}
	var list []ranked
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.TrimSpace(tag)
		if tag == "" || tag == "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			list = append(list, ranked{tag, q})
		}
	}
	slices.SortStableFunc(list, func(a, b ranked) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.tag
	}
	return out
}

// match finds the catalogue for one tag.
func match(want string) (string, bool) {
	primary, _, _ := strings.Cut(want, "-")
	found := ""
	for _, tag := range Languages() {
		if strings.EqualFold(tag, want) {
			return tag, true
		}
		if p, _, _ := strings.Cut(tag, "-"); found == "" && strings.EqualFold(p, primary) {
			found = tag
		}
	}
	return found, found != ""
}

// Language is the catalogue's language tag.
func (c Catalogue) Language() string { return c.lang }

// Has reports whether the catalogue itself (not the default language's)
// has a text for key.
func (c Catalogue) Has(key string) bool {
	_, ok := c.texts[key]
	return ok
}

// Keys returns every key of the catalogue, sorted.
func (c Catalogue) Keys() []string {
	out := make([]string, 0, len(c.texts))
	for k := range c.texts {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Text returns the text for key, filled with args by fmt verbs (a text
// given no args is used as it is). A key this catalogue lacks takes the
// default language's text; a key no catalogue has comes back as itself,
// so a page test sees it rather than an empty space.
func (c Catalogue) Text(key string, args ...any) string {
	s, ok := c.texts[key]
	if !ok {
		if s, ok = catalogues[DefaultLanguage][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// Error returns the people-facing text of err. For a *custos.Error (or one
// it wraps) that is its Key's text filled with its Args, or else the
// code's own text ("error." + Code); anything else is a failure of ours
// and reads as "error.internal", whatever its detail.
func (c Catalogue) Error(err error) string {
	var e *custos.Error
	if !errors.As(err, &e) {
		return c.Text("error.internal")
	}
	if e.Key != "" && c.known(e.Key) {
		return c.Text(e.Key, e.Args...)
	}
	// reshape: removed once every service uses keys. Until then a
	// service's Message is the words it means people to see.
	if e.Key == "" && e.Message != "" {
		return e.Message
	}
	if key := "error." + e.Code; c.known(key) {
		return c.Text(key)
	}
	return c.Text("error.internal")
}

// known reports whether key has a text here or in the default language.
func (c Catalogue) known(key string) bool {
	if c.Has(key) {
		return true
	}
	_, ok := catalogues[DefaultLanguage][key]
	return ok
}
