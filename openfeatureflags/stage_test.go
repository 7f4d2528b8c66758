package openfeatureflags_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

const stageKey = "events-migration"

// TestStageFlagValues evaluates each odd stage flag on a LaunchDarkly
// client (ldtestdata) and on the OpenFeature adapter, and requires the same
// stage, the same error and the same measured evaluation error of both.
func TestStageFlagValues(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		ld        func(*ldtestdata.TestDataSource)
		of        map[string]memprovider.InMemoryFlag
		wantStage ldmigration.Stage
		wantErr   bool                   // an error naming an unknown stage
		wantKind  ldreason.EvalErrorKind // of the measured evaluation ("" for none)
	}{
		{"a missing flag is off, without an error",
			func(*ldtestdata.TestDataSource) {}, nil,
			ldmigration.Off, false, ldreason.EvalErrorFlagNotFound},
		{"a flag holding a stage gives it",
			func(td *ldtestdata.TestDataSource) {
				td.Update(td.Flag(stageKey).Variations(ldvalue.String("dualwrite")).FallthroughVariationIndex(0))
			},
			map[string]memprovider.InMemoryFlag{stageKey: targetedFlag(stageKey, "dualwrite", nil, nil)},
			ldmigration.DualWrite, false, ""},
		{"a flag holding a non-string value is off, without an error, measured as a wrong type",
			func(td *ldtestdata.TestDataSource) { td.Update(td.Flag(stageKey).BooleanFlag().VariationForAll(true)) },
			map[string]memprovider.InMemoryFlag{stageKey: targetedFlag(stageKey, true, nil, nil)},
			ldmigration.Off, false, ldreason.EvalErrorWrongType},
		{"a flag holding a string that names no stage is off, with an error, measured as a wrong type",
			func(td *ldtestdata.TestDataSource) {
				td.Update(td.Flag(stageKey).Variations(ldvalue.String("sideways")).FallthroughVariationIndex(0))
			},
			map[string]memprovider.InMemoryFlag{stageKey: targetedFlag(stageKey, "sideways", nil, nil)},
			ldmigration.Off, true, ldreason.EvalErrorWrongType},
	} {
		td := ldtestdata.DataSource()
		tc.ld(td)
		ofClient, _ := newOFClient(t, tc.of)
		for _, c := range []struct {
			name   string
			client flagmigrate.StageFlagClient
		}{
			{"LaunchDarkly", testutil.NewLDClient(t, td)},
			{"OpenFeature", ofClient},
		} {
			stage, tracker, err := c.client.MigrationVariationCtx(t.Context(), stageKey, flagmigrate.AccountContext("acct"), ldmigration.Off)
			if stage != tc.wantStage || (err != nil) != tc.wantErr {
				t.Errorf("%s (%s): (%s, %v), want stage %s, error %v", tc.reason, c.name, stage, err, tc.wantStage, tc.wantErr)
			}
			if c.name == "OpenFeature" && tc.wantErr && !errors.Is(err, openfeatureflags.ErrUnknownStage) {
				t.Errorf("%s: error %v is not ErrUnknownStage", tc.reason, err)
			}
			tracker.Operation(ldmigration.Write)
			tracker.TrackInvoked(ldmigration.Old)
			ev, err := tracker.Build()
			if err != nil {
				t.Fatalf("%s (%s): Build: %v", tc.reason, c.name, err)
			}
			if got := ev.Evaluation.Reason.GetErrorKind(); got != tc.wantKind {
				t.Errorf("%s (%s): measured evaluation error %q, want %q", tc.reason, c.name, got, tc.wantKind)
			}
		}
	}
}

// tracked is one tracking event as a provider received it.
type tracked struct {
	Name  string
	Key   string // targeting key
	Value float64
	Attrs map[string]any
}

// trackingProvider is the in-memory provider, keeping the targeting key of
// each tracking event too.
type trackingProvider struct {
	*memprovider.InMemoryProvider
	mu     sync.Mutex
	events []tracked
}

func (p *trackingProvider) Track(_ context.Context, name string, ec openfeature.EvaluationContext, d openfeature.TrackingEventDetails) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, tracked{name, ec.TargetingKey(), d.Value(), d.Attributes()})
}

func (p *trackingProvider) take() []tracked {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := p.events
	p.events = nil
	return ev
}

func newTrackingClient(t *testing.T, flags map[string]memprovider.InMemoryFlag) (*openfeatureflags.Client, *trackingProvider) {
	t.Helper()
	p := &trackingProvider{InMemoryProvider: memprovider.NewInMemoryProvider(flags)}
	return newOFClientFor(t, p), p
}

// sortTracked orders events by name, then origin.
func sortTracked(ev []tracked) {
	slices.SortFunc(ev, func(a, b tracked) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		ao, _ := a.Attrs["origin"].(string)
		bo, _ := b.Attrs["origin"].(string)
		switch {
		case ao < bo:
			return -1
		case ao > bo:
			return 1
		}
		return 0
	})
}

