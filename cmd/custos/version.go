package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

const versionUsage = `usage: custos version

Prints the version of this build and the version control revision, time and
state it was built from (from the build info; "(devel)" when unknown).`

// versionCommand runs `custos version`.
func versionCommand(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && isHelpFlag(args[0]):
		fmt.Fprintln(stdout, versionUsage)
		return 0
	case len(args) > 0:
		fmt.Fprintf(stderr, "custos version: unexpected argument %q: version takes none\n", args[0])
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(info))
	return 0
}

// versionText describes a build: the module version and the VCS settings
// `go build` stamps, each "(devel)" when unknown. info may be nil.
func versionText(info *debug.BuildInfo) string {
	const unknown = "(devel)"
	version, goVersion := unknown, unknown
	vcs := map[string]string{"vcs.revision": unknown, "vcs.time": unknown, "vcs.modified": unknown}
	if info != nil {
		if v := info.Main.Version; v != "" {
			version = v
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		for _, s := range info.Settings {
			if _, ok := vcs[s.Key]; ok && s.Value != "" {
				vcs[s.Key] = s.Value
			}
		}
	}
	return fmt.Sprintf("custos %s\nrevision %s\ntime     %s\nmodified %s\ngo       %s\n",
		version, vcs["vcs.revision"], vcs["vcs.time"], vcs["vcs.modified"], goVersion)
}
