// Package sendlimit decides whether a code may be sent now: a cooldown per
// target and purpose (one a minute), a daily cap per target (ten), and a cap
// per client address. The counts live in the database counters, so every
// replica shares them, and each check-and-count is one atomic update.
// Package codes asks it before every send.
//
// It is a service part: it imports the root package and lockout (whose
// Policy does the counting).
package sendlimit
