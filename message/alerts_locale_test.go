package message

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// verbs finds the fmt verbs of a text, explicit argument indexes included.
var verbs = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// TestWebAlertsZhCN: the Simplified Chinese of this table (a file a
// translator edits, loaded once the zh-CN catalogue lands) has exactly
// its keys, each with the same fmt verbs, and none left in English.
func TestWebAlertsZhCN(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("locales", "zh-CN", "web_alerts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var zh map[string]string
	if err := json.Unmarshal(b, &zh); err != nil {
		t.Fatal(err)
	}
	for k, en := range enWebAlerts {
		got, ok := zh[k]
		if !ok {
			t.Errorf("zh-CN lacks %q", k)
			continue
		}
		ev, zv := verbs.FindAllString(en, -1), verbs.FindAllString(got, -1)
		slices.Sort(ev)
		slices.Sort(zv)
		if !slices.Equal(ev, zv) {
			t.Errorf("%q: verbs %v in English, %v in zh-CN", k, ev, zv)
		}
		if got == en {
			t.Errorf("%q is not translated", k)
		}
	}
	for k := range zh {
		if _, ok := enWebAlerts[k]; !ok {
			t.Errorf("zh-CN has %q, which the English table lacks", k)
		}
	}
}
