package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/localdynamo"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/mongodao"
)

// result is what a run found.
type result struct {
	stats      backfill.Stats
	outcome    backfill.Outcome
	report     backfill.Report
	unreadable []backfill.Unreadable
	seeded     realstores.OldApp
	unchanged  bool
}

// ok reports whether the run went as the story says: every readable event
// copied, each unreadable document listed, verify clean, the old collection
// untouched.
func (r result) ok() bool {
	return r.outcome == backfill.CompletedUnreadable && r.report.Clean() && r.unchanged &&
		r.stats.Copied == int64(r.seeded.Good-1) && len(r.unreadable) == len(r.seeded.Unreadable)+2
}

func run(ctx context.Context, w io.Writer, cfg config) (result, error) {
	var res result
	if cfg.mongoURI == "" || cfg.dynamoEndpoint == "" {
		return res, errors.New("set -mongo and -dynamo (or MONGODB_URI and DYNAMODB_ENDPOINT)")
	}
	if cfg.documents < 10 {
		cfg.documents = 10
	}
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())

	// 1. The collection as the older application wrote it.
	client, err := mongo.Connect(options.Client().ApplyURI(cfg.mongoURI).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		return res, err
	}
	db := client.Database("flagmigrate_existing_" + suffix)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
	}()
	coll := db.Collection("events")
	if res.seeded, err = realstores.SeedOldApp(ctx, coll, cfg.documents, 5); err != nil {
		return res, fmt.Errorf("seeding: %w", err)
	}
	var sample bson.D
	if err := coll.FindOne(ctx, bson.D{}).Decode(&sample); err != nil {
		return res, err
	}
	before, _ := coll.CountDocuments(ctx, bson.D{})
	fmt.Fprintf(w, "1. seeded %d documents as the old application wrote them, such as\n%s\n", before, indent(fmt.Sprint(sample)))

	// 2. Wrap it, as it is, with the layout the store URL declares.
	raw, err := storeURL(cfg.mongoURI, db.Name(), coll.Name())
	if err != nil {
		return res, err
	}
	u, err := mongodao.ParseURL(raw)
	if err != nil {
		return res, err
	}
	old, err := u.NewStore(client)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "2. wrapped %s\n", u.Redacted())
	warnings, err := old.CheckIndexes(ctx)
	if err != nil {
		return res, err
	}
	for _, warn := range warnings {
		fmt.Fprintf(w, "   warning: %s\n", warn)
	}

	// 3. Backfill into DynamoDB.
	nu, closeDynamo, err := localdynamo.Open(ctx, cfg.dynamoEndpoint, "existing_"+suffix)
	if err != nil {
		return res, fmt.Errorf("DynamoDB: %w", err)
	}
	defer closeDynamo()
	opts := backfill.Options{OnUnreadable: func(e *eventstore.UnreadableError) {
		res.unreadable = append(res.unreadable, backfill.UnreadableOf("source", e))
	}}
	res.stats, err = backfill.Run(ctx, old, nu, opts)
	res.outcome = res.stats.Outcome(err)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "3. backfill: scanned %d, copied %d, skipped %d, unreadable %d: %s\n",
		res.stats.Scanned, res.stats.Copied, res.stats.Skipped, res.stats.Unreadable, res.outcome)

	// 4. Verify.
	if res.report, err = backfill.Verify(ctx, old, nu, backfill.VerifyOptions{}); err != nil {
		return res, err
	}
	fmt.Fprintf(w, "4. verify: %s\n", res.report)

	// 5. The documents that could not be read, for someone to fix by hand.
	fmt.Fprintf(w, "5. unreadable documents (%d):\n", len(res.unreadable))
	for _, x := range res.unreadable {
		fmt.Fprintf(w, "   %s\n", x)
	}

	// 6. Nothing in the old collection changed.
	after, _ := coll.CountDocuments(ctx, bson.D{})
	indexes, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return res, err
	}
	res.unchanged = after == before && len(indexes) == 1 // _id's only
	fmt.Fprintln(w, "6. checks:")
	check(w, res.stats.Copied == int64(res.seeded.Good-1), "every readable event copied (all but the two holding one key)")
	check(w, len(res.unreadable) == len(res.seeded.Unreadable)+2, "each unreadable document listed with its _id and reason")
	check(w, res.report.Clean(), "verify: nothing missing, nothing different")
	check(w, res.unchanged, "the old collection is unchanged (same documents, no index added)")
	if res.ok() {
		fmt.Fprintln(w, "PASS")
	} else {
		fmt.Fprintln(w, "FAIL")
	}
	return res, nil
}
