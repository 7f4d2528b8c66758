package flagmigrate

import "github.com/flagmigrate/flagmigrate/eventstore"

// EventStore is the contract every store honours (the DAO): see
// [eventstore.EventStore].
type EventStore = eventstore.EventStore

// ListOptions selects a page of one account's events: see
// [eventstore.ListOptions].
type ListOptions = eventstore.ListOptions

// Page is one page of a listing: see [eventstore.Page].
type Page = eventstore.Page

// Optional capabilities of a store, each in package eventstore.
type (
	// EventScanner streams a store's events: see [eventstore.EventScanner].
	EventScanner = eventstore.EventScanner
	// ScanOptions selects what a scan streams: see [eventstore.ScanOptions].
	ScanOptions = eventstore.ScanOptions
	// BatchStorer stores many events at once: see [eventstore.BatchStorer].
	BatchStorer = eventstore.BatchStorer
	// BatchFinder finds many events at once: see [eventstore.BatchFinder].
	BatchFinder = eventstore.BatchFinder
	// EventValidator refuses events a store cannot hold: see
	// [eventstore.EventValidator].
	EventValidator = eventstore.EventValidator
	// EventDeleter deletes events with tombstones: see
	// [eventstore.EventDeleter].
	EventDeleter = eventstore.EventDeleter
	// TombstonePurger removes old tombstones: see
	// [eventstore.TombstonePurger].
	TombstonePurger = eventstore.TombstonePurger
)
