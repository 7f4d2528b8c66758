// Package memstore is an in-memory [eventstore.EventStore]: the embedded
// default that needs no server, and the reference implementation of the
// contract that the other stores are measured against.
//
// A Store keeps each account's events twice, by ID and in (Time, ID) order,
// so that FindEventByID is a map lookup and ListEvents a binary search. It
// implements [eventstore.EventScanner], [eventstore.BatchStorer] and
// [eventstore.BatchFinder] and [eventstore.EventDeleter] (with
// tombstones kept in memory). Events go in and come out as deep copies: a
// caller can never change what is stored.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Store is a concurrency-safe in-memory event store. The zero value is not
// usable; call [New].
type Store struct {
	mu       sync.RWMutex
	accounts map[string]*account
	order    []string // account IDs, sorted
	count    int
	tombs    map[eventstore.EventKey]time.Time // deleted keys and when (delete.go)
}

type account struct {
	byID   map[string]eventstore.Event
	ids    []string           // sorted bytewise
	byTime []eventstore.Event // sorted by (Time, ID)
}

var (
	_ eventstore.EventStore   = (*Store)(nil)
	_ eventstore.EventScanner = (*Store)(nil)
	_ eventstore.BatchStorer  = (*Store)(nil)
	_ eventstore.BatchFinder  = (*Store)(nil)
	_ eventstore.EventDeleter = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{accounts: make(map[string]*account), tombs: make(map[eventstore.EventKey]time.Time)}
}

// Len returns the number of stored events.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.count
}

// StoreEvent implements [eventstore.EventStore].
func (s *Store) StoreEvent(ctx context.Context, evt eventstore.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := eventstore.Canonicalize(evt)
	if err != nil {
		return err
	}
	return s.StoreCanonical(ctx, c)
}

// StoreCanonical implements [eventstore.CanonicalStorer]: StoreEvent for
// an event already validated and canonicalised.
func (s *Store) StoreCanonical(ctx context.Context, canonical eventstore.Canonical) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := canonical.Event()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeLocked(c)
}

func (s *Store) storeLocked(c eventstore.Event) error {
	if _, deleted := s.tombs[c.Key()]; deleted {
		return fmt.Errorf("memstore: account %q event %q: %w", c.AccountID, c.ID, eventstore.ErrDeleted)
	}
	a := s.accounts[c.AccountID]
	if a == nil {
		a = &account{byID: make(map[string]eventstore.Event)}
		s.accounts[c.AccountID] = a
		i, _ := slices.BinarySearch(s.order, c.AccountID)
		s.order = slices.Insert(s.order, i, c.AccountID)
	}
	if old, ok := a.byID[c.ID]; ok {
		if eventstore.EqualEvents(old, c) {
			return nil
		}
		return fmt.Errorf("memstore: account %q event %q: %w", c.AccountID, c.ID, eventstore.ErrConflict)
	}
	a.byID[c.ID] = c
	i, _ := slices.BinarySearch(a.ids, c.ID)
	a.ids = slices.Insert(a.ids, i, c.ID)
	j, _ := slices.BinarySearchFunc(a.byTime, c, compareTimeID)
	a.byTime = slices.Insert(a.byTime, j, c)
	s.count++
	return nil
}

func compareTimeID(a, b eventstore.Event) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// StoreEvents implements [eventstore.BatchStorer] under one lock.
func (s *Store) StoreEvents(ctx context.Context, events []eventstore.Event) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := make([]error, len(events))
	canon := make([]eventstore.Event, len(events))
	for i, evt := range events {
		canon[i], errs[i] = evt.Canonical()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range canon {
		if errs[i] == nil {
			errs[i] = s.storeLocked(c)
		}
	}
	return errs, nil
}

