package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
)

// The delete subtests define what [eventstore.EventDeleter] promises:
//
//   - deleting is idempotent: deleting an absent or deleted key returns nil;
//   - a delete touches its own account's key only, and an erasure its own
//     account only;
//   - delete then store again of the same key: the tombstone wins, StoreEvent
//     and StoreEvents return an error matching eventstore.ErrDeleted and
//     store nothing (so no copy made before the delete brings it back);
//   - a deleted event is absent from FindEventByID, ListEvents, ScanEvents
//     and FindEvents;
//   - EraseAccount deletes all of the account's events and returns their IDs;
//     an account ID that eventstore.ValidateAccountID refuses (empty, not
//     UTF-8, with a NUL, too long) matches eventstore.ErrInvalidArgument;
//   - a store racing a delete of its key returns nil or ErrDeleted, and the
//     key ends deleted, whatever the interleaving.

func deleter(t *testing.T, s eventstore.EventStore) eventstore.EventDeleter {
	t.Helper()
	if m, ok := s.(interface{ canDelete() bool }); ok && !m.canDelete() {
		t.Skipf("%v does not implement eventstore.EventDeleter", s)
	}
	d, ok := s.(eventstore.EventDeleter)
	if !ok {
		t.Skipf("%T does not implement eventstore.EventDeleter", s)
	}
	return d
}

func mustDelete(t *testing.T, d eventstore.EventDeleter, account, id string) {
	t.Helper()
	if err := d.DeleteEvent(t.Context(), account, id); err != nil {
		t.Fatalf("DeleteEvent(%q, %q): %v", account, id, err)
	}
}

func wantNotFound(t *testing.T, s eventstore.EventStore, account, id string) {
	t.Helper()
	if e, err := s.FindEventByID(t.Context(), account, id); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("FindEventByID(%q, %q) after the delete = %+v, %v; want ErrNotFound", account, id, e, err)
	}
}

func testDeleteIdempotent(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	e := fixture.Event("acct", "gone", fixture.Base, map[string]any{"v": int64(1)})
	fixture.Store(t, s, e)
	mustDelete(t, d, "acct", "gone")
	wantNotFound(t, s, "acct", "gone")
	mustDelete(t, d, "acct", "gone")  // again
	mustDelete(t, d, "acct", "never") // never stored
	mustDelete(t, d, "nobody", "x")   // an account the store never saw
	wantNotFound(t, s, "acct", "never")
}

func testDeleteIsolation(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	a := fixture.Event("acct-1", "shared", fixture.Base, map[string]any{"who": "one"})
	b := fixture.Event("acct-2", "shared", fixture.Base, map[string]any{"who": "two"})
	c := fixture.Event("acct-2", "other", fixture.Base.Add(time.Millisecond), nil)
	fixture.Store(t, s, a, b, c)
	mustDelete(t, d, "acct-1", "shared")
	wantNotFound(t, s, "acct-1", "shared")
	if diff := diff(fixture.Canonical(t, b), mustFind(t, s, "acct-2", "shared")); diff != "" {
		t.Errorf("a delete in acct-1 changed acct-2's event with the same ID (-want +got):\n%s", diff)
	}
	if _, err := d.EraseAccount(t.Context(), "acct-1"); err != nil {
		t.Fatalf("EraseAccount: %v", err)
	}
	if got := listAll(t, s, "acct-2", eventstore.ListOptions{}); len(got) != 2 {
		t.Errorf("acct-2 holds %d events after acct-1 was erased, want 2", len(got))
	}
	// acct-2 can still store the ID that acct-1 deleted.
	fixture.Store(t, s, fixture.Event("acct-2", "third", fixture.Base, nil))
}

