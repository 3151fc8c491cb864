package web_test

import (
	"net/http"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/ticket"
)

// TestTicketWaitingBanner: while an approved ticket about the account
// waits, every signed-in page says what it will do and when, with the way
// to cancel; the applicant's own account shows nothing.
func TestTicketWaitingBanner(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "banner@example.com", "correct horse battery staple")
	v := newVisitor(t, env)
	v.login("banner@example.com", "correct horse battery staple")
	wantAbsent(t, v.get("/account"), "banner-warning")

	number := submitTicket(t, env, "someone@example.org", "+8613800000077", map[string]string{"kind": "change_phone",
		"account_email": "banner@example.com", "recovery_phone": "+8613800000078", "recovery_email": "r@example.org"})
	s := env.AddStaff(t, "banner-rev@custos.test", custos.RoleReviewer)
	st, _, err := env.App.Staff.Authenticate(t.Context(), s.Token)
	if err != nil {
		t.Fatal(err)
	}
	list, err := env.App.Tickets.Queue(t.Context(), st, custos.TicketFilter{Number: number}, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("queue: %v %v", list, err)
	}
	if _, err := env.App.Tickets.Decide(t.Context(), st, list[0].ID, ticket.Decision{Decision: "approve"}, custos.Client{}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	for _, path := range []string{"/account", "/account/security", "/account/activity"} {
		p := v.get(path)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `class="banner-warning" role="alert"`, "Ticket "+number+" binds a new phone number at", `href="/account/tickets"`)
	}
	// Cancelled, the banner goes.
	if err := env.App.Tickets.CancelAsHolder(t.Context(), custos.Session{AccountID: list[0].TargetAccountID}, number, custos.Client{}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	wantAbsent(t, v.get("/account"), "banner-warning")
}
