package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// testMAC stands in for the key ring's MAC (a keyed SHA-256).
func testMAC(b []byte) []byte {
	m := hmac.New(sha256.New, []byte("test key"))
	m.Write(b)
	return m.Sum(nil)
}

// TestDeviceKey: a browser on one network (a /24, or an IPv6 /48) is one
// device; another browser, or the same browser on another network, is
// another; and the key shows neither the browser id nor the address.
func TestDeviceKey(t *testing.T) {
	s := &Service{d: Deps{DeviceMAC: testMAC}}
	const browser = "q6Hk2vYt0d9Zr1mXcN4bW7sLpE3uA8fJ5gKoRiT-_yV"
	same := []struct{ a, b string }{
		{"198.51.100.7", "198.51.100.250"},
		{"198.51.100.7", "::ffff:198.51.100.9"},
		{"2001:db8:1:2::1", "2001:db8:1:ffff::2"},
	}
	for _, c := range same {
		if s.deviceKey(browser, c.a) != s.deviceKey(browser, c.b) {
			t.Errorf("%s and %s are one network, but their keys differ", c.a, c.b)
		}
	}
	differ := []struct{ ba, a, bb, b string }{
		{browser, "198.51.100.7", browser, "198.51.101.7"},
		{browser, "2001:db8:1::1", browser, "2001:db8:2::1"},
		{browser, "198.51.100.7", "another-browser-id-another-browser-id-12345", "198.51.100.7"},
		{browser, "198.51.100.7", "", "198.51.100.7"},
	}
	for _, c := range differ {
		if s.deviceKey(c.ba, c.a) == s.deviceKey(c.bb, c.b) {
			t.Errorf("(%q, %s) and (%q, %s) have one key", c.ba, c.a, c.bb, c.b)
		}
	}
	k := s.deviceKey(browser, "198.51.100.7")
	if len(k) != 64 || strings.Contains(k, "198") || strings.Contains(k, browser[:8]) {
		t.Errorf("key %q is not a bare MAC", k)
	}
	if (&Service{}).deviceKey(browser, "198.51.100.7") != "" {
		t.Error("without a MAC there is a key")
	}
}

func TestDeviceWords(t *testing.T) {
	for _, c := range []struct{ name, ua, browser, system string }{
		{"chrome on windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Windows"},
		{"edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "Windows"},
		{"safari on iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari", "iOS"},
		{"firefox on linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "Linux"},
		{"chrome on android", "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36", "Chrome", "Android"},
		{"a script", "curl/8.5.0", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if b, s := deviceWords(c.ua); b != c.browser || s != c.system {
				t.Errorf("deviceWords = %q, %q; want %q, %q", b, s, c.browser, c.system)
			}
		})
	}
}
