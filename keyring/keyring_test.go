package keyring_test

import (
	"bytes"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos/custos/keyring"
)

func TestParse(t *testing.T) {
	good := "k1:" + strings.Repeat("A", 43) + "=" // 32 zero bytes, std base64
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{name: "one key", in: good},
		{name: "two keys", in: good + ",k0:" + strings.Repeat("B", 43) + "="},
		{name: "missing id", in: strings.Repeat("A", 44), wantErr: true},
		{name: "short key", in: "k1:AAAA", wantErr: true},
		{name: "bad id", in: "K 1:" + strings.Repeat("A", 44), wantErr: true},
		{name: "duplicate", in: good + "," + good, wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyring.Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), strings.Repeat("A", 10)) {
				t.Fatalf("error repeats key material: %v", err)
			}
		})
	}
}

func TestSealOpenRotation(t *testing.T) {
	old, err := keyring.Generate(rand.Reader, "k1")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal(rand.Reader, []byte("seed"), []byte("dev_1"))
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := keyring.Generate(rand.Reader, "k2")
	rotated, err := keyring.Parse(fresh.String() + "," + old.String())
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Primary() != "k2" {
		t.Fatalf("primary = %s, want k2", rotated.Primary())
	}
	pt, err := rotated.Open(sealed, []byte("dev_1"))
	if err != nil || string(pt) != "seed" {
		t.Fatalf("Open after rotation = %q, %v", pt, err)
	}
	if _, err := rotated.Open(sealed, []byte("dev_2")); err == nil {
		t.Fatal("Open with the wrong aad succeeded")
	}
	if _, err := fresh.Open(sealed, []byte("dev_1")); err == nil {
		t.Fatal("Open without the sealing key succeeded")
	}
}

func TestMACPurposes(t *testing.T) {
	r, _ := keyring.Generate(rand.Reader, "k1")
	a := r.MAC("code", []byte("123456"))
	if !bytes.Equal(a, r.MAC("code", []byte("123456"))) {
		t.Fatal("MAC not deterministic")
	}
	if bytes.Equal(a, r.MAC("other", []byte("123456"))) {
		t.Fatal("MAC ignores its purpose")
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "keys")
	a, err := keyring.LoadOrCreate(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := keyring.LoadOrCreate(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatal("second load made a new ring")
	}
}

func TestMACsUnderEveryKey(t *testing.T) {
	old, err := keyring.Generate(rand.Reader, "k1")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := keyring.Generate(rand.Reader, "k2")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := keyring.Parse(fresh.String() + "," + old.String())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("G12345678")
	macs := rotated.MACs("identity-document", data)
	if len(macs) != 2 {
		t.Fatalf("got %d MACs, want 2", len(macs))
	}
	if !bytes.Equal(macs[0], rotated.MAC("identity-document", data)) || !bytes.Equal(macs[0], fresh.MAC("identity-document", data)) {
		t.Error("the first MAC is not the primary key's")
	}
	if !bytes.Equal(macs[1], old.MAC("identity-document", data)) {
		t.Error("the second MAC is not the old key's: a lookup would miss what was stored before the rotation")
	}
	if bytes.Equal(macs[0], macs[1]) {
		t.Error("two keys gave the same MAC")
	}
}
