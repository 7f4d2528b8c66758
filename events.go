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

// EventStore is the contract every store honours (the DAO): see
// [eventstore.EventStore]. Its optional capabilities (scans, batches,
// deletes with tombstones, validation of what a store can hold) are in
// package eventstore too.
type EventStore = eventstore.EventStore

// ListOptions selects a page of one account's events: see
// [eventstore.ListOptions].
type ListOptions = eventstore.ListOptions

// Page is one page of a listing: see [eventstore.Page].
type Page = eventstore.Page

// Call describes one operation routed by a [Migration]: see
// [migration.Call]. Every report of the operation carries it.
type Call = migration.Call
