// Package testserver starts the whole Custos handler, built by app.Build
// exactly as in production, behind httptest on a fresh test database
// (internal/testdb, SQLite or PostgreSQL), with a fake clock
// (internal/testclock), a generated key ring unless it is given one, the
// test captcha, fast argon2id parameters (FastArgon2) and the dir: outbox;
// and it offers the helpers the end-to-end tests share: reading codes and
// messages from the outbox, and JSON requests, sign-up and login through
// the API.
//
// It is test support: it may import any package of the module (it uses
// app, auth, keyring, notify, password and the two test packages above)
// and testing; only tests import it.
package testserver
