package mongodao

import (
	"context"
	"errors"
	"iter"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/flagmigrate/flagmigrate/recordstore"
)

// accountRange is the _id range of an account's documents after the ID
// after ("" for all of them). Account IDs hold no NUL, so {a: a+"\x00"} is
// above every _id of account a.
func accountRange(accountID, after string) bson.D {
	lo := bson.E{Key: "$gte", Value: keyDoc(accountID, "")}
	if after != "" {
		lo = bson.E{Key: "$gt", Value: keyDoc(accountID, after)}
	}
	return bson.D{lo, {Key: "$lt", Value: keyDoc(accountID+"\x00", "")}}
}

// notDeleted leaves tombstones out.
var notDeleted = bson.E{Key: recDeleted, Value: bson.D{{Key: "$exists", Value: false}}}

// List implements [recordstore.Store] with one query on an _id range of
// the account, without tombstones, sorted by _id, Limit+1 documents (the
// one more tells whether a next page exists).
func (s *RecordStore) List(ctx context.Context, accountID string, opts recordstore.ListOptions) (recordstore.Page, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return recordstore.Page{}, err
	}
	if s.insertOnly {
		var page recordstore.Page
		for r, err := range s.vScan(ctx, bson.D{{Key: fieldKey, Value: vAccountRange(accountID, q.After)}}, q.Limit+1, false) {
			if err != nil {
				return recordstore.Page{}, err
			}
			if len(page.Records) == q.Limit {
				page.NextCursor = q.NextCursor(page.Records[q.Limit-1].ID)
				break
			}
			page.Records = append(page.Records, r)
		}
		return page, nil
	}
	filter := bson.D{{Key: fieldKey, Value: accountRange(accountID, q.After)}, notDeleted}
	cur, err := s.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: fieldKey, Value: 1}}).SetLimit(int64(q.Limit+1)))
	if err != nil {
		return recordstore.Page{}, recMapError(ctx, err, "list account %q", accountID)
	}
	defer closeCursor(ctx, cur)
	var recs []recordstore.Record
	for cur.Next(ctx) {
		r, err := decodeRecord(cur.Current)
		if err != nil {
			return recordstore.Page{}, err
		}
		recs = append(recs, r)
	}
	if err := cur.Err(); err != nil {
		return recordstore.Page{}, recMapError(ctx, err, "list account %q", accountID)
	}
	var page recordstore.Page
	if len(recs) > q.Limit {
		recs = recs[:q.Limit]
		page.NextCursor = q.NextCursor(recs[q.Limit-1].ID)
	}
	page.Records = recs
	return page, nil
}

