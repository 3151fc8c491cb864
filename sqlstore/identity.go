package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos/custos"
)

var (
	_ custos.IdentityStore = (*DB)(nil)
	_ custos.BlobStore     = (*DB)(nil)
)

// identityLockSpace is the first key of the transaction-scoped advisory
// locks taken on PostgreSQL on an identity key (its hashtext the second),
// "iden" in ASCII, apart from phoneLockSpace.
const identityLockSpace int32 = 0x6964656e

// defaultReviewLimit is how many pending submissions a ReviewFilter
// without a Limit lists.
const defaultReviewLimit = 100

// inChunk is how many values one IN (…) list holds at most, well below
// both databases' limits on bound parameters.
const inChunk = 500

const (
	submissionColumns = "id, account_id, kind, state, sealed, identity_key, last4, reason, reviewer_id, " +
		"submitted_at, decided_at, files_purged_at"
	blobInfoColumns = "id, owner_id, field, content_type, size, width, height, created_at"
)

// joinedColumns reads a submission (s) with one of its files (b) per row,
// the file's columns NULL when it has none.
var joinedColumns = prefixed("s.", submissionColumns) + ", " + prefixed("b.", blobInfoColumns)

func prefixed(p, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = p + c
	}
	return strings.Join(cols, ", ")
}

// notNull stores bytes in a NOT NULL column: nil as empty.
func notNull(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// lockIdentityKeys takes, on PostgreSQL, the transaction-scoped advisory
// lock of each key, in sorted order so that two transactions locking
// overlapping sets never deadlock. Every lock is taken before any row lock
// of the transaction. On SQLite the IMMEDIATE transaction already holds
// the database's write lock.
func (db *DB) lockIdentityKeys(ctx context.Context, tx *sql.Tx, keys ...string) error {
	if db.dialect != DialectPostgres {
		return nil
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	for _, k := range slices.Compact(sorted) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", identityLockSpace, k); err != nil {
			return fmt.Errorf("lock identity: %w", err)
		}
	}
	return nil
}

