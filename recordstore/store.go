package recordstore

import (
	"context"
	"iter"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Store is the contract every record store honours. Implementations are
// safe for concurrent use, check every condition on the server, and
// validate every argument before touching the server. The conformance
// suite storetest.RunRecords checks every rule below.
type Store interface {
	// Get returns the live record with this key, in canonical form, or an
	// error matching [ErrNotFound]: also when the key holds a tombstone
	// or exists only under another account.
	Get(ctx context.Context, accountID, id string) (Record, error)

	// List returns one page of an account's live records ordered by ID,
	// bytewise. The page's NextCursor, passed back in opts.Cursor,
	// continues after the page's last record; it is store-neutral, so the
	// same query on two stores gives equal pages and cursors.
	List(ctx context.Context, accountID string, opts ListOptions) (Page, error)

	// CompareAndSet stores data under the key at version expected+1, only
	// if the key's live version is expected (0: the key holds no live
	// record; over a tombstone at version t the record is stored at t+1,
	// so that it is newer than the delete). It returns the stored record.
	// Otherwise it changes nothing and returns a [*ConflictError] matching
	// [ErrVersionConflict] with the current version.
	CompareAndSet(ctx context.Context, accountID, id string, expected int64, data map[string]any) (Record, error)

	// CompareAndDelete replaces the live record at version expected
	// (greater than zero) by a tombstone at expected+1 and returns that
	// version; otherwise it changes nothing and returns a [*ConflictError].
	CompareAndDelete(ctx context.Context, accountID, id string, expected int64) (int64, error)

	// PutIfNewer stores rec (a tombstone when rec.Deleted) only if its
	// version is newer than the key's stored version, a record's or a
	// tombstone's, and says which: [Applied], or [Stale] (an equal or
	// newer version is stored; nothing changed) with a nil error.
	PutIfNewer(ctx context.Context, rec Record) (PutOutcome, error)

	// DeleteIfNewer stores a tombstone at version under the key only if
	// version is newer than the stored one, as PutIfNewer does; on a key
	// that holds nothing it leaves the tombstone too.
	DeleteIfNewer(ctx context.Context, accountID, id string, version int64) (PutOutcome, error)
}

// PutOutcome is what a put-if-newer (or delete-if-newer) did, named by its
// value.
type PutOutcome string

const (
	// Applied: the version was newer than the stored one (or the key held
	// nothing) and was stored.
	Applied PutOutcome = "applied"
	// Stale: the store holds an equal or newer version (a record or a
	// tombstone), and nothing changed. It is a success: the store is
	// already at least as new as the write.
	Stale PutOutcome = "stale"
)

// Page bounds.
const (
	// DefaultListLimit is the page size when ListOptions.Limit is 0.
	DefaultListLimit = 100
	// MaxListLimit is the largest ListOptions.Limit.
	MaxListLimit = 1000
)

// ListOptions selects a page of an account's records.
type ListOptions struct {
	// Limit is the most records in the page: 0 means DefaultListLimit;
	// more than MaxListLimit or negative is an error.
	Limit int
	// Cursor is a previous page's NextCursor, or "" for the first page.
	Cursor string
}

// Page is one page of List.
type Page struct {
	// Records in ID order; empty (possibly nil) when none.
	Records []Record
	// NextCursor continues after the last record; "" when none follows.
	NextCursor string
}

// ListQuery is a validated ListOptions, as a store executes it: the live
// records of AccountID with an ID after After (when not empty), at most
// Limit of them, in ID order. Stores obtain it from [ListOptions.Query].
type ListQuery struct {
	AccountID string
	After     string // "" on the first page
	Limit     int    // 1..MaxListLimit
}

// Query validates o for accountID and returns the query a store executes.
// Errors match [ErrInvalidArgument] or [ErrInvalidCursor].
func (o ListOptions) Query(accountID string) (ListQuery, error) {
	if err := eventstore.ValidateAccountID(accountID); err != nil {
		return ListQuery{}, argError("account ID: %v", fromEvent(err).(*ValidationError).Reason)
	}
	q := ListQuery{AccountID: accountID, Limit: o.Limit}
	switch {
	case o.Limit < 0:
		return ListQuery{}, argError("limit %d is negative", o.Limit)
	case o.Limit == 0:
		q.Limit = DefaultListLimit
	case o.Limit > MaxListLimit:
		return ListQuery{}, argError("limit %d exceeds MaxListLimit (%d)", o.Limit, MaxListLimit)
	}
	if o.Cursor != "" {
		after, err := decodeCursor(o.Cursor, accountID)
		if err != nil {
			return ListQuery{}, err
		}
		q.After = after
	}
	return q, nil
}

// NextCursor returns the cursor that continues after the record with id.
func (q ListQuery) NextCursor(id string) string { return encodeCursor(q.AccountID, id) }

// Scanner is an optional capability of a store: streaming every record,
// or one account's, in a stable order, for backfill and verify. All
// stores in this module implement it.
type Scanner interface {
	// Scan yields records in the store's stable order (with
	// opts.AccountID set: that account's records ordered by ID, bytewise),
	// starting after opts.After. A scan stopped after record r is resumed
	// by passing r.Key() as After. An error ends the sequence, except one
	// that matches [ErrUnreadable] (an [*UnreadableError]): the scanner
	// yields it in place of a stored record it cannot read, and continues
	// if the caller keeps iterating.
	Scan(ctx context.Context, opts ScanOptions) iter.Seq2[Record, error]
}

// ScanOptions selects what Scan yields.
type ScanOptions struct {
	// AccountID, when set, limits the scan to one account.
	AccountID string
	// After resumes the scan after this key (exclusive).
	After *Key
	// Segment and Segments split a whole-store scan into Segments disjoint
	// parts whose union is the whole store; Segment is 0..Segments-1.
	// Segments 0 or 1 scans everything. All of an account's records fall
	// in one segment.
	Segment, Segments int
	// BatchSize is a hint for how many records to fetch per round trip;
	// 0 lets the store choose.
	BatchSize int
	// Tombstones includes tombstones (records with Deleted set), so that a
	// copy carries deletes with their versions.
	Tombstones bool
}

// Validate checks the options. Errors match [ErrInvalidArgument].
func (o ScanOptions) Validate() error {
	err := eventstore.ScanOptions{AccountID: o.AccountID, Segment: o.Segment, Segments: o.Segments, BatchSize: o.BatchSize}.Validate()
	if err == nil && o.After != nil {
		if verr := ValidateKey(o.After.AccountID, o.After.ID); verr != nil {
			err = argError("After is not a valid key: %v", verr)
		}
	}
	return err
}

// BatchPutter is an optional capability: many put-if-newer writes (records
// and tombstones) in few round trips, for backfill and repair.
type BatchPutter interface {
	// PutRecords applies PutIfNewer to each record and returns one result
	// per record, in order, or a non-nil error of its own when the batch as
	// a whole failed, in which case some records may have been written.
	PutRecords(ctx context.Context, recs []Record) ([]BatchResult, error)
}

// BatchResult is the result of one record of a batch.
type BatchResult struct {
	Outcome PutOutcome // "" when Err is set
	Err     error      // as PutIfNewer's
}

// Counter is an optional capability: how many live records one account
// ("" for all) holds, for progress estimates. Stores may estimate.
type Counter interface {
	CountRecords(ctx context.Context, accountID string) (int64, error)
}

// TombstonePurger is an optional capability: removing the tombstones of
// deletes made before a time. A purged tombstone forgets its version: a
// copy that still carries an older version of the record could bring it
// back, so purge only tombstones older than every copy that can still run
// (the longest backfill, verify and repair window, with a margin).
type TombstonePurger interface {
	PurgeTombstones(ctx context.Context, before time.Time) (int, error)
}

// The operations of the contract by name, as reports name them.
const (
	OpGet              = "Get"
	OpList             = "List"
	OpCompareAndSet    = "CompareAndSet"
	OpCompareAndDelete = "CompareAndDelete"
	OpPutIfNewer       = "PutIfNewer"
	OpDeleteIfNewer    = "DeleteIfNewer"
)
