// Package localdynamo opens DynamoDB clients and stores on a DynamoDB-API
// server given by its endpoint URL (DynamoDB Local, for example), for the
// examples and the tests. It goes through dynamodao's URL opener with the
// URL the CLI takes for such a server,
//
//	dynamodb://TABLE?endpoint=ENDPOINT&creds=local
//
// so that the examples, the tests and the CLI configure their clients in one
// place ([dynamodao.URL.NewClient]): the static local credentials, the
// region (AWS_REGION, else [dynamodao.LocalRegion]), no response checksum
// validation, the SDK's log lines discarded.
package localdynamo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/dynamodao"
)

// clientTable names the table of the URL that [NewClient] opens: a client
// is not bound to a table, the name shows only in the opener's errors.
const clientTable = "any-table"

// URL returns the store URL of table on the server at endpoint, with the
// local credentials: dynamodb://TABLE?endpoint=ENDPOINT&creds=local.
func URL(endpoint, table string) string {
	return "dynamodb://" + table + "?endpoint=" + url.QueryEscape(endpoint) + "&creds=local"
}

// NewClient returns a client for the server at endpoint, made by
// [dynamodao.URL.NewClient] for [URL](endpoint, ...). It sends its requests
// through hc (nil: the SDK's default HTTP client); opts are applied to the
// client's options last. It makes no request.
func NewClient(ctx context.Context, endpoint string, hc *http.Client, opts ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	u, err := dynamodao.ParseURL(URL(endpoint, clientTable))
	if err != nil {
		return nil, err
	}
	if hc != nil {
		opts = append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.HTTPClient = hc }}, opts...)
	}
	return u.NewClient(ctx, &dynamodao.URLOptions{ClientOptions: opts})
}

// Open creates table on the server at endpoint and returns a store on it,
// with a client of its own (see [NewClient]). Its close function deletes the
// table, then closes the client's idle connections; it is nil when Open
// fails.
func Open(ctx context.Context, endpoint, table string) (*dynamodao.Store, func(), error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	client, err := NewClient(ctx, endpoint, &http.Client{Transport: transport})
	if err != nil {
		return nil, nil, err
	}
	if err := dynamodao.CreateTable(ctx, client, table); err != nil {
		transport.CloseIdleConnections()
		return nil, nil, fmt.Errorf("creating table %s at %s: %w", table, dynamodao.Where(client), err)
	}
	closeFn := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		transport.CloseIdleConnections()
	}
	s, err := dynamodao.New(client, table, nil)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return s, closeFn, nil
}
