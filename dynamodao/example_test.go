package dynamodao_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// The whole life of a store: create the table (idempotent), store an event,
// read it back, list a page. It needs AWS credentials or a local server
// (set BaseEndpoint), so it is compiled but not run.
func Example() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:8000") // a local server; omit for AWS
	})
	if err := dynamodao.CreateTable(ctx, client, "events"); err != nil {
		log.Fatal(err)
	}
	store, err := dynamodao.New(client, "events", nil)
	if err != nil {
		log.Fatal(err)
	}
	evt := flagmigrate.Event{
		AccountID: "acct-1", ID: "order-17", Type: "order.created",
		Time: time.Now(), Data: map[string]any{"amount": 1999, "currency": "EUR"},
	}
	if err := store.StoreEvent(ctx, evt); err != nil {
		log.Fatal(err)
	}
	got, err := store.FindEventByID(ctx, "acct-1", "order-17")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Data["amount"]) // int64(1999): integers stay integers
	page, err := store.ListEvents(ctx, "acct-1", flagmigrate.ListOptions{Limit: 50})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Events), page.NextCursor == "")
}

// A store named by a URL, as the CLI names it: the AWS configuration chain
// (environment, profile) fills in what the URL leaves out, and the SDK's log
// lines go to the program's slog logger. For DynamoDB Local:
// dynamodb://events?endpoint=http://127.0.0.1:8000&creds=local. It needs a
// server, so it is compiled but not run.
func ExampleOpenURL() {
	ctx := context.Background()
	store, err := dynamodao.OpenURL(ctx, "dynamodb://events?region=eu-west-1&profile=migration",
		&dynamodao.URLOptions{Logger: slog.Default()})
	if err != nil {
		log.Fatal(err) // a bad URL, an unknown parameter, no region, ...
	}
	if _, err := store.FindEventByID(ctx, "acct-1", "order-17"); err != nil {
		log.Print(err)
	}
}

// The table definition, for teams that create tables with their own tools.
func ExampleCreateTableInput() {
	in := dynamodao.CreateTableInput("events")
	fmt.Println("billing:", in.BillingMode)
	for _, k := range in.KeySchema {
		fmt.Println("key:", *k.AttributeName, k.KeyType)
	}
	for _, lsi := range in.LocalSecondaryIndexes {
		fmt.Print("index: ", *lsi.IndexName)
		for _, k := range lsi.KeySchema {
			fmt.Print(" ", *k.AttributeName, " ", k.KeyType)
		}
		fmt.Println(" projection", lsi.Projection.ProjectionType)
	}
	for _, a := range in.AttributeDefinitions {
		fmt.Println("attribute:", *a.AttributeName, a.AttributeType)
	}
	// Output:
	// billing: PAY_PER_REQUEST
	// key: pk HASH
	// key: sk RANGE
	// index: by_time pk HASH tk RANGE projection ALL
	// attribute: pk S
	// attribute: sk S
	// attribute: tk S
}

// A backfill step: a batch of events from the old store goes in with few
// round trips; events already there identically are skipped, conflicting
// ones reported, never overwritten.
func ExampleStore_StoreEvents() {
	ctx := context.Background()
	var client *dynamodb.Client // configured elsewhere
	store, err := dynamodao.New(client, "events", &dynamodao.Options{MaxAttempts: 8})
	if err != nil {
		log.Fatal(err)
	}
	var batch []flagmigrate.Event // read from the old store
	errs, err := store.StoreEvents(ctx, batch)
	if err != nil {
		log.Fatal(err) // the batch as a whole failed: retry it, it is idempotent
	}
	for i, err := range errs {
		if err != nil {
			log.Printf("event %v: %v", batch[i].Key(), err)
		}
	}
}

// Verify or copy the whole table with parallel workers, one per native scan
// segment; a worker that stops can resume after its last event.
func ExampleStore_ScanEvents() {
	ctx := context.Background()
	var client *dynamodb.Client // configured elsewhere
	store, err := dynamodao.New(client, "events", nil)
	if err != nil {
		log.Fatal(err)
	}
	const workers = 4
	var wg sync.WaitGroup
	for seg := range workers {
		wg.Go(func() {
			for evt, err := range store.ScanEvents(ctx, eventstore.ScanOptions{Segment: seg, Segments: workers}) {
				if err != nil {
					log.Print(err)
					return
				}
				_ = evt // copy or compare it; checkpoint evt.Key() to resume with ScanOptions.After
			}
		})
	}
	wg.Wait()
}
