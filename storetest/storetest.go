// Package storetest is the conformance suite of [eventstore.EventStore]:
// every store in this module passes it, and a store of your own can too.
//
// A store's test calls [Run] with a function that returns a fresh, empty
// store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) eventstore.EventStore {
//			return mystore.New(...)
//		})
//	}
//
// Each behaviour of the contract is its own subtest. Subtests of the
// optional capabilities ([eventstore.EventScanner], [eventstore.BatchStorer],
// [eventstore.BatchFinder], [eventstore.EventDeleter]) skip, saying so,
// when the store lacks them. The
// suite tests itself: run against deliberately broken stores, it fails.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// NewStore returns a fresh, empty store for one subtest. It may register
// clean-up with t.Cleanup.
type NewStore func(t *testing.T) eventstore.EventStore

// Run runs the whole conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"RoundTrip", testRoundTrip},
		{"Canonicalises", testCanonicalises},
		{"IdempotentStore", testIdempotent},
		{"ConflictKeepsOriginal", testConflict},
		{"StoreCanonical", testStoreCanonical},
		{"NotFound", testNotFound},
		{"AccountIsolation", testIsolation},
		{"ListOrder", testListOrder},
		{"ListTimeRange", testTimeRange},
		{"ListPagination", testPagination},
		{"ListLimits", testLimits},
		{"ListBadArguments", testBadList},
		{"InvalidEventsRefused", testInvalid},
		{"CancelledContext", testCancelled},
		{"ConcurrentSameEvent", testConcurrentSame},
		{"ConcurrentDistinctEvents", testConcurrentDistinct},
		{"Scan", testScan},
		{"ScanResume", testScanResume},
		{"ScanSegments", testScanSegments},
		{"BatchStore", testBatchStore},
		{"BatchFind", testBatchFind},
		{"DeleteIdempotent", testDeleteIdempotent},
		{"DeleteAccountIsolation", testDeleteIsolation},
		{"DeleteThenStoreAgain", testDeleteThenStore},
		{"DeleteHidesFromEveryRead", testDeleteHides},
		{"EraseAccount", testEraseAccount},
		{"DeleteBadArguments", testDeleteBadArguments},
		{"ConcurrentDeleteAndStore", testConcurrentDeleteAndStore},
		{"PurgeTombstones", testPurgeTombstones},
		{"Count", testCount},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}

// diff compares exactly: a canonical value read back must equal, type for
// type, the one that was stored.
func diff(want, got any) string { return cmp.Diff(want, got) }

func mustFind(t *testing.T, s eventstore.EventStore, account, id string) eventstore.Event {
	t.Helper()
	got, err := s.FindEventByID(t.Context(), account, id)
	if err != nil {
		t.Fatalf("FindEventByID(%q, %q): %v", account, id, err)
	}
	return got
}

func testRoundTrip(t *testing.T, newStore NewStore) {
	s := newStore(t)
	tests := []struct {
		reason string
		evt    eventstore.Event
	}{
		{"every canonical value kind, nested", fixture.Event("acct-1", "all-kinds", fixture.Base, fixture.AllKinds())},
		{"nil Data stays nil", fixture.Event("acct-1", "no-data", fixture.Base.Add(time.Millisecond), nil)},
		{"ids may hold any UTF-8", fixture.Event("a/c#c $t 🚀", "id/with#odd $chars.and spaces ✓", fixture.Base, map[string]any{"k": "v"})},
		{"operator-like ids are plain strings", fixture.Event("$where", `{"$ne": ""}`, fixture.Base, nil)},
		{"time at the epoch", fixture.Event("acct-1", "epoch", eventstore.MinTime(), nil)},
		{"time far ahead", fixture.Event("acct-1", "future", time.Date(9999, 1, 2, 3, 4, 5, 678e6, time.UTC), nil)},
		{"long keys", fixture.Event(strings.Repeat("a", eventstore.MaxKeyBytes), strings.Repeat("i", eventstore.MaxKeyBytes), fixture.Base, nil)},
		{"the longest map keys, at the top and nested", fixture.Event("acct-1", "long-map-keys", fixture.Base, map[string]any{
			strings.Repeat("k", eventstore.MaxMapKeyBytes): map[string]any{strings.Repeat("é", eventstore.MaxMapKeyBytes/2): true},
		})},
	}
	for _, tc := range tests {
		fixture.Store(t, s, tc.evt)
		got := mustFind(t, s, tc.evt.AccountID, tc.evt.ID)
		if d := diff(fixture.Canonical(t, tc.evt), got); d != "" {
			t.Errorf("%s: round trip differs (-want +got):\n%s", tc.reason, d)
		}
	}
}

