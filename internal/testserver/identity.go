package testserver

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/staff"
)

// Verify passes "confirm it's you" for the session with a code to the
// account email (the method every account has until it binds another),
// so the next sensitive request goes through. When an earlier code's send
// cooldown is still running, it moves the fake clock past it.
func (e *Env) Verify(t testing.TB, token, email string) {
	t.Helper()
	r := e.Do(t, "POST", "/api/v1/verifications", token, map[string]string{"method": "email"})
	if r.Status == http.StatusTooManyRequests {
		e.Clock.Advance(61 * time.Second)
		r = e.Do(t, "POST", "/api/v1/verifications", token, map[string]string{"method": "email"})
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("verification: %d %s", r.Status, r.Raw)
	}
	v := e.Do(t, "POST", "/api/v1/verifications/"+r.String("id"), token, map[string]string{
		"code": e.Code(t, strings.ToLower(email), custos.MsgVerificationCode)})
	if v.Status != http.StatusOK {
		t.Fatalf("verification code: %d %s", v.Status, v.Raw)
	}
}

// PNG returns a small valid PNG of w×h pixels with some detail in it.
func PNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 5), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Part is one file part of a multipart request.
type Part struct {
	Name     string // the form part ("document_front")
	Filename string // what the client calls it ("" for "upload.png")
	Type     string // the Content-Type the client claims ("" for image/png)
	Data     []byte
}

// Multipart builds a multipart/form-data body: the JSON of data in the
// part "data" (left out when data is nil) and the parts given. It returns
// the body and its Content-Type.
func Multipart(t testing.TB, data any, parts ...Part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if data != nil {
		j, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		w, err := mw.CreateFormField("data")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(j)
	}
	for _, p := range parts {
		if p.Filename == "" {
			p.Filename = "upload.png"
		}
		if p.Type == "" {
			p.Type = "image/png"
		}
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, p.Name, p.Filename)}
		h["Content-Type"] = []string{p.Type}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.Data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// DoRaw sends body with the given Content-Type and bearer token and
// decodes a JSON answer.
func (e *Env) DoRaw(t testing.TB, method, path, token, contentType string, body []byte) Response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// IndividualFiles are the three photos of an individual submission.
func IndividualFiles(t testing.TB) []Part {
	return []Part{
		{Name: "document_front", Data: PNG(t, 64, 40)},
		{Name: "document_back", Data: PNG(t, 64, 41)},
		{Name: "holding_document", Data: PNG(t, 48, 64)},
	}
}

// ValidID is a PRC identity number that passes its checks (the worked
// example of GB 11643's appendix, born 1949).
const ValidID = "11010519491231002X"

// SubmitIndividual submits a real-name record for an individual with a
// valid identity number through the API (after "confirm it's you") and
// returns the answer.
func (e *Env) SubmitIndividual(t testing.TB, token, email, name, number string) Response {
	t.Helper()
	e.Verify(t, token, email)
	body, ct := Multipart(t, map[string]string{"kind": "individual", "name": name,
		"document_type": "cn_id_card", "document_number": number}, IndividualFiles(t)...)
	return e.DoRaw(t, "POST", "/api/v1/account/identity", token, ct, body)
}

// Staff is an enrolled staff member of a test server.
type Staff struct {
	Email    string
	Password string
	Secret   []byte // the authenticator's seed
	Token    string // a live staff token
}

// Code returns the authenticator code at the server's current time.
func (s Staff) Code(e *Env) string {
	return otp.TOTP(s.Secret, e.Clock.Now(), otp.DefaultParams)
}

