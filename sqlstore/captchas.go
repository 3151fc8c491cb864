package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

var _ custos.CaptchaStore = (*DB)(nil)

const captchaColumns = "id, digits, created_at, expires_at"

// CreateCaptcha inserts c; EConflict if its id is taken. A captcha without
// digits is a caller bug and fails with a plain error.
func (db *DB) CreateCaptcha(ctx context.Context, c custos.Captcha) error {
	if len(c.Digits) == 0 {
		return errors.New("sqlstore: create captcha: no digits")
	}
	_, err := db.w.ExecContext(ctx, db.q(
		"INSERT INTO captchas ("+captchaColumns+") VALUES (?, ?, ?, ?)"),
		c.ID, c.Digits, millis(c.CreatedAt), millis(c.ExpiresAt))
	if err != nil {
		if v, _ := classify(err, "captchas", "id"); v == uniqueViolation {
			return custos.Errorf(custos.EConflict, "captcha %q already exists", c.ID)
		}
		return fmt.Errorf("sqlstore: create captcha: %w", err)
	}
	return nil
}

// CaptchaByID returns a live captcha; ENotFound if it is unknown, consumed
// or expired (ExpiresAt <= now).
func (db *DB) CaptchaByID(ctx context.Context, id string, now time.Time) (custos.Captcha, error) {
	row := db.r.QueryRowContext(ctx, db.q(
		"SELECT "+captchaColumns+" FROM captchas WHERE id = ? AND expires_at > ?"), id, millis(now))
	c, err := scanCaptcha(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Captcha{}, custos.Errorf(custos.ENotFound, "captcha not found")
	case err != nil:
		return custos.Captcha{}, fmt.Errorf("sqlstore: captcha by id: %w", err)
	}
	return c, nil
}

// ConsumeCaptcha deletes and returns a live captcha in one DELETE …
// RETURNING, so of any number of concurrent calls, on any replicas, one
// gets it; ENotFound as for CaptchaByID. An expired captcha is left for
// DeleteExpiredCaptchas.
func (db *DB) ConsumeCaptcha(ctx context.Context, id string, now time.Time) (custos.Captcha, error) {
	row := db.w.QueryRowContext(ctx, db.q(
		"DELETE FROM captchas WHERE id = ? AND expires_at > ? RETURNING "+captchaColumns), id, millis(now))
	c, err := scanCaptcha(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Captcha{}, custos.Errorf(custos.ENotFound, "captcha not found")
	case err != nil:
		return custos.Captcha{}, fmt.Errorf("sqlstore: consume captcha: %w", err)
	}
	return c, nil
}

// DeleteExpiredCaptchas removes the captchas expired at now (ExpiresAt <=
// now, the same rule as CaptchaByID) and returns how many.
func (db *DB) DeleteExpiredCaptchas(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(db.w.ExecContext(ctx, db.q("DELETE FROM captchas WHERE expires_at <= ?"), millis(now)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired captchas: %w", err)
	}
	return int(n), nil
}

func scanCaptcha(row scanner) (custos.Captcha, error) {
	var (
		c                custos.Captcha
		created, expires int64
	)
	if err := row.Scan(&c.ID, &c.Digits, &created, &expires); err != nil {
		return custos.Captcha{}, err
	}
	c.CreatedAt = fromMillis(created)
	c.ExpiresAt = fromMillis(expires)
	return c, nil
}
