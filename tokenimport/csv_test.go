package tokenimport_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/otp"
	"github.com/custos/custos/tokenimport"
	"github.com/google/go-cmp/cmp"
)

// seed20 is the RFC 4226 secret; its base32 form is b32.
var seed20 = []byte("12345678901234567890")

const b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestParseCSV(t *testing.T) {
	const file = "\ufeffSerial,Secret_Base32,Type,Digits,Period_Or_Counter,Algorithm\r\n" +
		"# exported 2026-11-27\r\n" +
		"\r\n" +
		"TK0001, " + b32 + " ,totp,6,30,SHA1\r\n" +
		"TK0002,gezd gnbv gy3t qojq gezd gnbv gy3t qojq,HOTP,8,42,sha256\r\n" +
		"   \r\n" +
		"\"TK 0003\",GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====,totp,7,60,Sha512\n"
	var seen []int
	tokens, rejected, err := tokenimport.ParseCSV(strings.NewReader(file), func(n int) { seen = append(seen, n) })
	if err != nil {
		t.Fatal(err)
	}
	want := []tokenimport.Token{
		{Serial: "TK0001", Secret: seed20, Kind: "totp", Params: otp.Params{Algorithm: otp.SHA1, Digits: 6, Period: 30 * time.Second}},
		{Serial: "TK0002", Secret: seed20, Kind: "hotp", Params: otp.Params{Algorithm: otp.SHA256, Digits: 8}, Counter: 42},
		{Serial: "TK 0003", Secret: []byte("12345678901234567890123456789012"), Kind: "totp", Params: otp.Params{Algorithm: otp.SHA512, Digits: 7, Period: time.Minute}},
	}
	if diff := cmp.Diff(want, tokens); diff != "" {
		t.Fatalf("tokens (-want +got):\n%s", diff)
	}
	if len(rejected) != 0 {
		t.Fatalf("rejected %+v", rejected)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, seen); diff != "" {
		t.Fatalf("progress (-want +got):\n%s", diff)
	}
}

func TestParseCSVWithoutHeaderAndNilProgress(t *testing.T) {
	tokens, rejected, err := tokenimport.ParseCSV(strings.NewReader("A1,"+b32+",totp,6,30,SHA1"), nil)
	if err != nil || len(tokens) != 1 || len(rejected) != 0 {
		t.Fatalf("got %+v, %+v, %v", tokens, rejected, err)
	}
	if got := otp.TOTP(tokens[0].Secret, time.Unix(59, 0), tokens[0].Params); got != "287082" {
		t.Fatalf("imported token gives %q at 59 s, want 287082", got)
	}
}

func TestParseCSVRejections(t *testing.T) {
	const secret = b32
	tests := []struct {
		name       string
		row        string
		wantSerial string
		wantReason string
	}{
		{name: "too few columns", row: "A1," + secret + ",totp,6,30", wantReason: "want 6 columns, got 5"},
		{name: "too many columns", row: "A1," + secret + ",totp,6,30,SHA1,", wantReason: "want 6 columns, got 7"},
		{name: "empty serial", row: "," + secret + ",totp,6,30,SHA1", wantReason: "serial is empty"},
		{name: "long serial", row: strings.Repeat("S", 65) + "," + secret + ",totp,6,30,SHA1", wantReason: "serial is longer than 64 characters"},
		{name: "non-ASCII serial", row: "序列1," + secret + ",totp,6,30,SHA1", wantReason: "serial has characters other than printable ASCII"},
		{name: "control character in serial", row: "\"A\x071\"," + secret + ",totp,6,30,SHA1", wantReason: "serial has characters other than printable ASCII"},
		{name: "secret not base32", row: "A1,GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ,totp,6,30,SHA1", wantSerial: "A1", wantReason: "secret is not valid base32"},
		{name: "empty secret", row: "A1,,totp,6,30,SHA1", wantSerial: "A1", wantReason: "secret is not valid base32"},
		{name: "secret 9 bytes", row: "A1," + otp.EncodeSecret(make([]byte, 9)) + ",totp,6,30,SHA1", wantSerial: "A1", wantReason: "secret is shorter than 10 bytes"},
		{name: "secret 65 bytes", row: "A1," + otp.EncodeSecret(make([]byte, 65)) + ",totp,6,30,SHA1", wantSerial: "A1", wantReason: "secret is longer than 64 bytes"},
		{name: "unknown type", row: "A1," + secret + ",ocra,6,30,SHA1", wantSerial: "A1", wantReason: "type must be totp or hotp"},
		{name: "digits not a number", row: "A1," + secret + ",totp,six,30,SHA1", wantSerial: "A1", wantReason: "digits is not a whole number"},
		{name: "five digits", row: "A1," + secret + ",totp,5,30,SHA1", wantSerial: "A1", wantReason: "digits must be 6 to 8"},
		{name: "nine digits", row: "A1," + secret + ",hotp,9,0,SHA1", wantSerial: "A1", wantReason: "digits must be 6 to 8"},
		{name: "period 14", row: "A1," + secret + ",totp,6,14,SHA1", wantSerial: "A1", wantReason: "period must be 15 to 120 seconds"},
		{name: "period 121", row: "A1," + secret + ",totp,6,121,SHA1", wantSerial: "A1", wantReason: "period must be 15 to 120 seconds"},
		{name: "period with unit", row: "A1," + secret + ",totp,6,30s,SHA1", wantSerial: "A1", wantReason: "period is not a whole number of seconds"},
		{name: "negative counter", row: "A1," + secret + ",hotp,6,-1,SHA1", wantSerial: "A1", wantReason: "counter is not a whole number ≥ 0"},
		{name: "counter too large", row: "A1," + secret + ",hotp,6,18446744073709551616,SHA1", wantSerial: "A1", wantReason: "counter is not a whole number ≥ 0"},
		{name: "unknown algorithm", row: "A1," + secret + ",totp,6,30,MD5", wantSerial: "A1", wantReason: "algorithm must be SHA1, SHA256 or SHA512"},
		{name: "empty algorithm", row: "A1," + secret + ",totp,6,30,", wantSerial: "A1", wantReason: "algorithm must be SHA1, SHA256 or SHA512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "# first line\nOK1," + secret + ",totp,6,30,SHA1\n" + tt.row + "\n"
			tokens, rejected, err := tokenimport.ParseCSV(strings.NewReader(file), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(tokens) != 1 || tokens[0].Serial != "OK1" {
				t.Fatalf("tokens %+v, want only OK1", tokens)
			}
			want := []tokenimport.Rejected{{Row: 3, Serial: tt.wantSerial, Reason: tt.wantReason}}
			if diff := cmp.Diff(want, rejected); diff != "" {
				t.Fatalf("rejected (-want +got):\n%s", diff)
			}
			if strings.Contains(rejected[0].Reason, secret) || strings.Contains(strings.ToUpper(rejected[0].Reason), "GEZD") {
				t.Fatalf("reason %q shows the secret", rejected[0].Reason)
			}
		})
	}
}

