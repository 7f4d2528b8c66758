package main

import (
	"context"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

// onFor is an in-memory boolean flag that is on for the account contexts
// keyed by one of accounts, and off for everyone else.
func onFor(key string, accounts ...string) memprovider.InMemoryFlag {
	on := map[string]bool{}
	for _, a := range accounts {
		on[a] = true
	}
	eval := func(this memprovider.InMemoryFlag, flat openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		acct, _ := flat[openfeature.TargetingKey].(string)
		if on[acct] && flat[openfeatureflags.AttrKind] == openfeatureflags.AccountKind {
			return true, openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason, Variant: "on"}
		}
		return false, openfeature.ProviderResolutionDetail{Reason: openfeature.DefaultReason, Variant: "off"}
	}
	return memprovider.InMemoryFlag{
		Key: key, State: memprovider.Enabled, DefaultVariant: "off",
		Variants: map[string]any{"on": true, "off": false}, ContextEvaluator: &eval,
	}
}

// stageFor is an in-memory string flag holding stages per account, and
// "off" for everyone else.
func stageFor(key string, stages map[string]string) memprovider.InMemoryFlag {
	eval := func(this memprovider.InMemoryFlag, flat openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		acct, _ := flat[openfeature.TargetingKey].(string)
		if st, ok := stages[acct]; ok {
			return st, openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason, Variant: acct}
		}
		return "off", openfeature.ProviderResolutionDetail{Reason: openfeature.DefaultReason, Variant: "off"}
	}
	return memprovider.InMemoryFlag{
		Key: key, State: memprovider.Enabled, DefaultVariant: "off",
		Variants: map[string]any{"off": "off"}, ContextEvaluator: &eval,
	}
}

// TestStatusOverOpenFeature: the routes status reports, from OpenFeature's
// in-memory provider through package openfeatureflags, are the ones
// TestStatusFromAFlagsFile gets from a LaunchDarkly flags file for the same
// targeting; and a migration flag's stages route as LaunchDarkly's do.
func TestStatusOverOpenFeature(t *testing.T) {
	api := isolated.NewAPI()
	t.Cleanup(func() {
		if err := api.Shutdown(context.Background()); err != nil {
			t.Errorf("OpenFeature shutdown: %v", err)
		}
	})
	p := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"events-mongo-write":  onFor("events-mongo-write", "a-off", "a-dual", "a-shadow", "a-ramp", "a-danger"),
		"events-dynamo-write": onFor("events-dynamo-write", "a-dual", "a-shadow", "a-ramp", "a-done"),
		"events-mongo-read":   onFor("events-mongo-read", "a-off", "a-dual", "a-shadow", "a-danger"),
		"events-dynamo-read":  onFor("events-dynamo-read", "a-shadow", "a-ramp", "a-done", "a-danger"),
		"events-migration":    stageFor("events-migration", map[string]string{"s-live": "live", "s-done": "complete"}),
	})
	if err := api.SetProviderAndWait(t.Context(), p); err != nil {
		t.Fatalf("OpenFeature provider: %v", err)
	}
	client, err := openfeatureflags.New(api.NewClient(), openfeatureflags.WithEvaluationTimeout(-1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reason    string
		stageFlag string
		want      []statusRow
	}{
		{"the four flags, five routes, a danger and an untargeted account", "", fourFlagRows},
		{"a migration flag: targeted stages, and off for everyone else", "events-migration", []statusRow{
			{"s-live", "live", "new, then old", "new (old compared)", ""},
			{"s-done", "complete", "new", "new", ""},
			{"nobody", "off", "old", "old", ""},
		}},
	} {
		var ids []string
		for _, w := range tc.want {
			ids = append(ids, w.account)
		}
		got := statusOf(t.Context(), client, tc.stageFlag, flagmigrate.DefaultFlagKeys(), ids)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d accounts, want %d", tc.reason, len(got), len(tc.want))
		}
		for i, w := range tc.want {
			g := got[i]
			if g.Account != w.account || g.Stage != w.stage || g.Writes != w.writes || g.Reads != w.reads || g.Danger != w.danger || len(g.Problems) != 0 {
				t.Errorf("%s: account %s: %+v, want %+v", tc.reason, w.account, g, w)
			}
		}
	}
}
