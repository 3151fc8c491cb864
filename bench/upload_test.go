package bench_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/custos/custos/identity"
	"github.com/custos/custos/internal/testserver"
)

// noisyPhoto is a JPEG of noise about size bytes long (noise compresses
// badly, so few pixels make a large file, as a phone photo is).
func noisyPhoto(tb testing.TB, size int) []byte {
	tb.Helper()
	rnd := rand.New(rand.NewPCG(3, 5))
	for side := 1600; ; side = side * 105 / 100 {
		m := image.NewYCbCr(image.Rect(0, 0, side, side*3/4), image.YCbCrSubsampleRatio420)
		for _, p := range [][]byte{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(rnd.IntN(256))
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
			tb.Fatal(err)
		}
		if buf.Len() >= size*9/10 {
			return buf.Bytes()
		}
	}
}

// peakRSS is the process's resident-set high-water mark (VmHWM), in
// bytes; resetPeakRSS sets it back to the current RSS (Linux).
func peakRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

func resetPeakRSS() bool { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil }

// BenchmarkTwentyConcurrentSubmissions sends 20 real-name submissions at
// once through the whole server (HTTP, the upload checks, sealing, the
// SQLite store), each with a ~10 MB photo and two small ones, and reports
// the peak resident memory of the process beyond where it stood, and
// that peak as a ratio of the bytes sent.
func BenchmarkTwentyConcurrentSubmissions(b *testing.B) {
	// One identity on every account: the cap is not what is measured.
	env := testserver.Start(b, testserver.Options{Identity: identity.Config{MaxPersonal: 1 << 30}})
	const n = 20
	photo := noisyPhoto(b, 9_500_000)
	small := testserver.PNG(b, 64, 48)
	data := map[string]string{"kind": "individual", "name": "Bench Mark", "document_type": "passport", "document_number": "E12345678"}
	body, ct := testserver.Multipart(b, data,
		testserver.Part{Name: "document_front", Type: "image/jpeg", Data: photo},
		testserver.Part{Name: "document_back", Data: small},
		testserver.Part{Name: "holding_document", Data: small})
	client := newClient(b, n)
	var peak, sent int64
	round := 0
	for b.Loop() {
		b.StopTimer()
		tokens := make([]string, n)
		for i := range tokens {
			_, tokens[i] = env.VerifiedHolder(b, fmt.Sprintf("up%d-%d@bench.example", round, i))
		}
		round++
		runtime.GC()
		before, ok := peakRSS()
		if !ok || !resetPeakRSS() {
			b.Skip("needs Linux /proc to read the peak RSS")
		}
		if before, ok = peakRSS(); !ok {
			b.Skip("no VmHWM")
		}
		b.StartTimer()
		var wg sync.WaitGroup
		for _, tok := range tokens {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", env.URL+"/api/v1/account/identity", bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("submission: %d %s", resp.StatusCode, raw)
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		after, _ := peakRSS()
		peak = max(peak, after-before)
		sent = int64(n * len(body))
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
	b.ReportMetric(float64(sent)/(1<<20), "sent-MB")
	b.ReportMetric(float64(peak)/float64(sent), "peak/sent")
}
