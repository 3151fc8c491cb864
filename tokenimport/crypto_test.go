package tokenimport_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/otp"
	"github.com/custos/custos/tokenimport"
	"github.com/google/go-cmp/cmp"
)

// figure6 is RFC 6030 Figure 6: the same key encrypted with AES-128-CBC
// under the pre-shared key 12345678901234567890123456789012 (hex), with an
// HMAC-SHA1 ValueMAC whose key is itself encrypted under that key.
const figure6 = head + `
    <EncryptionKey>
        <ds:KeyName>Pre-shared-key</ds:KeyName>
    </EncryptionKey>
    <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
        <MACKey>
            <xenc:EncryptionMethod
            Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData>
                <xenc:CipherValue>
    ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX
                </xenc:CipherValue>
            </xenc:CipherData>
        </MACKey>
    </MACMethod>
    <KeyPackage>
        <DeviceInfo>
            <Manufacturer>Manufacturer</Manufacturer>
            <SerialNo>987654321</SerialNo>
        </DeviceInfo>
        <Key Id="12345678"
            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
            </AlgorithmParameters>
            <Data>
                <Secret>
                    <EncryptedValue>
                        <xenc:EncryptionMethod
            Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                        <xenc:CipherData>
                            <xenc:CipherValue>
    AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv
                            </xenc:CipherValue>
                        </xenc:CipherData>
                    </EncryptedValue>
                    <ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=
                    </ValueMAC>
                </Secret>
                <Counter>
                    <PlainValue>0</PlainValue>
                </Counter>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>`

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePSKCFigure6(t *testing.T) {
	psk := mustHex(t, "12345678901234567890123456789012")
	tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(figure6), psk, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 0 || len(tokens) != 1 {
		t.Fatalf("tokens %+v, rejected %+v", tokens, rejected)
	}
	if !bytes.Equal(tokens[0].Secret, seed20) || tokens[0].Serial != "987654321" || tokens[0].Kind != "hotp" {
		t.Fatalf("token %+v", tokens[0])
	}

	wrong := mustHex(t, "12345678901234567890123456789013")
	tokens, rejected, err = tokenimport.ParsePSKC(strings.NewReader(figure6), wrong, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The wrong key garbles the MAC key's padding before any MAC is checked.
	want := []tokenimport.Rejected{{Row: 1, Serial: "987654321", Reason: "MACKey does not decrypt: wrong pre-shared key or altered file"}}
	if len(tokens) != 0 || !cmp.Equal(want, rejected) {
		t.Fatalf("wrong key: tokens %+v, rejected %+v", tokens, rejected)
	}
}

// vector builds an RFC 6030 §6.1 encrypted value by hand: AES-CBC with a
// fixed IV and PKCS#7 padding (a valid xmlenc padding), CipherValue =
// base64(IV‖ciphertext), ValueMAC = base64(HMAC(macKey, IV‖ciphertext)).
type vector struct {
	psk, macKey []byte
	mac         func() hash.Hash
	alg         string // xmlenc algorithm name, e.g. "aes256-cbc"
	macAlg      string // full MACMethod algorithm URI
}

func (v vector) encrypt(t *testing.T, plain []byte, ivByte byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(v.psk)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte{}, plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, aes.BlockSize+len(buf))
	copy(out, bytes.Repeat([]byte{ivByte}, aes.BlockSize))
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], buf)
	return out
}

