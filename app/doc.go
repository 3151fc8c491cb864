// Package app builds the running system from a validated configuration:
// it opens and migrates the store, and wires the notifier and its
// transports behind the delivery queue (the store's outbox), the password hasher, the key ring's uses, captchas, the
// services, the api and web transports and the HTTP handler (server). It is
// the one place the object graph is wired, by hand, so that cmd/custos and
// the end-to-end tests (through internal/testserver) run exactly the same
// assembly.
//
// It is at the top of the import graph and may import any package of the
// module. Only cmd/custos and internal/testserver import it.
package app