func testCanonicalises(t *testing.T, newStore NewStore) {
	s := newStore(t)
	loc := time.FixedZone("UTC+5:30", 5*3600+1800)
	in := eventstore.Event{
		AccountID: "acct", ID: "raw", Type: "t",
		Time: fixture.Base.In(loc).Add(123456789 * time.Nanosecond),
		Data: map[string]any{"i32": int32(5), "f": 2.0, "negz": math.Copysign(0, -1), "u8": uint8(7),
			"strs": []string{"a", "b"}, "m": map[string]int{"x": 1}, "nilList": []any(nil)},
	}
	want := eventstore.Event{
		AccountID: "acct", ID: "raw", Type: "t",
		Time: fixture.Base.Add(123 * time.Millisecond),
		Data: map[string]any{"i32": int64(5), "f": int64(2), "negz": int64(0), "u8": int64(7),
			"strs": []any{"a", "b"}, "m": map[string]any{"x": int64(1)}, "nilList": nil},
	}
	fixture.Store(t, s, in)
	got := mustFind(t, s, "acct", "raw")
	if d := diff(want, got); d != "" {
		t.Errorf("stored event is not canonical (-want +got):\n%s", d)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("Time location = %v, want UTC", got.Time.Location())
	}
	// Storing the raw form again is the same event.
	if err := s.StoreEvent(t.Context(), in); err != nil {
		t.Errorf("re-storing the raw form of a stored event: %v", err)
	}
}

func testIdempotent(t *testing.T, newStore NewStore) {
	s := newStore(t)
	e := fixture.Event("acct", "e1", fixture.Base, fixture.AllKinds())
	for i := range 3 {
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Fatalf("store #%d: %v", i+1, err)
		}
	}
	page, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Errorf("after storing one event 3 times, ListEvents has %d events, want 1", len(page.Events))
	}
}

func testConflict(t *testing.T, newStore NewStore) {
	s := newStore(t)
	orig := fixture.Event("acct", "e1", fixture.Base, map[string]any{"v": int64(1)})
	fixture.Store(t, s, orig)
	for _, tc := range []struct {
		reason string
		evt    eventstore.Event
	}{
		{"other Data value", fixture.Event("acct", "e1", fixture.Base, map[string]any{"v": int64(2)})},
		{"int vs float", fixture.Event("acct", "e1", fixture.Base, map[string]any{"v": 1.5})},
		{"extra Data field", fixture.Event("acct", "e1", fixture.Base, map[string]any{"v": int64(1), "w": true})},
		{"no Data", fixture.Event("acct", "e1", fixture.Base, nil)},
		{"other time", fixture.Event("acct", "e1", fixture.Base.Add(time.Millisecond), map[string]any{"v": int64(1)})},
		{"other type", eventstore.Event{AccountID: "acct", ID: "e1", Type: "other", Time: fixture.Base, Data: map[string]any{"v": int64(1)}}},
	} {
		err := s.StoreEvent(t.Context(), tc.evt)
		if !errors.Is(err, eventstore.ErrConflict) {
			t.Errorf("%s: StoreEvent = %v, want ErrConflict", tc.reason, err)
		}
	}
	if d := diff(fixture.Canonical(t, orig), mustFind(t, s, "acct", "e1")); d != "" {
		t.Errorf("conflicting stores changed the original (-want +got):\n%s", d)
	}
}

// testStoreCanonical: a store that is an [eventstore.CanonicalStorer]
// stores a Canonical exactly as StoreEvent stores its event (a round trip,
// idempotence, a conflict that keeps the original) and refuses the zero
// Canonical before writing anything.
func testStoreCanonical(t *testing.T, newStore NewStore) {
	s := newStore(t)
	cs, ok := s.(eventstore.CanonicalStorer)
	if !ok {
		t.Skipf("%T is not a CanonicalStorer", s)
	}
	canonical := func(e eventstore.Event) eventstore.Canonical {
		c, err := eventstore.Canonicalize(e)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	orig := fixture.Event("acct", "e1", fixture.Base, fixture.AllKinds())
	for _, tc := range []struct {
		reason string
		c      eventstore.Canonical
		want   error
	}{
		{"a new event is stored", canonical(orig), nil},
		{"the same event again is a no-op", canonical(orig), nil},
		{"other content under the same key conflicts", canonical(fixture.Event("acct", "e1", fixture.Base, nil)), eventstore.ErrConflict},
		{"the zero Canonical is refused", eventstore.Canonical{}, eventstore.ErrInvalidEvent},
	} {
		if err := cs.StoreCanonical(t.Context(), tc.c); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: StoreCanonical = %v, want %v", tc.reason, err, tc.want)
		}
	}
	if d := diff(fixture.Canonical(t, orig), mustFind(t, s, "acct", "e1")); d != "" {
		t.Errorf("the stored event (-want +got):\n%s", d)
	}
	if page, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{}); err != nil || len(page.Events) != 1 {
		t.Errorf("ListEvents = %d events, %v; want the one event", len(page.Events), err)
	}
}

