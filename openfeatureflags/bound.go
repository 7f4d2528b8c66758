package openfeatureflags

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// DefaultEvaluationTimeout bounds each flag evaluation unless
// [WithEvaluationTimeout] says otherwise: flags served from a provider's
// local cache evaluate in microseconds, and one that takes a second is
// failing; the call is then routed to the old store instead of waiting.
const DefaultEvaluationTimeout = time.Second

// ErrEvaluationTimeout is the error of an evaluation that outlasted its
// bound ([WithEvaluationTimeout]); the flag takes its default value.
var ErrEvaluationTimeout = errors.New("openfeatureflags: flag evaluation timed out")

// ErrProviderPanic is the error of an evaluation whose provider panicked
// (the OpenFeature SDK does not recover it); the flag takes its default
// value.
var ErrProviderPanic = errors.New("openfeatureflags: the provider panicked")

// WithEvaluationTimeout bounds each evaluation to d (0: the default,
// [DefaultEvaluationTimeout]). The evaluation runs on a goroutine of its
// own with a context that ends at d; if the provider has not answered by
// then, the flag takes its default value with an error matching
// [ErrEvaluationTimeout] (the migration routes the call to the old store
// and reports the failure), and the goroutine ends when the provider
// returns. A negative d evaluates on the caller's goroutine, unbounded, at
// no cost beyond the provider's: for providers known never to block.
func WithEvaluationTimeout(d time.Duration) Option {
	return func(c *Flags) {
		if d != 0 {
			c.timeout = d
		}
	}
}

// evaluate runs eval bounded by c's timeout, turning a panic of the
// provider into an error matching ErrProviderPanic.
func evaluate[T any](ctx context.Context, timeout time.Duration, key string, eval func(context.Context) (T, error)) (T, error) {
	if timeout < 0 {
		return safely(ctx, key, eval)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := safely(ctx, key, eval)
		done <- answer{v, err}
	}()
	select {
	case a := <-done:
		cancel()
		return a.v, a.err
	case <-ctx.Done():
		cancel()
		var zero T
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, fmt.Errorf("%w: flag %q after %v", ErrEvaluationTimeout, key, timeout)
		}
		return zero, ctx.Err()
	}
}

func safely[T any](ctx context.Context, key string, eval func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: flag %q: %v\n%s", ErrProviderPanic, key, p, debug.Stack())
		}
	}()
	return eval(ctx)
}
