package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
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
	"go.uber.org/goleak"
)

func shadowFixture(t *testing.T, so flagmigrate.ShadowOptions, opts ...flagmigrate.Option) *migFixture {
	f := newMigFixture(t, migFlags(fs(true, true, true, true)),
		append([]flagmigrate.Option{flagmigrate.WithShadowReads(so)}, opts...)...)
	f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
	f.seed(t, "new", fixture.WithValue("acct", "e1", 1))
	return f
}

// served runs reads on workers goroutines and waits for them; it fails the
// test if they are still waiting at the test's deadline (testutil.Deadline,
// a deadlock guard: a caller that waits for a held candidate never returns,
// since the candidate is let go only after served returned).
func served(t *testing.T, workers int, reads func(w int) []error) []error {
	t.Helper()
	done := make(chan []error, workers)
	for w := range workers {
		go func() { done <- reads(w) }()
	}
	var errs []error
	hung := testutil.DeadlinePassed(t)
	for range workers {
		select {
		case e := <-done:
			errs = append(errs, e...)
		case <-hung:
			t.Fatal("callers still waiting at the test's deadline: they wait for the held candidate")
		}
	}
	return errs
}

// TestShadowLoad: concurrent dual reads in shadow mode with a candidate
// that is held (and then fails) until every caller has been served: the
// incumbent is served without waiting for it, the reads beyond the bound
// are dropped and counted, Close waits, and no goroutine survives.
func TestShadowLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const workers, reads, maxInFlight = 16, 25, 4
	f := shadowFixture(t, flagmigrate.ShadowOptions{Timeout: time.Minute, MaxInFlight: maxInFlight})
	gate := testutil.NewGate(t)
	f.new.Set("", testutil.Fault{Before: gate.Wait, Err: errMigBoom})

	errs := served(t, workers, func(w int) []error {
		var errs []error
		for i := range reads {
			var err error
			if i%2 == 0 {
				_, err = f.store.FindEventByID(t.Context(), "acct", "e1")
			} else {
				_, err = f.store.ListEvents(t.Context(), "acct", flagmigrate.ListOptions{})
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("worker %d read %d: %w", w, i, err))
			}
		}
		return errs
	})
	for _, err := range errs {
		t.Error(err)
	}
	// Every caller was served while the candidates were held: exactly the
	// bound is in flight, the rest were dropped.
	if err := gate.Held(maxInFlight); err != nil {
		t.Fatal(err)
	}
	if n := gate.Waiting(); n != maxInFlight {
		t.Errorf("%d candidate reads held, want %d (the bound)", n, maxInFlight)
	}
	if n := len(f.obs.verdicts()); n != 0 {
		t.Errorf("%d comparisons while every candidate was held", n)
	}
	gate.Open()
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	// After Close: every dual read was either compared or dropped.
	compared, dropped := len(f.obs.verdicts()), f.obs.droppedCount()
	if compared != maxInFlight || dropped != workers*reads-maxInFlight {
		t.Errorf("compared %d, dropped %d; want %d and %d", compared, dropped, maxInFlight, workers*reads-maxInFlight)
	}
	for _, v := range f.obs.verdicts() {
		if v != migration.VerdictErrorInNew {
			t.Fatalf("verdict %v, want error in new", v)
		}
	}
}

