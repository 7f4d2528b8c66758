package mongodao_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/storetest"
)

// newStore returns a store on a fresh collection, with its indexes.
func newStore(t testing.TB, opts *mongodao.Options) *mongodao.Store {
	t.Helper()
	s, err := mongodao.New(testutil.FreshCollection(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.EventStore { return newStore(t, nil) })
}

func collect(t *testing.T, seq func(func(eventstore.Event, error) bool)) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	for e, err := range seq {
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func TestNewRefusesBadArguments(t *testing.T) {
	coll := (*mongo.Collection)(nil)
	if _, err := mongodao.New(coll, nil); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Errorf("New(nil) = %v, want ErrInvalidArgument", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	c := client.Database("d").Collection("c")
	for _, o := range []mongodao.Options{{ScanBatchSize: -1}, {FindBatchSize: -1}} {
		if _, err := mongodao.New(c, &o); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Errorf("New(%+v) = %v, want ErrInvalidArgument", o, err)
		}
	}
}

func TestEnsureIndexesIsIdempotent(t *testing.T) {
	coll := testutil.FreshCollection(t)
	s, err := mongodao.New(coll, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.EnsureIndexes(t.Context()); err != nil {
			t.Fatalf("EnsureIndexes #%d: %v", i+1, err)
		}
	}
	fixture.Store(t, s, fixture.Event("a", "1", fixture.Base, nil))
	if err := s.EnsureIndexes(t.Context()); err != nil {
		t.Fatalf("EnsureIndexes on a collection with data: %v", err)
	}
	if got := listIndexes(t, coll); !slices.Equal(got, []string{"_id_", mongodao.ListIndexName}) {
		t.Errorf("indexes = %v, want _id_ and %s", got, mongodao.ListIndexName)
	}

	// An index with the same keys under another name is good enough.
	other := testutil.FreshCollection(t)
	model := mongo.IndexModel{Keys: bson.D{{Key: "account", Value: 1}, {Key: "time", Value: 1}, {Key: "id", Value: 1}}, Options: options.Index().SetName("mine")}
	if _, err := other.Indexes().CreateOne(t.Context(), model); err != nil {
		t.Fatal(err)
	}
	s2, _ := mongodao.New(other, nil)
	if err := s2.EnsureIndexes(t.Context()); err != nil {
		t.Fatalf("EnsureIndexes with an equivalent index: %v", err)
	}
	if got := listIndexes(t, other); !slices.Equal(got, []string{"_id_", "mine"}) {
		t.Errorf("indexes = %v, want _id_ and mine only", got)
	}
}

func listIndexes(t *testing.T, coll *mongo.Collection) []string {
	t.Helper()
	specs, err := coll.Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// TestForeignDocumentsReadCanonically inserts documents in the shapes other
// tools write, with the raw driver, and reads them back through every read
// path. (Shapes FerretDB cannot store, such as native nested arrays and
// Decimal128, are covered without a server in codec_test.go.)
func TestForeignDocumentsReadCanonically(t *testing.T) {
	s := newStore(t, nil)
	coll := s.Collection()
	oid, _ := bson.ObjectIDFromHex("65f1c2a0b1c2d3e4f5a6b7c8")
	at := fixture.Base.Add(1500 * time.Millisecond)
	tests := []struct {
		reason string
		id     string
		data   any
		want   map[string]any
	}{
		{"int32 numbers become int64", "int32", bson.D{{Key: "n", Value: int32(7)}, {Key: "l", Value: bson.A{int32(1), int32(-2)}}},
			map[string]any{"n": int64(7), "l": []any{int64(1), int64(-2)}}},
		{"integral doubles become int64, others stay float64", "double", bson.D{{Key: "i", Value: 3.0}, {Key: "f", Value: 0.5}},
			map[string]any{"i": int64(3), "f": 0.5}},
		{"bson.D and bson.M become maps, arrays of documents lists of maps", "docs",
			bson.D{{Key: "m", Value: bson.M{"k": "v"}}, {Key: "l", Value: bson.A{bson.D{{Key: "x", Value: int32(1)}}, bson.M{}}}},
			map[string]any{"m": map[string]any{"k": "v"}, "l": []any{map[string]any{"x": int64(1)}, map[string]any{}}}},
		{"empty documents and arrays stay empty, not nil", "empty", bson.D{{Key: "m", Value: bson.D{}}, {Key: "l", Value: bson.A{}}},
			map[string]any{"m": map[string]any{}, "l": []any{}}},
		{"dates in data become UTC strings with milliseconds", "date", bson.D{{Key: "at", Value: time.Date(2023, 11, 14, 23, 13, 20, 456e6, time.FixedZone("x", 3600))}},
			map[string]any{"at": "2023-11-14T22:13:20.456Z"}},
		{"ObjectIDs become hex strings", "oid", bson.D{{Key: "ref", Value: oid}}, map[string]any{"ref": "65f1c2a0b1c2d3e4f5a6b7c8"}},
		{"an empty data document is nil Data", "emptydata", bson.D{}, nil},
		{"a null data is nil Data", "nulldata", nil, nil},
	}
	var want []eventstore.Event
	for _, tc := range tests {
		doc := bson.D{
			{Key: "_id", Value: bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: tc.id}}},
			{Key: "account", Value: "acct"}, {Key: "id", Value: tc.id}, {Key: "type", Value: "t"},
			{Key: "time", Value: at}, {Key: "data", Value: tc.data},
			{Key: "createdBy", Value: "another tool"}, // unknown fields are ignored
		}
		if _, err := coll.InsertOne(t.Context(), doc); err != nil {
			t.Fatalf("%s: insert: %v", tc.reason, err)
		}
		w := eventstore.Event{AccountID: "acct", ID: tc.id, Type: "t", Time: at, Data: tc.want}
		want = append(want, w)
		got, err := s.FindEventByID(t.Context(), "acct", tc.id)
		if err != nil {
			t.Errorf("%s: FindEventByID: %v", tc.reason, err)
			continue
		}
		if d := cmp.Diff(w, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
		// An identical StoreEvent is idempotent against the foreign document.
		if err := s.StoreEvent(t.Context(), w); err != nil {
			t.Errorf("%s: re-storing the canonical event: %v", tc.reason, err)
		}
	}
	slices.SortFunc(want, func(a, b eventstore.Event) int { return strings.Compare(a.ID, b.ID) })
	page, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, page.Events); d != "" {
		t.Errorf("ListEvents (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, collect(t, s.ScanEvents(t.Context(), eventstore.ScanOptions{AccountID: "acct"}))); d != "" {
		t.Errorf("ScanEvents (-want +got):\n%s", d)
	}
	// Without seg, the documents fall in SegmentOf's segment, and only there.
	for seg := range 3 {
		got := collect(t, s.ScanEvents(t.Context(), eventstore.ScanOptions{Segment: seg, Segments: 3}))
		var w []eventstore.Event
		if seg == eventstore.SegmentOf("acct", 3) {
			w = want
		}
		if len(got) != len(w) || (len(w) > 0 && !cmp.Equal(w, got)) {
			t.Errorf("ScanEvents(segment %d of 3) (-want +got):\n%s", seg, cmp.Diff(w, got))
		}
	}

	// A document that is no event is an error naming it, not a wrong value.
	bad := bson.D{
		{Key: "_id", Value: bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: "binary"}}},
		{Key: "account", Value: "acct"}, {Key: "id", Value: "binary"}, {Key: "type", Value: "t"},
		{Key: "time", Value: at}, {Key: "data", Value: bson.D{{Key: "b", Value: bson.Binary{Data: []byte{1, 2}}}}},
	}
	if _, err := coll.InsertOne(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindEventByID(t.Context(), "acct", "binary")
	if err == nil || errors.Is(err, eventstore.ErrNotFound) || !strings.Contains(err.Error(), "data.b") {
		t.Errorf("FindEventByID of a document with binary data = %v, want an error naming data.b", err)
	}
	err = s.StoreEvent(t.Context(), fixture.Event("acct", "binary", at, nil))
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Errorf("StoreEvent over a document that is no event = %v, want ErrConflict", err)
	}
}

