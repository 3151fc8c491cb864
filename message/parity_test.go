package message_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos/custos/message"
	"github.com/google/go-cmp/cmp"
)

// Every language has the same tables, each with the same keys as the
// default language's table of that name: a key missing from one
// language, or there only, fails here, file by file.
func TestEveryTableHasTheSameKeysInEveryLanguage(t *testing.T) {
	tables := message.Tables()
	en := tables[message.DefaultLanguage]
	if len(message.Languages()) < 2 {
		t.Fatalf("only the languages %v: the Simplified Chinese catalogue is missing", message.Languages())
	}
	for _, lang := range message.Languages()[1:] {
		other := tables[lang]
		for name, keys := range en {
			if _, ok := other[name]; !ok {
				t.Errorf("%s has no table %s.json (%d keys)", lang, name, len(keys))
				continue
			}
			want, got := slices.Sorted(slices.Values(keys)), slices.Sorted(slices.Values(other[name]))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s/%s.json keys differ from %s/%s.json (-missing +extra):\n%s", lang, name, message.DefaultLanguage, name, diff)
			}
		}
		for name := range other {
			if _, ok := en[name]; !ok {
				t.Errorf("%s has a table %s.json that %s lacks", lang, name, message.DefaultLanguage)
			}
		}
	}
}

// verb is one fmt directive: its verb letter, optional width and
// precision, and which argument (1-based) it reads.
var verb = regexp.MustCompile(`%([-+# 0]*)(?:\[(\d+)\])?(\d+|\*)?(?:\.(\d+|\*)?)?(?:\[(\d+)\])?([a-zA-Z%])`)

// placeholders returns the sorted multiset "argN:verb" of a text's fmt
// directives, following fmt's rule for explicit indexes (%[2]s reads the
// second argument, and the next plain verb the third). %% reads none.
func placeholders(s string) ([]string, error) {
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(s, -1) {
		if m[6] == "%" {
			continue
		}
		if m[3] == "*" || m[4] == "*" {
			return nil, fmt.Errorf("a * width or precision in %q", m[0])
		}
		arg := next
		for _, idx := range []string{m[2], m[5]} {
			if idx != "" {
				n, _ := strconv.Atoi(idx)
				arg = n
			}
		}
		out = append(out, fmt.Sprintf("%d:%s", arg, m[6]))
		next = arg + 1
	}
	slices.Sort(out)
	return out, nil
}

