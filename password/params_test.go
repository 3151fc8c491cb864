package password_test

import (
	"errors"
	"testing"

	"github.com/custos/custos/password"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    password.Params
		wantErr bool
	}{
		{name: "default", in: "19456,2,1", want: password.DefaultParams},
		{name: "spaces", in: " 65536 , 3 , 4 ", want: password.Params{Memory: 65536, Time: 3, Threads: 4}},
		{name: "tiny", in: "64,1,1", want: password.Params{Memory: 64, Time: 1, Threads: 1}},
		{name: "minimum memory per thread", in: "32,1,4", want: password.Params{Memory: 32, Time: 1, Threads: 4}},
		{name: "maximum", in: "1048576,64,64", want: password.Params{Memory: 1 << 20, Time: 64, Threads: 64}},
		{name: "empty", in: "", wantErr: true},
		{name: "two fields", in: "19456,2", wantErr: true},
		{name: "four fields", in: "19456,2,1,1", wantErr: true},
		{name: "PHC form", in: "m=19456,t=2,p=1", wantErr: true},
		{name: "negative", in: "-1,2,1", wantErr: true},
		{name: "plus sign", in: "+19456,2,1", wantErr: true},
		{name: "hex", in: "0x4c00,2,1", wantErr: true},
		{name: "not a number", in: "lots,2,1", wantErr: true},
		{name: "empty field", in: "19456,,1", wantErr: true},
		{name: "zero time", in: "19456,0,1", wantErr: true},
		{name: "zero threads", in: "19456,2,0", wantErr: true},
		{name: "zero memory", in: "0,2,1", wantErr: true},
		{name: "memory below 8 per thread", in: "31,1,4", wantErr: true},
		{name: "memory over 1 GiB", in: "1048577,2,1", wantErr: true},
		{name: "memory over uint32", in: "4294967296,2,1", wantErr: true},
		{name: "time over 64", in: "19456,65,1", wantErr: true},
		{name: "threads over 64", in: "19456,2,65", wantErr: true},
		{name: "threads over uint8", in: "19456,2,257", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := password.ParseParams(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseParams(%q) = %+v, want error", tt.in, got)
				}
				if !errors.Is(err, password.ErrInvalidParams) {
					t.Errorf("ParseParams(%q) error %v does not wrap ErrInvalidParams", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseParams(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseParams(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParamsString(t *testing.T) {
	tests := []struct {
		name string
		p    password.Params
		want string
	}{
		{name: "default", p: password.DefaultParams, want: "19456,2,1"},
		{name: "other", p: password.Params{Memory: 65536, Time: 3, Threads: 4}, want: "65536,3,4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			back, err := password.ParseParams(tt.p.String())
			if err != nil || back != tt.p {
				t.Fatalf("ParseParams(String()) = %+v, %v; want %+v", back, err, tt.p)
			}
		})
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"19456,2,1", "64,1,1", " 1 , 1 , 1", "0,0,0", "4294967296,2,1", "1,2,3,4", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := password.ParseParams(s)
		if err != nil {
			if !errors.Is(err, password.ErrInvalidParams) {
				t.Fatalf("ParseParams(%q) error %v does not wrap ErrInvalidParams", s, err)
			}
			return
		}
		// Whatever is accepted is within bounds and round-trips.
		if p.Threads < 1 || p.Time < 1 || p.Memory < 8*uint32(p.Threads) ||
			p.Memory > 1<<20 || p.Time > 64 || p.Threads > 64 {
			t.Fatalf("ParseParams(%q) = %+v, out of bounds", s, p)
		}
		back, err := password.ParseParams(p.String())
		if err != nil || back != p {
			t.Fatalf("ParseParams(%q) = %+v; round trip gave %+v, %v", s, p, back, err)
		}
	})
}
