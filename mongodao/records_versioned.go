package mongodao

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/flagmigrate/flagmigrate/recordstore"
)

// The insert-only layout (RecordOptions.InsertOnly): one document per
// version, {_id: {a, i, v}, data | del+at, seg}. A key's state is its
// document with the highest version. Every write is an insert, which the
// unique _id makes atomic on any server, FerretDB v1 included:
//
//   - PutIfNewer inserts its version: a duplicate key means that version
//     is there (stale); else the write is applied, unless a higher version
//     exists (then it is stale: its document is never the highest).
//   - CompareAndSet reads the key's highest document (expected must be it,
//     live; expected 0: none, or a tombstone at t, and then the new version
//     is t+1) and inserts version expected+1: a duplicate key means another
//     writer took that version first (a conflict). A copy of a higher
//     version arriving between the read and the insert would hide the new
//     version at once; copies go to the other store, not to the one
//     written by compare-and-set.
//
// Versions are never removed by writes: a version's document is the proof
// that the version was taken, and a compare-and-set that read before it
// must get its duplicate key, however late it comes. (Removing the
// versions below a new one let such a late writer insert a version again
// and lose an update.) So the collection keeps every version written;
// PurgeTombstones removes a deleted key's versions, and removing the
// superseded versions of live keys is left to a later purge.

// vKeyDoc is the _id of version v of a key.
func vKeyDoc(accountID, id string, v int64) bson.D {
	return bson.D{{Key: keyAccount, Value: accountID}, {Key: keyID, Value: id}, {Key: recVersion, Value: v}}
}

// vKeyRange selects every version of a key with lo <= v <= hi.
func vKeyRange(accountID, id string, lo, hi int64) bson.E {
	return bson.E{Key: fieldKey, Value: bson.D{
		{Key: "$gte", Value: vKeyDoc(accountID, id, lo)},
		{Key: "$lte", Value: vKeyDoc(accountID, id, hi)},
	}}
}

// vAccountRange is the _id range of an account's documents after the key
// with ID after ("" for all of them).
func vAccountRange(accountID, after string) bson.D {
	lo := bson.E{Key: "$gte", Value: vKeyDoc(accountID, "", 0)}
	if after != "" {
		lo = bson.E{Key: "$gt", Value: vKeyDoc(accountID, after, math.MaxInt64)}
	}
	return bson.D{lo, {Key: "$lt", Value: vKeyDoc(accountID+"\x00", "", 0)}}
}

// encodeVersioned returns the document of the canonical c in the
// insert-only layout.
func encodeVersioned(c recordstore.Record, now time.Time) ([]byte, error) {
	doc, dst := bsoncore.AppendDocumentStart(make([]byte, 0, docBufSize))
	kidx, dst := bsoncore.AppendDocumentElementStart(dst, fieldKey)
	dst = bsoncore.AppendStringElement(dst, keyAccount, c.AccountID)
	dst = bsoncore.AppendStringElement(dst, keyID, c.ID)
	dst = bsoncore.AppendInt64Element(dst, recVersion, c.Version)
	dst, err := bsoncore.AppendDocumentEnd(dst, kidx)
	if err != nil {
		return nil, err
	}
	if c.Deleted {
		dst = bsoncore.AppendBooleanElement(dst, recDeleted, true)
		dst = bsoncore.AppendDateTimeElement(dst, recDeletedAt, now.UnixMilli())
	} else if c.Data != nil {
		if dst, err = appendMap(dst, recData, c.Data, true); err != nil {
			return nil, err
		}
	}
	dst = bsoncore.AppendInt64Element(dst, fieldSeg, segmentHash(c.AccountID))
	return bsoncore.AppendDocumentEnd(dst, doc)
}

// readVersionedKey reads an insert-only _id: {a: <string>, i: <string>,
// v: <int64>}.
func readVersionedKey(v bsoncore.Value) (account, id string, version int64, err error) {
	if v.Type != bsoncore.TypeEmbeddedDocument {
		return "", "", 0, fmt.Errorf("is a BSON %s, not the document {a, i, v} of the insert-only layout", v.Type)
	}
	var n int
	var okA, okI, okV bool
	err = forEach(v.Data, func(k string, x bsoncore.Value) error {
		n++
		switch k {
		case keyAccount:
			account, okA = x.StringValueOK()
		case keyID:
			id, okI = x.StringValueOK()
		case recVersion:
			version, okV = x.Int64OK()
		}
		return nil
	})
	if err == nil && (n != 3 || !okA || !okI || !okV) {
		err = errors.New("is not the document {a: <account>, i: <id>, v: <64-bit version>}")
	}
	return account, id, version, err
}