// TestOperatorLikeIDsArePlainStrings stores IDs that would be operators,
// paths or JavaScript if they were ever parsed, and checks that each matches
// itself and nothing else.
func TestOperatorLikeIDsArePlainStrings(t *testing.T) {
	s := newStore(t, nil)
	ids := []string{`{"$ne": ""}`, `{"$gt": ""}`, "a.b", "$where", "$gt", "this.id != ''", `{"$regex": ".*"}`, "_id", "a", "b"}
	accounts := []string{"$where", "a.b", `{"$ne": null}`, "plain"}
	for _, a := range accounts {
		for i, id := range ids {
			if a == "plain" && i%2 == 1 {
				continue // the plain account lacks some IDs
			}
			fixture.Store(t, s, fixture.Event(a, id, fixture.Base.Add(time.Duration(i)*time.Second), map[string]any{"acct": a, "id": id}))
		}
	}
	for _, a := range accounts {
		for i, id := range ids {
			got, err := s.FindEventByID(t.Context(), a, id)
			if a == "plain" && i%2 == 1 {
				if !errors.Is(err, eventstore.ErrNotFound) {
					t.Errorf("FindEventByID(%q, %q) = %v, %v; want ErrNotFound", a, id, got, err)
				}
				continue
			}
			if err != nil || got.AccountID != a || got.ID != id || got.Data["id"] != id {
				t.Errorf("FindEventByID(%q, %q) = %+v, %v", a, id, got, err)
			}
		}
		for _, missing := range []string{`{"$exists": true}`, "$ne", "a.c", "this.id"} {
			if _, err := s.FindEventByID(t.Context(), a, missing); !errors.Is(err, eventstore.ErrNotFound) {
				t.Errorf("FindEventByID(%q, %q) = %v, want ErrNotFound", a, missing, err)
			}
		}
		page, err := s.ListEvents(t.Context(), a, eventstore.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		scanned := collect(t, s.ScanEvents(t.Context(), eventstore.ScanOptions{AccountID: a}))
		for _, e := range append(page.Events, scanned...) {
			if e.AccountID != a {
				t.Errorf("account %q lists or scans %q/%q", a, e.AccountID, e.ID)
			}
		}
		want := len(ids)
		if a == "plain" {
			want = (len(ids) + 1) / 2
		}
		if len(page.Events) != want || len(scanned) != want {
			t.Errorf("account %q: listed %d, scanned %d, want %d", a, len(page.Events), len(scanned), want)
		}
	}
	// The raw collection holds them as strings: one document per (account, id).
	n, err := s.Collection().CountDocuments(t.Context(), bson.D{{Key: "id", Value: "a.b"}})
	if err != nil || n != int64(len(accounts)) {
		t.Errorf("documents with id \"a.b\" = %d, %v; want %d", n, err, len(accounts))
	}
	found, err := s.FindEvents(t.Context(), []eventstore.EventKey{{AccountID: "$where", ID: `{"$ne": ""}`}, {AccountID: "$where", ID: `{"$exists": true}`}})
	if err != nil || len(found) != 1 || found[0].ID != `{"$ne": ""}` {
		t.Errorf("FindEvents = %v, %v; want the one event", found, err)
	}
}

func TestNestedListsAndWrapperLikeMapsRoundTrip(t *testing.T) {
	s := newStore(t, nil)
	data := map[string]any{
		"matrix":  []any{[]any{int64(1), int64(2)}, []any{}, []any{[]any{"deep"}}},
		"lookAls": []any{map[string]any{"flagmigrate:list": []any{int64(1)}}, map[string]any{"flagmigrate:map": map[string]any{}}},
		"top":     map[string]any{"flagmigrate:list": []any{"not in a list: stored as is"}},
	}
	e := fixture.Event("acct", "nested", fixture.Base, data)
	fixture.Store(t, s, e)
	got, err := s.FindEventByID(t.Context(), "acct", "nested")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(e, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	fixture.Store(t, s, e) // idempotent
	e.Data = map[string]any{"matrix": []any{[]any{int64(1), int64(3)}}}
	if err := s.StoreEvent(t.Context(), e); !errors.Is(err, eventstore.ErrConflict) {
		t.Errorf("a different nested list = %v, want ErrConflict", err)
	}
}

func TestErrorsKeepTheDriversCause(t *testing.T) {
	s := newStore(t, nil)
	fixture.Store(t, s, fixture.Event("acct", "e1", fixture.Base, map[string]any{"v": int64(1)}))

	_, err := s.FindEventByID(t.Context(), "acct", "absent")
	if !errors.Is(err, eventstore.ErrNotFound) || !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("FindEventByID(absent) = %v, want ErrNotFound wrapping mongo.ErrNoDocuments", err)
	}
	err = s.StoreEvent(t.Context(), fixture.Event("acct", "e1", fixture.Base, map[string]any{"v": int64(2)}))
	var we mongo.WriteException
	if !errors.Is(err, eventstore.ErrConflict) || !errors.As(err, &we) || !mongo.IsDuplicateKeyError(err) {
		t.Errorf("StoreEvent(conflict) = %v, want ErrConflict wrapping a duplicate-key mongo.WriteException", err)
	}
	errs, err := s.StoreEvents(t.Context(), []eventstore.Event{fixture.Event("acct", "e1", fixture.Base, map[string]any{"v": int64(3)})})
	var bwe mongo.BulkWriteError
	if err != nil || len(errs) != 1 || !errors.Is(errs[0], eventstore.ErrConflict) || !errors.As(errs[0], &bwe) {
		t.Errorf("StoreEvents(conflict) = %v, %v; want ErrConflict wrapping a mongo.BulkWriteError", errs, err)
	}

	// A unique index of the user's own refuses an event with a new key: a
	// duplicate key, but no conflict with a stored event.
	model := mongo.IndexModel{Keys: bson.D{{Key: "type", Value: 1}}, Options: options.Index().SetUnique(true)}
	if _, err := s.Collection().Indexes().CreateOne(t.Context(), model); err != nil {
		t.Fatal(err)
	}
	err = s.StoreEvent(t.Context(), fixture.Event("acct", "e2", fixture.Base, nil))
	if errors.Is(err, eventstore.ErrConflict) || !mongo.IsDuplicateKeyError(err) {
		t.Errorf("StoreEvent refused by another unique index = %v, want a duplicate-key error that is no ErrConflict", err)
	}
	errs, err = s.StoreEvents(t.Context(), []eventstore.Event{fixture.Event("acct", "e3", fixture.Base, nil)})
	if err != nil || len(errs) != 1 || errors.Is(errs[0], eventstore.ErrConflict) || !mongo.IsDuplicateKeyError(errs[0]) {
		t.Errorf("StoreEvents refused by another unique index = %v, %v; want a duplicate-key error that is no ErrConflict", errs, err)
	}
}

// TestListAndScanMatchMemstore stores the same random events in both stores
// and compares every page (with several limits and time ranges), every
// cursor and every scan.
func TestListAndScanMatchMemstore(t *testing.T) {
	s := newStore(t, &mongodao.Options{ScanBatchSize: 7})
	mem := memstore.New()
	r := rand.New(rand.NewPCG(1, 2))
	accounts := []string{"a", "a\u00e9", "ab", "b", "z", "\u00e9", "\U0001F600", "$x"}
	var events []eventstore.Event
	for i := range 300 {
		a := accounts[r.IntN(len(accounts))]
		id := fmt.Sprintf("%c%d", "aAzé_-"[r.IntN(6)], r.IntN(50))
		// Few distinct times, so that (time, id) ties are common.
		e := fixture.Event(a, id, fixture.Base.Add(time.Duration(r.IntN(20))*time.Millisecond), map[string]any{"i": int64(i)})
		events = append(events, e)
	}
	errs, err := s.StoreEvents(t.Context(), events)
	if err != nil {
		t.Fatal(err)
	}
	memErrs, _ := mem.StoreEvents(t.Context(), events)
	for i := range errs {
		if (errs[i] == nil) != (memErrs[i] == nil) || errors.Is(errs[i], eventstore.ErrConflict) != errors.Is(memErrs[i], eventstore.ErrConflict) {
			t.Fatalf("event %d: mongodao %v, memstore %v", i, errs[i], memErrs[i])
		}
	}
	ranges := []eventstore.ListOptions{
		{},
		{Limit: 7},
		{Start: fixture.Base.Add(5 * time.Millisecond), End: fixture.Base.Add(12 * time.Millisecond), Limit: 3},
		{Start: fixture.Base.Add(3*time.Millisecond + time.Microsecond), Limit: 4},
	}
	for _, a := range append(accounts, "none") {
		ranges := ranges
		if a == "a" {
			ranges = append(ranges, eventstore.ListOptions{Limit: 1})
		}
		for _, opts := range ranges {
			for pages := 0; ; pages++ {
				want, err1 := mem.ListEvents(t.Context(), a, opts)
				got, err2 := s.ListEvents(t.Context(), a, opts)
				if err1 != nil || err2 != nil {
					t.Fatalf("ListEvents(%q, %+v): memstore %v, mongodao %v", a, opts, err1, err2)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("ListEvents(%q, %+v) page %d (-memstore +mongodao):\n%s", a, opts, pages, d)
				}
				if got.NextCursor == "" {
					break
				}
				opts.Cursor = got.NextCursor
			}
		}
	}
	scans := []eventstore.ScanOptions{{}, {BatchSize: 1}, {AccountID: "a"}, {AccountID: "none"}, {Segment: 1, Segments: 3}}
	for _, a := range accounts {
		scans = append(scans, eventstore.ScanOptions{AccountID: a, BatchSize: 2})
	}
	for _, opts := range scans {
		want := collect(t, mem.ScanEvents(t.Context(), opts))
		got := collect(t, s.ScanEvents(t.Context(), opts))
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("ScanEvents(%+v) (-memstore +mongodao):\n%s", opts, d)
		}
		// Resume after the first, a middle and the last event.
		if len(want) == 0 {
			continue
		}
		for _, i := range []int{0, len(want) / 2, len(want) - 1} {
			o := opts
			k := want[i].Key()
			o.After = &k
			got := collect(t, s.ScanEvents(t.Context(), o))
			if rest := want[i+1:]; len(rest) != len(got) || (len(got) > 0 && !cmp.Equal(rest, got)) {
				t.Errorf("ScanEvents(%+v) resumed after %v (-want +got):\n%s", opts, k, cmp.Diff(rest, got))
			}
		}
	}
}

