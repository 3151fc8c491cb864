package bench_test

import "testing"

// TestProcParsers: the CPU figures of BenchmarkLimits read /proc text
// right, including a command name with spaces and parentheses, and read
// zero from text that is not what they expect.
func TestProcParsers(t *testing.T) {
	stat := "cpu  100 20 30 4000 50 6 7 8 0 0\ncpu0 50 10 15 2000 25 3 4 4 0 0\n"
	// user 100 + nice 20 + system 30 + irq 6 + softirq 7 = 163 ticks;
	// idle, iowait and steal are not counted.
	if got, want := busyOf([]byte(stat)), 163*clockTick; got != want {
		t.Errorf("busyOf = %v, want %v", got, want)
	}
	if got := busyOf([]byte("intr 1 2 3\n")); got != 0 {
		t.Errorf("busyOf(no cpu line) = %v, want 0", got)
	}
	// utime 250 and stime 50 are fields 14 and 15 overall.
	proc := "4242 (post gres) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000 10\n"
	if got, want := processCPU([]byte(proc)), 300*clockTick; got != want {
		t.Errorf("processCPU = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "4242 no parentheses", "4242 (short) S 1 2"} {
		if got := processCPU([]byte(bad)); got != 0 {
			t.Errorf("processCPU(%q) = %v, want 0", bad, got)
		}
	}
}
