package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// inviteLink is the path and query of the newest invitation link emailed
// to email.
func inviteLink(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	for _, m := range env.Messages(t, email) {
		if m.Purpose != custos.MsgCollabInvite {
			continue
		}
		i := strings.Index(m.Text, "/account/collaborations/accept?")
		if i < 0 {
			t.Fatalf("the invitation has no link:\n%s", m.Text)
		}
		u, err := url.Parse(strings.Fields(m.Text[i:])[0])
		if err != nil {
			t.Fatal(err)
		}
		return u.RequestURI()
	}
	t.Fatalf("no invitation to %s", email)
	return ""
}

var collabRowID = regexp.MustCompile(`data-collab="([^"]+)"`)

// collabIDs lists the collaborations the root's page shows.
func collabIDs(p page) []string {
	var ids []string
	for _, m := range collabRowID.FindAllStringSubmatch(p.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// collabPeople signs up a root, a helper and a stranger and logs each in
// through the pages; it returns the visitors and the root's account id.
func collabPeople(t *testing.T, env *testserver.Env) (root, helper, stranger *visitor, rootID string) {
	t.Helper()
	rootID = env.SignUp(t, "owner@example.com", testPassword)
	env.SignUp(t, "helper@example.com", testPassword)
	env.SignUp(t, "stranger@example.com", testPassword)
	root, helper, stranger = newVisitor(t, env), newVisitor(t, env), newVisitor(t, env)
	root.login("owner@example.com", testPassword)
	stranger.login("stranger@example.com", testPassword)
	return root, helper, stranger, rootID
}

// confirmSoon passes "confirm it's you" by email after the send cooldown
// of an earlier code.
func (v *visitor) confirmSoon(to, next string) {
	v.t.Helper()
	v.env.Clock.Advance(61 * time.Second)
	v.confirmByEmail(to, next)
}

// invite sends an invitation from the root's page, through "confirm it's
// you", and returns the collaboration's id.
func (v *visitor) invite(email, loginProtection string) string {
	v.t.Helper()
	form := url.Values{"email": {email}, "login_protection": {loginProtection}, "operation_protection": {"off"}}
	p := v.post("/account/collaborators", form)
	next := "/account/collaborators/invite?" + form.Encode()
	wantRedirect(v.t, p, verifyPath(next))
	v.confirmSoon("owner@example.com", next)
	p = v.get(next)
	wantStatus(v.t, p, http.StatusOK)
	wantContains(v.t, p, `value="`+html.EscapeString(email)+`"`, `id="login_protection-`+loginProtection+`" name="login_protection" type="radio" value="`+loginProtection+`" checked`)
	wantRedirect(v.t, v.post("/account/collaborators", form), "/account/collaborators?done=invited")
	p = v.get("/account/collaborators")
	ids := collabIDs(p)
	if len(ids) == 0 {
		v.t.Fatalf("no collaboration listed after the invitation\n%s", p.Body)
	}
	return ids[0]
}

const actingBar = `id="acting-bar"`

func TestCollabsInviteAcceptSwitchEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		root, helper, stranger, rootID := collabPeople(t, env)

		// The root's page: the navigation, an empty list, the form.
		p := root.get("/account/collaborators")
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantContains(t, p, `href="/account/collaborators" aria-current="page">Collaborators</a>`,
			`href="/account/collaborations">Work in other accounts</a>`,
			`id="no-collaborators"`, `<form method="post" action="/account/collaborators"`,
			`<label for="email">Their login email</label>`, "Second step needed to work here",
			`<label for="login_protection-mfa">MFA device</label>`, `<label for="login_protection-sms">Text message</label>`)
		wantAbsent(t, p, actingBar)
		// A problem with the form is shown next to its field.
		p = root.post("/account/collaborators", url.Values{"email": {""}, "login_protection": {"off"}, "operation_protection": {"off"}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="email-error"`, "Enter the email they log in with.")

		// Invite, with "confirm it's you" on the way; the email asks for
		// an emailed code to work here.
		id := root.invite("Helper@Example.com", "email")
		p = root.get("/account/collaborators?done=invited")
		wantContains(t, p, "The invitation is on its way.", custos.MaskEmail("helper@example.com"), ">Invited<",
			"To work here: Email", `href="/account/collaborators/`+id+`/change"`, `href="/account/collaborators/`+id+`/end"`)
		// Inviting again is refused on the field.
		p = root.post("/account/collaborators", url.Values{"email": {"helper@example.com"}, "login_protection": {"off"}, "operation_protection": {"off"}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="email-error"`, "already invited")

		// The link, signed out: the login page, then back to the link.
		link := inviteLink(t, env, "helper@example.com")
		wantRedirect(t, helper.get(link), "/login")
		helper.login("helper@example.com", testPassword)
		wantRedirect(t, helper.get("/overview"), link)
		p = helper.get(link)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Accept the invitation?", `<form method="post" action="/account/collaborations/accept"`,
			`<p id="accept-from">The invitation comes from the account <code>`+rootID+`</code>`)
		token := hidden(p, "token")
		if token == "" || !strings.HasSuffix(link, url.QueryEscape(token)) {
			t.Fatalf("the accept form carries the token %q, the link is %s", token, link)
		}
		// Once back, Account Information shows as usual.
		wantStatus(t, helper.get("/account"), http.StatusOK)

		// Another account: the site's error page says so, on the link
		// (which names nothing to it) and on the button.
		p = stranger.get(link)
		wantStatus(t, p, http.StatusForbidden)
		wantAbsent(t, p, rootID)
		p = stranger.post("/account/collaborations/accept", url.Values{"token": {token}})
		wantStatus(t, p, http.StatusForbidden)
		wantContains(t, p, "This invitation is for another email address.")

		// The right account accepts.
		wantRedirect(t, helper.post("/account/collaborations/accept", url.Values{"token": {token}}), "/account/collaborations?done=accepted")
		p = helper.get("/account/collaborations?done=accepted")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Invitation accepted.", `data-root="`+rootID+`"`, "Work in this account",
			"Its owner asks for a second step to work there: Email.", `href="/account/collaborations/`+id+`/leave"`,
			`aria-current="page">Work in other accounts</a>`)
		// The link works once.
		p = helper.post("/account/collaborations/accept", url.Values{"token": {token}})
		wantStatus(t, p, http.StatusGone)
		wantContains(t, p, "This invitation has expired or was already used.")
		wantContains(t, root.get("/account/collaborators"), ">Active<")

		// Switching in asks for the root's second step first, and comes
		// back to a page that does it.
		p = helper.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}})
		switchPage := "/account/collaborations/switch?root_account_id=" + url.QueryEscape(rootID)
		wantRedirect(t, p, verifyPath(switchPage))
		wantAbsent(t, helper.get("/account"), actingBar)
		helper.confirmSoon("helper@example.com", switchPage)
		p = helper.get(switchPage)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "work in account "+rootID+" as a collaborator", `name="root_account_id" value="`+rootID+`"`)
		wantRedirect(t, helper.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}}), "/account/collaborations?done=switched")

		// The bar shows on every signed-in page.
		for _, path := range []string{"/account", "/account/security", "/account/devices", "/account/collaborations"} {
			p = helper.get(path)
			wantStatus(t, p, http.StatusOK)
			wantContains(t, p, actingBar, "You are working in account "+rootID+" as a collaborator", "Back to my account")
		}
		// Back, and in again (the confirmation still holds).
		wantRedirect(t, helper.post("/account/collaborations/switch", url.Values{"root_account_id": {""}}), "/account/collaborations?done=back")
		wantAbsent(t, helper.get("/account"), actingBar)
		wantRedirect(t, helper.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}}), "/account/collaborations?done=switched")
		wantContains(t, helper.get("/account"), actingBar)

		// A stranger cannot switch in.
		wantStatus(t, stranger.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}}), http.StatusNotFound)

		// The root changes what it asks, through "confirm it's you".
		change := "/account/collaborators/" + id + "/change"
		p = root.get(change)
		if p.StatusCode == http.StatusSeeOther {
			root.confirmSoon("owner@example.com", change)
			p = root.get(change)
		}
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `id="login_protection-email" name="login_protection" type="radio" value="email" checked`)
		wantRedirect(t, root.post(change, url.Values{"login_protection": {"sms"}, "operation_protection": {"email"}}), "/account/collaborators?done=changed")
		wantContains(t, root.get("/account/collaborators"), "To work here: Text message", "Before sensitive changes: Email")

		// The root ends it, after one more question: the bar is gone at
		// once.
		p = root.get("/account/collaborators/" + id + "/end")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "They stop working in your account at once.")
		wantRedirect(t, root.post("/account/collaborators/"+id+"/end", nil), "/account/collaborators?done=ended")
		p = helper.get("/account")
		wantStatus(t, p, http.StatusOK)
		wantAbsent(t, p, actingBar)
		wantContains(t, helper.get("/account/collaborations"), `id="no-collaborations"`)
		wantStatus(t, helper.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}}), http.StatusNotFound)
		wantContains(t, root.get("/account/collaborators"), `id="no-collaborators"`)
	})
}

