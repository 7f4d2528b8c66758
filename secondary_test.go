package flagmigrate_test

import (
	"slices"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// TestSecondaryPanicIsRecorded: a secondary write that panics, after the
// authoritative write landed, is a failed secondary write like any other:
// the caller gets nil, the write is recorded for repair and the observer
// is told, in both write modes.
func TestSecondaryPanicIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		reason string
		opts   []flagmigrate.Option
	}{
		{"sequential writes (the default): the panic must not reach the caller", nil},
		{"concurrent writes: already recovered", []flagmigrate.Option{flagmigrate.WithConcurrentWrites()}},
	} {
		f := newMigFixture(t, migFlags(fs(true, true, true, false)), tc.opts...)
		f.new.Set(eventstore.OpStoreEvent, testutil.Fault{After: func() { panic("secondary exploded") }})
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: the panic reached the caller: %v", tc.reason, r)
				}
			}()
			return f.store.StoreEvent(t.Context(), fixture.WithValue("acct", "e1", 1))
		}()
		if err != nil {
			t.Errorf("%s: StoreEvent = %v, want nil: the authoritative write landed", tc.reason, err)
		}
		entries := f.repairs.Entries()
		if !slices.ContainsFunc(entries, func(e flagmigrate.RepairEntry) bool {
			return e.Target == flagmigrate.SideNew && e.Key == "e1"
		}) {
			t.Errorf("%s: repair entries %+v, want one for e1 on the new store", tc.reason, entries)
		}
		if !slices.ContainsFunc(f.obs.calls, func(c flagmigrate.StoreCall) bool {
			return c.Side == flagmigrate.SideNew && c.Role == flagmigrate.RoleSecondary && c.Outcome == flagmigrate.OutcomeError
		}) {
			t.Errorf("%s: the observer was not told of the failed secondary write: %+v", tc.reason, f.obs.calls)
		}
	}
}
