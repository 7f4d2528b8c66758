package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// brakeObserver records brake changes.
type brakeObserver struct {
	mu      sync.Mutex
	changes []migration.BrakeState
}

func (o *brakeObserver) BrakeChanged(_ context.Context, c migration.BrakeState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.changes = append(o.changes, c)
}

func (o *brakeObserver) all() []migration.BrakeState {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]migration.BrakeState(nil), o.changes...)
}

// brakeFlags sets the four flags for everyone.
func brakeFlags(f *flagtest.Client, oldWrite, newWrite, oldRead, newRead bool) *flagtest.Client {
	k := flagmigrate.DefaultFlagKeys()
	return f.Set(k.OldWrite, oldWrite).Set(k.NewWrite, newWrite).Set(k.OldRead, oldRead).Set(k.NewRead, newRead)
}

type brakeRig struct {
	ctx      context.Context
	oldMem   *memstore.Store
	old, new *testutil.FaultStore
	flags    *flagtest.Client
	obs      *brakeObserver
	stats    *flagtest.Stats
	store    *flagmigrate.MigratingStore
}

func newBrakeRig(t *testing.T, o flagmigrate.BrakeOptions, opts ...flagmigrate.Option) *brakeRig {
	t.Helper()
	r := &brakeRig{ctx: context.Background(), oldMem: memstore.New(), flags: flagtest.New(), obs: &brakeObserver{}, stats: &flagtest.Stats{}}
	r.old = testutil.NewFaultStore("old", r.oldMem, nil)
	r.new = testutil.NewFaultStore("new", memstore.New(), nil)
	var err error
	r.store, err = flagmigrate.NewMigratingStore(r.old, r.new, r.flags, append([]flagmigrate.Option{
		flagmigrate.WithBrake(o), flagmigrate.WithRoutingCheck(-1),
		flagmigrate.WithObserver(migration.MultiObserver(migration.ObserverOf(r.obs), r.stats.Observer())),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.store.Close() })
	return r
}

// seed stores evt in the old store, and in the new one as newEvt (nil: not).
func (r *brakeRig) seed(t *testing.T, evt flagmigrate.Event, newEvt *flagmigrate.Event) {
	t.Helper()
	if err := r.oldMem.StoreEvent(r.ctx, evt); err != nil {
		t.Fatal(err)
	}
	if newEvt != nil {
		if err := r.new.Inner().StoreEvent(r.ctx, *newEvt); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrakeTrips: a planted failing new store and a planted data bug trip
// the brake at the minimum sample, not one call before; from then on the
// account's reads are served by the old store alone.
func TestBrakeTrips(t *testing.T) {
	t.Parallel()
	evt := fixture.WithValue("acct-1", "e1", 1)
	bug := fixture.WithValue("acct-1", "e1", 2)
	for _, tc := range []struct {
		reason  string
		plant   func(r *brakeRig)
		op      func(r *brakeRig, i int) error
		want    migration.BrakeReason
		newCall string // the new store's operation the samples come from
	}{
		{"the new store fails every read", func(r *brakeRig) {
			r.seed(t, evt, &evt)
			r.new.Set(eventstore.OpFindEventByID, testutil.Fault{Err: errMigBoom})
		}, func(r *brakeRig, _ int) error { _, err := r.store.FindEventByID(r.ctx, "acct-1", "e1"); return err },
			migration.BrakeErrors, eventstore.OpFindEventByID},
		{"the new store fails every write (its breaker skipping it counts as failing)", func(r *brakeRig) {
			r.new.Set(eventstore.OpStoreEvent, testutil.Fault{Err: errMigBoom})
		}, func(r *brakeRig, i int) error {
			return r.store.StoreEvent(r.ctx, fixture.WithValue("acct-1", fmt.Sprint("w", i), i))
		}, migration.BrakeErrors, ""},
		{"the new store answers with other data (a codec bug)", func(r *brakeRig) { r.seed(t, evt, &bug) },
			func(r *brakeRig, _ int) error { _, err := r.store.FindEventByID(r.ctx, "acct-1", "e1"); return err },
			migration.BrakeMismatches, eventstore.OpFindEventByID},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := newBrakeRig(t, flagmigrate.BrakeOptions{})
			brakeFlags(r.flags, true, true, true, true)
			tc.plant(r)
			for i := range flagmigrate.DefaultBrakeMinSamples - 1 {
				if err := tc.op(r, i); err != nil {
					t.Fatalf("call %d: %v (the caller must get the old store's answer)", i, err)
				}
			}
			if b := r.store.Brakes(); len(b) != 0 {
				t.Fatalf("braked before the minimum sample: %v", b)
			}
			if err := tc.op(r, 1000); err != nil {
				t.Fatal(err)
			}
			b := r.store.Brakes()
			if len(b) != 1 || b[0].AccountID != "acct-1" || b[0].Reason != tc.want ||
				b[0].Samples != flagmigrate.DefaultBrakeMinSamples || b[0].Bad != flagmigrate.DefaultBrakeMinSamples || b[0].Since.IsZero() {
				t.Fatalf("after the minimum sample: %v, want acct-1 braked on %v, %d of %d", b, tc.want, flagmigrate.DefaultBrakeMinSamples, flagmigrate.DefaultBrakeMinSamples)
			}
			ch := r.obs.all()
			if len(ch) != 1 || ch[0].Released != "" || ch[0].CannotHelp || ch[0].Bad != ch[0].Samples || ch[0].Threshold <= 0 {
				t.Errorf("observer told %+v, want one trip with its figures", ch)
			}
			if s := r.stats.Snapshot(); s.Brakes != 1 {
				t.Errorf("Stats counted %d brakes", s.Brakes)
			}
			// Braked: a read is served by the old store alone.
			r.seed(t, fixture.WithValue("acct-1", "later", 1), nil)
			newReads := r.new.Count(eventstore.OpFindEventByID)
			for range 10 {
				if _, err := r.store.FindEventByID(r.ctx, "acct-1", "later"); err != nil {
					t.Fatalf("braked read: %v", err)
				}
			}
			if n := r.new.Count(eventstore.OpFindEventByID); n != newReads {
				t.Errorf("braked reads read the new store %d times", n-newReads)
			}
			// Another account is not braked: its read is dual. (When the
			// new store's writes or reads failed, its breaker takes it as
			// down, so the dual read compares without reading it.)
			compared := func() int64 {
				var n int64
				for _, c := range r.stats.Snapshot().Verdicts {
					n += c
				}
				return n
			}
			before := compared()
			if _, err := r.store.FindEventByID(r.ctx, "acct-2", "e1"); !errors.Is(err, flagmigrate.ErrNotFound) {
				t.Errorf("acct-2: %v", err)
			}
			wantReads := newReads + 1
			if tc.want == migration.BrakeErrors {
				wantReads = newReads
			}
			if n := r.new.Count(eventstore.OpFindEventByID); n != wantReads || compared() != before+1 {
				t.Errorf("acct-2's read was not dual: %d new-store reads, %d comparisons", n-newReads, compared()-before)
			}
		})
	}
}

// TestBrakeCleanRun: 100,000 calls over ten accounts with the default
// thresholds on stores with healthy rates (1% of the new store's calls
// fail, 0.1% of its reads answer wrongly: both well under the thresholds)
// never trip the brake; the same run with a new store failing 30% of its
// calls (over the 20% threshold) does.
func TestBrakeCleanRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason           string
		errRate, badRate float64
		calls            int
		wantBraked       bool
	}{
		{"healthy rates never brake in 100,000 calls", 0.01, 0.001, 100_000, false},
		{"30% errors brake (the run can fail)", 0.3, 0, 2_000, true},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			ctx := context.Background()
			flaky := &flakyStore{EventStore: memstore.New(), rng: rand.New(rand.NewPCG(17, 1)), errRate: tc.errRate, badRate: tc.badRate}
			obs := &brakeObserver{}
			store, err := flagmigrate.NewMigratingStore(memstore.New(), flaky, brakeFlags(flagtest.New(), true, true, true, true),
				flagmigrate.WithBrake(flagmigrate.BrakeOptions{}), flagmigrate.WithRoutingCheck(-1), flagmigrate.WithObserver(migration.ObserverOf(obs)),
				flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: -1}))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			for i := range tc.calls / 2 {
				acct := fmt.Sprint("acct-", i%10)
				if err := store.StoreEvent(ctx, fixture.WithValue(acct, fmt.Sprint("e", i), i)); err != nil {
					t.Fatal(err)
				}
				if _, err := store.FindEventByID(ctx, acct, fmt.Sprint("e", i)); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(obs.all()) > 0; got != tc.wantBraked {
				t.Errorf("braked %v (%v), want %v", got, store.Brakes(), tc.wantBraked)
			}
		})
	}
}

