package storetest_test

import (
	"cmp"
	"context"
	"iter"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/recordstore"
	"github.com/flagmigrate/flagmigrate/storetest"
)

func TestMemRecordStore(t *testing.T) {
	t.Parallel()
	storetest.RunRecords(t, func(*testing.T) recordstore.Store { return memstore.NewRecordStore() })
}

// flaw is one rule of the record contract that a flawed store breaks.
type flaw int

const (
	noFlaw           flaw = iota
	olderOverwrites       // a put-if-newer applies whatever its version
	resurrects            // a tombstone does not count: an older put brings the record back
	ignoresCondition      // a write whose condition failed is applied anyway (and reported as refused)
)

// flawed is a small record store of the test's own, written as a team
// might, with one flaw it can be told to have. Without a flaw it passes
// the suite, so the failures of a flawed one are the flaw's.
type flawed struct {
	flaw flaw
	mu   sync.Mutex
	m    map[recordstore.Key]recordstore.Record // records and tombstones (Deleted)
}

func newFlawed(f flaw) *flawed {
	return &flawed{flaw: f, m: make(map[recordstore.Key]recordstore.Record)}
}

func (s *flawed) Get(ctx context.Context, accountID, id string) (recordstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[recordstore.Key{AccountID: accountID, ID: id}]
	if !ok || r.Deleted {
		return recordstore.Record{}, recordstore.ErrNotFound
	}
	return r.Clone(), nil
}

func (s *flawed) List(ctx context.Context, accountID string, opts recordstore.ListOptions) (recordstore.Page, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Page{}, err
	}
	q, err := opts.Query(accountID)
	if err != nil {
		return recordstore.Page{}, err
	}
	var page recordstore.Page
	for r, err := range s.Scan(ctx, recordstore.ScanOptions{AccountID: accountID}) {
		if err != nil {
			return recordstore.Page{}, err
		}
		if r.ID <= q.After && q.After != "" {
			continue
		}
		if len(page.Records) == q.Limit {
			page.NextCursor = q.NextCursor(page.Records[q.Limit-1].ID)
			break
		}
		page.Records = append(page.Records, r)
	}
	return page, nil
}

// live returns the key's live version (0: none) and its stored version.
func (s *flawed) versions(k recordstore.Key) (live, stored int64) {
	r, ok := s.m[k]
	if !ok {
		return 0, 0
	}
	if r.Deleted {
		if s.flaw == resurrects {
			return 0, 0
		}
		return 0, r.Version
	}
	return r.Version, r.Version
}

func (s *flawed) CompareAndSet(ctx context.Context, accountID, id string, expected int64, data map[string]any) (recordstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return recordstore.Record{}, err
	}
	r, err := recordstore.NextVersion(accountID, id, expected, data)
	if err != nil {
		return recordstore.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	live, stored := s.versions(r.Key())
	if expected == 0 && stored > 0 && live == 0 {
		r.Version = stored + 1
	}
	if live != expected {
		if s.flaw == ignoresCondition {
			s.m[r.Key()] = r
		}
		return recordstore.Record{}, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: live}
	}
	s.m[r.Key()] = r
	return r.Clone(), nil
}

func (s *flawed) CompareAndDelete(ctx context.Context, accountID, id string, expected int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := recordstore.CheckCompareAndDelete(accountID, id, expected); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := recordstore.Key{AccountID: accountID, ID: id}
	live, _ := s.versions(k)
	t := recordstore.Record{AccountID: accountID, ID: id, Version: expected + 1, Deleted: true}
	if live != expected {
		if s.flaw == ignoresCondition {
			s.m[k] = t
		}
		return 0, &recordstore.ConflictError{AccountID: accountID, ID: id, Expected: expected, Current: live}
	}
	s.m[k] = t
	return t.Version, nil
}

