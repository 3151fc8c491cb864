package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedServer serves h behind a gate of n places on a loopback port.
func gatedServer(t *testing.T, n int, h http.Handler) (url string, gate *connGate) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gate = newConnGate(raw, n)
	srv := &http.Server{Handler: h, ConnState: gate.track}
	go srv.Serve(gate)
	t.Cleanup(func() { srv.Close() })
	return "http://" + raw.Addr().String(), gate
}

func get(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = &net.AddrError{Err: resp.Status, Addr: url}
	}
	return err
}

// TestConnGateBurstQueues: 60 requests at once through 4 places are all
// answered, and never more than 4 are inside the server at once.
func TestConnGateBurstQueues(t *testing.T) {
	var inside, most atomic.Int64
	url, _ := gatedServer(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond) // hold the place a while, as a hash does
		inside.Add(-1)
	}))
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 60 {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
			if err := get(c, url); err != nil {
				t.Log(err)
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of 60 requests failed; every one should wait its turn", failed.Load())
	}
	if m := most.Load(); m > 4 || m < 1 {
		t.Errorf("%d requests were inside at once, want at most the gate's 4", m)
	}
}

// TestConnGateIdleGivesWay: a keep-alive connection left idle does not
// keep a new client out of a gate with one place.
func TestConnGateIdleGivesWay(t *testing.T) {
	url, gate := gatedServer(t, 1, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	a := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	if err := get(a, url); err != nil {
		t.Fatal(err)
	}
	// a's connection is open and idle now, holding the only place.
	deadline := time.Now().Add(5 * time.Second)
	for {
		gate.mu.Lock()
		idle := len(gate.idle)
		gate.mu.Unlock()
		if idle == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first client's connection never went idle")
		}
		time.Sleep(time.Millisecond)
	}
	b := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	if err := get(b, url); err != nil {
		t.Fatalf("a new client behind an idle connection: %v", err)
	}
	// And a, whose connection was closed, connects again.
	if err := get(a, url); err != nil {
		t.Fatalf("the first client again: %v", err)
	}
}

// TestConnGateActiveHoldsItsPlace: a request in progress is never closed
// to make room; the next connection waits until it ends.
func TestConnGateActiveHoldsItsPlace(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	url, _ := gatedServer(t, 1, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	first := make(chan error, 1)
	go func() { first <- get(&http.Client{Transport: &http.Transport{}}, url) }()
	<-entered
	second := make(chan error, 1)
	go func() { second <- get(&http.Client{Transport: &http.Transport{}}, url) }()
	select {
	case <-entered:
		t.Fatal("a second connection got in while the only place was in use")
	case err := <-first:
		t.Fatalf("the request in progress ended early: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second: %v", err)
	}
}

// TestConnGateClosesTheLongestIdle: with both places held by idle
// connections, a new client gets in by the close of the one idle longer,
// and only once it has been idle for minIdle; the other stays open.
func TestConnGateClosesTheLongestIdle(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gate := newConnGate(raw, 2)
	var mu sync.Mutex
	closed := map[string]bool{}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		ConnState: func(c net.Conn, s http.ConnState) {
			gate.track(c, s)
			if s == http.StateClosed {
				mu.Lock()
				closed[c.RemoteAddr().String()] = true
				mu.Unlock()
			}
		}}
	go srv.Serve(gate)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + raw.Addr().String()
	// each client's connection, as the server sees its remote address
	local := func(c *http.Client) string {
		t.Helper()
		var addr string
		tr := c.Transport.(*http.Transport)
		tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, a)
			if err == nil {
				addr = conn.LocalAddr().String()
			}
			return conn, err
		}
		if err := get(c, url); err != nil {
			t.Fatal(err)
		}
		return addr
	}
	older := local(&http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second})
	time.Sleep(50 * time.Millisecond)
	newer := local(&http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second})
	start := time.Now()
	local(&http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second})
	if waited := time.Since(start); waited < minIdle-60*time.Millisecond {
		t.Errorf("the third client got in after %v: an idle connection was closed before minIdle (%v)", waited, minIdle)
	}
	// The gate's close frees the place at once; the server reports the
	// connection closed a moment later, on its own goroutine.
	state := func() (o, n bool) {
		mu.Lock()
		defer mu.Unlock()
		return closed[older], closed[newer]
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if o, _ := state(); o {
			break
		}
	}
	if o, n := state(); !o || n {
		t.Errorf("closed: the older %v, the newer %v; want the older only", o, n)
	}
}
