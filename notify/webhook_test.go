package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/notify"
	"github.com/google/go-cmp/cmp"
)

var testSecret = []byte("webhook-secret-0123456789")

// gatewayToken stands for a credential in the webhook URL; it must never
// show in an error.
const gatewayToken = "gw-token-5f3a9c"

// gateway is a fake SMS gateway. It checks every request's signature and
// answers with the next of its statuses (the last one repeats).
type gateway struct {
	statuses []int
	// hang makes the first n attempts wait for the client to give up.
	hang int
	// hangup makes the first n attempts close the connection unanswered.
	hangup int
	// echo puts the request body into error answers, as a careless
	// gateway might.
	echo bool

	mu       sync.Mutex
	requests []gatewayRequest
}

type gatewayRequest struct {
	method, path, query string
	header              http.Header
	body                []byte
	signed              bool // Verify accepted the signature
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := gatewayRequest{
		method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: body,
		signed: notify.Verify(testSecret, r.Header.Get(notify.HeaderTimestamp), body, r.Header.Get(notify.HeaderSignature)),
	}
	g.mu.Lock()
	g.requests = append(g.requests, req)
	n := len(g.requests)
	status := http.StatusOK
	if len(g.statuses) > 0 {
		status = g.statuses[min(n, len(g.statuses))-1]
	}
	g.mu.Unlock()

	switch {
	case n <= g.hang:
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		// Answer nothing: an implicit 200 could still reach a client
		// whose deadline passed as the connection closed.
		panic(http.ErrAbortHandler)
	case n <= g.hang+g.hangup:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case !req.signed:
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if status == http.StatusFound {
		w.Header().Set("Location", "/elsewhere")
	}
	w.WriteHeader(status)
	if status >= 300 && g.echo {
		w.Write(body)
	}
}

func (g *gateway) got() []gatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayRequest(nil), g.requests...)
}

// startGateway serves g over HTTPS on a loopback port and returns a
// Webhook for it that retries quickly and trusts the test certificate.
func startGateway(t *testing.T, g *gateway) (*notify.Webhook, *httptest.Server) {
	t.Helper()
	srv := httptest.NewTLSServer(g)
	t.Cleanup(srv.Close)
	w, err := notify.NewWebhook(srv.URL+"/v1/sms?token="+gatewayToken, testSecret, srv.Client())
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	w.SetRetry(3, time.Millisecond)
	w.SetTimeout(5 * time.Second)
	return w, srv
}

// smsNotifier returns a Notifier whose SMS transport is w.
func smsNotifier(t *testing.T, w notify.Transport, clock custos.Clock) *notify.Notifier {
	t.Helper()
	cfg := testConfig(clock)
	cfg.SMS = w
	n, err := notify.New(&recorder{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var phoneCode = custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneCode, Code: "902718"}

func TestWebhookDelivers(t *testing.T) {
	g := &gateway{}
	w, _ := startGateway(t, g)
	clock := newFakeClock()
	w.SetClock(clock)
	if err := smsNotifier(t, w, clock).Send(t.Context(), phoneCode); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := g.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if !r.signed {
		t.Error("Verify rejected the signature")
	}
	if r.method != http.MethodPost || r.path != "/v1/sms" || r.query != "token="+gatewayToken {
		t.Errorf("request %s %s?%s", r.method, r.path, r.query)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	ts := r.header.Get(notify.HeaderTimestamp)
	if want := strconv.FormatInt(clock.Now().Unix(), 10); ts != want {
		t.Errorf("timestamp %q, want %q", ts, want)
	}
	if want := notify.Sign(testSecret, ts, r.body); r.header.Get(notify.HeaderSignature) != want {
		t.Errorf("signature %q, want %q", r.header.Get(notify.HeaderSignature), want)
	}
	if notify.Verify([]byte("another-secret-0123456789"), ts, r.body, r.header.Get(notify.HeaderSignature)) {
		t.Error("the signature verifies with another secret")
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	want := map[string]any{
		"to":      "+8613800138000",
		"text":    "Your Custos code to confirm this phone number is 902718. It expires in 10 minutes. Do not share it.",
		"purpose": "phone_code",
		"sent_at": "2026-11-27T00:01:02.123Z",
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name         string
		gw           *gateway
		wantAttempts int
		wantErr      string // empty: delivered
	}{
		{name: "200", gw: &gateway{statuses: []int{200}}, wantAttempts: 1},
		{name: "202", gw: &gateway{statuses: []int{202}}, wantAttempts: 1},
		{name: "500 then 200", gw: &gateway{statuses: []int{500, 200}}, wantAttempts: 2},
		{name: "429 then 503 then 204", gw: &gateway{statuses: []int{429, 503, 204}}, wantAttempts: 3},
		{name: "hang-up then 200", gw: &gateway{hangup: 1}, wantAttempts: 2},
		{name: "400 is not retried", gw: &gateway{statuses: []int{400, 200}, echo: true}, wantAttempts: 1,
			wantErr: "gateway answered 400 Bad Request"},
		{name: "404 is not retried", gw: &gateway{statuses: []int{404, 200}}, wantAttempts: 1,
			wantErr: "gateway answered 404 Not Found"},
		{name: "redirect is not followed", gw: &gateway{statuses: []int{302, 200}}, wantAttempts: 1,
			wantErr: "gateway answered 302 Found"},
		{name: "500 three times", gw: &gateway{statuses: []int{500}, echo: true}, wantAttempts: 3,
			wantErr: "gateway answered 500 Internal Server Error (gave up after 3 tries)"},
		{name: "hang-up three times", gw: &gateway{hangup: 3}, wantAttempts: 3, wantErr: "gave up after 3 tries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			defer slog.SetDefault(slog.Default())
			slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

			g := tt.gw
			w, srv := startGateway(t, g)
			err := smsNotifier(t, w, newFakeClock()).Send(t.Context(), phoneCode)
			if got := len(g.got()); got != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tt.wantAttempts)
			}
			for i, r := range g.got() {
				if !r.signed {
					t.Errorf("attempt %d: bad signature", i+1)
				}
				if i > 0 && !bytes.Equal(r.body, g.got()[0].body) {
					t.Errorf("attempt %d: body %s differs from the first %s", i+1, r.body, g.got()[0].body)
				}
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			var ce *custos.Error
			if !errors.As(err, &ce) || ce.Code != custos.EUnavailable {
				t.Fatalf("Send = %v, want a *custos.Error with code %s", err, custos.EUnavailable)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			assertNoSecrets(t, "error", err.Error())
			assertNoSecrets(t, "log", logs.String())
			if !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q does not name the gateway %s", err, srv.URL)
			}
		})
	}
}

// assertNoSecrets fails when s holds the code, the text or the URL's token.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{phoneCode.Code, "confirm this phone", gatewayToken, "/v1/sms"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s %q contains %q", what, s, secret)
		}
	}
}

