package eventstore

import (
	"context"
	"hash/fnv"
	"iter"
	"time"
)

// EventStore is the contract every store honours: the DAO a service reads and
// writes its events through. Implementations are safe for concurrent use.
//
// The conformance suite in package storetest checks every rule below.
type EventStore interface {
	// StoreEvent validates and canonicalises evt (see [Event.Canonical]) and
	// stores it. It is idempotent by (AccountID, ID): storing an identical
	// event again returns nil; an event with the same key but other content
	// returns an error matching ErrConflict and changes nothing. An invalid
	// event returns an error matching ErrInvalidEvent before anything is
	// written.
	StoreEvent(ctx context.Context, evt Event) error

	// FindEventByID returns the event with this key, in canonical form, or
	// an error matching ErrNotFound, also when id exists only under another
	// account.
	FindEventByID(ctx context.Context, accountID, id string) (Event, error)

	// ListEvents returns one page of an account's events ordered by (Time,
	// ID), the ID compared bytewise, within opts' time range. The page's
	// NextCursor, passed back in opts.Cursor, continues after the page's last
	// event; it is store-neutral, so the same query on two stores gives equal
	// pages and cursors.
	ListEvents(ctx context.Context, accountID string, opts ListOptions) (Page, error)
}

// Page bounds.
const (
	// DefaultListLimit is the page size when ListOptions.Limit is 0.
	DefaultListLimit = 100
	// MaxListLimit is the largest ListOptions.Limit.
	MaxListLimit = 1000
)

// ListOptions selects a page of an account's events.
type ListOptions struct {
	// Start is the earliest time included (inclusive); zero means no bound.
	Start time.Time
	// End is the first time excluded (exclusive); zero means no bound.
	End time.Time
	// Limit is the most events in the page: 0 means DefaultListLimit; more
	// than MaxListLimit or negative is an error.
	Limit int
	// Cursor is a previous page's NextCursor, or "" for the first page.
	Cursor string
}

// Page is one page of ListEvents.
type Page struct {
	// Events in (Time, ID) order; empty (possibly nil) when none match.
	Events []Event
	// NextCursor continues after the last event; "" when no event follows.
	NextCursor string
}

// ListQuery is a validated ListOptions, as a store executes it: the events of
// AccountID with Start <= Time < End, after the position After (when set),
// at most Limit of them. Stores obtain it from [ListOptions.Query].
type ListQuery struct {
	AccountID string
	Start     time.Time // inclusive, milliseconds, UTC; MinTime when unbounded
	End       time.Time // exclusive, milliseconds, UTC; after MaxTime when unbounded
	Limit     int       // 1..MaxListLimit
	After     *Position // nil on the first page
}

// Position is a point in an account's (Time, ID) order.
type Position struct {
	Time time.Time
	ID   string
}

// Query validates o for accountID and returns the query a store executes.
// Errors match ErrInvalidArgument or ErrInvalidCursor.
func (o ListOptions) Query(accountID string) (ListQuery, error) {
	if err := checkString("AccountID", accountID, MaxKeyBytes); err != nil {
		return ListQuery{}, argError("account ID %s", err.(*ValidationError).Reason)
	}
	q := ListQuery{AccountID: accountID, Start: MinTime(), End: MaxTime().Add(time.Millisecond), Limit: o.Limit}
	if !o.Start.IsZero() {
		q.Start = ceilMilli(o.Start)
	}
	if !o.End.IsZero() {
		q.End = ceilMilli(o.End)
	}
	switch {
	case o.Limit < 0:
		return ListQuery{}, argError("limit %d is negative", o.Limit)
	case o.Limit == 0:
		q.Limit = DefaultListLimit
	case o.Limit > MaxListLimit:
		return ListQuery{}, argError("limit %d exceeds MaxListLimit (%d)", o.Limit, MaxListLimit)
	}
	if !o.Start.IsZero() && !o.End.IsZero() && o.End.Before(o.Start) {
		return ListQuery{}, argError("end %s is before start %s", o.End.Format(time.RFC3339Nano), o.Start.Format(time.RFC3339Nano))
	}
	if o.Cursor != "" {
		p, err := decodeCursor(o.Cursor, accountID)
		if err != nil {
			return ListQuery{}, err
		}
		q.After = &p
	}
	return q, nil
}

// NextCursor returns the cursor that continues after evt.
func (q ListQuery) NextCursor(evt Event) string {
	return encodeCursor(q.AccountID, Position{Time: evt.Time, ID: evt.ID})
}

