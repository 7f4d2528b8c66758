package mongodao_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/storetest"
)

// nodeLayout is a collection as a Node.js service leaves it: string _id,
// RFC 3339 times in its own offset (some finer than a millisecond), an
// attrs subdocument, soft deletes, and fields of its framework.
var nodeLayout = mongodao.Layout{
	Account: "tenant", ID: "_id", Type: "evt", Time: "ts", Data: "attrs",
	TimeFormat: mongodao.TimeRFC3339, TimeOffset: "-05:00", TimePrecision: mongodao.TimeTruncate,
	SoftDelete:      mongodao.SoftDelete{Field: "deleted", At: "deletedAt"},
	Constants:       []mongodao.Constant{{Field: "_class", Value: "com.acme.Event"}, {Field: "schemaVersion", Value: int32(2)}},
	Types:           []mongodao.FieldType{{Path: "attrs.count", Type: mongodao.BSONInt32}},
	WrapNestedLists: true, // FerretDB v1 refuses nested arrays
}

// mixedLayout has RFC 3339 strings of any offset, every unmapped field as
// Data, and a soft-delete marker of its own value.
var mixedLayout = mongodao.Layout{
	Account: "acct", ID: "eventId", Type: "type", Time: "at", Data: mongodao.DataRest,
	TimeFormat: mongodao.TimeRFC3339, TimeOffset: mongodao.TimeOffsetMixed,
	SoftDelete:      mongodao.SoftDelete{Field: "state", Value: "gone"},
	WrapNestedLists: true,
}

// uuidLayout keys documents by binary UUID (subtype 4) and holds a UUID in
// the data.
var uuidLayout = mongodao.Layout{
	Account: "accountId", ID: "_id", Type: "kind", Time: "createdAt", Data: "payload",
	IDFormat: mongodao.IDUUID, UUIDs: []string{"payload.ref"}, WrapNestedLists: true,
}

func TestConformanceNodeLayout(t *testing.T) {
	// Its string _id is unique across accounts: HexIDs gives the suite's
	// accounts distinct IDs.
	storetest.RunWith(t, func(t *testing.T) eventstore.EventStore {
		return newStore(t, &mongodao.Options{Layout: nodeLayout})
	}, storetest.Options{IDs: storetest.HexIDs})
}

func TestConformanceMixedOffsetLayout(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.EventStore {
		return newStore(t, &mongodao.Options{Layout: mixedLayout})
	})
}

func TestConformanceUUIDLayout(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) eventstore.EventStore {
		return newStore(t, &mongodao.Options{Layout: uuidLayout})
	}, storetest.Options{IDs: storetest.UUIDIDs})
}

// rawDocs returns the collection's documents in _id order.
func rawDocs(t *testing.T, s *mongodao.Store) []bson.Raw {
	t.Helper()
	cur, err := s.Collection().Find(t.Context(), bson.D{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []bson.Raw
	for cur.Next(t.Context()) {
		out = append(out, slices.Clone(cur.Current))
	}
	if err := cur.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b bson.Raw) int { return strings.Compare(a.Lookup("_id").String(), b.Lookup("_id").String()) })
	return out
}

