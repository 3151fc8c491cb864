// Package custos is the vocabulary of the Custos account center, shared by
// every other package: accounts and their login identifiers, sessions,
// trusted devices, MFA devices and hardware tokens, one-time-code
// challenges, the stored state of typed flows, rate-limit counters,
// captchas, audit events and outgoing messages; the Error type with its
// stable codes, catalogue keys and fields (no HTTP status: that is
// httperr's); the keyed LoginKeys and the one email check; the Clock and random-source
// seams with their production values, SystemClock and SystemRandom; and the
// narrow interfaces the services depend on: a Store interface per aggregate
// (which sqlstore implements), Notifier, Elevator and Captchas.
//
// It imports only the standard library and no package of the module; every
// other package may import it.
package custos
