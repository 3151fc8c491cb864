package sqlstore

import (
	"context"
	"database/sql"
	"sync"

	"github.com/custos/custos"
)

// Observer hears of every audit event and staff event once it is in the
// database: after its transaction commits, never for one rolled back. app
// logs and counts them. Either func may be nil. They run on the caller's
// goroutine, after the write, and must be quick.
type Observer struct {
	Audit func(ctx context.Context, ev custos.AuditEvent)
	Staff func(ctx context.Context, ev custos.StaffEvent)
}

// observers is the DB's Observer and the events written in transactions
// not yet committed.
type observers struct {
	Observer
	mu      sync.Mutex
	pending map[*sql.Tx]*heard
}

type heard struct {
	audit []custos.AuditEvent
	staff []custos.StaffEvent
}

// Observe makes o the DB's observer. Call it before the DB is used.
func (db *DB) Observe(o Observer) { db.obs = &observers{Observer: o, pending: map[*sql.Tx]*heard{}} }

// Reader returns the pool plain reads go through (the Writer's on
// PostgreSQL), for the database pool's metrics.
func (db *DB) Reader() *sql.DB { return db.r }

// heardAudit notes ev, written through ex: told at once when ex is the
// pool, at commit when it is a transaction.
func (db *DB) heardAudit(ctx context.Context, ex execer, ev custos.AuditEvent) {
	o := db.obs
	if o == nil || o.Audit == nil {
		return
	}
	tx, ok := ex.(*sql.Tx)
	if !ok {
		o.Audit(ctx, ev)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	h := o.pending[tx]
	if h == nil {
		h = &heard{}
		o.pending[tx] = h
	}
	h.audit = append(h.audit, ev)
}

// heardStaff is heardAudit for a staff event.
func (db *DB) heardStaff(ctx context.Context, ex execer, ev custos.StaffEvent) {
	o := db.obs
	if o == nil || o.Staff == nil {
		return
	}
	tx, ok := ex.(*sql.Tx)
	if !ok {
		o.Staff(ctx, ev)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	h := o.pending[tx]
	if h == nil {
		h = &heard{}
		o.pending[tx] = h
	}
	h.staff = append(h.staff, ev)
}

// settled ends tx's notes: told when it committed, dropped otherwise.
func (db *DB) settled(ctx context.Context, tx *sql.Tx, committed bool) {
	o := db.obs
	if o == nil {
		return
	}
	o.mu.Lock()
	h := o.pending[tx]
	delete(o.pending, tx)
	o.mu.Unlock()
	if h == nil || !committed {
		return
	}
	for _, ev := range h.audit {
		o.Audit(ctx, ev)
	}
	for _, ev := range h.staff {
		o.Staff(ctx, ev)
	}
}
