package mongodao

import (
	"context"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// CountEvents returns about how many events one account ("" for the whole
// collection) holds, for a backfill's or a verify's progress (it implements
// eventstore.EventCounter). The whole collection's count is MongoDB's estimate from
// its metadata (EstimatedDocumentCount: no scan, and every document counts,
// readable or not); an account's is a CountDocuments on the account's
// field, which its index serves. Either is an estimate while writes go on.
func (s *Store) CountEvents(ctx context.Context, accountID string) (int64, error) {
	if accountID == "" {
		n, err := s.coll.EstimatedDocumentCount(ctx)
		if err != nil {
			return 0, mapError(ctx, err, "estimating the collection's size")
		}
		return n, nil
	}
	opts := eventstore.ScanOptions{AccountID: accountID}
	filter, ok := scanFilter(opts)
	if !s.layout.IsDefault() {
		var err error
		if filter, _, ok, err = s.layoutScan(opts); err != nil {
			return 0, err
		}
	}
	if !ok {
		return 0, nil
	}
	n, err := s.coll.CountDocuments(ctx, s.live(filter))
	if err != nil {
		return 0, mapError(ctx, err, "counting account %q", accountID)
	}
	return n, nil
}
