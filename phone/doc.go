// Package phone turns what people type as a phone number into one E.164
// string (+8613800138000), the only form the rest of Custos stores,
// compares and sends to, and masks numbers for display and logs.
//
// It is pure: no I/O, no clock. It imports the standard library, the root
// package and github.com/nyaruka/phonenumbers (a port of libphonenumber,
// whose metadata decides which numbers are valid).
package phone
