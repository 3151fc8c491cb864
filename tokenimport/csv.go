package tokenimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos/custos/otp"
)

// csvColumns is the CSV layout, and its optional header row.
var csvColumns = []string{"serial", "secret_base32", "type", "digits", "period_or_counter", "algorithm"}

// ParseCSV reads a token CSV file with the columns
//
//	serial,secret_base32,type,digits,period_or_counter,algorithm
//
// for example "TK000123,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,totp,6,30,SHA1".
// The first row may be that header (it must then name exactly these
// columns, in this order, any case). Blank lines and lines whose first
// field starts with "#" are skipped. Fields are trimmed of spaces.
//
// Each row is checked on its own and either becomes a Token or a Rejected
// with its line number: the serial must be 1 to 64 printable ASCII
// characters; the secret base32 (spaces, lower case and padding allowed)
// of 10 to 64 bytes; type "totp" or "hotp"; digits 6 to 8; the period
// 15 to 120 whole seconds for totp, the starting counter (a whole number
// ≥ 0) for hotp; algorithm SHA1, SHA256 or SHA512 in any case. A serial
// that appears on more than one row rejects all of those rows.
//
// The error is non-nil only when the input is not a CSV text file (bad
// quoting, NUL bytes, invalid UTF-8, a wrong header) or cannot be read;
// the tokens are then nil. progress, when not nil, is called after every
// data row with the number of data rows read so far.
func ParseCSV(r io.Reader, progress func(n int)) ([]Token, []Rejected, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	var entries []entry
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("tokenimport: csv line %d: %w", pe.StartLine, pe.Err)
			}
			return nil, nil, fmt.Errorf("tokenimport: csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			if !utf8.ValidString(rec[i]) || strings.ContainsRune(rec[i], 0) {
				return nil, nil, fmt.Errorf("tokenimport: csv line %d: not a text file", line)
			}
			rec[i] = strings.TrimSpace(rec[i])
		}
		if first {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff") // a byte-order mark
		}
		if blank(rec) || strings.HasPrefix(rec[0], "#") {
			continue
		}
		if first {
			first = false
			if strings.EqualFold(rec[0], csvColumns[0]) {
				if !isHeader(rec) {
					return nil, nil, fmt.Errorf("tokenimport: csv line %d: header must be %s",
						line, strings.Join(csvColumns, ","))
				}
				continue
			}
		}
		entries = append(entries, csvRow(line, rec))
		if progress != nil {
			progress(len(entries))
		}
	}
	tokens, rejected := result(entries)
	return tokens, rejected, nil
}

// blank reports whether every field of rec is empty.
func blank(rec []string) bool {
	for _, f := range rec {
		if f != "" {
			return false
		}
	}
	return true
}

// isHeader reports whether rec names exactly the CSV columns.
func isHeader(rec []string) bool {
	if len(rec) != len(csvColumns) {
		return false
	}
	for i, c := range csvColumns {
		if !strings.EqualFold(rec[i], c) {
			return false
		}
	}
	return true
}

// csvRow checks one data row.
func csvRow(line int, rec []string) entry {
	e := entry{row: line}
	if len(rec) != len(csvColumns) {
		e.reason = fmt.Sprintf("want %d columns, got %d", len(csvColumns), len(rec))
		return e
	}
	if e.reason = checkSerial(rec[0]); e.reason != "" {
		return e
	}
	e.serial = rec[0]

	secret, err := otp.DecodeSecret(rec[1])
	if err != nil {
		e.reason = "secret is not valid base32"
		return e
	}
	if e.reason = checkSecretLen(secret); e.reason != "" {
		return e
	}
	t := Token{Serial: rec[0], Secret: secret, Kind: strings.ToLower(rec[2])}
	if t.Kind != KindTOTP && t.Kind != KindHOTP {
		e.reason = "type must be totp or hotp"
		return e
	}
	digits, err := strconv.Atoi(rec[3])
	if err != nil {
		e.reason = "digits is not a whole number"
		return e
	}
	if e.reason = checkDigits(digits); e.reason != "" {
		return e
	}
	t.Params.Digits = digits

	n, err := strconv.ParseUint(rec[4], 10, 64)
	if t.Kind == KindTOTP {
		if err != nil {
			e.reason = "period is not a whole number of seconds"
			return e
		}
		if e.reason = checkPeriod(n); e.reason != "" {
			return e
		}
		t.Params.Period = time.Duration(n) * time.Second
	} else {
		if err != nil {
			e.reason = "counter is not a whole number ≥ 0"
			return e
		}
		t.Counter = n
	}
	alg, ok := algorithm(rec[5])
	if !ok {
		e.reason = "algorithm must be SHA1, SHA256 or SHA512"
		return e
	}
	t.Params.Algorithm = alg
	e.token = &t
	return e
}

// algorithm maps a case-insensitive algorithm name to otp's.
func algorithm(s string) (otp.Algorithm, bool) {
	switch a := otp.Algorithm(strings.ToUpper(s)); a {
	case otp.SHA1, otp.SHA256, otp.SHA512:
		return a, true
	}
	return "", false
}
