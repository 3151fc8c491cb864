package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos/custos/app"
	"github.com/custos/custos/tokenimport"
	"github.com/schollz/progressbar/v3"
)

// maxTokenFile bounds a seed file; a vendor batch of 100,000 tokens in PSKC
// is well under it.
const maxTokenFile = 256 << 20

// importTokensCommand is `custos admin tokens import [--psk HEX] FILE`.
func importTokensCommand(fs *flag.FlagSet) func([]string) (adminJob, error) {
	psk := fs.String("psk", "", "hex pre-shared key for an encrypted PSKC file")
	return func(args []string) (adminJob, error) {
		var key []byte
		if *psk != "" {
			var err error
			if key, err = hex.DecodeString(*psk); err != nil {
				return nil, errors.New("--psk: want the key in hex")
			}
		}
		return func(ctx context.Context, cfg app.Config, out io.Writer) error {
			return importTokens(ctx, cfg, key, args[0], out)
		}, nil
	}
}

// importTokens reads a PSKC (RFC 6030) or CSV seed file, reports every
// rejected row, and adds the rest to the inventory, with a progress bar
// when out is a terminal. Rejected rows make it fail after the import.
func importTokens(ctx context.Context, cfg app.Config, key []byte, path string, out io.Writer) error {
	data, err := readLimited(path)
	if err != nil {
		return err
	}
	bars := isTerminal(out)
	progress := func(int) {}
	var parsing *progressbar.ProgressBar
	if bars {
		parsing = progressbar.NewOptions(-1, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("reading"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		progress = func(n int) { parsing.Set(n) }
	}
	var tokens []tokenimport.Token
	var rejected []tokenimport.Rejected
	if isPSKC(path, data) {
		tokens, rejected, err = tokenimport.ParsePSKC(bytes.NewReader(data), key, progress)
	} else {
		tokens, rejected, err = tokenimport.ParseCSV(bytes.NewReader(data), progress)
	}
	if parsing != nil {
		parsing.Finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range rejected {
		fmt.Fprintf(out, "rejected row %d (serial %q): %s\n", r.Row, r.Serial, r.Reason)
	}
	a, err := app.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	done := func(int) {}
	var bar *progressbar.ProgressBar
	if bars {
		bar = progressbar.NewOptions(len(tokens), progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount())
		done = func(n int) { bar.Set(n) }
	}
	res, err := a.MFA.ImportTokens(ctx, tokens, done)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(out)
	}
	for _, serial := range res.Duplicate {
		fmt.Fprintf(out, "skipped serial %q: already in the inventory\n", serial)
	}
	fmt.Fprintf(out, "imported %d tokens, skipped %d already present, rejected %d rows\n", res.Imported, len(res.Duplicate), len(rejected))
	if err == nil && len(rejected) > 0 {
		err = fmt.Errorf("%s: %d rows rejected (listed above); the others were imported", path, len(rejected))
	}
	return err
}

// isTerminal reports whether w is a terminal (a character device), where
// a progress bar may redraw itself; in a pipe or a log file it would only
// add noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// listTokens is `custos admin tokens list`.
func listTokens(ctx context.Context, cfg app.Config, out io.Writer) error {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.ListHardwareTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tKIND\tSTATUS\tDEVICE\tIMPORTED")
	for _, t := range list {
		kind := fmt.Sprintf("%s %s %d digits", t.OTPKind, t.Algorithm, t.Digits)
		if t.OTPKind == "totp" {
			kind += fmt.Sprintf(" %ds", t.Period)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Serial, kind, t.Status, orNone(t.DeviceID), t.CreatedAt.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d tokens\n", len(list))
	return nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTokenFile {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxTokenFile>>20)
	}
	return data, nil
}

// isPSKC tells a PSKC file from a CSV one by its extension or its first
// non-blank character.
func isPSKC(path string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xml", ".pskc":
		return true
	case ".csv":
		return false
	}
	return strings.HasPrefix(strings.TrimSpace(string(data[:min(len(data), 512)])), "<")
}
