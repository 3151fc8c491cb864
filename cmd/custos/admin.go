package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/app"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/staff"
)

const adminUsage = `usage: custos admin [flags] COMMAND
commands:
  account EMAIL   show an account and its live sessions
  unlock EMAIL    end the password-login lock and failure series of EMAIL (audited)
  tokens import [--psk HEX] FILE
                  add hardware OTP tokens from a PSKC (RFC 6030) or CSV file
                  (serial,secret_base32,type,digits,period_or_counter,algorithm)
  staff add EMAIL --role reviewer|admin
                  add a staff member; prints the one-time enrolment URL (the
                  links start with --public-url: give the one staff use)
  staff reinvite EMAIL
                  print a new enrolment URL for a staff member not yet enrolled
  staff disable EMAIL
                  disable a staff member for good and end their sessions
  staff list      list staff members`

func admin(ctx context.Context, cfg app.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	if len(args) >= 2 && args[0] == "tokens" && args[1] == "import" {
		return importTokens(ctx, cfg, args[2:], out)
	}
	if args[0] == "staff" {
		return adminStaff(ctx, cfg, args[1:], out)
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

// adminStaff runs the staff commands. Each is in the staff audit trail as
// done from the command line.
func adminStaff(ctx context.Context, cfg app.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	var email, role string
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		switch a := rest[i]; {
		case a == "--role" || a == "-role":
			if i+1 >= len(rest) {
				return errors.New("--role: want reviewer or admin")
			}
			role = rest[i+1]
			i++
		case strings.HasPrefix(a, "--role=") || strings.HasPrefix(a, "-role="):
			_, role, _ = strings.Cut(a, "=")
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("%s: unknown flag\n%s", a, adminUsage)
		case email == "":
			email = a
		default:
			return errors.New(adminUsage)
		}
	}
	if args[0] != "list" && email == "" {
		return errors.New(adminUsage)
	}
	if args[0] != "add" && role != "" {
		return errors.New("--role: only for staff add")
	}
	a, err := app.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	cli := staff.Actor{Client: custos.Client{Addr: "command line", UserAgent: cliUser()}}
	switch args[0] {
	case "add":
		if role != string(custos.RoleReviewer) && role != string(custos.RoleAdmin) {
			return errors.New("--role: want reviewer or admin")
		}
		url, err := a.Staff.Add(ctx, cli, email, custos.StaffRole(role))
		if custos.IsCode(err, custos.EEmailTaken) {
			return fmt.Errorf("a staff member already has the email %s (staff reinvite prints a new link while they have not enrolled)", email)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(out, url)
	case "reinvite":
		url, err := a.Staff.Reinvite(ctx, cli, email)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, url)
	case "disable":
		if err := a.Staff.Disable(ctx, cli, email); err != nil {
			if custos.IsCode(err, custos.ENotFound) {
				return fmt.Errorf("no staff member has the email %s", email)
			}
			return err
		}
		fmt.Fprintf(out, "disabled %s\n", custos.NormalizeEmail(email))
	case "list":
		list, err := a.Staff.List(ctx, cli)
		if err != nil {
			return err
		}
		for _, m := range list {
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", m.ID, m.Email, m.Role, m.State)
		}
	default:
		return errors.New(adminUsage)
	}
	return nil
}

// cliUser names the operator in the staff audit trail.
func cliUser() string {
	if u := os.Getenv("USER"); u != "" {
		return "custos admin (" + u + ")"
	}
	return "custos admin"
}
