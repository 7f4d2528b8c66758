package dynamodao

import (
	"context"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/backoff"
)

// retry calls attempt until nothing is left. attempt reports how many of its
// items are left (0 when done), whether it processed any, and an error.
// Throttling errors and leftovers are retried after a pause (see [Options]);
// other errors end the loop at once. The loop gives up after MaxAttempts
// attempts in a row without progress, and when ctx is done.
func (s *Store) retry(ctx context.Context, op string, attempt func() (left int, progressed bool, err error)) error {
	fruitless := 0
	for {
		left, progressed, err := attempt()
		switch {
		case err != nil && !isThrottling(err):
			return apiError(ctx, op, nil, err)
		case err == nil && left == 0:
			return nil
		case progressed:
			fruitless = 0
		default:
			fruitless++
		}
		if fruitless >= s.opts.MaxAttempts {
			if err == nil {
				err = fmt.Errorf("%d items still unprocessed", left)
			}
			return apiError(ctx, op, nil, fmt.Errorf("giving up after %d attempts in a row without progress: %w", fruitless, err))
		}
		if err := backoff.Sleep(ctx, s.backoff(fruitless)); err != nil {
			return err
		}
	}
}

// backoff returns the pause after n fruitless attempts in a row: a random
// duration in [0, min(MaxBackoff, BaseBackoff * 2^n)] ("full jitter").
func (s *Store) backoff(n int) time.Duration {
	return backoff.FullJitter(n, s.opts.BaseBackoff, s.opts.MaxBackoff)
}
