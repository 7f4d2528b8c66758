package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// The brake takes an account whose new store keeps failing off dual reads:
// after the minimum sample its reads are served by the old store alone,
// until its flags change. (The store's breaker takes it as down after five
// failed reads: the dual reads after those compare it as failed without
// reading it, which the brake counts as errors too.)
func ExampleWithBrake() {
	ctx := context.Background()
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", true).
		Set("events-mongo-read", true).Set("events-dynamo-read", true)
	oldStore := memstore.New()
	newStore := testutil.NewFaultStore("new", memstore.New(), nil).
		Set(eventstore.OpFindEventByID, testutil.Fault{Err: errors.New("throttled")})
	store, _ := flagmigrate.NewMigratingStore(oldStore, newStore, flags,
		flagmigrate.WithBrake(flagmigrate.BrakeOptions{}),
		flagmigrate.WithObserver(migration.Observer{})) // the default logs the trip at Error
	defer store.Close()
	_ = store.StoreEvent(ctx, fixture.WithValue("acct-1", "e1", 1))

	for range 60 { // the write above was one good sample
		_, _ = store.FindEventByID(ctx, "acct-1", "e1")
	}
	for _, b := range store.Brakes() {
		fmt.Println(b.AccountID, b.Reason, b.Bad, "of", b.Samples)
	}
	fmt.Println("new store reads:", newStore.Count(eventstore.OpFindEventByID))

	flags.Set("events-dynamo-read", false) // an operator turns the account's dual reads off
	_, _ = store.FindEventByID(ctx, "acct-1", "e1")
	fmt.Println("braked after the flag change:", len(store.Brakes()))
	// Output:
	// acct-1 errors 49 of 50
	// new store reads: 5
	// braked after the flag change: 0
}
