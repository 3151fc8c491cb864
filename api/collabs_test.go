package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// inviteLinkToken finds the token of the newest invitation sent to email.
func inviteLinkToken(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	for _, m := range env.Messages(t, email) {
		if m.Purpose != custos.MsgCollabInvite {
			continue
		}
		i := strings.Index(m.Text, "/account/collaborations/accept?")
		u, err := url.Parse(strings.Fields(m.Text[i:])[0])
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("token")
	}
	t.Fatalf("no invitation to %s", email)
	return ""
}

func TestCollaboratorInviteSwitchEnd(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		rootID := env.SignUp(t, "owner@example.com", "correct horse battery staple")
		root := env.Login(t, "owner@example.com", "correct horse battery staple")
		env.Verify(t, root, "owner@example.com")
		helperID := env.SignUp(t, "helper@example.com", "correct horse battery staple")
		helper := env.Login(t, "helper@example.com", "correct horse battery staple")
		env.SignUp(t, "stranger@example.com", "correct horse battery staple")
		stranger := env.Login(t, "stranger@example.com", "correct horse battery staple")

		r := env.Do(t, "POST", "/api/v1/collaborators", root, map[string]string{"email": "Helper@Example.com", "login_protection": "email"})
		id := r.String("collaboration_id")
		if r.Status != http.StatusCreated || r.String("state") != "invited" {
			t.Fatalf("invite: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/collaborators", root, map[string]string{"email": "helper@example.com"}); r.Status != http.StatusConflict {
			t.Fatalf("inviting twice: %d %s", r.Status, r.Raw)
		}
		token := inviteLinkToken(t, env, "helper@example.com")
		// Only the invited account accepts.
		if r := env.Do(t, "POST", "/api/v1/collaborations/accept", stranger, map[string]string{"token": token}); r.Status != http.StatusForbidden {
			t.Fatalf("another account accepting: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/collaborations/accept", helper, map[string]string{"token": token}); r.Status != http.StatusOK || r.String("state") != "active" {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/collaborations/accept", helper, map[string]string{"token": token}); r.Status != http.StatusGone {
			t.Fatalf("the link twice: %d %s", r.Status, r.Raw)
		}
		// The root asked for a second step: switching in asks for it.
		if r := env.Do(t, "POST", "/api/v1/collaborations/switch", helper, map[string]string{"root_account_id": rootID}); r.Status != http.StatusForbidden || r.ErrorCode() != custos.EVerificationRequired {
			t.Fatalf("switching in without the root's second step: %d %s", r.Status, r.Raw)
		}
		env.Verify(t, helper, "helper@example.com")
		sw := env.Do(t, "POST", "/api/v1/collaborations/switch", helper, map[string]string{"root_account_id": rootID})
		p, _ := sw.Body["principal"].(map[string]any)
		if sw.Status != http.StatusOK || p["type"] != "collaborator" || p["root_account_id"] != rootID || p["account_id"] != helperID {
			t.Fatalf("switch: %d %s", sw.Status, sw.Raw)
		}
		s := env.Do(t, "GET", "/api/v1/session", helper, nil)
		if p, _ := s.Body["principal"].(map[string]any); p["type"] != "collaborator" {
			t.Fatalf("the session after switching: %s", s.Raw)
		}
		// A stranger cannot switch into the root's account.
		if r := env.Do(t, "POST", "/api/v1/collaborations/switch", stranger, map[string]string{"root_account_id": rootID}); r.Status != http.StatusNotFound {
			t.Fatalf("a stranger switching in: %d %s", r.Status, r.Raw)
		}
		// The root ends it: the helper's session is its own again at once.
		if r := env.Do(t, "DELETE", "/api/v1/collaborators/"+id, root, nil); r.Status != http.StatusNoContent {
			t.Fatalf("end: %d %s", r.Status, r.Raw)
		}
		s = env.Do(t, "GET", "/api/v1/session", helper, nil)
		if p, _ := s.Body["principal"].(map[string]any); p["type"] != "root" || p["account_id"] != helperID {
			t.Fatalf("after the end: %s", s.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/collaborations/switch", helper, map[string]string{"root_account_id": rootID}); r.Status != http.StatusNotFound {
			t.Fatalf("switching into an ended collaboration: %d %s", r.Status, r.Raw)
		}
	})
}
