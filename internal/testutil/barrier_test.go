package testutil_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// endingTB is a test whose deadline is end, as under go test -timeout.
type endingTB struct {
	testing.TB
	end time.Time
}

func (e endingTB) Deadline() (time.Time, bool) { return e.end, true }

// TestBarrierAndGateGiveUpAtTheDeadline: a Barrier whose other calls never
// come and a Gate never opened give up at their test's deadline, with
// their own errors, instead of hanging (or giving up at a fixed bound that
// a loaded machine could reach). The deadline here is a moment away, so
// that the test ends; no clock decides what it checks.
func TestBarrierAndGateGiveUpAtTheDeadline(t *testing.T) {
	soon := endingTB{TB: t, end: time.Now().Add(100 * time.Millisecond)}
	if err := testutil.NewBarrier(soon, 2).Wait(t.Context()); !errors.Is(err, testutil.ErrNoOverlap) {
		t.Errorf("Barrier.Wait alone = %v, want ErrNoOverlap", err)
	}
	g := testutil.NewGate(soon)
	if err := g.Held(1); !errors.Is(err, testutil.ErrGateShut) {
		t.Errorf("Gate.Held(1) with nothing held = %v, want ErrGateShut", err)
	}
	if err := g.Wait(t.Context()); !errors.Is(err, testutil.ErrGateShut) {
		t.Errorf("Gate.Wait on a shut gate = %v, want ErrGateShut", err)
	}
}

// TestBarrierAndGateLetGo: calls that all arrive pass the barrier, and an
// opened gate lets its held call through, with the test's own deadline.
func TestBarrierAndGateLetGo(t *testing.T) {
	b := testutil.NewBarrier(t, 2)
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- b.Wait(t.Context()) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Barrier.Wait with both arrived = %v", err)
		}
	}
	g := testutil.NewGate(t)
	go func() { errs <- g.Wait(t.Context()) }()
	if err := g.Held(1); err != nil {
		t.Fatal(err)
	}
	g.Open()
	if err := <-errs; err != nil {
		t.Errorf("Gate.Wait after Open = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := testutil.NewGate(t).Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Gate.Wait with a done context = %v, want its error", err)
	}
}
