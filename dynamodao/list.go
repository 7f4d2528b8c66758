package dynamodao

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// ListEvents implements [eventstore.EventStore] with a consistent Query on
// the by_time index:
//
//	pk = :account AND tk BETWEEN :lo AND :hi
//
// where :lo is the bare time part of Start (below every time key at Start)
// and :hi the bare time part of End (no time key equals it, so BETWEEN
// excludes End as the contract wants). A cursor's position becomes the
// Query's ExclusiveStartKey, with :lo raised to it; the position need not be
// an item of this table, so a cursor issued by another store continues here
// exactly. The Query asks for Limit+1 items, following LastEvaluatedKey when
// DynamoDB's 1 MB page ends first, so that NextCursor is set only when an
// event follows, as in every store.
func (s *Store) ListEvents(ctx context.Context, accountID string, opts eventstore.ListOptions) (eventstore.Page, error) {
	const op = "ListEvents"
	if err := ctx.Err(); err != nil {
		return eventstore.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return eventstore.Page{}, err
	}
	if !q.Start.Before(q.End) {
		return eventstore.Page{}, nil
	}
	lo, hi := timeBound(q.Start), timeBound(q.End)
	var start map[string]types.AttributeValue
	if a := q.After; a != nil && !a.Time.Before(q.Start) {
		if !a.Time.Before(q.End) {
			return eventstore.Page{}, nil // every event after the cursor is at End or later
		}
		lo = timeKey(a.Time, a.ID)
		start, err = attributevalue.MarshalMap(indexKey{AccountID: q.AccountID, ID: a.ID, TimeKey: lo})
		if err != nil {
			return eventstore.Page{}, fmt.Errorf("dynamodao: %s: encoding the cursor: %w", op, err)
		}
	}
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrAccount).Equal(expression.Value(q.AccountID)).
			And(expression.Key(attrTimeKey).Between(expression.Value(lo), expression.Value(hi))),
	).Build()
	if err != nil {
		return eventstore.Page{}, fmt.Errorf("dynamodao: %s: building the key condition: %w", op, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(indexByTime),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
		ExclusiveStartKey:         start,
	}
	want := q.Limit + 1 // one more tells whether a next page exists
	var events []eventstore.Event
	for {
		in.Limit = aws.Int32(int32(want - len(events)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return eventstore.Page{}, apiError(ctx, op, nil, err)
		}
		for _, av := range out.Items {
			e, err := unmarshalEvent(av)
			if err != nil {
				return eventstore.Page{}, err
			}
			events = append(events, e)
		}
		if len(events) >= want || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var page eventstore.Page
	if len(events) > q.Limit {
		events = events[:q.Limit]
		page.NextCursor = q.NextCursor(events[q.Limit-1])
	}
	page.Events = events
	return page, nil
}
