package web_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
)

// englishAllowed are the Latin-letter words a Chinese page may show: the
// brand, the names of the protection methods as the product writes them
// (虚拟MFA, SMS), codes Chinese writes in Latin letters (账号ID, USB, NFC),
// a product name given as an example (YubiKey), the time zone of a time,
// and the language switch's "English", which names that language in its
// own words.
var englishAllowed = []string{"Custos", "MFA", "SMS", "ID", "USB", "NFC", "YubiKey", "UTC", "English"}

var (
	latinWord = regexp.MustCompile(`[A-Za-z]+`)
	// Addresses (masked ones too: l***n@ex***le.com), links, IANA time
	// zone names (Asia/Shanghai: names, not words), recovery-code shapes
	// and anything with a digit.
	addressLike = regexp.MustCompile(`[\w.+*-]+@[\w*-]+(?:\.[\w*-]+)+|https?://\S+|\b[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_-]+)+\b|\b[a-z0-9]{4}(?:-[a-z0-9]{4})+\b|[\w-]*\d[\w-]*`)
)

// englishWords returns the Latin-letter words of text that are not
// allowed on a Chinese page: addresses, links, codes (anything with a
// digit) and the allowed words aside.
func englishWords(text string) []string {
	text = addressLike.ReplaceAllString(text, " ")
	var out []string
	for _, w := range latinWord.FindAllString(text, -1) {
		if !slices.Contains(englishAllowed, w) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func TestEnglishWords(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"欢迎使用 Custos 账号中心 lin@example.com", nil},
		{"虚拟MFA 已开启 2026年12月1日 18:04 UTC", nil},
		{"登录 Log in", []string{"Log", "in"}},
		{"账号 ID acct_9f3k2", nil},
		{"Account ID", []string{"Account"}},
		{"我们已向 l***n@ex***le.com 发送了验证码", nil},
		{"时区 Asia/Shanghai（浏览器）America/Argentina/Buenos_Aires", nil},
		{"Asia Shanghai", []string{"Asia", "Shanghai"}},
	} {
		if got := englishWords(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("englishWords(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// noEnglish fails the test when the page's visible text keeps an English
// word, and checks the page says it is Chinese.
func (b *tab) noEnglish(what string) {
	b.t.Helper()
	if lang := b.eval(`document.documentElement.lang`); lang != "zh-CN" {
		b.t.Errorf("%s (%s): <html lang=%q>, want zh-CN", what, b.path(), lang)
	}
	text := b.eval(`document.title + "\n" + document.body.innerText`)
	if words := englishWords(text); len(words) > 0 {
		b.t.Errorf("%s (%s) shows English %q in:\n%s", what, b.path(), words, text)
	}
}

// TestBrowserChinese walks sign-up, the email code, login, Account
// Information, Security Settings and the lock message with a browser that
// asks for zh-CN, and finds no English on any page; the language switch
// turns the pages to English and back, and the account keeps the choice
// for the emails sent later. It saves screenshots of Account Information
// and Security Settings in both languages.
func TestBrowserChinese(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	ua := b.eval(`navigator.userAgent`)
	if _, err := chromedp.Call(b.ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent: ua, AcceptLanguage: "zh-CN,zh", // Chromium adds the q-values
	}); err != nil {
		t.Fatalf("setting the browser's language: %v", err)
	}

	const email = "lin@example.com"

	// Sign up, first with a password that is too short: the error too is
	// Chinese.
	b.open("/signup")
	b.noEnglish("sign-up")
	b.do("fill in sign-up",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), "short"),
	)
	b.click(`form[action="/signup"] button[type=submit]`)
	b.noEnglish("sign-up with an error")
	b.do("fix the password", chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.click(`form[action="/signup"] button[type=submit]`)
	if !strings.HasPrefix(b.path(), "/signup/verify?id=") {
		t.Fatalf("after sign-up the browser is at %s", b.path())
	}
	b.noEnglish("the email code page")
	code := env.Code(t, email, "signup_code")
	if m := env.Messages(t, email)[0]; !strings.Contains(m.Subject, "验证码") || !strings.Contains(m.Text, "分钟内有效") {
		t.Errorf("the sign-up email is not Chinese: %q / %q", m.Subject, m.Text)
	}
	b.do("a wrong code", chromedp.SendKeys(chromedp.ID("code"), "000000"))
	b.click(`form[action="/signup/verify"] button[type=submit]`)
	b.noEnglish("the email code page with a wrong code")
	b.do("enter the code", chromedp.SetValue(chromedp.ID("code"), code))
	b.click(`form[action="/signup/verify"] button[type=submit]`)
	if got := b.path(); got != "/login?created=1&email="+url.QueryEscape(email) {
		t.Fatalf("after the code the browser is at %s", got)
	}
	b.noEnglish("login after sign-up")

	// Log in (the address is filled in after sign-up): the Overview,
	// Account Information and Security Settings.
	if got := b.eval(`document.getElementById("email").value`); got != email {
		t.Errorf("the login page after sign-up has %q for the email", got)
	}
	b.do("fill in login",
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	b.click(`form[action="/login"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after login the browser is at %s", got)
	}
	b.noEnglish("Overview")
	b.fullScreenshot("overview-zh-CN.png")
	b.click(`.sidenav a[href="/account"]`)
	b.noEnglish("Account Information")
	b.screenshot("account-zh-CN.png")
	b.click(`.sidenav a[href="/account/security"]`)
	b.noEnglish("Security Settings")
	b.fullScreenshot("security-zh-CN.png")

	// The switch: English, on this page, and saved on the account.
	b.click(`.language-switch button[value="en"]`)
	if got := b.path(); got != "/account/security" {
		t.Errorf("the switch went to %s, want back to /account/security", got)
	}
	if lang := b.eval(`document.documentElement.lang`); lang != "en" {
		t.Errorf("after choosing English <html lang=%q>", lang)
	}
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Security Settings" {
		t.Errorf("after choosing English the current item reads %q", got)
	}
	b.fullScreenshot("security-en.png")
	b.click(`.sidenav a[href="/overview"]`)
	b.fullScreenshot("overview-en.png")
	b.click(`.sidenav a[href="/account"]`)
	b.screenshot("account-en.png")
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Account Information" {
		t.Errorf("after choosing English the current item reads %q", got)
	}
	if lang := env.Do(t, "GET", "/api/v1/account", env.Login(t, email, testPassword), nil); lang.Status != 200 {
		t.Fatalf("account: %d", lang.Status)
	}
	// Back to Chinese, which the account keeps.
	b.click(`.language-switch button[value="zh-CN"]`)
	b.noEnglish("Account Information after switching back")

	// The lock message: log out, then wrong passwords until password
	// login is paused.
	b.click(`form[action="/logout"] button[type=submit]`)
	b.noEnglish("the login page after logout")
	for i := 1; i <= 10; i++ {
		b.do("fill in the login form",
			chromedp.SetValue(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), "wrong password "+strings.Repeat("x", i)),
		)
		if b.eval(`String(document.getElementById("captcha_answer") !== null)`) == "true" {
			b.do("answer the captcha", chromedp.SendKeys(chromedp.ID("captcha_answer"), "test"))
		}
		b.click(`form[action="/login"] button[type=submit]`)
		if i == 1 || i == 3 {
			b.noEnglish("a wrong password")
		}
	}
	until := env.Clock.Now().Add(24 * time.Hour).UTC()
	panel := b.text(".panel-warning")
	if !strings.Contains(panel, until.Format("15:04")) || !strings.Contains(panel, until.Format("2006年1月2日")) {
		t.Errorf("the lock message %q does not give the end %s in the Chinese date format", panel, until.Format(time.RFC3339))
	}
	b.noEnglish("the lock message")
	b.screenshot("login-locked-zh-CN.png")
	var locked *testserver.Env = env
	msgs := locked.Messages(t, email)
	if msgs[0].Purpose != "account_locked" || !strings.Contains(msgs[0].Subject, "暂停密码登录") {
		t.Errorf("the lock email is not in the account's language: %q", msgs[0].Subject)
	}
}
