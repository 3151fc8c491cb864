// Package message is the catalogue of every word a person sees: the pages'
// texts, the people-facing text of every error code ("error." + code), and
// the texts the transports' own errors name by key. English ("en") is the
// default; Simplified Chinese ("zh-CN") follows with the same keys. Keys
// name the place a text appears ("login.title"), never its English
// wording, so a translation is a second table with the same keys.
//
// The texts live in files a translator edits, embedded in the binary:
// locales/<language tag>/<table>.json, each a flat JSON object of key →
// text, read through github.com/nicksnyder/go-i18n and matched to a request
// by golang.org/x/text/language. Texts keep fmt verbs for their values.
//
// Services name a text by key (custos.Fail, custos.Error.Key) and never hold
// words themselves; the transports pick a catalogue for the request (For)
// and turn keys and errors into text (Catalogue.Text, Catalogue.Error).
//
// It imports the standard library, the root package, go-i18n and x/text.
package message
