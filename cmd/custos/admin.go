package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/app"
	"github.com/custos/custos/phone"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/staff"
)

const adminUsage = `usage: custos admin [flags] COMMAND
commands (custos admin COMMAND --help for one of them):
  account EMAIL   show an account: its sessions, lock state, protection,
                  MFA devices and phone (masked)
  unlock EMAIL    end the password-login lock and failure series of EMAIL (audited)
  tokens import [--psk HEX] FILE
                  add hardware OTP tokens from a PSKC (RFC 6030) or CSV file
                  (serial,secret_base32,type,digits,period_or_counter,algorithm)
  tokens list     list the hardware-token inventory
  audit [--account ID] [--type T] [--since RFC3339] [--limit N]
                  print audit events as JSON lines, newest first
  backup PATH     write a consistent copy of the SQLite database to PATH
  staff add EMAIL --role reviewer|admin
                  add a staff member; prints the one-time enrolment URL (the
                  links start with --public-url: give the one staff use)
  staff reinvite EMAIL
                  print a new enrolment URL for a staff member not yet enrolled
  staff disable EMAIL
                  disable a staff member for good and end their sessions
  staff list      list staff members
  webhooks add URL --secret @FILE --events KIND[,KIND…] [--allow-http]
                  register a signed security webhook; prints its id
  webhooks list   list the security webhooks
  webhooks remove ID
                  remove a security webhook and its delivery log
  webhooks deliveries ID [--limit N]
                  show a webhook's delivery log, newest first
The flags (below) go before COMMAND; a command's own flags after it.`

// adminJob is an admin command with its arguments checked, ready to run
// on the configuration.
type adminJob func(ctx context.Context, cfg app.Config, out io.Writer) error

// adminCommand describes one admin command. setup defines its own flags on
// fs and returns what makes the job from its positional arguments (nargs
// of them, none starting with "-").
type adminCommand struct {
	words string // "unlock", "tokens import"
	args  string // "EMAIL", for the usage
	about string
	nargs int    // positional arguments, each a pos
	pos   string // "EMAIL", "FILE", "PATH"
	setup func(fs *flag.FlagSet) func(args []string) (adminJob, error)
}

func adminCommands() []adminCommand {
	one := func(run func(ctx context.Context, cfg app.Config, arg string, out io.Writer) error) func(*flag.FlagSet) func([]string) (adminJob, error) {
		return func(*flag.FlagSet) func([]string) (adminJob, error) {
			return func(args []string) (adminJob, error) {
				return func(ctx context.Context, cfg app.Config, out io.Writer) error { return run(ctx, cfg, args[0], out) }, nil
			}
		}
	}
	none := func(run func(ctx context.Context, cfg app.Config, out io.Writer) error) func(*flag.FlagSet) func([]string) (adminJob, error) {
		return func(*flag.FlagSet) func([]string) (adminJob, error) {
			return func([]string) (adminJob, error) { return run, nil }
		}
	}
	staffCmd := func(verb string) func(*flag.FlagSet) func([]string) (adminJob, error) {
		return func(fs *flag.FlagSet) func([]string) (adminJob, error) {
			var role string
			if verb == "add" {
				fs.StringVar(&role, "role", "", "reviewer or admin (required)")
			}
			return func(args []string) (adminJob, error) {
				if verb == "add" && role != string(custos.RoleReviewer) && role != string(custos.RoleAdmin) {
					return nil, errors.New("--role: want reviewer or admin")
				}
				email := ""
				if len(args) > 0 {
					email = args[0]
				}
				return func(ctx context.Context, cfg app.Config, out io.Writer) error {
					return adminStaff(ctx, cfg, verb, email, custos.StaffRole(role), out)
				}, nil
			}
		}
	}
	return append([]adminCommand{
		{words: "account", args: "EMAIL", nargs: 1, pos: "EMAIL", setup: one(adminAccount),
			about: "Shows the account's id, kind, email, creation time, sessions, the lock state of\nits email login, its protection switches and methods, its MFA devices and its\nphone (masked)."},
		{words: "unlock", args: "EMAIL", nargs: 1, pos: "EMAIL", setup: one(adminUnlock),
			about: "Ends the password-login lock and the failure series of the login identifier\nEMAIL (with or without an account); audited as login.unlocked."},
		{words: "tokens import", args: "[--psk HEX] FILE", nargs: 1, pos: "FILE", setup: importTokensCommand,
			about: "Adds hardware OTP tokens from a PSKC (RFC 6030) or CSV file\n(serial,secret_base32,type,digits,period_or_counter,algorithm). Each bad row is\nlisted and the good ones imported; the exit status is 1 when a row was rejected."},
		{words: "tokens list", nargs: 0, setup: none(listTokens),
			about: "Lists the hardware-token inventory: serial, kind, algorithm and digits,\nstatus (stock, bound or retired), the device a bound token is, and when it\nwas imported."},
		{words: "audit", args: "[--account ID] [--type T] [--since RFC3339] [--limit N]", nargs: 0, setup: auditCommand,
			about: "Prints audit events as JSON lines, newest first: id, at, account_id, type,\nidentifier, remote_addr, user_agent, detail."},
		{words: "backup", args: "PATH", nargs: 1, pos: "PATH", setup: one(backup),
			about: "Writes a consistent copy of the SQLite database to PATH (mode 0600) with\nVACUUM INTO, also while the server runs. PATH must not exist. On PostgreSQL use\npg_dump instead."},
		{words: "staff add", args: "EMAIL --role reviewer|admin", nargs: 1, pos: "EMAIL", setup: staffCmd("add"),
			about: "Adds a staff member and prints the one-time enrolment URL (it starts with\n--public-url: give the one staff use)."},
		{words: "staff reinvite", args: "EMAIL", nargs: 1, pos: "EMAIL", setup: staffCmd("reinvite"),
			about: "Prints a new enrolment URL for a staff member not yet enrolled."},
		{words: "staff disable", args: "EMAIL", nargs: 1, pos: "EMAIL", setup: staffCmd("disable"),
			about: "Disables a staff member for good and ends their sessions."},
		{words: "staff list", nargs: 0, setup: staffCmd("list"),
			about: "Lists the staff members: id, email, role and state."},
	}, webhookCommands()...)
}

