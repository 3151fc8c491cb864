package message

// enWebSubLogin are the English texts of the sub-user's side of the pages
// (R9): the "Sub-user" tab of Log in, the steps a sub-user's login may owe
// (binding an authenticator app, choosing a new password), and what a
// sub-user's Security Settings say of the protection the administrator set.
var enWebSubLogin = map[string]string{
	"sublogin.tabs_label":           "How you log in",
	"sublogin.tab_email":            "Account email",
	"sublogin.tab_sub_user":         "Sub-user",
	"sublogin.lead":                 "A sub-user logs in with the account id of their team and their own user name.",
	"sublogin.root_account_id":      "Account id of your team",
	"sublogin.root_account_id_hint": "Your team's administrator gives it to you. It starts with acc_.",
	"sublogin.user_name":            "User name",
	"sublogin.locked_what_now":      "To get in sooner, ask your team's administrator. If you did not make these attempts, someone may be guessing your password: tell your administrator.",
	"sublogin.forgot":               "Forgot your password? Ask your team's administrator to reset it.",

	"sublogin.bind.title":  "Add an authenticator app",
	"sublogin.bind.lead":   "Your team's administrator asks you to add an authenticator app before you can sign in.",
	"sublogin.bind.submit": "Add this app and continue",

	"sublogin.password.title":   "Choose a new password",
	"sublogin.password.lead":    "Before you can sign in, choose a new password: your team's administrator reset yours, or it is too old.",
	"sublogin.password.label":   "New password",
	"sublogin.password.hint":    "Your team's rules for passwords apply. A password you used before does not work.",
	"sublogin.password.missing": "Enter a new password.",
	"sublogin.password.submit":  "Save and continue",

	"sublogin.security.set_by_admin":      "Set by your account's administrator",
	"sublogin.security.set_by_admin_hint": "It stays on. Ask your administrator to change it.",
	"sublogin.security.password_state":    "Set. You log in with it, your team's account id and your user name.",
	"sublogin.security.secure_email_none": "You have no email here yet. Set your own email to get codes by email.",
	"security.method_needs.email":         "Set your secure email first.",
}
