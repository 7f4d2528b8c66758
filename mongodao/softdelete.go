package mongodao

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ReadCounts are counts of what the store's reads passed over or read
// lossily since the store was made, for reports: a backfill or a verify
// that scans a store can show them next to its own counts (take them
// before and after the run).
type ReadCounts struct {
	// SoftDeleted is how many soft-deleted documents scans passed over (see
	// [SoftDelete]). Point reads and lists leave such documents out without
	// counting them.
	SoftDeleted int64
	// TruncatedTimes is how many documents were read with a time finer than
	// a millisecond, truncated (see [TimeTruncate]). A document read twice
	// counts twice.
	TruncatedTimes int64
}

// readCounts holds a store's ReadCounts.
type readCounts struct {
	softDeleted, truncated atomic.Int64
}

// ReadCounts returns the counts of the store's reads so far.
func (s *Store) ReadCounts() ReadCounts {
	return ReadCounts{SoftDeleted: s.counts.softDeleted.Load(), TruncatedTimes: s.counts.truncated.Load()}
}

// errSoftDeleted marks the not-found error of a key whose document is
// soft-deleted: a store of that key is refused as deleted.
var errSoftDeleted = errors.New("soft-deleted")

// softDeleted is FindEventByID's error for a soft-deleted document: it
// matches [eventstore.ErrNotFound].
func softDeleted(accountID, id string) error {
	return fmt.Errorf("%w (%w: its document carries the soft-delete marker)", notFound(accountID, id), errSoftDeleted)
}

// live adds to filter the condition that leaves soft-deleted documents
// out. On MongoDB the condition is checked on the documents that the
// filter's index selects (a FETCH filter); append the marker field to the
// list index to check it on index keys instead (see the package
// documentation).
func (s *Store) live(filter bson.D) bson.D {
	sd := s.layout.SoftDelete
	if sd.Field == "" {
		return filter
	}
	return append(filter, bson.E{Key: sd.Field, Value: bson.D{{Key: "$ne", Value: sd.marker()}}})
}

// markDeleted soft-deletes the documents filter selects that are not yet
// soft-deleted: it sets the marker (and SoftDelete.At to now), and nothing
// else, so that every other field of the documents is kept.
func (s *Store) markDeleted(ctx context.Context, filter bson.D) error {
	sd := s.layout.SoftDelete
	set := bson.D{{Key: sd.Field, Value: sd.marker()}}
	if sd.At != "" {
		set = append(set, bson.E{Key: sd.At, Value: s.layout.timeValue(time.Now().Truncate(time.Millisecond))})
	}
	_, err := s.coll.UpdateMany(ctx, s.live(filter), bson.D{{Key: "$set", Value: set}})
	return err
}
