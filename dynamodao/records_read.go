package dynamodao

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// List implements [recordstore.Store] with a consistent Query on the
// account's partition, sk > the cursor's ID, in sk (ID) order. Tombstones
// are read and skipped, so the Query asks again until the page holds
// Limit+1 records (the one more tells whether a next page exists) or the
// partition ends.
func (s *RecordStore) List(ctx context.Context, accountID string, opts recordstore.ListOptions) (recordstore.Page, error) {
	const op = recordstore.OpList
	if err := ctx.Err(); err != nil {
		return recordstore.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return recordstore.Page{}, err
	}
	in := s.accountQuery(accountID, q.After)
	want := q.Limit + 1
	var recs []recordstore.Record
	for {
		in.Limit = aws.Int32(int32(want - len(recs)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return recordstore.Page{}, recAPIError(ctx, op, "", "", err)
		}
		for _, av := range out.Items {
			r, err := unmarshalRecord(av)
			if err != nil {
				return recordstore.Page{}, err
			}
			if !r.Deleted {
				recs = append(recs, r)
			}
		}
		if len(recs) >= want || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var page recordstore.Page
	if len(recs) > q.Limit {
		recs = recs[:q.Limit]
		page.NextCursor = q.NextCursor(recs[q.Limit-1].ID)
	}
	page.Records = recs
	return page, nil
}

// accountQuery is a consistent Query of the account's items with an ID
// after after ("" for all), in ID order.
func (s *RecordStore) accountQuery(accountID, after string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("#pk = :a"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrAccount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: accountID}},
		ConsistentRead:            aws.Bool(true),
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("#pk = :a AND #sk > :after")
		in.ExpressionAttributeNames["#sk"] = attrID
		in.ExpressionAttributeValues[":after"] = &types.AttributeValueMemberS{Value: after}
	}
	return in
}

// Scan implements [recordstore.Scanner] as ScanEvents does: a whole-table
// scan is a consistent Scan in DynamoDB's order, its segments DynamoDB's
// parallel scan segments (all of an account's items share a partition key,
// so they fall in one segment); an account scan is a consistent Query in
// ID order. Either resumes from After through ExclusiveStartKey.
// Tombstones are yielded only with ScanOptions.Tombstones; an item that is
// not a readable record is yielded as a [*recordstore.UnreadableError] and
// the scan goes on.
func (s *RecordStore) Scan(ctx context.Context, opts recordstore.ScanOptions) iter.Seq2[recordstore.Record, error] {
	return func(yield func(recordstore.Record, error) bool) {
		const op = "Scan"
		if err := opts.Validate(); err != nil {
			yield(recordstore.Record{}, err)
			return
		}
		var limit *int32
		if opts.BatchSize > 0 {
			limit = aws.Int32(int32(min(opts.BatchSize, 1<<30)))
		}
		var start map[string]types.AttributeValue
		var page func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error)
		if a := opts.AccountID; a != "" {
			if recordstore.ValidateKey(a, "x") != nil {
				return // no record has this account
			}
			after := ""
			if opts.After != nil {
				switch {
				case opts.After.AccountID > a:
					return
				case opts.After.AccountID == a:
					after = opts.After.ID
				}
			}
			in := s.accountQuery(a, after)
			in.Limit = limit
			page = func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
				in.ExclusiveStartKey = start
				out, err := s.client.Query(ctx, in)
				if err != nil {
					return nil, nil, err
				}
				return out.Items, out.LastEvaluatedKey, nil
			}
		} else {
			if opts.After != nil {
				start = recKey(opts.After.AccountID, opts.After.ID)
			}
			in := &dynamodb.ScanInput{TableName: &s.table, ConsistentRead: aws.Bool(true), Limit: limit}
			if opts.Segments > 1 {
				in.Segment = aws.Int32(int32(opts.Segment))
				in.TotalSegments = aws.Int32(int32(opts.Segments))
			}
			page = func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
				in.ExclusiveStartKey = start
				out, err := s.client.Scan(ctx, in)
				if err != nil {
					return nil, nil, err
				}
				return out.Items, out.LastEvaluatedKey, nil
			}
		}
		for {
			if err := ctx.Err(); err != nil {
				yield(recordstore.Record{}, err)
				return
			}
			items, next, err := page(start)
			if err != nil {
				yield(recordstore.Record{}, recAPIError(ctx, op, "", "", err))
				return
			}
			for _, av := range items {
				r, err := unmarshalRecord(av)
				if err == nil && r.Deleted && !opts.Tombstones {
					continue
				}
				if !yield(r, err) {
					return
				}
			}
			if next == nil {
				return
			}
			start = next
		}
	}
}