// decodeVersioned reads a document of the insert-only layout by turning
// it into the per-key layout's shape: the same fields, the version beside
// the key.
func decodeVersioned(raw bson.Raw) (recordstore.Record, error) {
	kv, err := raw.LookupErr(fieldKey)
	if err != nil {
		return recordstore.Record{}, &recordstore.UnreadableError{Record: describe(raw), Field: fieldKey, Err: errors.New("is missing")}
	}
	a, i, v, err := readVersionedKey(bsoncore.Value{Type: bsoncore.Type(kv.Type), Data: kv.Value})
	if err != nil {
		return recordstore.Record{}, &recordstore.UnreadableError{Record: describe(raw), Field: fieldKey, Err: err}
	}
	doc, dst := bsoncore.AppendDocumentStart(make([]byte, 0, len(raw)+16))
	kidx, dst := bsoncore.AppendDocumentElementStart(dst, fieldKey)
	dst = bsoncore.AppendStringElement(dst, keyAccount, a)
	dst = bsoncore.AppendStringElement(dst, keyID, i)
	dst, _ = bsoncore.AppendDocumentEnd(dst, kidx)
	dst = bsoncore.AppendInt64Element(dst, recVersion, v)
	err = forEach(raw, func(key string, x bsoncore.Value) error {
		if key != fieldKey && key != recVersion {
			dst = bsoncore.AppendValueElement(dst, key, x)
		}
		return nil
	})
	if err != nil {
		return recordstore.Record{}, &recordstore.UnreadableError{Record: describe(raw), Err: err}
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, doc)
	r, err := decodeRecord(bson.Raw(dst))
	var u *recordstore.UnreadableError
	if errors.As(err, &u) {
		u.Record = describe(raw)
	}
	return r, err
}

// vHighest returns the key's highest document (found false when none).
func (s *RecordStore) vHighest(ctx context.Context, coll *mongo.Collection, accountID, id string) (recordstore.Record, bool, error) {
	raw, err := coll.FindOne(ctx, bson.D{vKeyRange(accountID, id, 0, math.MaxInt64)},
		options.FindOne().SetSort(bson.D{{Key: fieldKey, Value: -1}})).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return recordstore.Record{}, false, nil
	}
	if err != nil {
		return recordstore.Record{}, false, recMapError(ctx, err, "get account %q record %q", accountID, id)
	}
	r, err := decodeVersioned(raw)
	return r, err == nil, err
}

// vInsert inserts the canonical c's version; it reports false on a
// duplicate key (the version is there).
func (s *RecordStore) vInsert(ctx context.Context, c recordstore.Record) (bool, error) {
	doc, err := encodeVersioned(c, time.Now())
	if err != nil {
		return false, err
	}
	_, err = s.coll.InsertOne(ctx, bson.Raw(doc))
	switch {
	case err == nil:
		return true, nil
	case mongo.IsDuplicateKeyError(err) && ctx.Err() == nil:
		return false, nil
	}
	return false, recMapError(ctx, err, "insert account %q record %q version %d", c.AccountID, c.ID, c.Version)
}

// vAbove reports whether the key has a version above v.
func (s *RecordStore) vAbove(ctx context.Context, accountID, id string, v int64) (bool, error) {
	if v == math.MaxInt64 {
		return false, nil
	}
	n, err := s.primary.CountDocuments(ctx, bson.D{vKeyRange(accountID, id, v+1, math.MaxInt64)}, options.Count().SetLimit(1))
	if err != nil {
		return false, recMapError(ctx, err, "read account %q record %q", accountID, id)
	}
	return n > 0, nil
}

