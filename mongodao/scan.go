package mongodao

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// ScanEvents implements [eventstore.EventScanner] with one cursor that
// fetches ScanOptions.BatchSize (else Options.ScanBatchSize) events per
// round trip:
//
//   - default layout: sorted by _id, that is (account, id) bytewise, served by
//     the _id index; segment k of n selects the documents whose seg is k
//     modulo n, the same split as [eventstore.SegmentOf] (documents without
//     seg are read by every segment and yielded by the one SegmentOf names);
//   - a layout whose ID is _id: sorted by _id (an account scan: that account's
//     documents, by _id);
//   - another layout: sorted by (account, id, _id), served by the unique
//     (account, id) index, so that two documents with one key are adjacent:
//     both are reported, never merged.
//
// In a layout, a segmented scan reads every document and keeps those of the
// accounts [eventstore.SegmentOf] assigns to its segment (a document it
// cannot read goes to the segment of its account field, else of its _id).
// After resumes after a key, as a lower bound on the sort.
//
// A document that is not a readable event is yielded as a
// [*eventstore.UnreadableError] naming its _id and the field, and the scan
// goes on if the caller keeps iterating.
//
// The cursor is closed when the caller stops or the sequence ends, with the
// caller's context: a scan never outlives its deadline, and a cursor that
// could not be killed is reaped by the server. A cursor left idle longer
// than the server's cursor timeout (10 minutes by default) ends the scan
// with an error; resume it from the last key.
func (s *Store) ScanEvents(ctx context.Context, opts eventstore.ScanOptions) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		if err := opts.Validate(); err != nil {
			yield(eventstore.Event{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(eventstore.Event{}, err)
			return
		}
		var (
			filter bson.D
			sort   bson.D
			ok     bool
			err    error
		)
		if s.layout.IsDefault() {
			filter, ok = scanFilter(opts)
			sort = bson.D{{Key: fieldKey, Value: 1}}
		} else {
			filter, sort, ok, err = s.layoutScan(opts)
			if err != nil {
				yield(eventstore.Event{}, err)
				return
			}
		}
		if !ok {
			return // resuming after the scanned account: nothing left
		}
		batch := opts.BatchSize
		if batch == 0 {
			batch = s.scanBatch
		}
		find := options.Find().SetSort(sort).SetBatchSize(int32(min(batch, math.MaxInt32)))
		cur, err := s.coll.Find(ctx, filter, find)
		if err != nil {
			yield(eventstore.Event{}, mapError(ctx, err, "scan"))
			return
		}
		defer closeCursor(ctx, cur)
		dups := s.dupFinder(yield)
		for cur.Next(ctx) {
			if s.layout.SoftDelete.isMarked(cur.Current) {
				s.counts.softDeleted.Add(1)
				continue // absent, counted
			}
			evt, err := s.decode(cur.Current)
			if opts.Segments > 1 && s.segmentOf(cur.Current, evt, err, opts.Segments) != opts.Segment {
				continue // another segment's
			}
			if !dups.next(cur.Current, evt, err) {
				return
			}
		}
		if !dups.flush() {
			return
		}
		if err := cur.Err(); err != nil {
			yield(eventstore.Event{}, mapError(ctx, err, "scan"))
		}
	}
}

// segmentOf is the segment a scanned document belongs to.
func (s *Store) segmentOf(raw bson.Raw, evt eventstore.Event, err error, n int) int {
	if err == nil {
		return eventstore.SegmentOf(evt.AccountID, n)
	}
	if s.layout.IsDefault() {
		// The filter chose the documents with a numeric seg by it.
		if v, lerr := raw.LookupErr(fieldSeg); lerr == nil {
			if seg, ok := v.AsInt64OK(); ok {
				return int(((seg % int64(n)) + int64(n)) % int64(n))
			}
		}
	}
	f := s.fields()
	if v, lerr := raw.LookupErr(f.account); lerr == nil {
		if a, ok := v.StringValueOK(); ok {
			return eventstore.SegmentOf(a, n)
		}
	}
	return eventstore.SegmentOf(describe(raw), n)
}

