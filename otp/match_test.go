package otp_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/custos/custos/otp"
)

// now is a fixed instant in the middle of a 30-second step.
var now = time.Date(2026, 11, 27, 9, 0, 10, 0, time.UTC)

// codeAt returns the default-params TOTP of seed20 d steps away from now.
func codeAt(t *testing.T, d int64) string {
	t.Helper()
	return otp.TOTP(seed20, now.Add(time.Duration(d)*otp.DefaultParams.Period), otp.DefaultParams)
}

// unusedCode returns a well-formed 6-digit code that is not the code of any
// step within ±span of now, so it must never match.
func unusedCode(t *testing.T, span int64) string {
	t.Helper()
	used := map[string]bool{}
	for d := -span; d <= span; d++ {
		used[codeAt(t, d)] = true
	}
	for n := 0; ; n++ {
		c := strconv.Itoa(100000 + n)
		if !used[c] {
			return c
		}
	}
}

func TestMatchTOTP(t *testing.T) {
	centre := otp.Step(now, otp.DefaultParams.Period)
	tests := []struct {
		name     string
		code     string // when empty, the code at offset
		offset   int64  // steps from now of the submitted code
		drift    int
		window   int
		lastStep int64 // relative to centre; math.MinInt64 means "none" (0)
		want     bool
		wantStep int64 // relative to centre
	}{
		{name: "current step", offset: 0, window: 1, lastStep: math.MinInt64, want: true, wantStep: 0},
		{name: "one step behind", offset: -1, window: 1, lastStep: math.MinInt64, want: true, wantStep: -1},
		{name: "one step ahead", offset: 1, window: 1, lastStep: math.MinInt64, want: true, wantStep: 1},
		{name: "two behind outside window 1", offset: -2, window: 1, lastStep: math.MinInt64},
		{name: "two ahead outside window 1", offset: 2, window: 1, lastStep: math.MinInt64},
		{name: "two ahead inside window 2", offset: 2, window: 2, lastStep: math.MinInt64, want: true, wantStep: 2},
		{name: "window 0 takes only the centre", offset: 0, window: 0, lastStep: math.MinInt64, want: true, wantStep: 0},
		{name: "window 0 refuses the neighbour", offset: 1, window: 0, lastStep: math.MinInt64},
		{name: "negative window refuses all", offset: 0, window: -1, lastStep: math.MinInt64},
		{name: "replay of the accepted step", offset: 0, window: 1, lastStep: 0},
		{name: "replay of an accepted earlier step", offset: -1, window: 1, lastStep: -1},
		{name: "next step after an accepted one", offset: 0, window: 1, lastStep: -1, want: true, wantStep: 0},
		{name: "future step after the current one", offset: 1, window: 1, lastStep: 0, want: true, wantStep: 1},
		{name: "older than the accepted step", offset: -1, window: 1, lastStep: 0},
		{name: "anything once a future step was used", offset: 0, window: 1, lastStep: 1},
		{name: "drift moves the centre ahead", offset: 3, drift: 3, window: 0, lastStep: math.MinInt64, want: true, wantStep: 3},
		{name: "drift ahead refuses the clock's step", offset: 0, drift: 3, window: 1, lastStep: math.MinInt64},
		{name: "drift behind with window", offset: -3, drift: -2, window: 1, lastStep: math.MinInt64, want: true, wantStep: -3},
		{name: "drift behind edge", offset: -1, drift: -2, window: 1, lastStep: math.MinInt64, want: true, wantStep: -1},
		{name: "drift behind refuses the clock's step", offset: 0, drift: -2, window: 1, lastStep: math.MinInt64},
		{name: "wrong code", code: unusedCode(t, 5), window: 3, lastStep: math.MinInt64},
		{name: "empty code", code: "-", window: 1, lastStep: math.MinInt64},
		{name: "too short", code: "12345", window: 1, lastStep: math.MinInt64},
		{name: "too long", code: codeAt(t, 0) + "0", window: 1, lastStep: math.MinInt64},
		{name: "spaces", code: " " + codeAt(t, 0)[1:], window: 1, lastStep: math.MinInt64},
		{name: "letter", code: codeAt(t, 0)[:5] + "a", window: 1, lastStep: math.MinInt64},
		{name: "full-width digits", code: "１２３４５６", window: 1, lastStep: math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := tt.code
			switch code {
			case "":
				code = codeAt(t, tt.offset)
			case "-":
				code = ""
			}
			last := int64(0)
			if tt.lastStep != math.MinInt64 {
				last = centre + tt.lastStep
			}
			step, ok := otp.MatchTOTP(seed20, otp.DefaultParams, code, now, tt.drift, tt.window, last)
			if ok != tt.want {
				t.Fatalf("ok = %v, want %v", ok, tt.want)
			}
			if ok && step != centre+tt.wantStep {
				t.Fatalf("step = centre%+d, want centre%+d", step-centre, tt.wantStep)
			}
		})
	}
}

