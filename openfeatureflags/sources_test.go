package openfeatureflags_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

// flagSetup is what a routing test configures, the same for every flag
// source: the boolean flags' values for everyone and per account, and the
// stage flag's stage for everyone and per account.
type flagSetup struct {
	bools       map[string]bool            // flag key -> value for everyone
	boolsFor    map[string]map[string]bool // flag key -> account -> value
	stageKey    string
	stage       ldmigration.Stage            // for everyone
	stageFor    map[string]ldmigration.Stage // account -> stage
	stageChecks int                          // check ratio, 0: unset
}

// flags is what both flag sources give: a client for both routing modes.
type flags interface {
	flagmigrate.FlagClient
	flagmigrate.StageFlagClient
}

// flagSource builds a flag client that serves a flagSetup.
type flagSource struct {
	name  string
	build func(t *testing.T, s flagSetup) flags
}

// both are the sources every shared table runs on.
var both = []flagSource{
	{"LaunchDarkly", ldSource},
	{"OpenFeature", ofSource},
}

var stages = []ldmigration.Stage{
	ldmigration.Off, ldmigration.DualWrite, ldmigration.Shadow,
	ldmigration.Live, ldmigration.RampDown, ldmigration.Complete,
}

func stageIndex(s ldmigration.Stage) int {
	for i, st := range stages {
		if st == s {
			return i
		}
	}
	panic(fmt.Sprintf("no stage %q", s))
}

// ldSource serves the setup through a real LaunchDarkly client over
// ldtestdata, targeting accounts by key within the account kind.
func ldSource(t *testing.T, s flagSetup) flags {
	td := ldtestdata.DataSource()
	for key, v := range s.bools {
		fb := td.Flag(key).VariationForAll(v)
		for acct, av := range s.boolsFor[key] {
			fb = fb.VariationForKey(flagmigrate.AccountContextKind, acct, av)
		}
		td.Update(fb)
	}
	if s.stageKey != "" {
		var vals []ldvalue.Value
		for _, st := range stages {
			vals = append(vals, ldvalue.String(string(st)))
		}
		fb := td.Flag(s.stageKey).Variations(vals...).VariationForAllIndex(stageIndex(s.stage))
		for acct, st := range s.stageFor {
			fb = fb.VariationIndexForKey(flagmigrate.AccountContextKind, acct, stageIndex(st))
		}
		td.Update(fb)
	}
	return testutil.NewLDClient(t, td)
}

// ofSource serves the setup through an openfeatureflags.Client over an
// OpenFeature in-memory provider, targeting accounts by targeting key
// within the account kind with a ContextEvaluator.
func ofSource(t *testing.T, s flagSetup) flags {
	flags := map[string]memprovider.InMemoryFlag{}
	for key, v := range s.bools {
		flags[key] = targetedFlag(key, v, s.boolsFor[key], nil)
	}
	if s.stageKey != "" {
		var meta openfeature.FlagMetadata
		if s.stageChecks != 0 {
			meta = openfeature.FlagMetadata{openfeatureflags.MetadataCheckRatio: int64(s.stageChecks)}
		}
		byAcct := map[string]string{}
		for acct, st := range s.stageFor {
			byAcct[acct] = string(st)
		}
		flags[s.stageKey] = targetedFlag(s.stageKey, string(s.stage), byAcct, meta)
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
		if v, ok := this.Variants[acct]; ok && acct != "all" && flat[openfeatureflags.AttrKind] == string(flagmigrate.AccountContextKind) {
			return v, openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason, Variant: acct, FlagMetadata: meta}
		}
		return this.Variants["all"], openfeature.ProviderResolutionDetail{Reason: openfeature.DefaultReason, Variant: "all", FlagMetadata: meta}
	}
	return memprovider.InMemoryFlag{
		Key: key, State: memprovider.Enabled, DefaultVariant: "all", Variants: variants,
		ContextEvaluator: &eval,
	}
}

// newOFClient returns a Client over an in-memory provider of flags.
func newOFClient(t *testing.T, flags map[string]memprovider.InMemoryFlag) (*openfeatureflags.Client, *memprovider.InMemoryProvider) {
	t.Helper()
	p := memprovider.NewInMemoryProvider(flags)
	return newOFClientFor(t, p), p
}

// newOFClientFor returns a Client over p, on an OpenFeature API of its own
// that is shut down when the test ends.
func newOFClientFor(t *testing.T, p openfeature.FeatureProvider) *openfeatureflags.Client {
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
	c, err := openfeatureflags.New(api.NewClient())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
