package web_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// softKey is a security key in software for the HTTP tests (the browser
// test uses Chrome's virtual authenticator): one ES256 credential with
// "none" attestation, answering as a browser would for the test server's
// origin.
type softKey struct {
	t      *testing.T
	origin string // http://localhost:PORT, the relying party's origin
	rpID   string
	id     []byte
	priv   *ecdsa.PrivateKey
	count  uint32
	user   []byte // the user handle the registration named
}

func newSoftKey(t *testing.T, env *testserver.Env) *softKey {
	t.Helper()
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, id); err != nil {
		t.Fatal(err)
	}
	return &softKey{t: t, origin: "http://localhost:" + u.Port(), rpID: "localhost", id: id, priv: priv}
}

var b64url = base64.RawURLEncoding

// publicKeyOptions is what the key reads of go-webauthn's options.
type publicKeyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func (k *softKey) options(raw json.RawMessage) publicKeyOptions {
	k.t.Helper()
	var o publicKeyOptions
	if err := json.Unmarshal(raw, &o); err != nil || o.PublicKey.Challenge == "" {
		k.t.Fatalf("options %s: %v", raw, err)
	}
	return o
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

// Authenticator data flags.
const (
	flagUserPresent  = 0x01
	flagUserVerified = 0x04
	flagAttested     = 0x40
)

func (k *softKey) authData(flags byte) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	var b bytes.Buffer
	b.Write(h[:])
	b.WriteByte(flags)
	binary.Write(&b, binary.BigEndian, k.count)
	return b.Bytes()
}

// create answers navigator.credentials.create for options.
func (k *softKey) create(options json.RawMessage) json.RawMessage {
	k.t.Helper()
	o := k.options(options)
	if o.PublicKey.RP.ID != k.rpID {
		k.t.Fatalf("relying party %q, want %q", o.PublicKey.RP.ID, k.rpID)
	}
	user, err := b64url.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		k.t.Fatalf("user id %q: %v", o.PublicKey.User.ID, err)
	}
	k.user = user
	pub := k.priv.PublicKey
	cose := cbor([]cborPair{
		{1, 2}, {3, -7}, {-1, 1}, // EC2, ES256, P-256
		{-2, pub.X.FillBytes(make([]byte, 32))}, {-3, pub.Y.FillBytes(make([]byte, 32))},
	})
	auth := k.authData(flagUserPresent | flagUserVerified | flagAttested)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(k.id)))
	auth = append(auth, k.id...)
	auth = append(auth, cose...)
	att := cbor([]cborPair{{"fmt", "none"}, {"attStmt", []cborPair{}}, {"authData", auth}})
	return k.credential(map[string]any{
		"clientDataJSON":    b64url.EncodeToString(k.clientData("webauthn.create", o.PublicKey.Challenge)),
		"attestationObject": b64url.EncodeToString(att),
		"transports":        []string{"usb"},
	})
}

// get answers navigator.credentials.get for options, counting one more
// signature.
func (k *softKey) get(options json.RawMessage) json.RawMessage {
	k.t.Helper()
	o := k.options(options)
	allowed := false
	for _, c := range o.PublicKey.AllowCredentials {
		allowed = allowed || c.ID == b64url.EncodeToString(k.id)
	}
	if !allowed || o.PublicKey.RPID != k.rpID {
		k.t.Fatalf("options %s do not ask for this key on %s", options, k.rpID)
	}
	k.count++
	auth := k.authData(flagUserPresent | flagUserVerified)
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	return k.credential(map[string]any{
		"clientDataJSON":    b64url.EncodeToString(cd),
		"authenticatorData": b64url.EncodeToString(auth),
		"signature":         b64url.EncodeToString(sig),
		"userHandle":        b64url.EncodeToString(k.user),
	})
}

