//go:build unix

package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/custos/custos/sqlstore"
)

// TestSQLiteFilesOwnerOnly: the database file and its -wal and -shm hold
// password hashes and sealed seeds, so neither group nor others may read
// them, under the usual umask 022, whether the file is new or was left
// readable by an older version.
func TestSQLiteFilesOwnerOnly(t *testing.T) {
	// Not parallel: the umask belongs to the whole process.
	defer syscall.Umask(syscall.Umask(0o022))
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // runs before Open
	}{
		{name: "fresh", prepare: func(t *testing.T, path string) {}},
		{name: "left readable by an older version", prepare: func(t *testing.T, path string) {
			t.Helper()
			db, err := sqlstore.Open(context.Background(), "sqlite:"+path)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			// Empty, as a crash may leave them (a clean close removed them).
			for _, p := range []string{path + "-wal", path + "-shm"} {
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "data", "custos.db")
			tt.prepare(t, path)
			db, err := sqlstore.Open(ctx, "sqlite:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil { // writes: the WAL and its index exist now
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(p), err)
				}
				if perm := fi.Mode().Perm(); perm&0o077 != 0 {
					t.Errorf("%s has mode %v: readable beyond its owner", filepath.Base(p), perm)
				}
			}
			fi, err := os.Stat(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("data folder has mode %v", perm)
			}
		})
	}
}
