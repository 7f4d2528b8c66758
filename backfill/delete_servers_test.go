package backfill_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// gatedStorer holds every StoreEvents call at a gate: a backfill's workers
// then hold batches they read from the source before the test deletes.
type gatedStorer struct {
	*dynamodao.Store
	gate *testutil.Gate
}

func (g gatedStorer) StoreEvents(ctx context.Context, events []flagmigrate.Event) ([]error, error) {
	if err := g.gate.Wait(ctx); err != nil {
		return nil, err
	}
	return g.Store.StoreEvents(ctx, events)
}

// gatedStore holds the first StoreEvent call at a gate.
type gatedFirstStore struct {
	*dynamodao.Store
	gate *testutil.Gate
	once *sync.Once
}

func (g gatedFirstStore) StoreEvent(ctx context.Context, e flagmigrate.Event) error {
	var err error
	g.once.Do(func() { err = g.gate.Wait(ctx) })
	if err != nil {
		return err
	}
	return g.Store.StoreEvent(ctx, e)
}

func dualWriting(t *testing.T, old, nu flagmigrate.EventStore) *flagmigrate.MigratingStore {
	t.Helper()
	keys := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New().Set(keys.OldWrite, true).Set(keys.NewWrite, true).Set(keys.OldRead, true)
	ms, err := flagmigrate.NewMigratingStore(old, nu, flags, flagmigrate.WithObserver(migration.Observer{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	return ms
}

// absent checks that no key of gone is in either store, and that none of
// the erased accounts holds an event.
func absent(t *testing.T, gone []eventstore.EventKey, erased []string, stores ...flagmigrate.EventStore) {
	t.Helper()
	for _, s := range stores {
		for _, k := range gone {
			if e, err := s.FindEventByID(t.Context(), k.AccountID, k.ID); !errors.Is(err, flagmigrate.ErrNotFound) {
				t.Errorf("%T: deleted %v is back: %+v, %v", s, k, e, err)
			}
		}
		for _, a := range erased {
			for e, err := range s.(eventstore.EventScanner).ScanEvents(t.Context(), eventstore.ScanOptions{AccountID: a}) {
				t.Errorf("%T: erased account %s holds %+v, %v", s, a, e.Key(), err)
			}
		}
	}
}

// A backfill MongoDB -> DynamoDB holds batches it read before the deletes
// (its four workers wait at a gate inside the destination's StoreEvents
// with acct-0's and acct-1's events), while a dual-writing MigratingStore
// deletes every third event of acct-1 and erases acct-0 and acct-5. Once
// released, the backfill writes those batches: the tombstones refuse every
// deleted event (counted as Deleted, exactly), nothing deleted is in either
// store, verify is clean, and a second backfill copies nothing.
func TestBackfillNeverResurrectsDeletesOnRealServers(t *testing.T) {
	old, _ := realstores.Mongo(t)
	nu, _ := realstores.Dynamo(t, nil)
	var history []flagmigrate.Event
	for a := range 6 {
		for i := range 100 {
			history = append(history, fixture.Nth(fmt.Sprintf("acct-%d", a), fmt.Sprintf("h-%04d", i), a*100+i))
		}
	}
	if _, err := old.StoreEvents(t.Context(), history); err != nil {
		t.Fatal(err)
	}
	ms := dualWriting(t, old, nu)
	gate := testutil.NewGate(t)
	defer gate.Open()
	dst := gatedStorer{Store: nu, gate: gate}

	type result struct {
		st  backfill.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := backfill.Run(t.Context(), old, dst, backfill.Options{BatchSize: 50, Workers: 4})
		done <- result{st, err}
	}()
	if err := gate.Held(4); err != nil {
		t.Fatalf("the backfill's workers did not reach the destination: %v", err)
	}
	// Every worker holds a batch of acct-0 or acct-1, read from MongoDB
	// before any delete; two deleters and two erasers run at once.
	var gone []eventstore.EventKey
	for i := 0; i < 100; i += 3 {
		gone = append(gone, eventstore.EventKey{AccountID: "acct-1", ID: fmt.Sprintf("h-%04d", i)})
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for j := w; j < len(gone); j += 2 {
				if err := ms.DeleteEvent(t.Context(), gone[j].AccountID, gone[j].ID); err != nil {
					t.Errorf("DeleteEvent %v: %v", gone[j], err)
				}
			}
		})
	}
	erasedIDs := make([][]string, 2)
	for i, a := range []string{"acct-0", "acct-5"} {
		wg.Go(func() {
			ids, err := ms.EraseAccount(t.Context(), a)
			if err != nil {
				t.Errorf("EraseAccount %s: %v", a, err)
			}
			erasedIDs[i] = ids
		})
	}
	wg.Wait()
	gate.Open()
	r := <-done
	if r.err != nil || r.st.Conflicts != 0 || r.st.Errors != 0 {
		t.Fatalf("backfill: %+v, %v", r.st, r.err)
	}
	// acct-0's 100 events and acct-1's 34 deleted ones were in flight; so
	// may acct-5's be (read ahead by the scan's cursor), and no other.
	if lo, hi := int64(100+len(gone)), int64(200+len(gone)); r.st.Deleted < lo || r.st.Deleted > hi {
		t.Errorf("backfill counted %d events refused as deleted, want %d to %d (every deleted event it read before the deletes)", r.st.Deleted, lo, hi)
	}
	for i, ids := range erasedIDs {
		if len(ids) != 100 {
			t.Errorf("erasure %d returned %d IDs, want 100", i, len(ids))
		}
	}
	absent(t, gone, []string{"acct-0", "acct-5"}, old, nu)
	rep, err := backfill.Verify(t.Context(), old, nu, backfill.VerifyOptions{})
	if err != nil || !rep.Clean() {
		t.Fatalf("verify after deletes: %s, %v", rep, err)
	}
	if rep.SourceEvents != int64(400-len(gone)) {
		t.Errorf("verify saw %d source events, want %d", rep.SourceEvents, 400-len(gone))
	}
	again, err := backfill.Run(t.Context(), old, nu, backfill.Options{})
	if err != nil || again.Copied != 0 {
		t.Fatalf("second backfill: %+v, %v; want nothing copied", again, err)
	}
	t.Logf("backfill %+v; verify %s; second backfill %+v", r.st, rep, again)
}

// A repair log holds writes of events that reached MongoDB only; some of
// them are deleted afterwards, one while the repair holds its copy in
// flight (read from MongoDB, held at a gate before DynamoDB's StoreEvent).
// The repair copies the others and brings none of the deleted back.
func TestRepairNeverResurrectsDeletesOnRealServers(t *testing.T) {
	old, _ := realstores.Mongo(t)
	nu, _ := realstores.Dynamo(t, nil)
	log := repairlog.NewMemory(0)
	var events []flagmigrate.Event
	for i := range 30 {
		e := fixture.Nth("acct-r", fmt.Sprintf("r-%02d", i), i)
		events = append(events, e)
		if err := old.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		if err := log.Record(t.Context(), migration.RepairEntry{Call: migration.Call{Op: eventstore.OpStoreEvent, AccountID: e.AccountID, Key: e.ID},
			Target: migration.SideNew, Source: migration.SideOld, Error: "injected"}); err != nil {
			t.Fatal(err)
		}
	}
	ms := dualWriting(t, old, nu)
	var gone []eventstore.EventKey
	for i := 1; i < 30; i += 4 { // deleted before the repair
		k := events[i].Key()
		gone = append(gone, k)
		if err := ms.DeleteEvent(t.Context(), k.AccountID, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	gate := testutil.NewGate(t)
	defer gate.Open()
	target := gatedFirstStore{Store: nu, gate: gate, once: new(sync.Once)}
	type result struct {
		st  backfill.RepairStats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := backfill.Repair(t.Context(), log.RepairEntries(t.Context()), old, target, nil)
		done <- result{st, err}
	}()
	if err := gate.Held(1); err != nil {
		t.Fatal(err)
	}
	// The repair read r-00 from MongoDB and holds it: delete it now.
	gone = append(gone, events[0].Key())
	if err := ms.DeleteEvent(t.Context(), "acct-r", "r-00"); err != nil {
		t.Fatal(err)
	}
	gate.Open()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := backfill.RepairStats{Entries: 30, Copied: int64(30 - len(gone)), MissingInSource: int64(len(gone) - 1), DeletedSince: 1}
	if r.st != want {
		t.Errorf("repair: %+v, want %+v", r.st, want)
	}
	absent(t, gone, nil, old, nu)
	rep, err := backfill.Verify(t.Context(), old, nu, backfill.VerifyOptions{})
	if err != nil || !rep.Clean() {
		t.Fatalf("verify after the repair: %s, %v", rep, err)
	}
	again, err := backfill.Repair(t.Context(), log.RepairEntries(t.Context()), old, nu, nil)
	if err != nil || again.Copied != 0 {
		t.Fatalf("second repair: %+v, %v; want nothing copied", again, err)
	}
}