// TestShadowReturnsAtOnce: the caller is served while the candidate read is
// held; the comparison happens when it is let go.
func TestShadowReturnsAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := shadowFixture(t, flagmigrate.ShadowOptions{Timeout: time.Minute})
	gate := testutil.NewGate(t)
	f.new.Set("", testutil.Fault{Before: gate.Wait})
	for _, err := range served(t, 1, func(int) []error {
		_, err := f.store.FindEventByID(t.Context(), "acct", "e1")
		return []error{err}
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := gate.Held(1); err != nil {
		t.Fatal(err)
	}
	if n := len(f.obs.verdicts()); n != 0 {
		t.Errorf("%d comparisons before the candidate finished", n)
	}
	gate.Open()
	if err := f.store.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := f.obs.verdicts(); len(v) != 1 || v[0] != migration.VerdictMatch {
		t.Errorf("after Flush: verdicts %v, want [match]", v)
	}
	_ = f.store.Close() // stops the idle shadow workers
}

func TestShadowTimeout(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := shadowFixture(t, flagmigrate.ShadowOptions{Timeout: 20 * time.Millisecond})
	// The candidate answers only when its context ends: were the timeout
	// ignored, Close would wait for it until the test's deadline. The
	// verdict, not a clock, shows that the timeout ended it.
	f.new.Set("", testutil.Fault{Before: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	closes(t, f.store)
	mm := f.obs.mismatches()
	if len(mm) != 1 || mm[0].Verdict != migration.VerdictErrorInNew || !errors.Is(mm[0].NewErr, context.DeadlineExceeded) {
		t.Errorf("mismatches %+v, want a timeout in new", mm)
	}
}

func TestShadowCallerCancelDoesNotCancelShadow(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := shadowFixture(t, flagmigrate.ShadowOptions{})
	f.new.Set("", testutil.Fault{Delay: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	if _, err := f.store.FindEventByID(ctx, "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	cancel() // the request ends; the comparison goes on
	_ = f.store.Close()
	if v := f.obs.verdicts(); len(v) != 1 || v[0] != migration.VerdictMatch {
		t.Errorf("verdicts %v, want [match]", v)
	}
}

func TestShadowAfterClose(t *testing.T) {
	t.Parallel()
	f := shadowFixture(t, flagmigrate.ShadowOptions{})
	_ = f.store.Close()
	_ = f.store.Close() // idempotent
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatalf("reads keep working after Close: %v", err)
	}
	if got := f.calls.Names(); len(got) != 1 || got[0] != "old.FindEventByID" {
		t.Errorf("after Close: calls %v, want the incumbent only", got)
	}
	if len(f.obs.dropped) != 1 || f.obs.dropped[0] != migration.DropClosed {
		t.Errorf("dropped %v, want [closed]", f.obs.dropped)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := shadowFixture(t, flagmigrate.ShadowOptions{Timeout: time.Minute})
	gate := testutil.NewGate(t)
	f.new.Set("", testutil.Fault{Before: gate.Wait})
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	// The candidate is held: a Flush whose context ends first returns its error.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := f.store.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with a done context while a read is held = %v", err)
	}
	gate.Open()
	if err := f.store.Flush(t.Context()); err != nil {
		t.Errorf("Flush = %v", err)
	}
	if n := len(f.obs.verdicts()); n != 1 {
		t.Errorf("%d comparisons after Flush, want 1", n)
	}
	_ = f.store.Close()
}

// TestShadowCallerMayModifyResult: the caller owns what it is served, even
// while the background comparison runs (checked by -race).
func TestShadowCallerMayModifyResult(t *testing.T) {
	t.Parallel()
	f := shadowFixture(t, flagmigrate.ShadowOptions{})
	f.new.Set("", testutil.Fault{Delay: 5 * time.Millisecond})
	e, err := f.store.FindEventByID(t.Context(), "acct", "e1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.store.ListEvents(t.Context(), "acct", flagmigrate.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.Data["v"] = "changed by the caller"
	p.Events[0].Data["v"] = "changed too"
	p.Events[0] = flagmigrate.Event{}
	_ = f.store.Close()
	for _, v := range f.obs.verdicts() {
		if v != migration.VerdictMatch {
			t.Errorf("verdict %v: the comparison saw the caller's changes", v)
		}
	}
}

func TestCompareSampling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason    string
		rate      float64
		byAccount bool
		accounts  int
		check     func(perAccount map[string]int) error
	}{
		{"rate 0 compares nothing", 0, false, 4, func(m map[string]int) error {
			if len(m) != 0 {
				return fmt.Errorf("compared %v", m)
			}
			return nil
		}},
		{"by account: each account all or nothing, some of each", 0.5, true, 64, func(m map[string]int) error {
			for a, n := range m {
				if n != 3 {
					return fmt.Errorf("account %s compared %d of 3 reads", a, n)
				}
			}
			if len(m) == 0 || len(m) == 64 {
				return fmt.Errorf("%d of 64 accounts sampled", len(m))
			}
			return nil
		}},
	} {
		f := newMigFixture(t, migFlags(fs(true, true, true, true)), sampling(tc.rate, tc.byAccount))
		for a := range tc.accounts {
			for range 3 {
				_, _ = f.store.FindEventByID(t.Context(), fmt.Sprintf("acct-%d", a), "e1")
			}
		}
		per := map[string]int{}
		for _, c := range f.obs.comparisons {
			per[c.AccountID]++
		}
		if err := tc.check(per); err != nil {
			t.Errorf("%s: %v", tc.reason, err)
		}
	}
}

func TestShadowRechecksBeforeReporting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason      string
		healed      bool
		wantVerdict migration.Verdict
	}{
		{"a write landing between the two reads is not a mismatch", true, migration.VerdictMatch},
		{"a lasting difference is reported after the recheck", false, migration.VerdictMissingInNew},
	} {
		f := newMigFixture(t, migFlags(fs(true, true, true, true)), flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{}))
		f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
		var once sync.Once
		f.new.Set(eventstore.OpFindEventByID, testutil.Fault{After: func() {
			if tc.healed {
				once.Do(func() { f.seed(t, "new", fixture.WithValue("acct", "e1", 1)) })
			}
		}})
		if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
			t.Fatal(err)
		}
		_ = f.store.Close()
		if len(f.obs.comparisons) != 1 {
			t.Fatalf("%s: %d comparisons", tc.reason, len(f.obs.comparisons))
		}
		c := f.obs.comparisons[0]
		if c.Verdict != tc.wantVerdict || !c.Rechecked || !c.Shadow {
			t.Errorf("%s: comparison %+v, want %v after a recheck", tc.reason, c, tc.wantVerdict)
		}
		if got := f.new.Count(eventstore.OpFindEventByID); got != 2 {
			t.Errorf("%s: the new store was read %d times, want 2", tc.reason, got)
		}
	}
}

