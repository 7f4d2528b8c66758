package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// NewRecordStore returns a fresh, empty record store for one subtest. It
// may register clean-up with t.Cleanup.
type NewRecordStore func(t *testing.T) recordstore.Store

// RunRecords runs the conformance suite of [recordstore.Store] against
// stores made by newStore:
//
//	func TestRecordConformance(t *testing.T) {
//		storetest.RunRecords(t, func(t *testing.T) recordstore.Store {
//			return mystore.NewRecords(...)
//		})
//	}
//
// It lives beside [Run], in the one public conformance package, so that a
// store author finds both suites in one place; it needs nothing beyond
// the two contract packages. Each rule is its own subtest; those of the
// optional capabilities ([recordstore.Scanner], [recordstore.BatchPutter],
// [recordstore.Counter], [recordstore.TombstonePurger]) skip, saying so,
// when the store lacks them. The suite tests itself: run against stores
// that let an older version overwrite a newer one, that bring a deleted
// record back, or that apply a write whose condition failed, it fails.
func RunRecords(t *testing.T, newStore NewRecordStore) {
	t.Helper()
	RunRecordsWith(t, newStore, RecordOptions{})
}

// RecordOptions adapts the records suite to a store's server.
type RecordOptions struct {
	// NonAtomic, when set, says why the server does not apply a
	// conditional write atomically (it checks the condition and writes in
	// two steps, as FerretDB v1 does): the subtests of concurrent writes
	// then skip with this reason, since no store on such a server can
	// pass them. Every other rule is still checked.
	NonAtomic string
}

// RunRecordsWith runs the records suite with options.
func RunRecordsWith(t *testing.T, newStore NewRecordStore, opts RecordOptions) {
	t.Helper()
	concurrent := func(fn func(*testing.T, NewRecordStore)) func(*testing.T, NewRecordStore) {
		return func(t *testing.T, newStore NewRecordStore) {
			if opts.NonAtomic != "" {
				t.Skip("the server's conditional writes are not atomic: " + opts.NonAtomic)
			}
			fn(t, newStore)
		}
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, NewRecordStore)
	}{
		{"RoundTrip", testRecRoundTrip},
		{"Canonicalises", testRecCanonicalises},
		{"CompareAndSet", testRecCompareAndSet},
		{"CompareAndDelete", testRecCompareAndDelete},
		{"PutIfNewer", testRecPutIfNewer},
		{"ConvergesInAnyOrder", testRecConverges},
		{"NotFound", testRecNotFound},
		{"AccountIsolation", testRecIsolation},
		{"ListPagination", testRecPagination},
		{"ListBadArguments", testRecBadList},
		{"InvalidRefused", testRecInvalid},
		{"CancelledContext", testRecCancelled},
		{"ConcurrentIncrements", concurrent(testRecConcurrentIncrements)},
		{"ConcurrentPutIfNewer", concurrent(testRecConcurrentPuts)},
		{"Scan", testRecScan},
		{"ScanResume", testRecScanResume},
		{"ScanSegments", testRecScanSegments},
		{"BatchPut", testRecBatchPut},
		{"Count", testRecCount},
		{"PurgeTombstones", testRecPurge},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}

// rec is the record account/id at version v holding data.
func rec(account, id string, v int64, data map[string]any) recordstore.Record {
	return recordstore.Record{AccountID: account, ID: id, Version: v, Data: data}
}

// tomb is the tombstone of account/id at version v.
func tomb(account, id string, v int64) recordstore.Record {
	return recordstore.Record{AccountID: account, ID: id, Version: v, Deleted: true}
}

func mustPut(t *testing.T, s recordstore.Store, recs ...recordstore.Record) {
	t.Helper()
	for _, r := range recs {
		var out recordstore.PutOutcome
		var err error
		if r.Deleted {
			out, err = s.DeleteIfNewer(t.Context(), r.AccountID, r.ID, r.Version)
		} else {
			out, err = s.PutIfNewer(t.Context(), r)
		}
		if err != nil || out != recordstore.Applied {
			t.Fatalf("put %s/%s v%d (deleted %v) on a fresh key: %q, %v; want applied", r.AccountID, r.ID, r.Version, r.Deleted, out, err)
		}
	}
}

