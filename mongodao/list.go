package mongodao

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// ListEvents implements [eventstore.EventStore] with one query on the
// (account, time, id) index: it fetches Limit+1 events, so that NextCursor is
// set only when another event follows.
func (s *Store) ListEvents(ctx context.Context, accountID string, opts eventstore.ListOptions) (eventstore.Page, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return eventstore.Page{}, err
	}
	f := s.fields()
	filter, err := f.listFilter(q)
	if err != nil {
		return eventstore.Page{}, err
	}
	// A positive limit: a single batch (negative limit) would save FerretDB
	// a killCursors, but silently truncates a page beyond 16 MiB.
	fetch := int64(q.Limit) + 1
	sort := bson.D{{Key: f.time, Value: 1}, {Key: f.id, Value: 1}}
	find := options.Find().SetSort(sort).SetLimit(fetch).SetBatchSize(int32(fetch))
	cur, err := s.coll.Find(ctx, filter, find)
	if err != nil {
		return eventstore.Page{}, mapError(ctx, err, "list account %q", accountID)
	}
	defer closeCursor(ctx, cur)
	var page eventstore.Page
	for cur.Next(ctx) {
		if len(page.Events) == q.Limit {
			page.NextCursor = q.NextCursor(page.Events[len(page.Events)-1])
			break
		}
		evt, err := s.decode(cur.Current)
		if err != nil {
			return eventstore.Page{}, err
		}
		page.Events = append(page.Events, evt)
	}
	if err := cur.Err(); err != nil {
		return eventstore.Page{}, mapError(ctx, err, "list account %q", accountID)
	}
	return page, nil
}

// fieldSet names the document fields that queries use, and encodes their
// values, for the store's layout.
type fieldSet struct {
	account, id, time string
	l                 Layout
}

func (s *Store) fields() fieldSet {
	if s.layout.IsDefault() {
		return fieldSet{account: fieldAccount, id: fieldID, time: fieldTime}
	}
	return fieldSet{account: s.layout.Account, id: s.layout.ID, time: s.layout.Time, l: s.layout}
}

// timeBound returns the stored value to compare a time with: "field >= v"
// (or "field > v" when strict) selects the events at or after (after) t.
func (f fieldSet) timeBound(t time.Time, strict bool) any {
	if f.l.TimeFormat == TimeUnix {
		ms := t.UnixMilli()
		sec := ms / 1000
		if !strict && ms%1000 != 0 {
			sec++ // at or after t: from the next whole second
		}
		return sec
	}
	if f.l.IsDefault() {
		return bson.NewDateTimeFromTime(t)
	}
	return f.l.timeValue(t)
}

// listFilter selects q's events: the account, Start <= time < End and, after
// a cursor at (T, I), time >= T and (time > T or id > I). Every value is a
// plain BSON value, never parsed from the caller's strings.
func (f fieldSet) listFilter(q eventstore.ListQuery) (bson.D, error) {
	start := q.Start
	if q.After != nil && q.After.Time.After(start) {
		start = q.After.Time
	}
	filter := bson.D{
		{Key: f.account, Value: q.AccountID},
		{Key: f.time, Value: bson.D{
			{Key: "$gte", Value: f.timeBound(start, false)},
			{Key: "$lt", Value: f.timeBound(q.End, false)},
		}},
	}
	if q.After != nil {
		var id any = q.After.ID
		if !f.l.IsDefault() {
			v, err := f.l.encodeID(q.After.ID)
			if err != nil {
				return nil, fmt.Errorf("%w: the cursor's event ID: %v", eventstore.ErrInvalidCursor, err)
			}
			id = v
		}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: f.time, Value: bson.D{{Key: "$gt", Value: f.timeBound(q.After.Time, true)}}}},
			bson.D{{Key: f.id, Value: bson.D{{Key: "$gt", Value: id}}}},
		}})
	}
	return filter, nil
}
