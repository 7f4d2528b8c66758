package mongodao_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/mongodao"
)

// The examples need a MongoDB server, so they are compiled but not run.

// A store on a collection: create its index once, then store and read.
func Example() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)

	store, err := mongodao.New(client.Database("app").Collection("events"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}

	evt := flagmigrate.Event{
		AccountID: "acct-42",
		ID:        "evt-1",
		Type:      "flag.toggled",
		Time:      time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		Data:      map[string]any{"flag": "dark-mode", "on": true},
	}
	if err := store.StoreEvent(ctx, evt); err != nil {
		log.Fatal(err)
	}
	got, err := store.FindEventByID(ctx, "acct-42", "evt-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Type, got.Data["flag"])

	// Storing the same key with other content changes nothing.
	evt.Data = map[string]any{"flag": "dark-mode", "on": false}
	if err := store.StoreEvent(ctx, evt); errors.Is(err, flagmigrate.ErrConflict) {
		fmt.Println("conflict")
	}
}

// Page through an account's events in (Time, ID) order.
func ExampleStore_ListEvents() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	store, err := mongodao.New(client.Database("app").Collection("events"), nil)
	if err != nil {
		log.Fatal(err)
	}

	opts := flagmigrate.ListOptions{Start: time.Now().Add(-24 * time.Hour), Limit: 50}
	for {
		page, err := store.ListEvents(ctx, "acct-42", opts)
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range page.Events {
			fmt.Println(e.Time.Format(time.RFC3339Nano), e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
}

// Stream one segment of the whole store with one cursor, resuming after a
// checkpoint.
func ExampleStore_ScanEvents() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	store, err := mongodao.New(client.Database("app").Collection("events"), &mongodao.Options{ScanBatchSize: 1000})
	if err != nil {
		log.Fatal(err)
	}

	checkpoint := &eventstore.EventKey{AccountID: "acct-42", ID: "evt-1"} // saved by an earlier run
	opts := eventstore.ScanOptions{Segment: 0, Segments: 4, After: checkpoint}
	for evt, err := range store.ScanEvents(ctx, opts) {
		if err != nil {
			log.Fatal(err) // resume later from the last checkpoint
		}
		k := evt.Key()
		checkpoint = &k
	}
	fmt.Println("done at", checkpoint.AccountID, checkpoint.ID)
}

// Store a batch: one error per event, nil for stored or already identical.
func ExampleStore_StoreEvents() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	store, err := mongodao.New(client.Database("app").Collection("events"), nil)
	if err != nil {
		log.Fatal(err)
	}

	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	errs, err := store.StoreEvents(ctx, []flagmigrate.Event{
		{AccountID: "acct-42", ID: "evt-2", Type: "t", Time: at},
		{AccountID: "acct-42", ID: "evt-3", Type: "t", Time: at.Add(time.Second)},
	})
	if err != nil {
		log.Fatal(err) // the batch as a whole failed
	}
	for i, err := range errs {
		if err != nil {
			fmt.Println("event", i, err)
		}
	}
}
