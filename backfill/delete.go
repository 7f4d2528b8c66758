package backfill

import (
	"context"
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// replayDelete does a delete or erase entry again on target (source is
// the store that has it).
func replayDelete(ctx context.Context, e migration.RepairEntry, source, target eventstore.EventStore) error {
	d, ok := target.(eventstore.EventDeleter)
	if !ok {
		return fmt.Errorf("backfill: repair: the %v store (%T) cannot delete: %w", e.Target, target, errors.ErrUnsupported)
	}
	var err error
	switch e.Kind {
	case migration.KindDelete:
		err = d.DeleteEvent(ctx, e.AccountID, e.Key)
	case migration.KindErase:
		err = eraseWhatSourceLacks(ctx, e, source, target, d)
	default:
		return fmt.Errorf("backfill: repair: %w: entry of kind %v", eventstore.ErrInvalidArgument, e.Kind)
	}
	if err != nil {
		return fmt.Errorf("backfill: repair: %v of %s/%s on the %v store: %w", e.Kind, e.AccountID, e.Key, e.Target, err)
	}
	return nil
}

// eraseWhatSourceLacks replays an erasure of e's account on target: it
// deletes there every event of the account that the source store (which
// did erase the account) does not hold. The events written to the account
// after the erasure are in the source, so they stay: erasing the account
// again would erase them too, on every repair (a write acknowledged after
// the erasure reached the authoritative store, the source). The deletes
// leave tombstones, as an erasure does.
func eraseWhatSourceLacks(ctx context.Context, e migration.RepairEntry, source, target eventstore.EventStore, d eventstore.EventDeleter) error {
	sc, ok := target.(eventstore.EventScanner)
	if !ok {
		return fmt.Errorf("the %v store (%T) cannot scan an account: %w", e.Target, target, errors.ErrUnsupported)
	}
	var lacking []string
	for evt, err := range sc.ScanEvents(ctx, eventstore.ScanOptions{AccountID: e.AccountID}) {
		var u *eventstore.UnreadableError
		switch {
		case errors.As(err, &u):
			continue // nothing to compare; verify lists it
		case err != nil:
			return err
		}
		switch _, err := source.FindEventByID(ctx, evt.AccountID, evt.ID); {
		case errors.Is(err, eventstore.ErrNotFound):
			lacking = append(lacking, evt.ID)
		case err != nil && !errors.Is(err, eventstore.ErrUnreadable):
			return err
		}
	}
	for _, id := range lacking {
		if err := d.DeleteEvent(ctx, e.AccountID, id); err != nil && !errors.Is(err, eventstore.ErrNotFound) {
			return err
		}
	}
	return nil
}