// dupFinder yields a scan's results, holding back one event so that two
// adjacent documents with one key are both reported as unreadable. Only
// layouts whose ID is not _id can hold such pairs; the others pass through.
type dupFinder struct {
	yield   func(eventstore.Event, error) bool
	check   bool
	held    *eventstore.Event
	heldRaw bson.Raw
	dupKey  *eventstore.EventKey // the key of the last pair found
}

func (s *Store) dupFinder(yield func(eventstore.Event, error) bool) *dupFinder {
	return &dupFinder{yield: yield, check: !s.layout.IsDefault() && !s.layout.idIsKey()}
}

// next takes one scanned document; it returns false when the scan must stop.
func (d *dupFinder) next(raw bson.Raw, evt eventstore.Event, err error) bool {
	if !d.check || err != nil {
		if err != nil && !errors.Is(err, eventstore.ErrUnreadable) {
			d.yield(eventstore.Event{}, err)
			return false
		}
		return d.yield(evt, err)
	}
	k := evt.Key()
	switch {
	case d.dupKey != nil && *d.dupKey == k:
		return d.yield(eventstore.Event{}, duplicate(nil, raw, k))
	case d.held != nil && d.held.Key() == k:
		first := d.heldRaw
		d.held, d.heldRaw, d.dupKey = nil, nil, &k
		return d.yield(eventstore.Event{}, duplicate(raw, first, k)) &&
			d.yield(eventstore.Event{}, duplicate(first, raw, k))
	}
	if !d.flush() {
		return false
	}
	d.held, d.heldRaw = &evt, bson.Raw(append([]byte(nil), raw...))
	return true
}

// flush yields the event held back, if any.
func (d *dupFinder) flush() bool {
	if d.held == nil {
		return true
	}
	e := *d.held
	d.held, d.heldRaw = nil, nil
	return d.yield(e, nil)
}

// layoutScan returns the filter and sort of a scan in a layout, or false
// when the scan is empty.
func (s *Store) layoutScan(opts eventstore.ScanOptions) (filter, sort bson.D, ok bool, err error) {
	l := s.layout
	filter = bson.D{}
	if l.idIsKey() {
		sort = bson.D{{Key: fieldKey, Value: 1}}
	} else {
		sort = bson.D{{Key: l.Account, Value: 1}, {Key: l.ID, Value: 1}, {Key: fieldKey, Value: 1}}
	}
	var after any
	if opts.After != nil {
		if after, err = l.encodeID(opts.After.ID); err != nil {
			return nil, nil, false, argError("scan: After: %v", err)
		}
	}
	a := opts.AccountID
	switch {
	case a != "":
		if opts.After != nil && opts.After.AccountID > a {
			return nil, nil, false, nil
		}
		filter = append(filter, bson.E{Key: l.Account, Value: a})
		if opts.After != nil && opts.After.AccountID == a {
			filter = append(filter, bson.E{Key: l.ID, Value: bson.D{{Key: "$gt", Value: after}}})
		}
	case opts.After == nil:
	case l.idIsKey():
		filter = append(filter, bson.E{Key: fieldKey, Value: bson.D{{Key: "$gt", Value: after}}})
	default:
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: l.Account, Value: bson.D{{Key: "$gt", Value: opts.After.AccountID}}}},
			bson.D{{Key: l.Account, Value: opts.After.AccountID}, {Key: l.ID, Value: bson.D{{Key: "$gt", Value: after}}}},
		}})
	}
	return filter, sort, true, nil
}

// scanFilter returns the filter of a scan in the default layout, or false
// when the scan is empty.
func scanFilter(opts eventstore.ScanOptions) (bson.D, bool) {
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

func argError(format string, args ...any) error {
	return fmt.Errorf("mongodao: %w: "+format, append([]any{eventstore.ErrInvalidArgument}, args...)...)
}