func TestMatchTOTPStepIsUsedOnce(t *testing.T) {
	code := codeAt(t, 0)
	step, ok := otp.MatchTOTP(seed20, otp.DefaultParams, code, now, 0, 1, 0)
	if !ok {
		t.Fatal("first use refused")
	}
	// Within the same step and the next one, the stored step refuses it.
	for _, later := range []time.Duration{0, 5 * time.Second, 30 * time.Second} {
		if _, ok := otp.MatchTOTP(seed20, otp.DefaultParams, code, now.Add(later), 0, 1, step); ok {
			t.Fatalf("replay %v later accepted", later)
		}
	}
}

func TestMatchTOTPOtherParams(t *testing.T) {
	p := otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: time.Minute}
	code := otp.TOTP(seed64, now.Add(-time.Minute), p)
	step, ok := otp.MatchTOTP(seed64, p, code, now, 0, 1, 0)
	if !ok || step != otp.Step(now, time.Minute)-1 {
		t.Fatalf("MatchTOTP = %d, %v", step, ok)
	}
	if _, ok := otp.MatchTOTP(seed64, otp.Params{Algorithm: "SHA3", Digits: 8, Period: time.Minute}, code, now, 0, 1, 0); ok {
		t.Fatal("invalid params matched")
	}
}

func TestMatchHOTP(t *testing.T) {
	hotp := func(c uint64) string { return otp.HOTP(seed20, c, otp.SHA1, 6) }
	tests := []struct {
		name      string
		code      string
		next      uint64
		lookAhead int
		want      bool
		wantCount uint64
	}{
		{name: "expected counter", code: hotp(5), next: 5, lookAhead: 3, want: true, wantCount: 5},
		{name: "inside look-ahead", code: hotp(7), next: 5, lookAhead: 3, want: true, wantCount: 7},
		{name: "last counter of look-ahead", code: hotp(8), next: 5, lookAhead: 3, want: true, wantCount: 8},
		{name: "one past look-ahead", code: hotp(9), next: 5, lookAhead: 3},
		{name: "already used counter", code: hotp(4), next: 5, lookAhead: 3},
		{name: "look-ahead 0 takes next", code: hotp(5), next: 5, lookAhead: 0, want: true, wantCount: 5},
		{name: "look-ahead 0 refuses next+1", code: hotp(6), next: 5, lookAhead: 0},
		{name: "negative look-ahead", code: hotp(5), next: 5, lookAhead: -1},
		{name: "RFC count 0", code: "755224", next: 0, lookAhead: 0, want: true, wantCount: 0},
		{name: "RFC count 9 from 0", code: "520489", next: 0, lookAhead: 9, want: true, wantCount: 9},
		{name: "largest counter", code: hotp(math.MaxUint64), next: math.MaxUint64 - 1, lookAhead: 5, want: true, wantCount: math.MaxUint64},
		{name: "no wrap to counter 0", code: hotp(0), next: math.MaxUint64 - 1, lookAhead: 5},
		{name: "malformed", code: "75522a", next: 0, lookAhead: 3},
		{name: "wrong length", code: "7552240", next: 0, lookAhead: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := otp.MatchHOTP(seed20, otp.DefaultParams, tt.code, tt.next, tt.lookAhead)
			if ok != tt.want {
				t.Fatalf("ok = %v, want %v", ok, tt.want)
			}
			if ok && c != tt.wantCount {
				t.Fatalf("counter = %d, want %d", c, tt.wantCount)
			}
		})
	}
	// HOTP ignores the period, so HOTP-only params with no period work.
	if _, ok := otp.MatchHOTP(seed20, otp.Params{Algorithm: otp.SHA1, Digits: 6}, "755224", 0, 0); !ok {
		t.Fatal("params without a period refused")
	}
}

