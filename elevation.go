package custos

import (
	"context"
	"io"
)

// Elevator guards sensitive changes (operation protection, "confirm it's
// you"). Every service method that makes such a change takes the caller's
// Session and asks the Elevator itself, so no transport can forget the
// check.
type Elevator interface {
	// RequireElevation returns nil when sess passed an identity
	// verification recently, and EVerificationRequired with the "methods"
	// the account can verify with otherwise. With firstChannel, an account
	// that has no second channel yet (no MFA device, phone or secure
	// email) may go ahead: binding its first one is not held up.
	RequireElevation(ctx context.Context, sess Session, firstChannel bool) error
}

// Captchas makes and checks captchas (package captcha draws them and keeps
// them in the database).
type Captchas interface {
	// Create makes a new captcha and returns its id.
	Create(ctx context.Context) (string, error)
	// Solve checks an answer; a captcha answers once, right or wrong.
	Solve(ctx context.Context, id, answer string) (bool, error)
	// ImageURL and AudioURL are where the captcha's picture and spoken
	// form are served.
	ImageURL(id string) string
	AudioURL(id string) string
	// WriteImage draws the captcha's picture as PNG; ENotFound if it is
	// unknown, used or expired.
	WriteImage(ctx context.Context, id string, w io.Writer) error
	// WriteAudio speaks the captcha's digits as WAV in lang ("en", "zh", or
	// an Accept-Language header).
	WriteAudio(ctx context.Context, id, lang string, w io.Writer) error
}
