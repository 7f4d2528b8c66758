package backfill_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

func TestRepairReplaysTheLog(t *testing.T) {
	old, nu := seed(t, 2, 10), seed(t, 2, 10)
	onlyOld := fixture.Nth("acct-00", "failed-on-new", 1)
	onlyNew := fixture.Nth("acct-01", "failed-on-old", 2)
	if err := old.StoreEvent(t.Context(), onlyOld); err != nil {
		t.Fatal(err)
	}
	if err := nu.StoreEvent(t.Context(), onlyNew); err != nil {
		t.Fatal(err)
	}
	log := repairlog.NewMemory(0)
	entry := func(e flagmigrate.Event, target migration.Side) migration.RepairEntry {
		source := migration.SideOld
		if target == source {
			source = migration.SideNew
		}
		return migration.RepairEntry{Call: migration.Call{Op: "StoreEvent", AccountID: e.AccountID, Key: e.ID}, Time: time.Now(), Target: target, Source: source, Error: "boom"}
	}
	for _, e := range []migration.RepairEntry{
		entry(onlyOld, migration.SideNew),
		entry(onlyNew, migration.SideOld),
		entry(fixture.Nth("acct-00", "e-0001", 1), migration.SideNew),        // already in both
		entry(fixture.Nth("acct-00", "never-written", 1), migration.SideNew), // in neither
	} {
		if err := log.Record(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	var problems int
	st, err := backfill.Repair(t.Context(), log.RepairEntries(t.Context()), old, nu, func(migration.RepairEntry, error) { problems++ })
	if err != nil {
		t.Fatal(err)
	}
	if want := (backfill.RepairStats{Entries: 4, Copied: 2, AlreadyThere: 1, MissingInSource: 1}); st != want || problems != 1 {
		t.Errorf("repair: %+v (%d problems), want %+v and 1 problem", st, problems, want)
	}
	verifyClean(t, old, nu)
	st, err = backfill.Repair(t.Context(), log.RepairEntries(t.Context()), old, nu, nil)
	if err != nil || st.Copied != 0 || st.AlreadyThere != 3 {
		t.Errorf("second repair: %+v, %v; want nothing copied", st, err)
	}
}

// TestRepairSkipsUnreadableLines: a log with a corrupt middle line and a
// torn last line: every good entry is replayed, and each bad line is
// counted and reported by its number.
func TestRepairSkipsUnreadableLines(t *testing.T) {
	old, nu := memstore.New(), memstore.New()
	for _, id := range []string{"a", "b"} {
		if err := old.StoreEvent(t.Context(), fixture.Nth("acct", id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	line := func(id string) string {
		return `{"op":"StoreEvent","accountId":"acct","key":"` + id + `","target":"new","source":"old","error":"x"}` + "\n"
	}
	log := line("a") + "{\"op\":\"Sto\x00garbage\n" + line("b") + `{"op":"StoreEvent","acc`
	var bad []string
	st, err := backfill.Repair(t.Context(), repairlog.Read(t.Context(), strings.NewReader(log)), old, nu,
		func(e migration.RepairEntry, err error) {
			if !errors.Is(err, eventstore.ErrUnreadable) || e != (migration.RepairEntry{}) {
				t.Errorf("problem %+v, %v: want only unreadable lines", e, err)
			}
			bad = append(bad, err.Error())
		})
	if err != nil {
		t.Fatalf("Repair stopped: %v", err)
	}
	if want := (backfill.RepairStats{Entries: 2, Copied: 2, Unreadable: 2}); st != want {
		t.Errorf("repair: %+v, want %+v", st, want)
	}
	if len(bad) != 2 || !strings.Contains(bad[0], "line 2") || !strings.Contains(bad[1], "line 4") {
		t.Errorf("bad lines reported %q, want lines 2 and 4", bad)
	}
	verifyClean(t, old, nu)
}

// TestRepairSkipsUnreadableEvents: an entry whose event the source store
// cannot read (a document another tool broke) is counted as unreadable and
// reported with its entry, and the entries after it are still replayed.
func TestRepairSkipsUnreadableEvents(t *testing.T) {
	oldMem, nu := memstore.New(), memstore.New()
	for _, id := range []string{"a", "b", "c"} {
		if err := oldMem.StoreEvent(t.Context(), fixture.Nth("acct", id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	old := unreadableEvent{EventStore: oldMem, id: "b"}
	log := repairlog.NewMemory(0)
	for _, id := range []string{"a", "b", "c"} {
		if err := log.Record(t.Context(), migration.RepairEntry{Call: migration.Call{Op: eventstore.OpStoreEvent, AccountID: "acct", Key: id},
			Target: migration.SideNew, Source: migration.SideOld, Error: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	var problems []string
	st, err := backfill.Repair(t.Context(), log.RepairEntries(t.Context()), old, nu, func(e migration.RepairEntry, err error) {
		if !errors.Is(err, eventstore.ErrUnreadable) {
			t.Errorf("problem %+v: %v, want only the unreadable event", e, err)
		}
		problems = append(problems, e.Key)
	})
	if err != nil {
		t.Fatalf("Repair stopped: %v", err)
	}
	if want := (backfill.RepairStats{Entries: 3, Copied: 2, Unreadable: 1}); st != want {
		t.Errorf("repair: %+v, want %+v", st, want)
	}
	if !slices.Equal(problems, []string{"b"}) {
		t.Errorf("problems reported for %v, want b", problems)
	}
}

// unreadableEvent is a store whose event id reads as a document another
// tool broke.
type unreadableEvent struct {
	flagmigrate.EventStore
	id string
}

func (s unreadableEvent) FindEventByID(ctx context.Context, accountID, id string) (flagmigrate.Event, error) {
	if id == s.id {
		return flagmigrate.Event{}, &eventstore.UnreadableError{Record: `_id "` + id + `"`, Field: "time", Err: errors.New("not a date")}
	}
	return s.EventStore.FindEventByID(ctx, accountID, id)
}

// TestRepairOfAnErasureKeepsLaterWrites: an erasure whose secondary store
// was down is recorded for repair; writes to the account after it reach
// both stores. Repairing the erasure, twice, erases on the secondary what
// the erasure covered and nothing written since (before: every event of
// the account at repair time, acknowledged writes included).
func TestRepairOfAnErasureKeepsLaterWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	old, nu := memstore.New(), memstore.New()
	for _, s := range []*memstore.Store{old, nu} {
		for _, id := range []string{"before-1", "before-2"} {
			if err := s.StoreEvent(ctx, fixture.WithValue("acct", id, 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The erasure reached the old store only; the new store was down.
	if _, err := old.EraseAccount(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	log := repairlog.NewMemory(0)
	erase := migration.RepairEntry{Call: migration.Call{Op: eventstore.OpEraseAccount, AccountID: "acct", Kind: migration.KindErase},
		Target: migration.SideNew, Source: migration.SideOld, Time: time.Now()}
	if err := log.Record(ctx, erase); err != nil {
		t.Fatal(err)
	}
	// Writes acknowledged after the erasure, in both stores.
	for _, s := range []*memstore.Store{old, nu} {
		if err := s.StoreEvent(ctx, fixture.WithValue("acct", "after", 2)); err != nil {
			t.Fatal(err)
		}
	}
	for run := range 2 {
		st, err := backfill.Repair(ctx, log.RepairEntries(ctx), old, nu, nil)
		if err != nil || st.Deleted != 1 {
			t.Fatalf("repair %d: %+v, %v; want the erasure replayed", run, st, err)
		}
		for _, id := range []string{"before-1", "before-2"} {
			if _, err := nu.FindEventByID(ctx, "acct", id); !errors.Is(err, eventstore.ErrNotFound) {
				t.Errorf("repair %d: %s on the new store: %v, want erased", run, id, err)
			}
			if err := nu.StoreEvent(ctx, fixture.WithValue("acct", id, 1)); !errors.Is(err, eventstore.ErrDeleted) {
				t.Errorf("repair %d: storing %s again: %v, want its tombstone to refuse it", run, id, err)
			}
		}
		if _, err := nu.FindEventByID(ctx, "acct", "after"); err != nil {
			t.Errorf("repair %d: the write made after the erasure is gone from the new store: %v", run, err)
		}
	}
}
