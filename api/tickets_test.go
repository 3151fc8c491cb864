package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/ticket"
)

// verifiedHolder signs up a holder, binds an authenticator app and gets
// the real-name record verified by a staff member; it returns the session
// token and the authenticator's secret.
func verifiedHolder(t *testing.T, env *testserver.Env, email, name string) (string, []byte) {
	t.Helper()
	tok := holder(t, env, email)
	r := env.Do(t, "POST", "/api/v1/mfa/totp", tok, map[string]string{"name": "Phone"})
	if r.Status != http.StatusCreated {
		t.Fatalf("totp: %d %s", r.Status, r.Raw)
	}
	secret, err := otp.DecodeSecret(r.String("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if c := env.Do(t, "POST", "/api/v1/mfa/totp/"+r.String("device_id")+"/confirm", tok,
		map[string]string{"code": otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)}); c.Status != http.StatusOK {
		t.Fatalf("totp confirm: %d %s", c.Status, c.Raw)
	}
	env.Clock.Advance(30 * time.Second)
	// "Confirm it's you" now goes by the authenticator.
	v := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
	if v.Status != http.StatusCreated {
		t.Fatalf("verification: %d %s", v.Status, v.Raw)
	}
	if c := env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), tok,
		map[string]string{"code": otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)}); c.Status != http.StatusOK {
		t.Fatalf("verification code: %d %s", c.Status, c.Raw)
	}
	body, ct := testserver.Multipart(t, map[string]string{"kind": "individual", "name": name,
		"document_type": "cn_id_card", "document_number": testserver.ValidID}, testserver.IndividualFiles(t)...)
	s := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body)
	if s.Status != http.StatusAccepted {
		t.Fatalf("identity: %d %s", s.Status, s.Raw)
	}
	if err := env.App.Identity.Decide(t.Context(), activeStaff(), s.String("submission_id"), true, "", custos.Client{}); err != nil {
		t.Fatalf("approve identity: %v", err)
	}
	return tok, secret
}

// activeStaff is a reviewer the identity service accepts, for setting up
// records without the console.
func activeStaff() custos.Staff {
	return custos.Staff{ID: "stf_setup", Email: "setup@custos.test", Role: custos.RoleReviewer, State: custos.StaffActive}
}

// submit sends a ticket; token is a holder's bearer token or "".
func submit(t *testing.T, env *testserver.Env, token string, data map[string]string, parts ...testserver.Part) testserver.Response {
	t.Helper()
	body, ct := testserver.Multipart(t, data, parts...)
	return env.DoRaw(t, "POST", "/api/v1/tickets", token, ct, body)
}

func staffTicketID(t *testing.T, env *testserver.Env, s testserver.Staff, number string) string {
	t.Helper()
	r := env.Do(t, "GET", "/api/v1/staff/tickets?number="+number, s.Token, nil)
	items, _ := r.Body["items"].([]any)
	if r.Status != http.StatusOK || len(items) != 1 {
		t.Fatalf("staff search for %s: %d %s", number, r.Status, r.Raw)
	}
	return items[0].(map[string]any)["id"].(string)
}

func decide(t *testing.T, env *testserver.Env, s testserver.Staff, id string, body map[string]string) testserver.Response {
	t.Helper()
	return env.Do(t, "POST", "/api/v1/staff/tickets/"+id+"/decision", s.Token, body)
}