// A shadow mismatch is confirmed by reading both stores again; the
// re-read of the authoritative store is counted as a recheck, not as a
// caller's read.
func TestShadowRecheckIsNotCountedAsCallerRead(t *testing.T) {
	t.Parallel()
	old := memstore.New()
	if err := old.StoreEvent(t.Context(), flagmigrate.Event{AccountID: "a", ID: "1", Type: "t", Time: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	stats := &flagtest.Stats{}
	keys := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New().Set(keys.OldRead, true).Set(keys.NewRead, true)
	s, err := flagmigrate.NewMigratingStore(old, memstore.New(), flags, flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{}),
		flagmigrate.WithObserver(stats.Observer()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindEventByID(t.Context(), "a", "1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	calls := stats.Snapshot().Calls
	key := func(r migration.Role) flagtest.CallKey {
		return flagtest.CallKey{Op: eventstore.OpFindEventByID, Side: migration.SideOld, Role: r, Outcome: migration.OutcomeOK}
	}
	if got := calls[key(migration.RoleAuthoritative)].Count; got != 1 {
		t.Errorf("authoritative reads counted: %d, want 1 (the caller's)", got)
	}
	if got := calls[key(migration.RoleRecheck)].Count; got != 1 {
		t.Errorf("recheck reads counted: %d, want 1", got)
	}
}

// closes fails the test if Close has not returned by the test's deadline
// (testutil.Deadline): a Close that waits for a read that never ends hangs,
// and fails the test by name rather than the binary by its timeout.
func closes(t *testing.T, s *flagmigrate.MigratingStore) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-testutil.DeadlinePassed(t):
		t.Fatal("Close still waiting at the test's deadline")
	}
}

// TestShadowIncumbentPanic: a panic of the authoritative store reaches the
// caller as it would without the wrapper, and the candidate read already
// handed to a worker finishes without a comparison: Close returns and no
// goroutine survives.
func TestShadowIncumbentPanic(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := shadowFixture(t, flagmigrate.ShadowOptions{})
	f.old.Set(eventstore.OpFindEventByID, testutil.Fault{After: func() { panic("incumbent exploded") }})
	f.new.Set("", testutil.Fault{Delay: 10 * time.Millisecond})
	got := func() (r any) {
		defer func() { r = recover() }()
		_, _ = f.store.FindEventByID(t.Context(), "acct", "e1")
		return nil
	}()
	if got != "incumbent exploded" {
		t.Errorf("recovered %v, want the incumbent's panic", got)
	}
	closes(t, f.store)
	if v := f.obs.verdicts(); len(v) != 0 {
		t.Errorf("verdicts %v, want none: there is no authoritative result to compare", v)
	}
	if n := f.new.Count(eventstore.OpFindEventByID); n != 1 {
		t.Errorf("candidate read %d times, want 1", n)
	}
}

// TestShadowCallerGivesUp: a caller whose context ends during the
// authoritative read gets the context's error at once; nothing is compared
// or reported as a mismatch, and the background read ends.
func TestShadowCallerGivesUp(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := shadowFixture(t, flagmigrate.ShadowOptions{})
	// The authoritative read lasts until the caller gives up, however
	// long the machine takes to get there.
	f.old.Set("", testutil.Fault{Before: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
	f.new.Set("", testutil.Fault{Delay: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.store.FindEventByID(ctx, "acct", "e1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the caller's deadline", err)
	}
	closes(t, f.store)
	if v := f.obs.verdicts(); len(v) != 0 {
		t.Errorf("verdicts %v, want none", v)
	}
	if n := len(f.obs.mismatches()); n != 0 {
		t.Errorf("%d mismatches reported, want 0", n)
	}
}

// sampling is WithCompareSampling, or WithAccountSampling when byAccount.
func sampling(rate float64, byAccount bool) flagmigrate.Option {
	if byAccount {
		return flagmigrate.WithAccountSampling(rate)
	}
	return flagmigrate.WithCompareSampling(rate)
}
