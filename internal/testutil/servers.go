package testutil

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/internal/localdynamo"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoURI returns $MONGODB_URI. When it is unset, the test is skipped, or
// fails when CI is true.
func MongoURI(t testing.TB) string {
	t.Helper()
	return serverEnv(t, "MONGODB_URI")
}

// DynamoEndpoint returns $DYNAMODB_ENDPOINT. When it is unset, the test is
// skipped, or fails when CI is true.
func DynamoEndpoint(t testing.TB) string {
	t.Helper()
	return serverEnv(t, "DYNAMODB_ENDPOINT")
}

func serverEnv(t testing.TB, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	SkipOrFail(t, name+" is not set: run scripts/test, or scripts/servers run -- go test ./..., or set "+name)
	return ""
}

// SkipOrFail skips the test for want of something the machine lacks (a
// server, a browser), saying why in msg; when CI is true, where nothing
// may be missing, it fails the test instead.
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg + " (CI is true, so this test may not skip)")
		return // for a testing.TB whose Fatal returns
	}
	t.Skip(msg)
}

// MongoClient returns a client connected to MongoURI. It has pinged the
// server, and is disconnected when the test ends.
func MongoClient(t testing.TB) *mongo.Client {
	t.Helper()
	uri := MongoURI(t)
	// No bound shorter than the test's own: a loaded machine's server is
	// slow, not gone (the outage tests use clients of their own).
	wait := time.Until(Deadline(t))
	opts := options.Client().ApplyURI(uri).
		SetConnectTimeout(wait).
		SetServerSelectionTimeout(wait)
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatalf("connect to MongoDB at %s: %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := DeadlineContext(context.Background(), t)
		defer cancel()
		if err := client.Disconnect(ctx); err != nil {
			t.Errorf("disconnect from MongoDB: %v", err)
		}
	})
	ctx, cancel := DeadlineContext(context.Background(), t)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("ping MongoDB at %s: %v", uri, err)
	}
	return client
}

// FreshCollection returns a collection in a database of its own, named after
// the test. The database is dropped when the test ends.
func FreshCollection(t testing.TB) *mongo.Collection {
	t.Helper()
	db := MongoClient(t).Database(uniqueName(t, 63))
	t.Cleanup(func() {
		ctx, cancel := DeadlineContext(context.Background(), t)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("drop database %s: %v", db.Name(), err)
		}
	})
	return db.Collection("test")
}

// DynamoClient returns a DynamoDB client for DynamoEndpoint (see
// [LocalDynamoClient]), with backoffs of at most 200ms. It has checked that
// the server answers. Its idle connections are closed when the test ends, so
// goroutine-leak checks see none.
func DynamoClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	endpoint := DynamoEndpoint(t)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	client := LocalDynamoClient(t, endpoint, &http.Client{Transport: transport}, 200*time.Millisecond)
	ctx, cancel := DeadlineContext(context.Background(), t)
	defer cancel()
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		t.Fatalf("DynamoDB at %s does not answer: %v", endpoint, err)
	}
	return client
}

// LocalDynamoClient returns a client for the DynamoDB-API server at
// endpoint, opened as the CLI opens
// dynamodb://TABLE?endpoint=ENDPOINT&creds=local (see package localdynamo).
// It sends its requests through hc and retries quickly, as local servers
// fail fast: at most three attempts, backoffs of at most maxBackoff, and no
// client-side retry quota, so that an outage cannot starve the recovery
// after it. It makes no request.
func LocalDynamoClient(t testing.TB, endpoint string, hc *http.Client, maxBackoff time.Duration) *dynamodb.Client {
	t.Helper()
	client, err := localdynamo.NewClient(context.Background(), endpoint, hc, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.MaxBackoff = maxBackoff
			o.RateLimiter = ratelimit.None
		})
	})
	if err != nil {
		t.Fatalf("DynamoDB client for %s: %v", endpoint, err)
	}
	return client
}

// UniqueTableName returns a DynamoDB table name made of the test's name and
// a random suffix. It creates no table.
func UniqueTableName(t testing.TB) string {
	t.Helper()
	return uniqueName(t, 255)
}

// uniqueName returns "t_<test name>_<random>", at most maxLen bytes long, made
// only of ASCII letters, digits and underscores: valid as a MongoDB (and
// FerretDB) database name and as a DynamoDB table name.
func uniqueName(t testing.TB, maxLen int) string {
	suffix := fmt.Sprintf("_%012x", rand.Uint64()&(1<<48-1))
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, t.Name())
	name = "t_" + name
	if keep := maxLen - len(suffix); len(name) > keep {
		name = name[:keep]
	}
	return name + suffix
}

// WithRoundTrip returns a copy of client whose every request first waits
// rtt, as between a service and AWS: a local server answers in
// microseconds, which hides what batching and concurrency save. (The wait
// is a timer: on a loaded machine it can be up to a millisecond longer.)
func WithRoundTrip(t testing.TB, client *dynamodb.Client, rtt time.Duration) *dynamodb.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: slowTransport{transport, rtt}}
	})
}

// slowTransport adds a round trip to every request.
type slowTransport struct {
	http.RoundTripper
	rtt time.Duration
}

func (t slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(t.rtt)
	return t.RoundTripper.RoundTrip(r)
}
