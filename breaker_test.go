package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

// gateStore is a memstore whose StoreEvent fails while fail is set and,
// while gate is set, first announces itself on entered and waits for
// release: a store a test takes down, holds and brings back.
type gateStore struct {
	*memstore.Store
	mu       sync.Mutex
	fail     error
	entered  chan struct{} // when set, each write says so, then waits on release
	release  chan struct{}
	writes   int
	inFlight int
	maxIn    int
}

func (g *gateStore) set(fail error, gated bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail = fail
	if gated {
		g.entered, g.release = make(chan struct{}), make(chan struct{})
	} else {
		g.entered, g.release = nil, nil
	}
}

func (g *gateStore) StoreEvent(ctx context.Context, e flagmigrate.Event) error {
	g.mu.Lock()
	g.writes++
	g.inFlight++
	g.maxIn = max(g.maxIn, g.inFlight)
	entered, release := g.entered, g.release
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	if entered != nil {
		entered <- struct{}{}
		<-release
	}
	g.mu.Lock()
	fail := g.fail
	g.mu.Unlock()
	if fail != nil {
		return fail
	}
	return g.Store.StoreEvent(ctx, e)
}

func (g *gateStore) counts() (writes, maxInFlight int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.writes, g.maxIn
}

// TestDeadSecondaryIsSkipped: after three failed writes the secondary is
// taken as down; later writes do not wait for it (one returns while the
// probe it started is held inside the store), go straight to the repair
// log, and send one probe at a time; a probe that lands brings the store
// back, reporting the writes skipped, and a repair heals them all.
func TestDeadSecondaryIsSkipped(t *testing.T) {
	for _, tc := range []struct {
		reason string
		opts   []flagmigrate.Option
	}{
		{"sequential writes", nil},
		{"concurrent writes: written one after the other while the store is down", []flagmigrate.Option{flagmigrate.WithConcurrentWrites()}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			old, nu := memstore.New(), &gateStore{Store: memstore.New()}
			obs, repairs := &migObserver{}, repairlog.NewMemory(0)
			s, err := flagmigrate.NewMigratingStore(old, nu, migFlags(fs(true, true, true, false)), append(tc.opts,
				flagmigrate.WithObserver(obs.observer()), flagmigrate.WithRepairLog(repairs),
				flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: 3, Backoff: time.Nanosecond, MaxBackoff: time.Nanosecond}))...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			write := func(i int) error { return s.StoreEvent(t.Context(), fixture.WithValue("acct", fmt.Sprint("e", i), i)) }

			nu.set(errMigBoom, false)
			for i := 1; i <= 3; i++ {
				if err := write(i); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			obs.mu.Lock()
			states := append([]migration.StoreState(nil), obs.states...)
			obs.mu.Unlock()
			if len(states) != 1 || !states[0].Down || states[0].Side != migration.SideNew || states[0].Failures != 3 {
				t.Fatalf("states %+v, want the new store down after 3 failures", states)
			}

			// Down: the next write starts a probe, held in the store, and
			// returns without waiting for it.
			nu.set(errMigBoom, true)
			entered, release := nu.entered, nu.release
			done := make(chan error, 1)
			go func() { done <- write(4) }()
			<-entered
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("write 4: %v", err)
				}
			case <-testutil.DeadlinePassed(t): // a hang detector: the probe is held until release
				close(release)
				t.Fatal("write 4 waits for the store that is down")
			}
			for i := 5; i <= 6; i++ { // while the probe is held: skipped, no second probe
				if err := write(i); err != nil {
					t.Errorf("write %d: %v", i, err)
				}
			}
			if w, _ := nu.counts(); w != 4 {
				t.Errorf("the store was written %d times, want 3 failures and 1 probe", w)
			}
			nu.mu.Lock()
			nu.fail = nil // back: the held probe lands
			nu.mu.Unlock()
			close(release)
			_ = s.Close() // waits for the probe
			if _, maxIn := nu.counts(); maxIn != 1 {
				t.Errorf("%d writes to the store at once, want one probe at a time", maxIn)
			}
			obs.mu.Lock()
			states = append([]migration.StoreState(nil), obs.states...)
			var probes, secondaries int
			for _, c := range obs.calls {
				switch {
				case c.Side == migration.SideNew && c.Role == migration.RoleProbe:
					probes++
				case c.Side == migration.SideNew && c.Role == migration.RoleSecondary:
					secondaries++
				}
			}
			obs.mu.Unlock()
			if len(states) != 2 || states[1].Down || states[1].Skipped != 3 {
				t.Errorf("states %+v, want down, then back with 3 writes skipped", states)
			}
			if probes != 1 || secondaries != 3 {
				t.Errorf("reported %d probes and %d secondary writes, want 1 and 3", probes, secondaries)
			}

			// Back: writes go to the store again.
			nu.set(nil, false)
			if err := write(7); err != nil {
				t.Fatal(err)
			}
			entries := repairs.Entries()
			if len(entries) != 6 {
				t.Fatalf("%d repair entries, want one per write 1-6", len(entries))
			}
			for i, e := range entries {
				if down := strings.Contains(e.Error, flagmigrate.ErrStoreDown.Error()); down != (i >= 3) {
					t.Errorf("entry %d: error %q, want the store being down", i, e.Error)
				}
			}
			st, err := backfill.Repair(t.Context(), repairs.RepairEntries(t.Context()), old, nu.Store, nil)
			if err != nil || st.Copied != 5 || st.AlreadyThere != 1 {
				t.Errorf("repair: %+v, %v; want 5 copied and the probe's write already there", st, err)
			}
			for i := 1; i <= 7; i++ {
				if _, err := nu.FindEventByID(t.Context(), "acct", fmt.Sprint("e", i)); err != nil {
					t.Errorf("e%d not in the new store after repair: %v", i, err)
				}
			}
		})
	}
}

