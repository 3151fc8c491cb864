//go:build !linux

package password

// lowerPriority does nothing where a thread's priority is not its own.
func lowerPriority() {}
