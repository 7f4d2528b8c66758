package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// TestDefaultRepairLogNeverFailsTheCall: without WithRepairLog, a full
// repair log must not turn writes that landed into caller errors; the
// overflow is reported, and the kept entries can be replayed.
func TestDefaultRepairLogNeverFailsTheCall(t *testing.T) {
	t.Parallel()
	obs, stats := &migObserver{}, &flagtest.Stats{}
	nu := testutil.NewFaultStore("new", memstore.New(), nil)
	nu.Set("", testutil.Fault{Err: errMigBoom})
	s, err := flagmigrate.NewMigratingStore(memstore.New(), nu, migFlags(fs(true, true, false, false)),
		flagmigrate.WithObserver(migration.MultiObserver(obs.observer(), stats.Observer())), flagmigrate.WithDefaultRepairLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.StoreEvent(t.Context(), fixture.WithValue("acct", fmt.Sprint("e", i), 1)); err != nil {
			t.Errorf("write %d: %v, want nil: the authoritative write landed", i, err)
		}
	}
	r, ok := s.RepairLog().(migration.RepairReader)
	if !ok {
		t.Fatalf("the default repair log %T cannot be read back for replay", s.RepairLog())
	}
	var kept []string
	for e, err := range r.RepairEntries(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, e.Key)
	}
	if !slices.Equal(kept, []string{"e3", "e4"}) {
		t.Errorf("kept %v, want the newest two", kept)
	}
	if st := stats.Snapshot(); st.RepairDrops != 3 || st.RepairFailures != 0 || len(obs.repairDrops) != 3 || obs.repairDrops[0].Key != "e0" {
		t.Errorf("drops reported %d (%+v), repair failures %d; want 3 drops from e0, no failure", st.RepairDrops, obs.repairDrops, st.RepairFailures)
	}
}

// TestFullRepairLogFailsTheWrite: a strict log the caller chose says so.
func TestFullRepairLogFailsTheWrite(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, false, false)), flagmigrate.WithRepairLog(repairlog.NewMemory(1)))
	f.new.Set("", testutil.Fault{Err: errMigBoom})
	if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
		t.Fatalf("first failure is recorded: %v", err)
	}
	err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e2", 1))
	if !errors.Is(err, flagmigrate.ErrUnrepaired) || !errors.Is(err, repairlog.ErrFull) {
		t.Errorf("second failure with a full log: %v, want ErrUnrepaired and repairlog.ErrFull", err)
	}
}

func TestDurableRepairLogWithMigratingStore(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/repair.jsonl"
	l, err := repairlog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newMigFixture(t, migFlags(fs(true, true, false, true)), flagmigrate.WithRepairLog(l))
	f.old.Set("", testutil.Fault{Err: errMigBoom}) // new is authoritative: old is the secondary
	if err := f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	var got []migration.RepairEntry
	for e, err := range repairlog.ReadFile(context.Background(), path) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 1 || got[0].Target != migration.SideOld || got[0].Source != migration.SideNew ||
		got[0].AccountID != "acct" || got[0].Key != "e1" || got[0].Time.IsZero() {
		t.Errorf("entries on disk: %+v", got)
	}
}
