package mongodao

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// mapError is the one place where the driver's errors become the store's:
//
//   - when ctx is done, ctx.Err() as it is (context.Canceled or
//     context.DeadlineExceeded), whatever the driver made of it;
//   - [mongo.ErrNoDocuments] matches [eventstore.ErrNotFound];
//   - a duplicate key ([mongo.IsDuplicateKeyError]) matches
//     [eventstore.ErrConflict];
//   - anything else is wrapped with what the store was doing.
//
// The driver's error stays reachable with errors.As in every case but the
// first.
func mapError(ctx context.Context, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	what := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("mongodao: %s: %w (%w)", what, eventstore.ErrNotFound, err)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("mongodao: %s: %w (%w)", what, eventstore.ErrConflict, err)
	}
	return fmt.Errorf("mongodao: %s: %w", what, err)
}

// conflict reports that a different event is stored under c's key; cause is
// the duplicate-key error of the insert, or why the stored document could
// not be read as an event.
func conflict(c eventstore.Event, cause error) error {
	return fmt.Errorf("mongodao: store account %q event %q: %w (%w)", c.AccountID, c.ID, eventstore.ErrConflict, cause)
}

// notFound reports a key that cannot exist: one that fails validation.
func notFound(accountID, id string) error {
	return fmt.Errorf("mongodao: find account %q event %q: %w", accountID, id, eventstore.ErrNotFound)
}
