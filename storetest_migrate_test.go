package flagmigrate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
	"github.com/flagmigrate/flagmigrate/storetest"
)

// TestMigratingStoreConformance: over two memstores, in every routing that
// writes both stores, the MigratingStore is an EventStore like any other.
// Every run also checks that the two stores end equal and that no dual
// read disagreed.
func TestMigratingStoreConformance(t *testing.T) {
	t.Parallel()
	type mode struct {
		name  string
		flags func() flagmigrate.FlagClient
		opts  []flagmigrate.Option
	}
	var modes []mode
	for _, r := range migRoutings {
		if !r.flags.OldWrite || !r.flags.NewWrite {
			continue
		}
		name := fmt.Sprintf("flags/W11-R%d%d", b(r.flags.OldRead), b(r.flags.NewRead))
		modes = append(modes, mode{name, func() flagmigrate.FlagClient { return migFlags(r.flags) }, nil})
	}
	for _, st := range []migration.Stage{migration.StageDualWrite, migration.StageShadow, migration.StageLive, migration.StageRampDown} {
		modes = append(modes, mode{"stage/" + string(st),
			func() flagmigrate.FlagClient { return flagtest.New().SetStage(migStageKey, st) },
			[]flagmigrate.Option{flagmigrate.WithStageFlag(migStageKey)}})
	}
	modes = append(modes, mode{"flags/W11-R11/shadow+concurrent-writes",
		func() flagmigrate.FlagClient { return migFlags(fs(true, true, true, true)) },
		[]flagmigrate.Option{flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{}), flagmigrate.WithConcurrentWrites()}})

	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) flagmigrate.EventStore {
				oldS, newS := memstore.New(), memstore.New()
				mm := &migObserver{}
				repairs := repairlog.NewMemory(0)
				opts := append([]flagmigrate.Option{flagmigrate.WithRepairLog(repairs),
					flagmigrate.WithObserver(mm.observer())}, m.opts...)
				s, err := flagmigrate.NewMigratingStore(oldS, newS, m.flags(), opts...)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					_ = s.Close()
					if got := mm.mismatches(); len(got) != 0 {
						t.Errorf("dual reads disagreed: %+v", got)
					}
					if n := repairs.Len(); n != 0 {
						t.Errorf("%d writes reached one store only", n)
					}
					if a, b := dump(t, oldS), dump(t, newS); len(a) != len(b) {
						t.Errorf("the stores hold %d and %d events", len(a), len(b))
					} else {
						for i := range a {
							if !eventstore.EqualEvents(a[i], b[i]) {
								t.Errorf("the stores differ at %v / %v", a[i].Key(), b[i].Key())
								break
							}
						}
					}
				})
				return s
			})
		})
	}
}

func dump(t *testing.T, s *memstore.Store) []flagmigrate.Event {
	var out []flagmigrate.Event
	for e, err := range s.ScanEvents(context.Background(), eventstore.ScanOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}
