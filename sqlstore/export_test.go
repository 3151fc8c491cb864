package sqlstore

import (
	"context"

	"github.com/custos/custos"
)

// OpenSessionAtOnce is openSessionAtOnce, for the tests of package
// sqlstore_test, with the swap of swapFrom(key, old, next) when key is set.
func (db *DB) OpenSessionAtOnce(ctx context.Context, s custos.Session, ev custos.AuditEvent, key string, old, next custos.Counter) (bool, error) {
	var swap string
	var args []any
	if key != "" {
		swap, args = db.swapFrom(key, old, next)
	}
	return db.openSessionAtOnce(ctx, s, ev, swap, args)
}
