package mongodao_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: an
// abandoned scan, a cursor or a client that was not released.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
