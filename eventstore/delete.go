package eventstore

import (
	"context"
	"time"
)

// EventDeleter is an optional capability of a store: deleting events, for
// retention and erasure. memstore, mongodao and dynamodao implement it, and
// so does flagmigrate.MigratingStore.
//
// A delete leaves a tombstone under the key: reads, lists, scans and batch
// finds treat it as absent, and a later StoreEvent (or StoreEvents) of the
// same key stores nothing and returns an error matching [ErrDeleted]. The
// tombstone wins over every store that comes after it, so that a copy
// made from a snapshot taken before the delete (a backfill, a repair, a
// rollback) can never bring the event back. Tombstones hold the key and
// nothing of the event; they are kept until the store's owner removes them
// ([TombstonePurger]), once nothing copies from before the delete any more.
type EventDeleter interface {
	// DeleteEvent deletes the event with this key, leaving a tombstone.
	// It is idempotent: deleting a key that holds no event (never stored,
	// or deleted before) returns nil and leaves a tombstone too. An
	// invalid key matches [ErrInvalidArgument].
	DeleteEvent(ctx context.Context, accountID, id string) error

	// EraseAccount deletes every event of the account as DeleteEvent does,
	// also those stored while it runs, and returns the IDs it deleted
	// (empty when the account holds none). An empty account ID matches
	// [ErrInvalidArgument].
	EraseAccount(ctx context.Context, accountID string) ([]string, error)
}

// TombstonePurger is an optional capability of a store with tombstones
// (memstore, mongodao and dynamodao have it): removing those of deletes
// made before a time. Purge only tombstones older than every copy that can
// still run from a snapshot taken before their delete: the longest backfill,
// verify and repair window, with a margin. A key whose tombstone is purged
// can be stored again.
type TombstonePurger interface {
	// PurgeTombstones removes the tombstones of deletes made before before,
	// and returns how many it removed.
	PurgeTombstones(ctx context.Context, before time.Time) (int, error)
}
