package flagmigrate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// Deletes go to both stores, whatever the write flags, the authoritative
// one first.
func TestDeleteReachesBothStoresAuthoritativeFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		flags  migration.FlagState
		first  string
	}{
		{"old writes only: the new store may hold a backfilled copy", fs(true, false, true, false), "old"},
		{"dual writes, old reads", fs(true, true, true, false), "old"},
		{"dual writes, new reads: new is authoritative", fs(true, true, false, true), "new"},
		{"new writes only: the old store still holds history", fs(false, true, false, true), "new"},
	} {
		f := newMigFixture(t, migFlags(tc.flags))
		e := fixture.WithValue("acct", "e1", 1)
		f.seed(t, "old", e)
		f.seed(t, "new", e)
		if err := f.store.DeleteEvent(t.Context(), "acct", "e1"); err != nil {
			t.Fatalf("%s: DeleteEvent: %v", tc.reason, err)
		}
		if f.has("old", "acct", "e1") || f.has("new", "acct", "e1") {
			t.Errorf("%s: the event survives the delete (old %v, new %v)", tc.reason, f.has("old", "acct", "e1"), f.has("new", "acct", "e1"))
		}
		var order []string
		for _, c := range f.calls.Calls() {
			if c.Op == eventstore.OpDeleteEvent {
				order = append(order, c.Store)
			}
		}
		if len(order) != 2 || order[0] != tc.first {
			t.Errorf("%s: deletes went to %v, want both, %s first", tc.reason, order, tc.first)
		}
		if f.repairs.Len() != 0 {
			t.Errorf("%s: repair entries %+v", tc.reason, f.repairs.Entries())
		}
	}
}

// A failed secondary delete is a repair entry of kind delete, which
// backfill.Repair applies; a failed authoritative delete fails the call
// and leaves the other store alone.
func TestFailedSecondaryDeleteIsRepaired(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, false)))
	e := fixture.WithValue("acct", "e1", 1)
	f.seed(t, "old", e)
	f.seed(t, "new", e)
	f.new.Set(eventstore.OpDeleteEvent, testutil.Fault{Err: errMigBoom})
	if err := f.store.DeleteEvent(t.Context(), "acct", "e1"); err != nil {
		t.Fatalf("a failing secondary delete fails the call: %v", err)
	}
	entries := f.repairs.Entries()
	if len(entries) != 1 || entries[0].Kind != migration.KindDelete || entries[0].Target != migration.SideNew || entries[0].Key != "e1" {
		t.Fatalf("repair entries %+v, want one delete of e1 on new", entries)
	}
	if !f.has("new", "acct", "e1") || f.has("old", "acct", "e1") {
		t.Fatal("the fault did not leave e1 in new only")
	}
	f.new.Clear()
	st, err := backfill.Repair(t.Context(), f.repairs.RepairEntries(t.Context()), f.oldMem, f.newMem, nil)
	if err != nil || st.Deleted != 1 || f.has("new", "acct", "e1") {
		t.Errorf("repair of the delete: %+v, %v; e1 in new: %v", st, err, f.has("new", "acct", "e1"))
	}

	f.old.Set(eventstore.OpDeleteEvent, testutil.Fault{Err: errMigBoom})
	f.seed(t, "old", fixture.WithValue("acct", "e2", 2))
	f.seed(t, "new", fixture.WithValue("acct", "e2", 2))
	if err := f.store.DeleteEvent(t.Context(), "acct", "e2"); !errors.Is(err, errMigBoom) {
		t.Errorf("a failing authoritative delete = %v, want its error", err)
	}
	if !f.has("new", "acct", "e2") || f.new.Count(eventstore.OpDeleteEvent) != 1 {
		t.Errorf("the secondary was deleted from after the authoritative delete failed")
	}
}