func TestPlaceholders(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"plain", nil},
		{"100%% sure", nil},
		{"%s on %s", []string{"1:s", "2:s"}},
		{"%[2]s 上的 %[1]s", []string{"1:s", "2:s"}},
		{"%d minutes, %s", []string{"1:d", "2:s"}},
		{"%[2]d then %s", []string{"2:d", "3:s"}},
		{"%5.2f%%", []string{"1:f"}},
	} {
		got, err := placeholders(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("placeholders(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// Every translation takes the same values as the default language's text:
// the same verbs reading the same arguments, in any order.
func TestTranslationsKeepThePlaceholders(t *testing.T) {
	en := message.For(message.DefaultLanguage)
	for _, lang := range message.Languages()[1:] {
		cat := message.For(lang)
		for _, key := range cat.Keys() {
			if !en.Has(key) || strings.HasPrefix(key, "format.") {
				continue // an extra key fails the keys test; a layout has no verbs
			}
			want, err := placeholders(en.Text(key))
			if err != nil {
				t.Errorf("%s %s: %v", message.DefaultLanguage, key, err)
				continue
			}
			got, err := placeholders(cat.Text(key))
			if err != nil {
				t.Errorf("%s %s: %v", lang, key, err)
				continue
			}
			if !slices.Equal(want, got) {
				t.Errorf("%s %s: placeholders %v, %s has %v\n  %s: %q\n  %s: %q", lang, key, got, message.DefaultLanguage, want, message.DefaultLanguage, en.Text(key), lang, cat.Text(key))
			}
		}
	}
}

// The date layouts of every language are Go time layouts that still show
// the day, month, year (and for datetime the time and zone).
func TestDateLayouts(t *testing.T) {
	for _, lang := range message.Languages() {
		cat := message.For(lang)
		for key, parts := range map[string][]string{
			"format.date":     {"2", "1", "2006"},
			"format.datetime": {"2", "1", "2006", "15", "04", "MST"},
		} {
			layout := cat.Text(key)
			for _, p := range parts {
				if !strings.Contains(layout, p) && !(p == "1" && (strings.Contains(layout, "Jan") || strings.Contains(layout, "01"))) {
					t.Errorf("%s %s = %q lacks %q", lang, key, layout, p)
				}
			}
		}
	}
}

// allowedLatin are the words a Chinese text may keep in Latin letters:
// the brand, the names of technologies and codes people see as they are.
var allowedLatin = []string{
	"Custos", "MFA", "SMS", "TOTP", "URL", "ID", "API", "HTTP", "HTTPS", "JSON",
	"WebAuthn", "FIDO", "FIDO2", "U2F", "USB", "NFC", "PIN", "IP", "QR", "OTP",
	"PNG", "JPEG", "JPG", "PDF", "MB", "KB", "UTC", "MST", "Google", "Microsoft",
	"Authenticator", "Chrome", "Edge", "Firefox", "Safari", "Opera", "Chromium", "curl",
	"Go", "Android", "iPhone", "iPad", "Windows", "ChromeOS", "macOS", "Linux", "YubiKey",
	"name", "example", "com", "Jan", "January", "CSV", "Bearer", "Enter",
}

var (
	latinRun   = regexp.MustCompile(`[A-Za-z]+(?:[ \t'’-]+[A-Za-z]+){2,}`)
	emailOrURL = regexp.MustCompile(`[\w.+-]+@[\w.-]+|https?://\S+|/[\w/{}.-]+`)
	// codes people type as shown, like a recovery code abcd-efgh-ijkm-npqr
	codeLike = regexp.MustCompile(`\b[a-z0-9]{4}(?:-[a-z0-9]{4})+\b`)
	allowed  = regexp.MustCompile(`\b(?:` + strings.Join(allowedLatin, "|") + `)\b`)
)

// leftoverEnglish returns the first run of three or more Latin words in s
// once placeholders, addresses, paths and the allowed words are gone, or "".
func leftoverEnglish(s string) string {
	s = verb.ReplaceAllString(s, " ")
	s = emailOrURL.ReplaceAllString(s, " ")
	s = codeLike.ReplaceAllString(s, " ")
	s = allowed.ReplaceAllString(s, "、")
	return latinRun.FindString(s)
}

func TestLeftoverEnglish(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"请输入 6 位验证码。", ""},
		{"使用 Google Authenticator 等虚拟MFA应用", ""},
		{"发送到 name@example.com 的验证码", ""},
		{"%s 上的 %s", ""},
		{"Enter the code 请输入", ""}, // two words after the allowed one
		{"Please enter the code", "Please enter the code"},
		{"验证码 is not right", "is not right"},
		{"例如abcd-efgh-ijkm-npqr。", ""},
		{"例如 not-a-code here", "not-a-code here"},
	} {
		if got := leftoverEnglish(tt.in); got != tt.want {
			t.Errorf("leftoverEnglish(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// No Chinese text is an English sentence left untranslated.
func TestChineseHasNoEnglishLeft(t *testing.T) {
	found := false
	for _, lang := range message.Languages() {
		if !strings.HasPrefix(lang, "zh") {
			continue
		}
		found = true
		cat := message.For(lang)
		for _, key := range cat.Keys() {
			if strings.HasPrefix(key, "format.") {
				continue
			}
			if run := leftoverEnglish(cat.Text(key)); run != "" {
				t.Errorf("%s %s keeps English %q: %q", lang, key, run, cat.Text(key))
			}
		}
	}
	if !found {
		t.Fatal("no Chinese catalogue")
	}
}
