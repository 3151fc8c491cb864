package password_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/custos/custos/password"
)

var phcForm = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		pw    string
		wrong []string
	}{
		{name: "ascii", pw: "correct horse battery staple", wrong: []string{"correct horse battery stapl", "Correct horse battery staple", ""}},
		{name: "empty", pw: "", wrong: []string{" ", "\x00"}},
		{name: "unicode", pw: "pässwörd ✓ 密码", wrong: []string{"passwort ✓ 密码"}},
		// NFKC maps full-width letters to ASCII, so both spellings are one password.
		{name: "full-width", pw: "ｐａｓｓｗｏｒｄ", wrong: []string{"PASSWORD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := password.Hash(tt.pw, tiny, &counterReader{})
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if !phcForm.MatchString(enc) {
				t.Fatalf("Hash = %q, not in PHC form", enc)
			}
			ok, p, err := password.Verify(tt.pw, enc)
			if err != nil || !ok || p != tiny {
				t.Fatalf("Verify(right) = %v, %+v, %v; want true, %+v, nil", ok, p, err, tiny)
			}
			for _, w := range tt.wrong {
				if ok, _, err := password.Verify(w, enc); ok || err != nil {
					t.Errorf("Verify(%q) = %v, %v; want false, nil", w, ok, err)
				}
			}
		})
	}
}

func TestHashSaltComesFromReader(t *testing.T) {
	a, err := password.Hash("same password", tiny, byteReader(7))
	if err != nil {
		t.Fatal(err)
	}
	b, err := password.Hash("same password", tiny, byteReader(7))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("same reader bytes gave different hashes:\n%s\n%s", a, b)
	}
	if want := "$BwcHBwcHBwcHBwcHBwcHBw$"; !strings.Contains(a, want) {
		t.Errorf("Hash = %q, want salt of 16 bytes 0x07 (%s)", a, want)
	}
	c, err := password.Hash("same password", tiny, byteReader(8))
	if err != nil {
		t.Fatal(err)
	}
	if a == c {
		t.Error("different salts gave the same hash")
	}
}

func TestHashErrors(t *testing.T) {
	tests := []struct {
		name string
		p    password.Params
		rnd  failingReader
		want error
	}{
		{name: "random source fails", p: tiny, want: errNoRandom},
		{name: "zero params", p: password.Params{}, want: password.ErrInvalidParams},
		{name: "memory too large", p: password.Params{Memory: 1<<20 + 1, Time: 1, Threads: 1}, want: password.ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := password.Hash("pw", tt.p, tt.rnd)
			if !errors.Is(err, tt.want) || enc != "" {
				t.Fatalf("Hash = %q, %v; want error %v", enc, err, tt.want)
			}
		})
	}
}

