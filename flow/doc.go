// Package flow gives every multi-step flow (sign-up, second factor,
// verification, contact change, retrieval, reset, undo, security-key
// ceremonies; later real-name reviews and tickets) the same shape: a
// Machine names a flow kind's states and the transitions allowed between
// them, and its methods are the only way a stored flow is begun, loaded,
// moved on or charged a guess. A transition is a compare-and-swap on the
// stored state (custos.FlowStore.AdvanceFlow), so of two racing requests
// that move the same flow from the same state exactly one wins, on any
// number of replicas.
//
// It is a service part: it imports the root package only, and reaches the
// database through custos.FlowStore.
package flow
