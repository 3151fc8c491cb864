package api_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// bothStores runs f on SQLite and on PostgreSQL (when the test database is
// reachable; in CI it must be).
func bothStores(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

// holder signs up and logs in a holder and returns the session token.
func holder(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	env.SignUp(t, email, "correct horse battery staple")
	return env.Login(t, email, "correct horse battery staple")
}

func TestIdentitySubmitAndReview(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		tok := holder(t, env, "li.wei@example.com")

		r := env.Do(t, "GET", "/api/v1/account/identity", tok, nil)
		if r.Status != http.StatusOK || r.String("state") != "none" || r.Body["kind"] != nil {
			t.Fatalf("fresh account: %d %s", r.Status, r.Raw)
		}
		// No fresh verification: refused before the files are read.
		body, ct := testserver.Multipart(t, map[string]string{"kind": "individual", "name": "李伟",
			"document_type": "cn_id_card", "document_number": testserver.ValidID}, testserver.IndividualFiles(t)...)
		if r := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body); r.Status != http.StatusForbidden || r.ErrorCode() != custos.EVerificationRequired {
			t.Fatalf("without verification: %d %s", r.Status, r.Raw)
		}
		r = env.SubmitIndividual(t, tok, "li.wei@example.com", "李伟", testserver.ValidID)
		if r.Status != http.StatusAccepted || !strings.HasPrefix(r.String("submission_id"), "idv_") {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
		sub := r.String("submission_id")
		if r := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body); r.Status != http.StatusConflict || r.ErrorCode() != custos.EConflict {
			t.Fatalf("second submission while pending: %d %s", r.Status, r.Raw)
		}
		r = env.Do(t, "GET", "/api/v1/account/identity", tok, nil)
		if r.String("state") != "pending" || r.String("name") != "李*" || r.String("document_last4") != "002X" || r.String("kind") != "individual" {
			t.Fatalf("pending status: %s", r.Raw)
		}
		if strings.Contains(string(r.Raw), testserver.ValidID) || strings.Contains(string(r.Raw), "李伟") {
			t.Fatalf("the holder's view shows the record unmasked: %s", r.Raw)
		}

		rev := env.AddStaff(t, "reviewer@custos.test", custos.RoleReviewer)
		q := env.Do(t, "GET", "/api/v1/staff/identity-reviews", rev.Token, nil)
		items, _ := q.Body["items"].([]any)
		if q.Status != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["id"] != sub {
			t.Fatalf("queue: %d %s", q.Status, q.Raw)
		}
		one := env.Do(t, "GET", "/api/v1/staff/identity-reviews/"+sub, rev.Token, nil)
		fields, _ := one.Body["fields"].(map[string]any)
		files, _ := one.Body["files"].([]any)
		if one.Status != http.StatusOK || fields["document_number"] != testserver.ValidID || fields["name"] != "李伟" || len(files) != 3 {
			t.Fatalf("review: %d %s", one.Status, one.Raw)
		}
		checks, _ := one.Body["checks"].([]any)
		if len(checks) < 2 || checks[0].(map[string]any)["ok"] != true {
			t.Fatalf("checks: %s", one.Raw)
		}
		// The file, with the headers that keep a browser from running it.
		url := files[0].(map[string]any)["url"].(string)
		f := env.DoRaw(t, "GET", url, rev.Token, "", nil)
		h := f.Header
		if f.Status != http.StatusOK || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || !strings.Contains(h.Get("Cache-Control"), "no-store") ||
			!bytes.HasPrefix(f.Raw, []byte("\x89PNG")) {
			t.Fatalf("file: %d %v", f.Status, h)
		}
		// The holder, and no token, cannot fetch it.
		if r := env.DoRaw(t, "GET", url, tok, "", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("the holder's token on a staff file: %d", r.Status)
		}
		if r := env.DoRaw(t, "GET", url, "", "", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("no token on a staff file: %d", r.Status)
		}
		// A staff token is no customer session.
		if r := env.Do(t, "GET", "/api/v1/account", rev.Token, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a staff token on a customer endpoint: %d %s", r.Status, r.Raw)
		}

		// A rejection needs a reason; the holder sees it and may submit again.
		if r := env.Do(t, "POST", "/api/v1/staff/identity-reviews/"+sub+"/decision", rev.Token, map[string]string{"decision": "reject"}); r.Status != http.StatusBadRequest {
			t.Fatalf("reject without a reason: %d %s", r.Status, r.Raw)
		}
		d := env.Do(t, "POST", "/api/v1/staff/identity-reviews/"+sub+"/decision", rev.Token,
			map[string]string{"decision": "reject", "reason": "The photo of the back is blurred."})
		if d.Status != http.StatusOK || d.String("state") != "rejected" {
			t.Fatalf("reject: %d %s", d.Status, d.Raw)
		}
		if d := env.Do(t, "POST", "/api/v1/staff/identity-reviews/"+sub+"/decision", rev.Token, map[string]string{"decision": "approve"}); d.Status != http.StatusConflict || d.ErrorCode() != custos.EAlreadyDecided {
			t.Fatalf("deciding again: %d %s", d.Status, d.Raw)
		}
		r = env.Do(t, "GET", "/api/v1/account/identity", tok, nil)
		if r.String("state") != "rejected" || r.String("reason") != "The photo of the back is blurred." {
			t.Fatalf("rejected status: %s", r.Raw)
		}
		var told bool
		for _, m := range env.Messages(t, "li.wei@example.com") {
			told = told || (m.Purpose == custos.MsgIdentityRejected && strings.Contains(m.Text, "blurred"))
		}
		if !told {
			t.Error("the holder was not told of the rejection and its reason")
		}

		r = env.SubmitIndividual(t, tok, "li.wei@example.com", "李伟", testserver.ValidID)
		if r.Status != http.StatusAccepted {
			t.Fatalf("submitting again: %d %s", r.Status, r.Raw)
		}
		again := r.String("submission_id")
		if d := env.Do(t, "POST", "/api/v1/staff/identity-reviews/"+again+"/decision", rev.Token, map[string]string{"decision": "approve"}); d.Status != http.StatusOK || d.String("state") != "verified" {
			t.Fatalf("approve: %d %s", d.Status, d.Raw)
		}
		r = env.Do(t, "GET", "/api/v1/account/identity", tok, nil)
		if r.String("state") != "verified" || r.Body["decided_at"] == nil {
			t.Fatalf("verified status: %s", r.Raw)
		}

		// A change within 30 days is refused; after, it waits while the
		// verified record stands.
		env.Verify(t, tok, "li.wei@example.com")
		if r := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body); r.Status != http.StatusConflict || r.ErrorCode() != custos.EIdentityChangeTooSoon {
			t.Fatalf("change within 30 days: %d %s", r.Status, r.Raw)
		}
		env.Clock.Advance(31 * 24 * time.Hour)
		tok = env.Login(t, "li.wei@example.com", "correct horse battery staple")
		r = env.SubmitIndividual(t, tok, "li.wei@example.com", "李伟", "11010519491231002x")
		if r.Status != http.StatusAccepted {
			t.Fatalf("change after 30 days: %d %s", r.Status, r.Raw)
		}
		r = env.Do(t, "GET", "/api/v1/account/identity", tok, nil)
		change, _ := r.Body["change"].(map[string]any)
		if r.String("state") != "verified" || change["state"] != "pending" {
			t.Fatalf("a change must stay pending while the verified record stands: %s", r.Raw)
		}

		// The staff audit trail saw the views and decisions; reviewers
		// cannot read it, admins can. (A month went by: the reviewer's
		// session ended long ago.)
		if r := env.Do(t, "GET", "/api/v1/staff/session", rev.Token, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a staff session outlived its idle limit: %d %s", r.Status, r.Raw)
		}
		rev.Token = env.StaffLogin(t, rev)
		if r := env.Do(t, "GET", "/api/v1/staff/audit", rev.Token, nil); r.Status != http.StatusForbidden {
			t.Fatalf("a reviewer reading the audit trail: %d %s", r.Status, r.Raw)
		}
		adm := env.AddStaff(t, "admin@custos.test", custos.RoleAdmin)
		a := env.Do(t, "GET", "/api/v1/staff/audit?target="+sub, adm.Token, nil)
		var actions []string
		for _, it := range a.Body["items"].([]any) {
			actions = append(actions, it.(map[string]any)["action"].(string))
		}
		if a.Status != http.StatusOK || !containsAll(actions, "identity.view", "identity.decide") {
			t.Fatalf("audit of the submission: %d %v %s", a.Status, actions, a.Raw)
		}
	})
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, l := range list {
			found = found || l == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestIdentityFieldChecks(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	tok := holder(t, env, "checks@example.com")
	env.Verify(t, tok, "checks@example.com")
	cases := []struct {
		name  string
		data  map[string]string
		parts []testserver.Part
		code  string
		field string
	}{
		{"ID checksum", map[string]string{"kind": "individual", "name": "A B", "document_type": "cn_id_card", "document_number": "110105194912310021"},
			testserver.IndividualFiles(t), custos.EInvalidDocumentNumber, "document_number"},
		{"unknown document type", map[string]string{"kind": "individual", "name": "A B", "document_type": "library_card", "document_number": "12345678"},
			testserver.IndividualFiles(t), custos.EInvalidDocumentNumber, "document_type"},
		{"USCC checksum", map[string]string{"kind": "enterprise", "company_name": "Acme", "uscc": "91350100M000100Y44",
			"legal_rep_name": "A B", "legal_rep_document_type": "passport", "legal_rep_document_number": "E12345678"},
			enterpriseFiles(t), custos.EInvalidDocumentNumber, "uscc"},
		{"legal representative's number", map[string]string{"kind": "enterprise", "company_name": "Acme", "uscc": "91350100M000100Y43",
			"legal_rep_name": "A B", "legal_rep_document_type": "cn_id_card", "legal_rep_document_number": "110105194912310021"},
			enterpriseFiles(t), custos.EInvalidDocumentNumber, "legal_rep_document_number"},
		{"no name", map[string]string{"kind": "individual", "name": "  ", "document_type": "passport", "document_number": "E12345678"},
			testserver.IndividualFiles(t), custos.EInvalidRequest, "name"},
		{"another kind's field", map[string]string{"kind": "individual", "name": "A", "document_type": "passport", "document_number": "E12345678", "uscc": "x"},
			testserver.IndividualFiles(t), custos.EInvalidRequest, "uscc"},
		{"a file missing", map[string]string{"kind": "individual", "name": "A", "document_type": "passport", "document_number": "E12345678"},
			testserver.IndividualFiles(t)[:2], custos.EInvalidUpload, "holding_document"},
		{"another kind's file", map[string]string{"kind": "individual", "name": "A", "document_type": "passport", "document_number": "E12345678"},
			append(testserver.IndividualFiles(t), testserver.Part{Name: "business_licence", Data: testserver.PNG(t, 10, 10)}), custos.EInvalidRequest, "business_licence"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, ct := testserver.Multipart(t, c.data, c.parts...)
			r := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body)
			e, _ := r.Body["error"].(map[string]any)
			if r.Status/100 != 4 || r.ErrorCode() != c.code || e["field"] != c.field {
				t.Fatalf("got %d %s, want %s on %s", r.Status, r.Raw, c.code, c.field)
			}
		})
	}
	if r := env.Do(t, "GET", "/api/v1/account/identity", tok, nil); r.String("state") != "none" {
		t.Fatalf("a refused submission left something behind: %s", r.Raw)
	}
}

