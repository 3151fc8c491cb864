// Package captcha makes and checks the captchas of the login-security rule.
// The answers live in the database (custos.CaptchaStore), so a captcha made
// on one replica is solved on any other, and exactly once: checking one
// deletes it in the same statement that reads it. dchest/captcha draws the
// pictures and speaks the audio alternative; its own in-memory store is
// never used.
//
// It imports the root package and dchest/captcha.
package captcha
