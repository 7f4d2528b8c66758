package backfill_test

import (
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
)

func TestRepairReplaysTheLog(t *testing.T) {
	old, nu := seed(t, 2, 10), seed(t, 2, 10)
	onlyOld := event("acct-00", "failed-on-new", 1)
	onlyNew := event("acct-01", "failed-on-old", 2)
	if err := old.StoreEvent(t.Context(), onlyOld); err != nil {
		t.Fatal(err)
	}
	if err := nu.StoreEvent(t.Context(), onlyNew); err != nil {
		t.Fatal(err)
	}
	log := flagmigrate.NewMemRepairLog(0)
	entry := func(e flagmigrate.Event, target flagmigrate.Side) flagmigrate.RepairEntry {
		return flagmigrate.RepairEntry{Time: time.Now(), Op: "StoreEvent", AccountID: e.AccountID, Key: e.ID, Target: target, Source: target.Other(), Error: "boom"}
	}
	for _, e := range []flagmigrate.RepairEntry{
		entry(onlyOld, flagmigrate.SideNew),
		entry(onlyNew, flagmigrate.SideOld),
		entry(event("acct-00", "e-0001", 1), flagmigrate.SideNew),        // already in both
		entry(event("acct-00", "never-written", 1), flagmigrate.SideNew), // in neither
	} {
		if err := log.Record(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	var problems int
	st, err := backfill.Repair(t.Context(), log.RepairEntries(t.Context()), old, nu, func(flagmigrate.RepairEntry, error) { problems++ })
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
