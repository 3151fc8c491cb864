package web

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every catalogue must have every key of the default one (and no others), or
// a page in that language fails to render.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	keys := func(c catalogue) []string {
		var out []string
		for k := range c {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	want := keys(catalogues[defaultLanguage])
	for lang, cat := range catalogues {
		if diff := cmp.Diff(want, keys(cat)); diff != "" {
			t.Errorf("catalogue %s keys differ from %s (-%s +%s):\n%s", lang, defaultLanguage, defaultLanguage, lang, diff)
		}
	}
}
