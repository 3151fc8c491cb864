// Package identity is real-name verification: a holder submits who they
// are (a person with an identity document, or an enterprise with its
// Unified Social Credit Code and legal representative) with photos of the
// documents, and a Verifier decides — by default staff in the review
// console, who see the record, the results of the number checks and the
// files.
//
// What it guarantees:
//   - numbers are checked (package idcheck) before anything is stored; a
//     failed check names its field;
//   - the record and the files are kept only sealed with the key ring; the
//     store sees a keyed hash of the identity (for the per-identity cap)
//     and the number's last four characters;
//   - an identity is pending or verified on at most MaxPersonal (documents)
//     or MaxEnterprise (USCCs) accounts, a rule the store holds exactly;
//   - a verified record changes at most once per ChangeEvery, and a change
//     stays pending while the old record stands;
//   - only active staff (reviewer or admin) see a submission or its files,
//     and every view and decision is in the staff audit trail; of two
//     reviewers deciding at once exactly one decides.
//
// It imports the root package, keyring and idcheck; the database through
// its Store interface.
package identity
