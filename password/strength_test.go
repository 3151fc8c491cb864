package password_test

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
	"github.com/custos/custos/password"
)

func TestCheck(t *testing.T) {
	const email = "alice.smith@example.com"
	tests := []struct {
		name   string
		pw     string
		email  string
		reason string // "" when the password is accepted
	}{
		// Length, counted in code points after NFKC.
		{name: "empty", pw: "", reason: password.ReasonTooShort},
		{name: "7 ascii", pw: "xq7#kzw", reason: password.ReasonTooShort},
		{name: "8 ascii", pw: "xq7#kzwv"},
		{name: "8 spaces", pw: "        "},
		{name: "128 ascii", pw: strings.Repeat("xq7#kzwv", 16)},
		{name: "129 ascii", pw: strings.Repeat("xq7#kzwv", 16) + "y", reason: password.ReasonTooLong},
		{name: "7 two-byte letters", pw: "ñçéüßøå", reason: password.ReasonTooShort},
		{name: "8 two-byte letters", pw: "ñçéüßøåæ"},
		{name: "8 CJK", pw: "我的密码很安全吗"},
		{name: "7 emoji", pw: "🔒🔑🐉🌊🍀🚀🎲", reason: password.ReasonTooShort},
		{name: "8 emoji", pw: "🔒🔑🐉🌊🍀🚀🎲🎯"},
		{name: "128 emoji", pw: strings.Repeat("🔒🔑🐉🌊🍀🚀🎲🎯", 16)},
		{name: "129 emoji", pw: strings.Repeat("🔒🔑🐉🌊🍀🚀🎲🎯", 16) + "🐙", reason: password.ReasonTooLong},
		// Combining sequences compose, so 8 code points typed become 4.
		{name: "decomposed accents", pw: strings.Repeat("e\u0301", 4), reason: password.ReasonTooShort},
		{name: "decomposed accents long enough", pw: strings.Repeat("e\u0301", 8)},
		// 129 code points typed, 128 after composition.
		{name: "composes down to 128", pw: strings.Repeat("x", 127) + "e\u0301"},
		// The ligature ﬁ is two letters after NFKC: 7 typed, 8 counted.
		{name: "ligature expands to 8", pw: "\ufb01xq7#kz"},
		// U+FDFA is one character that NFKC expands to 18 code points.
		{name: "one character, 18 code points", pw: "\ufdfa"},
		{name: "full-width 7", pw: "ｘｑ７＃ｋｚｗ", reason: password.ReasonTooShort},
		{name: "full-width 128", pw: strings.Repeat("ｘｑ７＃ｋｚｗｖ", 16)},
		{name: "full-width 129", pw: strings.Repeat("ｘｑ７＃ｋｚｗｖ", 16) + "ｙ", reason: password.ReasonTooLong},
		{name: "absurdly long", pw: strings.Repeat("xq7#kzwv", 1<<14), reason: password.ReasonTooLong},

		// Invalid input wins over every other reason.
		{name: "NUL", pw: "xq7#kz\x00wv", reason: password.ReasonInvalid},
		{name: "only NUL", pw: "\x00", reason: password.ReasonInvalid},
		{name: "invalid UTF-8", pw: "xq7#kz\xffwv", reason: password.ReasonInvalid},
		{name: "lone surrogate", pw: "xq7#kz\xed\xa0\x80wv", reason: password.ReasonInvalid},
		{name: "other control characters are fine", pw: "xq7#\t\nkzwv"},

		// The common list, ignoring case, after NFKC.
		{name: "common", pw: "password", reason: password.ReasonCommon},
		{name: "common upper case", pw: "PASSWORD", reason: password.ReasonCommon},
		{name: "common mixed case", pw: "PassWord1", reason: password.ReasonCommon},
		{name: "common full-width", pw: "ｐａｓｓｗｏｒｄ", reason: password.ReasonCommon},
		{name: "common full-width upper", pw: "ＰＡＳＳＷＯＲＤ", reason: password.ReasonCommon},
		{name: "common digits", pw: "12345678", reason: password.ReasonCommon},
		{name: "common full-width digits", pw: "１２３４５６７８", reason: password.ReasonCommon},
		{name: "rank 9999 is in", pw: "lizaveta", reason: password.ReasonCommon},
		{name: "rank 10005 is out", pw: "bluenote"},
		{name: "common with a space is not common", pw: "password ", reason: ""},
		{name: "short common reports too short", pw: "123456", reason: password.ReasonTooShort},

		// The local part of the email, ignoring case.
		{name: "contains local part", pw: "my alice.smith pw", email: email, reason: password.ReasonContainsEmail},
		{name: "contains local part upper case", pw: "ALICE.SMITH!2024", email: email, reason: password.ReasonContainsEmail},
		{name: "contains local part full-width", pw: "ａｌｉｃｅ．ｓｍｉｔｈ", email: email, reason: password.ReasonContainsEmail},
		{name: "is the whole email", pw: email, email: email, reason: password.ReasonContainsEmail},
		{name: "upper-case email", pw: "xx alice.smith", email: "ALICE.SMITH@EXAMPLE.COM", reason: password.ReasonContainsEmail},
		{name: "part of local part is fine", pw: "alice loves smith", email: email},
		{name: "domain is fine", pw: "example.com rocks", email: email},
		{name: "3-character local part", pw: "xxbobxxyy", email: "bob@example.com", reason: password.ReasonContainsEmail},
		{name: "2-character local part is ignored", pw: "xxjoxxyy", email: "jo@example.com"},
		{name: "3 code points of CJK", pw: "我的密码王小明很安全", email: "王小明@example.cn", reason: password.ReasonContainsEmail},
		{name: "no email", pw: "xq7#kzwv", email: ""},
		{name: "common wins over email", pw: "password", email: "password@example.com", reason: password.ReasonCommon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := password.Check(tt.pw, tt.email)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.pw, err)
				}
				return
			}
			assertWeak(t, err, tt.reason)
		})
	}
}