// vRemove removes the key's versions lo..hi. Removing versions below the
// highest never changes the key's state.
func (s *RecordStore) vRemove(ctx context.Context, accountID, id string, lo, hi int64) error {
	if hi < lo {
		return nil
	}
	_, err := s.coll.DeleteMany(ctx, bson.D{vKeyRange(accountID, id, lo, hi)})
	return recMapError(ctx, err, "remove old versions of account %q record %q", accountID, id)
}

// vPutIfNewer is PutIfNewer in the insert-only layout.
func (s *RecordStore) vPutIfNewer(ctx context.Context, c recordstore.Record) (recordstore.PutOutcome, error) {
	ok, err := s.vInsert(ctx, c)
	if err != nil || !ok {
		return recordstore.Stale, err
	}
	above, err := s.vAbove(ctx, c.AccountID, c.ID, c.Version)
	if err != nil {
		return "", err
	}
	if above {
		return recordstore.Stale, nil // never the highest: never the key's state
	}
	return recordstore.Applied, nil
}

// vCompareAndWrite is CompareAndSet (and, with c a tombstone,
// CompareAndDelete) in the insert-only layout: c's version is
// expected+1, or for expected 0 set here above a tombstone.
func (s *RecordStore) vCompareAndWrite(ctx context.Context, c recordstore.Record, expected int64) (recordstore.Record, error) {
	conflict := func(current int64) error {
		return &recordstore.ConflictError{AccountID: c.AccountID, ID: c.ID, Expected: expected, Current: current}
	}
	top, found, err := s.vHighest(ctx, s.primary, c.AccountID, c.ID)
	if err != nil {
		return recordstore.Record{}, err
	}
	live := int64(0)
	if found && !top.Deleted {
		live = top.Version
	}
	if live != expected {
		return recordstore.Record{}, conflict(live)
	}
	if expected == 0 && found {
		if top.Version == recordstore.MaxVersion {
			return recordstore.Record{}, fmt.Errorf("mongodao: account %q record %q: %w: the tombstone is at MaxVersion", c.AccountID, c.ID, recordstore.ErrInvalidArgument)
		}
		c.Version = top.Version + 1 // above the tombstone
	}
	ok, err := s.vInsert(ctx, c)
	if err != nil {
		return recordstore.Record{}, err
	}
	if !ok { // another writer took this version
		top, found, err := s.vHighest(ctx, s.primary, c.AccountID, c.ID)
		if err != nil {
			return recordstore.Record{}, err
		}
		if !found || top.Deleted {
			return recordstore.Record{}, conflict(0)
		}
		return recordstore.Record{}, conflict(top.Version)
	}
	// No check for a higher version afterwards: one above ours is either
	// a compare-and-set built on ours (ours was the state: success), or a
	// copy's newer version, which the authoritative store, the one written
	// by compare-and-set, does not receive while it is authoritative.
	return c, nil
}

// vScan streams the insert-only documents matching filter in _id order and
// yields each key's highest version (tombstones only when tombstones),
// undecodable documents as errors.
func (s *RecordStore) vScan(ctx context.Context, filter bson.D, batch int, tombstones bool) iter.Seq2[recordstore.Record, error] {
	return func(yield func(recordstore.Record, error) bool) {
		find := options.Find().SetSort(bson.D{{Key: fieldKey, Value: 1}}).SetBatchSize(int32(min(batch, math.MaxInt32)))
		cur, err := s.coll.Find(ctx, filter, find)
		if err != nil {
			yield(recordstore.Record{}, recMapError(ctx, err, "scan"))
			return
		}
		defer closeCursor(ctx, cur)
		var held *recordstore.Record // the highest version so far of the current key
		flush := func() bool {
			if held == nil || (held.Deleted && !tombstones) {
				held = nil
				return true
			}
			r := *held
			held = nil
			return yield(r, nil)
		}
		for cur.Next(ctx) {
			r, err := decodeVersioned(cur.Current)
			if err != nil {
				if !flush() || !yield(recordstore.Record{}, err) {
					return
				}
				continue
			}
			if held != nil && held.Key() != r.Key() && !flush() {
				return
			}
			held = &r // _id order: a later document of a key is a higher version
		}
		if !flush() {
			return
		}
		if err := cur.Err(); err != nil {
			yield(recordstore.Record{}, recMapError(ctx, err, "scan"))
		}
	}
}
