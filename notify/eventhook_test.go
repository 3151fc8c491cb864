package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/notify"
)

// verified is the receiver's check exactly as docs/API.md shows it
// ("Security webhooks").
func verified(r *http.Request, secret []byte) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, false
	}
	ts := r.Header.Get("X-Custos-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return nil, false // no timestamp, or a replay
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	return body, hmac.Equal([]byte(want), []byte(r.Header.Get("X-Custos-Signature")))
}

// fixedClock stands at one instant.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestEventPosterSignsAsDocumented: the documented receiver accepts what
// the poster sends (with the event id headers), refuses it under another
// secret, and refuses a request signed long ago (a replay).
func TestEventPosterSignsAsDocumented(t *testing.T) {
	secret := []byte("receiver secret, thirty-two byte")
	body := []byte(`{"id":"evt_1","kind":"lock"}`)
	tests := []struct {
		name      string
		clock     fixedClock
		receiver  []byte // the secret the receiver checks with
		wantValid bool
	}{
		{name: "signed now", clock: fixedClock(time.Now()), receiver: secret, wantValid: true},
		{name: "another secret", clock: fixedClock(time.Now()), receiver: []byte("another secret, thirty-two bytes"), wantValid: false},
		{name: "signed an hour ago", clock: fixedClock(time.Now().Add(-time.Hour)), receiver: secret, wantValid: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			var valid bool
			var head http.Header
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, valid = verified(r, tc.receiver)
				head = r.Header.Clone()
				if !valid {
					w.WriteHeader(http.StatusUnauthorized)
				}
			}))
			defer srv.Close()
			status, err := notify.NewEventPoster(nil, tc.clock).Post(t.Context(), srv.URL, secret, "evt_1", "lock", body)
			if valid != tc.wantValid {
				t.Fatalf("the documented check said %v, want %v", valid, tc.wantValid)
			}
			if tc.wantValid {
				if err != nil || status != 200 || string(got) != string(body) {
					t.Errorf("Post = %d, %v; the receiver read %q", status, err, got)
				}
				if head.Get("X-Custos-Event-Id") != "evt_1" || head.Get("Idempotency-Key") != "evt_1" || head.Get("X-Custos-Event-Kind") != "lock" {
					t.Errorf("headers %v", head)
				}
				return
			}
			if err == nil || status != http.StatusUnauthorized {
				t.Errorf("Post = %d, %v; want the 401 as an error", status, err)
			}
		})
	}
}

// TestEventPosterFailures: a redirect is not followed, an unreachable
// receiver answers 0, and no error repeats the URL's path or query.
func TestEventPosterFailures(t *testing.T) {
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	p := notify.NewEventPoster(nil, nil)
	secret := []byte("0123456789abcdef")
	status, err := p.Post(t.Context(), redirect.URL+"/in?token=tk-secret", secret, "evt_1", "lock", []byte("{}"))
	if status != http.StatusTemporaryRedirect || err == nil || followed {
		t.Errorf("redirect: %d, %v, followed %v; want 307 as an error, not followed", status, err, followed)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/in?token=tk-secret"
	dead.Close()
	status, err = p.Post(t.Context(), url, secret, "evt_1", "lock", []byte("{}"))
	if status != 0 || err == nil {
		t.Errorf("unreachable: %d, %v; want 0 and an error", status, err)
	}
	if err != nil && (strings.Contains(err.Error(), "tk-secret") || strings.Contains(err.Error(), "/in")) {
		t.Errorf("the error repeats the URL: %v", err)
	}
	if _, err := p.Post(t.Context(), redirect.URL, nil, "evt_1", "lock", []byte("{}")); err == nil {
		t.Error("Post without a secret succeeded")
	}
}

func TestCheckEventURL(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		allowHTTP bool
		wantErr   string
	}{
		{name: "https", url: "https://hooks.example.com/in?token=x"},
		{name: "http loopback", url: "http://127.0.0.1:9000/in"},
		{name: "http localhost", url: "http://localhost/in"},
		{name: "http ::1", url: "http://[::1]:8080/in"},
		{name: "http elsewhere", url: "http://hooks.example.com/in", wantErr: "--allow-http"},
		{name: "http elsewhere allowed", url: "http://hooks.example.com/in", allowHTTP: true},
		{name: "ftp", url: "ftp://hooks.example.com/in", allowHTTP: true, wantErr: "https://"},
		{name: "no host", url: "https:///in", wantErr: "no host"},
		{name: "opaque", url: "https:hooks.example.com", wantErr: "no host"},
		{name: "fragment", url: "https://hooks.example.com/in#x", wantErr: "fragment"},
		{name: "malformed", url: "https://hooks.example.com/%zz", wantErr: "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := notify.CheckEventURL(tc.url, tc.allowHTTP)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("CheckEventURL(%q) = %v, want nil", tc.url, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("CheckEventURL(%q) = %v, want an error saying %q", tc.url, err, tc.wantErr)
			}
		})
	}
}