func enterpriseFiles(t *testing.T) []testserver.Part {
	return []testserver.Part{
		{Name: "business_licence", Data: testserver.PNG(t, 80, 60)},
		{Name: "legal_rep_document_front", Data: testserver.PNG(t, 64, 40)},
		{Name: "legal_rep_document_back", Data: testserver.PNG(t, 64, 40)},
	}
}

// hugePNGHeader is a PNG signature and an IHDR claiming w×h pixels, with
// a right CRC, and nothing after it.
func hugePNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestIdentityHostileUploads(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		tok := holder(t, env, "hostile@example.com")
		env.Verify(t, tok, "hostile@example.com")
		data := map[string]string{"kind": "individual", "name": "A B", "document_type": "passport", "document_number": "E12345678"}
		good := testserver.IndividualFiles(t)
		with := func(p testserver.Part) []testserver.Part {
			out := append([]testserver.Part{}, good[1:]...)
			return append(out, p)
		}
		png := testserver.PNG(t, 64, 40)
		cases := []struct {
			name   string
			parts  []testserver.Part
			status int
			code   string
			field  string
			reason string
		}{
			{"HTML renamed .jpg", with(testserver.Part{Name: "document_front", Filename: "id.jpg", Type: "image/jpeg",
				Data: []byte("<!doctype html><html><script>alert(1)</script></html>")}), 422, custos.EInvalidUpload, "document_front", "type"},
			{"pixel bomb", with(testserver.Part{Name: "document_front", Data: hugePNGHeader(100000, 100000)}), 422, custos.EInvalidUpload, "document_front", "dimensions"},
			{"11 MB", with(testserver.Part{Name: "document_front", Data: append(append([]byte{}, png...), make([]byte, 11<<20)...)}),
				413, custos.ETooLarge, "document_front", ""},
			{"sixth file", append(append([]testserver.Part{}, good...), testserver.Part{Name: "document_front", Data: png},
				testserver.Part{Name: "document_back", Data: png}, testserver.Part{Name: "holding_document", Data: png}),
				0, "", "", ""},
			{"truncated", with(testserver.Part{Name: "document_front", Data: png[:len(png)/2]}), 422, custos.EInvalidUpload, "document_front", "corrupt"},
			{"zero bytes", with(testserver.Part{Name: "document_front", Data: nil}), 422, custos.EInvalidUpload, "document_front", "empty"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				body, ct := testserver.Multipart(t, data, c.parts...)
				r := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body)
				e, _ := r.Body["error"].(map[string]any)
				if c.status == 0 {
					// Six parts: the first duplicate part or the sixth file
					// is refused, never accepted.
					if r.Status/100 != 4 {
						t.Fatalf("six files: %d %s", r.Status, r.Raw)
					}
					return
				}
				if r.Status != c.status || r.ErrorCode() != c.code || e["field"] != c.field || (c.reason != "" && e["reason"] != c.reason) {
					t.Fatalf("got %d %s, want %d %s field %s reason %s", r.Status, r.Raw, c.status, c.code, c.field, c.reason)
				}
			})
		}
		if r := env.Do(t, "GET", "/api/v1/account/identity", tok, nil); r.String("state") != "none" {
			t.Fatalf("a refused upload left something behind: %s", r.Raw)
		}
		// Not multipart at all.
		if r := env.Do(t, "POST", "/api/v1/account/identity", tok, data); r.Status != http.StatusUnsupportedMediaType {
			t.Fatalf("JSON instead of multipart: %d %s", r.Status, r.Raw)
		}
	})
}

