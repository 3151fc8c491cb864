// Package web serves the account center's HTML pages: sign-up and its email
// code, login and logout, and the signed-in pages (Account Information,
// Signed-in devices, Security activity), plus the development outbox at
// /dev/outbox when messages are delivered to a directory.
//
// Pages are rendered on the server from html/template files embedded in the
// binary, one typed view struct per page and one shared layout. They work
// without JavaScript and load nothing but /static/style.css and
// /static/icon.svg, so the strict Content-Security-Policy that package server
// sets holds. Every word shown comes from the message catalogue
// (messages.go), keyed so that other languages can follow English.
//
// Handlers return errors to one place (serveError), which maps custos.Error
// codes to status through custos.Status. The browser holds only an opaque
// session token in an HttpOnly cookie; the auth service enforces the idle and
// absolute limits.
//
// It imports the root package, auth (the flows it calls), password (the
// length rule shown as a hint), notify (to read the outbox) and requestinfo.
package web
