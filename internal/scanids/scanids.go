// Package scanids lists the event IDs an account holds in a store, for the
// drivers' EraseAccount, and erases them ([Erase]).
package scanids

import (
	"context"
	"errors"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Account returns the IDs of accountID's readable events in s, in the
// scanner's order. Records the scanner cannot read ([eventstore.ErrUnreadable])
// are passed over: no ID can be read from them. Any other error ends the scan.
func Account(ctx context.Context, s eventstore.EventScanner, accountID string) ([]string, error) {
	var ids []string
	for e, err := range s.ScanEvents(ctx, eventstore.ScanOptions{AccountID: accountID}) {
		switch {
		case err == nil:
			ids = append(ids, e.ID)
		case !errors.Is(err, eventstore.ErrUnreadable):
			return nil, err
		}
	}
	return ids, nil
}

// Erase is the loop of the drivers' EraseAccount: it lists accountID's
// event IDs in s, passes them to remove (which tombstones them and returns
// how many of them, in order, it did before any error), and lists again
// until the account holds no readable event, so that events stored
// meanwhile go too. It returns the IDs removed.
func Erase(ctx context.Context, s eventstore.EventScanner, accountID string, remove func(ctx context.Context, ids []string) (int, error)) ([]string, error) {
	var erased []string
	for {
		ids, err := Account(ctx, s, accountID)
		if err != nil {
			return erased, err
		}
		if len(ids) == 0 {
			return erased, nil
		}
		n, err := remove(ctx, ids)
		erased = append(erased, ids[:n]...)
		if err != nil {
			return erased, err
		}
	}
}