func testDeleteThenStore(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	e := fixture.Event("acct", "again", fixture.Base, map[string]any{"v": int64(1)})
	fixture.Store(t, s, e)
	mustDelete(t, d, "acct", "again")
	for _, tc := range []struct {
		e      eventstore.Event
		reason string
	}{
		{e, "the same event again: the tombstone wins"},
		{fixture.Event("acct", "again", fixture.Base, map[string]any{"v": int64(2)}), "other content under the deleted key: the tombstone wins"},
		{fixture.Event("acct", "never", fixture.Base, nil), "a key deleted before it was ever stored"},
	} {
		if tc.e.ID == "never" {
			mustDelete(t, d, "acct", "never")
		}
		if err := s.StoreEvent(t.Context(), tc.e); !errors.Is(err, eventstore.ErrDeleted) {
			t.Errorf("%s: StoreEvent = %v, want ErrDeleted", tc.reason, err)
		}
		wantNotFound(t, s, "acct", tc.e.ID)
	}
	bs, ok := s.(eventstore.BatchStorer)
	if !ok {
		return
	}
	fresh := fixture.Event("acct", "fresh", fixture.Base, nil)
	errs, err := bs.StoreEvents(t.Context(), []eventstore.Event{e, fresh})
	if err != nil {
		t.Fatalf("StoreEvents: %v", err)
	}
	if len(errs) != 2 || !errors.Is(errs[0], eventstore.ErrDeleted) || errs[1] != nil {
		t.Errorf("StoreEvents(deleted, fresh) = %v, want [ErrDeleted, nil]", errs)
	}
	wantNotFound(t, s, "acct", "again")
	mustFind(t, s, "acct", "fresh")
}

func testDeleteHides(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	var events []eventstore.Event
	for i := range 6 {
		events = append(events, fixture.Event("acct", fmt.Sprintf("h%d", i), fixture.Base.Add(time.Duration(i)*time.Millisecond), nil))
	}
	fixture.Store(t, s, events...)
	mustDelete(t, d, "acct", "h1")
	mustDelete(t, d, "acct", "h4")
	want := []string{"h0", "h2", "h3", "h5"}
	ids := func(es []eventstore.Event) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	if got := ids(listAll(t, s, "acct", eventstore.ListOptions{Limit: 2})); !slices.Equal(got, want) {
		t.Errorf("ListEvents after deletes = %v, want %v", got, want)
	}
	if sc, ok := s.(eventstore.EventScanner); ok {
		if got := ids(scanAll(t, sc, eventstore.ScanOptions{}, -1)); !slices.Equal(got, want) {
			t.Errorf("ScanEvents after deletes = %v, want %v", got, want)
		}
		if got := ids(scanAll(t, sc, eventstore.ScanOptions{AccountID: "acct", BatchSize: 1}, -1)); !slices.Equal(got, want) {
			t.Errorf("ScanEvents of the account after deletes = %v, want %v", got, want)
		}
	}
	if bf, ok := s.(eventstore.BatchFinder); ok {
		got, err := bf.FindEvents(t.Context(), keys(events))
		if err != nil {
			t.Fatalf("FindEvents: %v", err)
		}
		g := ids(got)
		slices.Sort(g)
		if !slices.Equal(g, want) {
			t.Errorf("FindEvents after deletes = %v, want %v", g, want)
		}
	}
}

func testEraseAccount(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	var mine []eventstore.Event
	for i := range 7 {
		mine = append(mine, fixture.Event("erased", fmt.Sprintf("e%d", i), fixture.Base.Add(time.Duration(i)*time.Millisecond), map[string]any{"i": i}))
	}
	kept := fixture.Event("kept", "e0", fixture.Base, nil)
	fixture.Store(t, s, mine...)
	fixture.Store(t, s, kept)
	mustDelete(t, d, "erased", "e3") // deleted before: not an erased event
	got, err := d.EraseAccount(t.Context(), "erased")
	if err != nil {
		t.Fatalf("EraseAccount: %v", err)
	}
	slices.Sort(got)
	if want := []string{"e0", "e1", "e2", "e4", "e5", "e6"}; !slices.Equal(got, want) {
		t.Errorf("EraseAccount returned %v, want %v", got, want)
	}
	if left := listAll(t, s, "erased", eventstore.ListOptions{}); len(left) != 0 {
		t.Errorf("%d events left after the erasure", len(left))
	}
	if sc, ok := s.(eventstore.EventScanner); ok {
		if left := scanAll(t, sc, eventstore.ScanOptions{AccountID: "erased"}, -1); len(left) != 0 {
			t.Errorf("the account's scan yields %d events after the erasure", len(left))
		}
	}
	if err := s.StoreEvent(t.Context(), mine[0]); !errors.Is(err, eventstore.ErrDeleted) {
		t.Errorf("storing an erased event again = %v, want ErrDeleted", err)
	}
	again, err := d.EraseAccount(t.Context(), "erased")
	if err != nil || len(again) != 0 {
		t.Errorf("erasing again = %v, %v; want nothing, nil", again, err)
	}
	if diff := diff(fixture.Canonical(t, kept), mustFind(t, s, "kept", "e0")); diff != "" {
		t.Errorf("the erasure changed another account (-want +got):\n%s", diff)
	}
}