// AddStaff adds a staff member from the command line (the staff
// service's zero Actor), enrols them through the API and logs them in,
// moving the fake clock one TOTP step between enrolment and login so no
// code is used twice.
func (e *Env) AddStaff(t testing.TB, email string, role custos.StaffRole) Staff {
	t.Helper()
	link, err := e.App.Staff.Add(t.Context(), staff.Actor{}, email, role)
	if err != nil {
		t.Fatalf("staff add: %v", err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(u.Path, "/staff/enrol/")
	s := Staff{Email: email, Password: "tidy violet lantern 4217"}
	r := e.Do(t, "POST", "/api/v1/staff/enrol/"+token, "", map[string]string{"password": s.Password})
	if r.Status != http.StatusOK {
		t.Fatalf("staff enrol: %d %s", r.Status, r.Raw)
	}
	if s.Secret, err = otp.DecodeSecret(r.String("totp_secret")); err != nil {
		t.Fatalf("staff enrol secret: %v", err)
	}
	r = e.Do(t, "POST", "/api/v1/staff/enrol/"+token+"/confirm", "", map[string]string{"code": s.Code(e)})
	if r.Status != http.StatusOK {
		t.Fatalf("staff enrol confirm: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(30 * time.Second)
	s.Token = e.StaffLogin(t, s)
	return s
}

// StaffLogin logs a staff member in with password and the current code
// and returns the staff token.
func (e *Env) StaffLogin(t testing.TB, s Staff) string {
	t.Helper()
	r := e.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": s.Email, "password": s.Password})
	if r.Status != http.StatusOK {
		t.Fatalf("staff login: %d %s", r.Status, r.Raw)
	}
	r = e.Do(t, "POST", "/api/v1/staff/login/second-factor", "", map[string]string{"login_token": r.String("login_token"), "code": s.Code(e)})
	if r.Status != http.StatusOK {
		t.Fatalf("staff second factor: %d %s", r.Status, r.Raw)
	}
	return r.String("staff_token")
}

// VerifiedHolder creates an account and a session that has just passed
// "confirm it's you", straight through the store, for tests that need
// many holders at once (signing up fifty through the API would meet the
// per-address send limits, which are what they are). It returns the
// account id and the session token.
func (e *Env) VerifiedHolder(t testing.TB, email string) (string, string) {
	t.Helper()
	ctx := t.Context()
	now := e.Clock.Now()
	id, err := custos.NewID(rand.Reader, "acc")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := e.App.Hasher.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	acct := custos.Account{ID: id, Kind: custos.KindPersonal, Email: custos.NormalizeEmail(email), PasswordHash: hash, CreatedAt: now}
	if err := e.App.Store.CreateAccount(ctx, acct, custos.AuditEvent{ID: "evt_" + id, At: now, AccountID: id, Type: "signup"}); err != nil {
		t.Fatalf("create account: %v", err)
	}
	token, err := custos.NewToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sess := custos.Session{ID: "ses_" + id, TokenHash: custos.SecretHash(token), AccountID: id, CreatedAt: now,
		AuthenticatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), VerifiedUntil: now.Add(10 * time.Minute)}
	if err := e.App.Store.CreateSession(ctx, sess, custos.AuditEvent{ID: "evt_s" + id, At: now, AccountID: id, Type: "login.success"}); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return id, token
}

// ProveTicketContact runs a public ticket applicant's proof of a contact
// email (a solved captcha, then the emailed code) and returns the contact
// token.
func (e *Env) ProveTicketContact(t testing.TB, email string) string {
	t.Helper()
	c := e.Do(t, "POST", "/api/v1/captcha", "", nil)
	r := e.Do(t, "POST", "/api/v1/tickets/contact", "", map[string]any{"email": email,
		"captcha": map[string]string{"id": c.String("id"), "answer": "test"}})
	if r.Status != http.StatusAccepted {
		t.Fatalf("contact: %d %s", r.Status, r.Raw)
	}
	p := e.Do(t, "POST", "/api/v1/tickets/contact/"+r.String("contact_id"), "", map[string]string{
		"code": e.Code(t, strings.ToLower(email), custos.MsgTicketContactCode)})
	if p.Status != http.StatusOK {
		t.Fatalf("contact code: %d %s", p.Status, p.Raw)
	}
	return p.String("contact_token")
}

// ProveTicketPhone runs a ticket applicant's proof of a phone (the SMS
// code) and returns the phone token.
func (e *Env) ProveTicketPhone(t testing.TB, phone string) string {
	t.Helper()
	r := e.Do(t, "POST", "/api/v1/tickets/phone", "", map[string]string{"phone": phone})
	if r.Status != http.StatusAccepted {
		t.Fatalf("phone: %d %s", r.Status, r.Raw)
	}
	p := e.Do(t, "POST", "/api/v1/tickets/phone/"+r.String("phone_proof_id"), "", map[string]string{
		"code": e.Code(t, phone, custos.MsgTicketPhoneCode)})
	if p.Status != http.StatusOK {
		t.Fatalf("phone code: %d %s", p.Status, p.Raw)
	}
	return p.String("phone_token")
}
