// Package eventstore is the contract between flagmigrate and a store: the
// [Event] with its validation and canonical form, the [EventStore] every
// store honours with its optional capabilities ([EventScanner],
// [BatchStorer], [BatchFinder], [EventValidator], [EventDeleter],
// [TombstonePurger]), store-neutral cursors ([ListOptions], [Page]) and
// the sentinel errors ([ErrNotFound], [ErrConflict], [ErrInvalidEvent],
// ...).
//
// It imports only the standard library: a driver (memstore, mongodao,
// dynamodao, a DAO of your own) depends on it and on nothing of the
// migration engine, its flag SDKs or its comparison. Package flagmigrate
// re-exports the names a service needs next to the MigratingStore.
package eventstore