// parseAdmin checks the admin command line args (after the admin flags)
// and returns its job. With --help anywhere in a command's arguments it
// prints that command's usage to stdout and returns flag.ErrHelp; any other
// error is one line for standard error, and nothing has been done.
func parseAdmin(args []string, stdout io.Writer) (adminJob, error) {
	cmds := adminCommands()
	if len(args) == 0 {
		return nil, fmt.Errorf("custos admin: want a command: %s (custos admin --help)", adminCommandList(cmds, ""))
	}
	var cmd *adminCommand
	for i := range cmds {
		w := strings.Fields(cmds[i].words)
		if len(args) >= len(w) && strings.Join(args[:len(w)], " ") == cmds[i].words {
			cmd = &cmds[i]
			args = args[len(w):]
			break
		}
	}
	if cmd == nil {
		// A group's first word alone (tokens, staff), or with --help.
		if group := adminCommandList(cmds, args[0]); group != "" {
			if len(args) > 1 && isHelpFlag(args[1]) {
				for _, c := range cmds {
					if strings.HasPrefix(c.words, args[0]+" ") {
						fmt.Fprintln(stdout, strings.TrimSpace("usage: custos admin [flags] "+c.words+" "+c.args))
					}
				}
				return nil, flag.ErrHelp
			}
			if len(args) == 1 {
				return nil, fmt.Errorf("custos admin %s: want %s", args[0], group)
			}
			return nil, fmt.Errorf("custos admin %s: unknown command %q: want %s", args[0], args[1], group)
		}
		return nil, fmt.Errorf("custos admin: unknown command %q: want %s (custos admin --help)", args[0], adminCommandList(cmds, ""))
	}
	name := "custos admin " + cmd.words
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	build := cmd.setup(fs)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "%s\n\n%s\n", strings.TrimSpace("usage: custos admin [flags] "+cmd.words+" "+cmd.args), cmd.about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(stdout, "\nflags of the command (after it):")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		fmt.Fprintln(stdout, "\nThe admin flags (the server's, custos admin --help) go before the command.")
		return nil, flag.ErrHelp
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v (%s --help)", name, err, name)
	}
	for _, a := range pos {
		if strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("%s: %q is not a flag of this command, nor an argument (%s --help)", name, a, name)
		}
	}
	if len(pos) != cmd.nargs {
		want := "no arguments"
		if cmd.nargs > 0 {
			want = "one " + cmd.pos
		}
		return nil, fmt.Errorf("%s: want %s, got %d argument(s) (%s --help)", name, want, len(pos), name)
	}
	job, err := build(pos)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	target := ""
	if cmd.pos == "EMAIL" {
		target = pos[0]
	}
	return loggedAdmin(cmd.words, target, job), nil
}

