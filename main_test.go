package flagmigrate_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// Migration a test makes must be closed, and no shadow worker, probe or
// candidate read may be left running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
