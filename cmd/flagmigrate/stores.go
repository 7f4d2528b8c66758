package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// store is an opened store and how to let it go.
type store struct {
	flagmigrate.EventStore
	name  string // the URL without credentials, for messages
	close func()
	// warnings are printed when the store is opened (missing indexes).
	warnings []string
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
  mongodb://HOST:PORT/DATABASE?collection=events   (also mongodb+srv://;
      collection defaults to "events"; other query parameters go to the driver,
      which must know them)
      An existing collection in its application's own layout:
      mongodb://HOST/DB?collection=COLL&account=accountId&id=_id&type=kind&time=createdAt&data=payload
        account, id, type, time, data  the fields of the event's account ID, ID,
                     type, time and data (all five; data=* is every other field)
        idformat     string (default), objectid, int or uuid (binary UUID)
        timeformat   date (default), unixms, unix or rfc3339
        nestedlists  native (default) or wrap (for FerretDB v1)
        timeprecision  exact (default) or truncate: read rfc3339 times finer
                     than a millisecond truncated (lossy)
        timeoffset   Z (default), +hh:mm, -hh:mm or mixed: the offset of the
                     rfc3339 strings, written with and listed by
        deleted=FIELD[:TYPE:VALUE]  soft deletes: documents whose FIELD is
                     VALUE (default true) are absent; deletes set it
        deletedat    the field a delete sets to its time
        const=FIELD:TYPE:VALUE  a field every insert writes (repeatable;
                     TYPE string, bool, int32, int64 or double)
        numtype=PATH:TYPE  the BSON number type of a data field, such as
                     payload.count:int32 (repeatable)
        uuid=PATH    a data field holding binary UUIDs (repeatable)
        uuidrep      standard (default, subtype 4), javalegacy, csharplegacy
                     or pythonlegacy (subtype 3)
  dynamodb://TABLE[?region=R][&profile=P][&endpoint=URL][&creds=local]
      The AWS configuration chain, as the AWS CLI's: region from region=, else
      AWS_REGION or the profile (us-east-1 only for a non-AWS endpoint); profile
      from profile=, else AWS_PROFILE; endpoint from endpoint=, else
      AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or the profile; credentials
      from the chain, or the static "local" ones with creds=local (needs
      endpoint=, for DynamoDB Local). Other parameters are refused.`

// openStore opens the store a URL names, checking that it answers within
// timeout and that its collection or table exists.
func openStore(ctx context.Context, raw string, mode openMode, ds dynamoSettings, timeout time.Duration) (*store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad store URL %q: %s", raw, parseProblem(err))
	}
	switch u.Scheme {
	case "mongodb", "mongodb+srv":
		return openMongo(ctx, u, mode, timeout)
	case "dynamodb":
		return openDynamo(ctx, raw, mode, ds, timeout)
	case "":
		return nil, fmt.Errorf("bad store URL %q: no scheme (want mongodb:// or dynamodb://)", raw)
	default:
		return nil, fmt.Errorf("bad store URL %q: unknown scheme %q (want mongodb:// or dynamodb://)", raw, u.Scheme)
	}
}

// openMongo opens a mongodb:// store with [mongodao.OpenURL] (which refuses
// unknown parameters by name), then checks that the server answers within
// timeout and prepares or checks the collection for mode.
func openMongo(ctx context.Context, u *url.URL, mode openMode, timeout time.Duration) (*store, error) {
	s, err := mongodao.OpenURL(ctx, u.String(), &mongodao.URLOptions{Client: func(o *options.ClientOptions) {
		o.SetServerSelectionTimeout(timeout).SetConnectTimeout(timeout)
	}})
	if err != nil {
		return nil, err
	}
	coll := s.Collection()
	name := fmt.Sprintf("MongoDB %s (%s.%s)", u.Host, coll.Database().Name(), coll.Name())
	if !s.Layout().IsDefault() {
		name += " in the layout " + s.Layout().String()
	}
	closeClient := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := coll.Database().Client().Ping(pctx, nil); err != nil {
		closeClient()
		return nil, fmt.Errorf("cannot reach %s: %v", name, firstLine(err))
	}
	if mode == asSource {
		names, err := coll.Database().ListCollectionNames(pctx, map[string]any{"name": coll.Name()})
		if err != nil {
			closeClient()
			return nil, fmt.Errorf("%s: listing collections: %v", name, firstLine(err))
		}
		if !slices.Contains(names, coll.Name()) {
			closeClient()
			return nil, fmt.Errorf("%s: collection %q does not exist in database %q", name, coll.Name(), coll.Database().Name())
		}
	}
	var warnings []string
	if mode == asDestination {
		if err := s.EnsureIndexes(pctx); err != nil {
			closeClient()
			return nil, fmt.Errorf("%s: creating indexes: %v", name, firstLine(err))
		}
	} else if warnings, err = s.CheckIndexes(pctx); err != nil {
		closeClient()
		return nil, fmt.Errorf("%s: listing indexes: %v", name, firstLine(err))
	}
	return &store{EventStore: s, name: name, close: closeClient, warnings: warnings}, nil
}

// dynamoSettings are the command's settings for a DynamoDB store.
type dynamoSettings struct {
	createTable   bool          // create a missing destination table
	createTimeout time.Duration // bounds CreateTable and its wait for ACTIVE
	logger        *slog.Logger  // receives the AWS SDK's lines; nil: dropped
}

// openDynamo opens a dynamodb:// store with [dynamodao.ParseURL]'s AWS
// configuration chain. The connect timeout bounds the first DescribeTable;
// --create-table's CreateTable and its wait have their own bound.
func openDynamo(ctx context.Context, raw string, mode openMode, ds dynamoSettings, timeout time.Duration) (*store, error) {
	u, err := dynamodao.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("bad store URL: %v", firstLine(err))
	}
	logMode := aws.ClientLogMode(0)
	if ds.logger != nil {
		logMode = aws.LogRetries
	}
	client, err := u.NewClient(ctx, &dynamodao.URLOptions{
		Logger:  ds.logger,
		LogMode: logMode,
		ClientOptions: []func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.RetryMaxAttempts = 2
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("dynamodb://%s: %v", u.Table, firstLine(err))
	}
	table := u.Table
	name := fmt.Sprintf("DynamoDB table %s at %s", table, dynamodao.Where(client))
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = client.DescribeTable(dctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound) && mode == asDestination && ds.createTable:
		cctx, cancel := context.WithTimeout(ctx, ds.createTimeout)
		defer cancel()
		if err := dynamodao.CreateTable(cctx, client, table, dynamodao.WithWaitTimeout(ds.createTimeout)); err != nil {
			return nil, fmt.Errorf("%s: creating the table (--create-timeout %v): %v", name, ds.createTimeout, firstLine(err))
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

// firstLine is err's first line without the library's package prefixes
// (see message).
func firstLine(err error) string {
	return message(err)
}
