package tokenimport

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos/otp"
)

// PSKC namespaces and algorithm identifiers (RFC 6030).
const (
	pskcNS   = "urn:ietf:params:xml:ns:keyprov:pskc"
	pskcHOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
	pskcTOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
)

// MaxPSKCBytes bounds the size of a PSKC file ParsePSKC reads (about
// twenty thousand tokens), whatever bound the caller's reader has.
const MaxPSKCBytes = 32 << 20

// ErrTooLarge is wrapped by the error of ParsePSKC for a file over
// MaxPSKCBytes.
var ErrTooLarge = errors.New("file too large")

// errDirective is returned for any <!DOCTYPE …> or other directive: PSKC
// needs none, and refusing them rules out entity tricks.
var errDirective = errors.New("DOCTYPE and other <! > directives are not allowed")

// The parts of RFC 6030 that ParsePSKC reads. Element names are matched by
// local name only: vendors are not always careful with prefixes, and the
// root element's namespace is checked once.
type (
	xmlEncryptionKey struct {
		KeyName    string    `xml:"KeyName"`
		DerivedKey *struct{} `xml:"DerivedKey"`
		X509Data   *struct{} `xml:"X509Data"`
	}
	xmlEncrypted struct {
		Method *struct {
			Algorithm string `xml:"Algorithm,attr"`
		} `xml:"EncryptionMethod"`
		CipherValue string `xml:"CipherData>CipherValue"`
	}
	xmlMACMethod struct {
		Algorithm string        `xml:"Algorithm,attr"`
		MACKey    *xmlEncrypted `xml:"MACKey"`
	}
	xmlValue struct {
		PlainValue *string       `xml:"PlainValue"`
		Encrypted  *xmlEncrypted `xml:"EncryptedValue"`
		ValueMAC   string        `xml:"ValueMAC"`
	}
	xmlKey struct {
		Algorithm string `xml:"Algorithm,attr"`
		Params    struct {
			Suite    string `xml:"Suite"`
			Response *struct {
				Length   string `xml:"Length,attr"`
				Encoding string `xml:"Encoding,attr"`
			} `xml:"ResponseFormat"`
		} `xml:"AlgorithmParameters"`
		Data struct {
			Secret       *xmlValue `xml:"Secret"`
			Counter      *xmlValue `xml:"Counter"`
			Time         *xmlValue `xml:"Time"`
			TimeInterval *xmlValue `xml:"TimeInterval"`
			TimeDrift    *xmlValue `xml:"TimeDrift"`
		} `xml:"Data"`
	}
	xmlKeyPackage struct {
		SerialNo *string  `xml:"DeviceInfo>SerialNo"`
		Keys     []xmlKey `xml:"Key"`
	}
)

