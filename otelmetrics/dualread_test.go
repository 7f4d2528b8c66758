package otelmetrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/otelmetrics"
)

// TestDualReadRunMetrics runs a migration that writes and reads both
// stores, with a mismatch planted in the new store and a failing write to
// it, and reads back through a manual reader the duration histogram and
// the migration's counters with their attributes.
func TestDualReadRunMetrics(t *testing.T) {
	ctx := context.Background()
	obs, reader := newObserver(t, otelmetrics.WithSystems(otelmetrics.SystemMongoDB, otelmetrics.SystemDynamoDB))

	oldStore, newStore := memstore.New(), memstore.New()
	at := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	planted := flagmigrate.Event{AccountID: "acct-1", ID: "evt-1", Type: "signup", Time: at, Data: map[string]any{"plan": "pro"}}
	if err := oldStore.StoreEvent(ctx, planted); err != nil {
		t.Fatal(err)
	}
	planted.Data = map[string]any{"plan": "free"} // the planted difference
	if err := newStore.StoreEvent(ctx, planted); err != nil {
		t.Fatal(err)
	}
	errDown := errors.New("new store refuses writes")
	faultyNew := testutil.NewFaultStore("new", newStore, nil).Set(eventstore.OpStoreEvent, testutil.Fault{Err: errDown})

	keys := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New()
	for _, k := range []string{keys.OldWrite, keys.NewWrite, keys.OldRead, keys.NewRead} {
		flags.Set(k, true)
	}
	store, err := flagmigrate.NewMigratingStore(oldStore, faultyNew, flags,
		flagmigrate.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	written := flagmigrate.Event{AccountID: "acct-1", ID: "evt-2", Type: "login", Time: at.Add(time.Hour)}
	if err := store.StoreEvent(ctx, written); err != nil {
		t.Fatalf("StoreEvent: %v (the authoritative old store took it)", err)
	}
	if _, err := store.FindEventByID(ctx, "acct-1", "evt-1"); err != nil {
		t.Fatalf("FindEventByID(evt-1): %v", err)
	}
	if _, err := store.FindEventByID(ctx, "acct-1", "missing"); !errors.Is(err, flagmigrate.ErrNotFound) {
		t.Fatalf("FindEventByID(missing) = %v, want ErrNotFound", err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	const (
		op, sys, errT, side, role = "db.operation.name", "db.system.name", "error.type", "flagmigrate.side", "flagmigrate.role"
		find, storeOp             = eventstore.OpFindEventByID, eventstore.OpStoreEvent
	)
	want := []struct {
		metric, unit, kind, attrs string
		n                         int64
		reason                    string
	}{
		{otelmetrics.MetricOperationDuration, "s", "histogram", attrs(op, storeOp, sys, "mongodb", side, "old", role, "authoritative"), 1,
			"the write went first to the old store, which took it: no error.type"},
		{otelmetrics.MetricOperationDuration, "s", "histogram", attrs(op, storeOp, sys, "aws.dynamodb", side, "new", role, "secondary", errT, "error"), 1,
			"the new store's write failed: error.type names the outcome"},
		{otelmetrics.MetricOperationDuration, "s", "histogram", attrs(op, find, sys, "mongodb", side, "old", role, "authoritative"), 1,
			"the planted event was read from the old store, which serves the read"},
		{otelmetrics.MetricOperationDuration, "s", "histogram", attrs(op, find, sys, "aws.dynamodb", side, "new", role, "candidate"), 1,
			"and from the new store, as the candidate compared with it"},
		{otelmetrics.MetricOperationDuration, "s", "histogram", attrs(op, find, sys, "mongodb", side, "old", role, "authoritative", errT, "not_found"), 1,
			"the missing event: not found in the old store"},
		{otelmetrics.MetricOperationDuration, "s", "histogram", attrs(op, find, sys, "aws.dynamodb", side, "new", role, "candidate", errT, "not_found"), 1,
			"nor in the new one"},
		{otelmetrics.MetricComparisons, "{comparison}", "sum", attrs(op, find, "flagmigrate.verdict", "different", "flagmigrate.shadow", "false", "flagmigrate.rechecked", "false"), 1,
			"the planted difference is a mismatch, compared in the caller's read (both read flags on)"},
		{otelmetrics.MetricComparisons, "{comparison}", "sum", attrs(op, find, "flagmigrate.verdict", "match", "flagmigrate.shadow", "false", "flagmigrate.rechecked", "false"), 1,
			"both stores lacking the missing event is a match"},
		{otelmetrics.MetricRepairRecorded, "{entry}", "sum", attrs(op, storeOp, "flagmigrate.repair.target", "new", "flagmigrate.repair.orphan", "false", "flagmigrate.repair.failed", "false"), 1,
			"the write that reached the old store only went to the repair log, for the new store"},
	}
	got := collect(t, reader)
	seen := map[string]int{}
	for _, w := range want {
		c, ok := got[w.metric]
		if !ok {
			t.Errorf("%s missing (%s)", w.metric, w.reason)
			continue
		}
		if c.unit != w.unit || c.kind != w.kind {
			t.Errorf("%s: unit %q kind %s, want %q %s", w.metric, c.unit, c.kind, w.unit, w.kind)
		}
		if n := c.points[w.attrs]; n != w.n {
			t.Errorf("%s{%s} = %d, want %d (%s)", w.metric, w.attrs, n, w.n, w.reason)
		}
		seen[w.metric]++
	}
	for name, c := range got {
		if len(c.points) != seen[name] {
			t.Errorf("%s has %d attribute sets, want %d (no other series, no account attribute): %v", name, len(c.points), seen[name], c.points)
		}
	}
}