func testNotFound(t *testing.T, newStore NewStore) {
	s := newStore(t)
	fixture.Store(t, s, fixture.Event("acct", "e1", fixture.Base, nil))
	for _, tc := range []struct{ reason, account, id string }{
		{"unknown id", "acct", "nope"},
		{"unknown account", "nobody", "e1"},
		{"id prefix", "acct", "e"},
		{"operator-like id", "acct", `{"$ne": ""}`},
		{"regex-like id", "acct", ".*"},
	} {
		_, err := s.FindEventByID(t.Context(), tc.account, tc.id)
		if !errors.Is(err, eventstore.ErrNotFound) {
			t.Errorf("%s: FindEventByID(%q, %q) = %v, want ErrNotFound", tc.reason, tc.account, tc.id, err)
		}
	}
}

func testIsolation(t *testing.T, newStore NewStore) {
	s := newStore(t)
	a := fixture.Event("acct-a", "shared-id", fixture.Base, map[string]any{"owner": "a"})
	b := fixture.Event("acct-b", "shared-id", fixture.Base.Add(time.Second), map[string]any{"owner": "b"})
	onlyA := fixture.Event("acct-a", "only-a", fixture.Base, nil)
	fixture.Store(t, s, a, b, onlyA)
	if d := diff(fixture.Canonical(t, a), mustFind(t, s, "acct-a", "shared-id")); d != "" {
		t.Errorf("account a sees (-want +got):\n%s", d)
	}
	if d := diff(fixture.Canonical(t, b), mustFind(t, s, "acct-b", "shared-id")); d != "" {
		t.Errorf("account b sees (-want +got):\n%s", d)
	}
	if _, err := s.FindEventByID(t.Context(), "acct-b", "only-a"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("account b finds account a's event: err = %v, want ErrNotFound", err)
	}
	page, err := s.ListEvents(t.Context(), "acct-b", eventstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff([]eventstore.Event{fixture.Canonical(t, b)}, page.Events); d != "" {
		t.Errorf("account b's list (-want +got):\n%s", d)
	}
}

// orderedEvents returns n events of one account, many sharing timestamps,
// with IDs chosen so that bytewise order differs from case-insensitive and
// numeric order. They are returned sorted by (Time, ID); storing them in a
// shuffled order is up to the caller.
func orderedEvents(account string, n int) []eventstore.Event {
	prefixes := []string{"B", "a", "Z", "é", "z", "10", "9", "_"}
	out := make([]eventstore.Event, 0, n)
	for i := range n {
		t := fixture.Base.Add(time.Duration(i/7) * time.Millisecond) // 7 events per timestamp
		id := fmt.Sprintf("%s-%03d", prefixes[i%len(prefixes)], i)
		out = append(out, fixture.Event(account, id, t, map[string]any{"n": int64(i)}))
	}
	slices.SortFunc(out, func(a, b eventstore.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func shuffled(events []eventstore.Event, seed uint64) []eventstore.Event {
	out := slices.Clone(events)
	r := rand.New(rand.NewPCG(seed, seed))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// listAll follows cursors to the end and returns every event, failing on a
// loop.
func listAll(t *testing.T, s eventstore.EventStore, account string, opts eventstore.ListOptions) []eventstore.Event {
	t.Helper()
	var all []eventstore.Event
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("ListEvents never ends")
		}
		page, err := s.ListEvents(t.Context(), account, opts)
		if err != nil {
			t.Fatalf("ListEvents(page %d): %v", pages+1, err)
		}
		limit := opts.Limit
		if limit == 0 {
			limit = eventstore.DefaultListLimit
		}
		if len(page.Events) > limit {
			t.Fatalf("page %d has %d events, more than the limit %d", pages+1, len(page.Events), limit)
		}
		all = append(all, page.Events...)
		if page.NextCursor == "" {
			return all
		}
		if len(page.Events) == 0 {
			t.Fatalf("page %d is empty but has a NextCursor", pages+1)
		}
		opts.Cursor = page.NextCursor
	}
}

func testListOrder(t *testing.T, newStore NewStore) {
	s := newStore(t)
	want := orderedEvents("acct", 60)
	fixture.Store(t, s, shuffled(want, 1)...)
	fixture.Store(t, s, fixture.Event("other", "a-000", fixture.Base, nil)) // never listed for acct
	got := listAll(t, s, "acct", eventstore.ListOptions{Limit: 1000})
	if d := diff(want, got); d != "" {
		t.Errorf("ListEvents is not ordered by (Time, ID) bytewise (-want +got):\n%s", d)
	}
}

func testTimeRange(t *testing.T, newStore NewStore) {
	s := newStore(t)
	all := orderedEvents("acct", 70) // 10 timestamps, base+0ms .. base+9ms
	fixture.Store(t, s, shuffled(all, 2)...)
	between := func(from, to time.Time) []eventstore.Event {
		var out []eventstore.Event
		for _, e := range all {
			if !e.Time.Before(from) && e.Time.Before(to) {
				out = append(out, e)
			}
		}
		return out
	}
	ms := time.Millisecond
	far := fixture.Base.Add(time.Hour)
	for _, tc := range []struct {
		reason     string
		start, end time.Time
		want       []eventstore.Event
	}{
		{"no bounds: everything", time.Time{}, time.Time{}, all},
		{"start is inclusive", fixture.Base.Add(3 * ms), time.Time{}, between(fixture.Base.Add(3*ms), far)},
		{"end is exclusive", time.Time{}, fixture.Base.Add(3 * ms), between(fixture.Base.Add(-ms), fixture.Base.Add(3*ms))},
		{"both bounds", fixture.Base.Add(2 * ms), fixture.Base.Add(5 * ms), between(fixture.Base.Add(2*ms), fixture.Base.Add(5*ms))},
		{"empty range", fixture.Base.Add(4 * ms), fixture.Base.Add(4 * ms), nil},
		{"sub-millisecond start rounds up", fixture.Base.Add(2*ms + time.Microsecond), time.Time{}, between(fixture.Base.Add(3*ms), far)},
		{"sub-millisecond end rounds up", time.Time{}, fixture.Base.Add(2*ms + time.Microsecond), between(fixture.Base.Add(-ms), fixture.Base.Add(3*ms))},
		{"range after all events", far, time.Time{}, nil},
		{"non-UTC bounds", fixture.Base.Add(2 * ms).In(time.FixedZone("X", -3600)), time.Time{}, between(fixture.Base.Add(2*ms), far)},
	} {
		got := listAll(t, s, "acct", eventstore.ListOptions{Start: tc.start, End: tc.end, Limit: 7})
		if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.reason, d)
		}
	}
}

func testPagination(t *testing.T, newStore NewStore) {
	s := newStore(t)
	want := orderedEvents("acct", 53)
	fixture.Store(t, s, shuffled(want, 3)...)
	for _, limit := range []int{1, 2, 7, 10, 52, 53} {
		got := listAll(t, s, "acct", eventstore.ListOptions{Limit: limit})
		if d := diff(want, got); d != "" {
			t.Errorf("limit %d: pages have gaps, repeats or a wrong order (-want +got):\n%s", limit, d)
		}
	}
	// A page's cursor stays valid after more events arrive before and after it.
	first, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	fixture.Store(t, s, fixture.Event("acct", "0-early", fixture.Base.Add(-time.Second), nil), fixture.Event("acct", "~late", fixture.Base.Add(time.Hour), nil))
	rest := listAll(t, s, "acct", eventstore.ListOptions{Limit: 10, Cursor: first.NextCursor})
	if len(rest) != 44 || rest[0].ID != want[10].ID || rest[43].ID != "~late" {
		t.Errorf("after new events, continuing from page 1 gave %d events starting %v, want 44 from %q to \"~late\"", len(rest), firstID(rest), want[10].ID)
	}
}

func firstID(es []eventstore.Event) string {
	if len(es) == 0 {
		return "<none>"
	}
	return es[0].ID
}

func testLimits(t *testing.T, newStore NewStore) {
	s := newStore(t)
	want := orderedEvents("acct", eventstore.DefaultListLimit+5)
	fixture.Store(t, s, shuffled(want, 4)...)
	for _, tc := range []struct {
		reason   string
		limit    int
		wantLen  int
		wantMore bool
	}{
		{"0 means DefaultListLimit", 0, eventstore.DefaultListLimit, true},
		{"1 gives one event", 1, 1, true},
		{"exactly the data: no cursor", len(want), len(want), false},
		{"larger than the data: all, no cursor", eventstore.MaxListLimit, len(want), false},
	} {
		page, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{Limit: tc.limit})
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		if len(page.Events) != tc.wantLen || (page.NextCursor != "") != tc.wantMore {
			t.Errorf("%s: got %d events, cursor %q; want %d events, more=%v", tc.reason, len(page.Events), page.NextCursor, tc.wantLen, tc.wantMore)
		}
		if d := diff(want[:tc.wantLen], page.Events); d != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.reason, d)
		}
	}
	page, err := s.ListEvents(t.Context(), "nobody", eventstore.ListOptions{})
	if err != nil || len(page.Events) != 0 || page.NextCursor != "" {
		t.Errorf("unknown account: %d events, cursor %q, err %v; want an empty page", len(page.Events), page.NextCursor, err)
	}
}

