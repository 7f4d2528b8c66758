package flagmigrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

var _ eventstore.EventDeleter = (*MigratingStore)(nil)

// deleters returns both stores as EventDeleters, or an error matching
// [errors.ErrUnsupported] before either is touched.
func (s *MigratingStore) deleters() (old, new eventstore.EventDeleter, err error) {
	old, okOld := s.m.old.(eventstore.EventDeleter)
	new, okNew := s.m.new.(eventstore.EventDeleter)
	switch {
	case !okOld:
		return nil, nil, fmt.Errorf("flagmigrate: the old store (%T) cannot delete: %w", s.m.old, errors.ErrUnsupported)
	case !okNew:
		return nil, nil, fmt.Errorf("flagmigrate: the new store (%T) cannot delete: %w", s.m.new, errors.ErrUnsupported)
	}
	return old, new, nil
}

// DeleteEvent implements [eventstore.EventDeleter] through [WriteValue]: the
// authoritative store (by the write flags) is deleted from first, and the
// other after it, on a detached context, whatever its write flag says:
// a store that is not written may still hold a copy a backfill made, which
// would come back when the flags turn. A failed second delete is recorded
// in the repair log as a delete ([KindDelete]), which repair replays.
// Both stores must be EventDeleters (else an error matching
// [errors.ErrUnsupported], before either is touched).
func (s *MigratingStore) DeleteEvent(ctx context.Context, accountID, id string) error {
	if err := eventstore.ValidateKey(accountID, id); err != nil {
		return argError("DeleteEvent: %v", err)
	}
	if _, _, err := s.deleters(); err != nil {
		return err
	}
	return Write(ctx, s.m, Call{Op: eventstore.OpDeleteEvent, AccountID: accountID, Key: id, Kind: KindDelete},
		func(ctx context.Context, st EventStore) error {
			return st.(eventstore.EventDeleter).DeleteEvent(ctx, accountID, id)
		})
}

// EraseAccount implements [eventstore.EventDeleter]: every event of the account is
// deleted from both stores, the authoritative one first (as DeleteEvent
// does), and it returns the IDs either store deleted, sorted.
//
// Then each ID that one store erased is deleted from both stores by key
// too. That closes the race with a copy in flight: a backfill that read
// event E from one store before the erasure reached it writes E into the
// other store either before E's tombstone lands there (and the tombstone
// replaces it) or after (and the tombstone refuses it). A failure of that
// last step on a store is recorded as an erasure of the account on it.
func (s *MigratingStore) EraseAccount(ctx context.Context, accountID string) ([]string, error) {
	if err := eventstore.ValidateAccountID(accountID); err != nil {
		return nil, argError("EraseAccount: %v", err)
	}
	old, new, err := s.deleters()
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	erased := make(map[string]bool)
	call := Call{Op: eventstore.OpEraseAccount, AccountID: accountID, Kind: KindErase}
	_, err = WriteValue(ctx, s.m, call, func(ctx context.Context, st EventStore) ([]string, error) {
		ids, err := st.(eventstore.EventDeleter).EraseAccount(ctx, accountID)
		mu.Lock()
		for _, id := range ids {
			erased[id] = true
		}
		mu.Unlock()
		return ids, err
	})
	if err != nil {
		return nil, err
	}
	mu.Lock()
	ids := make([]string, 0, len(erased))
	for id := range erased {
		ids = append(ids, id)
	}
	mu.Unlock()
	slices.Sort(ids)
	for _, side := range []Side{SideOld, SideNew} {
		d := old
		if side == SideNew {
			d = new
		}
		if err := s.deleteKeys(ctx, d, accountID, ids); err != nil {
			if rerr := s.m.recordRepair(ctx, call, RepairEntry{Target: side, Source: otherSide(side)}, err); rerr != nil {
				return ids, rerr
			}
		}
	}
	return ids, nil
}

// deleteKeys deletes ids of the account from d on a detached context
// bounded by the secondary timeout per delete.
func (s *MigratingStore) deleteKeys(ctx context.Context, d eventstore.EventDeleter, accountID string, ids []string) error {
	for _, id := range ids {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.m.cfg.secondaryTimeout)
		err := d.DeleteEvent(dctx, accountID, id)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}
