package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/staff"
)

// enrolLink adds a staff member from the command line and returns the
// enrolment token of the link it prints.
func enrolLink(t *testing.T, env *testserver.Env, email string, role custos.StaffRole) string {
	t.Helper()
	link, err := env.App.Staff.Add(t.Context(), staff.Actor{}, email, role)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if !strings.HasPrefix(u.Path, "/staff/enrol/") {
		t.Fatalf("enrolment link %q", link)
	}
	return strings.TrimPrefix(u.Path, "/staff/enrol/")
}

func TestStaffNeverWithoutSecondFactor(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		token := enrolLink(t, env, "new@custos.test", custos.RoleReviewer)
		const pw = "tidy violet lantern 4217"

		// Invited, not enrolled: the password does not open anything, and
		// the answer is a wrong password's.
		if r := env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": "new@custos.test", "password": pw}); r.Status != http.StatusUnauthorized || r.ErrorCode() != custos.EInvalidCredentials {
			t.Fatalf("login before enrolment: %d %s", r.Status, r.Raw)
		}
		// Password set, authenticator not proven: still nothing.
		r := env.Do(t, "POST", "/api/v1/staff/enrol/"+token, "", map[string]string{"password": pw})
		if r.Status != http.StatusOK {
			t.Fatalf("enrol: %d %s", r.Status, r.Raw)
		}
		secret, err := otp.DecodeSecret(r.String("totp_secret"))
		if err != nil || !strings.HasPrefix(r.String("otpauth_uri"), "otpauth://totp/") {
			t.Fatalf("enrol answer: %s", r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": "new@custos.test", "password": pw}); r.Status != http.StatusUnauthorized {
			t.Fatalf("login before the authenticator is proven: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/staff/enrol/"+token+"/confirm", "", map[string]string{"code": "000000"}); r.Status != http.StatusUnprocessableEntity || r.ErrorCode() != custos.EInvalidCode {
			t.Fatalf("wrong enrolment code: %d %s", r.Status, r.Raw)
		}
		code := otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)
		if r := env.Do(t, "POST", "/api/v1/staff/enrol/"+token+"/confirm", "", map[string]string{"code": code}); r.Status != http.StatusOK {
			t.Fatalf("confirm: %d %s", r.Status, r.Raw)
		}
		// The link is spent.
		if r := env.Do(t, "POST", "/api/v1/staff/enrol/"+token, "", map[string]string{"password": "another long passphrase"}); r.Status != http.StatusGone {
			t.Fatalf("a spent link: %d %s", r.Status, r.Raw)
		}

		// The password alone gives a login token, which is no staff token.
		r = env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": "new@custos.test", "password": pw})
		lt := r.String("login_token")
		if r.Status != http.StatusOK || lt == "" || r.Body["staff_token"] != nil {
			t.Fatalf("password step: %d %s", r.Status, r.Raw)
		}
		for _, tok := range []string{lt, "", "not-a-token"} {
			if r := env.Do(t, "GET", "/api/v1/staff/identity-reviews", tok, nil); r.Status != http.StatusUnauthorized || r.ErrorCode() != custos.EUnauthenticated {
				t.Fatalf("queue with %q: %d %s", tok, r.Status, r.Raw)
			}
		}
		// The enrolment code cannot be replayed at login.
		if r := env.Do(t, "POST", "/api/v1/staff/login/second-factor", "", map[string]string{"login_token": lt, "code": code}); r.Status != http.StatusUnauthorized || r.ErrorCode() != custos.EInvalidCode {
			t.Fatalf("replayed enrolment code: %d %s", r.Status, r.Raw)
		}
		env.Clock.Advance(30 * time.Second)
		code = otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)
		r = env.Do(t, "POST", "/api/v1/staff/login/second-factor", "", map[string]string{"login_token": lt, "code": code})
		st := r.String("staff_token")
		if r.Status != http.StatusOK || st == "" {
			t.Fatalf("second factor: %d %s", r.Status, r.Raw)
		}
		// The login token served once; the same code on a new login token
		// is a replay.
		if r := env.Do(t, "POST", "/api/v1/staff/login/second-factor", "", map[string]string{"login_token": lt, "code": code}); r.Status != http.StatusUnauthorized {
			t.Fatalf("reusing the login token: %d %s", r.Status, r.Raw)
		}
		r = env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": "new@custos.test", "password": pw})
		if r := env.Do(t, "POST", "/api/v1/staff/login/second-factor", "", map[string]string{"login_token": r.String("login_token"), "code": code}); r.Status != http.StatusUnauthorized || r.ErrorCode() != custos.EInvalidCode {
			t.Fatalf("replayed login code: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "GET", "/api/v1/staff/session", st, nil); r.Status != http.StatusOK || r.String("role") != "reviewer" {
			t.Fatalf("session: %d %s", r.Status, r.Raw)
		}

		// A customer's session token on a staff endpoint is no staff token.
		cust := holder(t, env, "customer@example.com")
		if r := env.Do(t, "GET", "/api/v1/staff/identity-reviews", cust, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a customer token on the queue: %d %s", r.Status, r.Raw)
		}
		// A reviewer is no admin.
		if r := env.Do(t, "POST", "/api/v1/staff/members", st, map[string]string{"email": "x@custos.test", "role": "admin"}); r.Status != http.StatusForbidden {
			t.Fatalf("a reviewer adding staff: %d %s", r.Status, r.Raw)
		}
		// 15 idle minutes end the session.
		env.Clock.Advance(16 * time.Minute)
		if r := env.Do(t, "GET", "/api/v1/staff/session", st, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("after 16 idle minutes: %d %s", r.Status, r.Raw)
		}
	})
}

