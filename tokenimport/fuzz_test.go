package tokenimport_test

import (
	"strings"
	"testing"

	"github.com/custos/custos/otp"
	"github.com/custos/custos/tokenimport"
)

// checkResult asserts what every parse result must satisfy, whatever the
// input: no results with an error, and only valid tokens.
func checkResult(t *testing.T, tokens []tokenimport.Token, rejected []tokenimport.Rejected, err error, progressed int) {
	t.Helper()
	if err != nil {
		if tokens != nil || rejected != nil {
			t.Fatal("results returned with an error")
		}
		return
	}
	if got := len(tokens) + len(rejected); got != progressed {
		t.Fatalf("%d tokens and rejections, progress reported %d", got, progressed)
	}
	for _, tok := range tokens {
		if tok.Serial == "" || len(tok.Serial) > tokenimport.MaxSerialLen {
			t.Fatalf("bad serial %q", tok.Serial)
		}
		if len(tok.Secret) < tokenimport.MinSecretLen || len(tok.Secret) > tokenimport.MaxSecretLen {
			t.Fatalf("secret of %d bytes", len(tok.Secret))
		}
		switch tok.Kind {
		case tokenimport.KindTOTP:
			if err := tok.Params.Validate(); err != nil {
				t.Fatalf("totp params: %v", err)
			}
		case tokenimport.KindHOTP:
			if otp.HOTP(tok.Secret, tok.Counter, tok.Params.Algorithm, tok.Params.Digits) == "" {
				t.Fatalf("hotp params %+v give no code", tok.Params)
			}
		default:
			t.Fatalf("kind %q", tok.Kind)
		}
	}
	for _, r := range rejected {
		if r.Row < 1 || r.Reason == "" {
			t.Fatalf("rejection %+v", r)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"serial,secret_base32,type,digits,period_or_counter,algorithm\nA1," + b32 + ",totp,6,30,SHA1\n",
		"A1," + b32 + ",hotp,8,5,sha256\nA1," + b32 + ",hotp,8,5,sha256\n",
		"# c\n\n\"q\"\"x\",GEZA,totp,7,120,SHA512\r\n",
		"a,\"b\nc\",d",
		"\ufeffSERIAL,SECRET_BASE32,TYPE,DIGITS,PERIOD_OR_COUNTER,ALGORITHM\n",
		"A1,GE\"ZD",
		"\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := 0
		tokens, rejected, err := tokenimport.ParseCSV(strings.NewReader(s), func(got int) {
			if got != n+1 {
				t.Fatalf("progress %d after %d", got, n)
			}
			n = got
		})
		checkResult(t, tokens, rejected, err, n)
	})
}

func FuzzParsePSKC(f *testing.F) {
	psk := []byte("12345678901234567890123456789012"[:16])
	for _, s := range []string{
		figure2,
		figure6,
		doc("", pkg{serial: "A"}, pkg{serial: "B", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", data: "<Counter><PlainValue>3</PlainValue></Counter>"}),
		doc(`<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"/>`, pkg{serial: "E", secret: "<EncryptedValue><EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/><CipherData><CipherValue>AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv</CipherValue></CipherData></EncryptedValue><ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=</ValueMAC>"}),
		`<!DOCTYPE x [<!ENTITY a "b">]><KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>`,
		`<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><Key><Key></KeyPackage>`,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := 0
		tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(s), psk, func(got int) {
			if got != n+1 {
				t.Fatalf("progress %d after %d", got, n)
			}
			n = got
		})
		checkResult(t, tokens, rejected, err, n)
	})
}