func testBadList(t *testing.T, newStore NewStore) {
	s := newStore(t)
	fixture.Store(t, s, orderedEvents("acct", 5)...)
	fixture.Store(t, s, orderedEvents("other", 5)...)
	foreign, err := s.ListEvents(t.Context(), "other", eventstore.ListOptions{Limit: 2})
	if err != nil || foreign.NextCursor == "" {
		t.Fatalf("ListEvents(other): cursor %q, err %v", foreign.NextCursor, err)
	}
	for _, tc := range []struct {
		reason  string
		account string
		opts    eventstore.ListOptions
		want    error
	}{
		{"garbage cursor", "acct", eventstore.ListOptions{Cursor: "not a cursor!"}, eventstore.ErrInvalidCursor},
		{"base64 but not a cursor", "acct", eventstore.ListOptions{Cursor: "eyJmb28iOjF9"}, eventstore.ErrInvalidCursor},
		{"another account's cursor", "acct", eventstore.ListOptions{Cursor: foreign.NextCursor}, eventstore.ErrInvalidCursor},
		{"negative limit", "acct", eventstore.ListOptions{Limit: -1}, eventstore.ErrInvalidArgument},
		{"limit over the maximum", "acct", eventstore.ListOptions{Limit: eventstore.MaxListLimit + 1}, eventstore.ErrInvalidArgument},
		{"end before start", "acct", eventstore.ListOptions{Start: fixture.Base.Add(time.Second), End: fixture.Base}, eventstore.ErrInvalidArgument},
		{"empty account", "", eventstore.ListOptions{}, eventstore.ErrInvalidArgument},
	} {
		_, err := s.ListEvents(t.Context(), tc.account, tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.reason, err, tc.want)
		}
	}
}

