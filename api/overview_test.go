package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
	"github.com/google/go-cmp/cmp"
)

// scoreOf reads the overview's security score as name → fix ("" when on).
func scoreOf(t *testing.T, r testserver.Response) (on, total float64, items map[string]string) {
	t.Helper()
	score, _ := r.Body["security_score"].(map[string]any)
	on, _ = score["on"].(float64)
	total, _ = score["total"].(float64)
	items = map[string]string{}
	list, _ := score["items"].([]any)
	for _, x := range list {
		it := x.(map[string]any)
		fix, _ := it["fix"].(string)
		if it["on"] == true {
			fix = "on"
		}
		items[it["name"].(string)] = fix
	}
	return on, total, items
}

func TestOverview(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		id := env.SignUp(t, "ov@example.com", goodPassword)
		first := env.Login(t, "ov@example.com", goodPassword)
		r := env.Do(t, "GET", "/api/v1/account/overview", first, nil)
		if r.Status != http.StatusOK || r.String("account_id") != id || r.String("kind") != "personal" || r.String("time_zone") != "UTC" {
			t.Fatalf("overview: %d %s", r.Status, r.Raw)
		}
		if r.Body["last_sign_in"] != nil {
			t.Errorf("the first session sees a previous sign-in: %v", r.Body["last_sign_in"])
		}
		on, total, items := scoreOf(t, r)
		want := map[string]string{
			"login_protection": "/account/security#setting-login-protection", "mfa_device": "/account/security/totp",
			"secure_phone": "/account/phone", "secure_email": "/account/secure-email",
		}
		if on != 0 || total != 4 || !cmp.Equal(want, items) {
			t.Errorf("score %v of %v, items %v", on, total, items)
		}

		// A second sign-in sees the first as the previous one; a device
		// and login protection count.
		env.Clock.Advance(time.Minute)
		second := env.Login(t, "ov@example.com", goodPassword)
		secret := bindTOTP(t, env, second)
		verify(t, env, second, secret)
		if p := env.Do(t, "PUT", "/api/v1/account/protection", second, map[string]any{"login_protection": true, "operation_protection": false}); p.Status != http.StatusOK && p.Status != http.StatusNoContent {
			t.Fatalf("protection: %d %s", p.Status, p.Raw)
		}
		r = env.Do(t, "GET", "/api/v1/account/overview", second, nil)
		last, _ := r.Body["last_sign_in"].(map[string]any)
		if last == nil || last["at"] == "" || last["remote_addr"] == "" {
			t.Fatalf("previous sign-in %v (%s)", r.Body["last_sign_in"], r.Raw)
		}
		firstAt, _ := time.Parse(time.RFC3339, last["at"].(string))
		if want := env.Clock.Now().Add(-time.Minute); firstAt.After(want) {
			t.Errorf("the previous sign-in is at %v, the first was before %v", firstAt, want)
		}
		on, _, items = scoreOf(t, r)
		if on != 2 || items["login_protection"] != "on" || items["mfa_device"] != "on" || items["secure_phone"] != "/account/phone" {
			t.Errorf("after a device and login protection: %v on, %v", on, items)
		}
		if r := env.Do(t, "GET", "/api/v1/account/overview", "", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("without a session: %d", r.Status)
		}
	})
}

