package message_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
	"github.com/google/go-cmp/cmp"
)

// Every catalogue must have every key of the default one (and no others), or
// a page in that language fails to render.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	want := message.For(message.DefaultLanguage).Keys()
	for _, lang := range message.Languages() {
		cat := message.For(lang)
		if cat.Language() != lang {
			t.Fatalf("For(%q) is the %q catalogue", lang, cat.Language())
		}
		if diff := cmp.Diff(want, cat.Keys()); diff != "" {
			t.Errorf("catalogue %s keys differ from %s (-%s +%s):\n%s", lang, message.DefaultLanguage, message.DefaultLanguage, lang, diff)
		}
	}
}

// errorCodes reads the value of every error code constant (a name starting
// with E and a string value) from the root package's errors.go, so that a
// code added there without a text fails TestEveryErrorCodeHasText.
func errorCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "E") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				code, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				codes = append(codes, code)
			}
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d error codes in errors.go: %v", len(codes), codes)
	}
	return codes
}

func TestEveryErrorCodeHasText(t *testing.T) {
	for _, lang := range message.Languages() {
		cat := message.For(lang)
		for _, code := range errorCodes(t) {
			if !cat.Has("error." + code) {
				t.Errorf("catalogue %s has no text for error code %s (key %q)", lang, code, "error."+code)
			}
		}
	}
}

func TestFor(t *testing.T) {
	tests := []struct {
		name, lang, want string
	}{
		{name: "empty", lang: "", want: "en"},
		{name: "exact", lang: "en", want: "en"},
		{name: "case", lang: "EN", want: "en"},
		{name: "region of a language", lang: "en-GB", want: "en"},
		{name: "unknown", lang: "fr-FR", want: "en"},
		{name: "header", lang: "fr-FR,fr;q=0.9,en;q=0.8", want: "en"},
		{name: "q=0 is refused", lang: "en;q=0", want: "en"},
		{name: "wildcard", lang: "*", want: "en"},
		{name: "zh", lang: "zh", want: "zh-CN"},
		{name: "zh-Hans", lang: "zh-Hans", want: "zh-CN"},
		{name: "zh-CN", lang: "zh-CN", want: "zh-CN"},
		{name: "zh-cn lower case", lang: "zh-cn", want: "zh-CN"},
		{name: "zh-Hans-CN", lang: "zh-Hans-CN", want: "zh-CN"},
		{name: "Chinese header", lang: "zh-CN,zh;q=0.9,en;q=0.8", want: "zh-CN"},
		{name: "q-values rank, not order", lang: "en;q=0.5,zh-CN;q=0.9", want: "zh-CN"},
		{name: "an unknown first, Chinese next", lang: "fr-FR,zh;q=0.5", want: "zh-CN"},
		{name: "English before Chinese", lang: "en-GB,zh;q=0.5", want: "en"},
		{name: "Chinese refused", lang: "zh;q=0,en", want: "en"},
		{name: "malformed q, the tag still counts", lang: "zh-CN;q=abc", want: "zh-CN"},
		{name: "doubled q (as Chromium may send)", lang: "zh-CN,zh;q=0.9;q=0.9", want: "zh-CN"},
		{name: "one bad tag among good ones", lang: "!!,zh;q=0.8", want: "zh-CN"},
		{name: "malformed, refused by q=0", lang: "zh;q=0;x, en", want: "en"},
		{name: "nothing usable", lang: ";;;,", want: "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := message.For(tt.lang).Language(); got != tt.want {
				t.Errorf("For(%q) = %q, want %q", tt.lang, got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	en := message.For("en")
	tests := []struct {
		name string
		key  string
		args []any
		want string
	}{
		{name: "plain", key: "login.title", want: "Log in"},
		{name: "with values", key: "code.expires", args: []any{10}, want: "It works for 10 minutes after we sent it, once."},
		{name: "verbs kept without values", key: "code.expires", want: "It works for %d minutes after we sent it, once."},
		{name: "missing key reads as itself", key: "no.such.key", want: "no.such.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := en.Text(tt.key, tt.args...); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestTextInChinese(t *testing.T) {
	zh := message.For("zh-CN")
	if got := zh.Text("code.expires", 10); !strings.Contains(got, "10") || strings.Contains(got, "works") {
		t.Errorf("zh-CN code.expires = %q, want Chinese with 10 in it", got)
	}
	if got, en := zh.Text("login.title"), message.For("en").Text("login.title"); got == en {
		t.Errorf("zh-CN login.title = %q, the English text", got)
	}
	if got := zh.Text("no.such.key"); got != "no.such.key" {
		t.Errorf("zh-CN missing key = %q, want itself", got)
	}
	if got := zh.Error(&custos.Error{Code: custos.EWeakPassword}); got != zh.Text("error.weak_password") || got == message.For("en").Text("error.weak_password") {
		t.Errorf("zh-CN error text = %q", got)
	}
}

func TestError(t *testing.T) {
	en := message.For("en")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "key", err: custos.Fail(custos.EInvalidRequest, "verify.missing_id"), want: en.Text("verify.missing_id")},
		{name: "key with args", err: custos.Fail(custos.EInvalidRequest, "api.json_unknown_field", "x"), want: `Unknown field "x".`},
		{name: "key wins over message", err: &custos.Error{Code: custos.EInvalidCode, Key: "error.expired", Message: "detail"}, want: en.Text("error.expired")},
		{name: "unknown key: the code's text", err: custos.Fail(custos.EInvalidCode, "no.such.key"), want: "That code is not right."},
		{name: "transitional message", err: custos.Errorf(custos.EInvalidCode, "That code was already used."), want: "That code was already used."},
		{name: "the code's own text", err: &custos.Error{Code: custos.EWeakPassword}, want: en.Text("error.weak_password")},
		{name: "unknown code", err: &custos.Error{Code: "no_such_code"}, want: en.Text("error.internal")},
		{name: "wrapped", err: fmt.Errorf("step: %w", &custos.Error{Code: custos.EExpired}), want: en.Text("error.expired")},
		{name: "not a custos error", err: errors.New("disk on fire"), want: en.Text("error.internal")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := en.Error(tt.err); got != tt.want {
				t.Errorf("Error(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