func TestTicketUnbindMFAPublicEndToEnd(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		holderTok, _ := verifiedHolder(t, env, "lost@example.com", "王小明")

		// Someone who lost phone and authenticator, through the public form.
		contact := env.ProveTicketContact(t, "wang.personal@example.org")
		phone := env.ProveTicketPhone(t, "+8613912345678")
		r := submit(t, env, "", map[string]string{"kind": "unbind_mfa", "contact_token": contact, "phone_token": phone,
			"account_email": "Lost@Example.com", "name": "王小明", "document_number": testserver.ValidID})
		number, query := r.String("ticket_number"), r.String("query_code")
		if r.Status != http.StatusCreated || number == "" || query == "" {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
		st := env.Do(t, "GET", "/api/v1/tickets/"+number+"?query_code="+query, "", nil)
		if st.Status != http.StatusOK || st.String("state") != "submitted" || st.String("kind") != "unbind_mfa" {
			t.Fatalf("status: %d %s", st.Status, st.Raw)
		}
		if r := env.Do(t, "GET", "/api/v1/tickets/"+number+"?query_code=WRONGCODE1", "", nil); r.Status != http.StatusNotFound {
			t.Fatalf("wrong query code: %d %s", r.Status, r.Raw)
		}

		a := env.AddStaff(t, "a@custos.test", custos.RoleReviewer)
		b := env.AddStaff(t, "b@custos.test", custos.RoleReviewer)
		id := staffTicketID(t, env, a, number)
		v := env.Do(t, "GET", "/api/v1/staff/tickets/"+id, a.Token, nil)
		m, _ := v.Body["matches"].(map[string]any)
		if v.Status != http.StatusOK || m["name"] != ticket.Match || m["document_number"] != ticket.Match || m["account_email"] != ticket.Match ||
			m["phone"] != ticket.NotOnFile || v.String("state") != "in_review" {
			t.Fatalf("review: %d %s", v.Status, v.Raw)
		}
		d := decide(t, env, a, id, map[string]string{"decision": "approve"})
		if d.Status != http.StatusOK || d.String("state") != "approved" || d.Body["approvals"] != float64(1) {
			t.Fatalf("first approval: %d %s", d.Status, d.Raw)
		}
		if d := decide(t, env, a, id, map[string]string{"decision": "approve"}); d.Status != http.StatusForbidden {
			t.Fatalf("the same reviewer approving twice: %d %s", d.Status, d.Raw)
		}
		d = decide(t, env, b, id, map[string]string{"decision": "approve"})
		if d.Status != http.StatusOK || d.String("state") != "waiting" || d.Body["approvals"] != float64(2) {
			t.Fatalf("second approval: %d %s", d.Status, d.Raw)
		}
		// Every channel on file is told, with the link that stops it.
		var waiting bool
		for _, msg := range env.Messages(t, "lost@example.com") {
			waiting = waiting || (msg.Purpose == custos.MsgTicketWaiting && strings.Contains(msg.Text, "/tickets/cancel/"+number+"."))
		}
		if !waiting {
			t.Fatal("the holder was not told of the waiting period with a cancel link")
		}
		// Nothing happens before the waiting period ends.
		env.Clock.Advance(71 * time.Hour)
		if n, err := env.App.Tickets.ExecuteDue(t.Context()); err != nil || n != 0 {
			t.Fatalf("executed %d tickets (%v) before the waiting period ended", n, err)
		}
		env.Clock.Advance(2 * time.Hour)
		if n, err := env.App.Tickets.ExecuteDue(t.Context()); err != nil || n != 1 {
			t.Fatalf("executed %d tickets (%v), want 1", n, err)
		}
		if n, _ := env.App.Tickets.ExecuteDue(t.Context()); n != 0 {
			t.Fatalf("a ticket was carried out twice")
		}
		if st := env.Do(t, "GET", "/api/v1/tickets/"+number+"?query_code="+query, "", nil); st.String("state") != "executed" {
			t.Fatalf("after execution: %s", st.Raw)
		}
		// The holder's session ended; the devices are gone.
		if r := env.Do(t, "GET", "/api/v1/account", holderTok, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a session outlived the unbinding: %d", r.Status)
		}
		tok := env.Login(t, "lost@example.com", "correct horse battery staple")
		acct := env.Do(t, "GET", "/api/v1/account", tok, nil)
		if devs, _ := acct.Body["mfa_devices"].([]any); len(devs) != 0 {
			t.Fatalf("devices left after the unbinding: %s", acct.Raw)
		}
	})
}

