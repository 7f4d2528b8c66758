package flagmigrate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// TestReadOverlappingAWriteIsNotAMismatch: a dual read that runs while a
// dual write of the same event has reached the old store and not yet the
// new one sees the event missing in the new store; it reads both again,
// and with the write still in flight the comparison is not compared, not
// a mismatch, and the brake does not count it. Once the write has landed,
// the same read matches. Ordering is proven with channels: the new store's
// write waits at a barrier until the read is done.
func TestReadOverlappingAWriteIsNotAMismatch(t *testing.T) {
	t.Parallel()
	stats := &flagtest.Stats{}
	f := newMigFixture(t, migFlags(fs(true, true, true, true)),
		flagmigrate.WithObserver(migration.MultiObserver(stats.Observer())),
		flagmigrate.WithBrake(flagmigrate.BrakeOptions{Window: 1, MinSamples: 1}))
	entered, release := make(chan struct{}), make(chan struct{})
	f.new.Set(eventstore.OpStoreEvent, testutil.Fault{Before: func(context.Context) error {
		close(entered)
		<-release
		return nil
	}})
	written := make(chan error, 1)
	go func() { written <- f.store.StoreEvent(context.Background(), fixture.WithValue("acct", "e1", 1)) }()
	<-entered // the old store has the event, the new store's write waits

	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.FindEventByID(t.Context(), "acct", "e1"); err != nil {
		t.Fatal(err)
	}
	s := stats.Snapshot()
	want := map[flagtest.VerdictKey]int64{
		{Op: eventstore.OpFindEventByID, Verdict: migration.VerdictNotCompared}: 1,
		{Op: eventstore.OpFindEventByID, Verdict: migration.VerdictMatch}:       1,
	}
	if fmt.Sprint(s.Verdicts) != fmt.Sprint(want) {
		t.Errorf("verdicts %v, want %v", s.Verdicts, want)
	}
	if s.Brakes != 0 {
		t.Errorf("%d brakes tripped on a healthy store", s.Brakes)
	}
}

// TestConcurrentDualReadsAndWritesOnHealthyStores: 200 accounts, each
// written and dual-read at once by goroutines of its own, 100,000 calls in
// all, on two healthy stores with the brake on at its defaults: no
// reported mismatch and no brake. An account whose new store really
// returns wrong data trips its brake, alone.
func TestConcurrentDualReadsAndWritesOnHealthyStores(t *testing.T) {
	t.Parallel()
	const accounts, calls = 200, 100_000
	counts := &mismatchCounter{byAccount: map[string]int{}}
	stats := &flagtest.Stats{}
	store, err := flagmigrate.NewMigratingStore(memstore.New(), &wrongFor{EventStore: memstore.New(), account: "acct-bad"},
		migFlags(fs(true, true, true, true)),
		flagmigrate.WithObserver(migration.MultiObserver(stats.Observer(), migration.ObserverOf(counts))),
		flagmigrate.WithBrake(flagmigrate.BrakeOptions{}), flagmigrate.WithRoutingCheck(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// The bad account's events exist before the run, so that each of its
	// reads finds the wrong data, whatever the goroutines' schedule.
	for i := range 20 {
		if err := store.StoreEvent(context.Background(), fixture.WithValue("acct-bad", fmt.Sprintf("e%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for a := range accounts + 1 {
		acct := fmt.Sprintf("acct-%03d", a)
		if a == accounts {
			acct = "acct-bad"
		}
		for g := range 2 { // a writer and a reader per account
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(a), uint64(g)))
				for range calls / (2 * (accounts + 1)) {
					id := fmt.Sprintf("e%d", r.IntN(20))
					if g == 0 {
						_ = store.StoreEvent(context.Background(), fixture.WithValue(acct, id, 1))
					} else {
						_, _ = store.FindEventByID(context.Background(), acct, id)
					}
				}
			}()
		}
	}
	wg.Wait()
	counts.mu.Lock()
	defer counts.mu.Unlock()
	for acct, n := range counts.byAccount {
		if acct != "acct-bad" {
			t.Errorf("%s: %d mismatches reported on healthy stores", acct, n)
		}
	}
	if counts.byAccount["acct-bad"] == 0 {
		t.Error("the account with wrong data reported no mismatch")
	}
	if braked := store.Brakes(); len(braked) != 1 || braked[0].AccountID != "acct-bad" {
		t.Errorf("braked %+v, want acct-bad alone", braked)
	}
	if s := stats.Snapshot(); s.Brakes != 1 {
		t.Errorf("%d brakes tripped, want 1 (acct-bad)", s.Brakes)
	}
	t.Logf("verdicts: %v", stats.Snapshot().Verdicts)
}

// mismatchCounter counts the mismatches reported per account.
type mismatchCounter struct {
	mu        sync.Mutex
	byAccount map[string]int
}

func (m *mismatchCounter) Compared(_ context.Context, c migration.Comparison) {
	switch c.Verdict {
	case migration.VerdictDifferent, migration.VerdictMissingInNew, migration.VerdictMissingInOld:
		m.mu.Lock()
		m.byAccount[c.AccountID]++
		m.mu.Unlock()
	}
}

// wrongFor is a store that returns wrong data for one account: every
// event it finds there has its value changed.
type wrongFor struct {
	flagmigrate.EventStore
	account string
}

func (w *wrongFor) FindEventByID(ctx context.Context, accountID, id string) (flagmigrate.Event, error) {
	e, err := w.EventStore.FindEventByID(ctx, accountID, id)
	if err == nil && accountID == w.account {
		e.Data = map[string]any{"v": "wrong"}
	}
	return e, err
}

// TestDualReadCallerGivesUp: a dual read whose caller's context ends
// before the candidate store answers compares nothing, and says so
// (DropCanceled) instead of leaving no trace.
func TestDualReadCallerGivesUp(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)))
	f.seed(t, "old", fixture.WithValue("acct", "e1", 1))
	f.seed(t, "new", fixture.WithValue("acct", "e1", 1))
	entered := make(chan struct{})
	f.new.Set(eventstore.OpFindEventByID, testutil.Fault{Before: func(ctx context.Context) error {
		close(entered)
		<-ctx.Done() // the candidate answers only when the caller gives up
		return ctx.Err()
	}})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-entered
		cancel()
	}()
	_, _ = f.store.FindEventByID(ctx, "acct", "e1")
	f.obs.mu.Lock()
	defer f.obs.mu.Unlock()
	if len(f.obs.comparisons) != 0 || len(f.obs.dropped) != 1 || f.obs.dropped[0] != migration.DropCanceled {
		t.Errorf("comparisons %+v, dropped %v; want none compared and one dropped as canceled", f.obs.comparisons, f.obs.dropped)
	}
}