// TestScanUsesOneCursor counts the commands a scan sends: one find, then
// getMores on its cursor, never a new query per batch.
func TestScanUsesOneCursor(t *testing.T) {
	var finds, getMores atomic.Int32
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "find":
			finds.Add(1)
		case "getMore":
			getMores.Add(1)
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(testutil.MongoURI(t)).SetMonitor(monitor))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	fresh := testutil.FreshCollection(t) // owns the database's clean-up
	s, err := mongodao.New(client.Database(fresh.Database().Name()).Collection(fresh.Name()), &mongodao.Options{ScanBatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	events := make([]eventstore.Event, 1000)
	for i := range events {
		events[i] = fixture.Event(fmt.Sprintf("acct%d", i%10), fmt.Sprintf("e%04d", i), fixture.Base, nil)
	}
	if _, err := s.StoreEvents(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	finds.Store(0)
	n := len(collect(t, s.ScanEvents(t.Context(), eventstore.ScanOptions{})))
	if n != 1000 || finds.Load() != 1 || getMores.Load() < 9 || getMores.Load() > 10 {
		t.Errorf("scan of %d events: %d find, %d getMore; want 1000 events, 1 find, 9 or 10 getMore", n, finds.Load(), getMores.Load())
	}
}

// TestStoppedServerFailsWithinTheDeadline points a store at servers that do
// not answer and checks that every call fails by its context's deadline
// rather than hanging: nothing else could end the wait before the test's own
// deadline (testutil.Deadline), which is the hang detector, so a loaded
// machine makes the test slower, never failed.
func TestStoppedServerFailsWithinTheDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	// returns waits for call(ctx) to return its error; at the test's
	// deadline it marks the test failed (the call hangs) and returns false.
	returns := func(t *testing.T, name string, ctx context.Context, call func(context.Context) error) (error, bool) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- call(ctx) }()
		select {
		case err := <-done:
			return err, true
		case <-testutil.DeadlinePassed(t):
			t.Errorf("%s: still waiting at the test's deadline, long after its context's (%v)", name, deadline)
			return nil, false
		}
	}
	// check runs the calls at once; each must fail, with its context's
	// deadline (or, when mustBeDeadline is false, a connection error: a
	// refused connection may fail a call before its deadline).
	check := func(t *testing.T, s *mongodao.Store, calls map[string]func(context.Context) error, mustBeDeadline bool) {
		t.Helper()
		var wg sync.WaitGroup
		for name, call := range calls {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), deadline)
				defer cancel()
				err, ok := returns(t, name, ctx, call)
				switch {
				case !ok:
				case err == nil:
					t.Errorf("%s: no error from a server that does not answer", name)
				case errors.Is(err, context.DeadlineExceeded):
					if ctx.Err() == nil {
						t.Errorf("%s: err = %v before its context ended", name, err)
					}
				case mustBeDeadline || !strings.Contains(err.Error(), "connection"):
					t.Errorf("%s: err = %v, want context.DeadlineExceeded%s", name, err,
						map[bool]string{false: " or a connection error"}[mustBeDeadline])
				}
			})
		}
		wg.Wait()
	}
	calls := func(s *mongodao.Store) map[string]func(context.Context) error {
		return map[string]func(context.Context) error{
			"StoreEvent": func(ctx context.Context) error {
				return s.StoreEvent(ctx, fixture.Event("a", "new", fixture.Base, nil))
			},
			"StoreEvents": func(ctx context.Context) error {
				_, err := s.StoreEvents(ctx, []eventstore.Event{fixture.Event("a", "new2", fixture.Base, nil)})
				return err
			},
			"FindEventByID": func(ctx context.Context) error { _, err := s.FindEventByID(ctx, "a", "e1"); return err },
			"FindEvents": func(ctx context.Context) error {
				_, err := s.FindEvents(ctx, []eventstore.EventKey{{AccountID: "a", ID: "e1"}})
				return err
			},
			"ListEvents": func(ctx context.Context) error {
				_, err := s.ListEvents(ctx, "a", eventstore.ListOptions{})
				return err
			},
			"EnsureIndexes": func(ctx context.Context) error { return s.EnsureIndexes(ctx) },
			"ScanEvents": func(ctx context.Context) error {
				for _, err := range s.ScanEvents(ctx, eventstore.ScanOptions{BatchSize: 2}) {
					if err != nil {
						return err
					}
				}
				return errors.New("the scan ended without an error")
			},
		}
	}

	t.Run("closed port", func(t *testing.T) {
		// The server selection timeout is beyond the test's deadline:
		// only the context can end a call, with its deadline.
		client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + closedAddr(t)).
			SetServerSelectionTimeout(time.Until(testutil.Deadline(t)) + time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Disconnect(context.Background()) })
		s, _ := mongodao.New(client.Database("d").Collection("c"), nil)
		check(t, s, calls(s), true)
	})

	for _, mode := range []string{"stopped", "hung"} {
		t.Run(mode+" mid-scan", func(t *testing.T) {
			p := newProxy(t, testutil.MongoURI(t))
			client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + p.addr()).SetDirect(true))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Disconnect(context.Background()) })
			fresh := testutil.FreshCollection(t)
			s, _ := mongodao.New(client.Database(fresh.Database().Name()).Collection(fresh.Name()), nil)
			for i := range 10 {
				fixture.Store(t, s, fixture.Event("a", fmt.Sprintf("e%d", i), fixture.Base, nil))
			}
			// A scan that has its first batch when the server goes away.
			ctx, cancel := context.WithTimeout(t.Context(), deadline+time.Second)
			defer cancel()
			scanErr, ok := returns(t, "ScanEvents", ctx, func(ctx context.Context) error {
				var n int
				for _, err := range s.ScanEvents(ctx, eventstore.ScanOptions{BatchSize: 2}) {
					if err != nil {
						return err
					}
					if n++; n == 2 {
						p.fail(mode)
					}
				}
				return nil
			})
			if !ok {
				t.FailNow()
			}
			if scanErr == nil {
				t.Errorf("scan after the server %s: no error", mode)
			}
			check(t, s, calls(s), false)
		})
	}
}

