package repairlog_test

import (
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

func TestRingDropsTheOldest(t *testing.T) {
	t.Parallel()
	var dropped []string
	l := repairlog.NewRing(2, func(e migration.RepairEntry) { dropped = append(dropped, e.Key) })
	for _, k := range []string{"a", "b", "c", "d"} {
		e := migration.RepairEntry{Call: migration.Call{AccountID: "acct", Key: k}, Target: migration.SideNew, Source: migration.SideOld}
		if err := l.Record(t.Context(), e); err != nil {
			t.Errorf("Record(%s) = %v: a ring log never refuses", k, err)
		}
	}
	var kept []string
	for e, err := range l.RepairEntries(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, e.Key)
	}
	if !slices.Equal(kept, []string{"c", "d"}) || !slices.Equal(dropped, []string{"a", "b"}) || l.Dropped() != 2 {
		t.Errorf("kept %v, dropped %v (count %d); want the newest two kept and the oldest two dropped", kept, dropped, l.Dropped())
	}
}
