package otelmetrics_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/otelmetrics"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// TestObserverMethods calls each Observer method once and reads back the
// one data point it must record.
func TestObserverMethods(t *testing.T) {
	ctx := context.Background()
	entry := migration.RepairEntry{Call: migration.Call{Op: eventstore.OpStoreEvent, AccountID: "acct-9", Key: "evt-1"}, Target: migration.SideNew, Source: migration.SideOld}
	brake := migration.BrakeState{AccountID: "acct-9", Reason: migration.BrakeMismatches, Samples: 50, Bad: 10}
	tests := []struct {
		name    string
		opts    []otelmetrics.Option
		call    func(o migration.Observer)
		metric  string
		unit    string
		attrs   string
		reason  string
		wantSum float64 // histograms only: the recorded seconds
	}{
		{
			name: "store call without systems",
			call: func(o migration.Observer) {
				o.StoreCalled(ctx, migration.StoreCall{Call: migration.Call{Op: "ListEvents", AccountID: "acct-9"}, Side: migration.SideNew,
					Role: migration.RoleCandidate, Outcome: migration.OutcomeTimeout, Latency: 1500_000_000})
			},
			metric: otelmetrics.MetricOperationDuration, unit: "s", wantSum: 1.5,
			attrs:  attrs("db.operation.name", "ListEvents", "flagmigrate.side", "new", "flagmigrate.role", "candidate", "error.type", "timeout"),
			reason: "without WithSystems db.system.name is omitted, the latency is in seconds, and the account is not an attribute",
		},
		{
			name: "store call with the account attribute",
			opts: []otelmetrics.Option{otelmetrics.WithSystems("mongodb", ""), otelmetrics.WithAccountAttribute()},
			call: func(o migration.Observer) {
				o.StoreCalled(ctx, migration.StoreCall{Call: migration.Call{Op: "StoreEvent", AccountID: "acct-9"}, Side: migration.SideOld,
					Role: migration.RoleAuthoritative, Outcome: migration.OutcomeOK, Latency: 2_000_000})
			},
			metric: otelmetrics.MetricOperationDuration, unit: "s", wantSum: 0.002,
			attrs: attrs("db.operation.name", "StoreEvent", "db.system.name", "mongodb", "flagmigrate.side", "old",
				"flagmigrate.role", "authoritative", "flagmigrate.account.id", "acct-9"),
			reason: "WithAccountAttribute adds the account; a successful call has no error.type",
		},
		{
			name: "store call on the side given no system",
			opts: []otelmetrics.Option{otelmetrics.WithSystems("mongodb", "")},
			call: func(o migration.Observer) {
				o.StoreCalled(ctx, migration.StoreCall{Call: migration.Call{Op: "StoreEvent"}, Side: migration.SideNew, Role: migration.RoleProbe,
					Outcome: migration.OutcomeConflict})
			},
			metric: otelmetrics.MetricOperationDuration, unit: "s",
			attrs:  attrs("db.operation.name", "StoreEvent", "flagmigrate.side", "new", "flagmigrate.role", "probe", "error.type", "conflict"),
			reason: "a side given \"\" omits db.system.name",
		},
		{
			name: "shadow comparison rechecked",
			call: func(o migration.Observer) {
				o.Compared(ctx, migration.Comparison{Call: migration.Call{Op: "FindEventByID", AccountID: "acct-9"}, Verdict: migration.VerdictMissingInNew, Shadow: true, Rechecked: true})
			},
			metric: otelmetrics.MetricComparisons, unit: "{comparison}",
			attrs: attrs("db.operation.name", "FindEventByID", "flagmigrate.verdict", "missing_in_new",
				"flagmigrate.shadow", "true", "flagmigrate.rechecked", "true"),
			reason: "shadow and recheck are kept apart from caller-side comparisons",
		},
		{
			name:   "shadow dropped",
			call:   func(o migration.Observer) { o.ShadowDropped(ctx, "ListEvents", migration.DropFull) },
			metric: otelmetrics.MetricShadowDropped, unit: "{read}",
			attrs:  attrs("db.operation.name", "ListEvents", "flagmigrate.drop.reason", "full"),
			reason: "a dropped shadow read is counted with its reason",
		},
		{
			name: "dangerous routing",
			opts: []otelmetrics.Option{otelmetrics.WithAccountAttribute()},
			call: func(o migration.Observer) {
				o.DangerousRouting(ctx, "acct-9", migration.FlagState{OldWrite: true, OldRead: true, NewRead: true})
			},
			metric: otelmetrics.MetricDangerousRouting, unit: "{report}",
			attrs:  attrs("flagmigrate.danger", "new_read_not_written", "flagmigrate.account.id", "acct-9"),
			reason: "the danger is named; the account only with WithAccountAttribute",
		},
		{
			name:   "repair record failed",
			call:   func(o migration.Observer) { o.RepairRecorded(ctx, entry, errors.New("disk full")) },
			metric: otelmetrics.MetricRepairRecorded, unit: "{entry}",
			attrs: attrs("db.operation.name", "StoreEvent", "flagmigrate.repair.target", "new",
				"flagmigrate.repair.orphan", "false", "flagmigrate.repair.failed", "true"),
			reason: "a repair log that could not record the entry is told apart",
		},
		{
			name:   "repair dropped",
			call:   func(o migration.Observer) { o.RepairDropped(ctx, entry) },
			metric: otelmetrics.MetricRepairDropped, unit: "{entry}",
			attrs:  attrs("db.operation.name", "StoreEvent", "flagmigrate.repair.target", "new"),
			reason: "an entry the bounded log dropped is counted by target",
		},
		{
			name: "flag failed",
			call: func(o migration.Observer) {
				o.FlagFailed(ctx, "events-dynamo-read", "acct-9", errors.New("no flag"))
			},
			metric: otelmetrics.MetricFlagFailures, unit: "{failure}",
			attrs:  attrs("flagmigrate.flag.key", "events-dynamo-read"),
			reason: "flag keys are few, so the key is an attribute; the error text is not",
		},
		{
			name: "store down",
			opts: []otelmetrics.Option{otelmetrics.WithSystems("mongodb", "aws.dynamodb")},
			call: func(o migration.Observer) {
				o.StoreStateChanged(ctx, migration.StoreState{Side: migration.SideNew, Down: true, Failures: 5})
			},
			metric: otelmetrics.MetricStoreStateChanges, unit: "{change}",
			attrs:  attrs("flagmigrate.side", "new", "flagmigrate.store.state", "down", "db.system.name", "aws.dynamodb"),
			reason: "the breaker taking the new store down",
		},
		{
			name: "store back",
			call: func(o migration.Observer) {
				o.StoreStateChanged(ctx, migration.StoreState{Side: migration.SideOld})
			},
			metric: otelmetrics.MetricStoreStateChanges, unit: "{change}",
			attrs:  attrs("flagmigrate.side", "old", "flagmigrate.store.state", "up"),
			reason: "a probe finding the store back",
		},
		{
			name:   "brake tripped",
			call:   func(o migration.Observer) { o.BrakeChanged(ctx, brake) },
			metric: otelmetrics.MetricBrakeChanges, unit: "{change}",
			attrs:  attrs("flagmigrate.brake.reason", "mismatches", "flagmigrate.brake.change", "tripped"),
			reason: "neither released nor helpless is a trip",
		},
		{
			name: "brake cannot help",
			opts: []otelmetrics.Option{otelmetrics.WithAccountAttribute()},
			call: func(o migration.Observer) {
				b := brake
				b.CannotHelp = true
				o.BrakeChanged(ctx, b)
			},
			metric: otelmetrics.MetricBrakeChanges, unit: "{change}",
			attrs:  attrs("flagmigrate.brake.reason", "mismatches", "flagmigrate.brake.change", "cannot_help", "flagmigrate.account.id", "acct-9"),
			reason: "a brake that cannot help is counted apart, as it needs an operator",
		},
		{
			name: "brake released",
			call: func(o migration.Observer) {
				b := brake
				b.Released = migration.ReleaseCooldown
				o.BrakeChanged(ctx, b)
			},
			metric: otelmetrics.MetricBrakeChanges, unit: "{change}",
			attrs:  attrs("flagmigrate.brake.reason", "mismatches", "flagmigrate.brake.change", "released", "flagmigrate.brake.release_cause", "cooldown"),
			reason: "a release carries its cause",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, reader := newObserver(t, tt.opts...)
			tt.call(obs)
			got := collect(t, reader)
			if len(got) != 1 {
				t.Fatalf("%d metrics recorded, want 1 (%s): %v", len(got), tt.reason, got)
			}
			c, ok := got[tt.metric]
			if !ok {
				t.Fatalf("%s not recorded (%s): %v", tt.metric, tt.reason, got)
			}
			if c.unit != tt.unit {
				t.Errorf("unit %q, want %q", c.unit, tt.unit)
			}
			if len(c.points) != 1 || c.points[tt.attrs] != 1 {
				t.Errorf("points %v, want {%s: 1} (%s)", c.points, tt.attrs, tt.reason)
			}
			if c.kind == "histogram" && c.sum != tt.wantSum {
				t.Errorf("sum %v s, want %v (%s)", c.sum, tt.wantSum, tt.reason)
			}
		})
	}
}

