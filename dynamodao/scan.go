package dynamodao

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// ScanEvents implements [eventstore.EventScanner].
//
// A whole-table scan is a consistent Scan in DynamoDB's own order (by a hash
// of the account, then by ID within an account), stable for a given table.
// ScanOptions.Segment and Segments are the Scan's Segment and TotalSegments,
// so parallel workers split the table natively; all of an account's events
// fall in one segment. An account scan is a consistent Query on the table,
// ordered by ID bytewise. Either resumes from ScanOptions.After through
// ExclusiveStartKey {pk, sk}. BatchSize is the request's Limit; 0 lets
// DynamoDB fill 1 MB pages.
func (s *Store) ScanEvents(ctx context.Context, opts eventstore.ScanOptions) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		const op = "ScanEvents"
		if err := opts.Validate(); err != nil {
			yield(eventstore.Event{}, err)
			return
		}
		if a := opts.After; a != nil && eventstore.ValidateKey(a.AccountID, a.ID) != nil {
			yield(eventstore.Event{}, argError(op, "After %+v is not a valid key", *a))
			return
		}
		var limit *int32
		if opts.BatchSize > 0 {
			limit = aws.Int32(int32(min(opts.BatchSize, 1<<30)))
		}
		var page func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error)
		var start map[string]types.AttributeValue
		if opts.AccountID != "" {
			if eventstore.ValidateAccountID(opts.AccountID) != nil {
				return // no event has this account
			}
			if a := opts.After; a != nil {
				switch {
				case a.AccountID > opts.AccountID:
					return // the account's events all come before After
				case a.AccountID == opts.AccountID:
					var err error
					if start, err = keyOf(a.AccountID, a.ID); err != nil {
						yield(eventstore.Event{}, err)
						return
					}
				}
			}
			expr, err := expression.NewBuilder().
				WithKeyCondition(expression.Key(attrAccount).Equal(expression.Value(opts.AccountID))).
				Build()
			if err != nil {
				yield(eventstore.Event{}, fmt.Errorf("dynamodao: %s: building the key condition: %w", op, err))
				return
			}
			in := &dynamodb.QueryInput{
				TableName:                 &s.table,
				KeyConditionExpression:    expr.KeyCondition(),
				ExpressionAttributeNames:  expr.Names(),
				ExpressionAttributeValues: expr.Values(),
				ConsistentRead:            aws.Bool(true),
				Limit:                     limit,
			}
			page = func(start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
				in.ExclusiveStartKey = start
				out, err := s.client.Query(ctx, in)
				if err != nil {
					return nil, nil, err
				}
				return out.Items, out.LastEvaluatedKey, nil
			}
		} else {
			if a := opts.After; a != nil {
				var err error
				if start, err = keyOf(a.AccountID, a.ID); err != nil {
					yield(eventstore.Event{}, err)
					return
				}
			}
			in := &dynamodb.ScanInput{
				TableName:      &s.table,
				ConsistentRead: aws.Bool(true),
				Limit:          limit,
			}
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
				yield(eventstore.Event{}, err)
				return
			}
			items, next, err := page(start)
			if err != nil {
				yield(eventstore.Event{}, apiError(ctx, op, nil, err))
				return
			}
			for _, av := range items {
				e, err := unmarshalEvent(av)
				if errors.Is(err, errTombstone) {
					continue // a deleted key is absent
				}
				// An unreadable item is yielded and the scan goes on,
				// so that one bad item never hides the rest.
				if !yield(e, err) || err != nil && !errors.Is(err, eventstore.ErrUnreadable) {
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
