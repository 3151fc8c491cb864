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

	"github.com/custos/custos/app"
	"github.com/custos/custos/tokenimport"
	"github.com/schollz/progressbar/v3"
)

// maxTokenFile bounds a seed file; a vendor batch of 100,000 tokens in PSKC
// is well under it.
const maxTokenFile = 256 << 20

// importTokens runs `custos admin tokens import [--psk HEX] FILE`: it reads
// a PSKC (RFC 6030) or CSV seed file, reports every rejected row, and adds
// the rest to the inventory with a progress bar.
func importTokens(ctx context.Context, cfg app.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("custos admin tokens import", flag.ContinueOnError)
	fs.SetOutput(out)
	psk := fs.String("psk", "", "hex pre-shared key for an encrypted PSKC file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: custos admin tokens import [--psk HEX] FILE")
	}
	path := fs.Arg(0)
	data, err := readLimited(path)
	if err != nil {
		return err
	}
	var key []byte
	if *psk != "" {
		if key, err = hex.DecodeString(*psk); err != nil {
			return errors.New("--psk: want the key in hex")
		}
	}
	parsing := progressbar.NewOptions(-1, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("reading"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	progress := func(n int) { parsing.Set(n) }
	var tokens []tokenimport.Token
	var rejected []tokenimport.Rejected
	if isPSKC(path, data) {
		tokens, rejected, err = tokenimport.ParsePSKC(bytes.NewReader(data), key, progress)
	} else {
		tokens, rejected, err = tokenimport.ParseCSV(bytes.NewReader(data), progress)
	}
	parsing.Finish()
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
	bar := progressbar.NewOptions(len(tokens), progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowCount())
	res, err := a.MFA.ImportTokens(ctx, tokens, func(done int) { bar.Set(done) })
	bar.Finish()
	fmt.Fprintln(out)
	for _, serial := range res.Duplicate {
		fmt.Fprintf(out, "skipped serial %q: already in the inventory\n", serial)
	}
	fmt.Fprintf(out, "imported %d tokens, skipped %d already present, rejected %d rows\n", res.Imported, len(res.Duplicate), len(rejected))
	return err
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
