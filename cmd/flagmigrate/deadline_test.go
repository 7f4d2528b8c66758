package main

import (
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// TestCLIHelperWaitsAsLongAsTheSuite: the helper that runs the CLI gives a
// run as long as the suite's own go test -timeout allows (less only the
// grace that lets the test fail by name), never a fixed shorter bound that
// a loaded machine's slow verify can exceed.
func TestCLIHelperWaitsAsLongAsTheSuite(t *testing.T) {
	ctx, cancel := cliContext(t)
	defer cancel()
	got, ok := ctx.Deadline()
	want := testutil.Deadline(t)
	end, has := t.Deadline()
	if !has {
		end = want // -timeout 0: testutil.Deadline's day
	}
	if !ok || got.Before(want.Add(-time.Second)) || got.After(end) {
		t.Errorf("a CLI run ends at %v (in %v); want the suite's deadline %v (in %v), less its grace", got, time.Until(got).Round(time.Second), end, time.Until(end).Round(time.Second))
	}
}