// TestVerifyOtherImplementation checks hashes made by the reference argon2
// command-line tool (Debian package argon2), so the encoding and the key
// derivation agree with other implementations, not only with Hash.
func TestVerifyOtherImplementation(t *testing.T) {
	tests := []struct {
		name    string
		pw      string
		encoded string
		params  password.Params
	}{
		{
			name:    "ascii",
			pw:      "correct horse",
			encoded: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$rAjuexKlLdAHLvqk7TeeiWZjW4OPoRGwldJXdHbTuKI",
			params:  tiny,
		},
		{
			// The tool hashed the NFC bytes; the NFD spelling must match too.
			name:    "decomposed input",
			pw:      "pa\u0308ssw\u006f\u0308rd",
			encoded: "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$twGAzyUJF7pQIM3/NOmI7fuhd4/Wiggaoiktnarp0jc",
			params:  password.Params{Memory: 256, Time: 2, Threads: 2},
		},
		{
			name:    "composed input",
			pw:      "p\u00e4ssw\u00f6rd",
			encoded: "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$twGAzyUJF7pQIM3/NOmI7fuhd4/Wiggaoiktnarp0jc",
			params:  password.Params{Memory: 256, Time: 2, Threads: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, p, err := password.Verify(tt.pw, tt.encoded)
			if err != nil || !ok || p != tt.params {
				t.Fatalf("Verify = %v, %+v, %v; want true, %+v, nil", ok, p, err, tt.params)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const (
		salt = "c2FsdHNhbHRzYWx0c2FsdA"                      // 16 bytes
		key  = "rAjuexKlLdAHLvqk7TeeiWZjW4OPoRGwldJXdHbTuKI" // 32 bytes
	)
	valid := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key
	if ok, _, err := password.Verify("correct horse", valid); !ok || err != nil {
		t.Fatalf("the valid base of this table does not verify: %v, %v", ok, err)
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{name: "empty", encoded: ""},
		{name: "dollar only", encoded: "$"},
		{name: "no leading dollar", encoded: "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "trailing dollar", encoded: valid + "$"},
		{name: "missing key", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{name: "argon2i", encoded: "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "argon2d", encoded: "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "bcrypt", encoded: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{name: "upper-case algorithm", encoded: "$ARGON2ID$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "no version", encoded: "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "version 16", encoded: "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "version not a number", encoded: "$argon2id$v=x$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "version with leading zero", encoded: "$argon2id$v=019$m=64,t=1,p=1$" + salt + "$" + key},
		{name: "params out of order", encoded: "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{name: "params missing", encoded: "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{name: "extra param", encoded: "$argon2id$v=19$m=64,t=1,p=1,keyid=1$" + salt + "$" + key},
		{name: "param with spaces", encoded: "$argon2id$v=19$m= 64,t=1,p=1$" + salt + "$" + key},
		{name: "negative memory", encoded: "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{name: "plus sign", encoded: "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{name: "leading zero", encoded: "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{name: "empty number", encoded: "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key},
		{name: "zero time", encoded: "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{name: "zero threads", encoded: "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{name: "memory below 8 per lane", encoded: "$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + key},
		{name: "memory 4 TiB", encoded: "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{name: "memory over uint64", encoded: "$argon2id$v=19$m=99999999999999999999999,t=1,p=1$" + salt + "$" + key},
		{name: "time huge", encoded: "$argon2id$v=19$m=64,t=4294967295,p=1$" + salt + "$" + key},
		{name: "threads 256", encoded: "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{name: "empty salt", encoded: "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{name: "salt too short", encoded: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{name: "salt too long", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 200) + "$" + key},
		{name: "padded salt", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{name: "url alphabet", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + "twGAzyUJF7pQIM3_NOmI7fuhd4_Wiggaoiktnarp0jc"},
		{name: "non-canonical trailing bits", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "J"},
		{name: "bad base64 length", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "AB"},
		{name: "empty key", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{name: "key too short", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + salt[:20]},
		{name: "key too long", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat(key, 3)},
		{name: "invalid UTF-8", encoded: "$argon2id$v=19$m=64,t=1,p=1$\xff\xfe$" + key},
		{name: "NUL", encoded: "$argon2id$v=19$m=64,t=1,p=1$" + salt + "\x00$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, p, err := password.Verify("correct horse", tt.encoded)
			if err == nil || ok || p != (password.Params{}) {
				t.Fatalf("Verify = %v, %+v, %v; want false, zero, error", ok, p, err)
			}
			if !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("error %v does not wrap ErrMalformedHash", err)
			}
		})
	}
}

// FuzzVerify feeds arbitrary encoded strings to Verify: it may fail but
// must not panic. Inputs that would be well-formed with a large cost are
// skipped so that a run costs seconds, not gigabytes.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$rAjuexKlLdAHLvqk7TeeiWZjW4OPoRGwldJXdHbTuKI",
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$twGAzyUJF7pQIM3/NOmI7fuhd4/Wiggaoiktnarp0jc",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$rAjuexKlLdAHLvqk7TeeiWZjW4OPoRGwldJXdHbTuKI",
		"$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$$$$$",
		"",
	} {
		f.Add("correct horse", s)
	}
	f.Fuzz(func(t *testing.T, pw, encoded string) {
		if expensive(encoded) {
			t.Skip()
		}
		ok, p, err := password.Verify(pw, encoded)
		if err != nil && (ok || p != password.Params{}) {
			t.Fatalf("Verify(%q) = %v, %+v, %v: error with a result", encoded, ok, p, err)
		}
	})
}

var costField = regexp.MustCompile(`([mt])=(\d+)`)

// expensive reports whether encoded asks for more than 1 MiB or 4 passes.
func expensive(encoded string) bool {
	for _, m := range costField.FindAllStringSubmatch(encoded, -1) {
		if len(m[2]) > 7 || (m[1] == "m" && atoi(m[2]) > 1024) || (m[1] == "t" && atoi(m[2]) > 4) {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
