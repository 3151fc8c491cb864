package otp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/otp"
)

// The RFC seeds (shared/testdata/vectors.md): each RFC 6238 mode has its
// own, per RFC errata 2866.
var (
	seed20 = []byte("12345678901234567890")
	seed32 = []byte("12345678901234567890123456789012")
	seed64 = []byte(strings.Repeat("1234567890", 6) + "1234")
)

func TestHOTPRFC4226(t *testing.T) {
	tests := []struct {
		name    string
		counter uint64
		want    string
	}{
		{name: "count 0", counter: 0, want: "755224"},
		{name: "count 1", counter: 1, want: "287082"},
		{name: "count 2", counter: 2, want: "359152"},
		{name: "count 3", counter: 3, want: "969429"},
		{name: "count 4", counter: 4, want: "338314"},
		{name: "count 5", counter: 5, want: "254676"},
		{name: "count 6", counter: 6, want: "287922"},
		{name: "count 7", counter: 7, want: "162583"},
		{name: "count 8", counter: 8, want: "399871"},
		{name: "count 9", counter: 9, want: "520489"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := otp.HOTP(seed20, tt.counter, otp.SHA1, 6); got != tt.want {
				t.Fatalf("HOTP(%d) = %q, want %q", tt.counter, got, tt.want)
			}
		})
	}
}