func (k *softKey) credential(response map[string]any) json.RawMessage {
	b, err := json.Marshal(map[string]any{
		"id": b64url.EncodeToString(k.id), "rawId": b64url.EncodeToString(k.id), "type": "public-key",
		"response": response, "clientExtensionResults": map[string]any{}, "authenticatorAttachment": "cross-platform",
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return b
}

// cborPair is one entry of a CBOR map, in the order written.
type cborPair struct{ k, v any }

// cbor encodes the little CBOR a key's answer needs (RFC 8949): integers,
// byte and text strings, and maps. Written here rather than borrowed from
// the library under test, so the test checks that both read the same bytes.
func cbor(v any) []byte {
	head := func(major byte, n uint64) []byte {
		switch {
		case n < 24:
			return []byte{major<<5 | byte(n)}
		case n < 1<<8:
			return []byte{major<<5 | 24, byte(n)}
		case n < 1<<16:
			return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
		default:
			return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
		}
	}
	switch x := v.(type) {
	case int:
		if x >= 0 {
			return head(0, uint64(x))
		}
		return head(1, uint64(-1-x))
	case []byte:
		return append(head(2, uint64(len(x))), x...)
	case string:
		return append(head(3, uint64(len(x))), x...)
	case []cborPair:
		out := head(5, uint64(len(x)))
		for _, p := range x {
			out = append(append(out, cbor(p.k)...), cbor(p.v)...)
		}
		return out
	}
	panic("cbor: unsupported type")
}

// jsonAnswer is a JSON endpoint's answer, its body decoded.
type jsonAnswer struct {
	page
	JSON map[string]any
}

// errorCode returns error.code, or "".
func (a jsonAnswer) errorCode() string {
	e, _ := a.JSON["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// errorField returns error[key], or nil.
func (a jsonAnswer) errorField(key string) any {
	e, _ := a.JSON["error"].(map[string]any)
	return e[key]
}

func (a jsonAnswer) str(key string) string {
	s, _ := a.JSON[key].(string)
	return s
}

func (a jsonAnswer) raw(key string) json.RawMessage {
	b, _ := json.Marshal(a.JSON[key])
	return b
}

// postJSON posts body (marshalled unless it is a string) with contentType
// as a page's script would, and decodes the JSON answer.
func (v *visitor) postJSON(path, contentType string, body any) jsonAnswer {
	v.t.Helper()
	s, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			v.t.Fatal(err)
		}
		s = string(b)
	}
	req, err := http.NewRequest("POST", v.env.URL+path, strings.NewReader(s))
	if err != nil {
		v.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	a := jsonAnswer{page: v.do(req)}
	if ct := a.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		v.t.Fatalf("POST %s: %d with Content-Type %q, want JSON\n%s", path, a.StatusCode, ct, a.Body)
	}
	if err := json.Unmarshal([]byte(a.Body), &a.JSON); err != nil {
		v.t.Fatalf("POST %s: answer is not JSON: %v\n%s", path, err, a.Body)
	}
	return a
}

// wantJSONError checks an error answer's status and code.
func wantJSONError(t *testing.T, a jsonAnswer, status int, code string) {
	t.Helper()
	if a.StatusCode != status || a.errorCode() != code {
		t.Fatalf("POST %s: %d %s, want %d %s\n%s", a.Request.URL.Path, a.StatusCode, a.errorCode(), status, code, a.Body)
	}
	if msg, _ := a.errorField("message").(string); msg == "" {
		t.Errorf("POST %s: error without a message: %s", a.Request.URL.Path, a.Body)
	}
}

// addSoftKey adds k to the visitor's account through the JSON endpoints,
// as the script does.
func (v *visitor) addSoftKey(k *softKey, name string) {
	v.t.Helper()
	begun := v.postJSON("/account/security/webauthn/begin", "application/json", map[string]string{"name": name})
	wantStatus(v.t, begun.page, http.StatusOK)
	done := v.postJSON("/account/security/webauthn/finish", "application/json", map[string]any{
		"registration_id": begun.str("registration_id"), "credential": k.create(begun.raw("options")),
	})
	wantStatus(v.t, done.page, http.StatusOK)
	if got := done.str("location"); got != "/account/security?done=webauthn" {
		v.t.Fatalf("after adding a key the script goes to %q", got)
	}
}

// protectLogin turns login protection on through the API, confirming it's
// you with an email code (a security key is not a verification method),
// and returns the API session, which has just confirmed it's you.
func protectLogin(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	tok := env.Login(t, email, testPassword)
	vr := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "email"})
	if vr.Status != http.StatusCreated && vr.Status != http.StatusOK {
		t.Fatalf("start verification: %d %s", vr.Status, vr.Raw)
	}
	code := env.Code(t, email, "verification_code")
	if c := env.Do(t, "POST", "/api/v1/verifications/"+vr.String("id"), tok, map[string]string{"code": code}); c.Status != http.StatusOK {
		t.Fatalf("verification: %d %s", c.Status, c.Raw)
	}
	if p := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); p.Status != http.StatusOK {
		t.Fatalf("login protection: %d %s", p.Status, p.Raw)
	}
	return tok
}