func mustGet(t *testing.T, s recordstore.Store, account, id string) recordstore.Record {
	t.Helper()
	r, err := s.Get(t.Context(), account, id)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", account, id, err)
	}
	return r
}

func canonRec(t *testing.T, r recordstore.Record) recordstore.Record {
	t.Helper()
	c, err := r.Canonical()
	if err != nil {
		t.Fatalf("fixture record %s/%s is invalid: %v", r.AccountID, r.ID, err)
	}
	return c
}

// state returns what the key holds: a record, a tombstone (Deleted), or
// ok false when nothing. With a Scanner it sees tombstones; without one,
// only Get's answer.
func state(t *testing.T, s recordstore.Store, account, id string) (recordstore.Record, bool) {
	t.Helper()
	sc, ok := s.(recordstore.Scanner)
	if !ok {
		r, err := s.Get(t.Context(), account, id)
		if errors.Is(err, recordstore.ErrNotFound) {
			return recordstore.Record{}, false
		}
		if err != nil {
			t.Fatalf("Get(%q, %q): %v", account, id, err)
		}
		return r, true
	}
	for r, err := range sc.Scan(t.Context(), recordstore.ScanOptions{AccountID: account, Tombstones: true}) {
		if err != nil {
			t.Fatalf("Scan(%q): %v", account, err)
		}
		if r.ID == id {
			return r, true
		}
	}
	return recordstore.Record{}, false
}

// wantState fails unless the key holds want (a record or a tombstone), or
// nothing when want is nil; for a record, Get must return it too, and for
// a tombstone or nothing, Get must say ErrNotFound.
func wantState(t *testing.T, s recordstore.Store, reason, account, id string, want *recordstore.Record) {
	t.Helper()
	got, ok := state(t, s, account, id)
	switch {
	case want == nil && ok:
		t.Errorf("%s: %s/%s holds %+v, want nothing", reason, account, id, got)
	case want != nil && !ok:
		t.Errorf("%s: %s/%s holds nothing, want %+v", reason, account, id, *want)
	case want != nil:
		if d := diff(canonRec(t, *want), got); d != "" {
			t.Errorf("%s: %s/%s (-want +got):\n%s", reason, account, id, d)
		}
	}
	r, err := s.Get(t.Context(), account, id)
	switch {
	case want == nil || want.Deleted:
		if !errors.Is(err, recordstore.ErrNotFound) {
			t.Errorf("%s: Get(%s/%s) = %+v, %v; want ErrNotFound", reason, account, id, r, err)
		}
	case err != nil:
		t.Errorf("%s: Get(%s/%s): %v", reason, account, id, err)
	}
}

func testRecRoundTrip(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	for _, tc := range []struct {
		reason string
		r      recordstore.Record
	}{
		{"every canonical value kind, nested", rec("acct-1", "all-kinds", 1, fixture.AllKinds())},
		{"nil Data stays nil", rec("acct-1", "no-data", 1, nil)},
		{"a large version", rec("acct-1", "big-version", math.MaxInt64-1, map[string]any{"k": "v"})},
		{"ids may hold any UTF-8", rec("a/c#c $t 🚀", "id/with#odd $chars.and spaces ✓", 7, map[string]any{"k": "v"})},
		{"operator-like ids are plain strings", rec("$where", `{"$ne": ""}`, 2, nil)},
		{"long keys", rec(strings.Repeat("a", recordstore.MaxKeyBytes), strings.Repeat("i", recordstore.MaxKeyBytes), 3, nil)},
	} {
		mustPut(t, s, tc.r)
		if d := diff(canonRec(t, tc.r), mustGet(t, s, tc.r.AccountID, tc.r.ID)); d != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", tc.reason, d)
		}
	}
	got, err := s.CompareAndSet(t.Context(), "acct-2", "cas", 0, fixture.AllKinds())
	if err != nil {
		t.Fatalf("CompareAndSet on a fresh key: %v", err)
	}
	want := canonRec(t, rec("acct-2", "cas", 1, fixture.AllKinds()))
	if d := diff(want, got); d != "" {
		t.Errorf("CompareAndSet's returned record (-want +got):\n%s", d)
	}
	if d := diff(want, mustGet(t, s, "acct-2", "cas")); d != "" {
		t.Errorf("CompareAndSet's stored record (-want +got):\n%s", d)
	}
}