// ceilMilli rounds t up to the next millisecond: stored times are whole
// milliseconds, so "t <= Time" and "ceilMilli(t) <= Time" select the same events.
func ceilMilli(t time.Time) time.Time {
	t = t.UTC()
	if tr := t.Truncate(time.Millisecond); !tr.Equal(t) {
		return tr.Add(time.Millisecond)
	}
	return t.Truncate(time.Millisecond)
}

// EventScanner is an optional capability of a store: streaming every event,
// or one account's, in a stable order, for backfill and verify. All stores in
// this module implement it.
type EventScanner interface {
	// ScanEvents yields events in the store's stable order (with
	// opts.AccountID set: that account's events ordered by ID, bytewise),
	// starting after opts.After. A scan stopped after event e is resumed by
	// passing e.Key() as After. An error ends the sequence, except one that
	// matches ErrUnreadable (an [*UnreadableError]): the scanner yields it in
	// place of a stored record it cannot read, and continues with the next
	// record if the caller keeps iterating.
	ScanEvents(ctx context.Context, opts ScanOptions) iter.Seq2[Event, error]
}

// ScanOptions selects what ScanEvents yields.
type ScanOptions struct {
	// AccountID, when set, limits the scan to one account.
	AccountID string
	// After resumes the scan after this key (exclusive): the key of the last
	// event a previous scan with the same options yielded.
	After *EventKey
	// Segment and Segments split a whole-store scan into Segments disjoint
	// parts whose union is the whole store; Segment is 0..Segments-1.
	// Segments 0 or 1 scans everything. How events are assigned to segments
	// is the store's choice (stable for a given Segments).
	Segment, Segments int
	// BatchSize is a hint for how many events to fetch per round trip;
	// 0 lets the store choose.
	BatchSize int
}

// Validate checks the options. Errors match ErrInvalidArgument.
func (o ScanOptions) Validate() error {
	switch {
	case o.Segments < 0:
		return argError("segments %d is negative", o.Segments)
	case o.Segments > 1 && (o.Segment < 0 || o.Segment >= o.Segments):
		return argError("segment %d is outside 0..%d", o.Segment, o.Segments-1)
	case o.Segments <= 1 && o.Segment != 0:
		return argError("segment %d without segments", o.Segment)
	case o.BatchSize < 0:
		return argError("batch size %d is negative", o.BatchSize)
	case o.AccountID != "" && o.Segments > 1:
		return argError("an account scan cannot be segmented")
	}
	return nil
}

// SegmentOf assigns an account to one of n segments by a stable hash (FNV-1a)
// of its ID. Stores without a native way to split a scan use it, so that all
// of an account's events fall in one segment.
func SegmentOf(accountID string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(accountID))
	return int(h.Sum32() % uint32(n))
}

// BatchStorer is an optional capability: storing many events in few round
// trips, for backfill. Each event gets exactly the semantics of StoreEvent
// (idempotent; ErrConflict without overwriting; ErrInvalidEvent).
type BatchStorer interface {
	// StoreEvents returns one error per event (nil when stored or already
	// stored identically), or a non-nil error of its own when the batch as a
	// whole failed, in which case some events may have been stored.
	StoreEvents(ctx context.Context, events []Event) ([]error, error)
}

// BatchFinder is an optional capability: reading many events by key in few
// round trips, for verify and backfill.
type BatchFinder interface {
	// FindEvents returns the stored events among keys, in any order;
	// absent keys are left out.
	FindEvents(ctx context.Context, keys []EventKey) ([]Event, error)
}

// EventCounter is an optional capability of a store, used for the totals
// of backfill's and verify's progress: how many events a scan of one
// account yields (exactly), or of the whole store ("": an estimate a
// store's server may keep, such as MongoDB's or DynamoDB's item count).
// All stores in this module implement it; package storetest checks it.
type EventCounter interface {
	CountEvents(ctx context.Context, accountID string) (int64, error)
}

// EventValidator is an optional capability: a store that holds only some
// valid events (a MongoDB layout whose IDs are ObjectIDs, say) refuses the
// others before anything is written. [MigratingStore] asks both of its stores
// before writing either, so that an event lands in both or in neither.
type EventValidator interface {
	// ValidateEvent reports whether the canonical event c can be stored,
	// with an error matching ErrInvalidEvent that names the field.
	ValidateEvent(c Event) error
}

// The operations of the contract by name, as reports name them: a
// MigratingStore's store calls, comparisons and repair entries
// (migration.StoreCall.Op and the like), and fault injection in tests.
const (
	OpStoreEvent    = "StoreEvent"
	OpFindEventByID = "FindEventByID"
	OpListEvents    = "ListEvents"
	OpDeleteEvent   = "DeleteEvent"  // [EventDeleter]
	OpEraseAccount  = "EraseAccount" // [EventDeleter]
)