func TestTicketEnumerationSafeAndMismatch(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	verifiedHolder(t, env, "real@example.com", "Li Lei")
	answers := map[string]testserver.Response{}
	for i, target := range []string{"real@example.com", "nobody@example.com"} {
		contact := env.ProveTicketContact(t, "applicant-"+strings.Split(target, "@")[0]+"@example.org")
		phone := env.ProveTicketPhone(t, []string{"+8613912345678", "+8613912345679"}[i])
		answers[target] = submit(t, env, "", map[string]string{"kind": "unbind_mfa", "contact_token": contact, "phone_token": phone,
			"account_email": target, "name": "Li Lei", "document_number": "E12345678"})
	}
	known, unknown := answers["real@example.com"], answers["nobody@example.com"]
	if known.Status != http.StatusCreated || unknown.Status != known.Status || len(unknown.Body) != len(known.Body) {
		t.Fatalf("answers differ: %d %s vs %d %s", known.Status, known.Raw, unknown.Status, unknown.Raw)
	}
	s := env.AddStaff(t, "rev@custos.test", custos.RoleReviewer)
	v := env.Do(t, "GET", "/api/v1/staff/tickets/"+staffTicketID(t, env, s, known.String("ticket_number")), s.Token, nil)
	if m := v.Body["matches"].(map[string]any); m["name"] != ticket.Match || m["document_number"] != ticket.Mismatch {
		t.Fatalf("a passport number against an ID card record: %s", v.Raw)
	}
	uid := staffTicketID(t, env, s, unknown.String("ticket_number"))
	u := env.Do(t, "GET", "/api/v1/staff/tickets/"+uid, s.Token, nil)
	if u.Body["account_found"] != false || u.Body["matches"].(map[string]any)["account_email"] != ticket.NotOnFile {
		t.Fatalf("unknown account: %s", u.Raw)
	}
	if d := decide(t, env, s, uid, map[string]string{"decision": "approve"}); d.Status != http.StatusConflict {
		t.Fatalf("approving a ticket for no account: %d %s", d.Status, d.Raw)
	}
	if d := decide(t, env, s, uid, map[string]string{"decision": "reject", "reason": "No such account."}); d.Status != http.StatusOK || d.String("state") != "rejected" {
		t.Fatalf("reject: %d %s", d.Status, d.Raw)
	}
	if d := decide(t, env, s, uid, map[string]string{"decision": "reject", "reason": "again"}); d.Status != http.StatusConflict || d.ErrorCode() != custos.EAlreadyDecided {
		t.Fatalf("deciding a closed ticket: %d %s", d.Status, d.Raw)
	}
}

func TestTicketHolderCancelsDuringWaiting(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	holderTok, _ := verifiedHolder(t, env, "keep@example.com", "Han Mei")
	// change_phone for a verified individual: the holding photos.
	contact := env.ProveTicketContact(t, "thief@example.org")
	phone := env.ProveTicketPhone(t, "+8613700000001")
	r := submit(t, env, "", map[string]string{"kind": "change_phone", "contact_token": contact, "phone_token": phone,
		"account_email": "keep@example.com"},
		testserver.Part{Name: "holding_document_front", Data: testserver.PNG(t, 40, 30)},
		testserver.Part{Name: "holding_document_back", Data: testserver.PNG(t, 40, 30)})
	if r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	number := r.String("ticket_number")
	s := env.AddStaff(t, "one@custos.test", custos.RoleReviewer)
	id := staffTicketID(t, env, s, number)
	if d := decide(t, env, s, id, map[string]string{"decision": "approve"}); d.String("state") != "waiting" {
		t.Fatalf("change_phone needs one approval: %s", d.Raw)
	}
	// The holder follows the link from the notice.
	var link string
	for _, msg := range env.Messages(t, "keep@example.com") {
		if msg.Purpose == custos.MsgTicketWaiting {
			i := strings.Index(msg.Text, "/tickets/cancel/")
			link = strings.Fields(msg.Text[i+len("/tickets/cancel/"):])[0]
		}
	}
	num, tok := ticket.SplitCancelLink(link)
	if r := env.Do(t, "POST", "/api/v1/tickets/cancel", "", map[string]string{"ticket": num, "token": tok + "x"}); r.Status != http.StatusNotFound {
		t.Fatalf("a forged cancel token: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/tickets/cancel", "", map[string]string{"ticket": num, "token": tok}); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Raw)
	}
	env.Clock.Advance(25 * time.Hour)
	if n, _ := env.App.Tickets.ExecuteDue(t.Context()); n != 0 {
		t.Fatal("a cancelled ticket was carried out")
	}
	acct := env.Do(t, "GET", "/api/v1/account", env.Login(t, "keep@example.com", "correct horse battery staple"), nil)
	if acct.Body["phone"] != nil {
		t.Fatalf("the phone changed after the cancel: %s", acct.Raw)
	}
	_ = holderTok
}

