package dynamodao

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// ErrSchemaMismatch reports that a table exists with a schema other than
// this package's (see the package documentation).
var ErrSchemaMismatch = errors.New("dynamodao: table schema does not match")

// This file is the one place where the client's errors become the errors a
// Store returns. The rules:
//
//   - when the caller's context is done, its error is returned as it is
//     (context.Canceled or context.DeadlineExceeded, unwrapped);
//   - a conditional check failure of StoreEvent's put is ErrConflict;
//   - anything else keeps the native error, wrapped with %w, so that
//     errors.As(err, &*types.ProvisionedThroughputExceededException) and the
//     like still work, also through ErrConflict.

// apiError maps an error returned by the client during operation op on key
// (nil for operations on many keys).
func apiError(ctx context.Context, op string, key *eventstore.EventKey, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return conflictError(op, key, err)
	}
	return fmt.Errorf("dynamodao: %s%s: %w", op, describe(key), err)
}

// conflictError reports a stored event that differs from the one being
// stored; native, when not nil, is the client's error that revealed it.
func conflictError(op string, key *eventstore.EventKey, native error) error {
	if native == nil {
		return fmt.Errorf("dynamodao: %s%s: %w", op, describe(key), eventstore.ErrConflict)
	}
	return fmt.Errorf("dynamodao: %s%s: %w: %w", op, describe(key), eventstore.ErrConflict, native)
}

// notFound reports an absent event.
func notFound(op string, key *eventstore.EventKey) error {
	return fmt.Errorf("dynamodao: %s%s: %w", op, describe(key), eventstore.ErrNotFound)
}

// argError reports an invalid argument.
func argError(op, format string, args ...any) error {
	return fmt.Errorf("dynamodao: %s: %w: %s", op, eventstore.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

func describe(key *eventstore.EventKey) string {
	if key == nil {
		return ""
	}
	return fmt.Sprintf(" account %q event %q", key.AccountID, key.ID)
}

// throttleCodes are the error codes of requests refused for lack of capacity:
// worth retrying after a pause.
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
}

// isThrottling reports whether err is DynamoDB refusing a request for lack of
// capacity, or a transaction cancelled for lack of capacity or for a
// concurrent transaction on one of its items (worth retrying after a pause
// too).
func isThrottling(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "TransactionConflict":
				return true
			}
		}
		return false
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && throttleCodes[ae.ErrorCode()]
}
