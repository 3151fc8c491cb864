// Package web serves the account center's HTML pages: sign-up and its email
// code, login and logout (with the second step of login protection and
// "trust this device"), and the signed-in pages (Account Information,
// Security Settings, Signed-in devices, Security activity), plus the
// development outbox at /dev/outbox when messages are delivered to a
// directory.
//
// Security Settings lists the account's MFA devices and switches. Sensitive
// steps (another MFA device, removing one, recovery codes, the protection
// switches) go through "Confirm it's you" at /account/verify, which returns
// to a local /account path. A page cannot repeat a POST, so each sensitive
// action is a GET page that checks the confirmation first and a POST that
// does the work.
//
// Pages are rendered on the server from html/template files embedded in the
// binary, one typed view struct per page and one shared layout. They work
// without JavaScript, except the security-key steps, and load nothing but
// /static/style.css, /static/icon.svg, /static/webauthn.js (on the pages
// with a security-key step) and data: images (the authenticator-app QR
// code), so the strict Content-Security-Policy that package server sets
// holds: no inline script or handler anywhere. Every word shown comes from
// the message catalogue (messages.go), keyed so that other languages can
// follow English; the script's words arrive in data- attributes.
//
// The security-key steps (webauthn.go) are the pages' only JSON endpoints:
// POST /account/security/webauthn/begin and /finish with the session
// cookie, POST /login/second-factor/webauthn/begin and /finish with the
// login token from the page. They take application/json only (415
// otherwise) and answer JSON, errors as {"error": {"code", "message", …}}
// like the API, with "location" when the script should go to another page;
// without a session they answer 401 with the login page as location, since
// a script would follow a 303 without noticing. http.CrossOriginProtection
// (package server) and the JSON content type keep other sites out.
//
// Handlers return errors to one place (serveError), which maps custos.Error
// codes to status through custos.Status; problems with what was typed
// re-render the form with status 400 (never 401, which would ask the
// browser for HTTP authentication). The browser holds only opaque tokens in
// HttpOnly cookies: the session, and the 7-day trusted-device token; a
// login token travels only in a hidden form field.
//
// It imports the root package, auth and mfa (the flows it calls), otp (to
// draw the key an authenticator app reads), password (the length rule
// shown as a hint), notify (to read the outbox) and requestinfo.
package web