// TestStageTracking: each operation's measurements reach the provider as
// tracking events for the account: latency per invoked store, an error per
// failed store, the comparison's consistency.
func TestStageTracking(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		checks  int // check ratio in the flag's metadata, 0: none
		account string
		failNew bool
		differ  bool // the new store holds another version of the event
		op      string
		want    []tracked // the value of latency events is not compared (only that it is not negative)
	}{
		{"a shadow read that agrees: two latencies and a consistency of 1", 0, "acct-shadow", false, false, eventstore.OpFindEventByID,
			[]tracked{
				{openfeatureflags.EventConsistency, "acct-shadow", 1, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "samplingRatio": 1}},
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "new"}},
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "old"}},
			}},
		{"a shadow read whose stores disagree: a consistency of 0", 0, "acct-shadow", false, true, eventstore.OpFindEventByID,
			[]tracked{
				{openfeatureflags.EventConsistency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "samplingRatio": 1}},
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "new"}},
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "old"}},
			}},
		{"a shadow read whose new store fails: an error from new, no consistency", 0, "acct-shadow", true, false, eventstore.OpFindEventByID,
			[]tracked{
				{openfeatureflags.EventError, "acct-shadow", 1, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "new"}},
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "new"}},
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "old"}},
			}},
		{"a check ratio of 0 in the flag's metadata: no consistency measured", -1, "acct-shadow", false, false, eventstore.OpFindEventByID,
			[]tracked{
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "new"}},
				{openfeatureflags.EventLatency, "acct-shadow", 0, map[string]any{"flag": stageKey, "op": "read", "stage": "shadow", "origin": "old"}},
			}},
		{"a live write whose new store fails: new's error and latency, old not written", 0, "acct-live", true, false, eventstore.OpStoreEvent,
			[]tracked{
				{openfeatureflags.EventError, "acct-live", 1, map[string]any{"flag": stageKey, "op": "write", "stage": "live", "origin": "new"}},
				{openfeatureflags.EventLatency, "acct-live", 0, map[string]any{"flag": stageKey, "op": "write", "stage": "live", "origin": "new"}},
			}},
		{"an account at off: one latency, from old", 0, "acct-plain", false, false, eventstore.OpStoreEvent,
			[]tracked{
				{openfeatureflags.EventLatency, "acct-plain", 0, map[string]any{"flag": stageKey, "op": "write", "stage": "off", "origin": "old"}},
			}},
	} {
		var meta openfeature.FlagMetadata
		if tc.checks != 0 {
			meta = openfeature.FlagMetadata{openfeatureflags.MetadataCheckRatio: int64(max(tc.checks, 0))}
		}
		client, p := newTrackingClient(t, map[string]memprovider.InMemoryFlag{
			stageKey: targetedFlag(stageKey, "off", map[string]string{"acct-shadow": "shadow", "acct-live": "live"}, meta),
		})
		f := newFixture(t, client, flagmigrate.WithStageFlag(stageKey))
		if tc.op == eventstore.OpFindEventByID {
			newer := event(tc.account, "e1")
			if tc.differ {
				newer.Data = map[string]any{"v": 2.0}
			}
			if err := f.old.Inner().StoreEvent(t.Context(), event(tc.account, "e1")); err != nil {
				t.Fatal(err)
			}
			if err := f.new.Inner().StoreEvent(t.Context(), newer); err != nil {
				t.Fatal(err)
			}
		}
		if tc.failNew {
			f.new.Set(tc.op, testutil.Fault{Err: errors.New("boom")})
		}
		var err error
		if tc.op == eventstore.OpStoreEvent {
			err = f.store.StoreEvent(t.Context(), event(tc.account, "e1"))
		} else {
			_, err = f.store.FindEventByID(t.Context(), tc.account, "e1")
		}
		if wantErr := tc.failNew && tc.op == eventstore.OpStoreEvent; (err != nil) != wantErr {
			t.Errorf("%s: %s error %v, want one: %v", tc.reason, tc.op, err, wantErr)
		}
		got := p.take()
		sortTracked(got)
		for i := range got {
			if got[i].Name == openfeatureflags.EventLatency {
				if got[i].Value < 0 {
					t.Errorf("%s: negative latency %v", tc.reason, got[i].Value)
				}
				got[i].Value = 0
			}
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: tracking events (-want +got):\n%s", tc.reason, diff)
		}
	}
}

// TestTrackForeignEvent: a measurement another tracker built is still
// sent, without a targeting key.
func TestTrackForeignEvent(t *testing.T) {
	client, p := newTrackingClient(t, nil)
	ev := ldevents.MigrationOpEventData{
		FlagKey: stageKey, Op: ldmigration.Write,
		Evaluation: ldreason.EvaluationDetail{Value: ldvalue.String("off")},
		Invoked:    map[ldmigration.Origin]struct{}{ldmigration.Old: {}},
		Latency:    map[ldmigration.Origin]int{ldmigration.Old: 7},
	}
	if err := client.TrackMigrationOp(ev); err != nil {
		t.Fatal(err)
	}
	want := []tracked{{openfeatureflags.EventLatency, "", 7, map[string]any{"flag": stageKey, "op": "write", "stage": "off", "origin": "old"}}}
	if diff := cmp.Diff(want, p.take()); diff != "" {
		t.Errorf("tracking events (-want +got):\n%s", diff)
	}
}
