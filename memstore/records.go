package memstore

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// RecordStore is a concurrency-safe in-memory [recordstore.Store]: the
// reference implementation of the record contract. Under each key it keeps
// one versioned entry, a record or a tombstone (with the time of its
// delete), and every condition is checked under one lock. It implements
// [recordstore.Scanner], [recordstore.BatchPutter], [recordstore.Counter]
// and [recordstore.TombstonePurger]. Records go in and come out as deep
// copies. The zero value is not usable; call [NewRecordStore].
type RecordStore struct {
	mu       sync.RWMutex
	entries  map[recordstore.Key]recEntry
	accounts map[string][]string // per account, the IDs of its entries (records and tombstones), sorted
	order    []string            // account IDs with entries, sorted
	live     int
	now      func() time.Time
}

// recEntry is what a key holds: a record, or a tombstone (rec.Deleted)
// with the time of its delete.
type recEntry struct {
	rec recordstore.Record
	at  time.Time
}

var (
	_ recordstore.Store           = (*RecordStore)(nil)
	_ recordstore.Scanner         = (*RecordStore)(nil)
	_ recordstore.BatchPutter     = (*RecordStore)(nil)
	_ recordstore.Counter         = (*RecordStore)(nil)
	_ recordstore.TombstonePurger = (*RecordStore)(nil)
)

// NewRecordStore returns an empty record store.
func NewRecordStore() *RecordStore {
	return &RecordStore{entries: make(map[recordstore.Key]recEntry), accounts: make(map[string][]string), now: time.Now}
}

func recNotFound(accountID, id string) error {
	return fmt.Errorf("memstore: account %q record %q: %w", accountID, id, recordstore.ErrNotFound)
}

// Get implements [recordstore.Store].
func (s *RecordStore) Get(ctx context.Context, accountID, id string) (recordstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[recordstore.Key{AccountID: accountID, ID: id}]
	if !ok || e.rec.Deleted {
		return recordstore.Record{}, recNotFound(accountID, id)
	}
	return e.rec.Clone(), nil
}

// List implements [recordstore.Store] with a binary search in the
// account's sorted IDs.
func (s *RecordStore) List(ctx context.Context, accountID string, opts recordstore.ListOptions) (recordstore.Page, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return recordstore.Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.accounts[accountID]
	i := 0
	if q.After != "" {
		var found bool
		if i, found = slices.BinarySearch(ids, q.After); found {
			i++
		}
	}
	var page recordstore.Page
	for ; i < len(ids); i++ {
		e := s.entries[recordstore.Key{AccountID: accountID, ID: ids[i]}]
		if e.rec.Deleted {
			continue
		}
		if len(page.Records) == q.Limit {
			page.NextCursor = q.NextCursor(page.Records[len(page.Records)-1].ID)
			break
		}
		page.Records = append(page.Records, e.rec.Clone())
	}
	return page, nil
}

// CompareAndSet implements [recordstore.Store].
func (s *RecordStore) CompareAndSet(ctx context.Context, accountID, id string, expected int64, data map[string]any) (recordstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	rec, err := recordstore.NextVersion(accountID, id, expected, data)
	if err != nil {
		return recordstore.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.entries[rec.Key()]
	live := int64(0)
	if ok && !old.rec.Deleted {
		live = old.rec.Version
	}
	if live != expected {
		return recordstore.Record{}, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: live}
	}
	if ok && old.rec.Deleted {
		if old.rec.Version == recordstore.MaxVersion {
			return recordstore.Record{}, fmt.Errorf("memstore: account %q record %q: %w: the tombstone is at MaxVersion", accountID, id, recordstore.ErrInvalidArgument)
		}
		rec.Version = old.rec.Version + 1
	}
	s.setLocked(rec)
	return rec.Clone(), nil
}

// CompareAndDelete implements [recordstore.Store].
func (s *RecordStore) CompareAndDelete(ctx context.Context, accountID, id string, expected int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := recordstore.CheckCompareAndDelete(accountID, id, expected); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := recordstore.Key{AccountID: accountID, ID: id}
	old, ok := s.entries[k]
	if !ok || old.rec.Deleted || old.rec.Version != expected {
		cur := int64(0)
		if ok && !old.rec.Deleted {
			cur = old.rec.Version
		}
		return 0, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: cur}
	}
	s.setLocked(recordstore.Record{AccountID: accountID, ID: id, Version: expected + 1, Deleted: true})
	return expected + 1, nil
}

// PutIfNewer implements [recordstore.Store].
func (s *RecordStore) PutIfNewer(ctx context.Context, rec recordstore.Record) (recordstore.PutOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c, err := rec.Canonical()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putIfNewerLocked(c), nil
}

// DeleteIfNewer implements [recordstore.Store].
func (s *RecordStore) DeleteIfNewer(ctx context.Context, accountID, id string, version int64) (recordstore.PutOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	t, err := recordstore.Tombstone(accountID, id, version)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putIfNewerLocked(t), nil
}

