package tokenimport_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/custos/custos/otp"
	"github.com/custos/custos/tokenimport"
	"github.com/google/go-cmp/cmp"
)

const head = `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
`

// figure2 follows RFC 6030 Figure 2: one HOTP key with a PlainValue secret
// (the RFC 4226 seed) and Counter 0.
const figure2 = `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0"
    Id="exampleID1"
    xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
    <KeyPackage>
        <DeviceInfo>
            <Manufacturer>Manufacturer</Manufacturer>
            <SerialNo>987654321</SerialNo>
            <UserId>DC=example-bank,DC=net</UserId>
        </DeviceInfo>
        <CryptoModuleInfo>
            <Id>CM_ID_001</Id>
        </CryptoModuleInfo>
        <Key Id="12345678"
            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer</Issuer>
            <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
            </AlgorithmParameters>
            <Data>
                <Secret>
                    <PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=
                    </PlainValue>
                </Secret>
                <Counter>
                    <PlainValue>0</PlainValue>
                </Counter>
            </Data>
            <UserId>UID=jsmith,DC=example-bank,DC=net</UserId>
        </Key>
    </KeyPackage>
</KeyContainer>
`

func TestParsePSKCFigure2(t *testing.T) {
	var seen []int
	tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(figure2), nil, func(n int) { seen = append(seen, n) })
	if err != nil {
		t.Fatal(err)
	}
	want := []tokenimport.Token{{
		Serial: "987654321", Secret: seed20, Kind: "hotp",
		Params: otp.Params{Algorithm: otp.SHA1, Digits: 8},
	}}
	if diff := cmp.Diff(want, tokens); diff != "" {
		t.Fatalf("tokens (-want +got):\n%s", diff)
	}
	if len(rejected) != 0 || !cmp.Equal(seen, []int{1}) {
		t.Fatalf("rejected %+v, progress %v", rejected, seen)
	}
	// RFC 4226 count 0, truncated 1284755224: eight digits 84755224.
	if got := otp.HOTP(tokens[0].Secret, tokens[0].Counter, tokens[0].Params.Algorithm, tokens[0].Params.Digits); got != "84755224" {
		t.Fatalf("HOTP = %q", got)
	}
}

// pkg renders one KeyPackage.
type pkg struct {
	serial    string // "-" leaves out DeviceInfo
	algorithm string // Key/@Algorithm; "" means TOTP
	response  string // ResponseFormat element; "" means Length 6, "-" none
	suite     string // Suite element content; "" leaves it out
	secret    string // Secret content; "" means the RFC seed as PlainValue, "-" none
	data      string // more Data children
	keys      int    // number of Key elements; 0 means 1, -1 none
}

func (p pkg) String() string {
	var b strings.Builder
	b.WriteString("<KeyPackage>")
	if p.serial != "-" {
		fmt.Fprintf(&b, "<DeviceInfo><Manufacturer>Acme</Manufacturer><SerialNo>%s</SerialNo></DeviceInfo>", p.serial)
	}
	alg := p.algorithm
	if alg == "" {
		alg = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
	}
	resp := p.response
	switch resp {
	case "":
		resp = `<ResponseFormat Length="6" Encoding="DECIMAL"/>`
	case "-":
		resp = ""
	}
	if p.suite != "" {
		resp += "<Suite>" + p.suite + "</Suite>"
	}
	secret := p.secret
	switch secret {
	case "":
		secret = "<Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>"
	case "-":
		secret = ""
	default:
		secret = "<Secret>" + secret + "</Secret>"
	}
	keys := p.keys
	if keys == 0 {
		keys = 1
	}
	for range max(keys, 0) {
		fmt.Fprintf(&b, `<Key Id="k" Algorithm=%q><Issuer>Acme</Issuer><AlgorithmParameters>%s</AlgorithmParameters><Data>%s%s</Data><Policy><KeyUsage>OTP</KeyUsage></Policy></Key>`,
			alg, resp, secret, p.data)
	}
	b.WriteString("</KeyPackage>\n")
	return b.String()
}

func doc(header string, pkgs ...pkg) string {
	var b strings.Builder
	b.WriteString(head + header)
	for _, p := range pkgs {
		b.WriteString(p.String())
	}
	b.WriteString("</KeyContainer>\n")
	return b.String()
}