// Scan implements [recordstore.Scanner] with one cursor sorted by _id, that
// is (account, id) bytewise, fetching a batch per round trip: an account
// scan is the account's _id range, After an _id lower bound, and segment k
// of n the documents whose seg is k modulo n (the split of
// [eventstore.SegmentOf]). Tombstones are left out by the query unless
// ScanOptions.Tombstones. A document that is not a readable record is
// yielded as a [*recordstore.UnreadableError] and the scan goes on.
func (s *RecordStore) Scan(ctx context.Context, opts recordstore.ScanOptions) iter.Seq2[recordstore.Record, error] {
	return func(yield func(recordstore.Record, error) bool) {
		if err := opts.Validate(); err != nil {
			yield(recordstore.Record{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(recordstore.Record{}, err)
			return
		}
		filter := bson.D{}
		accountRange, afterKey := accountRange, func(k recordstore.Key) bson.D { return keyDoc(k.AccountID, k.ID) }
		if s.insertOnly {
			accountRange = vAccountRange
			afterKey = func(k recordstore.Key) bson.D { return vKeyDoc(k.AccountID, k.ID, math.MaxInt64) }
		}
		switch a := opts.AccountID; {
		case a != "":
			after := ""
			if opts.After != nil {
				switch {
				case opts.After.AccountID > a:
					return
				case opts.After.AccountID == a:
					after = opts.After.ID
				}
			}
			filter = append(filter, bson.E{Key: fieldKey, Value: accountRange(a, after)})
		case opts.After != nil:
			filter = append(filter, bson.E{Key: fieldKey, Value: bson.D{{Key: "$gt", Value: afterKey(*opts.After)}}})
		}
		if !opts.Tombstones && !s.insertOnly {
			filter = append(filter, notDeleted)
		}
		if opts.Segments > 1 {
			filter = append(filter, bson.E{Key: fieldSeg, Value: bson.D{{Key: "$mod", Value: bson.A{int64(opts.Segments), int64(opts.Segment)}}}})
		}
		batch := opts.BatchSize
		if batch == 0 {
			batch = s.scanBatch
		}
		if s.insertOnly {
			for r, err := range s.vScan(ctx, filter, batch, opts.Tombstones) {
				if !yield(r, err) {
					return
				}
			}
			return
		}
		find := options.Find().SetSort(bson.D{{Key: fieldKey, Value: 1}}).SetBatchSize(int32(min(batch, math.MaxInt32)))
		cur, err := s.coll.Find(ctx, filter, find)
		if err != nil {
			yield(recordstore.Record{}, recMapError(ctx, err, "scan"))
			return
		}
		defer closeCursor(ctx, cur)
		for cur.Next(ctx) {
			if !yield(decodeRecord(cur.Current)) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(recordstore.Record{}, recMapError(ctx, err, "scan"))
		}
	}
}

// CountRecords implements [recordstore.Counter] exactly, with
// CountDocuments on the account's _id range ("" for the whole collection),
// tombstones left out.
func (s *RecordStore) CountRecords(ctx context.Context, accountID string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.insertOnly {
		var n int64
		for _, err := range s.Scan(ctx, recordstore.ScanOptions{AccountID: accountID}) {
			if err != nil && !errors.Is(err, recordstore.ErrUnreadable) {
				return 0, err
			}
			if err == nil {
				n++
			}
		}
		return n, nil
	}
	filter := bson.D{notDeleted}
	if accountID != "" {
		filter = append(filter, bson.E{Key: fieldKey, Value: accountRange(accountID, "")})
	}
	n, err := s.coll.CountDocuments(ctx, filter)
	if err != nil {
		return 0, recMapError(ctx, err, "count records of account %q", accountID)
	}
	return n, nil
}

// PurgeTombstones implements [recordstore.TombstonePurger] with one
// DeleteMany on {del: true, at: {$lt: before}} (not indexed: it reads the
// collection).
func (s *RecordStore) PurgeTombstones(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	old := bson.D{{Key: recDeleted, Value: true}, {Key: recDeletedAt, Value: bson.D{{Key: "$lt", Value: before.UTC()}}}}
	if s.insertOnly {
		return s.vPurge(ctx, old)
	}
	res, err := s.coll.DeleteMany(ctx, old)
	if err != nil {
		return 0, recMapError(ctx, err, "purge tombstones")
	}
	return int(res.DeletedCount), nil
}

// vPurge removes, for each old tombstone of the insert-only layout, the
// tombstone and every version below it: a version above it (a record
// written after the delete) stays.
func (s *RecordStore) vPurge(ctx context.Context, old bson.D) (int, error) {
	cur, err := s.coll.Find(ctx, old, options.Find().SetProjection(bson.D{{Key: fieldKey, Value: 1}}))
	if err != nil {
		return 0, recMapError(ctx, err, "find old tombstones")
	}
	type tomb struct {
		a, i string
		v    int64
	}
	var found []tomb
	for cur.Next(ctx) {
		kv := cur.Current.Lookup(fieldKey)
		a, i, v, err := readVersionedKey(bsoncore.Value{Type: bsoncore.Type(kv.Type), Data: kv.Value})
		if err == nil {
			found = append(found, tomb{a, i, v})
		}
	}
	err = cur.Err()
	closeCursor(ctx, cur)
	if err != nil {
		return 0, recMapError(ctx, err, "find old tombstones")
	}
	for n, t := range found {
		if err := s.vRemove(ctx, t.a, t.i, 0, t.v); err != nil {
			return n, err
		}
	}
	return len(found), nil
}
