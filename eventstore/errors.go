package eventstore

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by every [EventStore]. Stores wrap them with %w, so
// callers test with [errors.Is] while the native cause (a driver's error type)
// stays reachable with [errors.As]. Context errors ([context.Canceled],
// [context.DeadlineExceeded]) are passed through as they are.
var (
	// ErrNotFound reports that no event has the requested (AccountID, ID),
	// including when the ID exists under another account.
	ErrNotFound = errors.New("flagmigrate: event not found")

	// ErrConflict reports that an event with the same (AccountID, ID) but
	// different content is already stored. The stored event is unchanged.
	ErrConflict = errors.New("flagmigrate: conflicting event already stored")

	// ErrInvalidEvent reports an event refused by [Event.Validate]. The
	// wrapping [*ValidationError] names the field.
	ErrInvalidEvent = errors.New("flagmigrate: invalid event")

	// ErrInvalidCursor reports a ListOptions.Cursor that is malformed or was
	// issued for another account.
	ErrInvalidCursor = errors.New("flagmigrate: invalid cursor")

	// ErrInvalidArgument reports arguments that make no sense, such as an
	// empty account ID in a read, a negative limit or an end before the start.
	ErrInvalidArgument = errors.New("flagmigrate: invalid argument")

	// ErrClosed reports a call on a store that has been closed.
	ErrClosed = errors.New("flagmigrate: store closed")

	// ErrDeleted reports a StoreEvent (or a batch's event) refused because
	// its key was deleted: the store holds a tombstone there, and the
	// tombstone wins over every later store of the same key, so that no copy
	// made before the delete (a backfill, a repair, a rollback) brings the
	// event back. See [EventDeleter].
	ErrDeleted = errors.New("flagmigrate: event deleted")

	// ErrUnreadable reports a stored record that cannot be read: a document
	// or an item that is not a readable event (a field of the wrong type,
	// fields that disagree, a value without a canonical form, two records
	// under one key), for which the wrapping [*UnreadableError] names the
	// record and the field; or a line of a repair log that holds no
	// readable entry (corrupt, or the incomplete last line of a crashed
	// writer). A scan or a repair log's reader yields it and goes on;
	// backfill, verify and repair count and list such records and handle
	// the rest.
	ErrUnreadable = errors.New("flagmigrate: stored record is not readable")
)

// UnreadableError is a stored record that cannot be read as a canonical
// event. It matches [ErrUnreadable] with [errors.Is] and keeps the cause
// (such as a [*ValidationError]) reachable with [errors.As].
//
// A scan ([EventScanner]) yields it in place of the record and goes on if
// the caller keeps iterating, so that one bad record never hides the rest:
// backfill and verify count and list these records and continue.
type UnreadableError struct {
	// Record names the record in the store's own terms, such as
	// `_id ObjectID("65f1...")`.
	Record string
	// Field is the stored field at fault (a path such as "payload.items[2]"),
	// or "" when the record as a whole is at fault.
	Field string
	// Err is the reason.
	Err error
}

// Error implements error.
func (e *UnreadableError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("flagmigrate: stored record %s is not a readable event: %v", e.Record, e.Err)
	}
	return fmt.Sprintf("flagmigrate: stored record %s is not a readable event: %s: %v", e.Record, e.Field, e.Err)
}

// Unwrap makes errors.Is(err, ErrUnreadable) true and keeps Err reachable.
func (e *UnreadableError) Unwrap() []error { return []error{ErrUnreadable, e.Err} }

// ValidationError is returned by [Event.Validate] and [Canonicalize]. It
// names the offending field (for Data, a path such as "Data.items[2].name")
// and matches [ErrInvalidEvent] with [errors.Is].
type ValidationError struct {
	Field  string // the offending field or Data path
	Reason string // what is wrong with it
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("flagmigrate: invalid event: %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidEvent) true.
func (e *ValidationError) Unwrap() error { return ErrInvalidEvent }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func argError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}