func TestParsePSKCRejections(t *testing.T) {
	tests := []struct {
		name       string
		pkg        pkg
		wantSerial string
		want       string
	}{
		{name: "no DeviceInfo", pkg: pkg{serial: "-"}, want: "no DeviceInfo/SerialNo"},
		{name: "empty serial", pkg: pkg{serial: "  "}, want: "serial is empty"},
		{name: "long serial", pkg: pkg{serial: strings.Repeat("9", 65)}, want: "serial is longer than 64 characters"},
		{name: "non-ASCII serial", pkg: pkg{serial: "№1"}, want: "serial has characters other than printable ASCII"},
		{name: "no Key", pkg: pkg{serial: "X2", keys: -1}, wantSerial: "X2", want: "no Key"},
		{name: "two Keys", pkg: pkg{serial: "X2", keys: 2}, wantSerial: "X2", want: "more than one Key"},
		{name: "OCRA", pkg: pkg{serial: "X2", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:ocra"}, wantSerial: "X2", want: "Key Algorithm is neither PSKC HOTP nor TOTP"},
		{name: "no Algorithm", pkg: pkg{serial: "X2", algorithm: " "}, wantSerial: "X2", want: "Key has no Algorithm"},
		{name: "no ResponseFormat", pkg: pkg{serial: "X2", response: "-"}, wantSerial: "X2", want: "no AlgorithmParameters/ResponseFormat"},
		{name: "hexadecimal response", pkg: pkg{serial: "X2", response: `<ResponseFormat Length="6" Encoding="HEXADECIMAL"/>`}, wantSerial: "X2", want: "ResponseFormat Encoding must be DECIMAL"},
		{name: "no Length", pkg: pkg{serial: "X2", response: `<ResponseFormat Encoding="DECIMAL"/>`}, wantSerial: "X2", want: "ResponseFormat Length is not a whole number"},
		{name: "Length 5", pkg: pkg{serial: "X2", response: `<ResponseFormat Length="5"/>`}, wantSerial: "X2", want: "digits must be 6 to 8"},
		{name: "Length 9", pkg: pkg{serial: "X2", response: `<ResponseFormat Length="9"/>`}, wantSerial: "X2", want: "digits must be 6 to 8"},
		{name: "unknown suite", pkg: pkg{serial: "X2", suite: "HMAC-MD5"}, wantSerial: "X2", want: "AlgorithmParameters/Suite must be HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512"},
		{name: "no Secret", pkg: pkg{serial: "X2", secret: "-"}, wantSerial: "X2", want: "no Data/Secret"},
		{name: "empty Secret", pkg: pkg{serial: "X2", secret: " "}, wantSerial: "X2", want: "Secret has neither PlainValue nor EncryptedValue"},
		{name: "Secret not base64", pkg: pkg{serial: "X2", secret: "<PlainValue>MTIz*NDU2</PlainValue>"}, wantSerial: "X2", want: "Secret PlainValue is not valid base64"},
		{name: "empty PlainValue", pkg: pkg{serial: "X2", secret: "<PlainValue></PlainValue>"}, wantSerial: "X2", want: "Secret PlainValue is not valid base64"},
		{name: "Secret 9 bytes", pkg: pkg{serial: "X2", secret: "<PlainValue>" + base64.StdEncoding.EncodeToString(make([]byte, 9)) + "</PlainValue>"}, wantSerial: "X2", want: "secret is shorter than 10 bytes"},
		{name: "Secret 65 bytes", pkg: pkg{serial: "X2", secret: "<PlainValue>" + base64.StdEncoding.EncodeToString(make([]byte, 65)) + "</PlainValue>"}, wantSerial: "X2", want: "secret is longer than 64 bytes"},
		{name: "negative Counter", pkg: pkg{serial: "X2", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", data: "<Counter><PlainValue>-1</PlainValue></Counter>"}, wantSerial: "X2", want: "Counter is not a whole number ≥ 0"},
		{name: "Counter without value", pkg: pkg{serial: "X2", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", data: "<Counter></Counter>"}, wantSerial: "X2", want: "Counter has no PlainValue"},
		{name: "encrypted Counter", pkg: pkg{serial: "X2", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", data: "<Counter><EncryptedValue/></Counter>"}, wantSerial: "X2", want: "encrypted Counter is not supported"},
		{name: "TimeInterval 10", pkg: pkg{serial: "X2", data: "<TimeInterval><PlainValue>10</PlainValue></TimeInterval>"}, wantSerial: "X2", want: "period must be 15 to 120 seconds"},
		{name: "TimeInterval text", pkg: pkg{serial: "X2", data: "<TimeInterval><PlainValue>30s</PlainValue></TimeInterval>"}, wantSerial: "X2", want: "TimeInterval is not a whole number ≥ 0"},
		{name: "Time not 0", pkg: pkg{serial: "X2", data: "<Time><PlainValue>1262304000</PlainValue></Time>"}, wantSerial: "X2", want: "Time (T0) other than 0 is not supported"},
		{name: "TimeDrift text", pkg: pkg{serial: "X2", data: "<TimeDrift><PlainValue>two</PlainValue></TimeDrift>"}, wantSerial: "X2", want: "TimeDrift is not a whole number"},
		{name: "encrypted TimeDrift", pkg: pkg{serial: "X2", data: "<TimeDrift><EncryptedValue/></TimeDrift>"}, wantSerial: "X2", want: "TimeDrift must be a PlainValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := doc("", pkg{serial: "OK1"}, tt.pkg, pkg{serial: "OK3"})
			tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(file), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(tokens) != 2 || tokens[0].Serial != "OK1" || tokens[1].Serial != "OK3" {
				t.Fatalf("tokens %+v, want OK1 and OK3", tokens)
			}
			want := []tokenimport.Rejected{{Row: 2, Serial: tt.wantSerial, Reason: tt.want}}
			if diff := cmp.Diff(want, rejected); diff != "" {
				t.Fatalf("rejected (-want +got):\n%s", diff)
			}
			if strings.Contains(rejected[0].Reason, "MTIz") {
				t.Fatalf("reason %q shows the secret", rejected[0].Reason)
			}
		})
	}
}

func TestParsePSKCVariants(t *testing.T) {
	tests := []struct {
		name string
		pkg  pkg
		want tokenimport.Token
	}{
		{name: "TOTP defaults", pkg: pkg{serial: "T1"}, want: tokenimport.Token{Serial: "T1", Secret: seed20, Kind: "totp", Params: otp.DefaultParams}},
		{name: "TOTP 60 s SHA512 7 digits", pkg: pkg{serial: "T2", suite: "HMAC-SHA512", response: `<ResponseFormat Length="7" Encoding="DECIMAL"/>`, data: "<TimeInterval><PlainValue> 60 </PlainValue></TimeInterval>"},
			want: tokenimport.Token{Serial: "T2", Secret: seed20, Kind: "totp", Params: otp.Params{Algorithm: otp.SHA512, Digits: 7, Period: time.Minute}}},
		{name: "suite spelled sha256", pkg: pkg{serial: "T3", suite: "sha256"}, want: tokenimport.Token{Serial: "T3", Secret: seed20, Kind: "totp", Params: otp.Params{Algorithm: otp.SHA256, Digits: 6, Period: 30 * time.Second}}},
		{name: "older #totp spelling", pkg: pkg{serial: "T4", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc#totp"}, want: tokenimport.Token{Serial: "T4", Secret: seed20, Kind: "totp", Params: otp.DefaultParams}},
		{name: "HOTP counter", pkg: pkg{serial: " H1 ", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", data: "<Counter><PlainValue>18446744073709551615</PlainValue></Counter>"},
			want: tokenimport.Token{Serial: "H1", Secret: seed20, Kind: "hotp", Params: otp.Params{Algorithm: otp.SHA1, Digits: 6}, Counter: 18446744073709551615}},
		{name: "HOTP ignores a TimeInterval", pkg: pkg{serial: "H2", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp", data: "<TimeInterval><PlainValue>1</PlainValue></TimeInterval>"},
			want: tokenimport.Token{Serial: "H2", Secret: seed20, Kind: "hotp", Params: otp.Params{Algorithm: otp.SHA1, Digits: 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(doc("", tt.pkg)), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rejected) != 0 {
				t.Fatalf("rejected %+v", rejected)
			}
			if diff := cmp.Diff([]tokenimport.Token{tt.want}, tokens); diff != "" {
				t.Fatalf("tokens (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePSKCPrefixedNamespace(t *testing.T) {
	file := `<pskc:KeyContainer Version="1.0" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
<pskc:KeyPackage><pskc:DeviceInfo><pskc:SerialNo>P1</pskc:SerialNo></pskc:DeviceInfo>
<pskc:Key Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><pskc:AlgorithmParameters><pskc:ResponseFormat Length="6"/></pskc:AlgorithmParameters>
<pskc:Data><pskc:Secret><pskc:PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</pskc:PlainValue></pskc:Secret></pskc:Data></pskc:Key></pskc:KeyPackage>
<pskc:Signature>ignored</pskc:Signature>
</pskc:KeyContainer>`
	tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(file), nil, nil)
	if err != nil || len(rejected) != 0 || len(tokens) != 1 || tokens[0].Serial != "P1" {
		t.Fatalf("tokens %+v, rejected %+v, %v", tokens, rejected, err)
	}
}

func TestParsePSKCDuplicatesAndProgress(t *testing.T) {
	file := doc("", pkg{serial: "D1"}, pkg{serial: "U1"}, pkg{serial: "D1", secret: "<PlainValue>!</PlainValue>"}, pkg{serial: "D1"})
	var seen []int
	tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(file), nil, func(n int) { seen = append(seen, n) })
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].Serial != "U1" {
		t.Fatalf("tokens %+v", tokens)
	}
	want := []tokenimport.Rejected{
		{Row: 1, Serial: "D1", Reason: "serial appears 3 times in the file"},
		{Row: 3, Serial: "D1", Reason: "Secret PlainValue is not valid base64"},
		{Row: 4, Serial: "D1", Reason: "serial appears 3 times in the file"},
	}
	if diff := cmp.Diff(want, rejected); diff != "" {
		t.Fatalf("rejected (-want +got):\n%s", diff)
	}
	if !cmp.Equal([]int{1, 2, 3, 4}, seen) {
		t.Fatalf("progress %v", seen)
	}
}

func TestParsePSKCErrors(t *testing.T) {
	one := pkg{serial: "A"}.String()
	tests := []struct {
		name string
		file string
	}{
		{name: "empty", file: ""},
		{name: "not XML", file: "serial,secret\nA,B\n"},
		{name: "DOCTYPE with entity", file: `<?xml version="1.0"?><!DOCTYPE KeyContainer [<!ENTITY x "12345678901234567890">]>` + "\n" + head + one + "</KeyContainer>"},
		{name: "external entity", file: `<?xml version="1.0"?><!DOCTYPE KeyContainer SYSTEM "file:///etc/passwd">` + head + "</KeyContainer>"},
		{name: "directive inside", file: head + "<!DOCTYPE x>" + one + "</KeyContainer>"},
		{name: "undefined entity", file: head + strings.Replace(one, "<SerialNo>A", "<SerialNo>&xxe;", 1) + "</KeyContainer>"},
		{name: "wrong root", file: `<KeyPackages xmlns="urn:ietf:params:xml:ns:keyprov:pskc"></KeyPackages>`},
		{name: "root without namespace", file: `<KeyContainer Version="1.0">` + one + `</KeyContainer>`},
		{name: "root in another namespace", file: `<KeyContainer xmlns="urn:example">` + one + `</KeyContainer>`},
		{name: "truncated", file: head + one[:len(one)/2]},
		{name: "unclosed container", file: head + one},
		{name: "mismatched tags", file: head + "<KeyPackage><DeviceInfo></KeyPackage></DeviceInfo></KeyContainer>"},
		{name: "second root", file: head + one + "</KeyContainer><KeyContainer/>"},
		{name: "text after root", file: head + one + "</KeyContainer>trailing"},
		{name: "text before root", file: "junk" + head + one + "</KeyContainer>"},
		{name: "UTF-16 declared", file: `<?xml version="1.0" encoding="UTF-16"?>` + "\n" + head[strings.Index(head, "\n")+1:] + "</KeyContainer>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(tt.file), nil, nil)
			if err == nil {
				t.Fatalf("no error; tokens %+v rejected %+v", tokens, rejected)
			}
			if tokens != nil || rejected != nil {
				t.Fatal("results returned with an error")
			}
		})
	}
}

// spaces is an endless reader of blanks.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestParsePSKCTooLarge(t *testing.T) {
	r := io.MultiReader(strings.NewReader(head+"<KeyPackage>"), spaces{})
	_, _, err := tokenimport.ParsePSKC(r, nil, nil)
	if !errors.Is(err, tokenimport.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestLimitReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		limit   int64
		wantErr bool
	}{
		{name: "under the limit", in: "abc", limit: 4},
		{name: "exactly the limit", in: "abcd", limit: 4},
		{name: "one byte over", in: "abcde", limit: 4, wantErr: true},
		{name: "empty", in: "", limit: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(iotest.OneByteReader(tokenimport.NewLimitReader(strings.NewReader(tt.in), tt.limit)))
			if tt.wantErr {
				if !errors.Is(err, tokenimport.ErrTooLarge) {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				return
			}
			if err != nil || string(got) != tt.in {
				t.Fatalf("read %q, %v", got, err)
			}
		})
	}
}
