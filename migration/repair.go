package migration

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// RepairEntry records a write that reached one store and not the other,
// for the backfill's repair to replay: copy AccountID/Key from Source to
// Target (or, for a delete or an erasure, see Kind, do it on Target).
// Package repairlog stores entries as JSON lines, with the sides and kinds
// by name.
type RepairEntry struct {
	Time time.Time
	// Call is the failed call: its Op, AccountID, Key (the event ID) and
	// Kind, what it did: a write ([KindWrite]; an empty Kind is a write
	// too, as every entry recorded before deletes existed is), a delete of
	// Key, or the erasure of the account. Repair applies a write by copying
	// from Source, a delete or an erasure by doing it again on Target.
	Call
	// Target is the store that lacks the write.
	Target Side
	// Source is the store that has it.
	Source Side
	// Orphan is set when the authoritative write failed while the other
	// succeeded (concurrent writes only): the caller was told the write
	// failed, Source nevertheless holds it, and Target is the authoritative
	// store.
	Orphan bool
	// Error is the failed write's error.
	Error string
}

// Validate reports whether e names its two stores properly. (An entry of a
// call without an account or key is still kept, for an operator to read,
// though a repair cannot replay it.)
func (e RepairEntry) Validate() error {
	if e.Target != SideOld && e.Target != SideNew || e.Source != e.Target.other() {
		return fmt.Errorf("%w: repair entry with target %q and source %q", eventstore.ErrInvalidArgument, e.Target, e.Source)
	}
	return nil
}

// RepairLog records writes that reached one store only. Implementations are
// safe for concurrent use; Record returns only once the entry is kept (for
// a durable log: on disk). Package repairlog has a durable file-backed one.
type RepairLog interface {
	Record(ctx context.Context, e RepairEntry) error
}

// RepairReader is a [RepairLog] that can hand its entries back, in the
// order recorded, for the backfill's repair to replay.
type RepairReader interface {
	RepairEntries(ctx context.Context) iter.Seq2[RepairEntry, error]
}