func testRecCanonicalises(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	raw := map[string]any{"i32": int32(5), "f": 2.0, "negz": math.Copysign(0, -1), "u8": uint8(7),
		"strs": []string{"a", "b"}, "m": map[string]int{"x": 1}, "nilList": []any(nil)}
	want := map[string]any{"i32": int64(5), "f": int64(2), "negz": int64(0), "u8": int64(7),
		"strs": []any{"a", "b"}, "m": map[string]any{"x": int64(1)}, "nilList": nil}
	mustPut(t, s, rec("acct", "put", 1, raw))
	if _, err := s.CompareAndSet(t.Context(), "acct", "cas", 0, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompareAndSet(t.Context(), "acct", "empty", 0, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ reason, id string }{
		{"PutIfNewer stores the canonical form", "put"},
		{"CompareAndSet stores the canonical form", "cas"},
	} {
		if d := diff(want, mustGet(t, s, "acct", tc.id).Data); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
	if got := mustGet(t, s, "acct", "empty"); got.Data != nil {
		t.Errorf("empty Data reads back as %#v, want nil", got.Data)
	}
}

// wantConflict checks that err is a *ConflictError with the current version.
func wantConflict(t *testing.T, reason string, err error, current int64) {
	t.Helper()
	var ce *recordstore.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, recordstore.ErrVersionConflict) {
		t.Errorf("%s: err = %v, want a *ConflictError matching ErrVersionConflict", reason, err)
		return
	}
	if ce.Current != current && ce.Current != -1 {
		t.Errorf("%s: ConflictError.Current = %d, want %d", reason, ce.Current, current)
	}
}

func testRecCompareAndSet(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	old := map[string]any{"n": int64(1)}
	next := map[string]any{"n": int64(2)}
	for i, tc := range []struct {
		reason   string
		stored   *recordstore.Record // before the call, under account "acct" and the row's ID
		expected int64
		want     *recordstore.Record // what the key holds after; nil: unchanged
		current  int64               // the conflict's current version; -1: no conflict
	}{
		{"expected 0 creates a record at version 1", nil, 0, &recordstore.Record{Version: 1, Data: next}, -1},
		{"the stored version is replaced by the next one", &recordstore.Record{Version: 3, Data: old}, 3, &recordstore.Record{Version: 4, Data: next}, -1},
		{"expected 0 on a live record conflicts", &recordstore.Record{Version: 3, Data: old}, 0, nil, 3},
		{"an older expected version conflicts", &recordstore.Record{Version: 3, Data: old}, 2, nil, 3},
		{"a newer expected version conflicts", &recordstore.Record{Version: 3, Data: old}, 4, nil, 3},
		{"an expected version on an absent key conflicts", nil, 2, nil, 0},
		{"expected 0 over a tombstone creates a record above the delete", &recordstore.Record{Version: 5, Deleted: true}, 0, &recordstore.Record{Version: 6, Data: next}, -1},
		{"the tombstone's version is no live record's: it conflicts", &recordstore.Record{Version: 5, Deleted: true}, 5, nil, 0},
	} {
		id := fmt.Sprintf("r%d", i)
		if tc.stored != nil {
			st := *tc.stored
			st.AccountID, st.ID = "acct", id
			mustPut(t, s, st)
		}
		got, err := s.CompareAndSet(t.Context(), "acct", id, tc.expected, next)
		if tc.current >= 0 {
			wantConflict(t, tc.reason, err, tc.current)
			var before *recordstore.Record
			if tc.stored != nil {
				b := *tc.stored
				b.AccountID, b.ID = "acct", id
				before = &b
			}
			wantState(t, s, tc.reason+" (the key must be unchanged)", "acct", id, before)
			continue
		}
		want := *tc.want
		want.AccountID, want.ID = "acct", id
		if err != nil {
			t.Errorf("%s: CompareAndSet: %v", tc.reason, err)
			continue
		}
		if d := diff(canonRec(t, want), got); d != "" {
			t.Errorf("%s: returned record (-want +got):\n%s", tc.reason, d)
		}
		wantState(t, s, tc.reason, "acct", id, &want)
	}
}

func testRecCompareAndDelete(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	for i, tc := range []struct {
		reason   string
		stored   *recordstore.Record
		expected int64
		tomb     int64 // the tombstone's version after; 0: a conflict, the key unchanged
		current  int64
	}{
		{"the live version is replaced by a tombstone one above", &recordstore.Record{Version: 3}, 3, 4, 0},
		{"an older expected version conflicts", &recordstore.Record{Version: 3}, 2, 0, 3},
		{"a newer expected version conflicts", &recordstore.Record{Version: 3}, 7, 0, 3},
		{"an absent key conflicts", nil, 1, 0, 0},
		{"a tombstone is no live record: it conflicts", &recordstore.Record{Version: 4, Deleted: true}, 4, 0, 0},
	} {
		id := fmt.Sprintf("d%d", i)
		var before *recordstore.Record
		if tc.stored != nil {
			st := *tc.stored
			st.AccountID, st.ID = "acct", id
			if !st.Deleted {
				st.Data = map[string]any{"x": true}
			}
			mustPut(t, s, st)
			before = &st
		}
		v, err := s.CompareAndDelete(t.Context(), "acct", id, tc.expected)
		if tc.tomb == 0 {
			wantConflict(t, tc.reason, err, tc.current)
			wantState(t, s, tc.reason+" (the key must be unchanged)", "acct", id, before)
			continue
		}
		if err != nil || v != tc.tomb {
			t.Errorf("%s: CompareAndDelete = %d, %v; want %d", tc.reason, v, err, tc.tomb)
			continue
		}
		want := tomb("acct", id, tc.tomb)
		wantState(t, s, tc.reason, "acct", id, &want)
	}
	if _, err := s.CompareAndDelete(t.Context(), "acct", "d0", 0); !errors.Is(err, recordstore.ErrInvalidArgument) {
		t.Errorf("CompareAndDelete expecting version 0: err = %v, want ErrInvalidArgument", err)
	}
}

// write is one put-if-newer (or delete-if-newer) of a sequence.
type write struct {
	version int64
	deleted bool
	tag     string // the data's "tag", to tell two writes of one version apart
}

func (w write) record(account, id string) recordstore.Record {
	if w.deleted {
		return tomb(account, id, w.version)
	}
	return rec(account, id, w.version, map[string]any{"tag": w.tag, "v": w.version})
}

func (w write) apply(t *testing.T, s recordstore.Store, account, id string) (recordstore.PutOutcome, error) {
	t.Helper()
	if w.deleted {
		return s.DeleteIfNewer(t.Context(), account, id, w.version)
	}
	return s.PutIfNewer(t.Context(), w.record(account, id))
}

func put(v int64, tag string) write { return write{version: v, tag: tag} }
func del(v int64) write             { return write{version: v, deleted: true} }

func testRecPutIfNewer(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	A, S := recordstore.Applied, recordstore.Stale
	for i, tc := range []struct {
		reason string
		writes []write
		want   []recordstore.PutOutcome
		final  int // the index of the write the key holds at the end
	}{
		{"a newer version replaces the stored one", []write{put(1, "a"), put(2, "b")}, []recordstore.PutOutcome{A, A}, 1},
		{"an older version is stale and changes nothing", []write{put(2, "a"), put(1, "b")}, []recordstore.PutOutcome{A, S}, 0},
		{"an equal version is stale: the first write stays", []write{put(2, "a"), put(2, "b")}, []recordstore.PutOutcome{A, S}, 0},
		{"a delete is a version: an older put does not bring the record back", []write{put(1, "a"), del(3), put(2, "b")}, []recordstore.PutOutcome{A, A, S}, 1},
		{"a put at the delete's version does not bring it back", []write{del(3), put(3, "a")}, []recordstore.PutOutcome{A, S}, 0},
		{"a newer put after a delete creates the record again", []write{put(1, "a"), del(2), put(3, "b")}, []recordstore.PutOutcome{A, A, A}, 2},
		{"an older delete is stale", []write{put(5, "a"), del(4)}, []recordstore.PutOutcome{A, S}, 0},
		{"an equal delete is stale", []write{put(5, "a"), del(5)}, []recordstore.PutOutcome{A, S}, 0},
		{"a delete of an absent key leaves a tombstone that older puts lose to", []write{del(2), put(1, "a")}, []recordstore.PutOutcome{A, S}, 0},
		{"a second, older delete is stale", []write{del(4), del(3)}, []recordstore.PutOutcome{A, S}, 0},
	} {
		id := fmt.Sprintf("p%d", i)
		for j, w := range tc.writes {
			out, err := w.apply(t, s, "acct", id)
			if err != nil || out != tc.want[j] {
				t.Errorf("%s: write %d (v%d, deleted %v) = %q, %v; want %q and no error", tc.reason, j+1, w.version, w.deleted, out, err, tc.want[j])
			}
		}
		final := tc.writes[tc.final].record("acct", id)
		wantState(t, s, tc.reason, "acct", id, &final)
	}
}

// testRecConverges applies every order of a set of writes to a key of its
// own: each key ends with the highest version, whatever the order.
func testRecConverges(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	for si, set := range []struct {
		reason string
		writes []write
		final  int
	}{
		{"puts and a delete, the last write a put", []write{put(1, "a"), put(2, "b"), del(3), put(4, "d")}, 3},
		{"puts and a delete, the last write the delete", []write{put(1, "a"), del(4), put(2, "b"), put(3, "c")}, 1},
	} {
		for pi, order := range permutations(len(set.writes)) {
			id := fmt.Sprintf("s%d-p%02d", si, pi)
			for _, j := range order {
				if _, err := set.writes[j].apply(t, s, "acct", id); err != nil {
					t.Fatalf("%s, order %v: %v", set.reason, order, err)
				}
			}
			final := set.writes[set.final].record("acct", id)
			wantState(t, s, fmt.Sprintf("%s, order %v", set.reason, order), "acct", id, &final)
		}
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			out = append(out, slices.Insert(slices.Clone(p), i, n-1))
		}
	}
	return out
}

