package testutil

import (
	"context"
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

var _ eventstore.EventDeleter = (*FaultStore)(nil)

// DeleteEvent implements eventstore.EventDeleter when the wrapped store
// does (else it fails with errors.ErrUnsupported), with the faults of
// eventstore.OpDeleteEvent.
func (s *FaultStore) DeleteEvent(ctx context.Context, accountID, id string) error {
	d, ok := s.inner.(eventstore.EventDeleter)
	if !ok {
		return fmt.Errorf("%s: %w", s.name, errors.ErrUnsupported)
	}
	f, err := s.begin(ctx, eventstore.OpDeleteEvent, accountID, id)
	if err != nil {
		return err
	}
	defer after(f)
	return d.DeleteEvent(ctx, accountID, id)
}

// EraseAccount implements eventstore.EventDeleter as DeleteEvent does,
// with the faults of eventstore.OpEraseAccount.
func (s *FaultStore) EraseAccount(ctx context.Context, accountID string) ([]string, error) {
	d, ok := s.inner.(eventstore.EventDeleter)
	if !ok {
		return nil, fmt.Errorf("%s: %w", s.name, errors.ErrUnsupported)
	}
	f, err := s.begin(ctx, eventstore.OpEraseAccount, accountID, "")
	if err != nil {
		return nil, err
	}
	defer after(f)
	return d.EraseAccount(ctx, accountID)
}
