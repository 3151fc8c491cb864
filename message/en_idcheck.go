package message

// enIDCheck are the English texts of the identity number checks (package
// idcheck): why a document number or a Unified Social Credit Code was
// refused.
var enIDCheck = map[string]string{
	"idcheck.document_type": "Choose a kind of document from the list.",
	"idcheck.length":        "This number is too short or too long for this kind of document. Check it against the document.",
	"idcheck.characters":    "This number has a character this kind of document doesn't use. An identity card number is 17 digits and then a digit or X. Other documents use only letters and digits.",
	"idcheck.format":        "This is not the form of a travel permit number. It is up to two letters and then 7 to 10 digits.",
	"idcheck.region":        "This number is not a valid identity card number: its first two digits are not a region code. Check it against the card.",
	"idcheck.birth_date":    "This number is not a valid identity card number: characters 7 to 14 are not a possible date of birth. Check it against the card.",
	"idcheck.checksum":      "This number is not a valid identity card number: its last character doesn't match. Check it against the card.",

	"idcheck.uscc_length":     "A Unified Social Credit Code has 18 characters. Check it against the business licence.",
	"idcheck.uscc_characters": "This code has a character a Unified Social Credit Code doesn't use. It has digits and capital letters, but never I, O, S, V or Z.",
	"idcheck.uscc_type":       "This is not a valid Unified Social Credit Code: its first two characters are not a kind of organisation. Check it against the business licence.",
	"idcheck.uscc_region":     "This is not a valid Unified Social Credit Code: characters 3 to 8 must be digits. Check it against the business licence.",
	"idcheck.uscc_checksum":   "This is not a valid Unified Social Credit Code: its last character doesn't match. Check it against the business licence.",
}
