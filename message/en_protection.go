package message

// enProtectionMethods are the English texts of the choice of protection
// methods (R8, "as the holder chose") on Security Settings and on the page
// that confirms a protection change.
var enProtectionMethods = map[string]string{
	"security.login_method":               "How the second step of login checks",
	"security.operation_method":           "How you confirm it's you while operation protection is on",
	"security.method.mfa":                 "MFA device",
	"security.method.sms":                 "Code by text message",
	"security.method.email":               "Code by email",
	"security.method_hint.login_mfa":      "An authenticator app, hardware token or security key, or a recovery code. Nothing else is offered.",
	"security.method_hint.operation_mfa":  "A code from an authenticator app or a hardware token. Nothing else is offered.",
	"security.method_hint.sms":            "A code to your phone. Nothing else is offered.",
	"security.method_hint.email":          "A code to your secure email, or to your account email while you have none. Nothing else is offered.",
	"security.method_needs.mfa":           "Add an MFA device first.",
	"security.method_needs.operation_mfa": "Add an authenticator app or a hardware token first.",
	"security.method_needs.sms":           "Bind a phone first.",
	"security.method_save":                "Save the choice",
	"security.method_missing":             "Choose one of the ways.",
	"security.done_login_method":          "Your choice for the second step of login is saved.",
	"security.done_operation_method":      "Your choice for confirming it's you is saved.",

	"protection.login_method.mfa":       "At the second step of login, ask for an MFA device or a recovery code, and nothing else.",
	"protection.login_method.sms":       "At the second step of login, ask for a code by text message, and nothing else.",
	"protection.login_method.email":     "At the second step of login, ask for a code by email, and nothing else.",
	"protection.operation_method.mfa":   "While operation protection is on, confirm it's you with a code from an authenticator app or a hardware token, and nothing else.",
	"protection.operation_method.sms":   "While operation protection is on, confirm it's you with a code by text message, and nothing else.",
	"protection.operation_method.email": "While operation protection is on, confirm it's you with a code by email, and nothing else.",
}