// InvalidEvents is a table of events that every store must refuse with
// ErrInvalidEvent; Field is the field the error must name.
func InvalidEvents() []struct {
	Reason string
	Event  eventstore.Event
	Field  string
} {
	ok := func(mut func(*eventstore.Event)) eventstore.Event {
		e := fixture.Event("acct", "bad", fixture.Base, map[string]any{"k": "v"})
		mut(&e)
		return e
	}
	deep := any("leaf")
	for range eventstore.MaxDataDepth {
		deep = map[string]any{"d": deep}
	}
	type row = struct {
		Reason string
		Event  eventstore.Event
		Field  string
	}
	return []row{
		{"empty AccountID", ok(func(e *eventstore.Event) { e.AccountID = "" }), "AccountID"},
		{"empty ID", ok(func(e *eventstore.Event) { e.ID = "" }), "ID"},
		{"empty Type", ok(func(e *eventstore.Event) { e.Type = "" }), "Type"},
		{"zero Time", ok(func(e *eventstore.Event) { e.Time = time.Time{} }), "Time"},
		{"Time before 1970", ok(func(e *eventstore.Event) { e.Time = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }), "Time"},
		{"invalid UTF-8 ID", ok(func(e *eventstore.Event) { e.ID = "bad\xff" }), "ID"},
		{"invalid UTF-8 AccountID", ok(func(e *eventstore.Event) { e.AccountID = "\xc3(" }), "AccountID"},
		{"NUL in ID", ok(func(e *eventstore.Event) { e.ID = "a\x00b" }), "ID"},
		{"over-long ID", ok(func(e *eventstore.Event) { e.ID = strings.Repeat("x", eventstore.MaxKeyBytes+1) }), "ID"},
		{"over-long AccountID", ok(func(e *eventstore.Event) { e.AccountID = strings.Repeat("x", eventstore.MaxKeyBytes+1) }), "AccountID"},
		{"NaN", ok(func(e *eventstore.Event) { e.Data = map[string]any{"x": math.NaN()} }), "Data.x"},
		{"+Inf", ok(func(e *eventstore.Event) { e.Data = map[string]any{"x": math.Inf(1)} }), "Data.x"},
		{"-Inf in a list", ok(func(e *eventstore.Event) { e.Data = map[string]any{"l": []any{1, math.Inf(-1)}} }), "Data.l[1]"},
		{"float too large for DynamoDB", ok(func(e *eventstore.Event) { e.Data = map[string]any{"x": 1.5e200} }), "Data.x"},
		{"float too small for DynamoDB", ok(func(e *eventstore.Event) { e.Data = map[string]any{"x": 1e-200} }), "Data.x"},
		{"uint64 beyond int64", ok(func(e *eventstore.Event) { e.Data = map[string]any{"x": uint64(math.MaxUint64)} }), "Data.x"},
		{"key with a dot", ok(func(e *eventstore.Event) { e.Data = map[string]any{"a.b": 1} }), "Data[\"a.b\"]"},
		{"key starting with $", ok(func(e *eventstore.Event) { e.Data = map[string]any{"$where": 1} }), "Data[\"$where\"]"},
		{"nested bad key", ok(func(e *eventstore.Event) { e.Data = map[string]any{"m": map[string]any{"$gt": 1}} }), "Data.m[\"$gt\"]"},
		{"empty key", ok(func(e *eventstore.Event) { e.Data = map[string]any{"": 1} }), "Data[\"\"]"},
		{"over-long key", ok(func(e *eventstore.Event) {
			e.Data = map[string]any{strings.Repeat("k", eventstore.MaxMapKeyBytes+1): 1}
		}), `Data["kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"...]`},
		{"unsupported type", ok(func(e *eventstore.Event) { e.Data = map[string]any{"ch": make(chan int)} }), "Data.ch"},
		{"time.Time in Data", ok(func(e *eventstore.Event) { e.Data = map[string]any{"t": fixture.Base} }), "Data.t"},
		{"[]byte in Data", ok(func(e *eventstore.Event) { e.Data = map[string]any{"b": []byte("x")} }), "Data.b"},
		{"invalid UTF-8 value", ok(func(e *eventstore.Event) { e.Data = map[string]any{"s": "\xff"} }), "Data.s"},
		{"too deep", ok(func(e *eventstore.Event) { e.Data = map[string]any{"d": deep} }), "Data.d"},
		{"too large", ok(func(e *eventstore.Event) {
			e.Data = map[string]any{"blob": strings.Repeat("x", eventstore.MaxEventSize)}
		}), "Data"},
	}
}