// TestBreakerOptions: the breaker can be turned off, and bad options are
// refused.
func TestBreakerOptions(t *testing.T) {
	t.Parallel()
	nu := &gateStore{Store: memstore.New()}
	nu.set(errMigBoom, false)
	f := newMigFixture(t, migFlags(fs(true, true, true, false)))
	s, err := flagmigrate.NewMigratingStore(f.old, nu, migFlags(fs(true, true, true, false)),
		flagmigrate.WithObserver(f.obs.observer()), flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: -1}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 2 * flagmigrate.DefaultBreakerFailures {
		if err := s.StoreEvent(t.Context(), fixture.WithValue("acct", fmt.Sprint("e", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if w, _ := nu.counts(); w != 2*flagmigrate.DefaultBreakerFailures || len(f.obs.states) != 0 {
		t.Errorf("without a breaker: %d writes reached the store, states %+v; want all, none", w, f.obs.states)
	}
	for _, o := range []flagmigrate.BreakerOptions{{Backoff: -1}, {MaxBackoff: -time.Second}} {
		if _, err := flagmigrate.NewMigratingStore(f.old, nu, migFlags(fs(true, true, true, false)), flagmigrate.WithStoreBreaker(o)); !errors.Is(err, flagmigrate.ErrInvalidArgument) {
			t.Errorf("WithStoreBreaker(%+v): %v, want ErrInvalidArgument", o, err)
		}
	}
}

// TestDownCandidateIsNotRead: once the breaker takes the new store as down,
// a dual read, shadow or not, does not read it (a dead store would hold
// the caller, or a shadow worker, until a timeout of a minute): the old
// store's event is served, the comparison says the new store failed with
// ErrStoreDown, and the brake counts the skipped read as the new store's
// error.
func TestDownCandidateIsNotRead(t *testing.T) {
	t.Parallel()
	for _, shadow := range []bool{false, true} {
		opts := []flagmigrate.Option{flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: 1, Backoff: time.Hour}),
			flagmigrate.WithSecondaryTimeout(time.Minute),
			// Two errors of the new store in two samples trip the brake:
			// the failed write, and the read that skips the store.
			flagmigrate.WithBrake(flagmigrate.BrakeOptions{Window: 2, MinSamples: 2, MaxErrorRate: 0.9})}
		if shadow {
			opts = append(opts, flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{Timeout: time.Minute}))
		}
		f := newMigFixture(t, migFlags(fs(true, true, true, true)), opts...)
		evt := fixture.WithValue("acct", "e0", 0)
		f.seed(t, "old", evt)
		f.seed(t, "new", evt)
		f.new.Set(eventstore.OpStoreEvent, testutil.Fault{Err: errMigBoom})
		if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
			t.Fatalf("shadow %v: the write that takes the new store down: %v", shadow, err)
		}
		// A new store that never answers: reading it would hold the read
		// for the secondary (or shadow) timeout of a minute.
		f.new.Set(eventstore.OpFindEventByID, testutil.Fault{Before: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
		f.calls.Reset()
		got, err := f.store.FindEventByID(t.Context(), "acct", "e0")
		if err != nil || got.ID != "e0" {
			t.Fatalf("shadow %v: FindEventByID = %+v, %v; want the old store's e0", shadow, got, err)
		}
		if diff := cmp.Diff([]string{"old.FindEventByID"}, f.calls.Names()); diff != "" {
			t.Errorf("shadow %v: store calls (-want +got):\n%s", shadow, diff)
		}
		f.obs.mu.Lock()
		cs := slices.Clone(f.obs.comparisons)
		f.obs.mu.Unlock()
		if len(cs) != 1 || cs[0].Verdict != migration.VerdictErrorInNew || !errors.Is(cs[0].NewErr, flagmigrate.ErrStoreDown) || cs[0].OldErr != nil {
			t.Errorf("shadow %v: comparisons %+v, want one error in new matching ErrStoreDown", shadow, cs)
		}
		if b := f.store.Brakes(); len(b) != 1 || b[0].Reason != migration.BrakeErrors || b[0].Bad != 2 {
			t.Errorf("shadow %v: brakes %+v, want acct braked on 2 errors of the new store", shadow, b)
		}
	}
}

// StoreCanonical sends a MigratingStore's writes through the gate too (the
// embedded memstore's own would bypass it).
func (g *gateStore) StoreCanonical(ctx context.Context, c eventstore.Canonical) error {
	e, err := c.Event()
	if err != nil {
		return err
	}
	return g.StoreEvent(ctx, e)
}

// TestFailingReadsTakeTheStoreDown: a candidate store that fails its reads
// is taken as down after Failures of them, as one that fails its writes
// is, so read-heavy traffic stops waiting for it; a read its caller
// cancels says nothing of the store.
func TestFailingReadsTakeTheStoreDown(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)),
		flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: 3, Backoff: time.Hour}))
	f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
	f.new.Set(eventstore.OpFindEventByID, testutil.Fault{Err: errMigBoom})
	for range 5 {
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatal(err)
		}
	}
	f.obs.mu.Lock()
	states := slices.Clone(f.obs.states)
	f.obs.mu.Unlock()
	if len(states) != 1 || !states[0].Down || states[0].Side != migration.SideNew || states[0].Failures != 3 {
		t.Fatalf("states %+v, want the new store down after 3 failed reads", states)
	}
	if n := f.new.Count(eventstore.OpFindEventByID); n != 3 {
		t.Errorf("the new store was read %d times, want 3: not once it is down", n)
	}
}
