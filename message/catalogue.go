package message

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/custos/custos"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
)

// DefaultLanguage is the language used when no other fits.
const DefaultLanguage = "en"

// locales holds the catalogue files: locales/<language tag>/<table>.json,
// each a flat JSON object of key → text, so a translator edits files, not
// Go. Texts that take values use fmt verbs (a translation may reorder them
// with explicit indexes, %[2]s).
//
//go:embed locales
var locales embed.FS

// loaded is every catalogue read from the files.
var loaded = mustLoad(locales, "locales")

// library is the catalogues of every language, read through go-i18n.
type library struct {
	bundle  *i18n.Bundle
	tags    []string // the default first, then sorted
	matcher language.Matcher
	langs   map[string]*table
}

// table is one language's texts: its keys (by the file that holds them)
// and the go-i18n localizer that reads them.
type table struct {
	keys  map[string]string // key → file (table name) it is in
	local *i18n.Localizer
	// texts is what local gives for every key of every language (its own
	// text, else the default language's), read once at load: a page asks
	// for hundreds of texts, and a map lookup is all each one costs.
	texts map[string]string
}

func mustLoad(fsys fs.FS, root string) *library {
	lib, err := load(fsys, root)
	if err != nil {
		panic("message: " + err.Error())
	}
	return lib
}

// load reads every language directory under root. A key in two files of
// one language is a mistake in the source (one text would silently win),
// and so is a file that is not a flat object of strings: both are errors,
// which panic at start-up and in every test.
func load(fsys fs.FS, root string) (*library, error) {
	dirs, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, err
	}
	lib := &library{bundle: i18n.NewBundle(language.Make(DefaultLanguage)), langs: map[string]*table{}}
	var others []string
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		tag, err := language.Parse(name)
		if err != nil || tag.String() != name {
			return nil, fmt.Errorf("directory %s/%s is not a canonical language tag", root, name)
		}
		t := &table{keys: map[string]string{}}
		files, err := fs.Glob(fsys, path.Join(root, name, "*.json"))
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			buf, err := fs.ReadFile(fsys, file)
			if err != nil {
				return nil, err
			}
			// The files are flat objects of strings: check that first, so
			// go-i18n's nested and plural forms cannot creep in unnoticed.
			var flat map[string]string
			if err := json.Unmarshal(buf, &flat); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			tableName := strings.TrimSuffix(path.Base(file), ".json")
			for k := range flat {
				if other, dup := t.keys[k]; dup {
					return nil, fmt.Errorf("key %s is in two tables of %s: %s and %s", k, name, other, tableName)
				}
				t.keys[k] = tableName
			}
			msgs, err := lib.bundle.ParseMessageBytes(tag, buf, json.Unmarshal)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			// go-i18n reads some keys ("other", "description" …) as parts
			// of one message: every key must come back as its own message.
			if len(msgs) != len(flat) {
				return nil, fmt.Errorf("%s: go-i18n read %d messages of %d keys (a key go-i18n reserves?)", file, len(msgs), len(flat))
			}
			for _, m := range msgs {
				if _, ok := flat[m.ID]; !ok || m.Other != flat[m.ID] {
					return nil, fmt.Errorf("%s: go-i18n read key %q unlike the file (a key go-i18n reserves?)", file, m.ID)
				}
			}
		}
		lib.langs[name] = t
		if name != DefaultLanguage {
			others = append(others, name)
		}
	}
	if _, ok := lib.langs[DefaultLanguage]; !ok {
		return nil, fmt.Errorf("no catalogue for the default language %s", DefaultLanguage)
	}
	slices.Sort(others)
	lib.tags = append([]string{DefaultLanguage}, others...)
	matchTags := make([]language.Tag, len(lib.tags))
	for i, name := range lib.tags {
		matchTags[i] = language.Make(name)
		lib.langs[name].local = i18n.NewLocalizer(lib.bundle, name)
	}
	lib.matcher = language.NewMatcher(matchTags)
	for _, t := range lib.langs {
		t.texts = make(map[string]string)
		for _, other := range lib.langs {
			for key := range other.keys {
				if _, done := t.texts[key]; done {
					continue
				}
				if text, err := t.local.Localize(&i18n.LocalizeConfig{MessageID: key, TemplateParser: identity}); err == nil {
					t.texts[key] = text
				} else if nf := (*i18n.MessageNotFoundErr)(nil); errors.As(err, &nf) && text != "" {
					t.texts[key] = text // the default language's
				}
			}
		}
	}
	return lib, nil
}

