package message

// enWebAlerts holds the words of issue 13's protection choices, new-device
// alerts, masked addresses, code pages and rough edges.
var enWebAlerts = map[string]string{
	// Security Settings: counts, the chosen method, new-device sign-ins.
	"alerts.count":                  "%d added.",
	"alerts.count_none":             "None added yet.",
	"alerts.method_now":             "Now: %s.",
	"alerts.new_device":             "New-device sign-in alerts",
	"alerts.new_device_state":       "When someone signs in from a browser or network your account has not used before, we tell your email and phone at once.",
	"alerts.new_device_step":        "second step for new devices",
	"alerts.new_device_step_on":     "A sign-in from a new device also needs the second step of login, even with login protection off.",
	"alerts.new_device_step_off":    "Turn this on to ask a new device for the second step of login too, even with login protection off.",
	"alerts.change_new_device_on":   "Ask a new device for the second step of login, even with login protection off.",
	"alerts.change_new_device_off":  "Stop asking a new device for the second step of login (you are still told about it).",
	"alerts.done_new_device_on":     "A sign-in from a new device now needs the second step of login.",
	"alerts.done_new_device_off":    "A sign-in from a new device no longer needs the second step of login. You are still told about it.",
	"protection.new_device_missing": "Say whether a new device needs the second step: true or false.",

	// Login: one lock message, logged out, created.
	"alerts.logged_out":        "You are logged out.",
	"alerts.secondfactor_lead": "After your password we ask for a second check: your account has login protection, or this browser or network is new to it.",

	// The captcha's sound, played in the page.
	"alerts.captcha_audio_label": "Listen to the characters instead",
	"alerts.captcha_audio_none":  "Your browser cannot play the sound here.",
	"alerts.captcha_audio_file":  "Download the sound",

	// Code pages: where a code went, new addresses, resending.
	"alerts.new_address":       "New address",
	"alerts.email_new_sent":    "We emailed a 6-digit code to your new address, %s.",
	"alerts.forgot_sent_email": "If an account uses %[1]s, we sent it a code: by text message to its bound phone when it has one, otherwise by email to its secure email or to %[1]s.",
	"alerts.forgot_sent_phone": "If an account uses %s, we sent a code to it by text message.",
	"alerts.verify_sent":       "We emailed a 6-digit code to %s. It works for %d minutes.",
	"alerts.resend":            "Send a new code",
	"alerts.resend_wait":       "Send a new code (in %d s)",
	"alerts.resend_wait_hint":  "You can ask for a new code in %d seconds.",
	"alerts.resent":            "We sent a new code. The earlier one no longer works.",

	// The site's page for an address that does not exist.
	"alerts.not_found": "There is no page at this address. Check the address, or go back to your account.",
}