// flakyStore fails a share of calls and answers a share of reads with
// altered data, from a seeded generator.
type flakyStore struct {
	flagmigrate.EventStore
	mu               sync.Mutex
	rng              *rand.Rand
	errRate, badRate float64
}

func (s *flakyStore) roll() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64()
}

func (s *flakyStore) StoreEvent(ctx context.Context, evt flagmigrate.Event) error {
	if s.roll() < s.errRate {
		return errMigBoom
	}
	return s.EventStore.StoreEvent(ctx, evt)
}

func (s *flakyStore) FindEventByID(ctx context.Context, accountID, id string) (flagmigrate.Event, error) {
	switch x := s.roll(); {
	case x < s.errRate:
		return flagmigrate.Event{}, errMigBoom
	case x < s.errRate+s.badRate:
		e, err := s.EventStore.FindEventByID(ctx, accountID, id)
		e.Type = "altered"
		return e, err
	}
	return s.EventStore.FindEventByID(ctx, accountID, id)
}

// TestBrakeKeepsWritingOld: for each of the sixteen flag combinations,
// with a new store failing every call, the brake never takes the old
// store out of a write the flags send to it, serves every braked read from
// the old store (which then is written), and says it cannot help when the
// flags route the account to the new store only.
func TestBrakeKeepsWritingOld(t *testing.T) {
	t.Parallel()
	for combo := range 16 {
		f := migration.FlagState{OldWrite: combo&1 != 0, NewWrite: combo&2 != 0, OldRead: combo&4 != 0, NewRead: combo&8 != 0}
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			r := newBrakeRig(t, flagmigrate.BrakeOptions{Window: 10, MinSamples: 5})
			brakeFlags(r.flags, f.OldWrite, f.NewWrite, f.OldRead, f.NewRead)
			r.new.Set("", testutil.Fault{Err: errMigBoom})
			wo, _ := f.Writes()
			var brakedWrites, oldWrites int
			for i := range 40 {
				id := fmt.Sprint("e", i)
				braked := len(r.store.Brakes()) == 1
				err := r.store.StoreEvent(r.ctx, fixture.WithValue("acct-1", id, i))
				_, e := r.oldMem.FindEventByID(r.ctx, "acct-1", id)
				if braked && wo {
					// Before the brake, an authoritative new store that
					// fails fails the write; once braked, the old store is
					// authoritative and always written.
					brakedWrites++
					if e != nil {
						t.Fatalf("braked write %d did not reach the old store: %v", i, err)
					}
				}
				if e == nil {
					oldWrites++
				}
				_, _ = r.store.FindEventByID(r.ctx, "acct-1", id)
			}
			if !wo && oldWrites != 0 {
				t.Errorf("the brake wrote the old store %d times though its flags are off (it cannot help there)", oldWrites)
			}
			touchesNew := f.Authoritative() == migration.SideNew || combo&2 != 0 || f.NewRead
			braked := r.store.Brakes()
			if touchesNew != (len(braked) == 1) {
				t.Fatalf("braked %v; the flags route to the new store: %v", braked, touchesNew)
			}
			if len(braked) == 0 {
				return
			}
			if wo && brakedWrites < 30 {
				t.Errorf("only %d writes after the brake tripped", brakedWrites)
			}
			cannotHelp := !wo // the flags write the new store only
			if braked[0].CannotHelp != cannotHelp {
				t.Errorf("CannotHelp %v, want %v", braked[0].CannotHelp, cannotHelp)
			}
			if !cannotHelp {
				r.seed(t, fixture.WithValue("acct-1", "old-only", 1), nil)
				if _, err := r.store.FindEventByID(r.ctx, "acct-1", "old-only"); err != nil {
					t.Errorf("a braked read was not served by the old store: %v", err)
				}
			}
		})
	}
}

