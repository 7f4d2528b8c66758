// Package backoff paces retries: exponential backoff with full jitter, and
// a sleep that ends early with its context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// FullJitter returns the pause before retry n (0 for the first retry): a
// random duration in [0, min(max, base * 2^n)], as in "exponential backoff
// and jitter" (full jitter).
func FullJitter(n int, base, max time.Duration) time.Duration {
	ceiling := max
	if n < 32 {
		if d := base << n; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return rand.N(ceiling + 1)
}

// Sleep pauses for d, or until ctx is done, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
