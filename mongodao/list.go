package mongodao

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate"
)

// listSort is ListEvents' order, served by the (account, time, id) index.
var listSort = bson.D{{Key: fieldTime, Value: 1}, {Key: fieldID, Value: 1}}

// ListEvents implements [flagmigrate.EventStore] with one query on the
// (account, time, id) index: it fetches Limit+1 events, so that NextCursor is
// set only when another event follows.
func (s *Store) ListEvents(ctx context.Context, accountID string, opts flagmigrate.ListOptions) (flagmigrate.Page, error) {
	if err := ctx.Err(); err != nil {
		return flagmigrate.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return flagmigrate.Page{}, err
	}
	// A positive limit: a single batch (negative limit) would save FerretDB
	// a killCursors, but silently truncates a page beyond 16 MiB.
	fetch := int64(q.Limit) + 1
	find := options.Find().SetSort(listSort).SetLimit(fetch).SetBatchSize(int32(fetch))
	cur, err := s.coll.Find(ctx, listFilter(q), find)
	if err != nil {
		return flagmigrate.Page{}, mapError(ctx, err, "list account %q", accountID)
	}
	defer closeCursor(ctx, cur)
	var page flagmigrate.Page
	for cur.Next(ctx) {
		if len(page.Events) == q.Limit {
			page.NextCursor = q.NextCursor(page.Events[len(page.Events)-1])
			break
		}
		evt, err := decodeEvent(cur.Current)
		if err != nil {
			return flagmigrate.Page{}, err
		}
		page.Events = append(page.Events, evt)
	}
	if err := cur.Err(); err != nil {
		return flagmigrate.Page{}, mapError(ctx, err, "list account %q", accountID)
	}
	return page, nil
}

// listFilter selects q's events: the account, Start <= time < End and, after
// a cursor at (T, I), time >= T and (time > T or id > I). Every value is a
// plain BSON value, never parsed from the caller's strings.
func listFilter(q flagmigrate.ListQuery) bson.D {
	start := q.Start
	if q.After != nil && q.After.Time.After(start) {
		start = q.After.Time
	}
	filter := bson.D{
		{Key: fieldAccount, Value: q.AccountID},
		{Key: fieldTime, Value: bson.D{
			{Key: "$gte", Value: bson.NewDateTimeFromTime(start)},
			{Key: "$lt", Value: bson.NewDateTimeFromTime(q.End)},
		}},
	}
	if q.After != nil {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: fieldTime, Value: bson.D{{Key: "$gt", Value: bson.NewDateTimeFromTime(q.After.Time)}}}},
			bson.D{{Key: fieldID, Value: bson.D{{Key: "$gt", Value: q.After.ID}}}},
		}})
	}
	return filter
}
