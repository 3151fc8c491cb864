// Package web serves the account center's HTML pages: sign-up and its email
// code, login and logout (with the second step of login protection and
// "trust this device"), and the signed-in pages (Account Information,
// Security Settings, Signed-in devices, Security activity), plus the
// development outbox at /dev/outbox when messages are delivered to a
// directory.
//
// Security Settings lists the bound phone and the secure email (masked),
// the account's MFA devices and switches; Account Information the account
// email. Sensitive steps (another MFA device, removing one, recovery codes,
// the protection switches, and a new phone, account email or secure email
// once the account has a channel to confirm with) go through "Confirm it's
// you" at /account/verify, which takes an authenticator-app or token code,
// or a code sent by text message or email, and returns to a local /account
// path. A page cannot repeat a POST, so each sensitive action is a GET page
// that checks the confirmation first and a POST that does the work.
//
// A contact change (contacts.go) is two pages: the new address at
// /account/phone, /account/email or /account/secure-email, then its code
// at that path plus /{change_id}. The public recovery pages (reset.go) are
// Find my accounts (/find-accounts, by phone) and Forgot password
// (/forgot-password, by account email or phone): a form that always
// carries a captcha, a code page at /{id}, the accounts found, and a new
// password at /forgot-password/{id}/password, with the flow id in the
// path and the step's state in hidden fields, never a code in a URL. Their
// answers are the same whether or not an account matches until a code is
// proven. Code pages say where the code went and when it stops working,
// and offer a new one only after the send cooldown; they learn the address
// and the time from a short-lived HttpOnly cookie set by the start
// (pending.go), since a redirect carries nothing else. "It wasn't me"
// (undo.go) is GET /undo?token=…, which only asks, and POST /undo.
//
// Pages are rendered on the server from html/template files embedded in the
// binary, one typed view struct per page and one shared layout. They work
// without JavaScript, except the security-key steps, and load nothing but
// /static/style.css, /static/icon.svg, /static/webauthn.js (on the pages
// with a security-key step) and data: images (the authenticator-app QR
// code), so the strict Content-Security-Policy that package server sets
// holds: no inline script or handler anywhere. Every word shown comes from
// the message catalogue (package message), keyed so that other languages can
// follow English; the script's words arrive in data- attributes.
//
// The security-key steps (webauthn.go) are the pages' only JSON endpoints:
// POST /account/security/webauthn/begin and /finish with the session
// cookie, POST /login/second-factor/webauthn/begin and /finish with the
// login token from the page. They take application/json only (415
// otherwise) and answer JSON, errors through the API's own writer
// (httperr.WriteJSON) as {"error": {"code", "message", …}}, with
// "location" when the script should go to another page; without a session
// they answer 401 with the login page as location, since a script would
// follow a 303 without noticing. At the second step of login a wrong key
// answers 401 invalid_code, as the API's does. http.CrossOriginProtection
// (package server) and the JSON content type keep other sites out.
//
// Handlers return errors to one place (serveError), the only code that
// answers a page with an error status. A form to fill in again, its
// problems next to their fields, is an error too: the handler returns
// formAgain (400, never 401, which would ask the browser for HTTP
// authentication) or, for a step that can never succeed now, gone (410),
// and serveError renders that page. Any other custos.Error shows its words
// on the error page with the status of its code (httperr.Status); anything
// else is a 500 that shows only the request id. A problem sits next to
// the field the error is about (httperr.Field), and its words come from
// the catalogue (message.Catalogue.Error). The browser holds only opaque
// tokens in HttpOnly cookies: the session, and the 7-day trusted-device
// token; a login token travels only in a hidden form field.
//
// It imports the root package, the services it calls (auth, mfa, binding,
// recovery — every policy value it shows, such as a code's life, the
// resend wait, the password length or a masked phone, comes from them),
// message (every word), httperr (status, field, JSON errors) and
// requestinfo. The development outbox reaches it as a function app gives
// it; it imports no adapter.
package web
