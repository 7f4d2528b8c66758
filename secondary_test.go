package flagmigrate_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
)

// TestSecondaryPanicIsRecorded: a secondary write that panics, after the
// authoritative write landed, is a failed secondary write like any other:
// the caller gets nil, the write is recorded for repair and the observer
// is told, in both write modes.
func TestSecondaryPanicIsRecorded(t *testing.T) {
	t.Parallel()
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
		if !slices.ContainsFunc(entries, func(e migration.RepairEntry) bool {
			return e.Target == migration.SideNew && e.Key == "e1"
		}) {
			t.Errorf("%s: repair entries %+v, want one for e1 on the new store", tc.reason, entries)
		}
		if !slices.ContainsFunc(f.obs.calls, func(c migration.StoreCall) bool {
			return c.Side == migration.SideNew && c.Role == migration.RoleSecondary && c.Outcome == migration.OutcomeError
		}) {
			t.Errorf("%s: the observer was not told of the failed secondary write: %+v", tc.reason, f.obs.calls)
		}
	}
}

// TestDualReadBoundsAHungCandidate: a dual read the caller waits for (not a
// shadow read) gives the candidate store the secondary timeout, not the
// caller's context alone: a new store that never answers cannot hold the
// caller's read forever. The caller, whose context has no deadline, gets
// the old store's event, and the comparison says the new store failed.
func TestDualReadBoundsAHungCandidate(t *testing.T) {
	t.Parallel()
	f := newMigFixture(t, migFlags(fs(true, true, true, true)), flagmigrate.WithSecondaryTimeout(20*time.Millisecond))
	evt := fixture.WithValue("acct", "e1", 1)
	f.seed(t, "old", evt)
	f.seed(t, "new", evt)
	ended := make(chan error, 1)
	f.new.Set(eventstore.OpFindEventByID, testutil.Fault{Before: func(ctx context.Context) error {
		<-ctx.Done() // a store that never answers
		ended <- ctx.Err()
		return ctx.Err()
	}})
	got, err := f.store.FindEventByID(context.Background(), "acct", "e1")
	if err != nil || got.ID != "e1" {
		t.Fatalf("FindEventByID = %+v, %v; want the old store's e1", got, err)
	}
	if err := <-ended; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the candidate's context ended with %v, want its deadline", err)
	}
	if v := f.obs.verdicts(); !slices.Equal(v, []migration.Verdict{migration.VerdictErrorInNew}) {
		t.Errorf("verdicts %v, want one error in new", v)
	}
}