// TestBrakeReleases: a brake holds until the route the account's flags
// give changes, or until the cooldown; a release forgets the samples (the
// minimum sample is needed again to trip).
func TestBrakeReleases(t *testing.T) {
	t.Parallel()
	evt := fixture.WithValue("acct-1", "e1", 1)
	read := func(r *brakeRig) { _, _ = r.store.FindEventByID(r.ctx, "acct-1", "e1") }
	trip := func(t *testing.T, r *brakeRig) {
		t.Helper()
		for range 5 {
			read(r)
		}
		if len(r.store.Brakes()) != 1 {
			t.Fatalf("not braked after 5 failing reads")
		}
	}
	t.Run("a flag change", func(t *testing.T) {
		r := newBrakeRig(t, flagmigrate.BrakeOptions{Window: 10, MinSamples: 5, Cooldown: -1})
		brakeFlags(r.flags, true, true, true, true)
		r.seed(t, evt, &evt)
		r.new.Set(eventstore.OpFindEventByID, testutil.Fault{Err: errMigBoom})
		trip(t, r)
		for range 20 {
			read(r) // the same flags: it holds
		}
		if len(r.store.Brakes()) != 1 {
			t.Fatal("released without a flag change")
		}
		r.flags.Set(flagmigrate.DefaultFlagKeys().NewRead, false) // an operator turns dual reads off
		read(r)
		ch := r.obs.all()
		if len(r.store.Brakes()) != 0 || len(ch) != 2 || ch[1].Released != migration.ReleaseFlagChange {
			t.Fatalf("after a flag change: braked %v, changes %+v", r.store.Brakes(), ch)
		}
		r.flags.Set(flagmigrate.DefaultFlagKeys().NewRead, true) // and on again
		for range 4 {
			read(r)
		}
		if len(r.store.Brakes()) != 0 {
			t.Fatal("the samples before the release were kept")
		}
		read(r)
		if len(r.store.Brakes()) != 1 {
			t.Fatal("did not trip again after the minimum sample")
		}
	})
	t.Run("the cooldown", func(t *testing.T) {
		// Without the store breaker, which would take the failing store
		// as down: after the cooldown the read must reach it again.
		r := newBrakeRig(t, flagmigrate.BrakeOptions{Window: 10, MinSamples: 5, Cooldown: time.Minute},
			flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: -1}))
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		flagmigrate.SetBrakeClock(flagmigrate.MigrationOf(r.store), func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		brakeFlags(r.flags, true, true, true, true)
		r.seed(t, evt, &evt)
		r.new.Set(eventstore.OpFindEventByID, testutil.Fault{Err: errMigBoom})
		trip(t, r)
		if b := r.store.Brakes(); !b[0].Until.Equal(now.Add(time.Minute)) {
			t.Errorf("Until %v", b[0].Until)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		newReads := r.new.Count(eventstore.OpFindEventByID)
		read(r)
		ch := r.obs.all()
		if len(r.store.Brakes()) != 0 || len(ch) != 2 || ch[1].Released != migration.ReleaseCooldown ||
			r.new.Count(eventstore.OpFindEventByID) != newReads+1 {
			t.Fatalf("after the cooldown: braked %v, changes %+v", r.store.Brakes(), ch)
		}
	})
}