// loggedAdmin is job logging, once it has run, one line: which admin
// command, by whom, on which email (never a file's content or a flag's
// value). A command that failed logs nothing more: its error is the one
// line it prints.
func loggedAdmin(words, target string, job adminJob) adminJob {
	return func(ctx context.Context, cfg app.Config, out io.Writer) error {
		if err := job(ctx, cfg, out); err != nil {
			return err
		}
		attrs := []any{"command", words, "actor", cliActor()}
		if target != "" {
			attrs = append(attrs, "target", target)
		}
		cfg.Logger.Info("admin action", attrs...)
		return nil
	}
}

// adminCommandList lists the commands, or with group those under it
// ("add, reinvite, …"); "" when group has none.
func adminCommandList(cmds []adminCommand, group string) string {
	var names []string
	for _, c := range cmds {
		if group == "" {
			names = append(names, c.words)
		} else if rest, ok := strings.CutPrefix(c.words, group+" "); ok {
			names = append(names, rest)
		}
	}
	return strings.Join(names, ", ")
}

// parseInterleaved parses args with fs, allowing flags after positional
// arguments (staff add EMAIL --role admin). Everything after "--" is
// positional. It returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// cliActor names the operator in the audit log.
func cliActor() string {
	if u := os.Getenv("USER"); u != "" {
		return "admin-cli:" + u
	}
	return "admin-cli"
}

func adminUnlock(ctx context.Context, cfg app.Config, email string, out io.Writer) error {
	a, err := app.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Auth.Unlock(ctx, custos.EmailLogin(email), cliActor()); err != nil {
		return err
	}
	fmt.Fprintf(out, "unlocked %s\n", custos.NormalizeEmail(email))
	return nil
}

// adminAccount prints what an operator needs to answer "why can't I get
// in": the account, its sessions, the lock of its email login (through
// the auth service, as a login sees it), protection, devices and phone.
func adminAccount(ctx context.Context, cfg app.Config, email string, out io.Writer) error {
	a, err := app.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	acct, err := a.Store.AccountByEmail(ctx, custos.NormalizeEmail(email))
	if custos.IsCode(err, custos.ENotFound) {
		return fmt.Errorf("no account has the email %s", email)
	}
	if err != nil {
		return err
	}
	sessions, err := a.Store.ListSessions(ctx, acct.ID)
	if err != nil {
		return err
	}
	id := custos.EmailLogin(email)
	captcha, lockedUntil, err := a.Auth.LoginStatus(ctx, id)
	if err != nil {
		return err
	}
	counter, err := a.Store.GetCounter(ctx, a.LoginKeys.Counter(id))
	if err != nil {
		return err
	}
	now := cfg.Clock.Now()
	series := a.Auth.Config().Lockout.Current(counter, now)
	devices, err := a.Store.ListDevices(ctx, acct.ID)
	if err != nil {
		return err
	}
	recoveryCodes, err := a.Store.CountRecoveryCodes(ctx, acct.ID)
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("account", acct.ID)
	row("kind", string(acct.Kind))
	row("email", acct.Email)
	row("secure email", orNone(maskEmail(acct.SecureEmail)))
	row("phone", orNone(maskPhone(acct.Phone)))
	row("created", acct.CreatedAt.Format(time.RFC3339))
	row("sessions", fmt.Sprint(len(sessions)))
	if lockedUntil.IsZero() {
		row("lock", "not locked")
	} else {
		row("lock", "locked until "+lockedUntil.UTC().Format(time.RFC3339)+" (custos admin unlock "+acct.Email+" ends it)")
	}
	failures := fmt.Sprintf("%d in the series", series.Failures)
	if series.Failures > 0 && !series.Start.IsZero() {
		failures += " since " + series.Start.UTC().Format(time.RFC3339)
	}
	if captcha {
		failures += "; the next login needs a captcha"
	}
	row("failures", failures)
	hasDevice := len(devices) > 0
	row("login protection", onOff(acct.Protection.Login, custos.ChosenMethod(acct.Protection.LoginMethod, hasDevice)))
	row("operation protection", onOff(acct.Protection.Operation, custos.ChosenMethod(acct.Protection.OperationMethod, hasDevice)))
	row("recovery codes", fmt.Sprintf("%d unused", recoveryCodes))
	row("mfa devices", fmt.Sprint(len(devices)))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(devices) > 0 {
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TYPE\tNAME\tSERIAL\tCREATED\tLAST USED")
		for _, d := range devices {
			used := "never"
			if !d.LastUsedAt.IsZero() {
				used = d.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "  %s\t%q\t%s\t%s\t%s\n", d.Type, d.Name, orNone(d.Serial), d.CreatedAt.UTC().Format(time.RFC3339), used)
		}
		return tw.Flush()
	}
	return nil
}

