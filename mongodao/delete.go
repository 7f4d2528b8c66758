package mongodao

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/scanids"
)

// TombstoneSuffix names the collection of a store's tombstones: the
// events' collection name followed by it. Tombstones live apart from the
// events, in every layout, so that an application that reads the events'
// collection (the old service, during a migration) never meets a document
// of the library's own.
const TombstoneSuffix = "_flagmigrate_tombstones"

// Tombstones and their ordering. A tombstone is {_id: {a: account, i: id},
// at: the time of the delete}, in the tombstone collection. The rule that
// no store can resurrect a deleted key rests on one ordering on each side:
//
//   - DeleteEvent inserts the tombstone first, then deletes the key's
//     documents;
//   - StoreEvent (and StoreEvents) inserts the document first, then looks
//     for the key's tombstone, and if it finds one removes the key's
//     documents again and returns ErrDeleted.
//
// Whatever the interleaving, the document goes: a store that inserts before
// the delete removes the documents finds its document removed by the
// delete; one that inserts after it finds the tombstone, which was inserted
// before, and removes its own document. A deleted event can thus be seen by
// a read for the moment between the two steps of a store that loses, never
// after the store returns. The price is one point read of the tombstone
// collection per StoreEvent (one $in read per StoreEvents).

// deletedError reports a store of a deleted key.
func deletedError(accountID, id string) error {
	return fmt.Errorf("mongodao: store account %q event %q: %w", accountID, id, eventstore.ErrDeleted)
}

// Tombstones returns the collection of the store's tombstones.
func (s *Store) Tombstones() *mongo.Collection { return s.tombs }

// deletedKeys returns which of keys hold a tombstone.
func (s *Store) deletedKeys(ctx context.Context, keys []eventstore.EventKey) (map[eventstore.EventKey]bool, error) {
	out := make(map[eventstore.EventKey]bool)
	for lo := 0; lo < len(keys); lo += s.findBatch {
		chunk := keys[lo:min(lo+s.findBatch, len(keys))]
		in := make(bson.A, len(chunk))
		for i, k := range chunk {
			in[i] = keyDoc(k.AccountID, k.ID)
		}
		cur, err := s.tombs.Find(ctx, bson.D{{Key: fieldKey, Value: bson.D{{Key: "$in", Value: in}}}},
			options.Find().SetProjection(bson.D{{Key: fieldKey, Value: 1}}))
		if err != nil {
			return nil, mapError(ctx, err, "read %d tombstones", len(chunk))
		}
		for cur.Next(ctx) {
			rv := cur.Current.Lookup(fieldKey)
			a, i, err := readKeyDoc(bsoncore.Value{Type: bsoncore.Type(rv.Type), Data: rv.Value})
			if err != nil {
				closeCursor(ctx, cur)
				return nil, fmt.Errorf("mongodao: a tombstone of %s: %w", s.tombs.Name(), err)
			}
			out[eventstore.EventKey{AccountID: a, ID: i}] = true
		}
		err = cur.Err()
		closeCursor(ctx, cur)
		if err != nil {
			return nil, mapError(ctx, err, "read tombstones")
		}
	}
	return out, nil
}

// undoIfDeleted is StoreEvent's second step: when key holds a tombstone,
// it removes the key's documents and reports true with ErrDeleted.
func (s *Store) undoIfDeleted(ctx context.Context, key eventstore.EventKey) (bool, error) {
	gone, err := s.deletedKeys(ctx, []eventstore.EventKey{key})
	if err != nil || !gone[key] {
		return false, err
	}
	if err := s.removeDocs(ctx, key.AccountID, []string{key.ID}); err != nil {
		return true, err
	}
	return true, deletedError(key.AccountID, key.ID)
}

// batchUndoIfDeleted is StoreEvents' second step: every event at[j] whose
// key holds a tombstone gets ErrDeleted, and its documents are removed.
func (s *Store) batchUndoIfDeleted(ctx context.Context, canon []eventstore.Event, at []int, errs []error) ([]error, error) {
	keys := make([]eventstore.EventKey, len(at))
	for j, i := range at {
		keys[j] = canon[i].Key()
	}
	gone, err := s.deletedKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	removed := make(map[eventstore.EventKey]bool, len(gone))
	for _, i := range at {
		k := canon[i].Key()
		if !gone[k] {
			continue
		}
		if !removed[k] {
			if err := s.removeDocs(ctx, k.AccountID, []string{k.ID}); err != nil {
				return nil, err
			}
			removed[k] = true
		}
		errs[i] = deletedError(k.AccountID, k.ID)
	}
	return errs, nil
}

