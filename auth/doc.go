// Package auth owns getting into an account and the proof of who is at the
// keyboard: sign-up with an emailed code, password login by login
// identifier (custos.LoginID) under the R4 rule and the per-address
// throttle, the second step of login protection, "trust this device",
// sessions (create, authenticate with idle and absolute limits, list,
// revoke), identity verification ("confirm it's you") and the Guard that
// every sensitive change asks (custos.Elevator), and password changes.
//
// Its flows — sign-up, the login waiting for its second factor, the
// verification — are typed state machines (package flow) whose only way to
// change is a compare-and-swap on their stored state; every code or guess
// is counted before it is checked. Codes go out through package codes.
// Each change writes its audit event in the same store call, and the
// notices it sends ride on that event (AuditEvent.Notify): written in the
// change's transaction, delivered later by the queue's workers, so no
// answer waits for, or tells about, a delivery.
//
// It imports the root package, the policy packages password and lockout,
// and the service parts codes and flow. It reaches the database through
// its Store interface, MFA devices through Factors and captchas through
// custos.Captchas.
package auth
