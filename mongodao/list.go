package mongodao

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	if s.layout.stringTimes() {
		return s.listStrings(ctx, q)
	}
	f := s.fields()
	filter, err := f.listFilter(q)
	if err != nil {
		return eventstore.Page{}, err
	}
	filter = s.live(filter)
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

// listStrings is ListEvents over RFC 3339 strings, which do not sort as
// times in every form: the server sorts them, on the list index, and the
// page is ordered by (Time, ID) on the client. The server's string order is
// the time order to the second (for one offset), so the query reads the
// window's documents in string order and stops when no later document can
// enter the page: at the first second after the page's last event, or, for
// mixed offsets, a day after it (an offset is less than a day). The
// filter's bounds are the seconds of the window, checked on the client to
// the millisecond, so a time finer than a millisecond lists by its
// truncated value.
func (s *Store) listStrings(ctx context.Context, q eventstore.ListQuery) (eventstore.Page, error) {
	l := s.layout
	start := q.Start
	if q.After != nil && q.After.Time.After(start) {
		start = q.After.Time
	}
	lo, hi := l.listWindow(start, q.End)
	rng := bson.D{{Key: "$type", Value: "string"}}
	if lo != "" {
		rng = append(rng, bson.E{Key: "$gte", Value: lo})
	}
	if hi != "" {
		rng = append(rng, bson.E{Key: "$lt", Value: hi})
	}
	filter := s.live(bson.D{{Key: l.Account, Value: q.AccountID}, {Key: l.Time, Value: rng}})
	batch := q.Limit + 1
	if l.TimeOffset == TimeOffsetMixed {
		batch = max(batch, 256)
	}
	find := options.Find().SetSort(bson.D{{Key: l.Time, Value: 1}, {Key: l.ID, Value: 1}}).SetBatchSize(int32(batch))
	cur, err := s.coll.Find(ctx, filter, find)
	if err != nil {
		return eventstore.Page{}, mapError(ctx, err, "list account %q", q.AccountID)
	}
	defer closeCursor(ctx, cur)
	want := q.Limit + 1
	var cands []eventstore.Event
	trim := func() {
		slices.SortFunc(cands, func(a, b eventstore.Event) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		if len(cands) > want {
			cands = cands[:want]
		}
	}
	var group time.Time
	for cur.Next(ctx) {
		earliest, ok, err := l.earliestAfter(cur.Current)
		if err != nil {
			return eventstore.Page{}, fmt.Errorf("mongodao: %w: list account %q: document %s: %v", eventstore.ErrInvalidArgument, q.AccountID, describe(cur.Current), err)
		}
		if ok && !earliest.Equal(group) {
			trim()
			if len(cands) == want && earliest.After(cands[want-1].Time) {
				break // every later document is later than the page
			}
			group = earliest
		}
		evt, err := s.decode(cur.Current)
		if err != nil {
			return eventstore.Page{}, err
		}
		if evt.Time.Before(q.Start) || !evt.Time.Before(q.End) {
			continue
		}
		if a := q.After; a != nil && (evt.Time.Before(a.Time) || evt.Time.Equal(a.Time) && evt.ID <= a.ID) {
			continue
		}
		cands = append(cands, evt)
	}
	if err := cur.Err(); err != nil {
		return eventstore.Page{}, mapError(ctx, err, "list account %q", q.AccountID)
	}
	trim()
	var page eventstore.Page
	if len(cands) > q.Limit {
		page.NextCursor = q.NextCursor(cands[q.Limit-1])
		cands = cands[:q.Limit]
	}
	if len(cands) > 0 {
		page.Events = cands
	}
	return page, nil
}
