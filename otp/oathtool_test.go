package otp_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/otp"
)

// oathtool returns the path of Debian's oathtool, an independent HOTP/TOTP
// implementation. Without it the test is skipped on a developer's machine
// but fails in CI (CI set), which installs it.
func oathtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("oathtool is missing in CI: %v", err)
		}
		t.Skip("oathtool not installed (apt-get install oathtool); CI runs this test")
	}
	return path
}

func TestAgainstOathtool(t *testing.T) {
	tool := oathtool(t)
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	const nowArg = "2026-11-27 09:00:00 UTC"
	counter := uint64(123456789)

	random := func(n int) []byte {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	s20, s32, s64 := random(20), random(32), random(64)

	tests := []struct {
		name string
		args []string
		ours string
	}{
		{
			name: "totp sha1 base32",
			args: []string{"--totp", "-b", "--now", nowArg, otp.EncodeSecret(s20)},
			ours: otp.TOTP(s20, at, otp.DefaultParams),
		},
		{
			name: "totp sha1 base32 grouped by us",
			args: []string{"--totp", "-b", "--now", nowArg, otp.GroupSecret(otp.EncodeSecret(s20))},
			ours: otp.TOTP(s20, at, otp.DefaultParams),
		},
		{
			name: "totp sha256 8 digits",
			args: []string{"--totp=sha256", "-d", "8", "--now", nowArg, hex.EncodeToString(s32)},
			ours: otp.TOTP(s32, at, otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: 30 * time.Second}),
		},
		{
			name: "totp sha512 8 digits 60 s",
			args: []string{"--totp=sha512", "-d", "8", "-s", "60s", "--now", nowArg, hex.EncodeToString(s64)},
			ours: otp.TOTP(s64, at, otp.Params{Algorithm: otp.SHA512, Digits: 8, Period: time.Minute}),
		},
		{
			name: "totp sha1 7 digits",
			args: []string{"--totp", "-d", "7", "--now", nowArg, hex.EncodeToString(s20)},
			ours: otp.TOTP(s20, at, otp.Params{Algorithm: otp.SHA1, Digits: 7, Period: 30 * time.Second}),
		},
		{
			name: "hotp 6 digits",
			args: []string{"--hotp", "-c", strconv.FormatUint(counter, 10), hex.EncodeToString(s20)},
			ours: otp.HOTP(s20, counter, otp.SHA1, 6),
		},
		{
			name: "hotp 8 digits counter 0",
			args: []string{"--hotp", "-d", "8", "-c", "0", hex.EncodeToString(s20)},
			ours: otp.HOTP(s20, 0, otp.SHA1, 8),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(tool, tt.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("oathtool %q: %v\n%s", tt.args, err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tt.ours {
				t.Fatalf("oathtool %q = %q, ours %q", tt.args, got, tt.ours)
			}
		})
	}

	// oathtool -w 1 prints the codes of steps T and T+1: a pair FindTOTPPair
	// must find with drift 1 and MatchTOTP must accept once.
	t.Run("consecutive pair", func(t *testing.T) {
		out, err := exec.Command(tool, "--totp", "-b", "-w", "1", "--now", nowArg, otp.EncodeSecret(s20)).CombinedOutput()
		if err != nil {
			t.Fatalf("oathtool: %v\n%s", err, out)
		}
		codes := strings.Fields(string(out))
		if len(codes) != 2 {
			t.Fatalf("oathtool printed %q", out)
		}
		step2, drift, ok := otp.FindTOTPPair(s20, otp.DefaultParams, codes[0], codes[1], at, 1)
		if !ok || drift != 1 || step2 != otp.Step(at, 30*time.Second)+1 {
			t.Fatalf("FindTOTPPair = %d, %d, %v", step2, drift, ok)
		}
		if _, ok := otp.MatchTOTP(s20, otp.DefaultParams, codes[0], at, 0, 1, 0); !ok {
			t.Fatal("MatchTOTP refused oathtool's current code")
		}
	})
}
