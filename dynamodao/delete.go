package dynamodao

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/scanids"
)

// Tombstones. A deleted event's item is replaced by a tombstone under the
// same key: {pk, sk, del: true, at: Unix milliseconds of the delete}. It
// has no tk, so the by_time index (which is sparse) never holds it and
// ListEvents does not see it; GetItem, BatchGetItem and Scan results skip
// it. StoreEvent's condition, attribute_not_exists(pk), fails on it, as on
// any stored item, so a store after the delete (a backfill's copy, a
// repair) never overwrites it and gets ErrDeleted instead. DynamoDB's put
// of one item is atomic: a delete and a concurrent store of one key end
// with the tombstone whichever lands first.
const (
	attrDeleted   = "del" // BOOL true: the item is a tombstone
	attrDeletedAt = "at"  // N, Unix milliseconds of the delete
	maxBatchWrite = 25    // puts per BatchWriteItem
)

// errTombstone is unmarshalEvent's answer for a tombstone.
var errTombstone = fmt.Errorf("dynamodao: a tombstone: %w", eventstore.ErrDeleted)

// deletedError reports a store of a deleted key.
func deletedError(op string, key *eventstore.EventKey) error {
	return fmt.Errorf("dynamodao: %s%s: %w", op, describe(key), eventstore.ErrDeleted)
}

func tombstone(accountID, id string) (map[string]types.AttributeValue, error) {
	av, err := keyOf(accountID, id)
	if err != nil {
		return nil, err
	}
	av[attrDeleted] = &types.AttributeValueMemberBOOL{Value: true}
	av[attrDeletedAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().UnixMilli(), 10)}
	return av, nil
}

// DeleteEvent implements [eventstore.EventDeleter] with one unconditional
// PutItem of the key's tombstone.
func (s *Store) DeleteEvent(ctx context.Context, accountID, id string) error {
	const op = "DeleteEvent"
	if err := ctx.Err(); err != nil {
		return err
	}
	key := eventstore.EventKey{AccountID: accountID, ID: id}
	if err := eventstore.ValidateKey(accountID, id); err != nil {
		return argError(op, "%v", err)
	}
	av, err := tombstone(accountID, id)
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av})
	return apiError(ctx, op, &key, err)
}

// EraseAccount implements [eventstore.EventDeleter]: it queries the
// account's events and replaces them by tombstones with BatchWriteItem
// calls of 25 puts (unprocessed items retried as in StoreEvents), and
// queries again until no event is left, so that events stored meanwhile go
// too.
// An account ID that [eventstore.ValidateAccountID] refuses matches
// [eventstore.ErrInvalidArgument], before the server is asked.
func (s *Store) EraseAccount(ctx context.Context, accountID string) ([]string, error) {
	const op = "EraseAccount"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Refused before the server is asked, as MigratingStore refuses it.
	if err := eventstore.ValidateAccountID(accountID); err != nil {
		return nil, argError(op, "%v", err)
	}
	return scanids.Erase(ctx, s, accountID, func(ctx context.Context, ids []string) (int, error) {
		if err := s.putTombstones(ctx, op, accountID, ids); err != nil {
			return 0, err
		}
		return len(ids), nil
	})
}

// writeBatch writes pending (at most 25 requests) with BatchWriteItem,
// sending the unprocessed items again with backoff until none is left.
func (s *Store) writeBatch(ctx context.Context, op string, pending []types.WriteRequest) error {
	return s.retry(ctx, op, func() (int, bool, error) {
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: pending},
		})
		if err != nil {
			return len(pending), false, err
		}
		left := out.UnprocessedItems[s.table]
		progressed := len(left) < len(pending)
		pending = left
		return len(left), progressed, nil
	})
}

// putTombstones writes the tombstones of distinct ids.
func (s *Store) putTombstones(ctx context.Context, op, accountID string, ids []string) error {
	return s.inChunks(ctx, len(ids), maxBatchWrite, func(ctx context.Context, lo, hi int) error {
		pending := make([]types.WriteRequest, 0, hi-lo)
		for _, id := range ids[lo:hi] {
			av, err := tombstone(accountID, id)
			if err != nil {
				return err
			}
			pending = append(pending, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		return s.writeBatch(ctx, op, pending)
	})
}

var _ eventstore.TombstonePurger = (*Store)(nil)

// PurgeTombstones implements [eventstore.TombstonePurger]: a consistent
// Scan for tombstones older than before (a filter on del and at), whose
// keys are deleted with BatchWriteItem calls of 25. A delete is not
// conditional: a tombstone written again meanwhile (a second delete of a
// key deleted before the cutoff) may go too, which is harmless, since the
// event was gone before the cutoff already.
func (s *Store) PurgeTombstones(ctx context.Context, before time.Time) (int, error) {
	const op = "PurgeTombstones"
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	expr, err := expression.NewBuilder().WithFilter(
		expression.AttributeExists(expression.Name(attrDeleted)).
			And(expression.Name(attrDeletedAt).LessThan(expression.Value(before.UnixMilli()))),
	).WithProjection(expression.NamesList(expression.Name(attrAccount), expression.Name(attrID))).Build()
	if err != nil {
		return 0, fmt.Errorf("dynamodao: %s: building the filter: %w", op, err)
	}
	in := &dynamodb.ScanInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          expr.Filter(),
		ProjectionExpression:      expr.Projection(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	var keys []map[string]types.AttributeValue
	for {
		out, err := s.client.Scan(ctx, in)
		if err != nil {
			return 0, apiError(ctx, op, nil, err)
		}
		keys = append(keys, out.Items...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	err = s.inChunks(ctx, len(keys), maxBatchWrite, func(ctx context.Context, lo, hi int) error {
		pending := make([]types.WriteRequest, 0, hi-lo)
		for _, k := range keys[lo:hi] {
			pending = append(pending, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		return s.writeBatch(ctx, op, pending)
	})
	if err != nil {
		return 0, err
	}
	return len(keys), nil
}