func TestTOTPRFC6238(t *testing.T) {
	tests := []struct {
		name     string
		unix     int64
		alg      otp.Algorithm
		wantStep int64
		want     string
	}{
		{name: "59 SHA1", unix: 59, alg: otp.SHA1, wantStep: 0x1, want: "94287082"},
		{name: "59 SHA256", unix: 59, alg: otp.SHA256, wantStep: 0x1, want: "46119246"},
		{name: "59 SHA512", unix: 59, alg: otp.SHA512, wantStep: 0x1, want: "90693936"},
		{name: "1111111109 SHA1", unix: 1111111109, alg: otp.SHA1, wantStep: 0x23523EC, want: "07081804"},
		{name: "1111111109 SHA256", unix: 1111111109, alg: otp.SHA256, wantStep: 0x23523EC, want: "68084774"},
		{name: "1111111109 SHA512", unix: 1111111109, alg: otp.SHA512, wantStep: 0x23523EC, want: "25091201"},
		{name: "1111111111 SHA1", unix: 1111111111, alg: otp.SHA1, wantStep: 0x23523ED, want: "14050471"},
		{name: "1111111111 SHA256", unix: 1111111111, alg: otp.SHA256, wantStep: 0x23523ED, want: "67062674"},
		{name: "1111111111 SHA512", unix: 1111111111, alg: otp.SHA512, wantStep: 0x23523ED, want: "99943326"},
		{name: "1234567890 SHA1", unix: 1234567890, alg: otp.SHA1, wantStep: 0x273EF07, want: "89005924"},
		{name: "1234567890 SHA256", unix: 1234567890, alg: otp.SHA256, wantStep: 0x273EF07, want: "91819424"},
		{name: "1234567890 SHA512", unix: 1234567890, alg: otp.SHA512, wantStep: 0x273EF07, want: "93441116"},
		{name: "2000000000 SHA1", unix: 2000000000, alg: otp.SHA1, wantStep: 0x3F940AA, want: "69279037"},
		{name: "2000000000 SHA256", unix: 2000000000, alg: otp.SHA256, wantStep: 0x3F940AA, want: "90698825"},
		{name: "2000000000 SHA512", unix: 2000000000, alg: otp.SHA512, wantStep: 0x3F940AA, want: "38618901"},
		{name: "20000000000 SHA1", unix: 20000000000, alg: otp.SHA1, wantStep: 0x27BC86AA, want: "65353130"},
		{name: "20000000000 SHA256", unix: 20000000000, alg: otp.SHA256, wantStep: 0x27BC86AA, want: "77737706"},
		{name: "20000000000 SHA512", unix: 20000000000, alg: otp.SHA512, wantStep: 0x27BC86AA, want: "47863826"},
	}
	seeds := map[otp.Algorithm][]byte{otp.SHA1: seed20, otp.SHA256: seed32, otp.SHA512: seed64}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := time.Unix(tt.unix, 0).UTC()
			p := otp.Params{Algorithm: tt.alg, Digits: 8, Period: 30 * time.Second}
			if got := otp.Step(at, p.Period); got != tt.wantStep {
				t.Fatalf("Step = %#x, want %#x", got, tt.wantStep)
			}
			if got := otp.TOTP(seeds[tt.alg], at, p); got != tt.want {
				t.Fatalf("TOTP = %q, want %q", got, tt.want)
			}
			// Six digits are the last six of eight (vectors.md notes).
			p.Digits = 6
			if got := otp.TOTP(seeds[tt.alg], at, p); got != tt.want[2:] {
				t.Fatalf("6-digit TOTP = %q, want %q", got, tt.want[2:])
			}
		})
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Time
		period time.Duration
		want   int64
	}{
		{name: "epoch", at: time.Unix(0, 0), period: 30 * time.Second, want: 0},
		{name: "last second of step 0", at: time.Unix(29, 999999999), period: 30 * time.Second, want: 0},
		{name: "first second of step 1", at: time.Unix(30, 0), period: 30 * time.Second, want: 1},
		{name: "60 s period", at: time.Unix(1234567890, 0), period: time.Minute, want: 20576131},
		{name: "before 1970 rounds down", at: time.Unix(-1, 0), period: 30 * time.Second, want: -1},
		{name: "time zone does not matter", at: time.Date(2026, 11, 27, 17, 0, 0, 0, time.FixedZone("CST", 8*3600)), period: 30 * time.Second, want: 1795770000 / 30},
		{name: "sub-second period gives 0", at: time.Unix(100, 0), period: time.Millisecond, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := otp.Step(tt.at, tt.period); got != tt.want {
				t.Fatalf("Step = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestInvalidParamsGiveNoCode(t *testing.T) {
	tests := []struct {
		name   string
		params otp.Params
	}{
		{name: "unknown algorithm", params: otp.Params{Algorithm: "MD5", Digits: 6, Period: 30 * time.Second}},
		{name: "lower-case algorithm", params: otp.Params{Algorithm: "sha1", Digits: 6, Period: 30 * time.Second}},
		{name: "five digits", params: otp.Params{Algorithm: otp.SHA1, Digits: 5, Period: 30 * time.Second}},
		{name: "nine digits", params: otp.Params{Algorithm: otp.SHA1, Digits: 9, Period: 30 * time.Second}},
		{name: "zero period", params: otp.Params{Algorithm: otp.SHA1, Digits: 6}},
		{name: "period too short", params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 14 * time.Second}},
		{name: "period too long", params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 121 * time.Second}},
		{name: "fractional period", params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.params.Validate(); err == nil {
				t.Fatal("Validate accepted invalid params")
			}
			if got := otp.TOTP(seed20, time.Unix(59, 0), tt.params); got != "" {
				t.Fatalf("TOTP = %q, want empty", got)
			}
		})
	}
}

func TestValidParams(t *testing.T) {
	tests := []struct {
		name   string
		params otp.Params
	}{
		{name: "default", params: otp.DefaultParams},
		{name: "SHA256, 8 digits, 60 s", params: otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: time.Minute}},
		{name: "SHA512, 7 digits, 15 s", params: otp.Params{Algorithm: otp.SHA512, Digits: 7, Period: 15 * time.Second}},
		{name: "120 s", params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 120 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.params.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
	if d := otp.DefaultParams; d.Algorithm != otp.SHA1 || d.Digits != 6 || d.Period != 30*time.Second {
		t.Fatalf("DefaultParams = %+v", d)
	}
}
