// Package memstore is an in-memory [flagmigrate.EventStore]: the embedded
// default that needs no server, and the reference implementation of the
// contract that the other stores are measured against.
//
// A Store keeps each account's events twice, by ID and in (Time, ID) order,
// so that FindEventByID is a map lookup and ListEvents a binary search. It
// implements [flagmigrate.EventScanner], [flagmigrate.BatchStorer] and
// [flagmigrate.BatchFinder] and [flagmigrate.EventDeleter] (with
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

	"github.com/flagmigrate/flagmigrate"
)

// Store is a concurrency-safe in-memory event store. The zero value is not
// usable; call [New].
type Store struct {
	mu       sync.RWMutex
	accounts map[string]*account
	order    []string // account IDs, sorted
	count    int
	tombs    map[flagmigrate.EventKey]time.Time // deleted keys and when (delete.go)
}

type account struct {
	byID   map[string]flagmigrate.Event
	ids    []string            // sorted bytewise
	byTime []flagmigrate.Event // sorted by (Time, ID)
}

var (
	_ flagmigrate.EventStore   = (*Store)(nil)
	_ flagmigrate.EventScanner = (*Store)(nil)
	_ flagmigrate.BatchStorer  = (*Store)(nil)
	_ flagmigrate.BatchFinder  = (*Store)(nil)
	_ flagmigrate.EventDeleter = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{accounts: make(map[string]*account), tombs: make(map[flagmigrate.EventKey]time.Time)}
}

// Len returns the number of stored events.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.count
}

// StoreEvent implements [flagmigrate.EventStore].
func (s *Store) StoreEvent(ctx context.Context, evt flagmigrate.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := flagmigrate.CanonicalEvent(ctx, evt)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeLocked(c)
}

func (s *Store) storeLocked(c flagmigrate.Event) error {
	if _, deleted := s.tombs[c.Key()]; deleted {
		return fmt.Errorf("memstore: account %q event %q: %w", c.AccountID, c.ID, flagmigrate.ErrDeleted)
	}
	a := s.accounts[c.AccountID]
	if a == nil {
		a = &account{byID: make(map[string]flagmigrate.Event)}
		s.accounts[c.AccountID] = a
		i, _ := slices.BinarySearch(s.order, c.AccountID)
		s.order = slices.Insert(s.order, i, c.AccountID)
	}
	if old, ok := a.byID[c.ID]; ok {
		if flagmigrate.EqualEvents(old, c) {
			return nil
		}
		return fmt.Errorf("memstore: account %q event %q: %w", c.AccountID, c.ID, flagmigrate.ErrConflict)
	}
	a.byID[c.ID] = c
	i, _ := slices.BinarySearch(a.ids, c.ID)
	a.ids = slices.Insert(a.ids, i, c.ID)
	j, _ := slices.BinarySearchFunc(a.byTime, c, compareTimeID)
	a.byTime = slices.Insert(a.byTime, j, c)
	s.count++
	return nil
}

func compareTimeID(a, b flagmigrate.Event) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// StoreEvents implements [flagmigrate.BatchStorer] under one lock.
func (s *Store) StoreEvents(ctx context.Context, events []flagmigrate.Event) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := make([]error, len(events))
	canon := make([]flagmigrate.Event, len(events))
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

// FindEventByID implements [flagmigrate.EventStore].
func (s *Store) FindEventByID(ctx context.Context, accountID, id string) (flagmigrate.Event, error) {
	if err := ctx.Err(); err != nil {
		return flagmigrate.Event{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a := s.accounts[accountID]; a != nil {
		if evt, ok := a.byID[id]; ok {
			return evt.Clone(), nil
		}
	}
	return flagmigrate.Event{}, fmt.Errorf("memstore: account %q event %q: %w", accountID, id, flagmigrate.ErrNotFound)
}

// FindEvents implements [flagmigrate.BatchFinder].
func (s *Store) FindEvents(ctx context.Context, keys []flagmigrate.EventKey) ([]flagmigrate.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []flagmigrate.Event
	for _, k := range keys {
		if a := s.accounts[k.AccountID]; a != nil {
			if evt, ok := a.byID[k.ID]; ok {
				out = append(out, evt.Clone())
			}
		}
	}
	return out, nil
}

// ListEvents implements [flagmigrate.EventStore].
func (s *Store) ListEvents(ctx context.Context, accountID string, opts flagmigrate.ListOptions) (flagmigrate.Page, error) {
	if err := ctx.Err(); err != nil {
		return flagmigrate.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return flagmigrate.Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.accounts[accountID]
	if a == nil {
		return flagmigrate.Page{}, nil
	}
	// First event at or after Start, or after the cursor's position.
	start := flagmigrate.Event{Time: q.Start}
	i, _ := slices.BinarySearchFunc(a.byTime, start, compareTimeID)
	if q.After != nil {
		after := flagmigrate.Event{Time: q.After.Time, ID: q.After.ID}
		j, found := slices.BinarySearchFunc(a.byTime, after, compareTimeID)
		if found {
			j++
		}
		i = max(i, j)
	}
	var page flagmigrate.Page
	for ; i < len(a.byTime) && a.byTime[i].Time.Before(q.End); i++ {
		if len(page.Events) == q.Limit {
			page.NextCursor = q.NextCursor(page.Events[len(page.Events)-1])
			break
		}
		page.Events = append(page.Events, a.byTime[i].Clone())
	}
	return page, nil
}

// ScanEvents implements [flagmigrate.EventScanner]. The whole-store order is
// (AccountID, ID), bytewise; segments are [flagmigrate.SegmentOf] the account.
// Events are read in batches under a read lock that is never held while the
// caller handles an event.
func (s *Store) ScanEvents(ctx context.Context, opts flagmigrate.ScanOptions) iter.Seq2[flagmigrate.Event, error] {
	return func(yield func(flagmigrate.Event, error) bool) {
		if err := opts.Validate(); err != nil {
			yield(flagmigrate.Event{}, err)
			return
		}
		batch := opts.BatchSize
		if batch == 0 {
			batch = 256
		}
		var after flagmigrate.EventKey
		started := false
		if opts.After != nil {
			after, started = *opts.After, true
		}
		for {
			if err := ctx.Err(); err != nil {
				yield(flagmigrate.Event{}, err)
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
func (s *Store) nextBatch(opts flagmigrate.ScanOptions, after flagmigrate.EventKey, started bool, n int) []flagmigrate.Event {
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
	var out []flagmigrate.Event
	for ; ai < len(accounts) && len(out) < n; ai++ {
		id := accounts[ai]
		a := s.accounts[id]
		if a == nil || (opts.Segments > 1 && flagmigrate.SegmentOf(id, opts.Segments) != opts.Segment) {
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
