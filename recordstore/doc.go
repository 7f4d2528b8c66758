// Package recordstore is the contract between flagmigrate and a store of
// records that change: the [Record] with its version, validation and
// canonical form, the [Store] every record store honours with its optional
// capabilities ([Scanner], [BatchPutter], [Counter], [TombstonePurger]),
// store-neutral cursors ([ListOptions], [Page]) and the sentinel errors
// ([ErrNotFound], [ErrVersionConflict], [ErrInvalidRecord], ...).
//
// Like package eventstore, it imports only the standard library (and
// eventstore, whose rules for JSON-like data it shares: a record's Data is
// canonical exactly as an event's is). memstore, mongodao and dynamodao
// implement it; storetest.RunRecords is its conformance suite.
//
// # Versions
//
// Every record carries a Version, an int64 greater than zero, and every
// write carries one. Versions are assigned by the authoritative store (the
// one a service reads from) and carried verbatim to the other store:
//
//   - A service's read-modify-write uses [Store.CompareAndSet]: it applies
//     only if the stored live version equals the expected one (0: no live
//     record), stores version expected+1 and returns the stored record;
//     otherwise it changes nothing and returns a [*ConflictError] matching
//     [ErrVersionConflict] that carries the current version to retry with.
//     [Store.CompareAndDelete] is the same for deletes.
//   - The other store, a backfill, a repair or a rollback copy use
//     [Store.PutIfNewer] and [Store.DeleteIfNewer] with the authoritative
//     store's version: the write applies only if its version is newer than
//     the stored one, a record's or a tombstone's. An older or equal version
//     changes nothing and returns the outcome [Stale] with a nil error: a
//     write that loses to a newer one is a success, not a failure to log or
//     to repair.
//
// Every condition is checked by the server (a DynamoDB condition
// expression, a MongoDB filter on the version), never by reading in the
// client and then writing.
//
// # Why two stores converge, whatever order the writes arrive in
//
// Under each key a store holds one versioned value: a record or a
// tombstone (a delete is a version too, with no data). A conditional write
// replaces it only with a higher version, so each key is a
// max-version-wins register: its final state is the write with the highest
// version among those it received, whatever the order they arrived in
// (taking the maximum is commutative, associative and idempotent). A
// version names exactly one write, because only the authoritative store
// creates versions, and only by compare-and-set, which admits one writer
// per version. So two stores that received the same set of writes hold the
// same state, and a store that missed some (a failed secondary write, a
// backfill that read before an update) catches up from any copy of a newer
// state, never goes back to an older one: a late older put, a replayed
// repair entry, or a backfill that read before a delete can neither
// overwrite a newer record nor bring a deleted one back.
//
// Tombstones keep the version of their delete, so a record created again
// after a delete continues above it (CompareAndSet with expected 0 over a
// tombstone at version t stores version t+1). Purging a tombstone
// ([TombstonePurger]) forgets that version: purge only tombstones older
// than any copy that can still carry a version from before the delete.
//
// Two writes with one version and different data can only come from a
// second authority (two stores both assigning versions, or an application
// writing without bumping the version): the stores then keep whichever
// arrived first, and only a comparison of data (verify) can see it.
package recordstore