// CreateIdentitySubmission inserts s as pending, its files and ev, in one
// transaction that takes the account's claim on the identity. An account
// already claiming it under any of c.Keys keeps its claim (and, if that
// claim is under an older key, gets one under c.Keys[0] too, so the claim
// follows the key the submission is recorded under); any other account is
// admitted only while fewer than c.Max distinct accounts claim the identity
// under any of c.Keys, else EIdentityLimit. EConflict when the account
// already has a pending submission or an id is taken; ENotFound if the
// account is gone.
//
// The count and the claim must not interleave with another claim or a
// release of the same identity. On SQLite the IMMEDIATE transaction holds
// the write lock from the start; on PostgreSQL the transaction holds an
// advisory lock on each key (DecideIdentitySubmission takes the same locks
// before it releases a claim), and READ COMMITTED gives the count, run
// after the locks are granted, every claim committed before.
//
// s.Files and the decision fields of s are ignored: the files are files,
// each of which belongs to s (an OwnerID other than s.ID is a caller bug).
func (db *DB) CreateIdentitySubmission(ctx context.Context, s custos.IdentitySubmission, c custos.IdentityClaim, files []custos.Blob, ev custos.AuditEvent) error {
	switch {
	case s.ID == "" || s.AccountID == "":
		return errors.New("sqlstore: create identity submission: a submission needs an id and an account")
	case len(c.Keys) == 0 || slices.Contains(c.Keys, ""):
		return errors.New("sqlstore: create identity submission: the claim needs its identity keys")
	case s.IdentityKey == "":
		s.IdentityKey = c.Keys[0]
	case s.IdentityKey != c.Keys[0]:
		return errors.New("sqlstore: create identity submission: the submission's identity key is not the claim's primary key")
	}
	for _, f := range files {
		if f.OwnerID != "" && f.OwnerID != s.ID {
			return fmt.Errorf("sqlstore: create identity submission: file %q belongs to %q", f.ID, f.OwnerID)
		}
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		if err := db.lockIdentityKeys(ctx, tx, c.Keys...); err != nil {
			return fmt.Errorf("sqlstore: create identity submission: %w", err)
		}
		if err := db.claimIdentity(ctx, tx, s.AccountID, c); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO identity_submissions ("+submissionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?, NULL, NULL)"),
			s.ID, s.AccountID, string(s.Kind), string(custos.IdentityPending), notNull(s.Sealed), s.IdentityKey, s.Last4,
			millis(s.SubmittedAt))
		if err != nil {
			switch v, _ := classify(err, "identity_submissions", "id"); v {
			case uniqueViolation:
				return custos.Errorf(custos.EConflict, "the account already has a pending submission, or submission %q exists", s.ID)
			case foreignKeyViolation:
				return custos.Errorf(custos.ENotFound, "account not found")
			}
			return fmt.Errorf("sqlstore: create identity submission: %w", err)
		}
		for _, f := range files {
			if err := db.insertBlob(ctx, tx, s.ID, f); err != nil {
				return err
			}
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// claimIdentity applies the per-identity cap for accountID inside tx, the
// keys' locks held.
func (db *DB) claimIdentity(ctx context.Context, tx *sql.Tx, accountID string, c custos.IdentityClaim) error {
	keys := make([]any, len(c.Keys))
	for i, k := range c.Keys {
		keys[i] = k
	}
	in := "identity_key IN (" + placeholders(len(keys)) + ")"
	var own int
	err := tx.QueryRowContext(ctx, db.q("SELECT COUNT(*) FROM identity_claims WHERE account_id = ? AND "+in),
		append([]any{accountID}, keys...)...).Scan(&own)
	if err != nil {
		return fmt.Errorf("sqlstore: create identity submission: own claim: %w", err)
	}
	if own == 0 {
		var others int
		err := tx.QueryRowContext(ctx, db.q("SELECT COUNT(DISTINCT account_id) FROM identity_claims WHERE "+in),
			keys...).Scan(&others)
		if err != nil {
			return fmt.Errorf("sqlstore: create identity submission: count claims: %w", err)
		}
		if others >= c.Max {
			return custos.Errorf(custos.EIdentityLimit, "the identity is claimed by %d accounts", others)
		}
	}
	// A new claim, or the account's claim under an older key carried over
	// to the primary one; the count of distinct accounts is the same.
	_, err = tx.ExecContext(ctx, db.q(
		"INSERT INTO identity_claims (identity_key, account_id) VALUES (?, ?) ON CONFLICT DO NOTHING"),
		c.Keys[0], accountID)
	if err != nil {
		if v, _ := classify(err, "identity_claims", "account_id"); v == foreignKeyViolation {
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		return fmt.Errorf("sqlstore: create identity submission: claim: %w", err)
	}
	return nil
}

func (db *DB) insertBlob(ctx context.Context, tx *sql.Tx, ownerID string, f custos.Blob) error {
	if f.ID == "" {
		return errors.New("sqlstore: a file needs an id")
	}
	_, err := tx.ExecContext(ctx, db.q(
		"INSERT INTO blobs (id, owner_id, field, content_type, size, width, height, sealed, created_at) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		f.ID, ownerID, f.Field, f.ContentType, f.Size, f.Width, f.Height, notNull(f.Sealed), millis(f.CreatedAt))
	if err != nil {
		if v, _ := classify(err, "blobs", "id"); v == uniqueViolation {
			return custos.Errorf(custos.EConflict, "file %q already exists", f.ID)
		}
		return fmt.Errorf("sqlstore: insert file: %w", err)
	}
	return nil
}

// IdentitySubmissions returns the account's submissions, newest first (the
// same SubmittedAt by id, descending), each with its files' descriptions;
// an empty slice when there are none. One statement reads them, so the
// files agree with FilesPurgedAt.
func (db *DB) IdentitySubmissions(ctx context.Context, accountID string) ([]custos.IdentitySubmission, error) {
	out, err := db.querySubmissions(ctx,
		"SELECT "+joinedColumns+" FROM identity_submissions s LEFT JOIN blobs b ON b.owner_id = s.id "+
			"WHERE s.account_id = ? ORDER BY s.submitted_at DESC, s.id DESC, b.created_at, b.id",
		accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: identity submissions: %w", err)
	}
	return out, nil
}

// IdentitySubmissionByID returns one submission with its files'
// descriptions, or ENotFound.
func (db *DB) IdentitySubmissionByID(ctx context.Context, id string) (custos.IdentitySubmission, error) {
	out, err := db.querySubmissions(ctx,
		"SELECT "+joinedColumns+" FROM identity_submissions s LEFT JOIN blobs b ON b.owner_id = s.id "+
			"WHERE s.id = ? ORDER BY b.created_at, b.id",
		id)
	switch {
	case err != nil:
		return custos.IdentitySubmission{}, fmt.Errorf("sqlstore: identity submission by id: %w", err)
	case len(out) == 0:
		return custos.IdentitySubmission{}, custos.Errorf(custos.ENotFound, "submission not found")
	}
	return out[0], nil
}

// PendingIdentitySubmissions lists pending submissions oldest first (the
// same SubmittedAt by id), of f.Kind ("" for both), submitted after
// f.SubmittedAfter (zero for no bound), at most f.Limit (defaultReviewLimit
// when it is not positive), each with its files' descriptions.
func (db *DB) PendingIdentitySubmissions(ctx context.Context, f custos.ReviewFilter) ([]custos.IdentitySubmission, error) {
	where := []string{"state = 'pending'"}
	var args []any
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if !f.SubmittedAfter.IsZero() {
		where = append(where, "submitted_at > ?")
		args = append(args, millis(f.SubmittedAfter))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultReviewLimit
	}
	args = append(args, limit)
	out, err := db.querySubmissions(ctx,
		"SELECT "+joinedColumns+" FROM (SELECT "+submissionColumns+" FROM identity_submissions WHERE "+
			strings.Join(where, " AND ")+" ORDER BY submitted_at, id LIMIT ?) s "+
			"LEFT JOIN blobs b ON b.owner_id = s.id ORDER BY s.submitted_at, s.id, b.created_at, b.id",
		args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending identity submissions: %w", err)
	}
	return out, nil
}

// CountPendingIdentitySubmissions counts pending submissions by kind; a
// kind with none is absent from the map (which reads 0 for it).
func (db *DB) CountPendingIdentitySubmissions(ctx context.Context) (map[custos.IdentityKind]int, error) {
	rows, err := db.r.QueryContext(ctx,
		"SELECT kind, COUNT(*) FROM identity_submissions WHERE state = 'pending' GROUP BY kind")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: count pending identity submissions: %w", err)
	}
	defer rows.Close()
	out := map[custos.IdentityKind]int{}
	for rows.Next() {
		var (
			kind string
			n    int
		)
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: count pending identity submissions: %w", err)
		}
		out[custos.IdentityKind(kind)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: count pending identity submissions: %w", err)
	}
	return out, nil
}

// querySubmissions runs a query of joinedColumns whose rows come grouped
// by submission and gathers each submission's files.
func (db *DB) querySubmissions(ctx context.Context, query string, args ...any) ([]custos.IdentitySubmission, error) {
	rows, err := db.r.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []custos.IdentitySubmission{}
	for rows.Next() {
		var (
			s                             custos.IdentitySubmission
			kind, state                   string
			submitted                     int64
			decided, purged               sql.NullInt64
			bID, bOwner, bField, bType    sql.NullString
			bSize, bWidth, bHeight, bTime sql.NullInt64
		)
		if err := rows.Scan(&s.ID, &s.AccountID, &kind, &state, &s.Sealed, &s.IdentityKey, &s.Last4,
			&s.Reason, &s.ReviewerID, &submitted, &decided, &purged,
			&bID, &bOwner, &bField, &bType, &bSize, &bWidth, &bHeight, &bTime); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != s.ID {
			s.Kind = custos.IdentityKind(kind)
			s.State = custos.IdentityState(state)
			s.SubmittedAt = fromMillis(submitted)
			s.DecidedAt = fromOptMillis(decided)
			s.FilesPurgedAt = fromOptMillis(purged)
			s.Files = []custos.BlobInfo{}
			out = append(out, s)
		}
		if bID.Valid {
			last := &out[len(out)-1]
			last.Files = append(last.Files, custos.BlobInfo{
				ID: bID.String, OwnerID: bOwner.String, Field: bField.String, ContentType: bType.String,
				Size: int(bSize.Int64), Width: int(bWidth.Int64), Height: int(bHeight.Int64),
				CreatedAt: fromMillis(bTime.Int64),
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// DecideIdentitySubmission moves the pending submission to verified or
// rejected, storing the reason, the reviewer and the time, and writes ev
// and se (unless se.ID is ""), in one transaction. The move is one UPDATE
// whose WHERE clause holds state = 'pending', so of racing decisions (on
// any replica) exactly one matches the row; the others, and any decision
// of a submission decided before, get EAlreadyDecided. ENotFound if there
// is no such submission.
//
// On approval the account's earlier verified submission becomes
// superseded and its claim is released unless it is under the same
// identity key; on rejection the submission's claim is released unless
// the account's verified submission has the same identity key. On
// PostgreSQL the claims that may be released are locked (as
// CreateIdentitySubmission locks them) before anything else, so a count
// never sees a claim a release is about to drop as the account's own.
func (db *DB) DecideIdentitySubmission(ctx context.Context, d custos.IdentityDecision, ev custos.AuditEvent, se custos.StaffEvent) error {
	to := custos.IdentityRejected
	if d.Approve {
		to = custos.IdentityVerified
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		// The account and the key never change: read them to lock first.
		var accountID, key string
		err := tx.QueryRowContext(ctx, db.q("SELECT account_id, identity_key FROM identity_submissions WHERE id = ?"),
			d.SubmissionID).Scan(&accountID, &key)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return custos.Errorf(custos.ENotFound, "submission not found")
		case err != nil:
			return fmt.Errorf("sqlstore: decide identity submission: %w", err)
		}
		// The account's verified key: superseded on approval, kept on
		// rejection. Only an approval of the account's one pending
		// submission changes it, and that is this decision or one racing
		// it on the same row.
		verified, err := db.verifiedKeys(ctx, tx, accountID, d.SubmissionID)
		if err != nil {
			return err
		}
		if err := db.lockIdentityKeys(ctx, tx, append([]string{key}, verified...)...); err != nil {
			return fmt.Errorf("sqlstore: decide identity submission: %w", err)
		}
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE identity_submissions SET state = ?, reason = ?, reviewer_id = ?, decided_at = ? "+
				"WHERE id = ? AND state = 'pending'"),
			string(to), d.Reason, d.ReviewerID, millis(d.At), d.SubmissionID))
		if err != nil {
			return fmt.Errorf("sqlstore: decide identity submission: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.EAlreadyDecided, "the submission was already decided")
		}
		if d.Approve {
			if _, err := tx.ExecContext(ctx, db.q(
				"UPDATE identity_submissions SET state = 'superseded' "+
					"WHERE account_id = ? AND state = 'verified' AND id <> ?"),
				accountID, d.SubmissionID); err != nil {
				return fmt.Errorf("sqlstore: decide identity submission: supersede: %w", err)
			}
			for _, old := range verified {
				if old == key {
					continue
				}
				if err := db.releaseClaim(ctx, tx, old, accountID); err != nil {
					return err
				}
			}
		} else if !slices.Contains(verified, key) {
			if err := db.releaseClaim(ctx, tx, key, accountID); err != nil {
				return err
			}
		}
		if err := db.insertAudit(ctx, tx, ev); err != nil {
			return err
		}
		if se.ID != "" {
			return db.insertStaffEvent(ctx, tx, se)
		}
		return nil
	})
}

// verifiedKeys returns the identity keys of the account's verified
// submissions other than id (at most one).
func (db *DB) verifiedKeys(ctx context.Context, tx *sql.Tx, accountID, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, db.q(
		"SELECT identity_key FROM identity_submissions WHERE account_id = ? AND state = 'verified' AND id <> ?"),
		accountID, id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: decide identity submission: verified: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("sqlstore: decide identity submission: verified: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: decide identity submission: verified: %w", err)
	}
	return keys, nil
}

func (db *DB) releaseClaim(ctx context.Context, tx *sql.Tx, key, accountID string) error {
	if _, err := tx.ExecContext(ctx, db.q("DELETE FROM identity_claims WHERE identity_key = ? AND account_id = ?"),
		key, accountID); err != nil {
		return fmt.Errorf("sqlstore: decide identity submission: release claim: %w", err)
	}
	return nil
}

// PurgeIdentityFiles deletes the files of the submissions decided before
// `before` whose files are still kept, marks those submissions purged at
// now, and returns how many files went, in one transaction. The UPDATE …
// RETURNING picks (and on PostgreSQL locks) the submissions, so their
// files and their mark agree.
func (db *DB) PurgeIdentityFiles(ctx context.Context, before, now time.Time) (int, error) {
	var total int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.q(
			"UPDATE identity_submissions SET files_purged_at = ? "+
				"WHERE decided_at IS NOT NULL AND decided_at < ? AND files_purged_at IS NULL RETURNING id"),
			millis(now), millis(before))
		if err != nil {
			return fmt.Errorf("sqlstore: purge identity files: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: purge identity files: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: purge identity files: %w", err)
		}
		for chunk := range slices.Chunk(ids, inChunk) {
			n, err := affected(tx.ExecContext(ctx, db.q(
				"DELETE FROM blobs WHERE owner_id IN ("+placeholders(len(chunk))+")"), chunk...))
			if err != nil {
				return fmt.Errorf("sqlstore: purge identity files: %w", err)
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(total), nil
}

// BlobByID returns the file id of ownerID, content and all; ENotFound if
// there is none, it belongs to another owner or it was purged.
func (db *DB) BlobByID(ctx context.Context, ownerID, id string) (custos.Blob, error) {
	var (
		b       custos.Blob
		created int64
	)
	err := db.r.QueryRowContext(ctx, db.q(
		"SELECT "+blobInfoColumns+", sealed FROM blobs WHERE id = ? AND owner_id = ?"), id, ownerID).
		Scan(&b.ID, &b.OwnerID, &b.Field, &b.ContentType, &b.Size, &b.Width, &b.Height, &created, &b.Sealed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Blob{}, custos.Errorf(custos.ENotFound, "file not found")
	case err != nil:
		return custos.Blob{}, fmt.Errorf("sqlstore: blob by id: %w", err)
	}
	b.CreatedAt = fromMillis(created)
	return b, nil
}