func (v vector) macOf(cv []byte) string {
	m := hmac.New(v.mac, v.macKey)
	m.Write(cv)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// header returns EncryptionKey and MACMethod with the MAC key encrypted.
func (v vector) header(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf(`<EncryptionKey><ds:KeyName>PSK</ds:KeyName></EncryptionKey>
<MACMethod Algorithm=%q><MACKey>
<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#%s"/>
<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData>
</MACKey></MACMethod>
`, v.macAlg, v.alg, base64.StdEncoding.EncodeToString(v.encrypt(t, v.macKey, 0x5a)))
}

// secret returns a Secret element holding plain encrypted, and a valid MAC.
func (v vector) secret(t *testing.T, plain []byte) string {
	t.Helper()
	cv := v.encrypt(t, plain, 0xa5)
	return fmt.Sprintf(`<EncryptedValue>
<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#%s"/>
<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData>
</EncryptedValue><ValueMAC>%s</ValueMAC>`,
		v.alg, base64.StdEncoding.EncodeToString(cv), v.macOf(cv))
}

func TestParsePSKCEncrypted(t *testing.T) {
	v256 := vector{
		psk:    bytes.Repeat([]byte{0x11, 0x22, 0x33, 0x44}, 8),
		macKey: bytes.Repeat([]byte{0x99}, 32),
		mac:    sha256.New,
		alg:    "aes256-cbc",
		macAlg: "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
	}
	seed32 := []byte("12345678901234567890123456789012")
	file := doc(v256.header(t),
		pkg{serial: "E1", suite: "HMAC-SHA256", response: `<ResponseFormat Length="8"/>`, secret: v256.secret(t, seed32),
			data: "<Time><PlainValue>0</PlainValue></Time><TimeInterval><PlainValue>30</PlainValue></TimeInterval><TimeDrift><PlainValue>-2</PlainValue></TimeDrift>"},
		pkg{serial: "P2"}, // a plain value may sit next to encrypted ones
	)
	tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(file), v256.psk, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []tokenimport.Token{
		{Serial: "E1", Secret: seed32, Kind: "totp", Params: otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 30 * time.Second}, Drift: -2},
		{Serial: "P2", Secret: seed20, Kind: "totp", Params: otp.DefaultParams},
	}
	if diff := cmp.Diff(want, tokens); diff != "" {
		t.Fatalf("tokens (-want +got):\n%s", diff)
	}
	if len(rejected) != 0 {
		t.Fatalf("rejected %+v", rejected)
	}
	// The decrypted seed gives the RFC 6238 SHA256 code.
	if got := otp.TOTP(tokens[0].Secret, time.Unix(59, 0), tokens[0].Params); got != "46119246" {
		t.Fatalf("TOTP = %q", got)
	}

	// Without a MACKey the pre-shared key is the MAC key (pre-RFC files).
	v128 := vector{psk: []byte("0123456789abcdef"), mac: sha1.New, alg: "aes128-cbc", macAlg: "http://www.w3.org/2000/09/xmldsig#hmac-sha1"}
	v128.macKey = v128.psk
	file = doc(`<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"/>`,
		pkg{serial: "E3", algorithm: "urn:ietf:params:xml:ns:keyprov:pskc#hotp", secret: v128.secret(t, seed20), data: "<Counter><PlainValue>7</PlainValue></Counter>"})
	tokens, rejected, err = tokenimport.ParsePSKC(strings.NewReader(file), v128.psk, nil)
	if err != nil || len(rejected) != 0 || len(tokens) != 1 {
		t.Fatalf("tokens %+v, rejected %+v, %v", tokens, rejected, err)
	}
	if tok := tokens[0]; !bytes.Equal(tok.Secret, seed20) || tok.Kind != "hotp" || tok.Counter != 7 {
		t.Fatalf("token %+v", tok)
	}
}

