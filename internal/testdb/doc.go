// Package testdb gives tests a fresh database of each dialect the test run
// can reach: SQLite in t.TempDir() always, and PostgreSQL in a schema of its
// own when CUSTOS_TEST_POSTGRES names a server (CI always sets it). Every
// package whose tests need a custos.Store uses it, so all of them run
// against both databases the same way:
//
//	for _, dialect := range testdb.Dialects() {
//		t.Run(dialect, func(t *testing.T) {
//			db := testdb.Open(t, dialect)
//			…
//		})
//	}
//
// It may import sqlstore, pgx (to create and drop schemas) and the standard
// library; only tests and the test helper internal/testserver import it. It
// uses crypto/rand for schema names, which is not a rule's randomness and
// needs no seam.
package testdb
