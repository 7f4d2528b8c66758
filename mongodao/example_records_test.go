package mongodao_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// A record store on a collection of its own: a read-modify-write by
// compare-and-set, retried on a version conflict, then the same version
// copied where it is already known. It needs a MongoDB server, so it is
// compiled but not run.
func ExampleNewRecordStore() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	store, err := mongodao.NewRecordStore(client.Database("app").Collection("settings"), nil)
	if err != nil {
		log.Fatal(err)
	}
	var saved recordstore.Record
	for {
		cur, err := store.Get(ctx, "acct-42", "notifications")
		var expected int64
		switch {
		case errors.Is(err, recordstore.ErrNotFound):
		case err != nil:
			log.Fatal(err)
		default:
			expected = cur.Version
		}
		saved, err = store.CompareAndSet(ctx, "acct-42", "notifications", expected, map[string]any{"email": false})
		if errors.Is(err, recordstore.ErrVersionConflict) {
			continue // updated meanwhile: read again
		}
		if err != nil {
			log.Fatal(err)
		}
		break
	}
	// Copying the same version again (a backfill, a repair) changes nothing.
	outcome, err := store.PutIfNewer(ctx, saved)
	fmt.Println(outcome, err) // stale <nil>
}
