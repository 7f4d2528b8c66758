package flagmigrate_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeafPackagesDoNotImportTheEngine: the packages that only speak the
// migration's vocabulary (repair logs, copies, metrics) import package
// migration, not the engine, so that the engine's changes and
// dependencies stay out of their builds.
func TestLeafPackagesDoNotImportTheEngine(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{"./backfill", "./repairlog", "./otelmetrics", "./migration", "./eventstore", "./recordstore"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "github.com/flagmigrate/flagmigrate" {
				t.Errorf("%s imports the engine (package flagmigrate)", pkg)
			}
		}
	}
}
