package dynamodao

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// CountEvents returns about how many events one account ("" for the whole
// table) holds, for a backfill's or a verify's progress (it implements
// eventstore.EventCounter). The whole table's count is DescribeTable's ItemCount,
// which AWS updates about every six hours: an estimate, read without a
// scan. An account's count is a Query with Select COUNT on its partition
// key (it reads the account's items, as the scan that follows will).
// Either is an estimate while writes go on.
func (s *Store) CountEvents(ctx context.Context, accountID string) (int64, error) {
	const op = "CountEvents"
	if accountID == "" {
		out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
		if err != nil {
			return 0, apiError(ctx, op, nil, err)
		}
		return aws.ToInt64(out.Table.ItemCount), nil
	}
	if eventstore.ValidateAccountID(accountID) != nil {
		return 0, nil // no event has this account
	}
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrAccount).Equal(expression.Value(accountID))).
		Build()
	if err != nil {
		return 0, argError(op, "account %q: %v", accountID, err)
	}
	var n int64
	var start map[string]types.AttributeValue
	for {
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), Select: types.SelectCount, ExclusiveStartKey: start,
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		})
		if err != nil {
			return 0, apiError(ctx, op, nil, err)
		}
		n += int64(out.Count)
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return n, nil
		}
	}
}