// PutRecords implements [recordstore.BatchPutter] under one lock.
func (s *RecordStore) PutRecords(ctx context.Context, recs []recordstore.Record) ([]recordstore.BatchResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]recordstore.BatchResult, len(recs))
	canon := make([]recordstore.Record, len(recs))
	for i, r := range recs {
		canon[i], out[i].Err = r.Canonical()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range canon {
		if out[i].Err == nil {
			out[i].Outcome = s.putIfNewerLocked(c)
		}
	}
	return out, nil
}

func (s *RecordStore) putIfNewerLocked(c recordstore.Record) recordstore.PutOutcome {
	if old, ok := s.entries[c.Key()]; ok && old.rec.Version >= c.Version {
		return recordstore.Stale
	}
	s.setLocked(c)
	return recordstore.Applied
}

// setLocked stores the canonical c (a record or a tombstone) under its key.
func (s *RecordStore) setLocked(c recordstore.Record) {
	k := c.Key()
	old, existed := s.entries[k]
	if existed && !old.rec.Deleted {
		s.live--
	}
	if !c.Deleted {
		s.live++
	}
	s.entries[k] = recEntry{rec: c, at: s.now()}
	if existed {
		return
	}
	ids, ok := s.accounts[k.AccountID]
	if !ok {
		i, _ := slices.BinarySearch(s.order, k.AccountID)
		s.order = slices.Insert(s.order, i, k.AccountID)
	}
	i, _ := slices.BinarySearch(ids, k.ID)
	s.accounts[k.AccountID] = slices.Insert(ids, i, k.ID)
}

// Scan implements [recordstore.Scanner]. The whole-store order is
// (AccountID, ID), bytewise; segments are [eventstore.SegmentOf] the
// account. Records are read in batches under a read lock that is never
// held while the caller handles a record.
func (s *RecordStore) Scan(ctx context.Context, opts recordstore.ScanOptions) iter.Seq2[recordstore.Record, error] {
	return func(yield func(recordstore.Record, error) bool) {
		if err := opts.Validate(); err != nil {
			yield(recordstore.Record{}, err)
			return
		}
		batch := opts.BatchSize
		if batch == 0 {
			batch = 256
		}
		after := opts.After
		for {
			if err := ctx.Err(); err != nil {
				yield(recordstore.Record{}, err)
				return
			}
			recs, last, more := s.nextRecords(opts, after, batch)
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
			if !more {
				return
			}
			after = &last
		}
	}
}

// nextRecords returns up to n records after the key after (from the start
// when nil) in scan order, the last key it looked at, and whether entries
// may follow.
func (s *RecordStore) nextRecords(opts recordstore.ScanOptions, after *recordstore.Key, n int) ([]recordstore.Record, recordstore.Key, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	accounts := s.order
	if opts.AccountID != "" {
		accounts = []string{opts.AccountID}
	}
	ai := 0
	if after != nil {
		ai, _ = slices.BinarySearch(accounts, after.AccountID)
	}
	var out []recordstore.Record
	var last recordstore.Key
	looked := 0
	for ; ai < len(accounts); ai++ {
		a := accounts[ai]
		if opts.Segments > 1 && eventstore.SegmentOf(a, opts.Segments) != opts.Segment {
			continue
		}
		ids := s.accounts[a]
		k := 0
		if after != nil && a == after.AccountID {
			var found bool
			if k, found = slices.BinarySearch(ids, after.ID); found {
				k++
			}
		}
		for ; k < len(ids); k++ {
			if looked == n {
				return out, last, true
			}
			looked++
			last = recordstore.Key{AccountID: a, ID: ids[k]}
			e := s.entries[last]
			if e.rec.Deleted && !opts.Tombstones {
				continue
			}
			out = append(out, e.rec.Clone())
		}
	}
	return out, last, false
}

// CountRecords implements [recordstore.Counter]: the live records of one
// account ("" for all), exactly.
func (s *RecordStore) CountRecords(ctx context.Context, accountID string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if accountID == "" {
		return int64(s.live), nil
	}
	var n int64
	for _, id := range s.accounts[accountID] {
		if !s.entries[recordstore.Key{AccountID: accountID, ID: id}].rec.Deleted {
			n++
		}
	}
	return n, nil
}

// PurgeTombstones implements [recordstore.TombstonePurger].
func (s *RecordStore) PurgeTombstones(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.entries {
		if !e.rec.Deleted || !e.at.Before(before) {
			continue
		}
		delete(s.entries, k)
		ids := s.accounts[k.AccountID]
		if i, found := slices.BinarySearch(ids, k.ID); found {
			ids = slices.Delete(ids, i, i+1)
		}
		if len(ids) == 0 {
			delete(s.accounts, k.AccountID)
			if i, found := slices.BinarySearch(s.order, k.AccountID); found {
				s.order = slices.Delete(s.order, i, i+1)
			}
		} else {
			s.accounts[k.AccountID] = ids
		}
		n++
	}
	return n, nil
}
