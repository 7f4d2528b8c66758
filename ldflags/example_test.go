package ldflags_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

// offlineClient is a LaunchDarkly client on td that never touches the
// network: no events, no diagnostics, no logging.
func offlineClient(td *ldtestdata.TestDataSource) (*ldclient.LDClient, error) {
	return ldclient.MakeCustomClient("sdk-key-unused", ldclient.Config{
		DataSource:       td,
		Events:           ldcomponents.NoEvents(),
		DiagnosticOptOut: true,
		Logging:          ldcomponents.NoLogging(),
	}, 5*time.Second)
}

// A MigratingStore routed by LaunchDarkly flags: acct-1 is targeted for
// dual writes, every other account stays on the old store.
func Example() {
	td := ldtestdata.DataSource()
	keys := flagmigrate.DefaultFlagKeys()
	td.Update(td.Flag(keys.OldWrite).VariationForAll(true))
	td.Update(td.Flag(keys.OldRead).VariationForAll(true))
	td.Update(td.Flag(keys.NewRead).VariationForAll(false))
	td.Update(td.Flag(keys.NewWrite).VariationForAll(false).VariationForKey(ldflags.AccountKind, "acct-1", true))
	client, err := offlineClient(td)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	oldStore, newStore := memstore.New(), memstore.New() // MongoDB and DynamoDB in production
	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, ldflags.New(client))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	for _, acct := range []string{"acct-1", "acct-2"} {
		evt := flagmigrate.Event{AccountID: acct, ID: "e1", Type: "signup", Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)}
		if err := store.StoreEvent(context.Background(), evt); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("old store:", oldStore.Len(), "new store:", newStore.Len())
	// Output: old store: 2 new store: 1
}

// Targeting rules can match attributes of the account added to its
// LaunchDarkly context: here, beta accounts write both stores.
func ExampleWithContext() {
	td := ldtestdata.DataSource()
	keys := flagmigrate.DefaultFlagKeys()
	td.Update(td.Flag(keys.OldWrite).VariationForAll(true))
	td.Update(td.Flag(keys.OldRead).VariationForAll(true))
	td.Update(td.Flag(keys.NewRead).VariationForAll(false))
	td.Update(td.Flag(keys.NewWrite).VariationForAll(false).
		IfMatchContext(ldflags.AccountKind, "tier", ldvalue.String("beta")).ThenReturn(true))
	client, err := offlineClient(td)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	tiers := map[string]string{"acct-1": "beta", "acct-2": "standard"} // from the service's own data
	flags := ldflags.New(client, ldflags.WithContext(func(_ context.Context, accountID string) ldcontext.Context {
		return ldcontext.NewBuilder(accountID).Kind(ldflags.AccountKind).SetString("tier", tiers[accountID]).Build()
	}))
	oldStore, newStore := memstore.New(), memstore.New()
	store, _ := flagmigrate.NewMigratingStore(oldStore, newStore, flags, flagmigrate.WithRoutingCheck(-1))
	defer store.Close()
	for _, acct := range []string{"acct-1", "acct-2"} {
		evt := flagmigrate.Event{AccountID: acct, ID: "e1", Type: "signup", Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)}
		_ = store.StoreEvent(context.Background(), evt)
	}
	fmt.Println("old store:", oldStore.Len(), "new store:", newStore.Len())
	// Output: old store: 2 new store: 1
}

// Stage mode: one migration flag, each operation reported back to
// LaunchDarkly with TrackMigrationOp.
func ExampleFlags_StageFlag() {
	td := ldtestdata.DataSource()
	td.Update(td.Flag("events-migration").Variations(ldvalue.String("off"), ldvalue.String("live")).
		FallthroughVariationIndex(0).VariationIndexForKey(ldflags.AccountKind, "acct-1", 1))
	client, err := offlineClient(td)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	flags := ldflags.New(client)
	for _, acct := range []string{"acct-1", "acct-2"} {
		stage, _, err := flags.StageFlag(context.Background(), "events-migration", acct, true)
		fmt.Println(acct, stage, err)
	}
	// Output:
	// acct-1 live <nil>
	// acct-2 off <nil>
}
