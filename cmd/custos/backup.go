package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos/custos/app"
	"github.com/custos/custos/sqlstore"
)

// backup is `custos admin backup PATH`: a consistent copy of the SQLite
// database, taken with VACUUM INTO in one read transaction, so it may run
// while servers write. PATH must not exist; the copy is mode 0600 (it holds
// password hashes and sealed seeds).
func backup(ctx context.Context, cfg app.Config, dest string, out io.Writer) error {
	src, ok := strings.CutPrefix(cfg.DB, "sqlite:")
	if !ok {
		return errors.New("backup: the database is PostgreSQL: back it up with pg_dump (pg_dump -Fc -f custos.dump \"$CUSTOS_DB\") or your base backups")
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: no database at %s: %w", src, err)
	}
	if abs, err := filepath.Abs(dest); err == nil {
		if absSrc, err := filepath.Abs(src); err == nil && (abs == absSrc || abs == absSrc+"-wal" || abs == absSrc+"-shm") {
			return fmt.Errorf("backup: %s is the database itself", dest)
		}
	}
	// An empty file of our own first: it refuses an existing PATH without a
	// race and gives the copy its mode (VACUUM INTO accepts an empty file).
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %s exists: give a new path", dest)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	fail := func(err error) error {
		os.Remove(dest)
		return fmt.Errorf("backup: %w", err)
	}
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	if _, err := db.Writer().ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fail(err)
	}
	if err := os.Chmod(dest, 0o600); err != nil {
		return fail(err)
	}
	fi, err := os.Stat(dest)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(out, "backed up %s to %s (%d bytes)\n", src, dest, fi.Size())
	return nil
}