func onOff(on bool, method string) string {
	if !on {
		return "off"
	}
	if method == "" {
		method = "any channel on file"
	}
	return "on (" + method + ")"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func maskPhone(e164 string) string {
	if e164 == "" {
		return ""
	}
	return phone.Mask(e164)
}

func maskEmail(e string) string {
	if e == "" {
		return ""
	}
	return custos.MaskEmail(e)
}

// auditCommand is `custos admin audit`.
func auditCommand(fs *flag.FlagSet) func([]string) (adminJob, error) {
	var f sqlstore.AuditFilter
	var since string
	fs.StringVar(&f.AccountID, "account", "", "only this account id's events")
	fs.StringVar(&f.Type, "type", "", "only events of this type, e.g. login.locked")
	fs.StringVar(&since, "since", "", "only events at or after this time (RFC 3339, e.g. 2025-03-01T00:00:00Z)")
	fs.IntVar(&f.Limit, "limit", sqlstore.DefaultAuditLimit, fmt.Sprintf("most events printed (1–%d)", sqlstore.MaxAuditLimit))
	return func([]string) (adminJob, error) {
		if since != "" {
			t, err := time.Parse(time.RFC3339, since)
			if err != nil {
				return nil, fmt.Errorf("--since %q: want an RFC 3339 time such as 2025-03-01T00:00:00Z", since)
			}
			f.Since = t
		}
		if f.Limit < 1 || f.Limit > sqlstore.MaxAuditLimit {
			return nil, fmt.Errorf("--limit: 1–%d", sqlstore.MaxAuditLimit)
		}
		return func(ctx context.Context, cfg app.Config, out io.Writer) error {
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			evs, err := db.AuditEvents(ctx, f)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(out)
			for _, ev := range evs {
				if err := enc.Encode(auditLine{ID: ev.ID, At: ev.At.UTC(), AccountID: ev.AccountID, Type: ev.Type,
					Identifier: ev.Identifier, RemoteAddr: ev.RemoteAddr, UserAgent: ev.UserAgent, Detail: ev.Detail}); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}
}

// auditLine is one line of `custos admin audit`.
type auditLine struct {
	ID         string            `json:"id"`
	At         time.Time         `json:"at"`
	AccountID  string            `json:"account_id"`
	Type       string            `json:"type"`
	Identifier string            `json:"identifier"`
	RemoteAddr string            `json:"remote_addr"`
	UserAgent  string            `json:"user_agent"`
	Detail     map[string]string `json:"detail"`
}

// openStore opens and migrates the database, for the commands that read
// it alone.
func openStore(ctx context.Context, cfg app.Config) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// adminStaff runs the staff commands. Each is in the staff audit trail as
// done from the command line.
func adminStaff(ctx context.Context, cfg app.Config, verb, email string, role custos.StaffRole, out io.Writer) error {
	a, err := app.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	cli := staff.Actor{Client: cliClient()}
	switch verb {
	case "add":
		url, err := a.Staff.Add(ctx, cli, email, role)
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
	}
	return nil
}

// cliClient is where an admin command acts from, for the staff audit
// trail: the command line, and the operator's name.
func cliClient() custos.Client { return custos.Client{Addr: "command line", UserAgent: cliUser()} }

// cliUser names the operator in the staff audit trail.
func cliUser() string {
	if u := os.Getenv("USER"); u != "" {
		return "custos admin (" + u + ")"
	}
	return "custos admin"
}