// TestBrakeBoundedAccounts: the brake tracks at most MaxAccounts accounts,
// and never forgets a braked one to make room.
func TestBrakeBoundedAccounts(t *testing.T) {
	t.Parallel()
	r := newBrakeRig(t, flagmigrate.BrakeOptions{Window: 4, MinSamples: 2, MaxAccounts: 3})
	brakeFlags(r.flags, true, true, true, true)
	r.new.Set(eventstore.OpFindEventByID, testutil.Fault{Err: errMigBoom})
	for range 2 {
		_, _ = r.store.FindEventByID(r.ctx, "braked", "e1")
	}
	for i := range 100 {
		_, _ = r.store.FindEventByID(r.ctx, fmt.Sprint("acct-", i), "e1")
	}
	if n := flagmigrate.BrakeTracked(flagmigrate.MigrationOf(r.store)); n > 3 {
		t.Errorf("%d accounts tracked, cap 3", n)
	}
	found := false
	for _, b := range r.store.Brakes() {
		found = found || b.AccountID == "braked"
	}
	if !found {
		t.Errorf("the braked account was forgotten: %v", r.store.Brakes())
	}
}

func TestBrakeOptionsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		o      flagmigrate.BrakeOptions
	}{
		{"a minimum sample above the window", flagmigrate.BrakeOptions{Window: 10, MinSamples: 11}},
		{"a negative window", flagmigrate.BrakeOptions{Window: -1}},
		{"an error rate above 1", flagmigrate.BrakeOptions{MaxErrorRate: 1.5}},
		{"a negative mismatch rate", flagmigrate.BrakeOptions{MaxMismatchRate: -0.1}},
		{"a NaN rate", flagmigrate.BrakeOptions{MaxErrorRate: math.NaN()}},
		{"a negative account cap", flagmigrate.BrakeOptions{MaxAccounts: -1}},
	} {
		_, err := flagmigrate.NewMigratingStore(memstore.New(), memstore.New(), flagtest.New(), flagmigrate.WithBrake(tc.o))
		if !errors.Is(err, flagmigrate.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", tc.reason, err)
		}
	}
}