func TestFindTOTPPair(t *testing.T) {
	centre := otp.Step(now, otp.DefaultParams.Period)
	tests := []struct {
		name      string
		first     int64 // step offsets of code1 and code2
		second    int64
		window    int
		want      bool
		wantDrift int
	}{
		{name: "current and next", first: 0, second: 1, window: 2, want: true, wantDrift: 1},
		{name: "previous and current", first: -1, second: 0, window: 2, want: true, wantDrift: 0},
		{name: "pair at the window's low edge", first: -2, second: -1, window: 2, want: true, wantDrift: -1},
		{name: "pair at the window's high edge", first: 2, second: 3, window: 2, want: true, wantDrift: 3},
		{name: "pair past the high edge", first: 3, second: 4, window: 2},
		{name: "pair past the low edge", first: -3, second: -2, window: 2},
		{name: "far drift with wide window", first: 9, second: 10, window: 10, want: true, wantDrift: 10},
		{name: "swapped order", first: 1, second: 0, window: 2},
		{name: "not consecutive", first: 0, second: 2, window: 2},
		{name: "same code twice", first: 0, second: 0, window: 2},
		{name: "negative window", first: 0, second: 1, window: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step2, drift, ok := otp.FindTOTPPair(seed20, otp.DefaultParams, codeAt(t, tt.first), codeAt(t, tt.second), now, tt.window)
			if ok != tt.want {
				t.Fatalf("ok = %v, want %v", ok, tt.want)
			}
			if !ok {
				return
			}
			if drift != tt.wantDrift || step2 != centre+int64(tt.wantDrift) {
				t.Fatalf("step2 = centre%+d, drift = %d; want drift %d", step2-centre, drift, tt.wantDrift)
			}
		})
	}
	t.Run("malformed code", func(t *testing.T) {
		if _, _, ok := otp.FindTOTPPair(seed20, otp.DefaultParams, codeAt(t, 0), "12345x", now, 2); ok {
			t.Fatal("malformed second code matched")
		}
	})
}

func TestPairThenMatchKeepsDrift(t *testing.T) {
	step2, drift, ok := otp.FindTOTPPair(seed20, otp.DefaultParams, codeAt(t, 4), codeAt(t, 5), now, 5)
	if !ok || drift != 5 {
		t.Fatalf("FindTOTPPair = %d, %d, %v", step2, drift, ok)
	}
	if _, ok := otp.MatchTOTP(seed20, otp.DefaultParams, codeAt(t, 5), now, drift, 1, step2); ok {
		t.Fatal("second code of the pair accepted again")
	}
	step, ok := otp.MatchTOTP(seed20, otp.DefaultParams, codeAt(t, 6), now, drift, 1, step2)
	if !ok || step != step2+1 {
		t.Fatalf("next code: %d, %v", step, ok)
	}
}

func TestFindHOTPPair(t *testing.T) {
	hotp := func(c uint64) string { return otp.HOTP(seed20, c, otp.SHA1, 6) }
	tests := []struct {
		name         string
		code1, code2 string
		from         uint64
		lookAhead    int
		want         bool
		wantCounter2 uint64
	}{
		{name: "pair at from", code1: hotp(10), code2: hotp(11), from: 10, lookAhead: 5, want: true, wantCounter2: 11},
		{name: "pair inside", code1: hotp(12), code2: hotp(13), from: 10, lookAhead: 5, want: true, wantCounter2: 13},
		{name: "pair at the edge", code1: hotp(15), code2: hotp(16), from: 10, lookAhead: 5, want: true, wantCounter2: 16},
		{name: "pair past the edge", code1: hotp(16), code2: hotp(17), from: 10, lookAhead: 5},
		{name: "pair before from", code1: hotp(9), code2: hotp(10), from: 10, lookAhead: 5},
		{name: "swapped order", code1: hotp(12), code2: hotp(11), from: 10, lookAhead: 5},
		{name: "not consecutive", code1: hotp(11), code2: hotp(13), from: 10, lookAhead: 5},
		{name: "RFC rows 3 and 4", code1: "969429", code2: "338314", from: 0, lookAhead: 9, want: true, wantCounter2: 4},
		{name: "malformed", code1: "96942", code2: "338314", from: 0, lookAhead: 9},
		{name: "no pair past the largest counter", code1: hotp(math.MaxUint64), code2: hotp(0), from: math.MaxUint64 - 1, lookAhead: 5},
		{name: "negative look-ahead", code1: hotp(10), code2: hotp(11), from: 10, lookAhead: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c2, ok := otp.FindHOTPPair(seed20, otp.DefaultParams, tt.code1, tt.code2, tt.from, tt.lookAhead)
			if ok != tt.want {
				t.Fatalf("ok = %v, want %v", ok, tt.want)
			}
			if ok && c2 != tt.wantCounter2 {
				t.Fatalf("counter2 = %d, want %d", c2, tt.wantCounter2)
			}
		})
	}
}