func TestIdentityTwoReviewersRace(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		tok := holder(t, env, "race@example.com")
		r := env.SubmitIndividual(t, tok, "race@example.com", "Zhang San", testserver.ValidID)
		if r.Status != http.StatusAccepted {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
		sub := r.String("submission_id")
		a := env.AddStaff(t, "a@custos.test", custos.RoleReviewer)
		b := env.AddStaff(t, "b@custos.test", custos.RoleReviewer)
		got := answersOf(20, func(i int) testserver.Response {
			token, decision := a.Token, map[string]string{"decision": "approve"}
			if i%2 == 1 {
				token, decision = b.Token, map[string]string{"decision": "reject", "reason": "Not a match."}
			}
			return env.Do(t, "POST", "/api/v1/staff/identity-reviews/"+sub+"/decision", token, decision)
		})
		if got["200"] != 1 || got["409 already_decided"] != 19 || len(got) != 2 {
			t.Fatalf("answers %v, want exactly 1 decision (200) and 19 already_decided", got)
		}
	})
}

func TestIdentityLimitUnderConcurrentSubmissions(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect, IdentityVerifier: "auto"})
		const n = 12
		tokens := make([]string, n)
		for i := range tokens {
			email := "cap" + string(rune('a'+i)) + "@example.com"
			tokens[i] = holder(t, env, email)
			env.Verify(t, tokens[i], email)
		}
		body, ct := testserver.Multipart(t, map[string]string{"kind": "individual", "name": "Wang Wu",
			"document_type": "cn_id_card", "document_number": testserver.ValidID}, testserver.IndividualFiles(t)...)
		got := answersOf(n, func(i int) testserver.Response {
			return env.DoRaw(t, "POST", "/api/v1/account/identity", tokens[i], ct, body)
		})
		if got["202"] != 3 || got["409 identity_limit"] != n-3 || len(got) != 2 {
			t.Fatalf("answers %v, want exactly 3 accepted (202) and %d identity_limit", got, n-3)
		}
		var verified int
		for _, tok := range tokens {
			if r := env.Do(t, "GET", "/api/v1/account/identity", tok, nil); r.String("state") == "verified" {
				verified++
			}
		}
		if verified != 3 {
			t.Fatalf("%d accounts verified under the auto verifier, want 3", verified)
		}
	})
}

