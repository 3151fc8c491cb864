package password

import (
	"runtime"
	"time"
)

// computeThreads runs argon2id computations on operating-system threads of
// their own, each at a lower scheduling priority than the rest of the
// process (computeNice), so that while every core is computing, the
// short work around a login — reading its request, its database round
// trips, writing its answer, and the database's own processes — still
// gets a core the moment it is ready instead of waiting behind a 20 ms
// computation. The computations lose nothing: that work is brief, and
// they take every cycle it leaves. A thread is kept while it has work
// and ends after computeIdle without any; it never runs anything else
// (it ends locked to its goroutine, so the runtime discards it rather
// than reuse a thread at the lower priority).
//
// The runtime must have spare Ps for that work to run on: the server
// sets GOMAXPROCS to the cores plus the computing workers (see cmd/custos).
type computeThreads struct {
	idle chan func() // a thread waiting for its next computation
}

// computeIdle is how long a compute thread waits for work before ending.
const computeIdle = 10 * time.Second

// run runs f on a compute thread and returns when it has.
func (t *computeThreads) run(f func()) {
	done := make(chan struct{})
	job := func() { f(); close(done) }
	select {
	case t.idle <- job:
	default:
		go t.thread(job)
	}
	<-done
}

func (t *computeThreads) thread(job func()) {
	runtime.LockOSThread() // never unlocked: see computeThreads
	lowerPriority()
	timer := time.NewTimer(computeIdle)
	defer timer.Stop()
	for {
		job()
		timer.Reset(computeIdle)
		select {
		case job = <-t.idle:
		case <-timer.C:
			return
		}
	}
}
