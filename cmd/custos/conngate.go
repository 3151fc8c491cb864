package main

import (
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// defaultMaxConnections is --max-connections when it is 0: enough
// requests in progress to keep every core busy many times over (each
// holds about 45 KiB while it waits: its goroutines, buffers and request),
// few enough that a flood of them stays a few megabytes.
func defaultMaxConnections() int { return max(256, 64*runtime.NumCPU()) }

// connGate bounds the connections the server holds open at once. A
// connection past the bound is not accepted yet: it waits in the kernel's
// listen queue, costing the process nothing, until one closes. An idle
// keep-alive connection (between two requests) gives its place up: when
// every place is taken, the gate closes the one idle longest rather than
// make a new connection wait for it, so browsers holding connections open
// never lock out a request. Only one idle for minIdle or more: a client
// that just got its answer may be sending its next request on the same
// connection, and a POST on a connection closed under it fails without a
// retry. Clients reuse their most recent connection first, so the longest
// idle is the least likely to be in use. So a burst of a thousand logins queues at the
// door instead of growing a goroutine, buffers and a request each inside.
type connGate struct {
	net.Listener
	places chan struct{} // one token per open connection
	idled  chan struct{} // a connection went idle (buffered: a wake-up, not a count)
	done   chan struct{} // closed by Close
	once   sync.Once

	mu   sync.Mutex
	idle map[*gatedConn]time.Time // since when
}

// minIdle is how long a connection must have been idle before the gate
// closes it to make room.
const minIdle = 250 * time.Millisecond

func newConnGate(ln net.Listener, n int) *connGate {
	return &connGate{Listener: ln, places: make(chan struct{}, n), idled: make(chan struct{}, 1),
		done: make(chan struct{}), idle: make(map[*gatedConn]time.Time)}
}

// Accept takes the next connection, then waits for a place for it (one
// connection waiting so in the process; the others wait in the kernel's
// queue). While every place is taken it closes an idle connection as soon
// as there is one; a connection in the middle of a request keeps its
// place.
func (g *connGate) Accept() (net.Conn, error) {
	c, err := g.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for taken := false; !taken; {
		select {
		case g.places <- struct{}{}:
			taken = true
			continue
		default:
		}
		closed, wait := g.closeIdle()
		if closed {
			continue // its place is free now
		}
		var ripe <-chan time.Time // the longest idle reaches minIdle
		var t *time.Timer
		if wait > 0 {
			t = time.NewTimer(wait)
			ripe = t.C
		}
		select {
		case g.places <- struct{}{}:
			taken = true
		case <-g.idled:
		case <-ripe:
		case <-g.done:
			c.Close()
			return nil, net.ErrClosed
		}
		if t != nil {
			t.Stop()
		}
	}
	return &gatedConn{Conn: c, g: g}, nil
}

// Close closes the listener and ends a wait for a place.
func (g *connGate) Close() error {
	g.once.Do(func() { close(g.done) })
	return g.Listener.Close()
}

// track is the server's ConnState hook: it keeps the set of idle
// connections.
func (g *connGate) track(c net.Conn, state http.ConnState) {
	gc, ok := c.(*gatedConn)
	if !ok {
		return
	}
	g.mu.Lock()
	if state == http.StateIdle {
		g.idle[gc] = time.Now()
	} else {
		delete(g.idle, gc)
	}
	g.mu.Unlock()
	if state == http.StateIdle {
		select {
		case g.idled <- struct{}{}:
		default:
		}
	}
}

// closeIdle closes the connection idle longest, which gives its place
// back at once, if it has been idle for minIdle; otherwise it reports how
// long until it will have been (0 when none is idle).
func (g *connGate) closeIdle() (closed bool, wait time.Duration) {
	g.mu.Lock()
	var victim *gatedConn
	var since time.Time
	for c, t := range g.idle {
		if victim == nil || t.Before(since) {
			victim, since = c, t
		}
	}
	if victim == nil {
		g.mu.Unlock()
		return false, 0
	}
	if age := time.Since(since); age < minIdle {
		g.mu.Unlock()
		return false, minIdle - age
	}
	delete(g.idle, victim)
	g.mu.Unlock()
	victim.Close()
	return true, 0
}

// gatedConn gives its place back when it closes, once.
type gatedConn struct {
	net.Conn
	g    *connGate
	once sync.Once
}

func (c *gatedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.g.mu.Lock()
		delete(c.g.idle, c)
		c.g.mu.Unlock()
		<-c.g.places
	})
	return err
}