// assertWeak fails unless err is a weak_password *custos.Error with the
// given reason and a message.
func assertWeak(t *testing.T, err error, reason string) {
	t.Helper()
	var e *custos.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *custos.Error with reason %q", err, err, reason)
	}
	if e.Code != custos.EWeakPassword {
		t.Errorf("code %q, want %q", e.Code, custos.EWeakPassword)
	}
	msg := message.For("en").Error(err)
	if got := e.Fields["reason"]; got != reason {
		t.Errorf("reason %v, want %q (message %q)", got, reason, msg)
	}
	if msg == "" || strings.Contains(msg, "_") || msg == message.For("en").Text("error."+custos.EWeakPassword) {
		t.Errorf("message %q is not for people, or not this rule's own", msg)
	}
}

// TestCommonList checks the embedded file and that Check rejects every
// entry long enough to reach the list.
func TestCommonList(t *testing.T) {
	f, err := os.Open("common-passwords.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := make(map[string]bool)
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		l := s.Text()
		if l == "" || strings.TrimSpace(l) != l || !utf8.ValidString(l) {
			t.Errorf("line %d %q: empty, padded or not UTF-8", len(lines)+1, l)
		}
		if seen[l] {
			t.Errorf("line %d %q: duplicate", len(lines)+1, l)
		}
		seen[l] = true
		lines = append(lines, l)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 10000 {
		t.Fatalf("%d entries, want 10000", len(lines))
	}
	if lines[0] != "123456" || lines[1] != "password" || lines[9999] != "qqqqqq1" {
		t.Errorf("entries 1, 2, 10000 = %q, %q, %q; want zxcvbn's rank order", lines[0], lines[1], lines[9999])
	}
	checked := 0
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n < password.MinLength || n > password.MaxLength {
			continue
		}
		checked++
		if err := password.Check(l, ""); reasonOf(err) != password.ReasonCommon {
			t.Errorf("Check(%q) = %v, want reason common", l, err)
		}
		if err := password.Check(strings.ToUpper(l), ""); reasonOf(err) != password.ReasonCommon {
			t.Errorf("Check(%q) = %v, want reason common", strings.ToUpper(l), err)
		}
	}
	if checked < 3000 {
		t.Errorf("only %d entries have 8 or more characters", checked)
	}
}

// reasonOf returns the "reason" field of a *custos.Error, or "".
func reasonOf(err error) string {
	var e *custos.Error
	if !errors.As(err, &e) {
		return ""
	}
	r, _ := e.Fields["reason"].(string)
	return r
}
