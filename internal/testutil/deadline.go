package testutil

import (
	"context"
	"testing"
	"time"
)

// noDeadline is how far Deadline looks when the test binary has no
// -timeout (go test -timeout 0): far enough never to be the reason a test
// fails.
const noDeadline = 24 * time.Hour

// Deadline returns the latest time a test may wait until for something it
// needs (a server's start, a child process, a table), derived from the
// suite's own go test -timeout: a little before the binary's deadline (a
// twentieth of what is left, at most 10 seconds), so that the test fails
// with its own message and stops its child processes rather than the whole
// binary panicking. It is never a fixed bound shorter than the suite's, so
// a slow machine makes a test slow, not failed. A testing.TB without a
// deadline (a benchmark, -timeout 0) waits up to a day.
func Deadline(t testing.TB) time.Time {
	d, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return time.Now().Add(noDeadline)
	}
	end, ok := d.Deadline()
	if !ok {
		return time.Now().Add(noDeadline)
	}
	grace := min(time.Until(end)/20, 10*time.Second)
	return end.Add(-grace)
}

// DeadlineContext returns a context that ends at [Deadline] (or when parent
// ends). Cleanups use it with context.Background() as the parent: the
// test's own context is already cancelled when they run.
func DeadlineContext(parent context.Context, t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithDeadline(parent, Deadline(t))
}

// DeadlinePassed returns a channel that receives at [Deadline]: the hang
// detector of a test that waits for a channel, as in
//
//	select {
//	case <-done:
//	case <-testutil.DeadlinePassed(t):
//		t.Fatal("still waiting for ...")
//	}
//
// Its timer is stopped when the test ends.
func DeadlinePassed(t testing.TB) <-chan time.Time {
	timer := time.NewTimer(time.Until(Deadline(t)))
	t.Cleanup(func() { timer.Stop() })
	return timer.C
}