func TestStaffLockoutAndUnknownEmail(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	s := env.AddStaff(t, "lock@custos.test", custos.RoleReviewer)
	// An unknown email answers like a wrong password.
	unknown := env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": "nobody@custos.test", "password": "whatever it is"})
	wrong := env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": s.Email, "password": "whatever it is"})
	if unknown.Status != wrong.Status || unknown.ErrorCode() != wrong.ErrorCode() || unknown.ErrorCode() != custos.EInvalidCredentials {
		t.Fatalf("unknown %d %s vs wrong %d %s", unknown.Status, unknown.Raw, wrong.Status, wrong.Raw)
	}
	// 50 wrong passwords at once: exactly 4 more are checked (5 a day),
	// the rest are locked; then the right password is locked too.
	answers := answersOf(50, func(int) testserver.Response {
		return env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": s.Email, "password": "still wrong"})
	})
	if answers["401 invalid_credentials"] != 4 || answers["423 account_locked"] != 46 || len(answers) != 2 {
		t.Fatalf("answers %v, want 4 invalid_credentials and 46 account_locked", answers)
	}
	if r := env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": s.Email, "password": s.Password}); r.Status != http.StatusLocked {
		t.Fatalf("right password while locked: %d %s", r.Status, r.Raw)
	}
	// The customer lockout of the same email is another counter.
	env.SignUp(t, s.Email, "correct horse battery staple")
	if tok := env.Login(t, s.Email, "correct horse battery staple"); tok == "" {
		t.Fatal("the customer account with the staff email was locked by the staff lockout")
	}
}

func TestStaffSecondFactorGuessesAreCounted(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		s := env.AddStaff(t, "guess@custos.test", custos.RoleReviewer)
		r := env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": s.Email, "password": s.Password})
		lt := r.String("login_token")
		answers := answersOf(40, func(int) testserver.Response {
			return env.Do(t, "POST", "/api/v1/staff/login/second-factor", "", map[string]string{"login_token": lt, "code": "000000"})
		})
		// Five codes a login token; the sixth and later find it dead. The
		// lockout (5 a day) may lock first: never more than 5 are checked.
		wrong := answers["401 invalid_code"]
		if wrong > 5 || wrong == 0 || wrong+answers["401 unauthenticated"]+answers["423 account_locked"] != 40 {
			t.Fatalf("answers %v: at most 5 codes may be checked", answers)
		}
		// The right code on the spent token does nothing.
		if r := env.Do(t, "POST", "/api/v1/staff/login/second-factor", "", map[string]string{"login_token": lt, "code": s.Code(env)}); r.Status == http.StatusOK {
			t.Fatalf("a login token took more than its 5 codes: %s", r.Raw)
		}
	})
}

