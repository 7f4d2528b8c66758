package flagmigrate

import (
	"context"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// MigratingStore is an [EventStore] that moves accounts from an old store
// to a new one by flags: it routes each call by the account's flags, writes
// the authoritative store first and the other after it (recording failures
// for repair), and compares dual reads while serving the incumbent's result.
// It drops in wherever the old store was used.
//
// Routing by the four boolean flags ([FlagKeys]), per call:
//
//	writes: the stores whose write flag is on (the old store when none is).
//	  When both, the authoritative store first: the new store if it alone
//	  is read, else the old store. A write evaluates the two write flags,
//	  and the two read flags only when both write flags are on.
//	reads: the stores whose read flag is on (the old store when none is).
//	  When both, both are read and compared and the old store's result and
//	  error are returned, even when they differ. A read evaluates the two
//	  read flags.
//	a flag that cannot be evaluated: the old store only.
//
// [WithStageFlag] routes by one migration flag holding a [Stage] instead.
//
// StoreEvent validates and canonicalises the event once, before any store is
// touched, so that both stores receive the same canonical event and a dual
// write is never refused by one store and accepted by the other for a
// reason the event carries; ListEvents checks its options the same way.
// A store that is an [eventstore.CanonicalStorer] (this module's are) takes
// that event as it is, without validating it again.
//
// MigratingStore does not implement [eventstore.EventScanner], [eventstore.BatchStorer] or
// [eventstore.BatchFinder]: whole-store scans and batches are the backfill's work and
// run on the two stores directly, not through per-account flags.
type MigratingStore struct {
	m *Migration[EventStore]
}

var _ EventStore = (*MigratingStore)(nil)

// NewMigratingStore returns a MigratingStore from old to new, routed by
// flags: a LaunchDarkly client through package ldflags
// (ldflags.New(client)), an OpenFeature client through package
// openfeatureflags, or package flagtest's fake. Errors for
// missing parts and invalid options match [ErrInvalidArgument].
func NewMigratingStore(old, new EventStore, flags FlagClient, opts ...Option) (*MigratingStore, error) {
	m, err := NewMigration(old, new, flags, opts...)
	if err != nil {
		return nil, err
	}
	return &MigratingStore{m: m}, nil
}

// StoreEvent implements [EventStore]: it canonicalises evt, checks it with
// each store that is an [eventstore.EventValidator] (both, whatever the flags, so that
// the write can always be rolled back), then writes it as [Write] does.
func (s *MigratingStore) StoreEvent(ctx context.Context, evt Event) error {
	c, err := eventstore.Canonicalize(evt)
	if err != nil {
		return err
	}
	e, _ := c.Event()
	for _, st := range []EventStore{s.m.old, s.m.new} {
		if v, ok := st.(eventstore.EventValidator); ok {
			if err := v.ValidateEvent(e); err != nil {
				return err
			}
		}
	}
	// Stores that are CanonicalStorers take c without validating it again.
	return Write(ctx, s.m, Call{Op: eventstore.OpStoreEvent, AccountID: e.AccountID, Key: e.ID},
		func(ctx context.Context, st EventStore) error { return eventstore.StoreCanonical(ctx, st, c) })
}

// FindEventByID implements [EventStore], reading as [Read] does. Not
// finding the event in one store while the other has it is a mismatch
// (missing in old or in new).
func (s *MigratingStore) FindEventByID(ctx context.Context, accountID, id string) (Event, error) {
	return Read(ctx, s.m, Call{Op: eventstore.OpFindEventByID, AccountID: accountID, Key: id},
		func(ctx context.Context, st EventStore) (Event, error) { return st.FindEventByID(ctx, accountID, id) })
}

// ListEvents implements [EventStore], reading as [Read] does; on a dual read
// the two pages (events and next cursor) are compared.
func (s *MigratingStore) ListEvents(ctx context.Context, accountID string, opts ListOptions) (Page, error) {
	if _, err := opts.Query(accountID); err != nil {
		return Page{}, err
	}
	return Read(ctx, s.m, Call{Op: eventstore.OpListEvents, AccountID: accountID},
		func(ctx context.Context, st EventStore) (Page, error) { return st.ListEvents(ctx, accountID, opts) })
}

// RepairLog returns the repair log in use: the one given with
// [WithRepairLog], or the default in-memory one (a [RepairReader]), whose
// entries the backfill's repair can replay.
func (s *MigratingStore) RepairLog() RepairLog { return s.m.RepairLog() }

// Flush waits until the shadow reads in flight when it was called have
// finished, or ctx is done. See [Migration.Flush].
func (s *MigratingStore) Flush(ctx context.Context) error { return s.m.Flush(ctx) }

// Brakes returns the accounts braked now ([WithBrake]). See
// [Migration.Brakes].
func (s *MigratingStore) Brakes() []BrakeState { return s.m.Brakes() }

// Close stops new shadow reads and waits for those in flight. It does not
// close the stores. See [Migration.Close].
func (s *MigratingStore) Close() error { return s.m.Close() }
