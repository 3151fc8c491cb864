// Package storetest is the conformance suite for custos.Store: every
// implementation (SQLite and PostgreSQL through sqlstore, and any other) runs
// the same Run and so answers every documented error code the same way.
//
// It is a test helper: it imports testing, go-cmp, the root package custos
// and the standard library, and nothing that is not a test imports it.
package storetest
