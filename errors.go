package flagmigrate

import (
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// The contract's sentinel errors (package [eventstore]), here so that a
// user of the MigratingStore needs one import.
var (
	ErrNotFound        = eventstore.ErrNotFound        // see [eventstore.ErrNotFound]
	ErrConflict        = eventstore.ErrConflict        // see [eventstore.ErrConflict]
	ErrInvalidEvent    = eventstore.ErrInvalidEvent    // see [eventstore.ErrInvalidEvent]
	ErrInvalidArgument = eventstore.ErrInvalidArgument // see [eventstore.ErrInvalidArgument]
	ErrDeleted         = eventstore.ErrDeleted         // see [eventstore.ErrDeleted]
)

// Errors of the migration engine.
var (
	// ErrUnrepaired reports a dual write that reached the authoritative
	// store only and could not be recorded in the repair log either: the
	// stores are apart and nothing remembers it. Retrying the (idempotent)
	// write heals it.
	ErrUnrepaired = errors.New("flagmigrate: stores apart and the repair was not recorded")

	// ErrStoreDown reports a write that was not sent to a store because
	// the store is known to be down ([WithStoreBreaker]); such writes are
	// recorded in the repair log with it as their error.
	ErrStoreDown = errors.New("flagmigrate: store down")
)

func argError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}
