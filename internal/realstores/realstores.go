// Package realstores opens fresh MongoDB and DynamoDB stores on the test
// servers (see package testutil), for the tests that use both drivers:
// backfill, the CLI. The drivers' own tests do not use it (it imports them).
package realstores

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Mongo returns a store on a fresh collection (see testutil.FreshCollection)
// with its indexes, and the collection.
func Mongo(t testing.TB) (*mongodao.Store, *mongo.Collection) {
	t.Helper()
	coll := testutil.FreshCollection(t)
	s, err := mongodao.New(coll, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, coll
}

// Dynamo returns a store on a fresh table, created through client (nil:
// testutil.DynamoClient), and the table's name.
func Dynamo(t testing.TB, client *dynamodb.Client) (*dynamodao.Store, string) {
	t.Helper()
	if client == nil {
		client = testutil.DynamoClient(t)
	}
	table := testutil.UniqueTableName(t)
	if err := dynamodao.CreateTable(context.Background(), client, table); err != nil {
		t.Fatal(err)
	}
	s, err := dynamodao.New(client, table, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, table
}
