package main

import (
	"math"
	"strings"
	"testing"

	"github.com/custos/custos/password"
)

func TestMemoryLimit(t *testing.T) {
	p := password.DefaultParams // 19456 KiB
	perHash := int64(19456) << 10
	for _, c := range []struct {
		spec    string
		workers int
		want    int64
	}{
		{"auto", 2, memoryBase + 2*perHash},
		{"", 4, memoryBase + 4*perHash},
		{"off", 2, math.MaxInt64},
		{"96MiB", 2, 96 << 20},
		{"96M", 2, 96 << 20},
		{"1GiB", 2, 1 << 30},
		{"65536K", 2, 64 << 20},
		{" 200000000 ", 2, 200000000},
	} {
		got, err := memoryLimit(c.spec, p, c.workers)
		if err != nil || got != c.want {
			t.Errorf("memoryLimit(%q, %d workers) = %d, %v; want %d", c.spec, c.workers, got, err, c.want)
		}
	}
	for _, bad := range []string{"lots", "-5MiB", "0", "16MiB", "12TiB", "9223372036854775807G"} {
		if _, err := memoryLimit(bad, p, 2); err == nil || !strings.Contains(err.Error(), "--memory-limit") {
			t.Errorf("memoryLimit(%q) = %v, want an error naming --memory-limit", bad, err)
		}
	}
}
