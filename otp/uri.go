package otp

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strconv"
	"strings"
	"time"

	pquerna "github.com/pquerna/otp"
)

// MaxQRSize bounds the side of the QR image QRPNG draws, in pixels, so a
// bad argument cannot allocate a huge image.
const MaxQRSize = 2048

// escape percent-encodes one label or query component the way the key URI
// format wants it: spaces as %20 (never "+"), and ":" escaped so that it
// cannot be mistaken for the issuer separator.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// URI returns the otpauth:// key URI (the Google Authenticator "Key Uri
// Format") for a TOTP token:
//
//	otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// issuer and account are percent-encoded (spaces as %20, ":" as %3A); with
// an empty issuer the label is the account alone and there is no issuer
// parameter. The parameters are written in this fixed order, each one
// always present, so apps that ignore defaults still read them. p is not
// validated here; a zero Period is written as 0.
func URI(issuer, account string, secret []byte, p Params) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		b.WriteString(escape(issuer))
		b.WriteByte(':')
	}
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(secret))
	if issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(escape(issuer))
	}
	b.WriteString("&algorithm=")
	b.WriteString(escape(string(p.Algorithm)))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(p.Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.FormatInt(int64(p.Period/time.Second), 10))
	return b.String()
}

// QRPNG draws uri as a QR code (error correction level M) on a size×size
// PNG and returns its bytes. size must be from 1 to MaxQRSize and at least
// the number of modules the code needs (about 60 for a key URI; 256 is a
// good choice for a page).
func QRPNG(uri string, size int) ([]byte, error) {
	if size < 1 || size > MaxQRSize {
		return nil, fmt.Errorf("otp qr: size %d: want 1 to %d", size, MaxQRSize)
	}
	if uri == "" {
		return nil, errors.New("otp qr: empty uri")
	}
	key, err := pquerna.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("otp qr: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("otp qr: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("otp qr: %w", err)
	}
	return buf.Bytes(), nil
}