// Catalogue is every text in one language, by key.
type Catalogue struct {
	lang string
	t    *table
	lib  *library
}

// Languages returns the tags of every catalogue, the default first.
func Languages() []string { return slices.Clone(loaded.tags) }

// For returns the catalogue that best fits lang: a language tag ("zh-CN")
// or a whole Accept-Language header ("zh-CN,zh;q=0.9,en;q=0.8"), matched
// as golang.org/x/text/language matches ("zh", "zh-Hans" and "zh-CN" find
// zh-CN; "en-GB" finds en). With no match it is the default language's.
func For(lang string) Catalogue { return loaded.catalogue(lang) }

func (lib *library) catalogue(lang string) Catalogue {
	name := lib.match(lang)
	return Catalogue{lang: name, t: lib.langs[name], lib: lib}
}

// match finds the catalogue's tag for a tag or an Accept-Language header.
func (lib *library) match(header string) string {
	header = strings.TrimSpace(header)
	if header == "" {
		return DefaultLanguage
	}
	wants, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		wants = lenient(header)
	}
	// Each wanted tag in the order its q-value ranks it: the first that
	// some catalogue fits wins, so "fr, zh;q=0.5" is Chinese, not the
	// default.
	for _, want := range wants {
		if _, i, conf := lib.matcher.Match(want); conf != language.No {
			return lib.tags[i]
		}
	}
	return DefaultLanguage
}

// lenient reads a header ParseAcceptLanguage refuses (a stray or doubled
// q-value, "zh;q=0.9;q=0.9", one malformed tag among good ones): each
// part's tag in the order given, skipping the parts that are no tag and
// those refused with q=0, rather than dropping the whole header.
func lenient(header string) []language.Tag {
	var out []language.Tag
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		tag, err := language.Parse(strings.TrimSpace(name))
		if err != nil {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(strings.SplitN(q, ";", 2)[0]), 64); err == nil && f <= 0 {
				continue
			}
		}
		out = append(out, tag)
	}
	return out
}

// Supported returns the catalogue's tag for one language tag ("zh",
// "zh-Hans", "en-GB" …), and false when the tag is malformed or fits no
// catalogue: what an account may save as its language.
func Supported(tag string) (string, bool) {
	want, err := language.Parse(strings.TrimSpace(tag))
	if err != nil {
		return "", false
	}
	_, i, conf := loaded.matcher.Match(want)
	if conf == language.No {
		return "", false
	}
	return loaded.tags[i], true
}

// Language is the catalogue's language tag.
func (c Catalogue) Language() string { return c.lang }

// Has reports whether the catalogue itself (not the default language's)
// has a text for key.
func (c Catalogue) Has(key string) bool {
	_, ok := c.t.keys[key]
	return ok
}

// Keys returns every key of the catalogue, sorted.
func (c Catalogue) Keys() []string {
	out := make([]string, 0, len(c.t.keys))
	for k := range c.t.keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// identity keeps go-i18n from reading a text as a Go template: the texts
// are filled by fmt verbs, and a "{{" in one is only characters.
var identity template.IdentityParser

// raw is the text for key: this catalogue's, else the default language's
// (go-i18n's fallback), and whether any catalogue has it.
func (c Catalogue) raw(key string) (string, bool) {
	s, ok := c.t.texts[key]
	return s, ok
}

// Text returns the text for key, filled with args by fmt verbs (a text
// given no args is used as it is). A key this catalogue lacks takes the
// default language's text; a key no catalogue has comes back as itself,
// so a page test sees it rather than an empty space.
func (c Catalogue) Text(key string, args ...any) string {
	s, ok := c.raw(key)
	if !ok {
		return key
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
	_, ok := c.lib.langs[DefaultLanguage].keys[key]
	return ok
}
