package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

// challengeColumns are the columns a Challenge reads from and writes to.
// The data column, which older releases filled for flows kept here, is no
// longer read or written: a one-time code has no state of its own.
const challengeColumns = "id, purpose, target, account_id, code_hash, attempts, max_attempts, " +
	"created_at, expires_at, used_at"

// liveChallenge is the condition a challenge meets while it can still be
// answered: unused, unexpired and with attempts left. Arguments: id,
// purpose, now.
const liveChallenge = "id = ? AND purpose = ? AND used_at IS NULL AND attempts < max_attempts AND expires_at > ?"

// consumeQuery checks the code and changes the challenge in one statement,
// so concurrent tries on one challenge (from any replica) serialise on its
// row: a match sets used_at, a mismatch counts one attempt, and a challenge
// that is used, expired or exhausted matches no row and is left alone.
// Arguments: code hash, code hash, now, id, purpose, now.
const consumeQuery = "UPDATE challenges SET " +
	"attempts = attempts + CASE WHEN code_hash = ? THEN 0 ELSE 1 END, " +
	"used_at = CASE WHEN code_hash = ? THEN ? ELSE used_at END " +
	"WHERE " + liveChallenge + " RETURNING " + challengeColumns

// CreateChallenge inserts c and writes notify through the outbox in the
// same transaction; EConflict if its id is taken.
func (db *DB) CreateChallenge(ctx context.Context, c custos.Challenge, notify ...custos.Message) error {
	if len(notify) == 0 {
		return db.insertChallenge(ctx, db.w, c)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.insertChallenge(ctx, tx, c); err != nil {
			return err
		}
		return db.writeOutbox(ctx, tx, notify)
	})
}

func (db *DB) insertChallenge(ctx context.Context, ex execer, c custos.Challenge) error {
	_, err := ex.ExecContext(ctx, db.q(
		"INSERT INTO challenges ("+challengeColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		c.ID, c.Purpose, c.Target, c.AccountID, c.CodeHash, c.Attempts, c.MaxAttempts,
		millis(c.CreatedAt), millis(c.ExpiresAt), optMillis(c.UsedAt))
	if err != nil {
		if v, _ := classify(err, "challenges", "id"); v == uniqueViolation {
			return custos.Errorf(custos.EConflict, "challenge %q already exists", c.ID)
		}
		return fmt.Errorf("sqlstore: create challenge: %w", err)
	}
	return nil
}

// ConsumeChallenge checks codeHash against the live challenge id of the
// given purpose in one atomic statement. A match marks it used at now and
// returns it; a mismatch counts one attempt and returns EInvalidCode (the
// last allowed attempt included). A used, expired (ExpiresAt <= now) or
// exhausted challenge returns EExpired without counting; an unknown id or
// one of another purpose returns ENotFound.
func (db *DB) ConsumeChallenge(ctx context.Context, id, purpose string, codeHash []byte, now time.Time) (custos.Challenge, error) {
	if now.IsZero() {
		// A zero now would be stored as a non-NULL used_at that reads back
		// as zero: refuse it rather than confuse used with unused.
		return custos.Challenge{}, errors.New("sqlstore: consume challenge: zero time")
	}
	at := millis(now)
	row := db.w.QueryRowContext(ctx, db.q(consumeQuery), codeHash, codeHash, at, id, purpose, at)
	c, err := scanChallenge(row)
	switch {
	case err == nil && c.UsedAt.IsZero():
		return custos.Challenge{}, custos.Errorf(custos.EInvalidCode, "wrong code")
	case err == nil:
		return c, nil
	case !errors.Is(err, sql.ErrNoRows):
		return custos.Challenge{}, fmt.Errorf("sqlstore: consume challenge: %w", err)
	}
	return custos.Challenge{}, db.deadChallenge(ctx, id, purpose)
}

// deadChallenge says why no live challenge matched: ENotFound when there
// is no challenge id of the purpose, EExpired when there is one but it is
// no longer live. Purpose never changes, and a challenge that stopped being
// live never becomes live again, so this second read cannot contradict the
// write before it.
func (db *DB) deadChallenge(ctx context.Context, id, purpose string) error {
	var got string
	err := db.r.QueryRowContext(ctx, db.q("SELECT purpose FROM challenges WHERE id = ?"), id).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && got != purpose:
		return custos.Errorf(custos.ENotFound, "challenge not found")
	case err != nil:
		return fmt.Errorf("sqlstore: challenge state: %w", err)
	}
	return custos.Errorf(custos.EExpired, "the code has expired or was already used")
}

func scanChallenge(row scanner) (custos.Challenge, error) {
	var (
		c                custos.Challenge
		created, expires int64
		used             sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.Purpose, &c.Target, &c.AccountID, &c.CodeHash,
		&c.Attempts, &c.MaxAttempts, &created, &expires, &used); err != nil {
		return custos.Challenge{}, err
	}
	c.CreatedAt = fromMillis(created)
	c.ExpiresAt = fromMillis(expires)
	c.UsedAt = fromOptMillis(used)
	return c, nil
}

// DeleteExpiredChallenges removes challenges expired by now (ExpiresAt <=
// now) and returns how many.
func (db *DB) DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(db.w.ExecContext(ctx, db.q("DELETE FROM challenges WHERE expires_at <= ?"), millis(now)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired challenges: %w", err)
	}
	return int(n), nil
}
