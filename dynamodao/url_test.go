package dynamodao_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/google/go-cmp/cmp"
)

// An example of ParseURL: it only parses, so it runs offline.
func ExampleParseURL() {
	u, err := dynamodao.ParseURL("dynamodb://events?endpoint=http://127.0.0.1:8000&creds=local")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s %v\n", u.Table, u.Endpoint, u.LocalCredentials)
	_, err = dynamodao.ParseURL("dynamodb://events?regoin=eu-west-1")
	fmt.Println(err)
	// Output:
	// events http://127.0.0.1:8000 true
	// dynamodao: ParseURL: flagmigrate: invalid argument: dynamodb://events: unknown parameter "regoin" (known: region, profile, endpoint, creds)
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		reason string
		raw    string
		want   *dynamodao.URL
		err    string // in the error; "" when it parses
	}{
		{"a table alone: the AWS chain decides everything", "dynamodb://events", &dynamodao.URL{Table: "events"}, ""},
		{"every parameter", "dynamodb://events?region=eu-west-1&profile=p&endpoint=http://h:1&creds=local",
			&dynamodao.URL{Table: "events", Region: "eu-west-1", Profile: "p", Endpoint: "http://h:1", LocalCredentials: true}, ""},
		{"an https endpoint", "dynamodb://my.table-1?endpoint=https%3A%2F%2Fh%2Fx", &dynamodao.URL{Table: "my.table-1", Endpoint: "https://h/x"}, ""},
		{"misspelt parameter", "dynamodb://events?regoin=x", nil, `unknown parameter "regoin" (known: region, profile, endpoint, creds)`},
		{"a driver parameter of another store", "dynamodb://events?collection=x", nil, `unknown parameter "collection"`},
		{"parameter given twice", "dynamodb://events?region=a&region=b", nil, `parameter "region" given 2 times`},
		{"empty parameter", "dynamodb://events?profile=", nil, `parameter "profile" is empty`},
		{"local credentials without an endpoint", "dynamodb://events?creds=local", nil, "creds=local needs an endpoint"},
		{"unknown credentials kind", "dynamodb://events?endpoint=http://h&creds=static", nil, `creds="static": the only value is local`},
		{"endpoint not http", "dynamodb://events?endpoint=ftp://h", nil, "endpoint ftp://h is not an http(s) URL"},
		{"endpoint without a host", "dynamodb://events?endpoint=http://", nil, "is not an http(s) URL"},
		{"the endpoint's password is masked", "dynamodb://events?endpoint=" + url.QueryEscape("ftp://u:s3cret@h"), nil, "ftp://u:xxxxx@h"},
		{"user information before the table", "dynamodb://u:s3cret@events", nil, "a user or password has no place"},
		{"a path after the table", "dynamodb://events/x", nil, "no path"},
		{"no table", "dynamodb://?region=x", nil, "with a table name"},
		{"a table name DynamoDB refuses", "dynamodb://ab", nil, "not a DynamoDB table name"},
		{"another scheme", "mongodb://h/db", nil, `scheme "mongodb"`},
		{"not a URL", "dynamodb://e\x7f", nil, "not a URL"},
	}
	for _, tc := range tests {
		got, err := dynamodao.ParseURL(tc.raw)
		if tc.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.reason, err)
			} else if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, d)
			}
			continue
		}
		if !errors.Is(err, eventstore.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument containing %q", tc.reason, err, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", tc.reason, err)
		}
	}
}

// isolatedAWS points the AWS configuration of the test process at nothing:
// no profile files, no instance metadata, no AWS_* variables of the caller.
func isolatedAWS(t *testing.T) {
	none := t.TempDir() + "/none"
	for _, kv := range [][2]string{
		{"AWS_CONFIG_FILE", none}, {"AWS_SHARED_CREDENTIALS_FILE", none}, {"AWS_EC2_METADATA_DISABLED", "true"},
		{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", ""}, {"AWS_PROFILE", ""}, {"AWS_ENDPOINT_URL", ""},
		{"AWS_ENDPOINT_URL_DYNAMODB", ""}, {"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""},
	} {
		t.Setenv(kv[0], kv[1])
	}
}

func TestNewClientRegion(t *testing.T) {
	isolatedAWS(t)
	tests := []struct {
		reason string
		raw    string
		env    string // AWS_REGION
		want   string // the region, or the error
	}{
		{"the URL's region", "dynamodb://events?region=eu-west-1", "us-west-2", "eu-west-1"},
		{"AWS_REGION without one in the URL, never us-east-1", "dynamodb://events", "us-west-2", "us-west-2"},
		{"a local endpoint and no region: us-east-1", "dynamodb://events?endpoint=http://127.0.0.1:1&creds=local", "", dynamodao.LocalRegion},
		{"AWS_REGION with a local endpoint", "dynamodb://events?endpoint=http://127.0.0.1:1&creds=local", "ap-south-1", "ap-south-1"},
		{"AWS and no region: an error", "dynamodb://events", "", "no AWS region"},
		{"an AWS endpoint does not make a region", "dynamodb://events?endpoint=https://dynamodb.eu-west-1.amazonaws.com", "", "no AWS region"},
	}
	for _, tc := range tests {
		t.Setenv("AWS_REGION", tc.env)
		u, err := dynamodao.ParseURL(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		c, err := u.NewClient(t.Context(), nil)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = c.Options().Region
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.reason, got, tc.want)
		}
	}
}

// TestOpenURLOnServer opens a store by URL on the test server, with a logger
// that records the SDK's lines: an error response (a missing table, which
// DynamoDB Local answers without X-Amz-Crc32) gives the error and no
// checksum warning, and nothing is written to standard error by the SDK.
func TestOpenURLOnServer(t *testing.T) {
	isolatedAWS(t)
	existing, _ := newStore(t, nil, nil)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	endpoint := url.QueryEscape(testutil.DynamoEndpoint(t))
	open := func(tbl string) *dynamodao.Store {
		s, err := dynamodao.OpenURL(t.Context(), "dynamodb://"+tbl+"?endpoint="+endpoint+"&creds=local", &dynamodao.URLOptions{
			Logger: logger, LogMode: aws.LogRetries,
			LoadOptions: []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(1)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(existing.Table())
	e := fixture.Event("acct", "by-url", fixture.Base, map[string]any{"k": "v"})
	if err := s.StoreEvent(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindEventByID(t.Context(), "acct", "by-url"); err != nil || !eventstore.EqualEvents(got, fixture.Canonical(t, e)) {
		t.Errorf("FindEventByID = %v, %v", got, err)
	}
	missing := open("no_such_table_" + strings.ReplaceAll(t.Name(), "/", "_"))
	if _, err := missing.FindEventByID(t.Context(), "acct", "x"); err == nil || errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("FindEventByID on a missing table = %v, want the server's error", err)
	}
	if strings.Contains(logs.String(), "checksum") {
		t.Errorf("the SDK logged a checksum warning:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "source=aws-sdk") {
		t.Errorf("the SDK's lines (LogRetries) did not reach the logger:\n%s", logs.String())
	}
}