// CountRecords implements [recordstore.Counter] exactly, with Select COUNT
// and a filter that leaves tombstones out: a Query of the account's
// partition, or for "" a Scan of the whole table (which reads it all, as
// the scan it precedes will).
func (s *RecordStore) CountRecords(ctx context.Context, accountID string) (int64, error) {
	const op = "CountRecords"
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	filter := aws.String("attribute_not_exists(#del)")
	var n int64
	var start map[string]types.AttributeValue
	for {
		var count int32
		var next map[string]types.AttributeValue
		if accountID != "" {
			if recordstore.ValidateKey(accountID, "x") != nil {
				return 0, nil
			}
			in := s.accountQuery(accountID, "")
			in.Select, in.FilterExpression, in.ExclusiveStartKey = types.SelectCount, filter, start
			in.ExpressionAttributeNames["#del"] = attrDeleted
			out, err := s.client.Query(ctx, in)
			if err != nil {
				return 0, recAPIError(ctx, op, "", "", err)
			}
			count, next = out.Count, out.LastEvaluatedKey
		} else {
			out, err := s.client.Scan(ctx, &dynamodb.ScanInput{
				TableName: &s.table, ConsistentRead: aws.Bool(true), Select: types.SelectCount,
				FilterExpression: filter, ExpressionAttributeNames: map[string]string{"#del": attrDeleted}, ExclusiveStartKey: start,
			})
			if err != nil {
				return 0, recAPIError(ctx, op, "", "", err)
			}
			count, next = out.Count, out.LastEvaluatedKey
		}
		n += int64(count)
		if start = next; len(start) == 0 {
			return n, nil
		}
	}
}

// PurgeTombstones implements [recordstore.TombstonePurger]: a consistent
// Scan for tombstones whose at is before before, each removed by a
// DeleteItem conditioned on being that very tombstone (its version, still
// a tombstone), so that a record written over it meanwhile stays.
func (s *RecordStore) PurgeTombstones(ctx context.Context, before time.Time) (int, error) {
	const op = "PurgeTombstones"
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	in := &dynamodb.ScanInput{
		TableName:                &s.table,
		ConsistentRead:           aws.Bool(true),
		FilterExpression:         aws.String("attribute_exists(#del) AND #at < :before"),
		ProjectionExpression:     aws.String("#pk, #sk, #v"),
		ExpressionAttributeNames: map[string]string{"#del": attrDeleted, "#at": attrDeletedAt, "#pk": attrAccount, "#sk": attrID, "#v": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":before": number(before.UnixMilli()),
		},
	}
	var found []map[string]types.AttributeValue
	for {
		out, err := s.client.Scan(ctx, in)
		if err != nil {
			return 0, recAPIError(ctx, op, "", "", err)
		}
		found = append(found, out.Items...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	n := 0
	for _, item := range found {
		key := map[string]types.AttributeValue{attrAccount: item[attrAccount], attrID: item[attrID]}
		_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 &s.table,
			Key:                       key,
			ConditionExpression:       aws.String(condTomb),
			ExpressionAttributeNames:  map[string]string{"#v": attrVersion, "#del": attrDeleted},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": item[attrVersion]},
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf) && ctx.Err() == nil:
			continue // replaced meanwhile: not ours to purge
		case err != nil:
			return n, recAPIError(ctx, op, "", "", err)
		}
		n++
	}
	return n, nil
}

// CreateRecordTableInput returns the CreateTable request of the record
// table schema (see [RecordStore]): partition key
// pk (S), sort key sk (S), no index; on-demand billing unless
// [WithProvisionedThroughput].
func CreateRecordTableInput(table string, opts ...TableOption) *dynamodb.CreateTableInput {
	c := newTableConfig(opts)
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrAccount), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrID), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrAccount), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrID), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	}
	if c.read > 0 || c.write > 0 {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(c.read), WriteCapacityUnits: aws.Int64(c.write)}
	}
	return in
}

// CreateRecordTable creates a record table and waits until it is ACTIVE.
// It is idempotent: an existing table is waited for and its key schema
// checked ([ErrSchemaMismatch]).
func CreateRecordTable(ctx context.Context, client API, table string, opts ...TableOption) error {
	const op = "CreateRecordTable"
	c := newTableConfig(opts)
	want := CreateRecordTableInput(table, opts...)
	_, err := client.CreateTable(ctx, want)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return recAPIError(ctx, op, "", "", err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, c.wait)
	if err != nil {
		return recAPIError(ctx, op, "", "", fmt.Errorf("waiting for table %q: %w", table, err))
	}
	if !sameKeys(out.Table.KeySchema, want.KeySchema) {
		return fmt.Errorf("%w: table %q: key schema %s, want %s", ErrSchemaMismatch, table, keysString(out.Table.KeySchema), keysString(want.KeySchema))
	}
	for _, d := range want.AttributeDefinitions {
		i := slices.IndexFunc(out.Table.AttributeDefinitions, func(x types.AttributeDefinition) bool {
			return aws.ToString(x.AttributeName) == *d.AttributeName
		})
		if i < 0 || out.Table.AttributeDefinitions[i].AttributeType != d.AttributeType {
			return fmt.Errorf("%w: table %q: key attribute %q is not of type %s", ErrSchemaMismatch, table, *d.AttributeName, d.AttributeType)
		}
	}
	return nil
}
