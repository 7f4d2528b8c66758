package localdynamo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/localdynamo"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The URL is the one the CLI takes for a local server, endpoint escaped.
func TestURL(t *testing.T) {
	for _, tc := range []struct {
		reason, endpoint string
	}{
		{"a plain endpoint", "http://127.0.0.1:8000"},
		{"an endpoint with a path and a query of its own", "http://127.0.0.1:8000/x?a=b&c=d"},
	} {
		u, err := dynamodao.ParseURL(localdynamo.URL(tc.endpoint, "events"))
		if err != nil {
			t.Errorf("%s: ParseURL: %v", tc.reason, err)
			continue
		}
		want := dynamodao.URL{Table: "events", Endpoint: tc.endpoint, LocalCredentials: true}
		if *u != want {
			t.Errorf("%s: parsed %+v, want %+v", tc.reason, *u, want)
		}
	}
}

// A bad endpoint is refused before any request, as the CLI refuses it.
func TestNewClientRefusesABadEndpoint(t *testing.T) {
	for _, endpoint := range []string{"127.0.0.1:8000", "ftp://127.0.0.1", ""} {
		if _, err := localdynamo.NewClient(t.Context(), endpoint, nil); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Errorf("NewClient(%q) = %v, want ErrInvalidArgument", endpoint, err)
		}
	}
}

func TestNewClientTargetsTheEndpoint(t *testing.T) {
	endpoint := "http://127.0.0.1:8000"
	c, err := localdynamo.NewClient(t.Context(), endpoint, nil, func(o *dynamodb.Options) { o.RetryMaxAttempts = 7 })
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	if got := aws.ToString(o.BaseEndpoint); got != endpoint {
		t.Errorf("BaseEndpoint = %q, want %q", got, endpoint)
	}
	if o.RetryMaxAttempts != 7 {
		t.Errorf("RetryMaxAttempts = %d: the caller's option was not applied", o.RetryMaxAttempts)
	}
	creds, err := o.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "local" {
		t.Errorf("credentials %q, %v; want the static local ones", creds.AccessKeyID, err)
	}
}

// Open creates the table and stores in it; close deletes it.
func TestOpenOnTheServer(t *testing.T) {
	endpoint := testutil.DynamoEndpoint(t)
	table := testutil.UniqueTableName(t)
	s, closeFn, err := localdynamo.Open(t.Context(), endpoint, table)
	if err != nil {
		t.Fatal(err)
	}
	e := fixture.Nth("acct", "e-1", 1)
	fixture.Store(t, s, e)
	if got, err := s.FindEventByID(t.Context(), "acct", "e-1"); err != nil || !eventstore.EqualEvents(got, e) {
		t.Errorf("FindEventByID = %+v, %v; want %+v", got, err, e)
	}
	closeFn()
	d, err := testutil.DynamoClient(t).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *types.ResourceNotFoundException
	switch {
	case err == nil && d.Table.TableStatus != types.TableStatusDeleting: // DeleteTable may be asynchronous
		t.Errorf("table %s is %s after close, want it deleted", table, d.Table.TableStatus)
	case err != nil && !errors.As(err, &notFound):
		t.Errorf("DescribeTable after close: %v, want ResourceNotFoundException", err)
	}
}
