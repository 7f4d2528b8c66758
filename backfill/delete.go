package backfill

import (
	"context"
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// replayDelete does a delete or erase entry again on target.
func replayDelete(ctx context.Context, e flagmigrate.RepairEntry, target flagmigrate.EventStore) error {
	d, ok := target.(eventstore.EventDeleter)
	if !ok {
		return fmt.Errorf("backfill: repair: the %v store (%T) cannot delete: %w", e.Target, target, errors.ErrUnsupported)
	}
	var err error
	switch e.Kind {
	case flagmigrate.KindDelete:
		err = d.DeleteEvent(ctx, e.AccountID, e.Key)
	case flagmigrate.KindErase:
		_, err = d.EraseAccount(ctx, e.AccountID)
	default:
		return fmt.Errorf("backfill: repair: %w: entry of kind %v", flagmigrate.ErrInvalidArgument, e.Kind)
	}
	if err != nil {
		return fmt.Errorf("backfill: repair: %v of %s/%s on the %v store: %w", e.Kind, e.AccountID, e.Key, e.Target, err)
	}
	return nil
}