func TestCollabsNeedsMFAAndLeave(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	root, helper, _, rootID := collabPeople(t, env)
	root.invite("helper@example.com", "mfa")
	link := inviteLink(t, env, "helper@example.com")
	helper.login("helper@example.com", testPassword)
	p := helper.get(link)
	wantStatus(t, p, http.StatusOK)
	wantRedirect(t, helper.post("/account/collaborations/accept", url.Values{"token": {hidden(p, "token")}}), "/account/collaborations?done=accepted")

	// No MFA device: the page says so, with the way to add one.
	p = helper.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}})
	wantContains(t, p, "asks for an MFA device", `href="/account/security/totp" id="add-mfa">Add an MFA device</a>`)
	if p.StatusCode < 400 {
		t.Errorf("a refused switch answers %d", p.StatusCode)
	}
	wantAbsent(t, helper.get("/account"), actingBar)

	// With an authenticator app, and its code to confirm it's them.
	secret := helper.bindApp()
	p = helper.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}})
	switchPage := "/account/collaborations/switch?root_account_id=" + url.QueryEscape(rootID)
	wantRedirect(t, p, verifyPath(switchPage))
	helper.confirm(secret, switchPage)
	wantRedirect(t, helper.post("/account/collaborations/switch", url.Values{"root_account_id": {rootID}}), "/account/collaborations?done=switched")
	wantContains(t, helper.get("/account"), actingBar)

	// The collaborator leaves, after one more question.
	p = helper.get("/account/collaborations")
	m := regexp.MustCompile(`href="(/account/collaborations/[^"/]+/leave)"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no Leave link\n%s", p.Body)
	}
	p = helper.get(m[1])
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "You stop working in it at once.")
	wantRedirect(t, helper.post(m[1], nil), "/account/collaborations?done=left")
	wantAbsent(t, helper.get("/account"), actingBar)
	wantContains(t, root.get("/account/collaborators"), `id="no-collaborators"`)
}

func TestCollabsNotForSubUsersOrSignedOut(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	wantRedirect(t, v.get("/account/collaborators"), "/login")
	wantRedirect(t, v.get("/account/collaborations"), "/login")
	// A link without its token, signed in, is a dead link.
	env.SignUp(t, "someone@example.com", testPassword)
	v.login("someone@example.com", testPassword)
	p := v.get("/account/collaborations/accept")
	wantStatus(t, p, http.StatusGone)
	wantContains(t, p, "This invitation has expired or was already used.")
	// An after-login cookie naming anything but an invitation is not
	// followed.
	u, _ := url.Parse(env.URL)
	v.client.Jar.SetCookies(u, []*http.Cookie{{Name: "custos_after_login", Value: url.QueryEscape("/account/security"), Path: "/"}})
	wantStatus(t, v.get("/account"), http.StatusOK)
}
