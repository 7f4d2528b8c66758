package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// DeleteEvent implements [eventstore.EventDeleter]: the event (if any)
// goes, and a tombstone stays under its key, so that a later StoreEvent of
// the key returns [eventstore.ErrDeleted].
func (s *Store) DeleteEvent(ctx context.Context, accountID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := eventstore.ValidateKey(accountID, id); err != nil {
		return fmt.Errorf("memstore: %w: delete: %v", eventstore.ErrInvalidArgument, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(accountID, id)
	return nil
}

// EraseAccount implements [eventstore.EventDeleter] under one lock. An
// account ID that [eventstore.ValidateAccountID] refuses matches
// [eventstore.ErrInvalidArgument].
func (s *Store) EraseAccount(ctx context.Context, accountID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := eventstore.ValidateAccountID(accountID); err != nil {
		return nil, fmt.Errorf("memstore: %w: erase: %v", eventstore.ErrInvalidArgument, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[accountID]
	if a == nil {
		return nil, nil
	}
	ids := slices.Clone(a.ids)
	for _, id := range ids {
		s.deleteLocked(accountID, id)
	}
	return ids, nil
}

func (s *Store) deleteLocked(accountID, id string) {
	s.tombs[eventstore.EventKey{AccountID: accountID, ID: id}] = time.Now()
	a := s.accounts[accountID]
	if a == nil {
		return
	}
	e, ok := a.byID[id]
	if !ok {
		return
	}
	delete(a.byID, id)
	if i, found := slices.BinarySearch(a.ids, id); found {
		a.ids = slices.Delete(a.ids, i, i+1)
	}
	if j, found := slices.BinarySearchFunc(a.byTime, e, compareTimeID); found {
		a.byTime = slices.Delete(a.byTime, j, j+1)
	}
	s.count--
	if len(a.ids) == 0 {
		delete(s.accounts, accountID)
		if k, found := slices.BinarySearch(s.order, accountID); found {
			s.order = slices.Delete(s.order, k, k+1)
		}
	}
}

var _ eventstore.TombstonePurger = (*Store)(nil)

// PurgeTombstones implements [eventstore.TombstonePurger].
func (s *Store) PurgeTombstones(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, at := range s.tombs {
		if at.Before(before) {
			delete(s.tombs, k)
			n++
		}
	}
	return n, nil
}
