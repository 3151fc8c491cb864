package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wrkResult is what runWrk reads from wrk's report.
type wrkResult struct {
	rate     float64 // Requests/sec
	p99ms    float64 // the 99% line of the latency distribution
	requests int64   // requests completed
}

// haveWrk reports whether wrk is on PATH, returning its path.
func haveWrk() (string, bool) {
	path, err := exec.LookPath("wrk")
	return path, err == nil
}

// runWrk sends GET url with the given headers from conns connections
// (on at most 2 threads) for d, rounded up to whole seconds as wrk takes
// them, and reads the rate and the 99th percentile from its report. Any
// non-2xx/3xx answer or socket error (connect, read, write, timeout) is an
// error: a run that measured refusals measured nothing.
func runWrk(ctx context.Context, wrk, url string, headers []string, conns int, d time.Duration) (wrkResult, error) {
	secs := int64((d + time.Second - 1) / time.Second)
	threads := min(2, max(conns, 1))
	args := []string{
		"--threads", strconv.Itoa(threads),
		"--connections", strconv.Itoa(max(conns, 1)),
		"--duration", strconv.FormatInt(max(secs, 1), 10) + "s",
		"--timeout", "10s",
		"--latency",
	}
	for _, h := range headers {
		args = append(args, "--header", h)
	}
	args = append(args, url)
	cmd := exec.CommandContext(ctx, wrk, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, stderr.Bytes())
	}
	return parseWrk(out)
}

// parseWrk reads wrk 4's --latency report: the "99%" line of the latency
// distribution, "N requests in …", "Requests/sec:", and the lines that
// say something went wrong ("Non-2xx or 3xx responses:", "Socket
// errors:"), which make it an error.
func parseWrk(out []byte) (wrkResult, error) {
	var res wrkResult
	var haveRate, haveP99, haveCount bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
		case f[0] == "Non-2xx":
			return res, fmt.Errorf("wrk: %s\n%s", strings.TrimSpace(sc.Text()), out)
		case f[0] == "Socket" && len(f) > 1 && f[1] == "errors:":
			return res, fmt.Errorf("wrk: %s\n%s", strings.TrimSpace(sc.Text()), out)
		case f[0] == "99%" && len(f) == 2:
			ms, err := wrkMillis(f[1])
			if err != nil {
				return res, fmt.Errorf("wrk: 99%% latency: %v\n%s", err, out)
			}
			res.p99ms, haveP99 = ms, true
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return res, fmt.Errorf("wrk: request count: %v\n%s", err, out)
			}
			res.requests, haveCount = n, true
		case f[0] == "Requests/sec:" && len(f) == 2:
			r, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return res, fmt.Errorf("wrk: rate: %v\n%s", err, out)
			}
			res.rate, haveRate = r, true
		}
	}
	if !haveRate || !haveP99 || !haveCount {
		return res, fmt.Errorf("wrk: report without a rate, a 99%% line or a request count (was --latency given?):\n%s", out)
	}
	return res, nil
}

// wrkMillis reads one of wrk's latencies ("812.00us", "4.51ms", "1.02s",
// "2.00m") in milliseconds.
func wrkMillis(s string) (float64, error) {
	units := []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, err
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("unknown unit in %q", s)
}

// wrkReport is wrk 4.1's --latency report, as it prints it.
const wrkReport = `Running 2s test @ http://127.0.0.1:40123/api/v1/session
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms    1.64ms  31.22ms   87.70%
    Req/Sec     6.31k   412.18     7.01k    72.50%
  Latency Distribution
     50%    2.21ms
     75%    3.02ms
     90%    4.29ms
     99%    9.71ms
  25123 requests in 2.00s, 17.63MB read
Requests/sec:  12548.37
Transfer/sec:      8.81MB
`

func TestParseWrk(t *testing.T) {
	res, err := parseWrk([]byte(wrkReport))
	if err != nil {
		t.Fatal(err)
	}
	if want := (wrkResult{rate: 12548.37, p99ms: 9.71, requests: 25123}); res != want {
		t.Errorf("parseWrk = %+v, want %+v", res, want)
	}
	for _, bad := range []struct{ name, insert string }{
		{"non-2xx", "  Non-2xx or 3xx responses: 3\n"},
		{"socket errors", "  Socket errors: connect 0, read 2, write 0, timeout 0\n"},
	} {
		report := strings.Replace(wrkReport, "Requests/sec:", bad.insert+"Requests/sec:", 1)
		if _, err := parseWrk([]byte(report)); err == nil {
			t.Errorf("%s: parseWrk accepted a report with %q", bad.name, bad.insert)
		}
	}
	if _, err := parseWrk([]byte(strings.Replace(wrkReport, "     99%    9.71ms\n", "", 1))); err == nil {
		t.Error("parseWrk accepted a report without its 99% line")
	}
}

func TestWrkMillis(t *testing.T) {
	for in, want := range map[string]float64{"812.00us": 0.812, "4.51ms": 4.51, "1.02s": 1020, "2.00m": 120000} {
		got, err := wrkMillis(in)
		if err != nil || got < want*0.999999 || got > want*1.000001 {
			t.Errorf("wrkMillis(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := wrkMillis("3.0xs"); err == nil {
		t.Error(`wrkMillis("3.0xs") did not fail`)
	}
}