// TestBrakeStatistics recomputes the figures of WithBrake's documentation:
// the chance that a store with a healthy rate p0 shows, in some window of
// n samples (the minimum sample to the window), a rate over the threshold.
func TestBrakeStatistics(t *testing.T) {
	t.Parallel()
	worst := func(p0, threshold float64) float64 {
		w := 0.0
		for n := flagmigrate.DefaultBrakeMinSamples; n <= flagmigrate.DefaultBrakeWindow; n++ {
			w = max(w, binomialTail(n, p0, threshold))
		}
		return w
	}
	for _, tc := range []struct {
		reason          string
		p0, threshold   float64
		bound           float64
		detectAtMinimum float64 // P(trip at the minimum sample) at twice the threshold
	}{
		{"errors at 1%", 0.01, flagmigrate.DefaultBrakeMaxErrorRate, 6.5e-12, 0.997},
		{"errors at 2%", 0.02, flagmigrate.DefaultBrakeMaxErrorRate, 0.009e-6, 0.997},
		{"mismatches at 0.1%", 0.001, flagmigrate.DefaultBrakeMaxMismatchRate, 4.4e-11, 0.95},
	} {
		if w := worst(tc.p0, tc.threshold); w >= tc.bound {
			t.Errorf("%s: a false trip per judged call %.3g, documented below %.3g", tc.reason, w, tc.bound)
		}
		if d := binomialTail(flagmigrate.DefaultBrakeMinSamples, 2*tc.threshold, tc.threshold); d <= tc.detectAtMinimum {
			t.Errorf("%s: detection at twice the threshold %.4f, documented above %.3g", tc.reason, d, tc.detectAtMinimum)
		}
	}
}

// binomialTail returns P(Bin(n, p) > t·n).
func binomialTail(n int, p, t float64) float64 {
	s := 0.0
	for k := int(math.Floor(t*float64(n))) + 1; k <= n; k++ {
		ln, _ := math.Lgamma(float64(n + 1))
		lk, _ := math.Lgamma(float64(k + 1))
		lnk, _ := math.Lgamma(float64(n - k + 1))
		s += math.Exp(ln - lk - lnk + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
	}
	return s
}
