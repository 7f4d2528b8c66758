package mongodao

import (
	"context"
	"iter"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate"
)

// scanSort is the scan order: _id, that is (account, id), bytewise.
var scanSort = bson.D{{Key: fieldKey, Value: 1}}

// ScanEvents implements [flagmigrate.EventScanner] with one cursor, sorted by
// _id (the (account, id) order, bytewise) and served by the _id index, that
// fetches ScanOptions.BatchSize (else Options.ScanBatchSize) events per round
// trip. An account scan is a range of _id; After becomes a lower bound on
// _id; segment k of n selects the documents whose seg is k modulo n, the
// same split as [flagmigrate.SegmentOf] (documents without seg are read by
// every segment and yielded by the one SegmentOf names).
//
// The cursor is closed when the caller stops or the sequence ends, with the
// caller's context: a scan never outlives its deadline, and a cursor that
// could not be killed is reaped by the server. A cursor left idle longer
// than the server's cursor timeout (10 minutes by default) ends the scan
// with an error; resume it from the last key.
func (s *Store) ScanEvents(ctx context.Context, opts flagmigrate.ScanOptions) iter.Seq2[flagmigrate.Event, error] {
	return func(yield func(flagmigrate.Event, error) bool) {
		if err := opts.Validate(); err != nil {
			yield(flagmigrate.Event{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(flagmigrate.Event{}, err)
			return
		}
		filter, ok := scanFilter(opts)
		if !ok {
			return // resuming after the scanned account: nothing left
		}
		batch := opts.BatchSize
		if batch == 0 {
			batch = s.scanBatch
		}
		find := options.Find().SetSort(scanSort).SetBatchSize(int32(min(batch, math.MaxInt32)))
		cur, err := s.coll.Find(ctx, filter, find)
		if err != nil {
			yield(flagmigrate.Event{}, mapError(ctx, err, "scan"))
			return
		}
		defer closeCursor(ctx, cur)
		for cur.Next(ctx) {
			evt, err := decodeEvent(cur.Current)
			if err == nil && opts.Segments > 1 && flagmigrate.SegmentOf(evt.AccountID, opts.Segments) != opts.Segment {
				continue // no seg: another segment's
			}
			if !yield(evt, err) || err != nil {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(flagmigrate.Event{}, mapError(ctx, err, "scan"))
		}
	}
}

// scanFilter returns the filter of a scan, or false when the scan is empty.
func scanFilter(opts flagmigrate.ScanOptions) (bson.D, bool) {
	var filter bson.D
	var idRange bson.D
	if a := opts.AccountID; a != "" {
		// Account IDs hold no NUL, so a+"\x00" is the first account after a.
		switch {
		case opts.After == nil || opts.After.AccountID < a:
			idRange = bson.D{{Key: "$gte", Value: keyDoc(a, "")}}
		case opts.After.AccountID == a:
			idRange = bson.D{{Key: "$gt", Value: keyDoc(a, opts.After.ID)}}
		default:
			return nil, false
		}
		idRange = append(idRange, bson.E{Key: "$lt", Value: keyDoc(a+"\x00", "")})
	} else if opts.After != nil {
		idRange = bson.D{{Key: "$gt", Value: keyDoc(opts.After.AccountID, opts.After.ID)}}
	}
	if idRange != nil {
		filter = append(filter, bson.E{Key: fieldKey, Value: idRange})
	}
	if opts.Segments > 1 {
		// Documents without a numeric seg (written by other tools) are read
		// by every segment and kept by the one SegmentOf gives.
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: fieldSeg, Value: bson.D{{Key: "$mod", Value: bson.A{int64(opts.Segments), int64(opts.Segment)}}}}},
			bson.D{{Key: fieldSeg, Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$type", Value: "number"}}}}}},
		}})
	}
	if filter == nil {
		filter = bson.D{}
	}
	return filter, true
}
