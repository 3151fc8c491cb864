package codes_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/sendlimit"
)

// outbox is the store's outbox at the edge: it keeps what the store's
// transactions wrote for delivery.
type outbox struct {
	mu   sync.Mutex
	sent []custos.Message
}

func (o *outbox) write(_ context.Context, _ *sql.Tx, msgs []custos.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range msgs {
		if !m.Decoy { // a stand-in the workers never deliver
			o.sent = append(o.sent, m)
		}
	}
	return nil
}

func (o *outbox) last(t *testing.T) custos.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		t.Fatal("nothing was sent")
	}
	return o.sent[len(o.sent)-1]
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sent)
}

func newSender(t *testing.T, dialect string) (*codes.Sender, *outbox, *testclock.Clock) {
	t.Helper()
	store := testdb.Open(t, dialect)
	clock := testclock.New(time.Time{})
	box := &outbox{}
	store.SetOutbox(box.write)
	ring, err := keyring.Generate(rand.Reader, "k1")
	if err != nil {
		t.Fatal(err)
	}
	mac := func(b []byte) []byte { return ring.MAC("one-time-code", b) }
	s := codes.New(codes.Deps{
		Store: store, Limiter: sendlimit.New(store, clock, sendlimit.Config{}), Clock: clock, Rand: rand.Reader,
		MAC: mac,
	}, codes.Config{})
	return s, box, clock
}

func request(to string) codes.Request {
	return codes.Request{Purpose: custos.PurposePhoneChange, Message: custos.MsgPhoneCode, Channel: custos.ChannelSMS,
		To: to, Source: "198.51.100.7"}
}

func TestSendAndCheck(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s, box, clock := newSender(t, dialect)
			sent, err := s.Send(ctx, request("+8613800138000"))
			if err != nil {
				t.Fatal(err)
			}
			if sent.SentTo != "+86 138****8000" || !sent.ExpiresAt.Equal(clock.Now().Add(10*time.Minute)) {
				t.Errorf("Sent = %+v", sent)
			}
			code := box.last(t).Code
			if len(code) != 6 {
				t.Fatalf("code %q", code)
			}
			if _, err := s.Check(ctx, sent.ID, custos.PurposeEmailChange, code); !custos.IsCode(err, custos.EExpired) {
				t.Errorf("a code of another purpose = %v, want expired", err)
			}
			if _, err := s.Check(ctx, sent.ID, custos.PurposePhoneChange, wrong(code)); !custos.IsCode(err, custos.EInvalidCode) {
				t.Errorf("a wrong code = %v, want invalid_code", err)
			}
			if _, err := s.Check(ctx, sent.ID, custos.PurposePhoneChange, code); err != nil {
				t.Fatalf("the right code = %v", err)
			}
			if _, err := s.Check(ctx, sent.ID, custos.PurposePhoneChange, code); !custos.IsCode(err, custos.EExpired) {
				t.Errorf("a replayed code = %v, want expired", err)
			}

			// A second code to the same number within the cooldown is
			// refused, and not sent.
			n := box.count()
			_, err = s.Send(ctx, request("+8613800138000"))
			if !custos.IsCode(err, custos.ETooManyRequests) || box.count() != n {
				t.Errorf("a resend within the cooldown = %v (%d sent), want too_many_requests and nothing sent", err, box.count()-n)
			}
			if p := s.Policy(); p.TTL != 10*time.Minute || p.Attempts != 5 || p.ResendAfter != time.Minute {
				t.Errorf("Policy = %+v", p)
			}

			// An expired code is dead even when right.
			sent, err = s.Send(ctx, request("+8613900139000"))
			if err != nil {
				t.Fatal(err)
			}
			code = box.last(t).Code
			clock.Advance(10 * time.Minute)
			if _, err := s.Check(ctx, sent.ID, custos.PurposePhoneChange, code); !custos.IsCode(err, custos.EExpired) {
				t.Errorf("an expired code = %v, want expired", err)
			}
		})
	}
}

// TestDecoy: a decoy answers like a real code but sends nothing and can
// only die, and it counts against the send limits like a real one.
func TestDecoy(t *testing.T) {
	ctx := context.Background()
	s, box, _ := newSender(t, "sqlite")
	r := request("+8613700137000")
	d, err := s.Decoy(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if box.count() != 0 {
		t.Fatalf("a decoy sent %d messages", box.count())
	}
	for _, guess := range []string{"000000", "123456", ""} {
		if _, err := s.Check(ctx, d.ID, r.Purpose, guess); err == nil {
			t.Fatalf("a decoy was proven by %q", guess)
		}
	}
	if _, err := s.Send(ctx, r); !custos.IsCode(err, custos.ETooManyRequests) {
		t.Errorf("a real send after a decoy = %v, want too_many_requests (the limiter must not tell them apart)", err)
	}
}

// TestConcurrentWrongCodes sends many wrong guesses at one code at once:
// exactly five are checked, and then the right code is dead too.
func TestConcurrentWrongCodes(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s, box, _ := newSender(t, dialect)
			sent, err := s.Send(ctx, request("+8613600136000"))
			if err != nil {
				t.Fatal(err)
			}
			code := box.last(t).Code
			var invalid, dead atomic.Int32
			var wg sync.WaitGroup
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Check(ctx, sent.ID, custos.PurposePhoneChange, wrong(code))
					switch {
					case custos.IsCode(err, custos.EInvalidCode):
						invalid.Add(1)
					case custos.IsCode(err, custos.EExpired):
						dead.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if invalid.Load() != 5 || dead.Load() != 45 {
				t.Errorf("invalid %d, dead %d; want 5 and 45", invalid.Load(), dead.Load())
			}
			if _, err := s.Check(ctx, sent.ID, custos.PurposePhoneChange, code); !custos.IsCode(err, custos.EExpired) {
				t.Errorf("the right code after five wrong ones = %v, want expired", err)
			}
		})
	}
}

// wrong is a code that is not code.
func wrong(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}
