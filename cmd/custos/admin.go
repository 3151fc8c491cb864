package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/app"
	"github.com/custos/custos/sqlstore"
)

const adminUsage = `usage: custos admin [flags] COMMAND
commands:
  account EMAIL   show an account and its live sessions
  unlock EMAIL    end the password-login lock and failure series of EMAIL (audited)
  tokens import [--psk HEX] FILE
                  add hardware OTP tokens from a PSKC (RFC 6030) or CSV file
                  (serial,secret_base32,type,digits,period_or_counter,algorithm)`

func admin(ctx context.Context, cfg app.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	if len(args) >= 2 && args[0] == "tokens" && args[1] == "import" {
		return importTokens(ctx, cfg, args[2:], out)
	}
	if args[0] == "unlock" && len(args) == 2 {
		a, err := app.Build(ctx, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		actor := "admin-cli"
		if u := os.Getenv("USER"); u != "" {
			actor = "admin-cli:" + u
		}
		if err := a.Auth.Unlock(ctx, custos.EmailLogin(args[1]), actor); err != nil {
			return err
		}
		fmt.Fprintf(out, "unlocked %s\n", custos.NormalizeEmail(args[1]))
		return nil
	}
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	switch {
	case args[0] == "account" && len(args) == 2:
		acct, err := db.AccountByEmail(ctx, custos.NormalizeEmail(args[1]))
		if custos.IsCode(err, custos.ENotFound) {
			return fmt.Errorf("no account has the email %s", args[1])
		}
		if err != nil {
			return err
		}
		sessions, err := db.ListSessions(ctx, acct.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "account  %s\nkind     %s\nemail    %s\ncreated  %s\nsessions %d\n",
			acct.ID, acct.Kind, acct.Email, acct.CreatedAt.Format(time.RFC3339), len(sessions))
		return nil
	default:
		return errors.New(adminUsage)
	}
}
