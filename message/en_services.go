package message

// enServices are the English texts of what the services refuse or say,
// by the keys their errors name (custos.Fail).
var enServices = map[string]string{
	"captcha.too_many": "Too many pictures were asked for from your network. Try again in %d seconds.",
	"captcha.first":    "Type the characters in the picture first.",
	"captcha.gone":     "This captcha has expired or was used. Ask for a new one.",
	"captcha.solve":    "Type the characters in the picture to continue.",
	"captcha.wrong":    "The picture's characters were not right, or the picture expired. Try this one.",

	"change.email.same":  "That is already your account email.",
	"change.email.taken": "Another account uses that email.",
	"change.gone":        "This change has expired or its code was used up. Start again.",
	"change.phone.full":  "This number is already bound to as many accounts as it may be (%d).",

	"code.dead":  "This code has expired or was used up. Start again.",
	"code.wrong": "That code is not right. Check the latest message.",

	"email.invalid": "Enter an email address like name@example.com.",

	"hardware.not_found":   "No token with that serial number is available, or the codes do not match it.",
	"hardware.resync_only": "Only hardware tokens can be resynchronised.",

	"login.locked":       "Password login for this account is paused after too many wrong passwords, until %s. You can reset your password to get in now.",
	"login.locked_codes": "Login for this account is paused after too many wrong passwords or codes, until %s.",
	"login.throttled":    "Too many failed logins from your network. Try again in %d minutes.",
	"login.wrong":        "The email or password is not right.",

	"mfa.code_used":    "That code was already used. Wait for the next one.",
	"mfa.code_wrong":   "That code is not right. Check the device and try again.",
	"mfa.last_device":  "Protection is on and needs this device: turn protection off first, or add another authenticator app or hardware token.",
	"mfa.name_long":    "A device name is at most 64 characters of text.",
	"mfa.name_missing": "Give the device a name.",
	"mfa.no_pending":   "No device is waiting for a code; start again.",

	"password.common":         "This password is one of the most commonly used, so it is easy to guess. Choose another.",
	"password.contains_email": "The password must not contain the part of your email address before the @.",
	"password.invalid":        "The password contains characters that cannot be used.",
	"password.too_long":       "The password must be at most %d characters long.",
	"password.too_short":      "The password must be at least %d characters long.",

	"phone.missing":       "Enter a phone number.",
	"phone.too_long":      "That is too long to be a phone number.",
	"phone.characters":    "A phone number has only digits, with spaces or dashes if you like, and + before the country code.",
	"phone.extension":     "A phone number for text messages cannot have an extension.",
	"phone.international": "Enter the number in international form: + and the country code, then the number.",
	"phone.not_mobile":    "That number cannot receive text messages. Enter a mobile number.",
	"phone.not_valid":     "That is not a valid phone number. Check the country code and the number of digits.",
	"phone.not_valid_in":  "That is not a valid phone number in %s. For a number from elsewhere, start with + and the country code.",

	"protection.method":         "Choose mfa, sms or email.",
	"protection.no_phone":       "Bind a phone first: codes by text message need one.",
	"protection.no_code_device": "Operation protection confirms changes with a code: add an authenticator app or a hardware token first.",
	"protection.no_device":      "Add an MFA device first: protection needs one to ask for.",

	"recovery_code.wrong": "That recovery code is not right or was already used.",

	"recovery_codes.no_device": "Add an MFA device first: recovery codes stand in for it when it is lost.",

	"reset.frozen_channel": "This account is frozen after \"it wasn't me\", and the channel you proved came with the change it was about. Reset through a channel that was not changed, or contact support.",
	"reset.gone":           "This reset has expired. Start again.",
	"reset.needs_mfa":      "This account has MFA: enter a code from its MFA device or a recovery code too.",
	"reset.not_reached":    "That account is not one this reset reaches.",
	"reset.which":          "Enter your account email or your phone number.",

	"secondfactor.already_sent": "A code was already sent. Check your email, or start again for a new one.",
	"secondfactor.expired":      "This login has expired. Enter your password again.",
	"secondfactor.finished":     "This login was already finished or has expired. Enter your password again.",
	"secondfactor.no_code":      "Ask for a code first.",
	"secondfactor.no_key":       "This account has no security key.",
	"secondfactor.send_how":     "Codes can be sent by email, or by SMS to a bound phone.",
	"secondfactor.use_one_of":   "Use one of: %v.",
	"secondfactor.used_up":      "Too many codes were tried, or this login has expired. Enter your password again.",

	"send.cooldown":   "A code was sent a moment ago. You can ask for another in %d seconds.",
	"send.per_day":    "Too many codes were sent to this address today. Try again in %d seconds.",
	"send.per_source": "Too many codes were asked for from your network. Try again in %d seconds.",

	"session.ended": "That session has already ended.",
	"session.login": "Log in to continue.",

	"signup.code_dead":   "This code has expired or was used up. Sign up again to get a new one.",
	"signup.code_wrong":  "That code is not right. Check the latest email and try again.",
	"signup.email_taken": "This email already has an account. Log in instead.",
	"signup.too_many":    "Too many accounts were created from your network. Try again in %d minutes.",
	"signup.kind":        "kind must be personal or enterprise.",

	"totp.bad_key": "This key can't be read. Start again.",

	"undo.gone": "This link has expired or was already used.",

	"verify.gone":       "No verification with that id is waiting. Start again.",
	"verify.required":   "Confirm it's you first.",
	"verify.use_one_of": "Verify with one of: %v.",
	"verify.used_up":    "Too many codes were tried for this check. Start again.",

	"webauthn.answer_unreadable": "The security key's answer could not be read.",
	"webauthn.cloned":            "This security key's counter went backwards: it may have been copied. Use another method.",
	"webauthn.expired":           "This security-key step has expired. Start again.",
	"webauthn.not_yours":         "That security key is not one of this account's.",
	"webauthn.rejected":          "The security key's answer did not check out.",
	"webauthn.rejected_again":    "The security key's answer did not check out. Try again.",
	"webauthn.unavailable":       "Security keys need the server's public URL to have a host name (not an IP address).",
}
