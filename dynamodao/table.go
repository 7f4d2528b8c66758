package dynamodao

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableOption configures [CreateTable] and [CreateTableInput]; a nil
// TableOption is ignored.
type TableOption func(*tableConfig)

type tableConfig struct {
	read, write int64         // provisioned capacity; 0: on demand
	wait        time.Duration // how long CreateTable waits for ACTIVE
}

// WithProvisionedThroughput creates the table with provisioned capacity
// (shared by its local secondary index) instead of on-demand billing.
func WithProvisionedThroughput(readUnits, writeUnits int64) TableOption {
	return func(c *tableConfig) { c.read, c.write = readUnits, writeUnits }
}

// WithWaitTimeout bounds how long CreateTable waits for the table to become
// ACTIVE (default 5 minutes); the context bounds it too.
func WithWaitTimeout(d time.Duration) TableOption {
	return func(c *tableConfig) { c.wait = d }
}

func newTableConfig(opts []TableOption) tableConfig {
	c := tableConfig{wait: 5 * time.Minute}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// CreateTableInput returns the CreateTable request of the package's schema
// (see the package documentation), for teams that create tables with other
// tools: translate it to CloudFormation, Terraform or the CLI.
func CreateTableInput(table string, opts ...TableOption) *dynamodb.CreateTableInput {
	c := newTableConfig(opts)
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrAccount), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrID), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrTimeKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrAccount), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrID), KeyType: types.KeyTypeRange},
		},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName: aws.String(indexByTime),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrAccount), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrTimeKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	}
	if c.read > 0 || c.write > 0 {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{
			ReadCapacityUnits:  aws.Int64(c.read),
			WriteCapacityUnits: aws.Int64(c.write),
		}
	}
	return in
}

// CreateTable creates table with the package's schema and waits until it is
// ACTIVE. It is idempotent: when the table exists already (created earlier,
// or concurrently by another process), it waits for it and checks its key
// schema and index, returning an error matching [ErrSchemaMismatch] if they
// differ. Billing is on demand unless [WithProvisionedThroughput] says
// otherwise; an existing table's billing is left as it is.
func CreateTable(ctx context.Context, client API, table string, opts ...TableOption) error {
	const op = "CreateTable"
	c := newTableConfig(opts)
	_, err := client.CreateTable(ctx, CreateTableInput(table, opts...))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return apiError(ctx, op, nil, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, c.wait)
	if err != nil {
		return apiError(ctx, op, nil, fmt.Errorf("waiting for table %q: %w", table, err))
	}
	return checkSchema(out.Table)
}

// checkSchema compares an existing table with CreateTableInput's.
func checkSchema(t *types.TableDescription) error {
	want := CreateTableInput(aws.ToString(t.TableName))
	attrType := func(defs []types.AttributeDefinition, name string) types.ScalarAttributeType {
		for _, d := range defs {
			if aws.ToString(d.AttributeName) == name {
				return d.AttributeType
			}
		}
		return ""
	}
	for _, d := range want.AttributeDefinitions {
		if got := attrType(t.AttributeDefinitions, *d.AttributeName); got != d.AttributeType {
			return fmt.Errorf("%w: table %q: attribute %q has type %q, want %q", ErrSchemaMismatch, *t.TableName, *d.AttributeName, got, d.AttributeType)
		}
	}
	if !sameKeys(t.KeySchema, want.KeySchema) {
		return fmt.Errorf("%w: table %q: key schema %s, want %s", ErrSchemaMismatch, *t.TableName, keysString(t.KeySchema), keysString(want.KeySchema))
	}
	wi := want.LocalSecondaryIndexes[0]
	i := slices.IndexFunc(t.LocalSecondaryIndexes, func(l types.LocalSecondaryIndexDescription) bool {
		return aws.ToString(l.IndexName) == indexByTime
	})
	if i < 0 {
		return fmt.Errorf("%w: table %q has no local secondary index %q", ErrSchemaMismatch, *t.TableName, indexByTime)
	}
	li := t.LocalSecondaryIndexes[i]
	if !sameKeys(li.KeySchema, wi.KeySchema) {
		return fmt.Errorf("%w: table %q: index %q has key schema %s, want %s", ErrSchemaMismatch, *t.TableName, indexByTime, keysString(li.KeySchema), keysString(wi.KeySchema))
	}
	if li.Projection == nil || li.Projection.ProjectionType != types.ProjectionTypeAll {
		return fmt.Errorf("%w: table %q: index %q does not project all attributes", ErrSchemaMismatch, *t.TableName, indexByTime)
	}
	return nil
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	return slices.EqualFunc(a, b, func(x, y types.KeySchemaElement) bool {
		return aws.ToString(x.AttributeName) == aws.ToString(y.AttributeName) && x.KeyType == y.KeyType
	})
}

func keysString(ks []types.KeySchemaElement) string {
	s := "("
	for i, k := range ks {
		if i > 0 {
			s += ", "
		}
		s += aws.ToString(k.AttributeName) + " " + string(k.KeyType)
	}
	return s + ")"
}
