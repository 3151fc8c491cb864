package message

// enIdentity are the English texts of real-name verification (the
// holder's side and the review console's answers) and of the staff side's
// sign-in and management.
var enIdentity = map[string]string{
	"error.identity_limit":           "This identity is already verified, or waiting for review, on as many accounts as allowed.",
	"error.invalid_document_number":  "This number doesn't pass its check. Compare it with the document.",
	"error.invalid_upload":           "This file can't be used. Upload a JPEG, PNG or PDF.",
	"error.already_decided":          "This was already decided by someone else. Reload to see the decision.",
	"error.identity_change_too_soon": "Your verified details can be changed only once in 30 days.",

	"identity.root_only":          "Real-name verification belongs to the account itself: a sub-user, or a collaborator working in another account, submits none.",
	"identity.already_pending":    "You already have a submission waiting for review. Wait for its decision before you submit again.",
	"identity.change_too_soon":    "Your verified details were changed recently. You can change them again from %s.",
	"identity.limit":              "This identity is already verified, or waiting for review, on %d accounts, the most allowed. Contact support if one of them is not yours.",
	"identity.kind":               "Choose individual or enterprise.",
	"identity.name_missing":       "Enter the name exactly as it is on the document.",
	"identity.name_too_long":      "This is too long: at most %d characters.",
	"identity.name_characters":    "This holds characters a name can't have.",
	"identity.file_not_for_kind":  "This file isn't part of this kind of verification.",
	"identity.field_not_for_kind": "This field isn't part of this kind of verification.",
	"identity.file_missing":       "Add this photo or scan.",
	"identity.data_missing":       "The form's fields are missing from the upload.",
	"identity.reason_missing":     "Say why it is rejected: the holder is shown your reason.",
	"identity.reason_too_long":    "The reason is too long: at most %d characters.",
	"identity.already_decided":    "This submission was already decided. Reload to see the decision.",
	"identity.decision":           "Choose approve or reject.",

	"api.staff_bearer": "Send Authorization: Bearer <staff_token>.",

	"staff.role":                 "Choose reviewer or admin.",
	"staff.already_enrolled":     "This staff member has already enrolled.",
	"staff.enrol_dead":           "This enrolment link has expired or was already used. Ask an admin for a new one.",
	"staff.enrol_password_first": "Set your password first.",
	"staff.admin_only":           "Only admins can do this.",
	"staff.own_role":             "You can't change your own role. Ask another admin.",
	"staff.own_account":          "You can't disable yourself. Ask another admin.",
	"staff.invalid_credentials":  "Wrong email or password.",
	"staff.login_dead":           "This sign-in has expired. Enter your email and password again.",
	"staff.locked":               "Sign-in for this staff email is paused after too many wrong passwords or codes, until %s. Ask an admin if you need in sooner.",

	"event.identity.submitted": "Real-name verification submitted",
	"event.identity.verified":  "Real-name verification approved",
	"event.identity.rejected":  "Real-name verification rejected",
}
