package main

import (
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
)

// TestRouteNamesAreStages: the example names its routes as the library
// does, by the LaunchDarkly stage of the four flags.
func TestRouteNamesAreStages(t *testing.T) {
	for _, rn := range routeNames {
		f := migration.FlagState{OldWrite: rn.r.oldW, NewWrite: rn.r.newW, OldRead: rn.r.oldR, NewRead: rn.r.newR}
		if st, ok := f.Stage(); !ok || string(st) != rn.name {
			t.Errorf("route %q has the flags of stage %q (%v)", rn.name, st, ok)
		}
	}
}