func TestWebhookTimeout(t *testing.T) {
	g := &gateway{hang: 2}
	w, _ := startGateway(t, g)
	w.SetTimeout(250 * time.Millisecond)
	start := time.Now()
	err := w.Deliver(t.Context(), notify.Rendered{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneCode,
		Code: "902718", Text: "code 902718", SentAt: newFakeClock().Now()})
	if err != nil {
		t.Fatalf("Deliver after two timeouts: %v", err)
	}
	if got := len(g.got()); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("took %v", elapsed)
	}

	g = &gateway{hang: 3}
	w, _ = startGateway(t, g)
	w.SetTimeout(250 * time.Millisecond)
	err = smsNotifier(t, w, newFakeClock()).Send(t.Context(), phoneCode)
	if !custos.IsCode(err, custos.EUnavailable) {
		t.Fatalf("Send = %v, want %s", err, custos.EUnavailable)
	}
	if !strings.Contains(err.Error(), "no answer within 250ms (gave up after 3 tries)") {
		t.Errorf("error %q does not say it timed out", err)
	}
	assertNoSecrets(t, "error", err.Error())
}

func TestWebhookStopsWhenContextEnds(t *testing.T) {
	g := &gateway{statuses: []int{503}}
	w, _ := startGateway(t, g)
	w.SetRetry(3, time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	err := smsNotifier(t, w, newFakeClock()).Send(ctx, phoneCode)
	if !custos.IsCode(err, custos.EUnavailable) {
		t.Fatalf("Send = %v, want %s", err, custos.EUnavailable)
	}
	if !strings.Contains(err.Error(), "stopped after 1 of 3 tries") {
		t.Errorf("error %q", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("waited %v for a cancelled context", elapsed)
	}
	if got := len(g.got()); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
}

func TestWebhookOverPlainHTTPOnLoopback(t *testing.T) {
	g := &gateway{}
	srv := httptest.NewServer(g) // http://127.0.0.1:port
	defer srv.Close()
	w, err := notify.NewWebhook(srv.URL+"/sms", testSecret, nil)
	if err != nil {
		t.Fatalf("NewWebhook(%s): %v", srv.URL, err)
	}
	if err := smsNotifier(t, w, newFakeClock()).Send(t.Context(), phoneCode); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if reqs := g.got(); len(reqs) != 1 || !reqs[0].signed {
		t.Errorf("requests %+v", reqs)
	}
}

func TestWebhookRefusesEmail(t *testing.T) {
	g := &gateway{}
	w, _ := startGateway(t, g)
	err := w.Deliver(t.Context(), notify.Rendered{Channel: custos.ChannelEmail, To: "alice@example.com", Text: "hi"})
	if err == nil || !strings.Contains(err.Error(), `"email"`) {
		t.Errorf("Deliver email = %v, want a refusal", err)
	}
	if len(g.got()) != 0 {
		t.Error("the email was posted")
	}
}

func TestWebhookConcurrentDeliveries(t *testing.T) {
	g := &gateway{statuses: []int{500, 200}}
	w, _ := startGateway(t, g)
	n := smsNotifier(t, w, newFakeClock())
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := n.Send(t.Context(), phoneCode); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(g.got()); got != 21 {
		t.Errorf("%d requests, want 21 (one retried)", got)
	}
}

func TestNewWebhook(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		secret  []byte
		wantStr string // String(); empty means an error
		wantErr string
	}{
		{name: "https", url: "https://sms.example.com/v1/send?token=" + gatewayToken, wantStr: "https://sms.example.com"},
		{name: "https with port and user info", url: "https://user:" + gatewayToken + "@sms.example.com:8443/send",
			wantStr: "https://sms.example.com:8443"},
		{name: "upper-case scheme", url: "HTTPS://sms.example.com/send", wantStr: "https://sms.example.com"},
		{name: "http on 127.0.0.1", url: "http://127.0.0.1:9000/sms", wantStr: "http://127.0.0.1:9000"},
		{name: "http on 127.8.9.10", url: "http://127.8.9.10/sms", wantStr: "http://127.8.9.10"},
		{name: "http on localhost", url: "http://localhost:9000/sms", wantStr: "http://localhost:9000"},
		{name: "http on ::1", url: "http://[::1]:9000/sms", wantStr: "http://[::1]:9000"},

		{name: "http on a remote host", url: "http://sms.example.com/send?token=" + gatewayToken, wantErr: "loopback"},
		{name: "http on a private address", url: "http://10.0.0.7/send", wantErr: "loopback"},
		{name: "http on a name starting with localhost", url: "http://localhost.example.com/send", wantErr: "loopback"},
		{name: "ftp", url: "ftp://sms.example.com/" + gatewayToken, wantErr: "https://"},
		{name: "no host", url: "https:///send?token=" + gatewayToken, wantErr: "no host"},
		{name: "opaque", url: "https:" + gatewayToken, wantErr: "no host"},
		{name: "fragment", url: "https://sms.example.com/send#" + gatewayToken, wantErr: "fragment"},
		{name: "malformed", url: "https://sms.example.com/%zz" + gatewayToken, wantErr: "malformed"},
		{name: "control character", url: "https://sms.example.com/\n" + gatewayToken, wantErr: "malformed"},
		{name: "short secret", url: "https://sms.example.com/send", secret: []byte("short"), wantErr: "at least 16 bytes"},
		{name: "no secret", url: "https://sms.example.com/send", secret: []byte{}, wantErr: "at least 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := tt.secret
			if secret == nil {
				secret = testSecret
			}
			w, err := notify.NewWebhook(tt.url, secret, nil)
			if tt.wantStr != "" {
				if err != nil {
					t.Fatalf("NewWebhook: %v", err)
				}
				if got := w.String(); got != tt.wantStr {
					t.Errorf("String() = %q, want %q", got, tt.wantStr)
				}
				return
			}
			if err == nil {
				t.Fatalf("NewWebhook(%q) succeeded, want an error", tt.url)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), gatewayToken) {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}
}

func TestSignAndVerify(t *testing.T) {
	secret := []byte("0123456789abcdef")
	const ts = "1700000000"
	body := []byte(`{"a":1}`)
	// HMAC-SHA256("0123456789abcdef", `1700000000.{"a":1}`), from Python's hmac.
	const want = "sha256=9eb18f493f8ec135d9eb2dad817c369bb4e9cbfa818657897a7437c1cd8c3a23"
	if got := notify.Sign(secret, ts, body); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	tests := []struct {
		name      string
		secret    []byte
		timestamp string
		body      []byte
		signature string
		want      bool
	}{
		{name: "valid", secret: secret, timestamp: ts, body: body, signature: want, want: true},
		{name: "upper-case hex", secret: secret, timestamp: ts, body: body, signature: "sha256=" + strings.ToUpper(want[7:]), want: true},
		{name: "other secret", secret: []byte("fedcba9876543210"), timestamp: ts, body: body, signature: want},
		{name: "empty secret", secret: nil, timestamp: ts, body: body, signature: notify.Sign(nil, ts, body)},
		{name: "other body", secret: secret, timestamp: ts, body: []byte(`{"a":2}`), signature: want},
		{name: "other timestamp", secret: secret, timestamp: "1700000001", body: body, signature: want},
		{name: "timestamp moved into the body", secret: secret, timestamp: "170000000", body: []byte(`0.{"a":1}`), signature: want},
		{name: "no prefix", secret: secret, timestamp: ts, body: body, signature: want[7:]},
		{name: "other algorithm", secret: secret, timestamp: ts, body: body, signature: "sha1=" + want[7:]},
		{name: "not hex", secret: secret, timestamp: ts, body: body, signature: "sha256=zz"},
		{name: "truncated", secret: secret, timestamp: ts, body: body, signature: want[:len(want)-2]},
		{name: "empty", secret: secret, timestamp: ts, body: body, signature: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.Verify(tt.secret, tt.timestamp, tt.body, tt.signature); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func ExampleVerify() {
	secret := []byte("0123456789abcdef")
	body := []byte(`{"to":"+8613800138000","text":"…","purpose":"phone_code","sent_at":"2026-11-27T00:01:02.123Z"}`)
	sig := notify.Sign(secret, "1795737662", body) // what Custos sends in X-Custos-Signature
	fmt.Println(notify.Verify(secret, "1795737662", body, sig))
	fmt.Println(notify.Verify(secret, "1795737663", body, sig))
	// Output:
	// true
	// false
}
