package web

import (
	"testing"
	"time"

	"github.com/custos/custos/message"
)

func TestDeviceName(t *testing.T) {
	cat := message.For("en")
	tests := []struct {
		name, ua, want string
	}{
		{"Chrome on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Safari on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", "Safari on macOS"},
		{"Chrome on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome on iPhone"},
		{"Firefox on Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Firefox on Ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox on Ubuntu"},
		{"Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Chrome on Android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36", "Chrome on Android"},
		{"Samsung Internet", "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"WeChat on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN", "WeChat on iPhone"},
		{"WeChat on Android", "Mozilla/5.0 (Linux; Android 12; V2154A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN", "WeChat on Android"},
		{"QQ Browser on Windows", "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.25 Safari/537.36 Core/1.70.3883.400 QQBrowser/10.8.4551.400", "QQ Browser on Windows"},
		{"Huawei on HarmonyOS", "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.5.303 Mobile Safari/537.36", "Huawei Browser on HarmonyOS"},
		{"Opera on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/112.0.0.0", "Opera on macOS"},
		{"Chrome on ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Safari on iPad", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPad"},
		{"headless Chrome on Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"an app's web view is not Safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148", "iPhone"},
		{"curl", "curl/8.5.0", "curl"},
		{"Go", "Go-http-client/1.1", "Go HTTP client"},
		{"empty", "", "Unknown device"},
		{"nonsense", "zzz", "Unknown device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := deviceName(cat, tc.ua); got != tc.want {
				t.Errorf("deviceName(%q) = %q, want %q", tc.ua, got, tc.want)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 20, 0, 0, time.UTC)
	late := time.Date(2026, 12, 1, 20, 5, 0, 0, time.UTC)
	tests := []struct {
		name string
		lang string
		loc  *time.Location
		t    time.Time
		want string
	}{
		{"Shanghai, same day", "en", shanghai, at, "1 Dec 2026, 18:20 CST (10:20 UTC)"},
		{"Shanghai, the next day there", "en", shanghai, late, "2 Dec 2026, 04:05 CST (1 Dec 2026, 20:05 UTC)"},
		{"New York", "en", newYork, at, "1 Dec 2026, 05:20 EST (10:20 UTC)"},
		{"UTC is said once", "en", time.UTC, at, "1 Dec 2026, 10:20 UTC"},
		{"no zone is UTC", "en", nil, at, "1 Dec 2026, 10:20 UTC"},
		{"a time in another zone is shown in the viewer's", "en", shanghai, at.In(newYork), "1 Dec 2026, 18:20 CST (10:20 UTC)"},
		{"zero", "en", shanghai, time.Time{}, message.For("en").Text("none")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatTime(message.For(tc.lang), tc.loc, tc.t); got != tc.want {
				t.Errorf("formatTime = %q, want %q", got, tc.want)
			}
		})
	}
	if got := formatDay(message.For("en"), shanghai, late); got != "2 December 2026" {
		t.Errorf("formatDay in Shanghai = %q, want the day there", got)
	}
}