// removeDocs deletes the documents of the account's ids; in a layout with
// soft deletes, it marks them instead (markDeleted).
func (s *Store) removeDocs(ctx context.Context, accountID string, ids []string) error {
	var filter bson.D
	if s.layout.IsDefault() {
		in := make(bson.A, len(ids))
		for i, id := range ids {
			in[i] = keyDoc(accountID, id)
		}
		filter = bson.D{{Key: fieldKey, Value: bson.D{{Key: "$in", Value: in}}}}
	} else {
		in := make(bson.A, 0, len(ids))
		for _, id := range ids {
			if v, err := s.layout.encodeID(id); err == nil {
				in = append(in, v)
			}
		}
		if len(in) == 0 {
			return nil // no document can hold these IDs
		}
		filter = bson.D{{Key: s.layout.ID, Value: bson.D{{Key: "$in", Value: in}}}, {Key: s.layout.Account, Value: accountID}}
		if s.layout.SoftDelete.Field != "" {
			return mapError(ctx, s.markDeleted(ctx, filter), "soft-delete %d events of account %q", len(ids), accountID)
		}
	}
	_, err := s.coll.DeleteMany(ctx, filter)
	return mapError(ctx, err, "delete %d events of account %q", len(ids), accountID)
}

// insertTombstones inserts the tombstones of the account's ids; a tombstone
// that is there already is kept.
func (s *Store) insertTombstones(ctx context.Context, accountID string, ids []string) error {
	now := time.Now().UTC()
	docs := make([]any, len(ids))
	for i, id := range ids {
		docs[i] = bson.D{{Key: fieldKey, Value: keyDoc(accountID, id)}, {Key: "at", Value: now}}
	}
	_, err := s.tombs.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil && ctx.Err() == nil {
		for _, we := range bwe.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return mapError(ctx, we, "insert a tombstone of account %q", accountID)
			}
		}
		return nil
	}
	return mapError(ctx, err, "insert %d tombstones of account %q", len(ids), accountID)
}

// DeleteEvent implements [eventstore.EventDeleter]: it inserts the key's
// tombstone, then deletes the key's documents (see [TombstoneSuffix] and
// the ordering above).
func (s *Store) DeleteEvent(ctx context.Context, accountID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := eventstore.ValidateKey(accountID, id); err != nil {
		return fmt.Errorf("mongodao: delete: %w: %v", eventstore.ErrInvalidArgument, err)
	}
	if err := s.insertTombstones(ctx, accountID, []string{id}); err != nil {
		return err
	}
	return s.removeDocs(ctx, accountID, []string{id})
}

// EraseAccount implements [eventstore.EventDeleter]: it scans the
// account, tombstones and deletes what it found, and scans again until the
// account holds no event. Documents of the account that are not readable
// events (see [eventstore.ErrUnreadable]) are left, since no event ID can
// be read from them: find them with a scan and remove them by hand.
// An account ID that [eventstore.ValidateAccountID] refuses matches
// [eventstore.ErrInvalidArgument], before the server is asked.
func (s *Store) EraseAccount(ctx context.Context, accountID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Refused before the server is asked, as MigratingStore refuses it.
	if err := eventstore.ValidateAccountID(accountID); err != nil {
		return nil, fmt.Errorf("mongodao: erase: %w: %v", eventstore.ErrInvalidArgument, err)
	}
	return scanids.Erase(ctx, s, accountID, func(ctx context.Context, ids []string) (int, error) {
		for lo := 0; lo < len(ids); lo += s.findBatch {
			chunk := ids[lo:min(lo+s.findBatch, len(ids))]
			if err := s.insertTombstones(ctx, accountID, chunk); err != nil {
				return lo, err
			}
			if err := s.removeDocs(ctx, accountID, chunk); err != nil {
				return lo, err
			}
		}
		return len(ids), nil
	})
}

var _ eventstore.TombstonePurger = (*Store)(nil)

// PurgeTombstones implements [eventstore.TombstonePurger] with one
// DeleteMany on the tombstone collection's at field (not indexed: it scans
// the collection, which is small next to the events').
//
// In a layout with soft deletes it returns an error matching
// [errors.ErrUnsupported] and purges nothing: there the soft-deleted
// documents are the application's tombstones, which keep their keys deleted
// for good, so a purge could not free a key as the contract says.
func (s *Store) PurgeTombstones(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.layout.SoftDelete.Field != "" {
		return 0, fmt.Errorf("mongodao: purge tombstones: %w: in a layout with soft deletes (deleted=%s), soft-deleted documents keep their keys deleted for good",
			errors.ErrUnsupported, s.layout.SoftDelete.Field)
	}
	res, err := s.tombs.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}})
	if err != nil {
		return 0, mapError(ctx, err, "purge tombstones")
	}
	return int(res.DeletedCount), nil
}
