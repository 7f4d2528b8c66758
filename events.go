package flagmigrate

import (
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// Event is an immutable event of one account: see [eventstore.Event] for
// its validation and canonical form. The contract lives in package
// eventstore, which imports no flag SDK and no part of the engine, so that
// a store (a driver, a DAO of your own) depends on nothing else; these
// aliases let a service that wraps its stores in a [MigratingStore] use one
// import.
type Event = eventstore.Event

// Call describes one operation routed by a [Migration]: see
// [migration.Call]. Every report of the operation carries it.
type Call = migration.Call