func TestEraseAccountThroughMigratingStore(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, false)))
	f.seed(t, "old", fixture.WithValue("acct", "a", 1), fixture.WithValue("acct", "b", 2), fixture.WithValue("other", "a", 3))
	f.seed(t, "new", fixture.WithValue("acct", "b", 2), fixture.WithValue("acct", "c", 4)) // c: only in new
	ids, err := f.store.EraseAccount(t.Context(), "acct")
	if err != nil || strings.Join(ids, ",") != "a,b,c" {
		t.Fatalf("EraseAccount = %v, %v; want a,b,c", ids, err)
	}
	for _, side := range []string{"old", "new"} {
		for _, id := range []string{"a", "b", "c"} {
			if f.has(side, "acct", id) {
				t.Errorf("%s still holds %s", side, id)
			}
		}
	}
	// Every ID is tombstoned on both sides: a copy of c into old (a
	// rollback that read it before the erasure) is refused.
	if err := f.oldMem.StoreEvent(t.Context(), fixture.WithValue("acct", "c", 4)); !errors.Is(err, flagmigrate.ErrDeleted) {
		t.Errorf("storing an erased event into the store that never held it = %v, want ErrDeleted", err)
	}
	if !f.has("old", "other", "a") {
		t.Error("the erasure took another account's event")
	}
	if _, err := f.store.EraseAccount(t.Context(), ""); !errors.Is(err, flagmigrate.ErrInvalidArgument) {
		t.Errorf("EraseAccount(\"\") = %v", err)
	}
	if err := f.store.DeleteEvent(t.Context(), "acct", ""); !errors.Is(err, flagmigrate.ErrInvalidArgument) {
		t.Errorf("DeleteEvent with an empty ID = %v", err)
	}
}

// kvDAO is a DAO of its own whose writes return a value, and whose delete
// says "not found" for what is absent.
type kvDAO struct {
	mu sync.Mutex
	m  map[string]int
}

var errNoKey = errors.New("no such key")

func (d *kvDAO) add(k string, n int) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[k] += n
	return d.m[k], nil
}

func (d *kvDAO) del(k string) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m[k]
	if !ok {
		return 0, errNoKey
	}
	delete(d.m, k)
	return v, nil
}

// The generic core: WriteValue returns the authoritative store's value;
// a delete whose secondary answers "not found" succeeds without a repair
// entry, and one the authoritative store does not hold still clears the
// other store.
func TestWriteValueAndGenericDeletes(t *testing.T) {
	t.Parallel()
	oldD, newD := &kvDAO{m: map[string]int{}}, &kvDAO{m: map[string]int{}}
	repairs := repairlog.NewMemory(0)
	m, err := flagmigrate.NewMigration(oldD, newD, migFlags(fs(true, true, false, true)),
		flagmigrate.WithObserver((&migObserver{}).observer()), flagmigrate.WithRepairLog(repairs),
		flagmigrate.WithNotFound(func(err error) bool { return errors.Is(err, errNoKey) }))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	newD.m["k"] = 10 // the authoritative (new) store holds more
	v, err := flagmigrate.WriteValue(t.Context(), m, flagmigrate.Call{Op: "Add", AccountID: "a", Key: "k"},
		func(ctx context.Context, d *kvDAO) (int, error) { return d.add("k", 1) })
	if err != nil || v != 11 || oldD.m["k"] != 1 {
		t.Errorf("WriteValue = %d, %v (old %d); want the authoritative 11", v, err, oldD.m["k"])
	}
	del := func(k string) (int, error) {
		return flagmigrate.WriteValue(t.Context(), m, flagmigrate.Call{Op: "Del", AccountID: "a", Key: k, Kind: migration.KindDelete},
			func(ctx context.Context, d *kvDAO) (int, error) { return d.del(k) })
	}
	newD.m["only-new"] = 5
	if v, err := del("only-new"); err != nil || v != 5 {
		t.Errorf("delete of a key the secondary lacks = %d, %v; want 5, nil", v, err)
	}
	oldD.m["only-old"] = 7
	if _, err := del("only-old"); !errors.Is(err, errNoKey) || len(oldD.m) != 1 {
		t.Errorf("delete of a key only the secondary holds = %v (old %v); want the authoritative not-found, and old cleared", err, oldD.m)
	}
	if repairs.Len() != 0 {
		t.Errorf("not-found answers made repair entries: %+v", repairs.Entries())
	}
}