func TestStaffFilesAreNotFoundAcrossSubmissions(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	a := holder(t, env, "a@example.com")
	b := holder(t, env, "b@example.com")
	subA := env.SubmitIndividual(t, a, "a@example.com", "A A", testserver.ValidID).String("submission_id")
	subB := env.SubmitIndividual(t, b, "b@example.com", "B B", testserver.ValidID)
	if subB.Status != http.StatusAccepted {
		t.Fatalf("submission b: %d %s", subB.Status, subB.Raw)
	}
	rev := env.AddStaff(t, "files@custos.test", custos.RoleReviewer)
	one := env.Do(t, "GET", "/api/v1/staff/identity-reviews/"+subA, rev.Token, nil)
	fileA := one.Body["files"].([]any)[0].(map[string]any)["id"].(string)
	for _, path := range []string{
		"/api/v1/staff/identity-reviews/" + subB.String("submission_id") + "/files/" + fileA, // a's file under b's submission
		"/api/v1/staff/identity-reviews/" + subA + "/files/blob_00000000000000000000",
		"/api/v1/staff/identity-reviews/idv_00000000000000000000/files/" + fileA,
		"/api/v1/staff/identity-reviews/idv_00000000000000000000",
	} {
		if r := env.DoRaw(t, "GET", path, rev.Token, "", nil); r.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, r.Status)
		}
	}
	// A disabled reviewer's token dies at once.
	if err := env.App.Staff.Disable(t.Context(), staff.Actor{}, rev.Email); err != nil {
		t.Fatal(err)
	}
	if r := env.Do(t, "GET", "/api/v1/staff/identity-reviews/"+subA, rev.Token, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("a disabled reviewer: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/staff/login", "", map[string]string{"email": rev.Email, "password": rev.Password}); r.Status != http.StatusUnauthorized {
		t.Fatalf("a disabled reviewer logging in: %d %s", r.Status, r.Raw)
	}
}

func TestStaffFilesArePurgedAfterTheDecision(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	h := holder(t, env, "purge@example.com")
	sub := env.SubmitIndividual(t, h, "purge@example.com", "P P", testserver.ValidID).String("submission_id")
	rev := env.AddStaff(t, "purge@custos.test", custos.RoleReviewer)
	files := env.Do(t, "GET", "/api/v1/staff/identity-reviews/"+sub, rev.Token, nil).Body["files"].([]any)
	url := files[0].(map[string]any)["url"].(string)
	if r := env.Do(t, "POST", "/api/v1/staff/identity-reviews/"+sub+"/decision", rev.Token, map[string]string{"decision": "approve"}); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	if n, err := env.App.Identity.Sweep(t.Context()); err != nil || n != 0 {
		t.Fatalf("sweep right after the decision deleted %d files (%v)", n, err)
	}
	env.Clock.Advance(91 * 24 * time.Hour)
	if n, err := env.App.Identity.Sweep(t.Context()); err != nil || n != 3 {
		t.Fatalf("sweep after 91 days deleted %d files (%v), want 3", n, err)
	}
	rev.Token = env.StaffLogin(t, rev)
	if r := env.DoRaw(t, "GET", url, rev.Token, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("a purged file: %d", r.Status)
	}
	// The decision stays.
	h = env.Login(t, "purge@example.com", "correct horse battery staple")
	if r := env.Do(t, "GET", "/api/v1/account/identity", h, nil); r.String("state") != "verified" {
		t.Fatalf("after the purge: %s", r.Raw)
	}
}
