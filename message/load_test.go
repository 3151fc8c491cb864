package message_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custos/custos/message"
)

func TestLoadRefusesBadCatalogues(t *testing.T) {
	good := `{"a.title": "A"}`
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{name: "a key in two files", files: fstest.MapFS{
			"l/en/one.json": {Data: []byte(`{"a.title": "A", "b.title": "B"}`)},
			"l/en/two.json": {Data: []byte(`{"b.title": "B again"}`)},
		}, want: "b.title is in two tables"},
		{name: "nested object", files: fstest.MapFS{
			"l/en/one.json": {Data: []byte(`{"a": {"title": "A"}}`)},
		}, want: "one.json"},
		{name: "not JSON", files: fstest.MapFS{
			"l/en/one.json": {Data: []byte(`a = "A"`)},
		}, want: "one.json"},
		{name: "a key go-i18n reserves", files: fstest.MapFS{
			"l/en/one.json": {Data: []byte(`{"other": "A"}`)},
		}, want: "one.json"},
		{name: "no default language", files: fstest.MapFS{
			"l/zh-CN/one.json": {Data: []byte(good)},
		}, want: "default language"},
		{name: "directory not a canonical tag", files: fstest.MapFS{
			"l/en/one.json":    {Data: []byte(good)},
			"l/zh_cn/one.json": {Data: []byte(good)},
		}, want: "zh_cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := message.Load(tt.files, "l")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want an error naming %q", err, tt.want)
			}
		})
	}
	ok := fstest.MapFS{"l/en/one.json": {Data: []byte(good)}, "l/zh-CN/one.json": {Data: []byte(good)}}
	if err := message.Load(ok, "l"); err != nil {
		t.Fatalf("Load of a good tree = %v", err)
	}
}

func TestSupported(t *testing.T) {
	for _, tt := range []struct {
		tag, want string
		ok        bool
	}{
		{"en", "en", true}, {"en-GB", "en", true}, {"EN", "en", true},
		{"fr", "", false}, {"", "", false}, {"not a tag!", "", false},
	} {
		got, ok := message.Supported(tt.tag)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Supported(%q) = %q, %v; want %q, %v", tt.tag, got, ok, tt.want, tt.ok)
		}
	}
}
