// Package scanids lists the event IDs an account holds in a store, for the
// drivers' EraseAccount.
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