// FuzzRoundTrip stores random canonical events (every value kind, lists of
// lists, wrapper-like maps, odd keys) and reads each back exactly.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(0), "acct", "id")
	f.Add(uint64(1), "$where", `{"$ne": ""}`)
	f.Add(uint64(2), "a.b", "$gt")
	f.Add(uint64(3), "ünï 🚀", "id/with#odd $chars.and spaces")
	f.Add(uint64(4), "flagmigrate:list", "_id")
	for seed := range uint64(8) {
		f.Add(seed+100, "acct", "seed")
	}
	s := newStore(f, nil)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, seed uint64, account, id string) {
		if eventstore.ValidateAccountID(account) != nil {
			account = "acct"
		}
		// A fresh ID per run: the same key with other data is a conflict.
		id = fmt.Sprintf("%d:%s", n.Add(1), id)
		if eventstore.ValidateKey(account, id) != nil {
			id = fmt.Sprintf("%d", n.Load())
		}
		want, err := mongodao.RandomEvent(rand.New(rand.NewPCG(seed, 7)), account, id).Canonical()
		if err != nil {
			t.Skip(err)
		}
		ctx, cancel := testutil.DeadlineContext(t.Context(), t)
		defer cancel()
		if err := s.StoreEvent(ctx, want); err != nil {
			t.Fatalf("StoreEvent(%#v): %v", want, err)
		}
		got, err := s.FindEventByID(ctx, account, id)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
		if err := s.StoreEvent(ctx, want); err != nil {
			t.Errorf("storing the event again: %v", err)
		}
	})
}