// TestIdentityLimitTwoReplicas sends 50 submissions of one identity from
// 50 accounts at once, split between two replicas on one PostgreSQL
// database: exactly 3 are taken (pending, so claimed), 47 answer
// identity_limit.
func TestIdentityLimitTwoReplicas(t *testing.T) {
	dsn := testdb.DSN(t, "postgres")
	a := testserver.Start(t, testserver.Options{Dialect: "postgres", DSN: dsn})
	b := testserver.Start(t, testserver.Options{Dialect: "postgres", DSN: dsn, Clock: a.Clock})
	const n = 50
	tokens := make([]string, n)
	for i := range tokens {
		_, tokens[i] = a.VerifiedHolder(t, fmt.Sprintf("twin%02d@example.com", i))
	}
	body, ct := testserver.Multipart(t, map[string]string{"kind": "individual", "name": "Zhao Liu",
		"document_type": "cn_id_card", "document_number": testserver.ValidID}, testserver.IndividualFiles(t)...)
	got := answersOf(n, func(i int) testserver.Response {
		env := a
		if i%2 == 1 {
			env = b
		}
		return env.DoRaw(t, "POST", "/api/v1/account/identity", tokens[i], ct, body)
	})
	if got["202"] != 3 || got["409 identity_limit"] != n-3 || len(got) != 2 {
		t.Fatalf("answers %v, want exactly 3 accepted (202) and %d identity_limit", got, n-3)
	}
}