func (s *flawed) PutIfNewer(ctx context.Context, rec recordstore.Record) (recordstore.PutOutcome, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c, err := rec.Canonical()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, stored := s.versions(c.Key())
	if stored >= c.Version {
		switch s.flaw {
		case olderOverwrites:
			s.m[c.Key()] = c
			return recordstore.Applied, nil
		case ignoresCondition:
			s.m[c.Key()] = c
		}
		return recordstore.Stale, nil
	}
	s.m[c.Key()] = c
	return recordstore.Applied, nil
}

func (s *flawed) DeleteIfNewer(ctx context.Context, accountID, id string, version int64) (recordstore.PutOutcome, error) {
	t, err := recordstore.Tombstone(accountID, id, version)
	if err != nil {
		return "", err
	}
	return s.PutIfNewer(ctx, t)
}

func (s *flawed) Scan(ctx context.Context, opts recordstore.ScanOptions) iter.Seq2[recordstore.Record, error] {
	return func(yield func(recordstore.Record, error) bool) {
		if err := opts.Validate(); err != nil {
			yield(recordstore.Record{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(recordstore.Record{}, err)
			return
		}
		s.mu.Lock()
		var recs []recordstore.Record
		for k, r := range s.m {
			switch {
			case opts.AccountID != "" && k.AccountID != opts.AccountID,
				r.Deleted && !opts.Tombstones,
				opts.Segments > 1 && len(k.AccountID)%opts.Segments != opts.Segment,
				opts.After != nil && cmpKey(k, *opts.After) <= 0:
				continue
			}
			recs = append(recs, r.Clone())
		}
		s.mu.Unlock()
		slices.SortFunc(recs, func(a, b recordstore.Record) int { return cmpKey(a.Key(), b.Key()) })
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func cmpKey(a, b recordstore.Key) int {
	return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.ID, b.ID))
}

var _ recordstore.Scanner = (*flawed)(nil)

var flaws = map[string]flaw{
	"flawless":          noFlaw,
	"older-overwrites":  olderOverwrites,
	"resurrects":        resurrects,
	"ignores-condition": ignoresCondition,
}

// TestFlawedRecordStore runs the records suite against the flawed store
// named by STORETEST_FLAW; TestRecordSuiteFailsFlawedStores runs it in a
// child process, expecting it to fail (and TestFlawlessRecordStore, to
// pass).
func TestFlawedRecordStore(t *testing.T) {
	f, ok := flaws[os.Getenv("STORETEST_FLAW")]
	if !ok {
		t.Skip("run by TestRecordSuiteFailsFlawedStores in a child process")
	}
	storetest.RunRecords(t, func(*testing.T) recordstore.Store { return newFlawed(f) })
}

// TestFlawlessRecordStore: the test's store without a flaw passes, so the
// failures below are the flaws'.
func TestFlawlessRecordStore(t *testing.T) {
	t.Parallel()
	storetest.RunRecords(t, func(*testing.T) recordstore.Store { return newFlawed(noFlaw) })
}

func TestRecordSuiteFailsFlawedStores(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reason string
		flaw   string
		fails  []string // subtests that must fail
	}{
		{"a store that lets an older version overwrite a newer one", "older-overwrites",
			[]string{"PutIfNewer", "ConvergesInAnyOrder", "ConcurrentPutIfNewer"}},
		{"a store that brings a deleted record back", "resurrects",
			[]string{"PutIfNewer", "ConvergesInAnyOrder", "CompareAndSet"}},
		{"a store that applies a write whose condition failed", "ignores-condition",
			[]string{"CompareAndSet", "CompareAndDelete", "PutIfNewer", "ConvergesInAnyOrder"}},
	} {
		t.Run(tc.flaw, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFlawedRecordStore$", "-test.v")
			cmd.Env = append(os.Environ(), "STORETEST_FLAW="+tc.flaw)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("%s: the suite passed it:\n%s", tc.reason, out)
			}
			for _, sub := range tc.fails {
				if !regexp.MustCompile(`--- FAIL: TestFlawedRecordStore/` + sub + `\b`).Match(out) {
					t.Errorf("%s: subtest %s did not fail:\n%s", tc.reason, sub, out)
				}
			}
		})
	}
}