func TestTimeZone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "tz@example.com", goodPassword)
		tok := env.Login(t, "tz@example.com", goodPassword)
		tests := []struct {
			name   string
			body   any
			status int
			code   string
			saved  string
		}{
			{name: "a zone", body: map[string]string{"time_zone": "Asia/Shanghai"}, status: 204, saved: "Asia/Shanghai"},
			{name: "UTC is the default", body: map[string]string{"time_zone": "UTC"}, status: 204, saved: "UTC"},
			{name: "three parts", body: map[string]string{"time_zone": "America/Argentina/Buenos_Aires"}, status: 204, saved: "America/Argentina/Buenos_Aires"},
			{name: "unknown", body: map[string]string{"time_zone": "Mars/Olympus"}, status: 400, code: "invalid_time_zone"},
			{name: "the server's own", body: map[string]string{"time_zone": "Local"}, status: 400, code: "invalid_time_zone"},
			{name: "a path", body: map[string]string{"time_zone": "../../etc/passwd"}, status: 400, code: "invalid_time_zone"},
			{name: "empty", body: map[string]string{"time_zone": ""}, status: 400, code: "invalid_time_zone"},
			{name: "too long", body: map[string]string{"time_zone": "Europe/" + strings.Repeat("x", 80)}, status: 400, code: "invalid_time_zone"},
			{name: "an unknown field", body: map[string]string{"zone": "UTC"}, status: 400, code: "invalid_request"},
		}
		saved := "America/Argentina/Buenos_Aires"
		for _, tc := range tests {
			r := env.Do(t, "PUT", "/api/v1/account/time-zone", tok, tc.body)
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Errorf("%s: %d %s, want %d %q", tc.name, r.Status, r.Raw, tc.status, tc.code)
			}
			if tc.saved != "" {
				if got := env.Do(t, "GET", "/api/v1/account/overview", tok, nil).String("time_zone"); got != tc.saved {
					t.Errorf("%s: overview says %q, want %q", tc.name, got, tc.saved)
				}
			}
		}
		// A refused name leaves the zone as it was.
		if got := env.Do(t, "GET", "/api/v1/account/overview", tok, nil).String("time_zone"); got != saved {
			t.Errorf("after refused names the zone is %q, want %q", got, saved)
		}
	})
}

func TestRevokeOtherSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "others@example.com", goodPassword)
		env.SignUp(t, "bystander@example.com", goodPassword)
		keep := env.Login(t, "others@example.com", goodPassword)
		a, b := env.Login(t, "others@example.com", goodPassword), env.Login(t, "others@example.com", goodPassword)
		theirs := env.Login(t, "bystander@example.com", goodPassword)
		r := env.Do(t, "POST", "/api/v1/sessions/revoke-others", keep, nil)
		if r.Status != http.StatusOK || r.Body["revoked"] != float64(2) {
			t.Fatalf("revoke others: %d %s", r.Status, r.Raw)
		}
		for name, tok := range map[string]string{"other a": a, "other b": b} {
			if s := env.Do(t, "GET", "/api/v1/session", tok, nil); s.Status != http.StatusUnauthorized {
				t.Errorf("%s still answers %d", name, s.Status)
			}
		}
		for name, tok := range map[string]string{"the kept session": keep, "another account's": theirs} {
			if s := env.Do(t, "GET", "/api/v1/session", tok, nil); s.Status != http.StatusOK {
				t.Errorf("%s answers %d", name, s.Status)
			}
		}
		if r := env.Do(t, "POST", "/api/v1/sessions/revoke-others", keep, nil); r.Status != http.StatusOK || r.Body["revoked"] != float64(0) {
			t.Errorf("again: %d %s", r.Status, r.Raw)
		}
		ev := env.Do(t, "GET", "/api/v1/activity?kind=devices", keep, nil)
		if events, _ := ev.Body["events"].([]any); len(events) != 2 || events[0].(map[string]any)["type"] != custos.EventSessionsRevoked {
			t.Errorf("the devices activity: %s", ev.Raw)
		}
	})
}