// TestNewIgnoresNilOption: a nil option is ignored, as everywhere in the
// module, and the others still apply.
func TestNewIgnoresNilOption(t *testing.T) {
	t.Parallel()
	obs, err := otelmetrics.New(sdkmetric.NewMeterProvider(), nil, otelmetrics.WithAccountAttribute(), nil)
	if err != nil || obs.StoreCalled == nil {
		t.Fatalf("New with nil options = %v, StoreCalled set %v; want an observer", err, obs.StoreCalled != nil)
	}
}

// TestNewGlobalProvider checks that a nil provider means the global one
// at the time of New.
func TestNewGlobalProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	defer otel.SetMeterProvider(prev)

	obs, err := otelmetrics.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	obs.ShadowDropped(context.Background(), "ListEvents", migration.DropClosed)
	got := collect(t, reader)
	if n := got[otelmetrics.MetricShadowDropped].points[attrs("db.operation.name", "ListEvents", "flagmigrate.drop.reason", "closed")]; n != 1 {
		t.Fatalf("global provider saw %v, want one dropped shadow read", got)
	}
}

// TestStoreCalledConcurrent records calls from several goroutines at once
// (the attribute-set cache is filled concurrently) and checks that every
// call is counted under its own attribute set.
func TestStoreCalledConcurrent(t *testing.T) {
	obs, reader := newObserver(t)
	const goroutines, calls = 8, 200
	roles := []migration.Role{migration.RoleAuthoritative, migration.RoleCandidate}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				obs.StoreCalled(context.Background(), migration.StoreCall{Call: migration.Call{Op: "FindEventByID", AccountID: "acct-1"},
					Side: migration.SideOld, Role: roles[(g+i)%2], Outcome: migration.OutcomeOK})
			}
		})
	}
	wg.Wait()
	got := collect(t, reader)[otelmetrics.MetricOperationDuration].points
	for _, r := range roles {
		k := attrs("db.operation.name", "FindEventByID", "flagmigrate.side", "old", "flagmigrate.role", string(r))
		if got[k] != goroutines*calls/2 {
			t.Errorf("%s: %d calls, want %d (all: %v)", k, got[k], goroutines*calls/2, got)
		}
	}
	if len(got) != len(roles) {
		t.Errorf("%d attribute sets, want %d: %v", len(got), len(roles), got)
	}
}