func testRecNotFound(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	mustPut(t, s, rec("acct", "r1", 1, nil), tomb("acct", "gone", 2))
	for _, tc := range []struct{ reason, account, id string }{
		{"unknown id", "acct", "nope"},
		{"unknown account", "nobody", "r1"},
		{"id prefix", "acct", "r"},
		{"a deleted record", "acct", "gone"},
		{"operator-like id", "acct", `{"$ne": ""}`},
		{"regex-like id", "acct", ".*"},
		{"an id no record can have", "acct", ""},
	} {
		if _, err := s.Get(t.Context(), tc.account, tc.id); !errors.Is(err, recordstore.ErrNotFound) {
			t.Errorf("%s: Get(%q, %q) = %v, want ErrNotFound", tc.reason, tc.account, tc.id, err)
		}
	}
}

func testRecIsolation(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	a := rec("acct-a", "shared", 1, map[string]any{"owner": "a"})
	b := rec("acct-b", "shared", 5, map[string]any{"owner": "b"})
	mustPut(t, s, a, b, rec("acct-a", "only-a", 1, nil))
	if d := diff(canonRec(t, a), mustGet(t, s, "acct-a", "shared")); d != "" {
		t.Errorf("account a sees (-want +got):\n%s", d)
	}
	if _, err := s.Get(t.Context(), "acct-b", "only-a"); !errors.Is(err, recordstore.ErrNotFound) {
		t.Errorf("account b finds account a's record: err = %v, want ErrNotFound", err)
	}
	// Versions are per key: a's version 1 does not compete with b's 5.
	if _, err := s.CompareAndSet(t.Context(), "acct-a", "shared", 1, map[string]any{"owner": "a2"}); err != nil {
		t.Errorf("CompareAndSet on account a's record: %v", err)
	}
	if _, err := s.CompareAndDelete(t.Context(), "acct-a", "shared", 5); !errors.Is(err, recordstore.ErrVersionConflict) {
		t.Errorf("deleting account a's record with account b's version: err = %v, want ErrVersionConflict", err)
	}
	if d := diff(canonRec(t, b), mustGet(t, s, "acct-b", "shared")); d != "" {
		t.Errorf("account b's record changed by writes to account a (-want +got):\n%s", d)
	}
	page, err := s.List(t.Context(), "acct-b", recordstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff([]recordstore.Record{canonRec(t, b)}, page.Records); d != "" {
		t.Errorf("account b's list (-want +got):\n%s", d)
	}
}

// orderedRecords returns n records of one account, with IDs whose bytewise
// order differs from case-insensitive and numeric order, sorted by ID.
func orderedRecords(account string, n int) []recordstore.Record {
	prefixes := []string{"B", "a", "Z", "é", "z", "10", "9", "_"}
	out := make([]recordstore.Record, 0, n)
	for i := range n {
		out = append(out, rec(account, fmt.Sprintf("%s-%03d", prefixes[i%len(prefixes)], i), int64(i+1), map[string]any{"n": int64(i)}))
	}
	slices.SortFunc(out, func(a, b recordstore.Record) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func shuffledRecords(recs []recordstore.Record, seed uint64) []recordstore.Record {
	out := slices.Clone(recs)
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// listAllRecords follows cursors to the end, checking each page's size and
// cursor against the store-neutral encoding.
func listAllRecords(t *testing.T, s recordstore.Store, account string, limit int) []recordstore.Record {
	t.Helper()
	var all []recordstore.Record
	opts := recordstore.ListOptions{Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("List never ends")
		}
		page, err := s.List(t.Context(), account, opts)
		if err != nil {
			t.Fatalf("List(page %d): %v", pages+1, err)
		}
		if len(page.Records) > limit {
			t.Fatalf("page %d has %d records, more than the limit %d", pages+1, len(page.Records), limit)
		}
		all = append(all, page.Records...)
		if page.NextCursor == "" {
			return all
		}
		if len(page.Records) == 0 {
			t.Fatalf("page %d is empty but has a NextCursor", pages+1)
		}
		q := recordstore.ListQuery{AccountID: account}
		if want := q.NextCursor(page.Records[len(page.Records)-1].ID); page.NextCursor != want {
			t.Fatalf("page %d: NextCursor %q is not the store-neutral cursor %q", pages+1, page.NextCursor, want)
		}
		opts.Cursor = page.NextCursor
	}
}

func testRecPagination(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	all := orderedRecords("acct", 41)
	mustPut(t, s, shuffledRecords(all, 1)...)
	mustPut(t, s, rec("other", "a-000", 1, nil))
	// Delete every fifth record: lists never show tombstones.
	var want []recordstore.Record
	for i, r := range all {
		if i%5 == 2 {
			if _, err := s.CompareAndDelete(t.Context(), "acct", r.ID, r.Version); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, canonRec(t, r))
	}
	for _, limit := range []int{1, 2, 7, len(want) - 1, len(want), recordstore.MaxListLimit} {
		got := listAllRecords(t, s, "acct", limit)
		if d := diff(want, got); d != "" {
			t.Errorf("limit %d: pages have gaps, repeats, tombstones or a wrong order (-want +got):\n%s", limit, d)
		}
	}
	page, err := s.List(t.Context(), "acct", recordstore.ListOptions{})
	if err != nil || len(page.Records) != len(want) || page.NextCursor != "" {
		t.Errorf("limit 0 (DefaultListLimit): %d records, cursor %q, err %v; want all %d, no cursor", len(page.Records), page.NextCursor, err, len(want))
	}
	page, err = s.List(t.Context(), "nobody", recordstore.ListOptions{})
	if err != nil || len(page.Records) != 0 || page.NextCursor != "" {
		t.Errorf("unknown account: %d records, cursor %q, err %v; want an empty page", len(page.Records), page.NextCursor, err)
	}
}

func testRecBadList(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	mustPut(t, s, orderedRecords("acct", 3)...)
	mustPut(t, s, orderedRecords("other", 3)...)
	foreign, err := s.List(t.Context(), "other", recordstore.ListOptions{Limit: 1})
	if err != nil || foreign.NextCursor == "" {
		t.Fatalf("List(other): cursor %q, err %v", foreign.NextCursor, err)
	}
	eventCursor := "eyJ2IjoxLCJhIjoiYWNjdCIsInQiOjAsImkiOiJ4In0" // {"v":1,"a":"acct","t":0,"i":"x"}: an event list's
	for _, tc := range []struct {
		reason  string
		account string
		opts    recordstore.ListOptions
		want    error
	}{
		{"garbage cursor", "acct", recordstore.ListOptions{Cursor: "not a cursor!"}, recordstore.ErrInvalidCursor},
		{"an event list's cursor", "acct", recordstore.ListOptions{Cursor: eventCursor}, recordstore.ErrInvalidCursor},
		{"another account's cursor", "acct", recordstore.ListOptions{Cursor: foreign.NextCursor}, recordstore.ErrInvalidCursor},
		{"negative limit", "acct", recordstore.ListOptions{Limit: -1}, recordstore.ErrInvalidArgument},
		{"limit over the maximum", "acct", recordstore.ListOptions{Limit: recordstore.MaxListLimit + 1}, recordstore.ErrInvalidArgument},
		{"empty account", "", recordstore.ListOptions{}, recordstore.ErrInvalidArgument},
	} {
		if _, err := s.List(t.Context(), tc.account, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: List = %v, want %v", tc.reason, err, tc.want)
		}
	}
}

// InvalidRecords returns records every store must refuse with
// [recordstore.ErrInvalidRecord], naming the field, before writing
// anything.
func InvalidRecords() []struct {
	Reason string
	Record recordstore.Record
	Field  string
} {
	return []struct {
		Reason string
		Record recordstore.Record
		Field  string
	}{
		{"version 0", rec("a", "i", 0, nil), "Version"},
		{"negative version", rec("a", "i", -3, nil), "Version"},
		{"empty account", rec("", "i", 1, nil), "AccountID"},
		{"empty id", rec("a", "", 1, nil), "ID"},
		{"NUL in the id", rec("a", "i\x00", 1, nil), "ID"},
		{"an id too long", rec("a", strings.Repeat("i", recordstore.MaxKeyBytes+1), 1, nil), "ID"},
		{"NaN", rec("a", "i", 1, map[string]any{"x": math.NaN()}), "Data.x"},
		{"infinity, nested", rec("a", "i", 1, map[string]any{"l": []any{math.Inf(1)}}), "Data.l[0]"},
		{"a key starting with $", rec("a", "i", 1, map[string]any{"$set": 1}), `Data["$set"]`},
		{"a key holding a dot", rec("a", "i", 1, map[string]any{"a.b": 1}), `Data["a.b"]`},
		{"an unsupported type", rec("a", "i", 1, map[string]any{"c": make(chan int)}), "Data.c"},
		{"a tombstone with data", recordstore.Record{AccountID: "a", ID: "i", Version: 1, Deleted: true, Data: map[string]any{"x": 1}}, "Data"},
		{"larger than MaxRecordSize", rec("a", "i", 1, map[string]any{"blob": strings.Repeat("x", recordstore.MaxRecordSize)}), "Data"},
	}
}

func testRecInvalid(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	ctx := t.Context()
	for _, tc := range InvalidRecords() {
		_, err := s.PutIfNewer(ctx, tc.Record)
		var ve *recordstore.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, recordstore.ErrInvalidRecord) || ve.Field != tc.Field {
			t.Errorf("PutIfNewer of %s: err = %v, want a ValidationError on %s", tc.Reason, err, tc.Field)
		}
		if tc.Record.Version > 0 && !tc.Record.Deleted {
			_, err := s.CompareAndSet(ctx, tc.Record.AccountID, tc.Record.ID, tc.Record.Version-1, tc.Record.Data)
			if !errors.As(err, &ve) || ve.Field != tc.Field {
				t.Errorf("CompareAndSet of %s: err = %v, want a ValidationError on %s", tc.Reason, err, tc.Field)
			}
		}
	}
	for _, tc := range []struct {
		reason string
		call   func() error
		want   error
	}{
		{"CompareAndSet expecting a negative version", func() error {
			_, err := s.CompareAndSet(ctx, "a", "i", -1, nil)
			return err
		}, recordstore.ErrInvalidArgument},
		{"CompareAndSet expecting MaxVersion", func() error {
			_, err := s.CompareAndSet(ctx, "a", "i", recordstore.MaxVersion, nil)
			return err
		}, recordstore.ErrInvalidArgument},
		{"CompareAndDelete expecting version 0", func() error {
			_, err := s.CompareAndDelete(ctx, "a", "i", 0)
			return err
		}, recordstore.ErrInvalidArgument},
		{"CompareAndDelete of an empty id", func() error {
			_, err := s.CompareAndDelete(ctx, "a", "", 1)
			return err
		}, recordstore.ErrInvalidRecord},
		{"DeleteIfNewer at version 0", func() error {
			_, err := s.DeleteIfNewer(ctx, "a", "i", 0)
			return err
		}, recordstore.ErrInvalidRecord},
		{"DeleteIfNewer of an empty account", func() error {
			_, err := s.DeleteIfNewer(ctx, "", "i", 1)
			return err
		}, recordstore.ErrInvalidRecord},
	} {
		if err := tc.call(); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.reason, err, tc.want)
		}
	}
	if got, ok := state(t, s, "a", "i"); ok {
		t.Errorf("refused writes left %+v", got)
	}
}

func testRecCancelled(t *testing.T, newStore NewRecordStore) {
	s := newStore(t)
	mustPut(t, s, rec("acct", "r", 1, nil))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		reason string
		call   func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "acct", "r"); return err }},
		{"List", func() error { _, err := s.List(ctx, "acct", recordstore.ListOptions{}); return err }},
		{"CompareAndSet", func() error { _, err := s.CompareAndSet(ctx, "acct", "r", 1, nil); return err }},
		{"CompareAndDelete", func() error { _, err := s.CompareAndDelete(ctx, "acct", "r", 1); return err }},
		{"PutIfNewer", func() error { _, err := s.PutIfNewer(ctx, rec("acct", "r", 9, nil)); return err }},
		{"DeleteIfNewer", func() error { _, err := s.DeleteIfNewer(ctx, "acct", "r", 9); return err }},
	} {
		if err := tc.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", tc.reason, err)
		}
	}
	want := rec("acct", "r", 1, nil)
	wantState(t, s, "after cancelled writes", "acct", "r", &want)
}
