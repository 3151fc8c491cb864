// Package testserver starts the whole Custos handler, built by app.Build
// exactly as in production, behind httptest on a fresh test database
// (internal/testdb, SQLite or PostgreSQL), with a fake clock
// (internal/testclock), a generated key ring unless it is given one, the
// test captcha, fast argon2id parameters (FastArgon2) and the dir: outbox;
// and it offers the helpers the end-to-end tests share: reading codes and
// messages from the outbox, and JSON requests, sign-up and login through
// the API. Env.Client checks every answer under /api/ against
// api/openapi.yaml (ValidateAgainstOpenAPI, with kin-openapi): an
// undocumented path, status or Retry-After header, or a body its schema
// does not take, fails the test. Messages go through the delivery queue
// as in production, to the outbox (or to Options.Deliver, such as a
// testsmtp server); the outbox readers, GET /dev/outbox and moving the
// fake clock first wait until what was sent has been delivered. Servers started on one DSN are replicas of
// one deployment: they share the key ring and the outbox.
//
// It is test support: it may import any package of the module (it uses
// api, app, auth, keyring, notify, password and the two test packages above)
// and testing; only tests import it.
package testserver