func TestTicketSignedInOwnAccountAndDuplicates(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	tok := holder(t, env, "self@example.com")
	phone := env.ProveTicketPhone(t, "+8613800000002")
	data := map[string]string{"kind": "change_phone", "phone_token": phone, "account_email": "self@example.com",
		"recovery_phone": "+8613800000003", "recovery_email": "me@example.org"}
	if r := submit(t, env, tok, data); r.Status != http.StatusCreated {
		t.Fatalf("own ticket: %d %s", r.Status, r.Raw)
	}
	if r := submit(t, env, tok, data); r.Status != http.StatusConflict || r.ErrorCode() != custos.EConflict {
		t.Fatalf("a second open ticket of the kind for one's own account: %d %s", r.Status, r.Raw)
	}
	// From another account or the public form: always 201, linked for staff.
	other := holder(t, env, "other@example.com")
	r := submit(t, env, other, data)
	if r.Status != http.StatusCreated {
		t.Fatalf("a duplicate from another account: %d %s", r.Status, r.Raw)
	}
	s := env.AddStaff(t, "dup@custos.test", custos.RoleReviewer)
	v := env.Do(t, "GET", "/api/v1/staff/tickets/"+staffTicketID(t, env, s, r.String("ticket_number")), s.Token, nil)
	if v.String("linked_to") == "" {
		t.Fatalf("the duplicate is not linked: %s", v.Raw)
	}
	if d := decide(t, env, s, v.String("id"), map[string]string{"decision": "approve"}); d.Status != http.StatusConflict {
		t.Fatalf("approving a duplicate while the original is open: %d %s", d.Status, d.Raw)
	}
	// A reviewer whose email is the applicant's cannot approve.
	contactTok := env.ProveTicketContact(t, "dup@custos.test")
	p2 := env.ProveTicketPhone(t, "+8613800000004")
	r2 := submit(t, env, "", map[string]string{"kind": "unbind_mfa", "contact_token": contactTok, "phone_token": p2,
		"account_email": "other@example.com", "name": "X", "document_number": "E7654321"})
	id2 := staffTicketID(t, env, s, r2.String("ticket_number"))
	env.Do(t, "GET", "/api/v1/staff/tickets/"+id2, s.Token, nil)
	if d := decide(t, env, s, id2, map[string]string{"decision": "approve"}); d.Status != http.StatusForbidden {
		t.Fatalf("a reviewer approving their own ticket: %d %s", d.Status, d.Raw)
	}
	// Files of another ticket are not found.
	if f := env.DoRaw(t, "GET", "/api/v1/staff/tickets/"+id2+"/files/blob_00000000000000000000", s.Token, "", nil); f.Status != http.StatusNotFound {
		t.Fatalf("an unknown file: %d", f.Status)
	}
}

