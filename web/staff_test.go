package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/identity"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/staff"
	"github.com/custos/custos/web"
)

// staffMember is a staff member a test enrolled through the pages.
type staffMember struct {
	email, password string
	secret          []byte
}

const staffPassword = "staff correct horse battery"

var (
	staffSecretText = regexp.MustCompile(`id="staff-secret">([^<]*)<`)
	staffFileLink   = regexp.MustCompile(`/staff/reviews/([A-Za-z0-9_]+)/files/([A-Za-z0-9_]+)`)
)

// addStaff adds a staff member from the command line (the staff service's
// zero Actor) and returns the enrolment link's token.
func addStaff(t *testing.T, env *testserver.Env, email string, role custos.StaffRole) string {
	t.Helper()
	link, err := env.App.Staff.Add(t.Context(), staff.Actor{}, email, role)
	if err != nil {
		t.Fatalf("staff add: %v", err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	token, ok := strings.CutPrefix(u.Path, "/staff/enrol/")
	if !ok || token == "" {
		t.Fatalf("enrolment link %q", link)
	}
	return token
}

// enrol goes through the enrolment pages: the password, the key shown as
// text, the first code.
func (v *visitor) enrol(token, email string) staffMember {
	v.t.Helper()
	p := v.get("/staff/enrol/" + token)
	wantStatus(v.t, p, http.StatusOK)
	wantContains(v.t, p, `autocomplete="new-password"`, email, "Staff console")
	p = v.post("/staff/enrol/"+token, url.Values{"step": {"password"}, "password": {staffPassword}})
	wantStatus(v.t, p, http.StatusOK)
	wantContains(v.t, p, `id="staff-qr" src="data:image/png;base64,`)
	m := staffSecretText.FindStringSubmatch(p.Body)
	if m == nil {
		v.t.Fatalf("no #staff-secret on the enrolment page\n%s", p.Body)
	}
	for _, g := range strings.Fields(m[1]) {
		if len(g) > 4 {
			v.t.Errorf("secret %q is not in groups of four", m[1])
		}
	}
	secret, err := otp.DecodeSecret(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		v.t.Fatalf("secret %q: %v", m[1], err)
	}
	wantContains(v.t, p, "otpauth://totp/", "Custos staff: "+email)
	p = v.post("/staff/enrol/"+token, url.Values{"step": {"code"}, "email": {hidden(p, "email")},
		"secret": {hidden(p, "secret")}, "uri": {hidden(p, "uri")}, "code": {totpCode(v.env, secret)}})
	wantRedirect(v.t, p, "/staff/login?enrolled=1&email="+url.QueryEscape(email))
	return staffMember{email: email, password: staffPassword, secret: secret}
}

// staffLogin logs in through both staff steps, on a fresh time step (the
// store accepts each step once).
func (v *visitor) staffLogin(m staffMember) {
	v.t.Helper()
	v.env.Clock.Advance(30 * time.Second)
	p := v.post("/staff/login", url.Values{"email": {m.email}, "password": {m.password}})
	wantRedirect(v.t, p, "/staff/login/code")
	p = v.post("/staff/login/code", url.Values{"code": {totpCode(v.env, m.secret)}})
	wantRedirect(v.t, p, "/staff")
	if v.staffCookie() == "" {
		v.t.Fatal("the code step set no staff cookie")
	}
}

// newStaff adds, enrols and logs in a staff member in a fresh browser.
func newStaff(t *testing.T, env *testserver.Env, email string, role custos.StaffRole) (*visitor, staffMember) {
	t.Helper()
	v := newVisitor(t, env)
	m := v.enrol(addStaff(t, env, email, role), email)
	v.staffLogin(m)
	return v, m
}

func (v *visitor) jarCookie(name string) string {
	u, _ := url.Parse(v.env.URL)
	for _, c := range v.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (v *visitor) staffCookie() string { return v.jarCookie(web.InsecureStaffCookieName) }

func (v *visitor) setCookie(name, value string) {
	u, _ := url.Parse(v.env.URL)
	v.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// testPNG is a small real PNG.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 9), uint8(y * 4), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const testPDF = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

// validIDNumber is a PRC identity number that passes its checks.
const validIDNumber = "11010519491231002X"

// submitIdentity signs an account up and submits an individual's record
// for it through the identity service (the session has just confirmed
// it's the holder). The back of the document is a PDF when pdf is set.
func submitIdentity(t *testing.T, env *testserver.Env, email, name string, pdf bool) (accountID, submissionID string) {
	t.Helper()
	accountID = env.SignUp(t, email, testPassword)
	back := custos.UploadedFile{Field: "document_back", ContentType: "image/png", Data: testPNG(t, 60, 38), Width: 60, Height: 38}
	if pdf {
		back = custos.UploadedFile{Field: "document_back", ContentType: "application/pdf", Data: []byte(testPDF)}
	}
	sess := custos.Session{AccountID: accountID, VerifiedUntil: env.Clock.Now().Add(time.Hour)}
	id, err := env.App.Identity.Submit(t.Context(), sess, custos.Client{Addr: "192.0.2.1"}, identity.Submission{
		Record: custos.IdentityRecord{Kind: custos.IdentityIndividual, Name: name, DocumentType: custos.DocCNIDCard, DocumentNumber: validIDNumber},
		Files: []custos.UploadedFile{
			{Field: "document_front", ContentType: "image/png", Data: testPNG(t, 64, 40), Width: 64, Height: 40},
			back,
			{Field: "holding_document", ContentType: "image/png", Data: testPNG(t, 40, 64), Width: 40, Height: 64},
		},
	})
	if err != nil {
		t.Fatalf("submitting %s's identity: %v", email, err)
	}
	return accountID, id
}

// reviewFiles returns the file ids the review page links to.
func reviewFiles(t *testing.T, p page, submissionID string) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	for _, m := range staffFileLink.FindAllStringSubmatch(p.Body, -1) {
		if m[1] != submissionID {
			t.Errorf("the review of %s links to a file of %s", submissionID, m[1])
		}
		if !seen[m[2]] {
			seen[m[2]] = true
			ids = append(ids, m[2])
		}
	}
	return ids
}

// wantStaffChrome checks what every staff page carries: the staff colour
// bar with the words "Staff console", and once signed in the email and a
// logout button.
func wantStaffChrome(t *testing.T, p page, email string) {
	t.Helper()
	wantContains(t, p, `class="topbar staff-bar"`, `id="staff-console">Staff console<`)
	if email != "" {
		wantContains(t, p, `id="staff-email">`+email+`<`, `action="/staff/logout"`)
	}
	wantAbsent(t, p, `class="sidenav"`)
}

func TestStaffLoginWithoutSecondFactorGivesNoSession(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	m := v.enrol(addStaff(t, env, "rita@staff.example", custos.RoleReviewer), "rita@staff.example")
	env.Clock.Advance(30 * time.Second)

	p := v.get("/staff/login")
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, "")
	wantContains(t, p, `autocomplete="username"`, `autocomplete="current-password"`)

	p = v.post("/staff/login", url.Values{"email": {m.email}, "password": {m.password}})
	wantRedirect(t, p, "/staff/login/code")
	if v.staffCookie() != "" {
		t.Fatal("the password alone set a staff cookie")
	}
	loginToken := v.jarCookie(web.InsecureStaffLoginCookieName)
	if loginToken == "" {
		t.Fatal("no login cookie after the password")
	}
	for _, c := range p.Cookies() {
		if c.Name == web.InsecureStaffLoginCookieName && (!c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge <= 0 || c.MaxAge > 300) {
			t.Errorf("login cookie %+v: want HttpOnly, SameSite=Strict, a Max-Age of at most 5 minutes", c)
		}
	}
	wantRedirect(t, v.get("/staff"), "/staff/login")
	p = v.get("/staff/login/code")
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, "")
	wantContains(t, p, `autocomplete="one-time-code"`, `inputmode="numeric"`)
	wantAbsent(t, p, loginToken)

	// The login token is no session token either.
	v.setCookie(web.InsecureStaffCookieName, loginToken)
	wantRedirect(t, v.get("/staff"), "/staff/login?ended=1")
	if got := env.Do(t, "GET", "/api/v1/staff/identity-reviews", loginToken, nil); got.Status != http.StatusUnauthorized {
		t.Errorf("the login token as a staff token: %d", got.Status)
	}
}

func TestStaffWrongCodeRefused(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	m := v.enrol(addStaff(t, env, "rita@staff.example", custos.RoleReviewer), "rita@staff.example")
	env.Clock.Advance(30 * time.Second)
	wantRedirect(t, v.post("/staff/login", url.Values{"email": {m.email}, "password": {m.password}}), "/staff/login/code")

	p := v.post("/staff/login/code", url.Values{"code": {wrongCode(env, m.secret)}})
	wantStatus(t, p, http.StatusBadRequest)
	wantStaffChrome(t, p, "")
	wantContains(t, p, `role="alert"`, `id="code-error"`)
	if v.staffCookie() != "" {
		t.Fatal("a wrong code set a staff cookie")
	}
	wantRedirect(t, v.get("/staff"), "/staff/login")

	// A wrong password says nothing of the code step.
	p = v.post("/staff/login", url.Values{"email": {m.email}, "password": {"not the password"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "Wrong email or password.")

	// The right code on the same login token still works.
	p = v.post("/staff/login/code", url.Values{"code": {totpCode(env, m.secret)}})
	wantRedirect(t, p, "/staff")
	p = v.get("/staff")
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, m.email)
}

func TestStaffReplayedCodeRefused(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, m := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	code := totpCode(env, m.secret)

	// Log out and in again within the same time step, with the same code.
	wantRedirect(t, v.post("/staff/logout", nil), "/staff/login?signed_out=1")
	if v.staffCookie() != "" {
		t.Fatal("logout left the staff cookie")
	}
	wantRedirect(t, v.post("/staff/login", url.Values{"email": {m.email}, "password": {m.password}}), "/staff/login/code")
	p := v.post("/staff/login/code", url.Values{"code": {code}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="code-error"`)
	if v.staffCookie() != "" {
		t.Fatal("a replayed code set a staff cookie")
	}
	// The next step's code is fine.
	env.Clock.Advance(30 * time.Second)
	wantRedirect(t, v.post("/staff/login/code", url.Values{"code": {totpCode(env, m.secret)}}), "/staff")
}

func TestStaffCustomerCookieOpensNoStaffPage(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "cora@example.com"
	env.SignUp(t, email, testPassword)
	v := newVisitor(t, env)
	v.login(email, testPassword)
	wantStatus(t, v.get("/account"), http.StatusOK)

	for _, path := range []string{"/staff", "/staff/members", "/staff/audit", "/staff/reviews/idv_x"} {
		wantRedirect(t, v.get(path), "/staff/login")
	}
	// The customer's token in the staff cookie is no staff session.
	v.setCookie(web.InsecureStaffCookieName, v.cookie())
	wantRedirect(t, v.get("/staff"), "/staff/login?ended=1")
	p := v.get("/staff/login?ended=1")
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "You were logged out after 15 minutes without activity.")
}

func TestStaffCookieOpensNoCustomerPage(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, _ := newStaff(t, env, "rita@staff.example", custos.RoleAdmin)
	wantStatus(t, v.get("/staff"), http.StatusOK)

	for _, path := range []string{"/account", "/account/security", "/account/devices"} {
		wantRedirect(t, v.get(path), "/login")
	}
	// The staff token in the customer cookie is no customer session.
	v.setCookie(web.InsecureCookieName, v.staffCookie())
	wantRedirect(t, v.get("/account"), "/login")
	wantStatus(t, v.get("/staff"), http.StatusOK)
}

func TestStaffCookieAttributes(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	m := v.enrol(addStaff(t, env, "rita@staff.example", custos.RoleReviewer), "rita@staff.example")
	env.Clock.Advance(30 * time.Second)
	v.post("/staff/login", url.Values{"email": {m.email}, "password": {m.password}})
	p := v.post("/staff/login/code", url.Values{"code": {totpCode(env, m.secret)}})
	wantRedirect(t, p, "/staff")
	var found bool
	for _, c := range p.Cookies() {
		switch c.Name {
		case web.InsecureStaffCookieName:
			found = true
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != 0 || c.Secure {
				t.Errorf("staff cookie %+v: want HttpOnly, SameSite=Strict, Path=/, a browser-session cookie, not Secure over http", c)
			}
		case web.InsecureCookieName:
			t.Errorf("the staff login set the customer cookie")
		}
	}
	if !found {
		t.Fatal("no staff cookie")
	}
}

func TestStaffIdleSessionEnds(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, _ := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	env.Clock.Advance(14 * time.Minute)
	wantStatus(t, v.get("/staff"), http.StatusOK)
	env.Clock.Advance(15*time.Minute + time.Second)
	wantRedirect(t, v.get("/staff"), "/staff/login?ended=1")
	if v.staffCookie() != "" {
		t.Error("an ended session's cookie was not cleared")
	}
	p := v.get("/staff/login?ended=1")
	wantStaffChrome(t, p, "")
	wantContains(t, p, "You were logged out after 15 minutes without activity. Log in again.")
}

func TestStaffReviewerOnAdminPages(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, m := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	p := v.get("/staff")
	wantAbsent(t, p, `href="/staff/members"`, `href="/staff/audit"`)
	for _, path := range []string{"/staff/members", "/staff/audit", "/staff/members/stf_x/disable"} {
		p := v.get(path)
		wantStatus(t, p, http.StatusForbidden)
		wantStaffChrome(t, p, m.email)
		wantContains(t, p, "Only admins can do this.")
	}
	p = v.post("/staff/members", url.Values{"email": {"eve@staff.example"}, "role": {"admin"}})
	wantStatus(t, p, http.StatusForbidden)
	if _, err := env.App.Staff.Reinvite(t.Context(), staff.Actor{}, "eve@staff.example"); !custos.IsCode(err, custos.ENotFound) {
		t.Errorf("a reviewer's POST added a member: %v", err)
	}
}

func TestStaffQueueAndReview(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, m := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	accountID, first := submitIdentity(t, env, "holder1@example.com", "Li Lei", true)
	env.Clock.Advance(48 * time.Hour)
	v.staffLogin(m) // the session was idle for two days
	_, second := submitIdentity(t, env, "holder2@example.com", "Han Meimei", false)

	p := v.get("/staff")
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, m.email)
	wantContains(t, p, `data-kind="all">2<`, `data-kind="individual">2<`, `data-kind="enterprise">0<`)
	if i, j := strings.Index(p.Body, first), strings.Index(p.Body, second); i < 0 || j < 0 || i > j {
		t.Errorf("the queue does not list %s before %s (oldest first)", first, second)
	}
	p = v.get("/staff?max_age=24h")
	wantContains(t, p, second, `data-kind="all">2<`)
	wantAbsent(t, p, first)
	p = v.get("/staff?kind=enterprise")
	wantContains(t, p, `id="queue-empty"`)
	wantStatus(t, v.get("/staff?max_age=forever"), http.StatusBadRequest)

	p = v.get("/staff/reviews/" + first)
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, m.email)
	wantContains(t, p, "Li Lei", validIDNumber, "PRC resident identity card", accountID, "holder1@example.com",
		`data-check="document_number" data-ok="true"`, `data-check="birth_date" data-ok="true"`, "1949-12-31",
		`action="/staff/reviews/`+first+`/decision"`)
	files := reviewFiles(t, p, first)
	if len(files) != 3 {
		t.Fatalf("the review links to %d files, want 3", len(files))
	}
	if n := strings.Count(p.Body, `<img class="document" src="/staff/reviews/`+first+`/files/`); n != 2 {
		t.Errorf("%d images inline, want 2 (the PDF is a download)", n)
	}
	wantContains(t, p, "Download the PDF")

	// A rejection needs a reason.
	p = v.post("/staff/reviews/"+first+"/decision", url.Values{"decision": {"reject"}, "reason": {"  "}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="reason-error"`, "Say why it is rejected")
	p = v.post("/staff/reviews/"+first+"/decision", url.Values{"decision": {"reject"}, "reason": {"The photo is blurred."}})
	wantRedirect(t, p, "/staff?decided=rejected")
	p = v.get("/staff?decided=rejected")
	wantContains(t, p, "Rejected. The holder is told", `data-kind="all">1<`)
	wantAbsent(t, p, `data-id="`+first+`"`)

	p = v.get("/staff/reviews/" + first)
	wantContains(t, p, `data-state="rejected"`, "The photo is blurred.")
	wantAbsent(t, p, `id="approve-form"`)
	wantStatus(t, v.get("/staff/reviews/idv_nothing"), http.StatusNotFound)
}

func TestStaffFileNotFound(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, _ := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	_, a := submitIdentity(t, env, "holder1@example.com", "Li Lei", false)
	_, b := submitIdentity(t, env, "holder2@example.com", "Han Meimei", false)
	filesA := reviewFiles(t, v.get("/staff/reviews/"+a), a)
	filesB := reviewFiles(t, v.get("/staff/reviews/"+b), b)
	if len(filesA) == 0 || len(filesB) == 0 {
		t.Fatal("no files")
	}
	wantStatus(t, v.get("/staff/reviews/"+a+"/files/"+filesA[0]), http.StatusOK)
	for _, path := range []string{
		"/staff/reviews/" + a + "/files/" + filesB[0], // another submission's file
		"/staff/reviews/" + a + "/files/blob_unknown",
		"/staff/reviews/idv_unknown/files/" + filesA[0],
	} {
		p := v.get(path)
		wantStatus(t, p, http.StatusNotFound)
		if got := p.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, got)
		}
	}
	// Without a staff session a file is not served at all.
	anon := newVisitor(t, env)
	wantRedirect(t, anon.get("/staff/reviews/"+a+"/files/"+filesA[0]), "/staff/login")
}

func TestStaffFileHeaders(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, m := newStaff(t, env, "rita@staff.example", custos.RoleAdmin)
	_, id := submitIdentity(t, env, "holder1@example.com", "Li Lei", true)
	review := v.get("/staff/reviews/" + id)
	var sawImage, sawPDF bool
	for _, f := range reviewFiles(t, review, id) {
		p := v.get("/staff/reviews/" + id + "/files/" + f)
		wantStatus(t, p, http.StatusOK)
		h := p.Header
		want := map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; sandbox",
			"Cache-Control":           "no-store, private",
		}
		ct := h.Get("Content-Type")
		switch ct {
		case "image/png":
			sawImage = true
			if !strings.HasPrefix(p.Body, "\x89PNG") {
				t.Errorf("%s: not the PNG", f)
			}
			if d := h.Get("Content-Disposition"); !strings.HasPrefix(d, "inline;") {
				t.Errorf("image %s: Content-Disposition %q, want inline", f, d)
			}
		case "application/pdf":
			sawPDF = true
			if p.Body != testPDF {
				t.Errorf("%s: not the PDF", f)
			}
			if d := h.Get("Content-Disposition"); d != `attachment; filename="document_back.pdf"` {
				t.Errorf("PDF: Content-Disposition %q, want attachment", d)
			}
		default:
			t.Errorf("%s: Content-Type %q", f, ct)
		}
		for name, w := range want {
			if got := h.Get(name); got != w {
				t.Errorf("%s: %s = %q, want %q", f, name, got, w)
			}
		}
		if len(h.Values("Content-Security-Policy")) != 1 {
			t.Errorf("%s: %d Content-Security-Policy headers", f, len(h.Values("Content-Security-Policy")))
		}
	}
	if !sawImage || !sawPDF {
		t.Errorf("saw an image %v, a PDF %v", sawImage, sawPDF)
	}
	// Each view is in the staff audit trail.
	p := v.get("/staff/audit?target=" + id)
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `data-action="identity.view"`)
	p = v.get("/staff/audit?staff_id=" + url.QueryEscape(staffID(t, env, m.email)))
	wantContains(t, p, `data-action="identity.view_file"`, `data-action="staff.login"`)
}

func staffID(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	list, err := env.App.Staff.List(t.Context(), staff.Actor{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Email == email {
			return s.ID
		}
	}
	t.Fatalf("no staff member %s", email)
	return ""
}

func TestStaffConcurrentDecisions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		one, _ := newStaff(t, env, "one@staff.example", custos.RoleReviewer)
		two, _ := newStaff(t, env, "two@staff.example", custos.RoleReviewer)
		_, id := submitIdentity(t, env, "holder@example.com", "Li Lei", false)
		wantStatus(t, one.get("/staff/reviews/"+id), http.StatusOK)
		wantStatus(t, two.get("/staff/reviews/"+id), http.StatusOK)

		type answer struct {
			status int
			body   string
			err    error
		}
		answers := make([]answer, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, v := range []*visitor{one, two} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"decision": {"approve"}}
				if i == 1 {
					form = url.Values{"decision": {"reject"}, "reason": {"The photo is blurred."}}
				}
				req, _ := http.NewRequest("POST", env.URL+"/staff/reviews/"+id+"/decision", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				<-start
				resp, err := v.client.Do(req)
				if err != nil {
					answers[i].err = err
					return
				}
				defer resp.Body.Close()
				var b bytes.Buffer
				b.ReadFrom(resp.Body)
				answers[i] = answer{status: resp.StatusCode, body: b.String()}
			}()
		}
		close(start)
		wg.Wait()
		decided, refused := 0, 0
		for i, a := range answers {
			switch {
			case a.err != nil:
				t.Fatalf("reviewer %d: %v", i, a.err)
			case a.status == http.StatusSeeOther:
				decided++
			case a.status == http.StatusConflict:
				refused++
				if !strings.Contains(a.body, "Already decided by someone else") || !strings.Contains(a.body, `id="already-decided"`) {
					t.Errorf("reviewer %d was refused without saying so:\n%s", i, a.body)
				}
				if strings.Contains(a.body, `id="approve-form"`) {
					t.Errorf("reviewer %d is offered the decision again", i)
				}
			default:
				t.Errorf("reviewer %d: status %d\n%s", i, a.status, a.body)
			}
		}
		if decided != 1 || refused != 1 {
			t.Fatalf("%d decided, %d refused; want 1 and 1", decided, refused)
		}
	})
}

func TestStaffMembersAndAudit(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	admin, am := newStaff(t, env, "ada@staff.example", custos.RoleAdmin)
	p := admin.get("/staff/members")
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, am.email)
	wantContains(t, p, `href="/staff/members"`, `href="/staff/audit"`, am.email)

	// Adding a member shows the enrolment link once, in the page only.
	p = admin.post("/staff/members", url.Values{"email": {"Ben@Staff.example"}, "role": {"reviewer"}})
	wantStatus(t, p, http.StatusOK)
	link := regexp.MustCompile(`id="enrol-link">([^<]+)<`).FindStringSubmatch(p.Body)
	if link == nil || !strings.Contains(link[1], "/staff/enrol/") {
		t.Fatalf("no enrolment link on the page\n%s", p.Body)
	}
	if p := admin.get("/staff/members"); strings.Contains(p.Body, link[1]) {
		t.Error("the members page shows the link again")
	}
	p = admin.post("/staff/members", url.Values{"email": {"ben@staff.example"}, "role": {"reviewer"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "A staff member already has this email.")
	p = admin.post("/staff/members", url.Values{"email": {"cat@staff.example"}, "role": {"boss"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "Choose reviewer or admin.")

	// Ben enrols with the link and logs in.
	u, _ := url.Parse(link[1])
	ben := newVisitor(t, env)
	bm := ben.enrol(strings.TrimPrefix(u.Path, "/staff/enrol/"), "ben@staff.example")
	ben.staffLogin(bm)
	benID := staffID(t, env, bm.email)

	// Disabling asks once more, naming whom, then ends Ben's session.
	p = admin.get("/staff/members/" + benID + "/disable")
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "You are about to disable ben@staff.example.", "logged out of the staff console everywhere")
	wantRedirect(t, admin.post("/staff/members/"+benID+"/disable", nil), "/staff/members?done=disabled")
	wantRedirect(t, ben.get("/staff"), "/staff/login?ended=1")
	p = admin.get("/staff/members?done=disabled")
	wantContains(t, p, `data-email="ben@staff.example" data-state="disabled"`)
	// An admin cannot disable themselves.
	wantStatus(t, admin.get("/staff/members/"+staffID(t, env, am.email)+"/disable"), http.StatusForbidden)

	// The audit trail, filtered by target.
	p = admin.get("/staff/audit?target=" + benID)
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `data-action="staff.add"`, `data-action="staff.disable"`, `data-action="staff.enrolled"`)
	wantAbsent(t, p, `data-target="`+staffID(t, env, am.email)+`"`)
}
