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
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

// TestStageFlagValues evaluates each odd stage flag as LaunchDarkly's
// client does (see package ldflags' test of the same rows).
func TestStageFlagValues(t *testing.T) {
	for _, tc := range []struct {
		reason    string
		of        map[string]memprovider.InMemoryFlag
		wantStage migration.Stage
		wantErr   bool // an error naming an unknown stage
	}{
		{"a missing flag is off, without an error", nil, migration.StageOff, false},
		{"a flag holding a stage gives it",
			map[string]memprovider.InMemoryFlag{stageKey: targetedFlag(stageKey, "dualwrite", nil, nil)},
			migration.StageDualWrite, false},
		{"a flag holding a non-string value is off, without an error",
			map[string]memprovider.InMemoryFlag{stageKey: targetedFlag(stageKey, true, nil, nil)},
			migration.StageOff, false},
		{"a flag holding a string that names no stage is off, with an error",
			map[string]memprovider.InMemoryFlag{stageKey: targetedFlag(stageKey, "sideways", nil, nil)},
			migration.StageOff, true},
	} {
		client, _ := newOFClient(t, tc.of)
		stage, tracker, err := client.StageFlag(t.Context(), stageKey, "acct", true)
		if stage != tc.wantStage || (err != nil) != tc.wantErr || tracker == nil {
			t.Errorf("%s: (%s, %v, tracker %v), want stage %s, error %v", tc.reason, stage, err, tracker, tc.wantStage, tc.wantErr)
		}
		if tc.wantErr && !errors.Is(err, openfeatureflags.ErrUnknownStage) {
			t.Errorf("%s: error %v is not ErrUnknownStage", tc.reason, err)
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

func newTrackingClient(t *testing.T, flags map[string]memprovider.InMemoryFlag) (*openfeatureflags.Flags, *trackingProvider) {
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
			if err := f.Old.Inner().StoreEvent(t.Context(), event(tc.account, "e1")); err != nil {
				t.Fatal(err)
			}
			if err := f.New.Inner().StoreEvent(t.Context(), newer); err != nil {
				t.Fatal(err)
			}
		}
		if tc.failNew {
			f.New.Set(tc.op, testutil.Fault{Err: errors.New("boom")})
		}
		var err error
		if tc.op == eventstore.OpStoreEvent {
			err = f.Store.StoreEvent(t.Context(), event(tc.account, "e1"))
		} else {
			_, err = f.Store.FindEventByID(t.Context(), tc.account, "e1")
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
