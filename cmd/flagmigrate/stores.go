package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// store is an opened store and how to let it go.
type store struct {
	flagmigrate.EventStore
	name  string // the URL without credentials, for messages
	close func()
}

// openMode says what the store is for: a source must already hold its
// events; a destination may be prepared (indexes; a table with --create-table).
type openMode int

const (
	asSource openMode = iota
	asDestination
)

// storeURLHelp documents the accepted store URLs.
const storeURLHelp = `Store URLs:
  mongodb://HOST:PORT/DATABASE?collection=events   (also mongodb+srv://; other
      query parameters go to the driver; collection defaults to "events")
  dynamodb://TABLE?endpoint=http://HOST:PORT&region=us-east-1
      (endpoint is optional: without it the AWS default configuration is used;
      with it and no AWS_ACCESS_KEY_ID set, static local credentials are used)`

// openStore opens the store a URL names, checking that it answers within
// timeout and that its collection or table exists.
func openStore(ctx context.Context, raw string, mode openMode, createTable bool, timeout time.Duration) (*store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad store URL %q: %s", raw, parseProblem(err))
	}
	switch u.Scheme {
	case "mongodb", "mongodb+srv":
		return openMongo(ctx, u, mode, timeout)
	case "dynamodb":
		return openDynamo(ctx, u, mode, createTable, timeout)
	case "":
		return nil, fmt.Errorf("bad store URL %q: no scheme (want mongodb:// or dynamodb://)", raw)
	default:
		return nil, fmt.Errorf("bad store URL %q: unknown scheme %q (want mongodb:// or dynamodb://)", raw, u.Scheme)
	}
}

func openMongo(ctx context.Context, u *url.URL, mode openMode, timeout time.Duration) (*store, error) {
	db := strings.Trim(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, fmt.Errorf("bad store URL %q: want mongodb://HOST/DATABASE?collection=NAME", u.Redacted())
	}
	q := u.Query()
	coll := q.Get("collection")
	if coll == "" {
		coll = "events"
	}
	q.Del("collection")
	u.RawQuery = q.Encode()
	name := fmt.Sprintf("MongoDB %s (%s.%s)", u.Host, db, coll)
	client, err := mongo.Connect(options.Client().ApplyURI(u.String()).SetServerSelectionTimeout(timeout).SetConnectTimeout(timeout))
	if err != nil {
		return nil, fmt.Errorf("bad store URL %q: %v", u.Redacted(), err)
	}
	closeClient := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		closeClient()
		return nil, fmt.Errorf("cannot reach %s: %v", name, firstLine(err))
	}
	if mode == asSource {
		names, err := client.Database(db).ListCollectionNames(pctx, map[string]any{"name": coll})
		if err != nil {
			closeClient()
			return nil, fmt.Errorf("%s: listing collections: %v", name, firstLine(err))
		}
		if !slices.Contains(names, coll) {
			closeClient()
			return nil, fmt.Errorf("%s: collection %q does not exist in database %q", name, coll, db)
		}
	}
	s, err := mongodao.New(client.Database(db).Collection(coll), nil)
	if err != nil {
		closeClient()
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if mode == asDestination {
		if err := s.EnsureIndexes(pctx); err != nil {
			closeClient()
			return nil, fmt.Errorf("%s: creating indexes: %v", name, firstLine(err))
		}
	}
	return &store{EventStore: s, name: name, close: closeClient}, nil
}

func openDynamo(ctx context.Context, u *url.URL, mode openMode, createTable bool, timeout time.Duration) (*store, error) {
	table := u.Host
	if table == "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("bad store URL %q: want dynamodb://TABLE?endpoint=URL&region=REGION", u.Redacted())
	}
	q := u.Query()
	region := q.Get("region")
	if region == "" {
		region = "us-east-1"
	}
	endpoint := q.Get("endpoint")
	loadOpts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if endpoint != "" {
		if e, err := url.Parse(endpoint); err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return nil, fmt.Errorf("bad store URL %q: endpoint %q is not an http(s) URL", u.Redacted(), endpoint)
		}
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			loadOpts = append(loadOpts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %v", err)
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.RetryMaxAttempts = 2
	})
	where := endpoint
	if where == "" {
		where = "AWS " + region
	}
	name := fmt.Sprintf("DynamoDB %s (table %s)", where, table)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = client.DescribeTable(dctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound) && mode == asDestination && createTable:
		if err := dynamodao.CreateTable(dctx, client, table); err != nil {
			return nil, fmt.Errorf("%s: creating the table: %v", name, firstLine(err))
		}
	case errors.As(err, &notFound):
		hint := ""
		if mode == asDestination {
			hint = "; pass --create-table to create it"
		}
		return nil, fmt.Errorf("%s: table %q does not exist%s", name, table, hint)
	case err != nil:
		return nil, fmt.Errorf("cannot reach %s: %v", name, firstLine(err))
	}
	s, err := dynamodao.New(client, table, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &store{EventStore: s, name: name, close: func() {}}, nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
