package flagmigrate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

func TestMemRepairLog(t *testing.T) {
	l := flagmigrate.NewMemRepairLog(2)
	e := flagmigrate.RepairEntry{AccountID: "a", Key: "k", Target: flagmigrate.SideNew, Source: flagmigrate.SideOld}
	for i, want := range []error{nil, nil, flagmigrate.ErrRepairLogFull} {
		if err := l.Record(context.Background(), e); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("record %d: %v, want %v", i, err, want)
		}
	}
	n := 0
	for got, err := range l.RepairEntries(context.Background()) {
		if err != nil || got != e {
			t.Errorf("entry %+v, %v", got, err)
		}
		n++
	}
	if n != 2 || l.Len() != 2 {
		t.Errorf("%d entries yielded, Len %d; want 2", n, l.Len())
	}
	l.Reset()
	if l.Len() != 0 {
		t.Error("Reset kept entries")
	}
}

func TestFullRepairLogFailsTheWrite(t *testing.T) {
	f := newMigFixture(t, migFlags(fs(true, true, false, false)), flagmigrate.WithRepairLog(flagmigrate.NewMemRepairLog(1)))
	f.new.Set("", testutil.Fault{Err: errMigBoom})
	if err := f.store.StoreEvent(t.Context(), migEvent("acct", "e1", 1)); err != nil {
		t.Fatalf("first failure is recorded: %v", err)
	}
	err := f.store.StoreEvent(t.Context(), migEvent("acct", "e2", 1))
	if !errors.Is(err, flagmigrate.ErrUnrepaired) || !errors.Is(err, flagmigrate.ErrRepairLogFull) {
		t.Errorf("second failure with a full log: %v, want ErrUnrepaired and ErrRepairLogFull", err)
	}
}

func TestDurableRepairLogWithMigratingStore(t *testing.T) {
	path := t.TempDir() + "/repair.jsonl"
	l, err := repairlog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newMigFixture(t, migFlags(fs(true, true, false, true)), flagmigrate.WithRepairLog(l))
	f.old.Set("", testutil.Fault{Err: errMigBoom}) // new is authoritative: old is the secondary
	if err := f.store.StoreEvent(t.Context(), migEvent("acct", "e1", 1)); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	var got []flagmigrate.RepairEntry
	for e, err := range repairlog.ReadFile(context.Background(), path) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 1 || got[0].Target != flagmigrate.SideOld || got[0].Source != flagmigrate.SideNew ||
		got[0].EventKey() != (flagmigrate.EventKey{AccountID: "acct", ID: "e1"}) || got[0].Time.IsZero() {
		t.Errorf("entries on disk: %+v", got)
	}
}