// TestTicketTwoReplicasExecuteOnce races two replicas' schedulers over
// one due ticket: it is carried out once.
func TestTicketTwoReplicasExecuteOnce(t *testing.T) {
	dsn := testdb.DSN(t, "postgres")
	a := testserver.Start(t, testserver.Options{Dialect: "postgres", DSN: dsn})
	b := testserver.Start(t, testserver.Options{Dialect: "postgres", DSN: dsn, Clock: a.Clock})
	tok := holder(t, a, "twice@example.com")
	phone := a.ProveTicketPhone(t, "+8613800000009")
	r := submit(t, a, tok, map[string]string{"kind": "change_phone", "phone_token": phone, "account_email": "twice@example.com",
		"recovery_phone": "+8613800000010", "recovery_email": "r@example.org"})
	s := a.AddStaff(t, "x@custos.test", custos.RoleReviewer)
	id := staffTicketID(t, a, s, r.String("ticket_number"))
	if d := decide(t, a, s, id, map[string]string{"decision": "approve"}); d.String("state") != "waiting" {
		t.Fatalf("approve: %s", d.Raw)
	}
	a.Clock.Advance(25 * time.Hour)
	var wg sync.WaitGroup
	counts := make([]int, 20)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := a
			if i%2 == 1 {
				env = b
			}
			n, err := env.App.Tickets.ExecuteDue(t.Context())
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 1 {
		t.Fatalf("the ticket was carried out %d times, want once", total)
	}
	acct := a.Do(t, "GET", "/api/v1/account", a.Login(t, "twice@example.com", "correct horse battery staple"), nil)
	if p, _ := acct.Body["phone"].(string); !strings.HasSuffix(p, "0009") {
		t.Fatalf("the new phone is not bound: %s", acct.Raw)
	}
}

func TestTicketUnbindMFAEnterprise(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	tok := holder(t, env, "corp@example.com")
	r := env.Do(t, "POST", "/api/v1/mfa/totp", tok, map[string]string{"name": "Office phone"})
	secret, _ := otp.DecodeSecret(r.String("secret"))
	env.Do(t, "POST", "/api/v1/mfa/totp/"+r.String("device_id")+"/confirm", tok, map[string]string{"code": otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)})
	env.Clock.Advance(30 * time.Second)
	v := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
	env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), tok, map[string]string{"code": otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)})
	if p := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true, "operation_protection": true}); p.Status != http.StatusOK {
		t.Fatalf("protection: %d %s", p.Status, p.Raw)
	}
	body, ct := testserver.Multipart(t, map[string]string{"kind": "enterprise", "company_name": "福州示例科技有限公司",
		"uscc": "91350100M000100Y43", "legal_rep_name": "Chen Jing", "legal_rep_document_type": "passport",
		"legal_rep_document_number": "E12345678"}, enterpriseFiles(t)...)
	s := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body)
	if s.Status != http.StatusAccepted {
		t.Fatalf("identity: %d %s", s.Status, s.Raw)
	}
	if err := env.App.Identity.Decide(t.Context(), activeStaff(), s.String("submission_id"), true, "", custos.Client{}); err != nil {
		t.Fatal(err)
	}

	contact := env.ProveTicketContact(t, "it-desk@example.org")
	phone := env.ProveTicketPhone(t, "+8613600000001")
	// The enterprise template without its licence is refused.
	data := map[string]string{"kind": "unbind_mfa", "contact_token": contact, "phone_token": phone, "account_email": "corp@example.com",
		"company_name": "福州示例科技有限公司", "uscc": "91350100m000100y43", "applicant_name": "chen  jing", "applicant_document_number": "E 1234 5678"}
	if r := submit(t, env, "", data); r.Status != http.StatusUnprocessableEntity || r.ErrorCode() != custos.EInvalidUpload {
		t.Fatalf("without the business licence: %d %s", r.Status, r.Raw)
	}
	r = submit(t, env, "", data, testserver.Part{Name: "business_licence", Data: testserver.PNG(t, 60, 40)})
	if r.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	a := env.AddStaff(t, "ent-a@custos.test", custos.RoleReviewer)
	b := env.AddStaff(t, "ent-b@custos.test", custos.RoleAdmin)
	id := staffTicketID(t, env, a, r.String("ticket_number"))
	view := env.Do(t, "GET", "/api/v1/staff/tickets/"+id, a.Token, nil)
	m := view.Body["matches"].(map[string]any)
	for _, f := range []string{"company_name", "uscc", "applicant_name", "applicant_document_number", "account_email"} {
		if m[f] != ticket.Match {
			t.Errorf("%s: %v, want match (%s)", f, m[f], view.Raw)
		}
	}
	if files, _ := view.Body["files"].([]any); len(files) != 1 {
		t.Fatalf("files: %s", view.Raw)
	}
	decide(t, env, a, id, map[string]string{"decision": "approve"})
	if d := decide(t, env, b, id, map[string]string{"decision": "approve"}); d.String("state") != "waiting" {
		t.Fatalf("second approval: %s", d.Raw)
	}
	env.Clock.Advance(73 * time.Hour)
	if n, err := env.App.Tickets.ExecuteDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("executed %d (%v)", n, err)
	}
	// Login protection moved to a channel that remains (email here: no
	// phone is bound); the authenticator is gone.
	lr := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "corp@example.com", "password": "correct horse battery staple"})
	methods, _ := lr.Body["methods"].([]any)
	if lr.Status != http.StatusOK || lr.String("next") != "second_factor" || len(methods) != 1 || methods[0] != "email" {
		t.Fatalf("login after the unbinding: %d %s", lr.Status, lr.Raw)
	}
	devs, err := env.App.Store.ListDevices(t.Context(), tokenAccount(t, env, "corp@example.com"))
	if err != nil || len(devs) != 0 {
		t.Fatalf("devices after the unbinding: %v %v", devs, err)
	}
}

