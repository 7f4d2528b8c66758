package backfill

import (
	"context"
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// replayDelete does a delete or erase entry again on target.
func replayDelete(ctx context.Context, e migration.RepairEntry, target eventstore.EventStore) error {
	d, ok := target.(eventstore.EventDeleter)
	if !ok {
		return fmt.Errorf("backfill: repair: the %v store (%T) cannot delete: %w", e.Target, target, errors.ErrUnsupported)
	}
	var err error
	switch e.Kind {
	case migration.KindDelete:
		err = d.DeleteEvent(ctx, e.AccountID, e.Key)
	case migration.KindErase:
		_, err = d.EraseAccount(ctx, e.AccountID)
	default:
		return fmt.Errorf("backfill: repair: %w: entry of kind %v", eventstore.ErrInvalidArgument, e.Kind)
	}
	if err != nil {
		return fmt.Errorf("backfill: repair: %v of %s/%s on the %v store: %w", e.Kind, e.AccountID, e.Key, e.Target, err)
	}
	return nil
}
