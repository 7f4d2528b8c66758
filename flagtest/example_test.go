package flagtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
)

// A unit test sets the four flags per account and checks where the events
// went.
func ExampleNew() {
	flags := flagtest.New().
		Set("events-mongo-write", true).Set("events-dynamo-write", false).
		Set("events-mongo-read", true).Set("events-dynamo-read", false).
		SetFor("events-dynamo-write", "acct-beta", true) // one account writes both
	oldStore, newStore := memstore.New(), memstore.New()
	store, _ := flagmigrate.NewMigratingStore(oldStore, newStore, flags, flagmigrate.WithRoutingCheck(-1))
	defer store.Close()

	for _, acct := range []string{"acct-beta", "acct-other"} {
		_ = store.StoreEvent(context.Background(), flagmigrate.Event{
			AccountID: acct, ID: "e1", Type: "signup", Time: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		})
	}
	fmt.Println("old:", oldStore.Len(), "new:", newStore.Len())
	fmt.Println(flags.EvaluatedKeys()[:2])
	// Output:
	// old: 2 new: 1
	// [events-mongo-write events-dynamo-write]
}
