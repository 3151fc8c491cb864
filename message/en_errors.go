package message

// enErrors are the English texts of the errors people see: one for every
// error code ("error." + code), shown when an error names no text of its
// own, and the texts the transports' own errors name by key.
var enErrors = map[string]string{
	"error.invalid_request":        "That request could not be understood. Check what you sent and try again.",
	"error.unsupported_media_type": "That was sent in a form we do not accept.",
	"error.request_too_large":      "What you sent is too large.",
	"error.not_found":              "We could not find that. It may have been removed, or the link may be wrong.",
	"error.method_not_allowed":     "That cannot be done here.",
	"error.conflict":               "That clashes with something that already exists or has just changed. Look again and retry.",
	"error.email_taken":            "Another account uses that email.",
	"error.weak_password":          "Choose a stronger password: longer, and not a common one.",
	"error.invalid_email":          "Enter an email address like name@example.com.",
	"error.invalid_code":           "That code is not right.",
	"error.expired":                "This has expired or was already used. Start again.",
	"error.invalid_credentials":    "The email or password is not right.",
	"error.captcha_required":       "Type the characters in the picture.",
	"error.account_locked":         "Password login is paused for this account after too many wrong tries.",
	"error.too_many_requests":      "Too many tries. Wait a little, then try again.",
	"error.unauthenticated":        "Log in to continue.",
	"error.forbidden":              "You are not allowed to do that.",
	"error.verification_required":  "Confirm it's you first.",
	"error.no_second_factor":       "Add an MFA device first.",
	"error.invalid_phone":          "Enter a phone number with the country code, like +86 138 0013 8000.",
	"error.method_not_chosen":      "That is not the way you chose to confirm it's you.",
	"error.unavailable":            "A service we depend on is not answering. Try again in a moment.",
	"error.internal":               "Something went wrong on our side. Try again in a moment.",
	// error.quote_request_id follows the text of a failure of ours (5xx),
	// so support can find its log line.
	"error.quote_request_id": "If it keeps happening, quote request id %s.",

	"form.too_large":  "The form was too large.",
	"form.unreadable": "The form could not be read.",

	"webauthn.json_type":  "Send the body as application/json.",
	"webauthn.too_large":  "The request was too large.",
	"webauthn.unreadable": "The request could not be read.",

	"api.no_endpoint":        "No such endpoint: %s %s.",
	"api.bearer":             "Send Authorization: Bearer <session_token>.",
	"api.captcha_gone":       "This captcha has expired or was used. Ask for a new one.",
	"api.no_device":          "No such device.",
	"api.json_type":          "Send the body as application/json.",
	"api.json_one_object":    "The body must hold exactly one JSON object.",
	"api.json_too_large":     "The body is larger than %d bytes.",
	"api.json_empty":         "The body is empty; send a JSON object.",
	"api.json_invalid":       "The body is not valid JSON.",
	"api.json_not_object":    "The body must be a JSON object.",
	"api.json_wrong_type":    "Field %q has the wrong type.",
	"api.json_unknown_field": "Unknown field %q.",
	"api.json_unreadable":    "The body could not be read as JSON.",
}
