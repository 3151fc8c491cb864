package password

import "syscall"

// computeNice is the compute threads' nice value (0 is the default, 19
// the lowest priority): under Linux's scheduler a runnable thread at 0
// is given a core well before one at 10, and takes about nine tenths of
// a core it shares with one.
const computeNice = 10

// lowerPriority sets the calling thread's nice value to computeNice. On
// Linux a nice value is a thread's own (PRIO_PROCESS with a thread id).
// Raising it needs no privilege; a failure leaves the thread as it was.
func lowerPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), computeNice)
}
