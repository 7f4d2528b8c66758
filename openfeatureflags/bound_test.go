package openfeatureflags_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/open-feature/go-sdk/openfeature"
)

// stuckEvaluator is a provider that ignores its context: every evaluation
// waits for release; or, with panics, panics.
type stuckEvaluator struct {
	release chan struct{}
	panics  bool
}

func (s stuckEvaluator) wait() {
	if s.panics {
		panic("provider bug")
	}
	<-s.release
}

func (s stuckEvaluator) BooleanValueDetails(_ context.Context, flag string, def bool, _ openfeature.EvaluationContext, _ ...openfeature.Option) (openfeature.BooleanEvaluationDetails, error) {
	s.wait()
	return openfeature.BooleanEvaluationDetails{Value: true}, nil
}

func (s stuckEvaluator) StringValueDetails(_ context.Context, flag string, def string, _ openfeature.EvaluationContext, _ ...openfeature.Option) (openfeature.StringEvaluationDetails, error) {
	s.wait()
	return openfeature.StringEvaluationDetails{Value: "complete"}, nil
}

func (stuckEvaluator) Track(context.Context, string, openfeature.EvaluationContext, openfeature.TrackingEventDetails) {
}

// TestEvaluationIsBounded: a provider that ignores its context cannot hold
// the caller past the evaluation timeout, and one that panics cannot crash
// it: both flags take their default value with an error (which routes the
// call to the old store), in both modes. No wall clock is read: the stuck
// provider is released only after the evaluations returned.
func TestEvaluationIsBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason  string
		panics  bool
		timeout time.Duration
		want    error
	}{
		// Stuck until released: it times out, however short the bound.
		{"a provider that never answers", false, time.Millisecond, openfeatureflags.ErrEvaluationTimeout},
		// Bounded, so on a goroutine of its own, whose panic must not
		// crash the process; the bound is long, so that a loaded machine
		// cannot turn the panic into a timeout.
		{"a provider that panics", true, time.Hour, openfeatureflags.ErrProviderPanic},
		{"a provider that panics, unbounded (on the caller)", true, -1, openfeatureflags.ErrProviderPanic},
	} {
		ev := stuckEvaluator{release: make(chan struct{}), panics: tc.panics}
		flags, err := openfeatureflags.New(ev, openfeatureflags.WithEvaluationTimeout(tc.timeout))
		if err != nil {
			t.Fatal(err)
		}
		v, err := flags.BoolFlag(t.Context(), "events-dynamo-read", "acct", false)
		if v || !errors.Is(err, tc.want) {
			t.Errorf("%s: BoolFlag = %v, %v; want false and %v", tc.reason, v, err, tc.want)
		}
		stage, _, err := flags.StageFlag(t.Context(), "events-migration", "acct", false)
		if stage != migration.StageOff || !errors.Is(err, tc.want) {
			t.Errorf("%s: StageFlag = %v, %v; want off and %v", tc.reason, stage, err, tc.want)
		}
		close(ev.release) // the abandoned evaluations end (goleak checks it)
	}
}
