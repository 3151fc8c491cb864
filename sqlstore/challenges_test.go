package sqlstore_test

import (
	"testing"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore/storetest"
)

// TestChallengeRacesAcrossHandles runs the one-time-code races on two DB
// handles on one database, so the counted attempts and the single use
// serialise in the database and not in one handle's connection pool.
func TestChallengeRacesAcrossHandles(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbs := openHandles(t, testdb.DSN(t, dialect), 2)
			storetest.ChallengeRaces(t, dbs[0], dbs[1])
		})
	}
}