// ParsePSKC reads an RFC 6030 KeyContainer (namespace
// urn:ietf:params:xml:ns:keyprov:pskc) holding HOTP and TOTP keys. For each
// KeyPackage it reads DeviceInfo/SerialNo, Key/@Algorithm (…:pskc:hotp or
// …:pskc:totp; the older "#hotp" spelling too),
// AlgorithmParameters/ResponseFormat/@Length (6 to 8, DECIMAL),
// AlgorithmParameters/Suite (HMAC-SHA1 when absent, or SHA256/SHA512),
// Data/Secret, Data/Counter (HOTP, default 0), Data/TimeInterval (TOTP,
// default 30, 15 to 120), Data/Time (T0, which must be absent or 0) and
// Data/TimeDrift (Token.Drift). Other elements are ignored.
//
// A Secret is either a base64 PlainValue or an EncryptedValue under the
// pre-shared key psk (RFC 6030 §6.1): xmlenc aes128-cbc, aes192-cbc or
// aes256-cbc with the IV before the ciphertext in CipherValue, and a
// ValueMAC, which is required, computed over IV‖ciphertext with the
// MACMethod's algorithm (hmac-sha1, -sha224, -sha256, -sha384 or -sha512)
// and its MACKey, itself encrypted under psk (psk is the MAC key when
// MACKey is absent, as in pre-RFC files). The MAC is checked before
// anything is decrypted. Password-based (PBKDF2) and certificate-based
// encryption, and encrypted values other than the Secret, are not
// supported: those KeyPackages are rejected with a reason saying so.
//
// Each KeyPackage becomes a Token or a Rejected whose Row is its 1-based
// position. A package without a serial or a secret, or with an invalid one,
// is rejected, and so is every package whose serial appears more than once.
//
// The error is non-nil only when the input is not a PSKC document: not
// well-formed XML, a DOCTYPE or other directive, a root other than
// KeyContainer, more than MaxPSKCBytes (ErrTooLarge). progress, when not
// nil, is called after every KeyPackage with the number read so far.
func ParsePSKC(r io.Reader, psk []byte, progress func(n int)) ([]Token, []Rejected, error) {
	raw := xml.NewDecoder(&limitReader{r: r, left: MaxPSKCBytes, limit: MaxPSKCBytes})
	d := xml.NewTokenDecoder(noDirectives{raw})
	if err := findRoot(d); err != nil {
		return nil, nil, fmt.Errorf("tokenimport: pskc: %w", err)
	}
	c := &container{psk: psk}
	var entries []entry
	for done := false; !done; {
		tok, err := d.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("tokenimport: pskc: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			done = true
		case xml.StartElement:
			switch t.Name.Local {
			case "EncryptionKey":
				c.encKey = new(xmlEncryptionKey)
				c.forgetMACKey()
				err = d.DecodeElement(c.encKey, &t)
			case "MACMethod":
				c.mac = new(xmlMACMethod)
				c.forgetMACKey()
				err = d.DecodeElement(c.mac, &t)
			case "KeyPackage":
				var kp xmlKeyPackage
				if err = d.DecodeElement(&kp, &t); err == nil {
					entries = append(entries, c.keyPackage(len(entries)+1, &kp))
					if progress != nil {
						progress(len(entries))
					}
				}
			default:
				err = d.Skip()
			}
			if err != nil {
				return nil, nil, fmt.Errorf("tokenimport: pskc: %w", err)
			}
		}
	}
	// Only comments and white space may follow the root element.
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("tokenimport: pskc: %w", err)
		}
		if !ignorable(tok) {
			return nil, nil, errors.New("tokenimport: pskc: content after the KeyContainer")
		}
	}
	tokens, rejected := result(entries)
	return tokens, rejected, nil
}

// findRoot reads the prologue up to the KeyContainer start element.
func findRoot(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return errors.New("no KeyContainer element")
		}
		if err != nil {
			return err
		}
		if s, ok := tok.(xml.StartElement); ok {
			if s.Name.Space != pskcNS || s.Name.Local != "KeyContainer" {
				return fmt.Errorf("root element is not a KeyContainer in namespace %s", pskcNS)
			}
			return nil
		}
		if !ignorable(tok) {
			return errors.New("text before the root element")
		}
	}
}

// ignorable reports whether tok may stand outside the root element.
func ignorable(tok xml.Token) bool {
	switch t := tok.(type) {
	case xml.Comment, xml.ProcInst:
		return true
	case xml.CharData:
		return strings.TrimSpace(string(t)) == ""
	}
	return false
}

// noDirectives passes the raw tokens of an xml.Decoder on and fails at the
// first directive (<!DOCTYPE …>, <!ENTITY …>).
type noDirectives struct{ d *xml.Decoder }

// Token implements xml.TokenReader.
func (n noDirectives) Token() (xml.Token, error) {
	tok, err := n.d.RawToken()
	if _, ok := tok.(xml.Directive); ok {
		return nil, errDirective
	}
	return tok, err
}

// limitReader reads at most left bytes and then fails with ErrTooLarge
// rather than pretending the file ended.
type limitReader struct {
	r     io.Reader
	left  int64
	limit int64
}

