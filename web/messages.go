package web

import "fmt"

// defaultLanguage is the catalogue used when no other fits.
const defaultLanguage = "en"

// catalogue is every word of the pages in one language, by key. Keys name
// the place a text appears ("login.title"), never its English wording, so
// that a translation is a second map with the same keys. Texts that take
// values use fmt verbs.
type catalogue map[string]string

// catalogues holds one catalogue per language tag. Simplified Chinese
// ("zh-CN") follows English with the same keys.
var catalogues = map[string]catalogue{
	"en": {
		"product":        "Custos",
		"layout.skip":    "Skip to main content",
		"layout.tagline": "Account center",
		"layout.footer":  "Custos account center",
		"none":           "—",

		"format.datetime": "2 Jan 2006, 15:04 MST",
		"format.date":     "2 January 2006",

		"nav.label":    "Account",
		"nav.account":  "Account Information",
		"nav.devices":  "Signed-in devices",
		"nav.activity": "Security activity",
		"nav.logout":   "Log out",

		"form.problem":      "There is a problem",
		"form.error_prefix": "Error: ",

		"field.email":    "Email address",
		"field.password": "Password",
		"field.kind":     "Account type",
		"field.code":     "Verification code",

		"kind.personal":   "Personal",
		"kind.enterprise": "Enterprise",

		"signup.title":                "Create an account",
		"signup.lead":                 "We will email you a code to check that the address is yours.",
		"signup.password_hint":        "At least %d characters. Avoid common passwords and the part of your email before the @.",
		"signup.kind_personal_hint":   "for yourself",
		"signup.kind_enterprise_hint": "for a company or organisation",
		"signup.submit":               "Continue",
		"signup.have_account":         "Already have an account?",
		"signup.login_link":           "Log in",
		"signup.kind_invalid":         "Choose Personal or Enterprise.",

		"verify.title":         "Check your email",
		"verify.lead":          "Enter the 6-digit code we emailed you. It expires %d minutes after we sent it.",
		"verify.code_hint":     "The code is 6 digits. You can paste it.",
		"verify.code_missing":  "Enter the 6-digit code from the email.",
		"verify.submit":        "Create account",
		"verify.no_code":       "No email? Check your spam folder, or",
		"verify.start_again":   "sign up again",
		"verify.expired_title": "This code can no longer be used",
		"verify.missing_id":    "This page needs the link from the sign-up form. Sign up again to get a new code.",

		"login.title":           "Log in",
		"login.submit":          "Log in",
		"login.created":         "Your account is ready; log in.",
		"login.no_account":      "New to Custos?",
		"login.signup_link":     "Sign up",
		"login.coming_soon":     "Forgot your password, can't find your account or need support? Password reset, account search and support requests are coming soon.",
		"login.locked_until":    "Password login is paused until",
		"login.captcha_label":   "Characters in the picture",
		"login.captcha_alt":     "A picture of six digits to type below",
		"login.captcha_new":     "New picture",
		"login.captcha_audio":   "Listen to them instead",
		"login.locked_for":      "in about %d minutes",
		"login.locked_what_now": "Wait until then and try again. If you did not make these attempts, someone may be guessing your password: change it once you are back in.",

		"account.title":      "Account Information",
		"account.id":         "Account ID",
		"account.kind":       "Account type",
		"account.email":      "Account email",
		"account.created":    "Created",
		"account.email_note": "You log in with the account email. Times are shown in UTC.",

		"devices.title":        "Signed-in devices",
		"devices.lead":         "These devices are logged in to your account now. If you do not recognise one, sign it out.",
		"devices.this_device":  "This device",
		"devices.current_note": "You are using this device. Use Log out to end it.",
		"devices.device":       "Device",
		"devices.address":      "Address",
		"devices.signed_in":    "Signed in",
		"devices.last_seen":    "Last seen",
		"devices.user_agent":   "Browser details",
		"devices.revoke":       "Sign out",
		"devices.revoked":      "That device is signed out.",
		"devices.is_current":   "This is the device you are using. To end it, log out.",
		"devices.gone":         "That device is already signed out.",
		"device.on":            "%s on %s",
		"device.unknown":       "Unknown device",

		"revoke.title":         "Sign out this device?",
		"revoke.lead":          "You are about to sign out this device:",
		"revoke.loses":         "Whoever uses it will be logged out at once and will lose anything they have not saved in Custos.",
		"revoke.password_hint": "If you think someone else has your password, change it as well.",
		"revoke.submit":        "Sign out this device",
		"revoke.cancel":        "Cancel",

		"activity.title":   "Security activity",
		"activity.lead":    "Recent security events on your account, newest first. Times are in UTC.",
		"activity.caption": "Security events",
		"activity.time":    "Time",
		"activity.event":   "Event",
		"activity.address": "Address",
		"activity.device":  "Device",
		"activity.empty":   "Nothing has happened on your account yet.",

		"event.signup":            "Account created",
		"event.login.success":     "Logged in",
		"event.login.failure":     "Login failed: wrong password",
		"event.login.refused":     "Login refused before the password was checked (captcha missing or login paused)",
		"event.login.locked":      "Password login paused after too many wrong passwords",
		"event.login.unlocked":    "Password login unpaused by support",
		"event.logout":            "Logged out",
		"event.session.revoked":   "A device was signed out",
		"event.session.expired":   "A session ended after its time limit",
		"event.password.rehashed": "Password storage upgraded",

		"outbox.title":   "Outbox",
		"outbox.lead":    "Development only: every email and text message this server sent, newest first.",
		"outbox.to":      "To",
		"outbox.purpose": "Purpose",
		"outbox.subject": "Subject",
		"outbox.code":    "Code",
		"outbox.sent_at": "Sent",
		"outbox.empty":   "No messages yet.",

		"error.title":           "That did not work",
		"error.not_found_title": "Page not found",
		"error.server_title":    "Something went wrong on our side",
		"error.server_lead":     "Please try again in a moment. If it keeps happening, contact support and give them this number.",
		"error.request_id":      "Request ID:",
		"error.home":            "Go to the start page",
	},
}

// text returns the catalogue's text for key, formatted with args. A
// missing key is an error, so a page that uses one fails to render (and
// the page tests catch it) rather than showing a key to people.
func (c catalogue) text(key string, args ...any) (string, error) {
	s, ok := c[key]
	if !ok {
		return "", fmt.Errorf("message catalogue: no text for %q", key)
	}
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s, nil
}

// must returns the text for a key the Go code itself names. Those keys are
// in every catalogue; the fallback only keeps a page readable if one is not.
func (c catalogue) must(key string) string {
	if s, ok := c[key]; ok {
		return s
	}
	return catalogues[defaultLanguage][key]
}
