package otp_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/custos/custos/otp"
)

func TestNewSecret(t *testing.T) {
	rnd := bytes.NewReader(bytes.Repeat([]byte{0xAB}, 64))
	s, err := otp.NewSecret(rnd)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 20 || !bytes.Equal(s, bytes.Repeat([]byte{0xAB}, 20)) {
		t.Fatalf("secret = %x, want 20 bytes from the reader", s)
	}
	if _, err := otp.NewSecret(bytes.NewReader(make([]byte, 19))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short reader: err = %v", err)
	}
}

func TestEncodeSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		want   string
	}{
		{name: "RFC 4226 seed", secret: seed20, want: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{name: "32-byte seed drops padding", secret: seed32, want: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"},
		{name: "empty", secret: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := otp.EncodeSecret(tt.secret); got != tt.want {
				t.Fatalf("EncodeSecret = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeSecret(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{name: "canonical", in: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", want: seed20},
		{name: "lower case", in: "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", want: seed20},
		{name: "grouped with spaces", in: "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", want: seed20},
		{name: "hyphens, tabs and a newline", in: "gezd-gnbv\tgy3t-qojq\ngezd gnbv gy3t qojq\r\n", want: seed20},
		{name: "with padding", in: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====", want: seed32},
		{name: "without padding", in: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA", want: seed32},
		{name: "64-byte seed", in: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA=", want: seed64},
		{name: "empty", in: "", wantErr: true},
		{name: "only spaces and padding", in: "  ==== ", wantErr: true},
		{name: "digit 1 is not base32", in: "GEZDGNBVGY3TQOJ1", wantErr: true},
		{name: "digit 0 is not base32", in: "GEZDGNBVGY3TQOJ0", wantErr: true},
		{name: "impossible length", in: "GEZDGNBVG", wantErr: true},
		{name: "padding in the middle", in: "GEZD==GNBVGY3TQOJQ", wantErr: true},
		{name: "non-ASCII", in: "GEZDGNBVGY3TQOJÉ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := otp.DecodeSecret(tt.in)
			if tt.wantErr {
				if !errors.Is(err, otp.ErrInvalidSecret) {
					t.Fatalf("err = %v, want ErrInvalidSecret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("DecodeSecret = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeSecretErrorHidesInput(t *testing.T) {
	const in = "SUPERSECRETVALUE1"
	_, err := otp.DecodeSecret(in)
	if err == nil || strings.Contains(err.Error(), "SUPERSECRET") {
		t.Fatalf("err = %v", err)
	}
}

func TestGroupSecret(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "32 characters", in: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", want: "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"},
		{name: "ragged end", in: "ABCDEFGHIJ", want: "ABCD EFGH IJ"},
		{name: "lower case and old spaces", in: "abcd efg hij", want: "ABCD EFGH IJ"},
		{name: "already grouped", in: "ABCD EFGH IJ", want: "ABCD EFGH IJ"},
		{name: "short", in: "AB", want: "AB"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := otp.GroupSecret(tt.in); got != tt.want {
				t.Fatalf("GroupSecret = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSecretRoundTrip(t *testing.T) {
	for n := 0; n <= 64; n++ {
		s := bytes.Repeat([]byte{byte(n * 7)}, n)
		enc := otp.EncodeSecret(s)
		for _, form := range []string{enc, strings.ToLower(enc), otp.GroupSecret(enc)} {
			got, err := otp.DecodeSecret(form)
			if n == 0 {
				if err == nil {
					t.Fatal("empty secret decoded")
				}
				continue
			}
			if err != nil || !bytes.Equal(got, s) {
				t.Fatalf("%d bytes, form %q: %x, %v", n, form, got, err)
			}
		}
	}
}

func FuzzDecodeSecret(f *testing.F) {
	for _, s := range []string{
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "gezd gnbv", "GEZA====", "", "====", "1", "GE-ZD", "é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := otp.DecodeSecret(s)
		if err != nil {
			if !errors.Is(err, otp.ErrInvalidSecret) {
				t.Fatalf("error does not wrap ErrInvalidSecret: %v", err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("decoded to nothing without an error")
		}
		// Whatever decodes must survive its own canonical and grouped forms.
		enc := otp.EncodeSecret(got)
		for _, form := range []string{enc, otp.GroupSecret(enc)} {
			again, err := otp.DecodeSecret(form)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("%q decoded to %x, but %q gives %x, %v", s, got, form, again, err)
			}
		}
	})
}