func insert(t *testing.T, s *mongodao.Store, docs ...bson.D) {
	t.Helper()
	for _, d := range docs {
		if _, err := s.Collection().InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTimeFinerThanAMillisecond(t *testing.T) {
	exact := nodeLayout
	exact.TimePrecision = mongodao.TimeExact
	doc := bson.D{{Key: "_id", Value: "e1"}, {Key: "tenant", Value: "t1"}, {Key: "evt", Value: "k"}, {Key: "ts", Value: "2024-03-01T07:00:00.090005-05:00"}}

	s := newStore(t, &mongodao.Options{Layout: exact})
	insert(t, s, doc)
	_, err := s.FindEventByID(t.Context(), "t1", "e1")
	if !errors.Is(err, eventstore.ErrUnreadable) || !strings.Contains(err.Error(), "finer than a millisecond") || !strings.Contains(err.Error(), "timeprecision=truncate") {
		t.Errorf("the default precision: %v, want unreadable naming timeprecision=truncate", err)
	}

	s = newStore(t, &mongodao.Options{Layout: nodeLayout})
	insert(t, s, doc)
	got, err := s.FindEventByID(t.Context(), "t1", "e1")
	want := time.Date(2024, 3, 1, 12, 0, 0, 90e6, time.UTC)
	if err != nil || !got.Time.Equal(want) {
		t.Fatalf("truncated: %v, %v; want %v", got.Time, err, want)
	}
	if n := s.ReadCounts().TruncatedTimes; n != 1 {
		t.Errorf("ReadCounts().TruncatedTimes = %d, want 1", n)
	}
	// What was read stores again as itself: the document is left as it is.
	if err := s.StoreEvent(t.Context(), got); err != nil {
		t.Errorf("re-storing the truncated event: %v", err)
	}
	// A list from its millisecond finds it; one from the next does not.
	for _, tc := range []struct {
		reason string
		start  time.Time
		n      int
	}{
		{"from its truncated time", want, 1},
		{"from the millisecond after", want.Add(time.Millisecond), 0},
		{"up to its truncated time, exclusive", want.Add(-time.Hour), 1},
	} {
		end := tc.start.Add(2 * time.Hour)
		if tc.reason == "up to its truncated time, exclusive" {
			end = want
			tc.n = 0
		}
		page, err := s.ListEvents(t.Context(), "t1", eventstore.ListOptions{Start: tc.start, End: end})
		if err != nil || len(page.Events) != tc.n {
			t.Errorf("%s: %d events, %v; want %d", tc.reason, len(page.Events), err, tc.n)
		}
	}
}

func TestRFC3339WritesKeepTheOffset(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 0, 0, 90e6, time.UTC)
	for _, tc := range []struct {
		reason string
		offset string
		want   string
	}{
		{"a declared offset", "-05:00", "2024-03-01T07:00:00.090-05:00"},
		{"a declared +00:00 stays numeric", "+00:00", "2024-03-01T12:00:00.090+00:00"},
		{"UTC by default", "", "2024-03-01T12:00:00.090Z"},
		{"mixed offsets write UTC", mongodao.TimeOffsetMixed, "2024-03-01T12:00:00.090Z"},
	} {
		l := mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d", TimeFormat: mongodao.TimeRFC3339, TimeOffset: tc.offset}
		s := newStore(t, &mongodao.Options{Layout: l})
		fixture.Store(t, s, fixture.Event("acct", "e1", at, nil))
		if n, _ := s.Collection().CountDocuments(t.Context(), bson.D{{Key: "s", Value: tc.want}}); n != 1 {
			t.Errorf("%s: no document with s = %q: %v", tc.reason, tc.want, rawDocs(t, s))
		}
	}
}

func TestListsOrderStringTimesAsTimes(t *testing.T) {
	// Strings that do not sort as their times: variable fraction widths
	// (".09" before ".090005", "05" before "05.5" as times, not always as
	// strings) and, for the mixed layout, offsets.
	fixed := []string{
		"2024-03-01T07:00:05-05:00", "2024-03-01T07:00:05.5-05:00", "2024-03-01T07:00:05.09-05:00",
		"2024-03-01T07:00:05.090005-05:00", "2024-03-01T07:00:05.090-05:00", "2024-03-01T07:00:04.999999-05:00",
		"2024-03-01T07:00:06.001-05:00",
	}
	mixed := []string{
		"2024-03-01T12:00:05Z", "2024-03-01T07:00:05.5-05:00", "2024-03-01T13:00:05.09+01:00",
		"2024-03-01T12:00:04.999Z", "2024-03-02T01:00:04.998+13:00", "2024-03-01T00:00:06-12:00",
	}
	for _, tc := range []struct {
		reason string
		layout mongodao.Layout
		times  []string
	}{
		{"one offset, fractions of every width, truncated", mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d",
			TimeFormat: mongodao.TimeRFC3339, TimeOffset: "-05:00", TimePrecision: mongodao.TimeTruncate}, fixed},
		{"mixed offsets", mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d",
			TimeFormat: mongodao.TimeRFC3339, TimeOffset: mongodao.TimeOffsetMixed}, mixed},
	} {
		s := newStore(t, &mongodao.Options{Layout: tc.layout})
		var want []eventstore.Event
		for i, ts := range tc.times {
			id := string(rune('z' - i)) // IDs against the strings' order
			insert(t, s, bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: id}, {Key: "t", Value: "k"}, {Key: "s", Value: ts}})
			at, _ := time.Parse(time.RFC3339Nano, ts)
			want = append(want, eventstore.Event{AccountID: "acct", ID: id, Type: "k", Time: at.Truncate(time.Millisecond).UTC()})
		}
		slices.SortFunc(want, func(a, b eventstore.Event) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, limit := range []int{1, 2, 3, 100} {
			var got []eventstore.Event
			opts := eventstore.ListOptions{Limit: limit}
			for {
				page, err := s.ListEvents(t.Context(), "acct", opts)
				if err != nil {
					t.Fatalf("%s, pages of %d: %v", tc.reason, limit, err)
				}
				got = append(got, page.Events...)
				if page.NextCursor == "" {
					break
				}
				opts.Cursor = page.NextCursor
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s, pages of %d (-want +got):\n%s", tc.reason, limit, d)
			}
		}
		// A window inside the second: the bounds are the milliseconds.
		start, end := want[1].Time, want[len(want)-2].Time
		page, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{Start: start, End: end})
		if err != nil {
			t.Fatal(err)
		}
		var inRange []eventstore.Event
		for _, e := range want {
			if !e.Time.Before(start) && e.Time.Before(end) {
				inRange = append(inRange, e)
			}
		}
		if d := cmp.Diff(inRange, page.Events); d != "" {
			t.Errorf("%s, [%v, %v) (-want +got):\n%s", tc.reason, start, end, d)
		}
	}

	// A string of another offset than the declared one is refused by name.
	s := newStore(t, &mongodao.Options{Layout: mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d", TimeFormat: mongodao.TimeRFC3339, TimeOffset: "-05:00"}})
	insert(t, s, bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: "x"}, {Key: "t", Value: "k"}, {Key: "s", Value: "2024-03-01T08:00:00-04:00"}})
	_, err := s.ListEvents(t.Context(), "acct", eventstore.ListOptions{})
	if !errors.Is(err, eventstore.ErrInvalidArgument) || !strings.Contains(err.Error(), "mixed offsets do not sort") || !strings.Contains(err.Error(), "timeoffset=mixed") {
		t.Errorf("a string of another offset: %v, want ErrInvalidArgument naming timeoffset=mixed", err)
	}
	if _, err := s.FindEventByID(t.Context(), "acct", "x"); err != nil {
		t.Errorf("a point read of it: %v", err)
	}
}