func TestTrustedDevices(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		id := env.SignUp(t, "trust@example.com", goodPassword)
		other := env.SignUp(t, "trust-other@example.com", goodPassword)
		tok := env.Login(t, "trust@example.com", goodPassword)
		now := env.Clock.Now()
		// Browsers are trusted at a web login's second step; the API has
		// no such step, so the devices are put in the store.
		for _, d := range []custos.TrustedDevice{
			{ID: "0123456789abcdef0123456789abcdef", AccountID: id, CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour), RemoteAddr: "203.0.113.5", UserAgent: "Mozilla/5.0 (iPhone)"},
			{ID: "fedcba9876543210fedcba9876543210", AccountID: other, CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour)},
		} {
			if err := env.App.Store.TrustDevice(t.Context(), d); err != nil {
				t.Fatal(err)
			}
		}
		r := env.Do(t, "GET", "/api/v1/trusted-devices", tok, nil)
		list, _ := r.Body["trusted_devices"].([]any)
		if r.Status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["id"] != "0123456789abcdef0123456789abcdef" ||
			list[0].(map[string]any)["remote_addr"] != "203.0.113.5" {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "DELETE", "/api/v1/trusted-devices/fedcba9876543210fedcba9876543210", tok, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "not_found" {
			t.Errorf("forgetting another account's: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "DELETE", "/api/v1/trusted-devices/0123456789abcdef0123456789abcdef", tok, nil); r.Status != http.StatusNoContent {
			t.Fatalf("forget: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "DELETE", "/api/v1/trusted-devices/0123456789abcdef0123456789abcdef", tok, nil); r.Status != http.StatusNotFound {
			t.Errorf("forgetting again: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "GET", "/api/v1/trusted-devices", tok, nil); len(r.Body["trusted_devices"].([]any)) != 0 {
			t.Errorf("after forgetting: %s", r.Raw)
		}
		if ok, _ := env.App.Store.IsTrustedDevice(t.Context(), "fedcba9876543210fedcba9876543210", other, now); !ok {
			t.Error("another account's trusted device was forgotten")
		}
	})
}

func TestActivityFilterAndPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "act@example.com", goodPassword)
		start := env.Clock.Now()
		var tok string
		for range 5 {
			env.Clock.Advance(time.Hour)
			tok = env.Login(t, "act@example.com", goodPassword)
		}
		if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "act@example.com", "password": "wrong password here"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.Status)
		}
		types := func(r testserver.Response) []string {
			t.Helper()
			if r.Status != http.StatusOK {
				t.Fatalf("activity: %d %s", r.Status, r.Raw)
			}
			out := []string{}
			for _, e := range r.Body["events"].([]any) {
				out = append(out, e.(map[string]any)["type"].(string))
			}
			return out
		}
		all := types(env.Do(t, "GET", "/api/v1/activity", tok, nil))
		if len(all) != 7 || all[0] != custos.EventLoginFailure || all[6] != custos.EventSignup {
			t.Fatalf("all events %v", all)
		}
		if got := types(env.Do(t, "GET", "/api/v1/activity?kind=password", tok, nil)); len(got) != 0 {
			t.Errorf("password kind: %v", got)
		}
		q := url.Values{"kind": {"sign_in"}, "from": {start.Add(2 * time.Hour).UTC().Format(time.RFC3339)}, "to": {start.Add(4 * time.Hour).UTC().Format(time.RFC3339)}}
		if got := types(env.Do(t, "GET", "/api/v1/activity?"+q.Encode(), tok, nil)); !cmp.Equal(got, []string{custos.EventLoginSuccess, custos.EventLoginSuccess}) {
			t.Errorf("sign-ins in [2h, 4h): %v", got)
		}
		// Pages of three walk all seven once.
		var walked []string
		ids := map[string]bool{}
		path := "/api/v1/activity?limit=3"
		for range 5 {
			r := env.Do(t, "GET", path, tok, nil)
			walked = append(walked, types(r)...)
			for _, e := range r.Body["events"].([]any) {
				ids[e.(map[string]any)["id"].(string)] = true
			}
			next := r.String("next_before")
			if next == "" {
				break
			}
			path = "/api/v1/activity?limit=3&before=" + url.QueryEscape(next)
		}
		if !cmp.Equal(walked, all) || len(ids) != 7 {
			t.Errorf("pages walked %v (%d ids), want %v", walked, len(ids), all)
		}
		// One event, by id; another account's is not found.
		first := env.Do(t, "GET", "/api/v1/activity?limit=1", tok, nil).Body["events"].([]any)[0].(map[string]any)
		one := env.Do(t, "GET", "/api/v1/activity/"+first["id"].(string), tok, nil)
		if one.Status != http.StatusOK || one.String("type") != custos.EventLoginFailure || one.String("id") != first["id"] {
			t.Errorf("one event: %d %s", one.Status, one.Raw)
		}
		env.SignUp(t, "act-other@example.com", goodPassword)
		stranger := env.Login(t, "act-other@example.com", goodPassword)
		if r := env.Do(t, "GET", "/api/v1/activity/"+first["id"].(string), stranger, nil); r.Status != http.StatusNotFound {
			t.Errorf("another account's event: %d %s", r.Status, r.Raw)
		}
		for _, bad := range []struct{ query, field string }{
			{"kind=everything", "kind"}, {"from=yesterday", "from"}, {"to=2026-13-01T00:00:00Z", "to"},
			{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=x", "limit"},
			{"from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "to"},
		} {
			r := env.Do(t, "GET", "/api/v1/activity?"+bad.query, tok, nil)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "invalid_request" {
				t.Errorf("%s: %d %s", bad.query, r.Status, r.Raw)
			}
		}
	})
}
