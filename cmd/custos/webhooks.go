package main

import (
	"cmp"
	"context"
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
)

// webhookCommands are the `custos admin webhooks …` rows of the admin
// command table.
func webhookCommands() []adminCommand {
	return []adminCommand{
		{words: "webhooks add", args: "URL --secret @FILE --events KIND[,KIND…] [--allow-http]", nargs: 1, pos: "URL",
			setup: addWebhookCommand,
			about: "Registers a security webhook: every event of the given kinds is posted to URL\n" +
				"as JSON, signed with the secret read from FILE (at least 16 bytes; trailing\n" +
				"whitespace is dropped) as the SMS webhook is (X-Custos-Timestamp,\n" +
				"X-Custos-Signature).\nKinds: " + strings.Join(custos.WebhookKinds, ", ") + ", or all.\n" +
				"URL is https://; http:// only for a loopback host, or with --dev, or with\n" +
				"--allow-http. Prints the new hook's id; the secret is kept sealed under the\n" +
				"key ring and never shown again."},
		{words: "webhooks list", nargs: 0, setup: noFlags(listWebhooks),
			about: "Lists the security webhooks: id, URL (without its query or user info), kinds\nand when each was added."},
		{words: "webhooks remove", args: "ID", nargs: 1, pos: "ID", setup: noFlagsArg(removeWebhook),
			about: "Removes a security webhook and its delivery log; its waiting deliveries are\ndropped."},
		{words: "webhooks deliveries", args: "ID [--limit N]", nargs: 1, pos: "ID", setup: webhookDeliveriesCommand,
			about: "Shows a webhook's delivery log, newest first: when, the event and its kind,\nthe attempt, the receiver's status (0: no answer), how long it took, the\noutcome (delivered, retrying, failed) and the error."},
	}
}

// noFlagsArg and noFlags make the setup of a command without flags of its own.
func noFlagsArg(run func(ctx context.Context, cfg app.Config, arg string, out io.Writer) error) func(*flag.FlagSet) func([]string) (adminJob, error) {
	return func(*flag.FlagSet) func([]string) (adminJob, error) {
		return func(args []string) (adminJob, error) {
			return func(ctx context.Context, cfg app.Config, out io.Writer) error { return run(ctx, cfg, args[0], out) }, nil
		}
	}
}

func noFlags(run adminJob) func(*flag.FlagSet) func([]string) (adminJob, error) {
	return func(*flag.FlagSet) func([]string) (adminJob, error) {
		return func([]string) (adminJob, error) { return run, nil }
	}
}

// maxSecretFile bounds the --secret file.
const maxSecretFile = 4 << 10

// addWebhookCommand is `custos admin webhooks add`.
func addWebhookCommand(fs *flag.FlagSet) func([]string) (adminJob, error) {
	secretArg := fs.String("secret", "", "@FILE holding the signing secret (required)")
	events := fs.String("events", "", "comma-separated kinds: "+strings.Join(custos.WebhookKinds, ",")+", or all (required)")
	allowHTTP := fs.Bool("allow-http", false, "accept an http:// URL whose host is not loopback")
	return func(args []string) (adminJob, error) {
		path, ok := strings.CutPrefix(*secretArg, "@")
		if !ok || path == "" {
			return nil, errors.New("--secret: want @FILE (a secret on the command line would show in ps and the shell history)")
		}
		secret, err := readSecretFile(path)
		if err != nil {
			return nil, fmt.Errorf("--secret: %v", err)
		}
		if *events == "" {
			return nil, errors.New("--events: want one or more of " + strings.Join(custos.WebhookKinds, ",") + ", or all")
		}
		kinds, bad, ok := custos.ParseWebhookKinds(*events)
		if !ok {
			return nil, fmt.Errorf("--events: unknown kind %q: want %s, or all", bad, strings.Join(custos.WebhookKinds, ","))
		}
		return func(ctx context.Context, cfg app.Config, out io.Writer) error {
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			h, err := app.AddWebhook(ctx, db, cfg.Keys, cfg.Rand, cfg.Clock, cliClient(), app.NewWebhook{
				URL: args[0], Secret: secret, Events: kinds, AllowHTTP: *allowHTTP || cfg.Dev,
			})
			if err != nil {
				return fmt.Errorf("webhooks add: %w", err)
			}
			fmt.Fprintf(out, "added %s\t%s\t%s\n", h.ID, app.WebhookDisplayURL(h.URL), strings.Join(h.Events, ","))
			return nil
		}, nil
	}
}

func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("%s is over %d bytes", path, maxSecretFile)
	}
	return []byte(strings.TrimRight(string(b), " \t\r\n")), nil
}

func listWebhooks(ctx context.Context, cfg app.Config, out io.Writer) error {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	hooks, err := db.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tADDED")
	for _, h := range hooks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.ID, app.WebhookDisplayURL(h.URL), strings.Join(h.Events, ","), h.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func removeWebhook(ctx context.Context, cfg app.Config, id string, out io.Writer) error {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := app.RemoveWebhook(ctx, db, cfg.Rand, cfg.Clock, cliClient(), id); err != nil {
		if custos.IsCode(err, custos.ENotFound) {
			return fmt.Errorf("no webhook has the id %s (custos admin webhooks list)", id)
		}
		return err
	}
	fmt.Fprintf(out, "removed %s\n", id)
	return nil
}

// maxDeliveries bounds --limit of webhooks deliveries.
const maxDeliveries = 10000

// webhookDeliveriesCommand is `custos admin webhooks deliveries ID`.
func webhookDeliveriesCommand(fs *flag.FlagSet) func([]string) (adminJob, error) {
	limit := fs.Int("limit", 50, fmt.Sprintf("most attempts shown (1–%d)", maxDeliveries))
	return func(args []string) (adminJob, error) {
		if *limit < 1 || *limit > maxDeliveries {
			return nil, fmt.Errorf("--limit: 1–%d", maxDeliveries)
		}
		return func(ctx context.Context, cfg app.Config, out io.Writer) error {
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.WebhookByID(ctx, args[0]); err != nil {
				if custos.IsCode(err, custos.ENotFound) {
					return fmt.Errorf("no webhook has the id %s (custos admin webhooks list)", args[0])
				}
				return err
			}
			log, err := db.WebhookDeliveries(ctx, args[0], *limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tEVENT\tKIND\tATTEMPT\tSTATUS\tDURATION\tOUTCOME\tERROR")
			for _, d := range log {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", d.At.UTC().Format(time.RFC3339), d.EventID, d.Kind,
					d.Attempt, d.StatusCode, d.Duration, d.Outcome, cmp.Or(d.Error, "-"))
			}
			return tw.Flush()
		}, nil
	}
}
