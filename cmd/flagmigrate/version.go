package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is the module version and VCS revision the binary was built from,
// as the Go toolchain recorded them ("(devel)" for a build in a checkout).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "flagmigrate (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	s := "flagmigrate " + v
	var rev, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += fmt.Sprintf(" (revision %s%s)", rev, modified)
	}
	return s + ", " + bi.GoVersion
}

func printVersion(w io.Writer) int {
	fmt.Fprintln(w, version())
	return exitOK
}
