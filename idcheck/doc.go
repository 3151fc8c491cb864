// Package idcheck checks identity document numbers for real-name
// verification: PRC resident identity numbers (GB 11643, check character
// ISO 7064 MOD 11-2), passports, driving licences, Hong Kong / Macau /
// Taiwan travel permits, and Unified Social Credit Codes (GB 32100, check
// character MOD 31).
//
// The checks are of form only. A number that passes may still belong to
// nobody; a reviewer or a Verifier decides that. Where the rules of a
// document are not certain, the checks are lenient: they refuse only what
// cannot be a real number.
//
// It is pure: no I/O, no clock (the caller passes the time). It imports
// only the standard library and the root package.
package idcheck