// FindEventByID implements [eventstore.EventStore].
func (s *Store) FindEventByID(ctx context.Context, accountID, id string) (eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Event{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a := s.accounts[accountID]; a != nil {
		if evt, ok := a.byID[id]; ok {
			return evt.Clone(), nil
		}
	}
	return eventstore.Event{}, fmt.Errorf("memstore: account %q event %q: %w", accountID, id, eventstore.ErrNotFound)
}

// FindEvents implements [eventstore.BatchFinder].
func (s *Store) FindEvents(ctx context.Context, keys []eventstore.EventKey) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []eventstore.Event
	for _, k := range keys {
		if a := s.accounts[k.AccountID]; a != nil {
			if evt, ok := a.byID[k.ID]; ok {
				out = append(out, evt.Clone())
			}
		}
	}
	return out, nil
}

// ListEvents implements [eventstore.EventStore].
func (s *Store) ListEvents(ctx context.Context, accountID string, opts eventstore.ListOptions) (eventstore.Page, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return eventstore.Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.accounts[accountID]
	if a == nil {
		return eventstore.Page{}, nil
	}
	// First event at or after Start, or after the cursor's position.
	start := eventstore.Event{Time: q.Start}
	i, _ := slices.BinarySearchFunc(a.byTime, start, compareTimeID)
	if q.After != nil {
		after := eventstore.Event{Time: q.After.Time, ID: q.After.ID}
		j, found := slices.BinarySearchFunc(a.byTime, after, compareTimeID)
		if found {
			j++
		}
		i = max(i, j)
	}
	var page eventstore.Page
	for ; i < len(a.byTime) && a.byTime[i].Time.Before(q.End); i++ {
		if len(page.Events) == q.Limit {
			page.NextCursor = q.NextCursor(page.Events[len(page.Events)-1])
			break
		}
		page.Events = append(page.Events, a.byTime[i].Clone())
	}
	return page, nil
}

// ScanEvents implements [eventstore.EventScanner]. The whole-store order is
// (AccountID, ID), bytewise; segments are [eventstore.SegmentOf] the account.
// Events are read in batches under a read lock that is never held while the
// caller handles an event.
func (s *Store) ScanEvents(ctx context.Context, opts eventstore.ScanOptions) iter.Seq2[eventstore.Event, error] {
	return func(yield func(eventstore.Event, error) bool) {
		if err := opts.Validate(); err != nil {
			yield(eventstore.Event{}, err)
			return
		}
		batch := opts.BatchSize
		if batch == 0 {
			batch = 256
		}
		var after eventstore.EventKey
		started := false
		if opts.After != nil {
			after, started = *opts.After, true
		}
		for {
			if err := ctx.Err(); err != nil {
				yield(eventstore.Event{}, err)
				return
			}
			events := s.nextBatch(opts, after, started, batch)
			for _, evt := range events {
				if !yield(evt, nil) {
					return
				}
			}
			if len(events) < batch {
				return
			}
			after, started = events[len(events)-1].Key(), true
		}
	}
}

// nextBatch returns up to n events after the key after (or from the start
// when !started) in scan order.
func (s *Store) nextBatch(opts eventstore.ScanOptions, after eventstore.EventKey, started bool, n int) []eventstore.Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	accounts := s.order
	if opts.AccountID != "" {
		accounts = []string{opts.AccountID}
	}
	ai := 0
	if started {
		ai, _ = slices.BinarySearch(accounts, after.AccountID)
	}
	var out []eventstore.Event
	for ; ai < len(accounts) && len(out) < n; ai++ {
		id := accounts[ai]
		a := s.accounts[id]
		if a == nil || (opts.Segments > 1 && eventstore.SegmentOf(id, opts.Segments) != opts.Segment) {
			continue
		}
		k := 0
		if started && id == after.AccountID {
			var found bool
			k, found = slices.BinarySearch(a.ids, after.ID)
			if found {
				k++
			}
		}
		for ; k < len(a.ids) && len(out) < n; k++ {
			out = append(out, a.byID[a.ids[k]].Clone())
		}
	}
	return out
}

// CountEvents returns how many events one account ("" for all) holds; the
// backfill uses it to estimate the time remaining.
func (s *Store) CountEvents(ctx context.Context, accountID string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if accountID == "" {
		return int64(s.count), nil
	}
	if a := s.accounts[accountID]; a != nil {
		return int64(len(a.ids)), nil
	}
	return 0, nil
}
