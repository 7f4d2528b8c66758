package flagmigrate

import "github.com/flagmigrate/flagmigrate/eventstore"

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
