package web

import (
	"strings"

	"github.com/custos/custos/message"
)

// A user agent's browser and system, by the tokens that name them. Order
// matters: a browser built on Chrome says "Chrome/" and "Safari/" too, so
// the more particular tokens come first; every iPhone says "Mac OS X".
var (
	uaBrowsers = [...]struct{ token, name string }{
		{"MicroMessenger/", "WeChat"}, {"DingTalk/", "DingTalk"}, {"AlipayClient/", "Alipay"},
		{"QQBrowser/", "QQ Browser"}, {"UCBrowser/", "UC Browser"}, {"Quark/", "Quark"},
		{"HuaweiBrowser/", "Huawei Browser"}, {"MiuiBrowser/", "Xiaomi Browser"},
		{"SamsungBrowser/", "Samsung Internet"}, {"YaBrowser/", "Yandex Browser"},
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
		{"OPR/", "Opera"}, {"OPT/", "Opera"}, {"Vivaldi/", "Vivaldi"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"HeadlessChrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
		{"Version/", "Safari"}, // Safari says "Version/17.4 … Safari/605"
		{"curl/", "curl"}, {"Go-http-client/", "Go HTTP client"}, {"okhttp/", "OkHttp"},
		{"python-requests/", "Python requests"}, {"PostmanRuntime/", "Postman"},
	}
	uaSystems = [...]struct{ token, name string }{
		{"HarmonyOS", "HarmonyOS"}, {"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"iPod", "iPod"},
		{"Windows", "Windows"}, {"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"},
		{"Ubuntu", "Ubuntu"}, {"Linux", "Linux"},
	}
)

// parseUserAgent returns the browser and system a User-Agent header names,
// each "" when it names none this table knows.
func parseUserAgent(ua string) (browser, system string) {
	for _, b := range uaBrowsers {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	if browser == "Safari" && !strings.Contains(ua, "Safari/") {
		// "Version/" alone is not Safari (an app's web view says it too).
		browser = ""
	}
	for _, o := range uaSystems {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	return browser, system
}

// deviceName turns a User-Agent header into the words people use: "Chrome
// on Windows", "Safari on iPhone". It falls back to "Unknown device"; the
// full header is shown beside it where there is room.
func deviceName(cat message.Catalogue, ua string) string {
	browser, system := parseUserAgent(ua)
	switch {
	case browser != "" && system != "":
		return cat.Text("device.on", browser, system)
	case browser != "":
		return browser
	case system != "":
		return system
	}
	return cat.Text("device.unknown")
}
