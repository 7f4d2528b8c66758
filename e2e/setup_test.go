package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// slowServer is a reverse proxy to endpoint that holds every request for
// delay first: a server on a loaded machine. It is closed when the test
// ends.
func slowServer(t *testing.T, endpoint string, delay time.Duration) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	proxy.Transport = tr
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay) // the slowness simulated, not a bound
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	return srv.URL
}

// TestSetupOnASlowServer: a test's setup (creating its table) succeeds on
// a server that takes longer to answer than the fast-failing clients the
// outage tests use for their traffic (an attempt bounded by a second):
// setup waits as long as the test may run, never a fixed short time.
func TestSetupOnASlowServer(t *testing.T) {
	endpoint := slowServer(t, testutil.DynamoEndpoint(t), 1500*time.Millisecond)
	createTable(t, endpoint, testutil.UniqueTableName(t))
}

// createTable creates table at endpoint for a test's setup, deleted when
// the test ends. Its client is not the traffic's: no attempt timeout, and
// CreateTable and its wait for ACTIVE are bounded by the test's own
// deadline (testutil.Deadline), so that a loaded machine's slow server
// makes the setup slow, not failed.
func createTable(t testing.TB, endpoint, table string) {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	client := testutil.LocalDynamoClient(t, endpoint, &http.Client{Transport: tr}, 100*time.Millisecond)
	ctx, cancel := testutil.DeadlineContext(t.Context(), t)
	defer cancel()
	if err := dynamodao.CreateTable(ctx, client, table, dynamodao.WithWaitTimeout(time.Until(testutil.Deadline(t)))); err != nil {
		t.Fatalf("CreateTable %s: %v", table, err)
	}
	t.Cleanup(func() {
		// The test's context is cancelled when cleanups run.
		ctx, cancel := testutil.DeadlineContext(context.Background(), t)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("DeleteTable %s: %v", table, err)
		}
	})
}