func TestFindEventsMatchesMemstore(t *testing.T) {
	s := newStore(t, &mongodao.Options{FindBatchSize: 3})
	mem := memstore.New()
	var keys []eventstore.EventKey
	for i := range 10 {
		e := fixture.Event(fmt.Sprintf("a%d", i%3), fmt.Sprintf("e%d", i), fixture.Base, map[string]any{"l": []any{int64(i)}})
		fixture.Store(t, s, e)
		fixture.Store(t, mem, e)
	}
	for _, i := range []int{7, 1, 1, 4, 9, 2, 2, 0} {
		keys = append(keys, eventstore.EventKey{AccountID: fmt.Sprintf("a%d", i%3), ID: fmt.Sprintf("e%d", i)})
	}
	keys = append(keys, eventstore.EventKey{AccountID: "a0", ID: "e1"}, eventstore.EventKey{AccountID: "", ID: "e1"}, eventstore.EventKey{AccountID: "a1", ID: "absent"})
	want, _ := mem.FindEvents(t.Context(), keys)
	got, err := s.FindEvents(t.Context(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FindEvents (-memstore +mongodao):\n%s", d)
	}
	got[1].Data["l"].([]any)[0] = "changed"
	if got[2].Data["l"].([]any)[0] != int64(1) {
		t.Error("a key given twice shares its Data between the two events")
	}
}
