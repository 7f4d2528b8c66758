package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/recordstore"
)

// Concurrency, scans and the optional capabilities of record stores.

// increments is how many goroutines, and how many increments each, the
// concurrency subtest runs: enough to make compare-and-set conflicts
// certain, few enough for a slow test server.
const (
	incrementers   = 8
	incrementsEach = 5
	maxAttempts    = 1000 // per goroutine: a broken store must not spin forever
)

// testRecConcurrentIncrements runs goroutines that each increment one
// record's counter by read-modify-write with CompareAndSet, retrying on
// ErrVersionConflict. Every acknowledged increment must be in the final
// count: none is lost, none counted twice.
func testRecConcurrentIncrements(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	ctx := t.Context()
	var acked atomic.Int64
	start := make(chan struct{})
	errs := make(chan error, incrementers)
	var wg sync.WaitGroup
	for g := range incrementers {
		wg.Go(func() {
			<-start
			done, attempts := 0, 0
			for done < incrementsEach {
				if attempts++; attempts > maxAttempts {
					errs <- fmt.Errorf("goroutine %d: %d attempts for %d increments", g, maxAttempts, incrementsEach)
					return
				}
				var expected, n int64
				r, err := s.Get(ctx, "acct", "counter")
				switch {
				case errors.Is(err, recordstore.ErrNotFound):
				case err != nil:
					errs <- err
					return
				default:
					expected, n = r.Version, r.Data["n"].(int64)
				}
				_, err = s.CompareAndSet(ctx, "acct", "counter", expected, map[string]any{"n": n + 1})
				if errors.Is(err, recordstore.ErrVersionConflict) {
					continue // another goroutine won: read again
				}
				if err != nil {
					errs <- err
					return
				}
				acked.Add(1)
				done++
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := mustGet(t, s, "acct", "counter")
	n := got.Data["n"].(int64)
	if n != acked.Load() || got.Version != acked.Load() {
		t.Errorf("after %d acknowledged increments the counter is %d at version %d; want both %d (lost or phantom updates)",
			acked.Load(), n, got.Version, acked.Load())
	}
	if acked.Load() != incrementers*incrementsEach {
		t.Errorf("%d increments acknowledged, want %d", acked.Load(), incrementers*incrementsEach)
	}
}

// testRecConcurrentPuts sends the versions of two keys in a shuffled
// order from several goroutines at once: each key ends at its highest
// version, the one with a delete as a tombstone.
func testRecConcurrentPuts(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	const top = 24
	var writes []recordstore.Record
	for v := int64(1); v <= top; v++ {
		writes = append(writes, rec("acct", "hot", v, map[string]any{"v": v}), rec("acct", "hot-del", v, map[string]any{"v": v}))
	}
	writes = append(writes, tomb("acct", "hot-del", top+1))
	writes = shuffledRecords(writes, 7)
	start := make(chan struct{})
	errs := make(chan error, len(writes))
	var wg sync.WaitGroup
	for g := range incrementers {
		wg.Go(func() {
			<-start
			for i := g; i < len(writes); i += incrementers {
				if _, err := s.PutIfNewer(t.Context(), writes[i]); err != nil {
					errs <- err
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	hot := rec("acct", "hot", top, map[string]any{"v": int64(top)})
	wantState(t, s, "concurrent puts", "acct", "hot", &hot)
	gone := tomb("acct", "hot-del", top+1)
	wantState(t, s, "concurrent puts and a delete", "acct", "hot-del", &gone)
}

func recScanner(t *testing.T, s recordstore.Store) recordstore.Scanner {
	t.Helper()
	sc, ok := s.(recordstore.Scanner)
	if !ok {
		t.Skipf("%T does not implement recordstore.Scanner", s)
	}
	return sc
}

// scanRecords collects a scan, stopping after stopAfter records (0: all).
func scanRecords(t *testing.T, sc recordstore.Scanner, opts recordstore.ScanOptions, stopAfter int) []recordstore.Record {
	t.Helper()
	var out []recordstore.Record
	for r, err := range sc.Scan(t.Context(), opts) {
		if err != nil {
			t.Fatalf("Scan(%+v): %v", opts, err)
		}
		out = append(out, r)
		if len(out) == stopAfter {
			break
		}
	}
	return out
}

func byKey(recs []recordstore.Record) []recordstore.Record {
	out := slices.Clone(recs)
	slices.SortFunc(out, func(a, b recordstore.Record) int {
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// scanFixture stores records of several accounts, deletes some, and
// returns the live records and the tombstones, canonical.
func scanFixture(t *testing.T, s recordstore.Store) (live, tombs []recordstore.Record) {
	t.Helper()
	for a := range 6 {
		account := fmt.Sprintf("acct-%d", a)
		for i, r := range orderedRecords(account, 5+a) {
			mustPut(t, s, r)
			if i%4 == 1 {
				v, err := s.CompareAndDelete(t.Context(), account, r.ID, r.Version)
				if err != nil {
					t.Fatal(err)
				}
				tombs = append(tombs, tomb(account, r.ID, v))
				continue
			}
			live = append(live, canonRec(t, r))
		}
	}
	return byKey(live), byKey(tombs)
}

func testRecScan(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	sc := recScanner(t, s)
	live, tombs := scanFixture(t, s)
	both := byKey(append(slices.Clone(live), tombs...))
	onlyAcct := func(recs []recordstore.Record, a string) []recordstore.Record {
		var out []recordstore.Record
		for _, r := range recs {
			if r.AccountID == a {
				out = append(out, r)
			}
		}
		return out
	}
	for _, tc := range []struct {
		reason  string
		opts    recordstore.ScanOptions
		want    []recordstore.Record
		ordered bool // in ID order, as an account scan is
	}{
		{"the whole store: every live record", recordstore.ScanOptions{}, live, false},
		{"small batches change nothing", recordstore.ScanOptions{BatchSize: 2}, live, false},
		{"with tombstones, deletes come with their versions", recordstore.ScanOptions{Tombstones: true, BatchSize: 3}, both, false},
		{"one account, in ID order", recordstore.ScanOptions{AccountID: "acct-3"}, onlyAcct(live, "acct-3"), true},
		{"one account with tombstones, in ID order", recordstore.ScanOptions{AccountID: "acct-5", Tombstones: true}, onlyAcct(both, "acct-5"), true},
		{"an unknown account: nothing", recordstore.ScanOptions{AccountID: "nobody"}, nil, true},
	} {
		got := scanRecords(t, sc, tc.opts, 0)
		if !tc.ordered {
			got = byKey(got)
		}
		if d := diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
	for _, tc := range []struct {
		reason string
		opts   recordstore.ScanOptions
	}{
		{"negative segments", recordstore.ScanOptions{Segments: -1}},
		{"segment out of range", recordstore.ScanOptions{Segment: 3, Segments: 3}},
		{"a segmented account scan", recordstore.ScanOptions{AccountID: "a", Segments: 2}},
		{"an invalid After", recordstore.ScanOptions{After: &recordstore.Key{AccountID: "a"}}},
	} {
		var err error
		for _, e := range sc.Scan(t.Context(), tc.opts) {
			err = e
			break
		}
		if !errors.Is(err, recordstore.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", tc.reason, err)
		}
	}
}

func testRecScanResume(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	sc := recScanner(t, s)
	scanFixture(t, s)
	for _, opts := range []recordstore.ScanOptions{{}, {Tombstones: true, BatchSize: 2}, {AccountID: "acct-4"}} {
		full := scanRecords(t, sc, opts, 0)
		for _, stop := range []int{1, 4, len(full) - 1} {
			first := scanRecords(t, sc, opts, stop)
			resumed := opts
			k := first[len(first)-1].Key()
			resumed.After = &k
			rest := scanRecords(t, sc, resumed, 0)
			if d := diff(full, append(first, rest...)); d != "" {
				t.Errorf("%+v stopped after %d and resumed: (-want +got):\n%s", opts, stop, d)
			}
		}
	}
}

func testRecScanSegments(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	sc := recScanner(t, s)
	live, _ := scanFixture(t, s)
	const n = 3
	var union []recordstore.Record
	owner := map[string]int{}
	for seg := range n {
		for _, r := range scanRecords(t, sc, recordstore.ScanOptions{Segment: seg, Segments: n}, 0) {
			if o, ok := owner[r.AccountID]; ok && o != seg {
				t.Errorf("account %s is in segments %d and %d", r.AccountID, o, seg)
			}
			owner[r.AccountID] = seg
			union = append(union, r)
		}
	}
	if d := diff(live, byKey(union)); d != "" {
		t.Errorf("the segments' union is not the store (-want +got):\n%s", d)
	}
}

func testRecBatchPut(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	bp, ok := s.(recordstore.BatchPutter)
	if !ok {
		t.Skipf("%T does not implement recordstore.BatchPutter", s)
	}
	mustPut(t, s, rec("acct", "x", 5, map[string]any{"v": int64(5)}), rec("acct", "z", 2, nil))
	batch := []struct {
		reason string
		r      recordstore.Record
		want   recordstore.PutOutcome // "": an ErrInvalidRecord
	}{
		{"a new key is applied", rec("acct", "a", 1, map[string]any{"v": int64(1)}), recordstore.Applied},
		{"an older version is stale", rec("acct", "x", 3, map[string]any{"v": int64(3)}), recordstore.Stale},
		{"a newer version is applied", rec("acct", "x", 7, map[string]any{"v": int64(7)}), recordstore.Applied},
		{"an invalid record is refused alone", rec("acct", "bad", 0, nil), ""},
		{"a tombstone of a new key is applied", tomb("acct", "y", 2), recordstore.Applied},
		{"a tombstone over an older record is applied", tomb("acct", "z", 3), recordstore.Applied},
	}
	recs := make([]recordstore.Record, len(batch))
	for i, b := range batch {
		recs[i] = b.r
	}
	res, err := bp.PutRecords(t.Context(), recs)
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	if len(res) != len(recs) {
		t.Fatalf("PutRecords returned %d results for %d records", len(res), len(recs))
	}
	for i, b := range batch {
		switch {
		case b.want == "" && !errors.Is(res[i].Err, recordstore.ErrInvalidRecord):
			t.Errorf("%s: result %+v, want ErrInvalidRecord", b.reason, res[i])
		case b.want != "" && (res[i].Err != nil || res[i].Outcome != b.want):
			t.Errorf("%s: result %+v, want %q", b.reason, res[i], b.want)
		}
	}
	for _, w := range []recordstore.Record{recs[0], recs[2], recs[4], recs[5]} {
		wantState(t, s, "after PutRecords", w.AccountID, w.ID, &w)
	}
	if res, err := bp.PutRecords(t.Context(), nil); err != nil || len(res) != 0 {
		t.Errorf("PutRecords(nil) = %v, %v; want nothing", res, err)
	}
}

func testRecCount(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	c, ok := s.(recordstore.Counter)
	if !ok {
		t.Skipf("%T does not implement recordstore.Counter", s)
	}
	live, _ := scanFixture(t, s)
	for _, tc := range []struct {
		reason  string
		account string
		want    int64
	}{
		{"the whole store counts live records, not tombstones", "", int64(len(live))},
		{"one account", "acct-5", int64(len(slices.DeleteFunc(slices.Clone(live), func(r recordstore.Record) bool { return r.AccountID != "acct-5" })))},
		{"an unknown account", "nobody", 0},
	} {
		if n, err := c.CountRecords(t.Context(), tc.account); err != nil || n != tc.want {
			t.Errorf("%s: CountRecords(%q) = %d, %v; want %d", tc.reason, tc.account, n, err, tc.want)
		}
	}
}

func testRecPurge(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	p, ok := s.(recordstore.TombstonePurger)
	if !ok {
		t.Skipf("%T does not implement recordstore.TombstonePurger", s)
	}
	mustPut(t, s, rec("acct", "kept", 1, nil), tomb("acct", "t1", 4), tomb("acct", "t2", 2))
	// An hour either side of now: no clock on a test machine is that far off.
	if n, err := p.PurgeTombstones(t.Context(), time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("purging tombstones older than an hour ago = %d, %v; want 0", n, err)
	}
	old := rec("acct", "t1", 3, nil)
	if out, err := s.PutIfNewer(t.Context(), old); err != nil || out != recordstore.Stale {
		t.Errorf("an older put over a kept tombstone = %q, %v; want stale", out, err)
	}
	if n, err := p.PurgeTombstones(t.Context(), time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("purging every tombstone = %d, %v; want 2", n, err)
	}
	wantState(t, s, "a purged tombstone", "acct", "t2", nil)
	kept := rec("acct", "kept", 1, nil)
	wantState(t, s, "a record survives a purge", "acct", "kept", &kept)
	// A purged tombstone has forgotten its version (see TombstonePurger).
	if out, err := s.PutIfNewer(t.Context(), old); err != nil || out != recordstore.Applied {
		t.Errorf("a put over a purged tombstone = %q, %v; want applied", out, err)
	}
}
