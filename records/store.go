package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// MigratingStore is a record store that moves accounts from an old store
// to a new one by flags, as flagmigrate.MigratingStore does for events. It
// is safe for concurrent use; Close it when done.
type MigratingStore struct {
	m *flagmigrate.Migration[recordstore.Store]
}

// NewMigratingStore returns a MigratingStore from old to new, routed by
// flags, with the options of package flagmigrate. Errors for missing parts
// and invalid options match flagmigrate.ErrInvalidArgument.
func NewMigratingStore(old, new recordstore.Store, flags flagmigrate.FlagClient, opts ...flagmigrate.Option) (*MigratingStore, error) {
	notFound := flagmigrate.WithNotFound(func(err error) bool { return errors.Is(err, recordstore.ErrNotFound) })
	m, err := flagmigrate.NewMigration(old, new, flags, append([]flagmigrate.Option{notFound}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &MigratingStore{m: m}, nil
}

// Get returns the live record with this key, or an error matching
// recordstore.ErrNotFound. Read from both stores, the two answers are
// compared ([recordstore.Record.Classify]) and the authoritative one is
// returned.
func (s *MigratingStore) Get(ctx context.Context, accountID, id string) (recordstore.Record, error) {
	if err := recordstore.ValidateKey(accountID, id); err != nil {
		return recordstore.Record{}, err
	}
	return flagmigrate.Read(ctx, s.m, flagmigrate.Call{Op: recordstore.OpGet, AccountID: accountID, Key: id},
		func(ctx context.Context, st recordstore.Store) (recordstore.Record, error) {
			return st.Get(ctx, accountID, id)
		})
}

// List returns one page of an account's live records in ID order, as
// recordstore.Store's List does; read from both stores, the pages are
// compared ([recordstore.Page.Classify]).
func (s *MigratingStore) List(ctx context.Context, accountID string, opts recordstore.ListOptions) (recordstore.Page, error) {
	if _, err := opts.Query(accountID); err != nil {
		return recordstore.Page{}, err
	}
	return flagmigrate.Read(ctx, s.m, flagmigrate.Call{Op: recordstore.OpList, AccountID: accountID},
		func(ctx context.Context, st recordstore.Store) (recordstore.Page, error) {
			return st.List(ctx, accountID, opts)
		})
}

// CompareAndSet stores data under the key if its live version is expected
// (0: none), as recordstore.Store's CompareAndSet does, on the
// authoritative store; the record it stored (at the version that store
// assigned) is then put, if newer, into the other store. It returns the
// stored record, or a *recordstore.ConflictError with the current version
// to retry on. Arguments are checked before either store is touched.
func (s *MigratingStore) CompareAndSet(ctx context.Context, accountID, id string, expected int64, data map[string]any) (recordstore.Record, error) {
	if _, err := recordstore.NextVersion(accountID, id, expected, data); err != nil {
		return recordstore.Record{}, err
	}
	return flagmigrate.WriteThen(ctx, s.m, flagmigrate.Call{Op: recordstore.OpCompareAndSet, AccountID: accountID, Key: id},
		func(ctx context.Context, st recordstore.Store) (recordstore.Record, error) {
			return st.CompareAndSet(ctx, accountID, id, expected, data)
		}, putIfNewer)
}

// putIfNewer carries the authoritative store's record to the other store;
// losing to a newer version there is a success.
func putIfNewer(ctx context.Context, st recordstore.Store, rec recordstore.Record) error {
	_, err := st.PutIfNewer(ctx, rec)
	return err
}

// CompareAndDelete deletes the record at version expected, leaving a
// tombstone at the next version, as recordstore.Store's CompareAndDelete
// does, on the authoritative store; the tombstone is then carried to the
// other store whatever its write flag says (it may hold a copy a backfill
// made). It returns the tombstone's version, or a
// *recordstore.ConflictError.
func (s *MigratingStore) CompareAndDelete(ctx context.Context, accountID, id string, expected int64) (int64, error) {
	if err := recordstore.CheckCompareAndDelete(accountID, id, expected); err != nil {
		return 0, err
	}
	return flagmigrate.WriteThen(ctx, s.m,
		flagmigrate.Call{Op: recordstore.OpCompareAndDelete, AccountID: accountID, Key: id, Kind: migration.KindDelete},
		func(ctx context.Context, st recordstore.Store) (int64, error) {
			return st.CompareAndDelete(ctx, accountID, id, expected)
		},
		func(ctx context.Context, st recordstore.Store, version int64) error {
			if version == 0 {
				return nil // the authoritative store deleted nothing
			}
			_, err := st.DeleteIfNewer(ctx, accountID, id, version)
			return err
		})
}

// MaxUpdateAttempts bounds the compare-and-set attempts of one Update.
const MaxUpdateAttempts = 16

// Update is a service's read-modify-write: it reads the record (exists
// false when there is none), calls change for its new data, and stores it
// with CompareAndSet at the version it read; when another write won in
// between (a version conflict), it reads again and calls change again, up
// to MaxUpdateAttempts times. change must not keep current.Data: it may
// return a modified copy ([recordstore.Record.Clone]). An error from
// change ends the update with it; so does a conflict on the last attempt,
// matching recordstore.ErrVersionConflict.
func (s *MigratingStore) Update(ctx context.Context, accountID, id string, change func(current recordstore.Record, exists bool) (map[string]any, error)) (recordstore.Record, error) {
	var err error
	for range MaxUpdateAttempts {
		cur, gerr := s.Get(ctx, accountID, id)
		exists := gerr == nil
		if gerr != nil && !errors.Is(gerr, recordstore.ErrNotFound) {
			return recordstore.Record{}, gerr
		}
		data, cerr := change(cur, exists)
		if cerr != nil {
			return recordstore.Record{}, cerr
		}
		var rec recordstore.Record
		rec, err = s.CompareAndSet(ctx, accountID, id, cur.Version, data)
		if !errors.Is(err, recordstore.ErrVersionConflict) {
			return rec, err
		}
	}
	return recordstore.Record{}, fmt.Errorf("records: Update %s/%s: %d attempts lost to other writes: %w", accountID, id, MaxUpdateAttempts, err)
}

// RepairLog returns the repair log in use (see flagmigrate.WithRepairLog).
func (s *MigratingStore) RepairLog() migration.RepairLog { return s.m.RepairLog() }

// Flush waits for the shadow reads in flight (see flagmigrate.Migration).
func (s *MigratingStore) Flush(ctx context.Context) error { return s.m.Flush(ctx) }

// Close stops new shadow reads and waits for those in flight; the stores
// are not closed.
func (s *MigratingStore) Close() error { return s.m.Close() }