func testDeleteBadArguments(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	for _, tc := range []struct {
		account, id, reason string
	}{
		{"", "x", "an empty account ID"},
		{"acct", "", "an empty event ID"},
		{"acct", "a\x00b", "an ID with a NUL byte"},
	} {
		if err := d.DeleteEvent(t.Context(), tc.account, tc.id); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Errorf("%s: DeleteEvent = %v, want ErrInvalidArgument", tc.reason, err)
		}
	}
	// An account ID no event can have is refused as MigratingStore refuses
	// it (eventstore.ValidateAccountID), not taken as an empty account: a
	// caller with a mangled ID learns of it instead of "0 events erased".
	for _, tc := range []struct {
		account, reason string
	}{
		{"", "an empty account ID"},
		{"a\xffb", "an account ID that is not UTF-8"},
		{"a\x00b", "an account ID with a NUL byte"},
		{strings.Repeat("a", eventstore.MaxKeyBytes+1), "an account ID longer than eventstore.MaxKeyBytes"},
	} {
		if ids, err := d.EraseAccount(t.Context(), tc.account); !errors.Is(err, eventstore.ErrInvalidArgument) || len(ids) != 0 {
			t.Errorf("%s: EraseAccount = %v, %v; want ErrInvalidArgument", tc.reason, ids, err)
		}
	}
}

// testConcurrentDeleteAndStore races deletes of keys against stores of the
// same keys (a backfill's copy landing as the delete runs): whatever the
// interleaving, every store returns nil or ErrDeleted, and afterwards every
// deleted key is absent and refuses a store.
func testConcurrentDeleteAndStore(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	const n = 24
	events := make([]eventstore.Event, n)
	for i := range events {
		events[i] = fixture.Event("acct", fmt.Sprintf("race-%02d", i), fixture.Base.Add(time.Duration(i)*time.Millisecond), map[string]any{"i": i})
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Go(func() {
			<-start
			if err := s.StoreEvent(t.Context(), e); err != nil && !errors.Is(err, eventstore.ErrDeleted) {
				t.Errorf("StoreEvent %s racing its delete: %v", e.ID, err)
			}
		})
		wg.Go(func() {
			<-start
			mustDelete(t, d, e.AccountID, e.ID)
		})
	}
	close(start)
	wg.Wait()
	for _, e := range events {
		wantNotFound(t, s, e.AccountID, e.ID)
		if err := s.StoreEvent(t.Context(), e); !errors.Is(err, eventstore.ErrDeleted) {
			t.Errorf("StoreEvent %s after the race = %v, want ErrDeleted", e.ID, err)
		}
	}
	if left := listAll(t, s, "acct", eventstore.ListOptions{}); len(left) != 0 {
		t.Errorf("%d events listed after racing their deletes", len(left))
	}
}

// testPurgeTombstones: a purge removes the tombstones of deletes made
// before its time, and then the key can be stored again; tombstones of
// later deletes stay and still win.
func testPurgeTombstones(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d := deleter(t, s)
	if m, ok := s.(interface{ canPurge() bool }); ok && !m.canPurge() {
		t.Skipf("%v does not implement eventstore.TombstonePurger", s)
	}
	p, ok := s.(eventstore.TombstonePurger)
	if !ok {
		t.Skipf("%T does not implement eventstore.TombstonePurger", s)
	}
	e := fixture.Event("acct", "purged", fixture.Base, nil)
	fixture.Store(t, s, e)
	mustDelete(t, d, "acct", "purged")
	n, err := p.PurgeTombstones(t.Context(), time.Now().Add(-time.Hour))
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("%v does not purge tombstones: %v", s, err)
	}
	if err != nil || n != 0 {
		t.Errorf("purging the tombstones older than an hour ago = %d, %v; want none", n, err)
	}
	if err := s.StoreEvent(t.Context(), e); !errors.Is(err, eventstore.ErrDeleted) {
		t.Errorf("storing after a purge that kept the tombstone = %v, want ErrDeleted", err)
	}
	if n, err := p.PurgeTombstones(t.Context(), time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("purging every tombstone = %d, %v; want 1", n, err)
	}
	fixture.Store(t, s, e) // the key is free again
	if diff := diff(fixture.Canonical(t, e), mustFind(t, s, "acct", "purged")); diff != "" {
		t.Errorf("stored again after the purge (-want +got):\n%s", diff)
	}
}
