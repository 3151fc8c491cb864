// Package codes owns one-time codes sent to an address: make a code, send
// it within the send limits (package sendlimit), keep only its keyed hash,
// and check it with every wrong try counted in the same atomic statement
// as the check. Every flow that proves an address by a code (sign-up, a
// second factor or verification by email or SMS, a phone or email change,
// retrieval, reset) goes through one Sender, so the rules for codes live
// in one place and the pages read the policy they show from it.
//
// It is a service part: it imports the root package, the policy package
// phone (to mask numbers) and the service part sendlimit.
package codes
