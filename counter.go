package custos

import (
	"context"
	"time"
)

// Counter is one rate-limit counter: the failed logins of a login
// identifier, or of a source address. Package lockout owns the rule that
// moves it; the store only keeps it exact.
type Counter struct {
	Start       time.Time // first counted attempt of the series; zero when none
	Failures    int       // counted attempts in the series, including ones in flight
	LockedUntil time.Time // zero unless locked
}

// CounterStore keeps counters by key ("id:<email>", "src:<address>").
type CounterStore interface {
	// UpdateCounter applies fn to the counter's current value (the zero
	// Counter when there is none) and stores what it returns, inside one
	// transaction holding the counter's row lock, so concurrent updates on
	// any number of replicas apply one after another. fn must be pure and
	// quick; an error from fn aborts the update and is returned. A zero
	// result deletes the row. It returns the value as stored (UTC, whole
	// milliseconds).
	UpdateCounter(ctx context.Context, key string, fn func(Counter) (Counter, error)) (Counter, error)
	// SwapCounter stores next if the counter still is old (as stored: the
	// zero Counter when there is none), in one statement holding no lock
	// past it, and reports whether it did; next is returned as stored. A
	// zero next deletes the row. It is UpdateCounter for a caller that has
	// just read the counter: under contention the swap fails, and the
	// caller reads again or falls back to UpdateCounter.
	SwapCounter(ctx context.Context, key string, old, next Counter) (stored Counter, swapped bool, err error)
	// GetCounter returns the counter (the zero Counter when there is none).
	GetCounter(ctx context.Context, key string) (Counter, error)
	// GetCounters is GetCounter of two keys in one read (a login reads its
	// address's counter and its identifier's together).
	GetCounters(ctx context.Context, a, b string) (Counter, Counter, error)
	// ResetCounter deletes the counter and writes ev (a staff unlock);
	// EConflict if ev's id is taken, and then the counter stays.
	ResetCounter(ctx context.Context, key string, ev AuditEvent) error
}

// Captcha is a captcha challenge: the digits its picture shows.
type Captcha struct {
	ID        string
	Digits    []byte // each 0–9
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CaptchaStore keeps captchas so that one made on a replica is solved on
// any other, exactly once.
type CaptchaStore interface {
	// CreateCaptcha inserts c.
	CreateCaptcha(ctx context.Context, c Captcha) error
	// CaptchaByID returns a live captcha to draw it; ENotFound if it is
	// unknown, used or expired (ExpiresAt <= now).
	CaptchaByID(ctx context.Context, id string, now time.Time) (Captcha, error)
	// ConsumeCaptcha deletes and returns a live captcha in one atomic
	// statement, so it answers once; ENotFound as for CaptchaByID.
	ConsumeCaptcha(ctx context.Context, id string, now time.Time) (Captcha, error)
	// DeleteExpiredCaptchas removes captchas expired by now (ExpiresAt <= now).
	DeleteExpiredCaptchas(ctx context.Context, now time.Time) (int, error)
}
