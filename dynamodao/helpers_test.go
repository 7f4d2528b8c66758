package dynamodao_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The SDK's HTTP client keeps idle keep-alive connections.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// clients holds one client per endpoint for the whole test binary: a client
// per test would leave keep-alive connections behind.
var clients sync.Map // endpoint -> *dynamodb.Client

// client returns a client for the test server (skipping outside CI when
// there is none).
func client(t testing.TB) *dynamodb.Client {
	t.Helper()
	endpoint := testutil.DynamoEndpoint(t)
	if c, ok := clients.Load(endpoint); ok {
		return c.(*dynamodb.Client)
	}
	c, _ := clients.LoadOrStore(endpoint, testutil.DynamoClient(t))
	return c.(*dynamodb.Client)
}

// freshTable creates a table of its own for the test, deleted (asynchronously,
// by the server) when the test ends.
func freshTable(t testing.TB, c *dynamodb.Client) string {
	t.Helper()
	name := testutil.UniqueTableName(t)
	// A loaded machine makes CreateTable slow, not failed: it may take up
	// to the test's own deadline, as may its wait for ACTIVE.
	ctx, cancel := testutil.DeadlineContext(context.Background(), t)
	defer cancel()
	deadline, _ := ctx.Deadline()
	if err := dynamodao.CreateTable(ctx, c, name, dynamodao.WithWaitTimeout(time.Until(deadline))); err != nil {
		t.Fatalf("CreateTable(%s): %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := testutil.DeadlineContext(context.Background(), t)
		defer cancel()
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("DeleteTable(%s): %v", name, err)
		}
	})
	return name
}

// newStore returns a store on a fresh table, through api when it is not nil
// (a wrapper of the client), and the client.
func newStore(t testing.TB, wrap func(dynamodao.API) dynamodao.API, opts *dynamodao.Options) (*dynamodao.Store, *dynamodb.Client) {
	t.Helper()
	c := client(t)
	table := freshTable(t, c)
	var api dynamodao.API = c
	if wrap != nil {
		api = wrap(c)
	}
	s, err := dynamodao.New(api, table, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, c
}

// countingAPI counts the calls that reach the client.
type countingAPI struct {
	dynamodao.API
	calls atomic.Int64
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.calls.Add(1)
	return c.API.GetItem(ctx, in, o...)
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.calls.Add(1)
	return c.API.PutItem(ctx, in, o...)
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.calls.Add(1)
	return c.API.Query(ctx, in, o...)
}

func (c *countingAPI) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.calls.Add(1)
	return c.API.Scan(ctx, in, o...)
}

func (c *countingAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.calls.Add(1)
	return c.API.BatchWriteItem(ctx, in, o...)
}

func (c *countingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.calls.Add(1)
	return c.API.BatchGetItem(ctx, in, o...)
}

func (c *countingAPI) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, o ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	c.calls.Add(1)
	return c.API.CreateTable(ctx, in, o...)
}

func (c *countingAPI) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	c.calls.Add(1)
	return c.API.DescribeTable(ctx, in, o...)
}