func TestParseCSVDuplicateSerials(t *testing.T) {
	file := "D1," + b32 + ",totp,6,30,SHA1\n" +
		"U1," + b32 + ",totp,6,30,SHA1\n" +
		"D1," + otp.EncodeSecret([]byte("another secret 1234")) + ",totp,6,30,SHA1\n" +
		"D1,bad!,totp,6,30,SHA1\n"
	tokens, rejected, err := tokenimport.ParseCSV(strings.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].Serial != "U1" {
		t.Fatalf("tokens %+v, want only U1", tokens)
	}
	want := []tokenimport.Rejected{
		{Row: 1, Serial: "D1", Reason: "serial appears 3 times in the file"},
		{Row: 3, Serial: "D1", Reason: "serial appears 3 times in the file"},
		{Row: 4, Serial: "D1", Reason: "secret is not valid base32"},
	}
	if diff := cmp.Diff(want, rejected); diff != "" {
		t.Fatalf("rejected (-want +got):\n%s", diff)
	}
}

func TestParseCSVRowNumbers(t *testing.T) {
	file := "serial,secret_base32,type,digits,period_or_counter,algorithm\n" + // 1
		"\n" + // 2
		"# comment\n" + // 3
		"\"multi\nline\"," + b32 + ",totp,6,30,SHA1\n" + // 4-5
		"B1,x,totp,6,30,SHA1\n" // 6
	_, rejected, err := tokenimport.ParseCSV(strings.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []tokenimport.Rejected{
		{Row: 4, Reason: "serial has characters other than printable ASCII"},
		{Row: 6, Serial: "B1", Reason: "secret is not valid base32"},
	}
	if diff := cmp.Diff(want, rejected); diff != "" {
		t.Fatalf("rejected (-want +got):\n%s", diff)
	}
}

func TestParseCSVMalformed(t *testing.T) {
	tests := []struct {
		name string
		file string
	}{
		{name: "bare quote", file: "A1,GE\"ZD,totp,6,30,SHA1\n"},
		{name: "unterminated quote", file: "\"A1," + b32 + ",totp,6,30,SHA1\n"},
		{name: "NUL bytes", file: "A1," + b32 + ",totp,6,30,SHA1\n\x00\x01\x02\n"},
		{name: "invalid UTF-8", file: "A1\xff\xfe," + b32 + ",totp,6,30,SHA1\n"},
		{name: "wrong header", file: "serial,type,secret_base32,digits,period_or_counter,algorithm\nA1,totp," + b32 + ",6,30,SHA1\n"},
		{name: "short header", file: "serial,secret\n"},
		{name: "XML", file: "<?xml version=\"1.0\"?>\n<KeyContainer xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\"/>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, rejected, err := tokenimport.ParseCSV(strings.NewReader(tt.file), nil)
			if err == nil {
				t.Fatalf("no error; tokens %+v rejected %+v", tokens, rejected)
			}
			if tokens != nil || rejected != nil {
				t.Fatal("results returned with an error")
			}
		})
	}
}

func TestParseCSVEmpty(t *testing.T) {
	for _, file := range []string{"", "\n\n", "# nothing\n", "serial,secret_base32,type,digits,period_or_counter,algorithm\n"} {
		tokens, rejected, err := tokenimport.ParseCSV(strings.NewReader(file), nil)
		if err != nil || len(tokens) != 0 || len(rejected) != 0 {
			t.Fatalf("%q: %+v, %+v, %v", file, tokens, rejected, err)
		}
	}
}
