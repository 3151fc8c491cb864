package otp_test

import (
	"bytes"
	"image/png"
	"net/url"
	"testing"
	"time"

	"github.com/custos/custos/otp"
)

func TestURI(t *testing.T) {
	tests := []struct {
		name    string
		issuer  string
		account string
		params  otp.Params
		want    string
	}{
		{
			name: "default params", issuer: "Custos", account: "alice@example.com", params: otp.DefaultParams,
			want: "otpauth://totp/Custos:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Custos&algorithm=SHA1&digits=6&period=30",
		},
		{
			name: "spaces, colon and ampersand escaped", issuer: "ACME Co: Ops", account: "bob & eve", params: otp.Params{Algorithm: otp.SHA256, Digits: 8, Period: time.Minute},
			want: "otpauth://totp/ACME%20Co%3A%20Ops:bob%20%26%20eve?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co%3A%20Ops&algorithm=SHA256&digits=8&period=60",
		},
		{
			name: "non-ASCII account", issuer: "Custos", account: "张三", params: otp.DefaultParams,
			want: "otpauth://totp/Custos:%E5%BC%A0%E4%B8%89?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Custos&algorithm=SHA1&digits=6&period=30",
		},
		{
			name: "no issuer", issuer: "", account: "carol", params: otp.DefaultParams,
			want: "otpauth://totp/carol?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := otp.URI(tt.issuer, tt.account, seed20, tt.params)
			if got != tt.want {
				t.Fatalf("URI =\n %s\nwant\n %s", got, tt.want)
			}
			// A standard parser reads back every part.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			wantLabel := tt.account
			if tt.issuer != "" {
				wantLabel = tt.issuer + ":" + tt.account
			}
			if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/"+wantLabel {
				t.Fatalf("parsed scheme %q host %q path %q", u.Scheme, u.Host, u.Path)
			}
			q := u.Query()
			if q.Get("issuer") != tt.issuer || q.Get("secret") != otp.EncodeSecret(seed20) {
				t.Fatalf("parsed query %v", q)
			}
		})
	}
}

func TestQRPNG(t *testing.T) {
	uri := otp.URI("Custos", "alice@example.com", seed20, otp.DefaultParams)
	tests := []struct {
		name    string
		uri     string
		size    int
		wantErr bool
	}{
		{name: "256 pixels", uri: uri, size: 256},
		{name: "512 pixels", uri: uri, size: 512},
		{name: "too small for the code", uri: uri, size: 10, wantErr: true},
		{name: "zero size", uri: uri, size: 0, wantErr: true},
		{name: "too large", uri: uri, size: otp.MaxQRSize + 1, wantErr: true},
		{name: "empty uri", uri: "", size: 256, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := otp.QRPNG(tt.uri, tt.size)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
				t.Fatalf("not a PNG: % x", b[:min(8, len(b))])
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != tt.size || cfg.Height != tt.size {
				t.Fatalf("image %d×%d, want %d×%d", cfg.Width, cfg.Height, tt.size, tt.size)
			}
		})
	}
}
