package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Run runs the conformance suite against the stores open returns. open must
// return a fresh, migrated, empty store and close it when t ends; it is
// called once per subtest, from parallel subtests.
func Run(t *testing.T, open func(t *testing.T) custos.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s custos.Store)
	}{
		{"Ping", testPing},
		{"CreateAccount/RoundTrip", testCreateAccount},
		{"CreateAccount/Errors", testCreateAccountErrors},
		{"CreateAccount/ConcurrentSameEmail", testCreateAccountConcurrent},
		{"AccountLookup/NotFound", testAccountNotFound},
		{"SetPasswordHash", testSetPasswordHash},
		{"CreateSession/RoundTrip", testCreateSession},
		{"CreateSession/Errors", testCreateSessionErrors},
		{"SessionWithOwner", testSessionWithOwner},
		{"TouchSession", testTouchSession},
		{"DeleteSession", testDeleteSession},
		{"ListSessions", testListSessions},
		{"DeleteExpiredSessions", testDeleteExpiredSessions},
		{"ConsumeChallenge/RoundTrip", testConsumeChallenge},
		{"ConsumeChallenge/Errors", testConsumeChallengeErrors},
		{"ConsumeChallenge/Attempts", testConsumeChallengeAttempts},
		{"ConsumeChallenge/Concurrent", testConsumeChallengeConcurrent},
		{"CreateChallenge/Conflict", testCreateChallengeConflict},
		{"Audit/RoundTrip", testAudit},
		{"Audit/Errors", testAuditErrors},
		{"ConcurrentWrites", testConcurrentWrites},
		{"UpdateCounter/RoundTrip", testCounterRoundTrip},
		{"UpdateCounter/FnError", testCounterFnError},
		{"UpdateCounter/ZeroDeletes", testCounterZeroDeletes},
		{"UpdateCounter/Races", testCounterRaces},
		{"SwapCounter", testSwapCounter},
		{"GetCounters", testGetCounters},
		{"ResetCounter", testResetCounter},
		{"Captcha/RoundTrip", testCaptchaRoundTrip},
		{"Captcha/Expiry", testCaptchaExpiry},
		{"ConsumeCaptcha/Once", testConsumeCaptcha},
		{"ConsumeCaptcha/Concurrent", testConsumeCaptchaConcurrent},
		{"DeleteExpiredCaptchas", testDeleteExpiredCaptchas},
		{"SetProtection", testSetProtection},
		{"ProtectionMethods/RoundTrip", testProtectionMethods},
		{"Language", testLanguage},
		{"SetSessionVerified", testSetSessionVerified},
		{"CreateSessionWithCounter", testCreateSessionWithCounter},
		{"DeleteExpiredChallenges", testDeleteExpiredChallenges},
		{"Device/RoundTrip", testDeviceRoundTrip},
		{"CreateDevice/Errors", testCreateDeviceErrors},
		{"ConfirmDevice", testConfirmDevice},
		{"ListDevices", testListDevices},
		{"UseDeviceStep", testUseDeviceStep},
		{"UseDeviceStep/ConcurrentSameStep", testUseDeviceStepSameStep},
		{"UseDeviceStep/ConcurrentDistinctSteps", testUseDeviceStepDistinct},
		{"RenameDevice", testRenameDevice},
		{"UpdateCredential", testUpdateCredential},
		{"DeleteDevice", testDeleteDevice},
		{"DeleteDevice/HardwareToken", testDeleteHardwareDevice},
		{"DeletePendingDevices", testDeletePendingDevices},
		{"ImportToken", testImportToken},
		{"BindToken", testBindToken},
		{"BindToken/Concurrent", testBindTokenConcurrent},
		{"RecoveryCodes", testRecoveryCodes},
		{"ReplaceRecoveryCodes/Errors", testReplaceRecoveryCodesErrors},
		{"UseRecoveryCode/Concurrent", testUseRecoveryCodeConcurrent},
		{"AccountsByPhone", testAccountsByPhone},
		{"SetPhone", testSetPhone},
		{"SetPhone/Race", testSetPhoneRace},
		{"SetAccountEmail", testSetAccountEmail},
		{"SetAccountEmail/Concurrent", testSetAccountEmailConcurrent},
		{"SetSecureEmail", testSetSecureEmail},
		{"ResetPassword", testResetPassword},
		{"ResetPassword/Refused", testResetPasswordRefused},
		{"DeleteAccountSessions", testDeleteAccountSessions},
		{"PasswordVersion", testPasswordVersion},
		{"ResetPassword/EndsFlows", testResetPasswordEndsFlows},
		{"CreateSession/PasswordVersion", testCreateSessionPasswordVersion},
		{"PasswordVersion/Races", testPasswordVersionRaces},
		{"CreateFlow/RoundTrip", testCreateFlow},
		{"CreateFlow/Errors", testCreateFlowErrors},
		{"FlowByID", testFlowByID},
		{"AdvanceFlow", testAdvanceFlow},
		{"CountFlowAttempt", testCountFlowAttempt},
		{"DeleteExpiredFlows", testDeleteExpiredFlows},
		{"Flow/Races", testFlowRaces},
		{"TrustDevice", testTrustDevice},
		{"TrustDevice/Errors", testTrustDeviceErrors},
		{"DeleteExpiredTrustedDevices", testDeleteExpiredTrustedDevices},
		{"KnownDevices", testKnownDevices},
		{"KnownDevices/Many", testKnownDevicesMany},
		{"NewDeviceStep", testNewDeviceStep},
		{"AuditFailure/LeavesNoChange", testAuditFailureLeavesNoChange},
		{"IdentitySubmission/RoundTrip", testIdentityRoundTrip},
		{"CreateIdentitySubmission/Errors", testCreateIdentityErrors},
		{"CreateIdentitySubmission/Limit", testIdentityLimit},
		{"CreateIdentitySubmission/Race", testIdentityClaimRace},
		{"DecideIdentitySubmission", testDecideIdentity},
		{"DecideIdentitySubmission/Race", testDecideRace},
		{"PendingIdentitySubmissions", testPendingIdentity},
		{"PendingIdentitySubmissions/DefaultLimit", testPendingIdentityDefaultLimit},
		{"PurgeIdentityFiles", testPurgeIdentityFiles},
		{"Staff/RoundTrip", testStaffRoundTrip},
		{"CreateStaff/Errors", testCreateStaffErrors},
		{"ActivateStaff", testActivateStaff},
		{"UseStaffTOTPStep", testUseStaffTOTPStep},
		{"UseStaffTOTPStep/Race", testStaffStepRace},
		{"SetStaffRole", testSetStaffRole},
		{"StaffSessions", testStaffSessions},
		{"DisableStaff", testDisableStaff},
		{"DisableStaff/RaceWithSessions", testDisableStaffRace},
		{"DeleteExpiredStaffSessions", testDeleteExpiredStaffSessions},
		{"StaffEvents", testStaffEvents},
		{"StaffEvents/DefaultLimit", testStaffEventsDefaultLimit},
		{"Ticket/RoundTrip", testTicketRoundTrip},
		{"CreateTicket/Errors", testCreateTicketErrors},
		{"CreateTicket/Duplicates", testCreateTicketDuplicates},
		{"CreateTicket/Race", testTicketCreateRace},
		{"ListTickets", testListTickets},
		{"ListTickets/Limits", testListTicketsLimits},
		{"MoveTicket", testMoveTicket},
		{"MoveTicket/Race", testMoveTicketRace},
		{"ApproveTicket", testApproveTicket},
		{"ApproveTicket/Race", testTicketApproveRace},
		{"DueTickets", testDueTickets},
		{"ExecuteTicket", testExecuteTicket},
		{"ExecuteTicket/Race", testTicketExecuteRace},
		{"PurgeTicketFiles", testPurgeTicketFiles},
		{"SubUser/RoundTrip", testSubUserRoundTrip},
		{"CreateSubUser/Errors", testCreateSubUserErrors},
		{"CreateSubUser/Race", testCreateSubUserRace},
		{"ListSubUsers", testListSubUsers},
		{"UpdateSubUser", testUpdateSubUser},
		{"ResetSubUserMFA", testResetSubUserMFA},
		{"SetSubUserPassword", testSetSubUserPassword},
		{"SetSubUserPassword/Race", testSetSubUserPasswordRace},
		{"ChangeOwnSubUserPassword", testChangeOwnSubUserPassword},
		{"PasswordHistory/Keep", testPasswordHistoryKeep},
		{"PasswordRules", testPasswordRules},
		{"AccountsByPhone/NoSubUsers", testAccountsByPhoneSubUsers},
		{"Collaboration/RoundTrip", testCollabRoundTrip},
		{"CreateCollaboration/Errors", testCreateCollabErrors},
		{"AcceptCollaboration", testAcceptCollab},
		{"AcceptCollaboration/Race", testCollabAcceptRace},
		{"CollaborationLists", testCollabLists},
		{"SetCollaborationProtection", testSetCollabProtection},
		{"EndCollaboration", testEndCollab},
		{"SetSessionActing", testSetSessionActing},
		{"Webhook/RoundTrip", testWebhookRoundTrip},
		{"Webhook/Jobs", testWebhookJobs},
		{"Webhook/JobsWithEveryChange", testWebhookJobsWithEveryChange},
		{"Overview/SetTimeZone", testSetTimeZone},
		{"Overview/DeleteOtherSessions", testDeleteOtherSessions},
		{"Overview/TrustedDeviceList", testTrustedDeviceList},
		{"Overview/ListActivity", testListActivity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's "now": fixed, UTC and whole milliseconds, the precision
// stores keep.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// opts compare values read back with values written; nil and empty slices
// and maps are the same thing to a store.
var opts = cmp.Options{cmpopts.EquateEmpty()}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newAccount(id string) custos.Account {
	return custos.Account{
		ID:           id,
		Kind:         custos.KindPersonal,
		Email:        id + "@example.test",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		CreatedAt:    t0,
	}
}

func newEvent(id, accountID, typ string, at time.Time) custos.AuditEvent {
	return custos.AuditEvent{
		ID:         id,
		At:         at,
		AccountID:  accountID,
		Type:       typ,
		Identifier: accountID + "@example.test",
		RemoteAddr: "192.0.2.7",
		UserAgent:  "storetest/1.0",
		Detail:     map[string]string{"via": "storetest", "event": id},
	}
}

func newSession(id, accountID string) custos.Session {
	return custos.Session{
		ID:              id,
		TokenHash:       hash("token-" + id),
		AccountID:       accountID,
		CreatedAt:       t0,
		AuthenticatedAt: t0,
		LastSeenAt:      t0,
		ExpiresAt:       t0.Add(24 * time.Hour),
		RemoteAddr:      "198.51.100.4",
		UserAgent:       "Mozilla/5.0 (storetest)",
	}
}

func newChallenge(id, code string) custos.Challenge {
	return custos.Challenge{
		ID:          id,
		Purpose:     custos.PurposeSignup,
		Target:      id + "@example.test",
		CodeHash:    hash(code),
		MaxAttempts: 5,
		CreatedAt:   t0,
		ExpiresAt:   t0.Add(10 * time.Minute),
	}
}

// mustCreateAccount creates an account with its signup event.
func mustCreateAccount(t *testing.T, s custos.Store, id string) custos.Account {
	t.Helper()
	a := newAccount(id)
	if err := s.CreateAccount(t.Context(), a, newEvent("ev-signup-"+id, id, custos.EventSignup, t0)); err != nil {
		t.Fatalf("CreateAccount(%s): %v", id, err)
	}
	return a
}

// wantCode fails t unless err is a *custos.Error with code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *custos.Error
	switch {
	case err == nil:
		t.Errorf("%s: got no error, want %s", what, code)
	case !errors.As(err, &e):
		t.Errorf("%s: got plain error %v, want *custos.Error %s", what, err, code)
	case e.Code != code:
		t.Errorf("%s: got code %s (%v), want %s", what, e.Code, err, code)
	}
}

// wantEvents fails t unless the account's audit log is exactly want, in
// order.
func wantEvents(t *testing.T, s custos.Store, accountID string, want ...custos.AuditEvent) {
	t.Helper()
	got, err := s.ListAudit(t.Context(), accountID, 1000)
	if err != nil {
		t.Fatalf("ListAudit(%s): %v", accountID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("ListAudit(%s) mismatch (-want +got):\n%s", accountID, diff)
	}
}

func seq(prefix string, i int) string { return fmt.Sprintf("%s-%04d", prefix, i) }

func testPing(t *testing.T, s custos.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
