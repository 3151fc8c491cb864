package api_test

import (
	"encoding/hex"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
)

// TestNewDeviceProtection: the switch reads false until set; setting it
// needs "confirm it's you" and a body that says true or false; once on, a
// sign-in from a new device (here the API client, after the holder's
// browser) must pass the second step, and the holder was told about it.
func TestNewDeviceProtection(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "nadia@example.com"
		env.SignUp(t, email, goodPassword)
		// The first sign-in, from a browser (the web form, with its
		// browser cookie).
		jar := newJar(t)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.PostForm(env.URL+"/login", url.Values{"email": {email}, "password": {goodPassword}})
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("web login: %v %v", resp, err)
		}
		resp.Body.Close()

		tok := env.Login(t, email, goodPassword) // a new device: told, no step yet
		if r := env.Do(t, "GET", "/api/v1/account/new-device-protection", tok, nil); r.Status != 200 || r.Body["require_second_step"] != false {
			t.Fatalf("GET: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "PUT", "/api/v1/account/new-device-protection", tok, map[string]any{"require_second_step": true}); r.Status != 403 || r.ErrorCode() != "verification_required" {
			t.Fatalf("PUT without confirming: %d %s", r.Status, r.Raw)
		}
		verifyBy(t, env, tok, "email", email)
		for _, bad := range []any{map[string]any{}, map[string]any{"require_second_step": "yes"}, `{"require_second_step": true, "x": 1}`} {
			if r := env.Do(t, "PUT", "/api/v1/account/new-device-protection", tok, bad); r.Status != 400 {
				t.Errorf("PUT %v: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := env.Do(t, "PUT", "/api/v1/account/new-device-protection", tok, map[string]any{"require_second_step": true}); r.Status != 200 || r.Body["require_second_step"] != true {
			t.Fatalf("PUT: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "GET", "/api/v1/account/new-device-protection", tok, nil); r.Body["require_second_step"] != true {
			t.Fatalf("GET after PUT: %s", r.Raw)
		}
		// The API client is known now; a new browser is not.
		if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": email, "password": goodPassword}); r.Status != 200 || r.String("session_token") == "" {
			t.Fatalf("login from the known API client: %d %s", r.Status, r.Raw)
		}
		c2 := &http.Client{Jar: newJar(t), CheckRedirect: c.CheckRedirect}
		resp, err = c2.PostForm(env.URL+"/login", url.Values{"email": {email}, "password": {goodPassword}})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("web login from a new browser: %v %v", resp, err)
		}
		resp.Body.Close()
		notices := 0
		for _, m := range env.Messages(t, email) {
			if m.Purpose == "new_device_login" {
				notices++
				if strings.Contains(m.Text, goodPassword) {
					t.Error("the notice carries the password")
				}
			}
		}
		if notices != 2 {
			t.Errorf("%d new-device notices, want 2 (the API client, the new browser)", notices)
		}
	})
}

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// TestKnownDeviceRefreshedDaily: a sign-in from a device seen within the
// day writes nothing about it (its last sighting stays where it was); the
// first one a day later moves the sighting on.
func TestKnownDeviceRefreshedDaily(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "daily@example.com"
		env.SignUp(t, email, goodPassword)
		tok := env.Login(t, email, goodPassword) // the API client from 127.0.0.1
		seen := env.Clock.Now()
		acct := env.Do(t, "GET", "/api/v1/session", tok, nil).String("account_id")
		key := hex.EncodeToString(env.Keys.MAC("known-device", []byte("\x00127.0.0.0/24")))
		known := func(since time.Time) bool {
			t.Helper()
			k, _, err := env.App.Store.KnownDevice(t.Context(), acct, key, since)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		if !known(seen.Add(-time.Millisecond)) {
			t.Fatal("the first sign-in's device is not known")
		}
		env.Clock.Advance(2 * time.Hour)
		env.Login(t, email, goodPassword)
		if known(seen.Add(time.Millisecond)) {
			t.Error("a sign-in two hours after the last moved its sighting on: a write per sign-in")
		}
		env.Clock.Advance(23 * time.Hour)
		env.Login(t, email, goodPassword)
		if !known(seen.Add(24 * time.Hour)) {
			t.Error("a sign-in 25 hours after the last did not move its sighting on")
		}
	})
}
