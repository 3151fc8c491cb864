// Package app builds the running system from a validated configuration:
// the store, the key ring's uses, the notifier, the services and the HTTP
// handler. It is the one place the object graph is wired, by hand, so that
// cmd/custos and the end-to-end tests run exactly the same assembly.
//
// It imports every other package of the module; nothing imports it but
// cmd/custos and tests.
package app