// Read implements io.Reader.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a file of exactly the limit from a longer one.
		var b [1]byte
		if n, err := l.r.Read(b[:]); n > 0 {
			return 0, fmt.Errorf("%w: over %d bytes", ErrTooLarge, l.limit)
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// keyPackage checks one KeyPackage.
func (c *container) keyPackage(row int, kp *xmlKeyPackage) entry {
	e := entry{row: row}
	if kp.SerialNo == nil {
		e.reason = "no DeviceInfo/SerialNo"
		return e
	}
	serial := strings.TrimSpace(*kp.SerialNo)
	if e.reason = checkSerial(serial); e.reason != "" {
		return e
	}
	e.serial = serial
	switch len(kp.Keys) {
	case 0:
		e.reason = "no Key"
		return e
	case 1:
	default:
		e.reason = "more than one Key"
		return e
	}
	t, reason := c.key(&kp.Keys[0])
	if reason != "" {
		e.reason = reason
		return e
	}
	t.Serial = serial
	e.token = t
	return e
}

// key checks one Key and builds its Token (without the serial).
func (c *container) key(k *xmlKey) (*Token, string) {
	t := &Token{}
	switch a := strings.ToLower(strings.TrimSpace(k.Algorithm)); a {
	case pskcHOTP, pskcNS + "#hotp":
		t.Kind = KindHOTP
	case pskcTOTP, pskcNS + "#totp":
		t.Kind = KindTOTP
	case "":
		return nil, "Key has no Algorithm"
	default:
		return nil, "Key Algorithm is neither PSKC HOTP nor TOTP"
	}

	rf := k.Params.Response
	if rf == nil {
		return nil, "no AlgorithmParameters/ResponseFormat"
	}
	if enc := strings.TrimSpace(rf.Encoding); enc != "" && !strings.EqualFold(enc, "DECIMAL") {
		return nil, "ResponseFormat Encoding must be DECIMAL"
	}
	digits, err := strconv.Atoi(strings.TrimSpace(rf.Length))
	if err != nil {
		return nil, "ResponseFormat Length is not a whole number"
	}
	if reason := checkDigits(digits); reason != "" {
		return nil, reason
	}
	t.Params.Digits = digits
	alg, ok := suite(k.Params.Suite)
	if !ok {
		return nil, "AlgorithmParameters/Suite must be HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512"
	}
	t.Params.Algorithm = alg

	if k.Data.Secret == nil {
		return nil, "no Data/Secret"
	}
	secret, reason := c.secret(k.Data.Secret)
	if reason != "" {
		return nil, reason
	}
	if reason := checkSecretLen(secret); reason != "" {
		return nil, reason
	}
	t.Secret = secret

	if t.Kind == KindHOTP {
		n, reason := plainNumber(k.Data.Counter, "Counter", 0)
		if reason != "" {
			return nil, reason
		}
		t.Counter = n
		return t, ""
	}
	period, reason := plainNumber(k.Data.TimeInterval, "TimeInterval", 30)
	if reason != "" {
		return nil, reason
	}
	if reason := checkPeriod(period); reason != "" {
		return nil, reason
	}
	t.Params.Period = time.Duration(period) * time.Second
	t0, reason := plainNumber(k.Data.Time, "Time", 0)
	if reason != "" {
		return nil, reason
	}
	if t0 != 0 {
		return nil, "Time (T0) other than 0 is not supported"
	}
	if v := k.Data.TimeDrift; v != nil {
		if v.Encrypted != nil || v.PlainValue == nil {
			return nil, "TimeDrift must be a PlainValue"
		}
		drift, err := strconv.ParseInt(strings.TrimSpace(*v.PlainValue), 10, 32)
		if err != nil {
			return nil, "TimeDrift is not a whole number"
		}
		t.Drift = int(drift)
	}
	return t, ""
}

// plainNumber reads an unsigned PlainValue, or def when the element is
// absent. Encrypted counters and times are rare and not supported.
func plainNumber(v *xmlValue, name string, def uint64) (uint64, string) {
	if v == nil {
		return def, ""
	}
	if v.Encrypted != nil {
		return 0, "encrypted " + name + " is not supported"
	}
	if v.PlainValue == nil {
		return 0, name + " has no PlainValue"
	}
	n, err := strconv.ParseUint(strings.TrimSpace(*v.PlainValue), 10, 64)
	if err != nil {
		return 0, name + " is not a whole number ≥ 0"
	}
	return n, ""
}

// suite maps AlgorithmParameters/Suite to a hash; empty means SHA1.
func suite(s string) (otp.Algorithm, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "HMAC")
	s = strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)
	if s == "" {
		return otp.SHA1, true
	}
	return algorithm(s)
}
