package message_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos/custos/message"
)

// keyUses finds the catalogue keys the module's code names in its errors:
// custos.Fail(code, "key", …), and the small helpers of the policy
// packages that wrap it (password's weak, phone's invalid, sendlimit's
// table).
var keyUses = []*regexp.Regexp{
	regexp.MustCompile(`Fail\(\s*[\w.]+,\s*"([^"]+)"`),
	regexp.MustCompile(`weak\(\s*Reason\w+,\s*"([^"]+)"`),
	regexp.MustCompile(`invalid\("([^"]+)"`),
	regexp.MustCompile(`lockout\.Policy\{[^}]*\},\s*"([^"]+)"`),
}

// TestEveryKeyTheCodeNamesHasAText: an error that names a key the
// catalogue lacks would show a person the code's generic text; this finds
// it at test time instead.
func TestEveryKeyTheCodeNamesHasAText(t *testing.T) {
	root := filepath.Join("..")
	en := message.For("en")
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range keyUses {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				found++
				if !en.Has(m[1]) {
					t.Errorf("%s names the key %q, which the English catalogue lacks", path, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 50 {
		t.Fatalf("found only %d key uses: the patterns no longer match the code", found)
	}
}
