package message

// enSubUsers are the English texts of sub-users (R9): the root's
// management and the sub-user's login steps.
var enSubUsers = map[string]string{
	"api.login_email_or_sub_user": "Log in with an email, or with a root account id and a user name, not both.",
	"login.console_off":           "This sub-user may not log in. Ask the administrator of your team's account.",
	"login.bind_first":            "Start binding the authenticator app first.",
	"password.classes":            "Use at least %d kinds of characters: lower case, upper case, digits, symbols.",
	"password.reused":             "You used this password before. Choose one you have not used for your last %d passwords.",

	"subuser.protection":              "Choose off, MFA device, text message or email.",
	"subuser.cannot_lower_protection": "Your account's administrator set this protection. You can add to it, not turn it off or change its method.",
	"subuser.no_login_email":          "A sub-user logs in with its user name and has no login email to change. Set your own email as the secure email instead.",
	"subuser.user_name":               "Use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.",
	"subuser.email_needed":            "Codes by email need the sub-user's own email address.",
	"subuser.phone_needed":            "Codes by text message need a phone the sub-user has bound.",
	"subuser.name_taken":              "Another sub-user of this account has this user name.",
	"subuser.rule_min_length":         "The minimum length is between %d and %d characters.",
	"subuser.rule_classes":            "The kinds of characters required are between 0 and 4.",
	"subuser.rule_history":            "Past passwords remembered are between 0 and 24.",
	"subuser.rule_retry_limit":        "The limit of wrong passwords a day is between 1 and 10 (0 for the usual 10).",
	"subuser.rule_max_age":            "A password lasts at least a day (0 for ever).",

	"collab.self":                          "That is your own account's email.",
	"collab.already":                       "This email is already invited to, or working in, your account.",
	"collab.invite_dead":                   "This invitation has expired or was already used. Ask for a new one.",
	"collab.not_for_you":                   "This invitation is for another email address. Sign in with the account it was sent to.",
	"collab.needs_mfa":                     "The account you want to work in asks for an MFA device. Add one under Security Settings first.",
	"event.collab.invited":                 "Collaborator invited",
	"event.collab.accepted":                "Collaboration accepted",
	"event.collab.protection":              "A collaborator's protection changed",
	"event.collab.ended":                   "Collaboration ended",
	"event.collab.switched":                "Switched into another account to work in it",
	"event.collab.switched_back":           "Switched back to your own account",
	"event.subuser.created":                "Sub-user created",
	"event.subuser.updated":                "Sub-user settings changed",
	"event.subuser.mfa_reset":              "A sub-user's MFA was reset",
	"event.subuser.password_reset":         "A sub-user's password was reset",
	"event.subuser.rules_set":              "Password rules for sub-users changed",
	"event.subuser.protection_set_by_root": "Your protection settings were changed by your account's administrator",
	"event.subuser.mfa_bound":              "Authenticator app bound at login",
}
