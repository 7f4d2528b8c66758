package breaker_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/breaker"
	"github.com/flagmigrate/flagmigrate/migration"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	errDown = errors.New("down")
	errBoom = errors.New("boom")
	errNo   = errors.New("not found") // an answer, not a failure
)

func failed(err error) bool { return !errors.Is(err, errNo) }

// TestBreaker walks a breaker through its states: closed until Failures
// consecutive failures (an answer resets the count), then open with one
// probe at a time, then closed again when a probe lands.
func TestBreaker(t *testing.T) {
	t.Parallel()
	b := breaker.New(migration.SideNew, breaker.Options{Failures: 2, Backoff: time.Nanosecond, MaxBackoff: time.Nanosecond}, failed)
	for _, step := range []struct {
		reason    string
		err       error
		probe     bool
		wantDown  bool
		wantState *migration.StoreState
	}{
		{"a failure", errBoom, false, false, nil},
		{"an answer resets the count", errNo, false, false, nil},
		{"a failure again", errBoom, false, false, nil},
		{"the second in a row takes the store down", errBoom, false, true, &migration.StoreState{Side: migration.SideNew, Down: true, Failures: 2, Err: errBoom}},
		{"a failed probe keeps it down", errBoom, true, true, nil},
		{"a probe that lands brings it back, counting the writes skipped (one per Admit while down)", nil, true, false, &migration.StoreState{Side: migration.SideNew, Failures: 1, Skipped: 2}},
	} {
		if step.probe {
			write, probe, skipErr := b.Admit(errDown)
			if write || !probe || !errors.Is(skipErr, errDown) || !errors.Is(skipErr, errBoom) {
				t.Fatalf("%s: Admit = %v, %v, %v; want a probe and a skip wrapping errDown and the last failure", step.reason, write, probe, skipErr)
			}
		}
		got := b.Done(step.err, step.probe)
		if (got == nil) != (step.wantState == nil) || got != nil && *got != *step.wantState {
			t.Errorf("%s: change %+v, want %+v", step.reason, got, step.wantState)
		}
		if b.Down() != step.wantDown {
			t.Errorf("%s: Down = %v, want %v", step.reason, b.Down(), step.wantDown)
		}
	}
	if write, _, _ := b.Admit(errDown); !write {
		t.Error("a store back up is written")
	}
}

// TestNoBreaker: Failures below zero never take a store down.
func TestNoBreaker(t *testing.T) {
	t.Parallel()
	b := breaker.New(migration.SideOld, breaker.Options{Failures: -1, Backoff: time.Second, MaxBackoff: time.Second}, failed)
	for range 10 {
		if change := b.Done(errBoom, false); change != nil {
			t.Fatalf("change %+v without a breaker", change)
		}
	}
	if write, _, _ := b.Admit(errDown); !write || b.Down() {
		t.Error("without a breaker every write goes to the store")
	}
}

// TestProbes: probes run in the background until Close, which waits for
// them; after Close they run on the caller.
func TestProbes(t *testing.T) {
	t.Parallel()
	var p breaker.Probes
	var ran atomic.Int32
	release := make(chan struct{})
	p.Start(func() {
		<-release
		ran.Add(1)
	})
	go close(release)
	p.Close()
	if ran.Load() != 1 {
		t.Fatal("Close returned before the probe in flight ended")
	}
	p.Start(func() { ran.Add(1) })
	if ran.Load() != 2 {
		t.Fatal("a probe after Close did not run on the caller")
	}
}
