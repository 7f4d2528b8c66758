// Command existingcollection migrates a MongoDB collection that an older
// application wrote in its own layout, without changing it: it seeds such a
// collection (ObjectID _ids, the application's field names, int32 numbers,
// extra fields, a few documents no layout can read and one event written
// twice by a retry), wraps it with a declared layout taken from the store
// URL, backfills it into DynamoDB, verifies, and prints the report of the
// documents it could not read.
//
//	go run ./examples/existingcollection -mongo mongodb://127.0.0.1:27017 -dynamo http://127.0.0.1:8000
//
// (MONGODB_URI and DYNAMODB_ENDPOINT are used when set, as the flags.) It
// works on a fresh database and table of its own, dropped at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.mongoURI, "mongo", os.Getenv("MONGODB_URI"), "MongoDB URI (required)")
	flag.StringVar(&cfg.dynamoEndpoint, "dynamo", os.Getenv("DYNAMODB_ENDPOINT"), "DynamoDB endpoint (required)")
	flag.IntVar(&cfg.documents, "documents", 2000, "well-formed documents to seed")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, os.Stdout, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "existingcollection:", err)
		os.Exit(1)
	}
	if !res.ok() {
		os.Exit(1)
	}
}

// config is what a run is made of.
type config struct {
	mongoURI, dynamoEndpoint string
	documents                int
}

// storeURL is the store URL of the seeded collection with its layout: the
// same parameters that "flagmigrate backfill --from" takes.
func storeURL(mongoURI, db, coll string) (string, error) {
	u, err := url.Parse(mongoURI)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	q := u.Query()
	for k, v := range map[string]string{
		"collection": coll,
		"account":    "accountId",
		"id":         "eventId", // the application's own event ID (its _id is an ObjectID)
		"type":       "kind",
		"time":       "createdAt",
		"data":       "payload",
	} {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func check(w io.Writer, ok bool, what string) bool {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
	}
	fmt.Fprintf(w, "%s %s\n", mark, what)
	return ok
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
