package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionText reads the module version and the VCS settings from the
// build info, and says "(devel)" for what it lacks.
func TestVersionText(t *testing.T) {
	got := versionText(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "8e680d6"}, {Key: "vcs.time", Value: "2025-03-01T12:00:00Z"},
			{Key: "vcs.modified", Value: "true"}, {Key: "-tags", Value: "x"}}})
	for _, want := range []string{"custos v1.4.0\n", "revision 8e680d6\n", "time     2025-03-01T12:00:00Z\n", "modified true\n", "go       go1.26.8\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("versionText = %q, want it to contain %q", got, want)
		}
	}
	if got := versionText(nil); !strings.HasPrefix(got, "custos (devel)\nrevision (devel)\n") {
		t.Errorf("versionText(nil) = %q", got)
	}
}
