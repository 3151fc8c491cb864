// Package custos is the vocabulary of the Custos account center: accounts,
// sessions, one-time-code challenges, audit events, the Error type with its
// stable codes, the Clock and random-source seams, and the narrow Store
// interfaces that the adapters (sqlstore) implement and the services use.
//
// It imports only the standard library; every other package may import it.
package custos
