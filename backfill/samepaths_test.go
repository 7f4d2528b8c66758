package backfill_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
)

// TestDualReadAndVerifyReportTheSamePaths plants the same differences
// between an old and a new store, then reads each event through a
// MigratingStore that reads both (its comparison's paths) and verifies the
// stores (the report's fields): both name every difference by the same
// path, since both use the one comparison, eventstore's Event.Diff.
func TestDualReadAndVerifyReportTheSamePaths(t *testing.T) {
	t.Parallel()
	base := fixture.WithValue("acct", "", nil)
	base.Data = map[string]any{"plan": "pro", "items": []any{int64(1), map[string]any{"name": "a"}}, "n": 1.5}
	planted := []struct {
		reason string
		change func(e *eventstore.Event)
	}{
		{"a top-level data field", func(e *eventstore.Event) { e.Data["plan"] = "free" }},
		{"a field deep in a list", func(e *eventstore.Event) {
			e.Data["items"] = []any{int64(1), map[string]any{"name": "b"}}
		}},
		{"a key only in the new store", func(e *eventstore.Event) { e.Data["extra"] = true }},
		{"a key only in the old store", func(e *eventstore.Event) { delete(e.Data, "n") }},
		{"a number's type", func(e *eventstore.Event) { e.Data["n"] = int64(2) }},
		{"the type and the time", func(e *eventstore.Event) {
			e.Type = "other"
			e.Time = e.Time.Add(1)
		}},
		{"a list's length", func(e *eventstore.Event) { e.Data["items"] = []any{int64(1)} }},
		{"every leaf of a deep list", func(e *eventstore.Event) {
			e.Data["deep"] = fixture.NestedLists(eventstore.MaxDataDepth-1, 1, "y")["l"]
		}},
	}
	old, new := memstore.New(), memstore.New()
	for i, p := range planted {
		o := base.Clone()
		o.ID = fmt.Sprintf("e%02d", i)
		o.Data["deep"] = fixture.NestedLists(eventstore.MaxDataDepth-1, 1, "x")["l"]
		n := o.Clone()
		p.change(&n)
		if err := old.StoreEvent(t.Context(), o); err != nil {
			t.Fatalf("%s: %v", p.reason, err)
		}
		if err := new.StoreEvent(t.Context(), n); err != nil {
			t.Fatalf("%s: %v", p.reason, err)
		}
	}

	var mu sync.Mutex
	dual := map[string][]string{}
	obs := migration.Observer{Compared: func(_ context.Context, c migration.Comparison) {
		mu.Lock()
		defer mu.Unlock()
		dual[c.Key] = c.Paths
	}}
	flags := flagtest.New().Set("events-mongo-read", true).Set("events-dynamo-read", true)
	store, err := flagmigrate.NewMigratingStore(old, new, flags, flagmigrate.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i := range planted {
		if _, err := store.FindEventByID(t.Context(), "acct", fmt.Sprintf("e%02d", i)); err != nil {
			t.Fatal(err)
		}
	}

	report, err := backfill.Verify(t.Context(), old, new, backfill.VerifyOptions{MaxReported: len(planted)})
	if err != nil {
		t.Fatal(err)
	}
	verified := map[string][]string{}
	for _, d := range report.Differences {
		verified[d.Key.ID] = d.Fields
	}
	for i, p := range planted {
		id := fmt.Sprintf("e%02d", i)
		if len(dual[id]) == 0 {
			t.Errorf("%s: the dual read reported no path", p.reason)
		}
		if diff := cmp.Diff(dual[id], verified[id]); diff != "" {
			t.Errorf("%s: dual read paths (-) and verify's (+) differ:\n%s", p.reason, diff)
		}
	}
	if report.Different != int64(len(planted)) {
		t.Errorf("verify found %d different, want %d", report.Different, len(planted))
	}
}
