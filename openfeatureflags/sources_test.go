package openfeatureflags_test

import (
	"context"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/routetest"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

const stageKey = "events-migration"

// ofSource serves the setup through an openfeatureflags.Flags over an
// OpenFeature in-memory provider, targeting accounts by targeting key
// with the account kind attribute, with a ContextEvaluator.
func ofSource(t *testing.T, s routetest.Setup) routetest.Flags {
	flags := map[string]memprovider.InMemoryFlag{}
	for key, v := range s.Bools {
		flags[key] = targetedFlag(key, v, s.BoolsFor[key], nil)
	}
	if s.StageKey != "" {
		byAcct := map[string]any{}
		for acct, st := range s.StageFor {
			byAcct[acct] = string(st)
		}
		for acct, v := range s.StageValueFor {
			byAcct[acct] = v
		}
		flags[s.StageKey] = targetedFlag[any](s.StageKey, string(s.Stage), byAcct, nil)
	}
	client, _ := newOFClient(t, flags)
	return client
}

// targetedFlag is an in-memory flag holding all for everyone and
// byAccount[a] for an account context keyed a.
func targetedFlag[V comparable](key string, all V, byAccount map[string]V, meta openfeature.FlagMetadata) memprovider.InMemoryFlag {
	variants := map[string]any{"all": all}
	for acct, v := range byAccount {
		variants[acct] = v
	}
	eval := func(this memprovider.InMemoryFlag, flat openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		acct, _ := flat[openfeature.TargetingKey].(string)
		if v, ok := this.Variants[acct]; ok && acct != "all" && flat[openfeatureflags.AttrKind] == openfeatureflags.AccountKind {
			return v, openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason, Variant: acct, FlagMetadata: meta}
		}
		return this.Variants["all"], openfeature.ProviderResolutionDetail{Reason: openfeature.DefaultReason, Variant: "all", FlagMetadata: meta}
	}
	return memprovider.InMemoryFlag{
		Key: key, State: memprovider.Enabled, DefaultVariant: "all", Variants: variants,
		ContextEvaluator: &eval,
	}
}

// newOFClient returns Flags over an in-memory provider of flags.
func newOFClient(t *testing.T, flags map[string]memprovider.InMemoryFlag, opts ...openfeatureflags.Option) (*openfeatureflags.Flags, *memprovider.InMemoryProvider) {
	t.Helper()
	p := memprovider.NewInMemoryProvider(flags)
	return newOFClientFor(t, p, opts...), p
}

// newOFClientFor returns Flags over p, on an OpenFeature API of its own
// that is shut down when the test ends.
func newOFClientFor(t *testing.T, p openfeature.FeatureProvider, opts ...openfeatureflags.Option) *openfeatureflags.Flags {
	t.Helper()
	api := isolated.NewAPI()
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		if err := api.Shutdown(context.Background()); err != nil {
			t.Errorf("OpenFeature shutdown: %v", err)
		}
	})
	if err := api.SetProviderAndWait(t.Context(), p); err != nil {
		t.Fatalf("OpenFeature provider: %v", err)
	}
	// Unbounded: the in-memory provider never blocks, and a test must not
	// depend on the wall clock (TestEvaluationIsBounded tests the bound).
	c, err := openfeatureflags.New(api.NewClient(), append([]openfeatureflags.Option{openfeatureflags.WithEvaluationTimeout(-1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