func TestParsePSKCEncryptionRejections(t *testing.T) {
	v := vector{
		psk:    []byte("0123456789abcdef"),
		macKey: []byte("mac key of twenty b."),
		mac:    sha1.New,
		alg:    "aes128-cbc",
		macAlg: "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
	}
	good := v.secret(t, seed20)
	cv := v.encrypt(t, seed20, 0xa5)
	tampered := append([]byte{}, cv...)
	tampered[20] ^= 1
	cvField := func(b []byte, mac string) string {
		return fmt.Sprintf(`<EncryptedValue><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData></EncryptedValue>%s`,
			base64.StdEncoding.EncodeToString(b), mac)
	}
	otherMAC := v
	otherMAC.macKey = []byte("a different mac key!")
	tests := []struct {
		name   string
		header string
		secret string
		psk    []byte
		want   string
	}{
		{name: "wrong pre-shared key", header: v.header(t), secret: good, psk: []byte("0123456789abcdeF"), want: "MACKey does not decrypt: wrong pre-shared key or altered file"},
		{name: "wrong MAC key", header: otherMAC.header(t), secret: good, psk: v.psk, want: "ValueMAC does not match: wrong pre-shared key or altered file"},
		{name: "tampered ciphertext", header: v.header(t), secret: cvField(tampered, "<ValueMAC>"+v.macOf(cv)+"</ValueMAC>"), psk: v.psk, want: "ValueMAC does not match: wrong pre-shared key or altered file"},
		{name: "MAC under another key", header: v.header(t), secret: cvField(cv, "<ValueMAC>"+otherMAC.macOf(cv)+"</ValueMAC>"), psk: v.psk, want: "ValueMAC does not match: wrong pre-shared key or altered file"},
		{name: "no ValueMAC", header: v.header(t), secret: cvField(cv, ""), psk: v.psk, want: "encrypted Secret has no ValueMAC"},
		{name: "ValueMAC not base64", header: v.header(t), secret: cvField(cv, "<ValueMAC>!!</ValueMAC>"), psk: v.psk, want: "ValueMAC is not valid base64"},
		{name: "no pre-shared key", header: v.header(t), secret: good, psk: nil, want: "Secret is encrypted but no pre-shared key was given"},
		{name: "key of the wrong length", header: v.header(t), secret: good, psk: bytes.Repeat([]byte{1}, 32), want: "MACKey: pre-shared key length does not fit the encryption algorithm"},
		{name: "no MACMethod", header: `<EncryptionKey><ds:KeyName>PSK</ds:KeyName></EncryptionKey>`, secret: good, psk: v.psk, want: "Secret is encrypted but the file has no MACMethod"},
		{name: "unknown MAC algorithm", header: strings.Replace(v.header(t), "hmac-sha1", "hmac-md5", 1), secret: good, psk: v.psk, want: "MACMethod algorithm is not supported (want HMAC-SHA1 or HMAC-SHA2)"},
		{name: "MAC key does not decrypt", header: strings.Replace(v.header(t), "<xenc:CipherValue>", "<xenc:CipherValue>AAAA", 1), secret: good, psk: v.psk, want: "MACKey: CipherValue has a bad length"},
		{name: "triple DES", header: v.header(t), secret: strings.Replace(good, "aes128-cbc", "tripledes-cbc", 1), psk: v.psk, want: "encryption algorithm is not supported (want AES-CBC)"},
		{name: "no EncryptionMethod", header: v.header(t), secret: `<EncryptedValue><xenc:CipherData><xenc:CipherValue>` + base64.StdEncoding.EncodeToString(cv) + `</xenc:CipherValue></xenc:CipherData></EncryptedValue><ValueMAC>` + v.macOf(cv) + `</ValueMAC>`, psk: v.psk, want: "EncryptedValue has no EncryptionMethod"},
		{name: "CipherValue not base64", header: v.header(t), secret: strings.Replace(cvField(cv, "<ValueMAC>"+v.macOf(cv)+"</ValueMAC>"), "<xenc:CipherValue>", "<xenc:CipherValue>*", 1), psk: v.psk, want: "CipherValue is not valid base64"},
		{name: "CipherValue only an IV", header: v.header(t), secret: cvField(cv[:16], "<ValueMAC>"+v.macOf(cv[:16])+"</ValueMAC>"), psk: v.psk, want: "CipherValue has a bad length"},
		{name: "bad padding under a good MAC", header: v.header(t), secret: cvField(v.encrypt(t, bytes.Repeat([]byte{0}, 16), 1)[:32], "<ValueMAC>"+v.macOf(v.encrypt(t, bytes.Repeat([]byte{0}, 16), 1)[:32])+"</ValueMAC>"), psk: v.psk, want: "encrypted Secret does not decrypt"},
		{name: "PBKDF2", header: `<EncryptionKey><DerivedKey><KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2"/></DerivedKey></EncryptionKey>` + strings.SplitN(v.header(t), "\n", 2)[1], secret: good, psk: v.psk, want: "password-based (PBKDF2) encryption is not supported"},
		{name: "certificate", header: `<EncryptionKey><ds:X509Data><ds:X509Certificate>MIIB</ds:X509Certificate></ds:X509Data></EncryptionKey>`, secret: good, psk: v.psk, want: "certificate-based encryption is not supported"},
		{name: "plain and encrypted", header: v.header(t), secret: "<PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue>" + good, psk: v.psk, want: "Secret has both PlainValue and EncryptedValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := doc(tt.header, pkg{serial: "OK1"}, pkg{serial: "X2", secret: tt.secret})
			tokens, rejected, err := tokenimport.ParsePSKC(strings.NewReader(file), tt.psk, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(tokens) != 1 || tokens[0].Serial != "OK1" {
				t.Fatalf("tokens %+v, want only OK1", tokens)
			}
			want := []tokenimport.Rejected{{Row: 2, Serial: "X2", Reason: tt.want}}
			if diff := cmp.Diff(want, rejected); diff != "" {
				t.Fatalf("rejected (-want +got):\n%s", diff)
			}
		})
	}
}