func testInvalid(t *testing.T, newStore NewStore) {
	s := newStore(t)
	for i, tc := range InvalidEvents() {
		if tc.Field != "ID" {
			tc.Event.ID = fmt.Sprintf("bad-%d", i) // distinct keys, so nothing can hide behind a conflict
		}
		err := s.StoreEvent(t.Context(), tc.Event)
		var ve *eventstore.ValidationError
		switch {
		case !errors.Is(err, eventstore.ErrInvalidEvent):
			t.Errorf("%s: StoreEvent = %v, want ErrInvalidEvent", tc.Reason, err)
			continue
		case !errors.As(err, &ve):
			t.Errorf("%s: error %v is not a *ValidationError", tc.Reason, err)
		case !strings.HasPrefix(ve.Field, tc.Field):
			t.Errorf("%s: error names field %q, want %q", tc.Reason, ve.Field, tc.Field)
		}
		if tc.Field == "AccountID" || tc.Field == "ID" {
			continue // the key itself cannot be looked up
		}
		if _, err := s.FindEventByID(t.Context(), tc.Event.AccountID, tc.Event.ID); !errors.Is(err, eventstore.ErrNotFound) {
			t.Errorf("%s: the refused event was stored (FindEventByID err = %v)", tc.Reason, err)
		}
	}
	page, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{})
	if err != nil || len(page.Events) != 0 {
		t.Errorf("after refusing every event, the account lists %d events (err %v), want 0", len(page.Events), err)
	}
}

func testCancelled(t *testing.T, newStore NewStore) {
	s := newStore(t)
	fixture.Store(t, s, fixture.Event("acct", "e1", fixture.Base, nil))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.StoreEvent(ctx, fixture.Event("acct", "e2", fixture.Base, nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("StoreEvent with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.FindEventByID(ctx, "acct", "e1"); !errors.Is(err, context.Canceled) {
		t.Errorf("FindEventByID with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.ListEvents(ctx, "acct", eventstore.ListOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ListEvents with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.FindEventByID(t.Context(), "acct", "e2"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("an event stored with a cancelled context is there (err = %v)", err)
	}
	if sc, ok := s.(eventstore.EventScanner); ok {
		var err error
		for _, err = range sc.ScanEvents(ctx, eventstore.ScanOptions{}) {
			if err != nil {
				break
			}
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ScanEvents with a cancelled context ended with %v, want context.Canceled", err)
		}
	}
}

const goroutines = 16

func testConcurrentSame(t *testing.T, newStore NewStore) {
	s := newStore(t)
	e := fixture.Event("acct", "same", fixture.Base, fixture.AllKinds())
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() { errs <- s.StoreEvent(t.Context(), e) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent store of one event: %v", err)
		}
	}
	if got := listAll(t, s, "acct", eventstore.ListOptions{}); len(got) != 1 {
		t.Errorf("after concurrent stores of one event, %d are listed, want 1", len(got))
	}
}

func testConcurrentDistinct(t *testing.T, newStore NewStore) {
	s := newStore(t)
	const each = 5
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				errs <- s.StoreEvent(t.Context(), fixture.Event("acct", fmt.Sprintf("g%02d-%d", g, i), fixture.Base.Add(time.Duration(i)*time.Millisecond), nil))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent store: %v", err)
		}
	}
	if got := listAll(t, s, "acct", eventstore.ListOptions{Limit: 1000}); len(got) != goroutines*each {
		t.Errorf("%d events listed, want %d", len(got), goroutines*each)
	}
}

func scanner(t *testing.T, s eventstore.EventStore) eventstore.EventScanner {
	t.Helper()
	sc, ok := s.(eventstore.EventScanner)
	if !ok {
		t.Skipf("%T does not implement eventstore.EventScanner", s)
	}
	return sc
}

