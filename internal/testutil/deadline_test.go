package testutil_test

import (
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// noDeadlineTB is a testing.TB without a Deadline method, as a benchmark's.
type noDeadlineTB struct{ testing.TB }

// TestDeadline: the waits of a test end a little before the suite's own
// deadline (so that the test fails by name), not before most of it has
// passed; without a deadline they end after a day.
func TestDeadline(t *testing.T) {
	got := testutil.Deadline(t)
	if end, ok := t.Deadline(); ok {
		left := time.Until(end)
		if got.After(end) || time.Until(got) < left-left/20-time.Second {
			t.Errorf("Deadline = in %v; want the suite's deadline (in %v) less at most a twentieth", time.Until(got), left)
		}
	} else if time.Until(got) < 23*time.Hour {
		t.Errorf("Deadline without -timeout = in %v; want a day", time.Until(got))
	}
	if d := time.Until(testutil.Deadline(noDeadlineTB{t})); d < 23*time.Hour {
		t.Errorf("Deadline of a TB without Deadline = in %v; want a day", d)
	}
}