func TestSoftDeletes(t *testing.T) {
	s := newStore(t, &mongodao.Options{Layout: nodeLayout})
	deletedAt := "2024-03-02T09:00:00.000-05:00"
	live := bson.D{{Key: "_id", Value: "live"}, {Key: "tenant", Value: "t1"}, {Key: "evt", Value: "k"}, {Key: "ts", Value: "2024-03-01T07:00:00.000-05:00"},
		{Key: "attrs", Value: bson.D{{Key: "count", Value: int32(1)}}}, {Key: "deleted", Value: false}}
	gone := bson.D{{Key: "_id", Value: "gone"}, {Key: "tenant", Value: "t1"}, {Key: "evt", Value: "k"}, {Key: "ts", Value: "2024-03-01T07:00:01.000-05:00"},
		{Key: "deleted", Value: true}, {Key: "deletedAt", Value: deletedAt}}
	broken := bson.D{{Key: "_id", Value: "broken-but-gone"}, {Key: "tenant", Value: "t1"}, {Key: "ts", Value: int32(5)}, {Key: "deleted", Value: true}}
	insert(t, s, live, gone, broken)

	if _, err := s.FindEventByID(t.Context(), "t1", "gone"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("FindEventByID of a soft-deleted document: %v, want ErrNotFound", err)
	}
	if found, err := s.FindEvents(t.Context(), []eventstore.EventKey{{AccountID: "t1", ID: "gone"}, {AccountID: "t1", ID: "live"}}); err != nil || len(found) != 1 || found[0].ID != "live" {
		t.Errorf("FindEvents = %v, %v; want the live one only", found, err)
	}
	page, err := s.ListEvents(t.Context(), "t1", eventstore.ListOptions{})
	if err != nil || len(page.Events) != 1 || page.Events[0].ID != "live" {
		t.Errorf("ListEvents = %v, %v; want the live one only", page.Events, err)
	}
	events, bad := scanReport(t, s, eventstore.ScanOptions{})
	if len(events) != 1 || len(bad) != 0 || s.ReadCounts().SoftDeleted != 2 {
		t.Errorf("scan: %d events, %v unreadable, %d soft-deleted passed over; want 1, none, 2", len(events), bad, s.ReadCounts().SoftDeleted)
	}
	if n, err := s.CountEvents(t.Context(), "t1"); err != nil || n != 1 {
		t.Errorf("CountEvents = %d, %v; want 1", n, err)
	}

	// A store of a soft-deleted key is refused as deleted, and changes nothing.
	before := rawDocs(t, s)
	e := fixture.Event("t1", "gone", time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC), nil)
	if err := s.StoreEvent(t.Context(), e); !errors.Is(err, eventstore.ErrDeleted) {
		t.Errorf("StoreEvent of a soft-deleted key: %v, want ErrDeleted", err)
	}
	if errs, err := s.StoreEvents(t.Context(), []eventstore.Event{e}); err != nil || !errors.Is(errs[0], eventstore.ErrDeleted) {
		t.Errorf("StoreEvents of a soft-deleted key: %v, %v; want ErrDeleted", errs, err)
	}
	if d := cmp.Diff(before, rawDocs(t, s)); d != "" {
		t.Errorf("the refused stores changed documents (-before +after):\n%s", d)
	}

	// A delete through the store marks the document and keeps every field.
	if err := s.DeleteEvent(t.Context(), "t1", "live"); err != nil {
		t.Fatal(err)
	}
	var doc bson.D
	if err := s.Collection().FindOne(t.Context(), bson.D{{Key: "_id", Value: "live"}}).Decode(&doc); err != nil {
		t.Fatalf("the soft-deleted document is gone: %v", err)
	}
	m := map[string]any{}
	for _, e := range doc {
		m[e.Key] = e.Value
	}
	if m["deleted"] != true || m["evt"] != "k" || m["attrs"] == nil {
		t.Errorf("after DeleteEvent: %v, want deleted: true and the other fields kept", doc)
	}
	if at, ok := m["deletedAt"].(string); !ok || !strings.HasSuffix(at, "-05:00") {
		t.Errorf("deletedAt = %v, want a time in the layout's format", m["deletedAt"])
	}
	if _, err := s.FindEventByID(t.Context(), "t1", "live"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("after DeleteEvent: %v, want ErrNotFound", err)
	}
	// A second delete keeps the first one's time.
	if err := s.DeleteEvent(t.Context(), "t1", "gone"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Collection().CountDocuments(t.Context(), bson.D{{Key: "deletedAt", Value: deletedAt}}); n != 1 {
		t.Errorf("a delete of a soft-deleted document changed its deletedAt")
	}
	if n, _ := s.Collection().CountDocuments(t.Context(), bson.D{}); n != 3 {
		t.Errorf("%d documents, want the 3 (no delete removes one)", n)
	}
}

