package backfill

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// RepairStats count what [Repair] did.
type RepairStats struct {
	Entries         int64 `json:"entries"`         // repair entries read
	Copied          int64 `json:"copied"`          // events written to the store that lacked them
	AlreadyThere    int64 `json:"alreadyThere"`    // identical in both stores already
	MissingInSource int64 `json:"missingInSource"` // the store named as having the event lacks it
	Conflicts       int64 `json:"conflicts"`       // both hold the key with other content
	Errors          int64 `json:"errors"`          // entries that could not be replayed
	Unreadable      int64 `json:"unreadable"`      // records that could not be read: lines of the log, events of its entries
	// Deleted counts delete and erase entries applied again to their target.
	Deleted int64 `json:"deleted,omitempty"`
	// DeletedSince counts write entries of events deleted since: the target
	// refused the copy with ErrDeleted (its tombstone wins).
	DeletedSince int64 `json:"deletedSince,omitempty"`
}

// Repair replays a MigratingStore's repair log: for each entry it reads the
// event from the store that has it (entry.Source) and writes it to the one
// that lacks it (entry.Target), idempotently: replaying a log twice writes
// nothing the second time. old and new are the migration's two stores.
// A delete entry (entry.Kind) is done again on its target (which must be
// a [eventstore.EventDeleter]). An erase entry deletes on its target the
// account's events that its source does not hold (the target must also be
// an [eventstore.EventScanner]): the source did the erasure, and holds
// only what was written to the account after it, which a repair must not
// erase, however many times it runs. A write entry of an event deleted
// since copies nothing: the source no longer has it (MissingInSource), or
// the target's tombstone refuses it (DeletedSince); so a log replayed after
// deletes never brings a deleted event back.
//
// An entry whose source lacks the event (a write that failed everywhere) is
// counted, not an error. So is a record of the log that holds no readable
// entry (an error from entries matching [eventstore.ErrUnreadable],
// such as a corrupt line of a repairlog file): it is counted as Unreadable
// and passed to onProblem with a zero entry, and the entries after it are
// replayed. An entry whose event cannot be read (a store's
// [*eventstore.UnreadableError], in its source or its target) is counted as
// Unreadable too and passed to onProblem with its entry. onProblem, when
// set, is told of every entry that was not copied or already there. Repair
// stops at any other error reading the log, and at the first error reaching
// a store.
func Repair(ctx context.Context, entries iter.Seq2[migration.RepairEntry, error], old, new eventstore.EventStore, onProblem func(migration.RepairEntry, error)) (RepairStats, error) {
	var st RepairStats
	store := func(s migration.Side) eventstore.EventStore {
		if s == migration.SideNew {
			return new
		}
		return old
	}
	problem := func(e migration.RepairEntry, err error) {
		if onProblem != nil {
			onProblem(e, err)
		}
	}
	for e, err := range entries {
		if errors.Is(err, eventstore.ErrUnreadable) {
			st.Unreadable++
			problem(migration.RepairEntry{}, err)
			continue
		}
		if err != nil {
			return st, fmt.Errorf("backfill: reading the repair log: %w", err)
		}
		st.Entries++
		if err := e.Validate(); err != nil {
			st.Errors++
			problem(e, err)
			continue
		}
		if e.Kind != migration.KindWrite && e.Kind != "" {
			switch err := replayDelete(ctx, e, store(e.Source), store(e.Target)); {
			case err == nil:
				st.Deleted++
			case errors.Is(err, errors.ErrUnsupported), errors.Is(err, eventstore.ErrInvalidArgument):
				st.Errors++
				problem(e, err)
			default:
				return st, err
			}
			continue
		}
		k := eventstore.EventKey{AccountID: e.AccountID, ID: e.Key}
		src, err := store(e.Source).FindEventByID(ctx, k.AccountID, k.ID)
		switch {
		case errors.Is(err, eventstore.ErrNotFound):
			st.MissingInSource++
			problem(e, err)
			continue
		case errors.Is(err, eventstore.ErrUnreadable):
			st.Unreadable++
			problem(e, err)
			continue
		}
		if err != nil {
			return st, fmt.Errorf("backfill: repair: reading %v from the %v store: %w", k, e.Source, err)
		}
		dst := store(e.Target)
		have, err := dst.FindEventByID(ctx, k.AccountID, k.ID)
		switch {
		case err == nil && eventstore.EqualEvents(have, src):
			st.AlreadyThere++
			continue
		case err == nil:
			st.Conflicts++
			problem(e, fmt.Errorf("%w: the %v store holds other content", eventstore.ErrConflict, e.Target))
			continue
		case errors.Is(err, eventstore.ErrUnreadable):
			st.Unreadable++
			problem(e, err)
			continue
		case !errors.Is(err, eventstore.ErrNotFound):
			return st, fmt.Errorf("backfill: repair: reading %v from the %v store: %w", k, e.Target, err)
		}
		switch err := dst.StoreEvent(ctx, src); {
		case err == nil:
			st.Copied++
		case errors.Is(err, eventstore.ErrDeleted): // deleted since: the tombstone wins
			st.DeletedSince++
		case errors.Is(err, eventstore.ErrConflict): // written meanwhile with other content
			st.Conflicts++
			problem(e, err)
		case errors.Is(err, eventstore.ErrInvalidEvent):
			st.Errors++
			problem(e, err)
		default:
			return st, fmt.Errorf("backfill: repair: writing %v to the %v store: %w", k, e.Target, err)
		}
	}
	return st, nil
}
