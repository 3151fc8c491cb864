package sqlstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
)

// TestOutageIsUnavailable: once the database's address answers no more,
// every statement — plain, in a transaction, a ping, a hot read — fails with
// custos.EUnavailable, and works again when it is back.
func TestOutageIsUnavailable(t *testing.T) {
	if len(testdb.Dialects()) < 2 {
		t.Skip(testdb.EnvPostgres + " is not set")
	}
	ctx := context.Background()
	u, _ := url.Parse(testdb.DSN(t, sqlstore.DialectPostgres))
	p := &tcpProxy{target: u.Host}
	p.listen(t, "127.0.0.1:0")
	t.Cleanup(p.cut)
	u.Host = p.addr
	db, err := sqlstore.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := db.Writer()
	if _, err := w.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}

	p.cut()
	var n int
	steps := []struct {
		name string
		run  func() error
	}{
		// First, on the pool's connection that was cut: a hot read goes
		// to pgx straight (readRow), past outageConn.
		{"hot read", func() error { _, err := db.AccountByID(ctx, "acct-any"); return err }},
		{"exec", func() error { _, err := w.ExecContext(ctx, "SELECT 1"); return err }},
		{"query", func() error { return w.QueryRowContext(ctx, "SELECT 1").Scan(&n) }},
		{"transaction", func() error {
			tx, err := w.BeginTx(ctx, nil)
			if err == nil {
				tx.Rollback()
			}
			return err
		}},
		{"ping", func() error { return db.Ping(ctx) }},
	}
	for _, s := range steps {
		if err := s.run(); !custos.IsCode(err, custos.EUnavailable) {
			t.Errorf("%s with the database gone: %v, want unavailable", s.name, err)
		}
	}

	p.listen(t, p.addr)
	deadline := time.Now().Add(10 * time.Second)
	for _, err := w.ExecContext(ctx, "SELECT 1"); err != nil; _, err = w.ExecContext(ctx, "SELECT 1") {
		if time.Now().After(deadline) {
			t.Fatalf("the database is back, a statement still fails: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRefusalsAndCancellationAreNotOutages: a statement the database
// refuses, and one whose context ends under it, keep their own errors.
func TestRefusalsAndCancellationAreNotOutages(t *testing.T) {
	slow := map[string]string{
		sqlstore.DialectSQLite:   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT max(x) FROM c",
		sqlstore.DialectPostgres: "SELECT pg_sleep(10)",
	}
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := testdb.Open(t, d)
			w := db.Writer()
			ctx := context.Background()
			if _, err := w.ExecContext(ctx, "SELECT * FROM no_such_table"); err == nil || custos.IsCode(err, custos.EUnavailable) {
				t.Errorf("a missing table: %v, want the database's refusal", err)
			}

			cctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(100*time.Millisecond, cancel)
			var n int
			err := w.QueryRowContext(cctx, slow[d]).Scan(&n)
			if !errors.Is(err, context.Canceled) || custos.IsCode(err, custos.EUnavailable) {
				t.Errorf("a canceled statement: %v, want context.Canceled and not unavailable", err)
			}
			if err := w.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
				t.Errorf("after the cancellation: %v", err)
			}
		})
	}
}

// tcpProxy forwards connections to target; cut closes its port and every
// connection through it.
type tcpProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func (p *tcpProxy) listen(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