func TestFieldsYouKeep(t *testing.T) {
	s := newStore(t, &mongodao.Options{Layout: nodeLayout})
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	e := fixture.Event("t1", "e1", at, map[string]any{"count": int64(7), "big": int64(1 << 40), "n": map[string]any{"count": int64(3)}})
	fixture.Store(t, s, e)
	var got bson.D
	if err := s.Collection().FindOne(t.Context(), bson.D{}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := bson.D{{Key: "_id", Value: "e1"}, {Key: "tenant", Value: "t1"}, {Key: "evt", Value: e.Type},
		{Key: "ts", Value: "2024-03-01T07:00:00.000-05:00"},
		{Key: "attrs", Value: bson.D{{Key: "big", Value: int64(1 << 40)}, {Key: "count", Value: int32(7)}, {Key: "n", Value: bson.D{{Key: "count", Value: int64(3)}}}}},
		{Key: "_class", Value: "com.acme.Event"}, {Key: "schemaVersion", Value: int32(2)}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored document (-want +got):\n%s", d)
	}
	if back, err := s.FindEventByID(t.Context(), "t1", "e1"); err != nil || !eventstore.EqualEvents(back, fixture.Canonical(t, e)) {
		t.Errorf("read back: %+v, %v", back, err)
	}

	// Under data=*, the layout's own fields are not data, either way.
	rest := nodeLayout
	rest.Data, rest.Types = mongodao.DataRest, []mongodao.FieldType{{Path: "count", Type: mongodao.BSONDouble}}
	s = newStore(t, &mongodao.Options{Layout: rest})
	fixture.Store(t, s, fixture.Event("t1", "e1", at, map[string]any{"count": int64(7)}))
	back, err := s.FindEventByID(t.Context(), "t1", "e1")
	if err != nil || !cmp.Equal(back.Data, map[string]any{"count": int64(7)}) {
		t.Errorf("under data=*: %v, %v; want only count", back.Data, err)
	}
	if n, _ := s.Collection().CountDocuments(t.Context(), bson.D{{Key: "count", Value: bson.D{{Key: "$type", Value: "double"}}}}); n != 1 {
		t.Errorf("count was not written as a double")
	}
	for _, k := range []string{"_class", "deleted"} {
		err := s.ValidateEvent(fixture.Event("t1", "e2", at, map[string]any{k: "x"}))
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || ve.Field != "Data."+k {
			t.Errorf("a Data key %s under data=*: %v, want a ValidationError", k, err)
		}
	}
}

func TestUUIDsRoundTripExactly(t *testing.T) {
	id := bson.Binary{Subtype: 4, Data: []byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}}
	ref := bson.Binary{Subtype: 4, Data: []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}
	at := bson.NewDateTimeFromTime(fixture.Base)
	seeded := bson.D{{Key: "_id", Value: id}, {Key: "accountId", Value: "acct"}, {Key: "kind", Value: "k"}, {Key: "createdAt", Value: at},
		{Key: "payload", Value: bson.D{{Key: "note", Value: "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"}, {Key: "ref", Value: ref}}}}
	old := newStore(t, &mongodao.Options{Layout: uuidLayout})
	insert(t, old, seeded)
	got, err := old.FindEventByID(t.Context(), "acct", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	if err != nil {
		t.Fatal(err)
	}
	want := eventstore.Event{AccountID: "acct", ID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", Type: "k", Time: fixture.Base,
		Data: map[string]any{"note": "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "ref": "00112233-4455-6677-8899-aabbccddeeff"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("read (-want +got):\n%s", d)
	}
	// Written back through the layout, the document is the same bytes.
	nu := newStore(t, &mongodao.Options{Layout: uuidLayout})
	fixture.Store(t, nu, got)
	if d := cmp.Diff(rawDocs(t, old), rawDocs(t, nu)); d != "" {
		t.Errorf("written back (-seeded +written):\n%s", d)
	}
}

func TestUUIDRepresentations(t *testing.T) {
	const u = "00112233-4455-6677-8899-aabbccddeeff"
	for _, tc := range []struct {
		reason string
		rep    mongodao.UUIDRepresentation
		stored bson.Binary
	}{
		{"standard: subtype 4 in RFC order", mongodao.UUIDStandard, bson.Binary{Subtype: 4, Data: []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}},
		{"Java legacy: each half reversed", mongodao.UUIDJavaLegacy, bson.Binary{Subtype: 3, Data: []byte{0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88}}},
		{"C# legacy: the first three groups little-endian", mongodao.UUIDCSharpLegacy, bson.Binary{Subtype: 3, Data: []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}},
		{"Python legacy: subtype 3 in RFC order", mongodao.UUIDPythonLegacy, bson.Binary{Subtype: 3, Data: []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}},
	} {
		l := mongodao.Layout{Account: "a", ID: "_id", Type: "t", Time: "s", Data: "d", IDFormat: mongodao.IDUUID, UUIDRepresentation: tc.rep}
		s := newStore(t, &mongodao.Options{Layout: l})
		fixture.Store(t, s, fixture.Event("acct", u, fixture.Base, nil))
		if n, _ := s.Collection().CountDocuments(t.Context(), bson.D{{Key: "_id", Value: tc.stored}}); n != 1 {
			t.Errorf("%s: no document with _id %v: %v", tc.reason, tc.stored, rawDocs(t, s))
		}
		if _, err := s.FindEventByID(t.Context(), "acct", u); err != nil {
			t.Errorf("%s: read back: %v", tc.reason, err)
		}
	}
	// A UUID of another subtype than the layout's is unreadable, by name.
	s := newStore(t, &mongodao.Options{Layout: uuidLayout})
	insert(t, s, bson.D{{Key: "_id", Value: bson.Binary{Subtype: 3, Data: make([]byte, 16)}}, {Key: "accountId", Value: "acct"}, {Key: "kind", Value: "k"}, {Key: "createdAt", Value: bson.NewDateTimeFromTime(fixture.Base)}})
	_, bad := scanReport(t, s, eventstore.ScanOptions{})
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "subtype 3") || !strings.Contains(bad[0].Error(), "uuidrep=standard") {
		t.Errorf("a subtype-3 _id in a standard layout: %v, want it unreadable naming uuidrep", bad)
	}
}

func TestLayoutExtrasValidation(t *testing.T) {
	coll := testutil.FreshCollection(t)
	base := mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d"}
	with := func(f func(*mongodao.Layout)) mongodao.Layout { l := base; f(&l); return l }
	for _, tc := range []struct {
		reason string
		layout mongodao.Layout
		errHas string
	}{
		{"truncation needs RFC 3339 strings", with(func(l *mongodao.Layout) { l.TimePrecision = mongodao.TimeTruncate }), "RFC 3339 strings only"},
		{"an offset needs RFC 3339 strings", with(func(l *mongodao.Layout) { l.TimeOffset = "+01:00" }), "RFC 3339 strings only"},
		{"an offset that is none", with(func(l *mongodao.Layout) { l.TimeFormat, l.TimeOffset = mongodao.TimeRFC3339, "CET" }), `TimeOffset "CET"`},
		{"a soft-delete time without its marker", with(func(l *mongodao.Layout) { l.SoftDelete.At = "at" }), "need a SoftDelete.Field"},
		{"a marker on a mapped field", with(func(l *mongodao.Layout) { l.SoftDelete.Field = "t" }), `both name field "t"`},
		{"a marker of a type no BSON scalar has", with(func(l *mongodao.Layout) { l.SoftDelete = mongodao.SoftDelete{Field: "x", Value: []int{1}} }), "want a bool, string"},
		{"a constant named twice", with(func(l *mongodao.Layout) {
			l.Constants = []mongodao.Constant{{Field: "c", Value: "1"}, {Field: "c", Value: "2"}}
		}), `both name field "c"`},
		{"a constant on _id", with(func(l *mongodao.Layout) { l.Constants = []mongodao.Constant{{Field: "_id", Value: "1"}} }), "document's key"},
		{"a number type outside the data", with(func(l *mongodao.Layout) { l.Types = []mongodao.FieldType{{Path: "n", Type: mongodao.BSONInt32}} }), "not inside the data field d"},
		{"a number type that is none", with(func(l *mongodao.Layout) { l.Types = []mongodao.FieldType{{Path: "d.n", Type: mongodao.BSONString}} }), `type "string"`},
		{"a UUID path declared twice", with(func(l *mongodao.Layout) { l.UUIDs = []string{"d.u", "d.u"} }), "both declare path"},
		{"extras without a layout", mongodao.Layout{SoftDelete: mongodao.SoftDelete{Field: "deleted"}}, "need a layout"},
	} {
		_, err := mongodao.New(coll, &mongodao.Options{Layout: tc.layout})
		if !errors.Is(err, eventstore.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: New = %v, want ErrInvalidArgument containing %q", tc.reason, err, tc.errHas)
		}
	}
}

func TestOpenURL(t *testing.T) {
	coll := testutil.FreshCollection(t)
	uri, err := url.Parse(testutil.MongoURI(t))
	if err != nil {
		t.Fatal(err)
	}
	uri.Path = "/" + coll.Database().Name()
	uri.RawQuery = "collection=" + coll.Name() + "&" + nodeLayout.String()
	s, err := mongodao.OpenURL(t.Context(), uri.String(), &mongodao.URLOptions{Store: &mongodao.Options{ScanBatchSize: 2}})
	if err != nil {
		t.Fatal(err)
	}
	e := fixture.Event("t1", "e1", fixture.Base, map[string]any{"count": int64(1)})
	fixture.Store(t, s, e)
	if n, _ := coll.CountDocuments(t.Context(), bson.D{{Key: "_class", Value: "com.acme.Event"}, {Key: "attrs.count", Value: bson.D{{Key: "$type", Value: "int"}}}}); n != 1 {
		t.Errorf("the store OpenURL made does not write the URL's layout: %v", rawDocs(t, s))
	}
	if err := s.Close(t.Context()); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := s.FindEventByID(t.Context(), "t1", "e1"); err == nil {
		t.Errorf("a read after Close succeeded: the client was not disconnected")
	}
}