func tokenAccount(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	acct, err := env.App.Store.AccountByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	if acct.Protection.Operation {
		t.Errorf("operation protection is still on after the unbinding")
	}
	return acct.ID
}

// TestTicketTwoReviewersApproveAtOnce: both approvals of an unbind_mfa
// ticket arrive together; each counts once, the ticket waits, and the
// holder is told once.
func TestTicketTwoReviewersApproveAtOnce(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		verifiedHolder(t, env, "both@example.com", "Zhou Yu")
		contact := env.ProveTicketContact(t, "helper@example.org")
		phone := env.ProveTicketPhone(t, "+8613500000001")
		r := submit(t, env, "", map[string]string{"kind": "unbind_mfa", "contact_token": contact, "phone_token": phone,
			"account_email": "both@example.com", "name": "Zhou Yu", "document_number": testserver.ValidID})
		a := env.AddStaff(t, "race-a@custos.test", custos.RoleReviewer)
		b := env.AddStaff(t, "race-b@custos.test", custos.RoleReviewer)
		id := staffTicketID(t, env, a, r.String("ticket_number"))
		env.Do(t, "GET", "/api/v1/staff/tickets/"+id, a.Token, nil)
		var wg sync.WaitGroup
		answers := make([]testserver.Response, 2)
		for i, s := range []testserver.Staff{a, b} {
			wg.Go(func() { answers[i] = decide(t, env, s, id, map[string]string{"decision": "approve"}) })
		}
		wg.Wait()
		states := map[string]int{}
		for _, ans := range answers {
			if ans.Status != http.StatusOK {
				t.Fatalf("an approval failed: %d %s", ans.Status, ans.Raw)
			}
			states[ans.String("state")]++
		}
		if states["approved"] != 1 || states["waiting"] != 1 {
			t.Fatalf("states after two approvals at once: %v, want one approved and one waiting", states)
		}
		n := 0
		for _, m := range env.Messages(t, "both@example.com") {
			if m.Purpose == custos.MsgTicketWaiting {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the holder was told of the waiting period %d times, want once", n)
		}
	})
}