// scanAll collects a scan, stopping after stopAfter events when it is > 0.
func scanAll(t *testing.T, sc eventstore.EventScanner, opts eventstore.ScanOptions, stopAfter int) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	for e, err := range sc.ScanEvents(t.Context(), opts) {
		if err != nil {
			t.Fatalf("ScanEvents(%+v): %v", opts, err)
		}
		out = append(out, e)
		if len(out) == stopAfter {
			break
		}
	}
	return out
}

// scanData stores events over several accounts and returns them.
func scanData(t *testing.T, s eventstore.EventStore) []eventstore.Event {
	var all []eventstore.Event
	for a := range 6 {
		all = append(all, orderedEvents(fmt.Sprintf("acct-%d", a), 9+a)...)
	}
	fixture.Store(t, s, shuffled(all, 5)...)
	return all
}

func keys(events []eventstore.Event) []eventstore.EventKey {
	out := make([]eventstore.EventKey, len(events))
	for i, e := range events {
		out[i] = e.Key()
	}
	return out
}

func sortedKeys(events []eventstore.Event) []eventstore.EventKey {
	ks := keys(events)
	slices.SortFunc(ks, func(a, b eventstore.EventKey) int {
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ks
}

func testScan(t *testing.T, newStore NewStore) {
	s := newStore(t)
	sc := scanner(t, s)
	all := scanData(t, s)
	first := scanAll(t, sc, eventstore.ScanOptions{BatchSize: 4}, 0)
	if d := diff(sortedKeys(all), sortedKeys(first)); d != "" {
		t.Errorf("a whole scan does not yield every event exactly once (-want +got):\n%s", d)
	}
	byKey := make(map[eventstore.EventKey]eventstore.Event)
	for _, e := range all {
		byKey[e.Key()] = fixture.Canonical(t, e)
	}
	for _, e := range first {
		if d := diff(byKey[e.Key()], e); d != "" {
			t.Errorf("scanned event %v differs from the stored one (-want +got):\n%s", e.Key(), d)
			break
		}
	}
	second := scanAll(t, sc, eventstore.ScanOptions{}, 0)
	if d := diff(keys(first), keys(second)); d != "" {
		t.Errorf("two whole scans give different orders (-first +second):\n%s", d)
	}
	for a := range 6 {
		account := fmt.Sprintf("acct-%d", a)
		var want []eventstore.Event
		for _, e := range all {
			if e.AccountID == account {
				want = append(want, e)
			}
		}
		got := scanAll(t, sc, eventstore.ScanOptions{AccountID: account, BatchSize: 3}, 0)
		if d := diff(sortedKeys(want), keys(got)); d != "" {
			t.Errorf("scan of %s is not that account's events ordered by ID (-want +got):\n%s", account, d)
		}
	}
	if got := scanAll(t, sc, eventstore.ScanOptions{AccountID: "nobody"}, 0); len(got) != 0 {
		t.Errorf("scan of an unknown account yields %d events", len(got))
	}
	for _, bad := range []eventstore.ScanOptions{{Segments: 2, Segment: 2}, {Segments: -1}, {BatchSize: -1}} {
		var err error
		for _, err = range sc.ScanEvents(t.Context(), bad) {
			if err != nil {
				break
			}
		}
		if !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Errorf("ScanEvents(%+v) ended with %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func testScanResume(t *testing.T, newStore NewStore) {
	s := newStore(t)
	sc := scanner(t, s)
	scanData(t, s)
	whole := scanAll(t, sc, eventstore.ScanOptions{BatchSize: 5}, 0)
	for _, tc := range []struct {
		reason string
		opts   eventstore.ScanOptions
		want   []eventstore.Event
	}{
		{"whole store", eventstore.ScanOptions{BatchSize: 5}, whole},
		{"one account", eventstore.ScanOptions{AccountID: "acct-4", BatchSize: 2}, scanAll(t, sc, eventstore.ScanOptions{AccountID: "acct-4"}, 0)},
	} {
		for _, stop := range []int{1, 7, len(tc.want) / 2, len(tc.want) - 1} {
			head := scanAll(t, sc, tc.opts, stop)
			opts := tc.opts
			cp := head[len(head)-1].Key()
			opts.After = &cp
			tail := scanAll(t, sc, opts, 0)
			if d := diff(keys(tc.want), append(keys(head), keys(tail)...)); d != "" {
				t.Errorf("%s: resuming after event %d does not continue the scan (-want +got):\n%s", tc.reason, stop, d)
			}
		}
	}
}

func testScanSegments(t *testing.T, newStore NewStore) {
	s := newStore(t)
	sc := scanner(t, s)
	all := scanData(t, s)
	for _, n := range []int{2, 3} {
		var union []eventstore.Event
		for seg := range n {
			union = append(union, scanAll(t, sc, eventstore.ScanOptions{Segment: seg, Segments: n}, 0)...)
		}
		if d := diff(sortedKeys(all), sortedKeys(union)); d != "" {
			t.Errorf("%d segments are not a disjoint cover of the store (-want +got):\n%s", n, d)
		}
	}
}

func testBatchStore(t *testing.T, newStore NewStore) {
	s := newStore(t)
	bs, ok := s.(eventstore.BatchStorer)
	if !ok {
		t.Skipf("%T does not implement eventstore.BatchStorer", s)
	}
	existing := fixture.Event("acct", "exists", fixture.Base, map[string]any{"v": int64(1)})
	fixture.Store(t, s, existing)
	var batch []eventstore.Event
	for i := range 40 {
		batch = append(batch, fixture.Event("acct", fmt.Sprintf("b%02d", i), fixture.Base.Add(time.Duration(i)*time.Millisecond), map[string]any{"i": i}))
	}
	batch = append(batch,
		existing, // identical: nil
		fixture.Event("acct", "exists", fixture.Base, map[string]any{"v": int64(2)}), // conflict
		fixture.Event("acct", "", fixture.Base, nil),                                 // invalid
		batch[3], // repeated within the batch: nil
	)
	errs, err := bs.StoreEvents(t.Context(), batch)
	if err != nil {
		t.Fatalf("StoreEvents: %v", err)
	}
	if len(errs) != len(batch) {
		t.Fatalf("StoreEvents returned %d errors for %d events", len(errs), len(batch))
	}
	for i, e := range errs {
		var want error
		switch i {
		case 41:
			want = eventstore.ErrConflict
		case 42:
			want = eventstore.ErrInvalidEvent
		}
		if (want == nil && e != nil) || (want != nil && !errors.Is(e, want)) {
			t.Errorf("event %d (%s): err = %v, want %v", i, batch[i].ID, e, want)
		}
	}
	if d := diff(fixture.Canonical(t, existing), mustFind(t, s, "acct", "exists")); d != "" {
		t.Errorf("the batch overwrote a conflicting event (-want +got):\n%s", d)
	}
	if got := listAll(t, s, "acct", eventstore.ListOptions{Limit: 1000}); len(got) != 41 {
		t.Errorf("%d events after the batch, want 41", len(got))
	}
	if d := diff(fixture.Canonical(t, batch[7]), mustFind(t, s, "acct", "b07")); d != "" {
		t.Errorf("a batch-stored event differs (-want +got):\n%s", d)
	}
	// Again: everything is already there.
	errs, err = bs.StoreEvents(t.Context(), batch[:40])
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Errorf("re-storing batch event %d: %v", i, e)
		}
	}
}

func testBatchFind(t *testing.T, newStore NewStore) {
	s := newStore(t)
	bf, ok := s.(eventstore.BatchFinder)
	if !ok {
		t.Skipf("%T does not implement eventstore.BatchFinder", s)
	}
	all := scanData(t, s)
	var ks []eventstore.EventKey
	want := make(map[eventstore.EventKey]eventstore.Event)
	for i, e := range all {
		if i%2 == 0 {
			ks = append(ks, e.Key())
			want[e.Key()] = fixture.Canonical(t, e)
		}
	}
	ks = append(ks, eventstore.EventKey{AccountID: "acct-1", ID: "absent"}, eventstore.EventKey{AccountID: "nobody", ID: all[0].ID})
	got, err := bf.FindEvents(t.Context(), ks)
	if err != nil {
		t.Fatalf("FindEvents: %v", err)
	}
	gotMap := make(map[eventstore.EventKey]eventstore.Event)
	for _, e := range got {
		gotMap[e.Key()] = e
	}
	if d := diff(want, gotMap); d != "" {
		t.Errorf("FindEvents (-want +got):\n%s", d)
	}
	if len(got) != len(want) {
		t.Errorf("FindEvents returned %d events, want %d (no duplicates)", len(got), len(want))
	}
}

// testCount: a store that is an [eventstore.EventCounter] counts an
// account's events exactly (none for an unknown account), and gives the
// whole store's count as an estimate that is never negative.
func testCount(t *testing.T, newStore NewStore) {
	s := newStore(t)
	c, ok := s.(eventstore.EventCounter)
	if !ok {
		t.Skipf("%T is not an EventCounter", s)
	}
	for i := range 3 {
		fixture.Store(t, s, fixture.Nth("acct-a", fmt.Sprintf("e%d", i), i))
	}
	fixture.Store(t, s, fixture.Nth("acct-b", "e0", 0))
	for _, tc := range []struct {
		reason  string
		account string
		want    int64
	}{
		{"an account's events", "acct-a", 3},
		{"another account's", "acct-b", 1},
		{"an account with none", "acct-none", 0},
	} {
		if n, err := c.CountEvents(t.Context(), tc.account); err != nil || n != tc.want {
			t.Errorf("%s: CountEvents(%q) = %d, %v; want %d", tc.reason, tc.account, n, err, tc.want)
		}
	}
	if n, err := c.CountEvents(t.Context(), ""); err != nil || n < 0 {
		t.Errorf("the whole store: CountEvents = %d, %v; want an estimate", n, err)
	}
}
