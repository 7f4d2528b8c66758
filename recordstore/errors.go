package recordstore

import (
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Sentinel errors shared by every [Store]. Stores wrap them with %w, so
// callers test with [errors.Is] while the native cause (a driver's error
// type) stays reachable with [errors.As]. Context errors
// ([context.Canceled], [context.DeadlineExceeded]) are passed through as
// they are.
//
// The sentinels whose meaning does not depend on what is stored are the
// event contract's own values, so that one errors.Is serves both
// contracts: [ErrInvalidArgument], [ErrInvalidCursor] and [ErrUnreadable].
var (
	// ErrNotFound reports that no live record has the requested
	// (AccountID, ID): none was ever stored, it was deleted (a tombstone
	// holds the key), or the ID exists only under another account.
	ErrNotFound = errors.New("flagmigrate: record not found")

	// ErrVersionConflict reports a [Store.CompareAndSet] or
	// [Store.CompareAndDelete] whose expected version is not the stored
	// one. Nothing changed. The wrapping [*ConflictError] carries the
	// current version: read again (or take it) and retry.
	ErrVersionConflict = errors.New("flagmigrate: record version conflict")

	// ErrInvalidRecord reports a record (or data) refused by validation
	// before any store was touched. The wrapping [*ValidationError] names
	// the field.
	ErrInvalidRecord = errors.New("flagmigrate: invalid record")

	// ErrInvalidArgument reports arguments that make no sense: an empty
	// account ID, a negative limit or version, a segment out of range. It
	// is [eventstore.ErrInvalidArgument].
	ErrInvalidArgument = eventstore.ErrInvalidArgument

	// ErrInvalidCursor reports a ListOptions.Cursor that is malformed or
	// was issued for another account. It is [eventstore.ErrInvalidCursor].
	ErrInvalidCursor = eventstore.ErrInvalidCursor

	// ErrUnreadable reports a stored document or item that is not a
	// readable record; the wrapping [*UnreadableError] names it. It is
	// [eventstore.ErrUnreadable], so a backfill or verify counts unreadable
	// records and events alike.
	ErrUnreadable = eventstore.ErrUnreadable
)

// ConflictError is the error of a compare-and-set (or compare-and-delete)
// whose expected version was not the stored one. It matches
// [ErrVersionConflict].
type ConflictError struct {
	AccountID, ID string
	// Expected is the version the caller expected.
	Expected int64
	// Current is the stored live version as the store saw it when the
	// condition failed, 0 when the key holds no live record (never stored,
	// or deleted): the expected version to retry with. A store that cannot
	// tell sets -1.
	Current int64
}

// Error implements error.
func (e *ConflictError) Error() string {
	cur := fmt.Sprintf("version %d", e.Current)
	switch {
	case e.Current == 0:
		cur = "no live record"
	case e.Current < 0:
		cur = "another version"
	}
	return fmt.Sprintf("flagmigrate: record version conflict: account %q record %q: expected version %d, store holds %s",
		e.AccountID, e.ID, e.Expected, cur)
}

// Unwrap makes errors.Is(err, ErrVersionConflict) true.
func (e *ConflictError) Unwrap() error { return ErrVersionConflict }

// ValidationError names the field of a record (or of its data, as a path
// such as "Data.items[2].name") that validation refused. It matches
// [ErrInvalidRecord] and never quotes the value: records can hold personal
// data.
type ValidationError struct {
	Field  string // "AccountID", "ID", "Version" or a path under "Data"
	Reason string // what is wrong with it
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("flagmigrate: invalid record: %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidRecord) true.
func (e *ValidationError) Unwrap() error { return ErrInvalidRecord }

// UnreadableError is a stored document or item that cannot be read as a
// canonical record. It matches [ErrUnreadable] and keeps the cause
// reachable with [errors.As]. A scan yields it in place of the record and
// goes on if the caller keeps iterating.
type UnreadableError struct {
	// Record names the stored record in the store's own terms, such as
	// `_id {"a": "acct", "i": "r1"}` or `item pk="acct" sk="r1"`.
	Record string
	// Field is the stored field at fault, or "" for the record as a whole.
	Field string
	// Err is the reason.
	Err error
}

// Error implements error.
func (e *UnreadableError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("flagmigrate: stored record %s is not a readable record: %v", e.Record, e.Err)
	}
	return fmt.Sprintf("flagmigrate: stored record %s is not a readable record: %s: %v", e.Record, e.Field, e.Err)
}

// Unwrap makes errors.Is(err, ErrUnreadable) true and keeps Err reachable.
func (e *UnreadableError) Unwrap() []error { return []error{ErrUnreadable, e.Err} }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// fromEvent turns a validation error of package eventstore (on a key or
// on data) into the record's.
func fromEvent(err error) error {
	var ve *eventstore.ValidationError
	if errors.As(err, &ve) {
		return &ValidationError{Field: ve.Field, Reason: ve.Reason}
	}
	return err
}

func argError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}
