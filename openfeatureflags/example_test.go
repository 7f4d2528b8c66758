package openfeatureflags_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

// A MigratingStore routed by a stage flag served through OpenFeature: the
// in-memory provider puts one account at the live stage, everyone else off.
func Example() {
	ctx := context.Background()
	live := func(_ memprovider.InMemoryFlag, flat openfeature.FlattenedContext) (any, openfeature.ProviderResolutionDetail) {
		if flat[openfeature.TargetingKey] == "acct-pilot" {
			return "live", openfeature.ProviderResolutionDetail{Reason: openfeature.TargetingMatchReason}
		}
		return "off", openfeature.ProviderResolutionDetail{Reason: openfeature.DefaultReason}
	}
	provider := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"events-migration": {Key: "events-migration", State: memprovider.Enabled, ContextEvaluator: &live},
	})
	api := isolated.NewAPI()
	defer func() { _ = api.Shutdown(ctx) }()
	if err := api.SetProviderAndWait(ctx, provider); err != nil {
		fmt.Println(err)
		return
	}

	flags, err := openfeatureflags.New(api.NewClient())
	if err != nil {
		fmt.Println(err)
		return
	}
	oldStore, newStore := memstore.New(), memstore.New()
	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags, flagmigrate.WithStageFlag("events-migration"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	for _, acct := range []string{"acct-pilot", "acct-other"} {
		evt := flagmigrate.Event{AccountID: acct, ID: "e1", Type: "signup", Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)}
		if err := store.StoreEvent(ctx, evt); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("old store:", oldStore.Len(), "events; new store:", newStore.Len())
	for _, e := range provider.TrackingEvents(openfeatureflags.EventLatency) {
		fmt.Println("latency of", e.Data["op"], "at stage", e.Data["stage"], "in", e.Data["origin"])
	}
	// Output:
	// old store: 2 events; new store: 1
	// latency of write at stage live in old
	// latency of write at stage live in new
	// latency of write at stage off in old
}

// The evaluation context OpenFeature sees for an account by default.
func ExampleAccountContext() {
	ec := openfeatureflags.AccountContext("acct-1")
	fmt.Println(ec.TargetingKey(), ec.Attribute(openfeatureflags.AttrKind))
	// Output: acct-1 account
}
