package dynamodao_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// A record table and a store on it: the authoritative store's versions
// are written as they are, and an older one arriving late loses. It needs
// AWS credentials or a local server, so it is compiled but not run.
func ExampleNewRecordStore() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:8000") // a local server; omit for AWS
	})
	if err := dynamodao.CreateRecordTable(ctx, client, "settings"); err != nil {
		log.Fatal(err)
	}
	store, err := dynamodao.NewRecordStore(client, "settings", nil)
	if err != nil {
		log.Fatal(err)
	}
	v7 := recordstore.Record{AccountID: "acct-1", ID: "theme", Version: 7, Data: map[string]any{"mode": "dark"}}
	v6 := recordstore.Record{AccountID: "acct-1", ID: "theme", Version: 6, Data: map[string]any{"mode": "light"}}
	fmt.Println(store.PutIfNewer(ctx, v7)) // applied <nil>
	fmt.Println(store.PutIfNewer(ctx, v6)) // stale <nil>
}

// The record table's definition, for tools that create tables themselves.
func ExampleCreateRecordTableInput() {
	in := dynamodao.CreateRecordTableInput("settings")
	for _, k := range in.KeySchema {
		fmt.Println(*k.AttributeName, k.KeyType)
	}
	fmt.Println(in.BillingMode, len(in.LocalSecondaryIndexes)+len(in.GlobalSecondaryIndexes))
	// Output:
	// pk HASH
	// sk RANGE
	// PAY_PER_REQUEST 0
}
