package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
)

// Concurrency of the write test: as many writers as a busy server has
// requests in flight, each doing what a sign-in does.
const (
	writers         = 64
	writesPerWriter = 20
)

// testConcurrentWrites runs writers goroutines, each creating sessions,
// appending events, touching and reading sessions; none may fail (an
// embedded database must queue writers, not answer "database is locked").
func testConcurrentWrites(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-busy")
	errs := make(chan error, writers*writesPerWriter)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range writesPerWriter {
				at := t0.Add(time.Duration(g*writesPerWriter+i) * time.Millisecond)
				sess := newSession(fmt.Sprintf("sess-busy-%02d-%02d", g, i), a.ID)
				sess.CreatedAt = at
				if err := s.CreateSession(ctx, sess, newEvent("ev-login-"+sess.ID, a.ID, custos.EventLoginSuccess, at)); err != nil {
					errs <- fmt.Errorf("CreateSession(%s): %w", sess.ID, err)
					continue
				}
				if err := s.AppendAudit(ctx, newEvent("ev-fail-"+sess.ID, a.ID, custos.EventLoginFailure, at)); err != nil {
					errs <- fmt.Errorf("AppendAudit(%s): %w", sess.ID, err)
				}
				if err := s.TouchSession(ctx, sess.ID, at.Add(time.Second)); err != nil {
					errs <- fmt.Errorf("TouchSession(%s): %w", sess.ID, err)
				}
				if _, err := s.SessionByTokenHash(ctx, sess.TokenHash); err != nil {
					errs <- fmt.Errorf("SessionByTokenHash(%s): %w", sess.ID, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("… and %d more errors", n-10)
	}
	sessions, err := s.ListSessions(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if got, want := len(sessions), writers*writesPerWriter; got != want {
		t.Errorf("ListSessions: %d sessions, want %d", got, want)
	}
	events, err := s.ListAudit(ctx, a.ID, 10*writers*writesPerWriter)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if got, want := len(events), 2*writers*writesPerWriter+1; got != want {
		t.Errorf("ListAudit: %d events, want %d", got, want)
	}
}

// raceAll runs n racers at once — each calls racer(i) after one common start
// — and returns their errors, in racer order.
func raceAll(n int, racer func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = racer(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// soleWinner checks that exactly one of errs is nil and that every other
// one has the code loser, and returns the winner's index. what names the
// call ("MoveTicket").
func soleWinner(t *testing.T, what string, errs []error, loser string) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Errorf("%s: racers %d and %d both succeeded", what, winner, i)
			}
			winner = i
			continue
		}
		wantCode(t, fmt.Sprintf("%s(racer %d)", what, i), err, loser)
	}
	if winner < 0 {
		t.Fatalf("%s: no racer succeeded: %v", what, errs)
	}
	return winner
}
