package repairlog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// TestMemory: the in-memory log keeps entries up to its limit, refuses
// more with ErrFull, yields them in order and forgets them on Reset.
func TestMemory(t *testing.T) {
	l := repairlog.NewMemory(2)
	e := migration.RepairEntry{Call: migration.Call{AccountID: "a", Key: "k"}, Target: migration.SideNew, Source: migration.SideOld}
	for i, want := range []error{nil, nil, repairlog.ErrFull} {
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
