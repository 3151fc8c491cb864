package queue_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/queue"
)

// TestOutage measures what an outage of the mail server does, in real
// time and with the real retry schedule (queue.Backoff, about a day of
// attempts): messages arrive at two a second while delivery fails, half of
// them codes that stop working ten minutes after they were made; when the
// server is back, it reports how many waited and how long they took to go
// out, and checks every notice went out once and every code either went
// out in its life or was dropped. It runs only when CUSTOS_OUTAGE names
// the outage's length (CUSTOS_OUTAGE=10m takes about twelve minutes).
func TestOutage(t *testing.T) {
	length, err := time.ParseDuration(os.Getenv("CUSTOS_OUTAGE"))
	if err != nil {
		t.Skip("set CUSTOS_OUTAGE to an outage length (10m) to measure one")
	}
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			s := start(t, d, func(c *queue.Config) {
				c.Backoff = queue.Backoff
				c.Clock = custos.SystemClock{} // codes expire in real time here
			})
			down := errors.New("dial tcp 127.0.0.1:25: connect: connection refused")
			s.box.setFail(func(custos.Message) error { return down })
			begin := time.Now()
			n := 0
			tick := time.NewTicker(500 * time.Millisecond)
			for time.Since(begin) < length {
				<-tick.C
				m := notice(fmt.Sprintf("n%05d@example.com", n))
				if n%2 == 1 {
					m = custos.Message{Channel: custos.ChannelEmail, To: fmt.Sprintf("c%05d@example.com", n), Purpose: custos.MsgResetCode,
						Code: "123456", Expires: time.Now().Add(10 * time.Minute)}
				}
				if err := s.q.Send(t.Context(), m); err != nil {
					t.Fatal(err)
				}
				n++
			}
			tick.Stop()
			w, err := s.q.Waiting(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			waiting := 0
			for _, c := range w {
				waiting += c
			}
			failed := counter(t, s.reg, custos.ChannelEmail, "failed")
			back := time.Now()
			s.box.setFail(nil)
			eventually2 := func() bool {
				w, err := s.q.Waiting(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				sum := 0
				for _, c := range w {
					sum += c
				}
				return sum == 0
			}
			for !eventually2() {
				if time.Since(back) > 5*time.Minute {
					t.Fatal("the backlog did not drain within 5 minutes")
				}
				time.Sleep(100 * time.Millisecond)
			}
			drained := time.Since(back)
			sent, expired := counter(t, s.reg, custos.ChannelEmail, "sent"), counter(t, s.reg, custos.ChannelEmail, "expired")
			t.Logf("%s outage: %d messages written, %d waiting when it ended (%v), %v failed attempts; all out %s after it ended: %v sent, %v codes dropped as expired",
				length, n, waiting, w, failed, drained.Round(100*time.Millisecond), sent, expired)
			if int(sent+expired) != n {
				t.Errorf("sent %v + expired %v != %d written", sent, expired, n)
			}
			seen := map[string]int{}
			for _, m := range s.box.messages() {
				seen[m.To]++
			}
			for to, k := range seen {
				if k != 1 {
					t.Errorf("%s delivered %d times", to, k)
				}
			}
		})
	}
}
