package mongodao_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/storetest"
)

// appLayout is a collection as a typical service writes it: ObjectID _id as
// the event ID, its own field names, every other field is Data.
var appLayout = mongodao.Layout{
	Account: "accountId", ID: "_id", Type: "kind", Time: "createdAt", Data: mongodao.DataRest,
	IDFormat: mongodao.IDObjectID, WrapNestedLists: true, // FerretDB v1 refuses nested arrays
}

// payloadLayout keeps string IDs in a field of their own, times in epoch
// milliseconds and Data in a payload subdocument; _id is the driver's.
var payloadLayout = mongodao.Layout{
	Account: "acct", ID: "eventId", Type: "type", Time: "ts", Data: "payload",
	TimeFormat: mongodao.TimeUnixMilli, WrapNestedLists: true,
}

func TestConformanceObjectIDLayout(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) eventstore.EventStore {
		return newStore(t, &mongodao.Options{Layout: appLayout})
	}, storetest.Options{IDs: storetest.HexIDs})
}

func TestConformancePayloadLayout(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.EventStore {
		return newStore(t, &mongodao.Options{Layout: payloadLayout})
	})
}

// oldAppDocs are documents as an older application wrote them: ObjectID
// ids, int32 numbers, nested bson.D, extra top-level fields.
func oldAppDocs(oids []bson.ObjectID, at time.Time) []any {
	return []any{
		bson.D{{Key: "_id", Value: oids[0]}, {Key: "accountId", Value: "acct-1"}, {Key: "kind", Value: "signup"},
			{Key: "createdAt", Value: bson.NewDateTimeFromTime(at)}, {Key: "source", Value: "web"}, {Key: "v", Value: int32(2)},
			{Key: "meta", Value: bson.D{{Key: "n", Value: int32(7)}, {Key: "ref", Value: oids[2]}}}},
		bson.D{{Key: "_id", Value: oids[1]}, {Key: "accountId", Value: "acct-1"}, {Key: "kind", Value: "login"},
			{Key: "createdAt", Value: bson.NewDateTimeFromTime(at.Add(time.Second))}, {Key: "tags", Value: bson.A{"a", int32(1)}}},
	}
}

func TestExistingCollectionReadsAsTheAppWroteIt(t *testing.T) {
	coll := testutil.FreshCollection(t)
	oids := []bson.ObjectID{bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()}
	if _, err := coll.InsertMany(t.Context(), oldAppDocs(oids, fixture.Base)); err != nil {
		t.Fatal(err)
	}
	s, err := mongodao.New(coll, &mongodao.Options{Layout: appLayout})
	if err != nil {
		t.Fatal(err)
	}
	want := []eventstore.Event{
		{AccountID: "acct-1", ID: oids[0].Hex(), Type: "signup", Time: fixture.Base,
			Data: map[string]any{"source": "web", "v": int64(2), "meta": map[string]any{"n": int64(7), "ref": oids[2].Hex()}}},
		{AccountID: "acct-1", ID: oids[1].Hex(), Type: "login", Time: fixture.Base.Add(time.Second),
			Data: map[string]any{"tags": []any{"a", int64(1)}}},
	}
	got, err := s.FindEventByID(t.Context(), "acct-1", oids[0].Hex())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want[0], got); d != "" {
		t.Errorf("FindEventByID (-want +got):\n%s", d)
	}
	if _, err := s.FindEventByID(t.Context(), "acct-2", oids[0].Hex()); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("another account's event: err = %v, want ErrNotFound", err)
	}
	page, err := s.ListEvents(t.Context(), "acct-1", eventstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, page.Events); d != "" {
		t.Errorf("ListEvents (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, collect(t, s.ScanEvents(t.Context(), eventstore.ScanOptions{}))); d != "" {
		t.Errorf("ScanEvents in _id order (-want +got):\n%s", d)
	}
	// Re-storing what was read is idempotent: the same event.
	for _, e := range want {
		if err := s.StoreEvent(t.Context(), e); err != nil {
			t.Errorf("re-storing %s: %v", e.ID, err)
		}
	}
}

// scanReport scans everything and returns the events and the unreadable
// documents' errors, failing on any other error.
func scanReport(t *testing.T, s *mongodao.Store, opts eventstore.ScanOptions) ([]eventstore.Event, []*eventstore.UnreadableError) {
	t.Helper()
	var events []eventstore.Event
	var bad []*eventstore.UnreadableError
	for e, err := range s.ScanEvents(t.Context(), opts) {
		var u *eventstore.UnreadableError
		switch {
		case errors.As(err, &u):
			bad = append(bad, u)
		case err != nil:
			t.Fatalf("scan: %v", err)
		default:
			events = append(events, e)
		}
	}
	return events, bad
}

func TestUnreadableDocumentsAreReportedAndSkippedPast(t *testing.T) {
	at := bson.NewDateTimeFromTime(fixture.Base)
	tests := []struct {
		reason string
		layout mongodao.Layout
		docs   []any
		good   int
		want   []string // in the unreadable errors, in scan order
	}{
		{"wrong types name the document and field", appLayout, []any{
			bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "accountId", Value: "a"}, {Key: "kind", Value: "k"}, {Key: "createdAt", Value: "yesterday"}},
			bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "accountId", Value: "a"}, {Key: "kind", Value: "k"}, {Key: "createdAt", Value: at}},
			bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "accountId", Value: int32(5)}, {Key: "kind", Value: "k"}, {Key: "createdAt", Value: at}},
			bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "accountId", Value: "a"}, {Key: "kind", Value: "k"}, {Key: "createdAt", Value: at},
				{Key: "blob", Value: bson.Binary{Data: []byte{1}}}},
			bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "accountId", Value: "a"}, {Key: "createdAt", Value: at}},
		}, 1, []string{"createdAt: is a BSON string, not a date", "accountId: is a BSON 32-bit integer", "blob: a BSON binary", "kind: is missing"}},
		{"an _id of another type than the layout's", appLayout, []any{
			bson.D{{Key: "_id", Value: "not-an-oid"}, {Key: "accountId", Value: "a"}, {Key: "kind", Value: "k"}, {Key: "createdAt", Value: at}},
		}, 0, []string{`_id "not-an-oid"`}},
		{"two documents with one key are both reported", payloadLayout, []any{
			bson.D{{Key: "acct", Value: "a"}, {Key: "eventId", Value: "e1"}, {Key: "type", Value: "k"}, {Key: "ts", Value: int64(5)}},
			bson.D{{Key: "acct", Value: "a"}, {Key: "eventId", Value: "e2"}, {Key: "type", Value: "k"}, {Key: "ts", Value: int64(5)}},
			bson.D{{Key: "acct", Value: "a"}, {Key: "eventId", Value: "e2"}, {Key: "type", Value: "other"}, {Key: "ts", Value: int64(6)}},
		}, 1, []string{`duplicate key: account "a" event "e2"`, `duplicate key: account "a" event "e2"`}},
		{"the default layout: account disagreeing with _id is not read as either", mongodao.Layout{}, []any{
			bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: "a"}, {Key: "i", Value: "e1"}}}, {Key: "account", Value: "b"}, {Key: "id", Value: "e1"},
				{Key: "type", Value: "k"}, {Key: "time", Value: at}},
			bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: "a"}, {Key: "i", Value: "e2"}}}, {Key: "account", Value: "a"}, {Key: "id", Value: "e2"},
				{Key: "type", Value: "k"}, {Key: "time", Value: at}},
		}, 1, []string{`account: "b" disagrees with _id.a "a"`}},
		{"without the wrapper option, a wrapper-like element is plain data", mongodao.Layout{Account: "acct", ID: "eventId", Type: "type", Time: "ts", Data: "payload", TimeFormat: mongodao.TimeUnixMilli}, []any{
			bson.D{{Key: "acct", Value: "a"}, {Key: "eventId", Value: "e1"}, {Key: "type", Value: "k"}, {Key: "ts", Value: int64(5)},
				{Key: "payload", Value: bson.D{{Key: "l", Value: bson.A{bson.D{{Key: "flagmigrate:list", Value: bson.A{1}}}}}}}},
		}, 1, nil},
	}
	for _, tc := range tests {
		coll := testutil.FreshCollection(t)
		if _, err := coll.InsertMany(t.Context(), tc.docs); err != nil {
			t.Fatal(err)
		}
		s, err := mongodao.New(coll, &mongodao.Options{Layout: tc.layout})
		if err != nil {
			t.Fatal(err)
		}
		events, bad := scanReport(t, s, eventstore.ScanOptions{BatchSize: 2})
		if len(events) != tc.good || len(bad) != len(tc.want) {
			t.Errorf("%s: %d events and %d unreadable %v, want %d and %d", tc.reason, len(events), len(bad), bad, tc.good, len(tc.want))
			continue
		}
		for i, u := range bad {
			if !strings.Contains(u.Error(), tc.want[i]) || !strings.Contains(u.Error(), "_id ") || !errors.Is(u, eventstore.ErrUnreadable) {
				t.Errorf("%s: unreadable #%d = %v, want it to name the _id and %q", tc.reason, i, u, tc.want[i])
			}
		}
		if tc.reason == "without the wrapper option, a wrapper-like element is plain data" {
			want := map[string]any{"l": []any{map[string]any{"flagmigrate:list": []any{int64(1)}}}}
			if d := cmp.Diff(want, events[0].Data); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, d)
			}
		}
	}
}

func TestLayoutWritesTheAppsShape(t *testing.T) {
	coll := testutil.FreshCollection(t)
	s, err := mongodao.New(coll, &mongodao.Options{Layout: mongodao.Layout{
		Account: "accountId", ID: "_id", Type: "kind", Time: "createdAt", Data: "payload", IDFormat: mongodao.IDObjectID,
	}})
	if err != nil {
		t.Fatal(err)
	}
	oid := bson.NewObjectID()
	e := eventstore.Event{AccountID: "acct", ID: oid.Hex(), Type: "signup", Time: fixture.Base, Data: map[string]any{"n": int64(1), "l": []any{"x", map[string]any{"flagmigrate:list": nil}}}}
	if err := s.StoreEvent(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	var raw bson.D
	if err := coll.FindOne(t.Context(), bson.D{{Key: "_id", Value: oid}}).Decode(&raw); err != nil {
		t.Fatalf("the _id is not the ObjectID of the event ID: %v", err)
	}
	want := bson.D{{Key: "_id", Value: oid}, {Key: "accountId", Value: "acct"}, {Key: "kind", Value: "signup"},
		{Key: "createdAt", Value: bson.NewDateTimeFromTime(fixture.Base)},
		{Key: "payload", Value: bson.D{{Key: "l", Value: bson.A{"x", bson.D{{Key: "flagmigrate:list", Value: nil}}}}, {Key: "n", Value: int64(1)}}}}
	if d := cmp.Diff(want, raw); d != "" {
		t.Errorf("stored document (-want +got):\n%s", d)
	}
}

func TestLayoutRefusesEventsItCannotHold(t *testing.T) {
	s := newStore(t, &mongodao.Options{Layout: appLayout})
	unix := newStore(t, &mongodao.Options{Layout: mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "*", TimeFormat: mongodao.TimeUnix, IDFormat: mongodao.IDInt}})
	tests := []struct {
		reason string
		store  *mongodao.Store
		evt    eventstore.Event
		field  string
	}{
		{"an ID that is not an ObjectID", s, fixture.Event("acct", "evt-1", fixture.Base, nil), "ID"},
		{"upper-case hex is not the canonical form", s, fixture.Event("acct", "65F1C2A0B1C2D3E4F5A6B7C8", fixture.Base, nil), "ID"},
		{"a Data key that is a mapped field", s, fixture.Event("acct", "65f1c2a0b1c2d3e4f5a6b7c8", fixture.Base, map[string]any{"kind": "x"}), "Data.kind"},
		{"a Data key that is _id", s, fixture.Event("acct", "65f1c2a0b1c2d3e4f5a6b7c8", fixture.Base, map[string]any{"_id": "x"}), "Data._id"},
		{"a time between seconds in a Unix-seconds layout", unix, fixture.Event("acct", "12", fixture.Base.Add(time.Millisecond), nil), "Time"},
		{"a decimal with a leading zero in an integer layout", unix, fixture.Event("acct", "012", fixture.Base, nil), "ID"},
	}
	for _, tc := range tests {
		err := tc.store.ValidateEvent(tc.evt)
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: ValidateEvent = %v, want a ValidationError on %s", tc.reason, err, tc.field)
		}
		if err := tc.store.StoreEvent(t.Context(), tc.evt); !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: StoreEvent = %v, want ErrInvalidEvent", tc.reason, err)
		}
		if n, _ := tc.store.Collection().CountDocuments(t.Context(), bson.D{}); n != 0 {
			t.Errorf("%s: %d documents written", tc.reason, n)
		}
	}
}

func TestLayoutEncodingsRoundTrip(t *testing.T) {
	at := fixture.Base.Add(1234 * time.Millisecond)
	tests := []struct {
		reason string
		layout mongodao.Layout
		evt    eventstore.Event
		stored bson.E // the time or ID as stored
	}{
		{"Unix seconds", mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d", TimeFormat: mongodao.TimeUnix},
			fixture.Event("acct", "e1", fixture.Base, nil), bson.E{Key: "s", Value: fixture.Base.Unix()}},
		{"RFC 3339 in UTC with milliseconds", mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d", TimeFormat: mongodao.TimeRFC3339},
			fixture.Event("acct", "e1", at, nil), bson.E{Key: "s", Value: "2024-03-01T12:00:01.234Z"}},
		{"integer IDs", mongodao.Layout{Account: "a", ID: "_id", Type: "t", Time: "s", Data: "*", IDFormat: mongodao.IDInt},
			fixture.Event("acct", "-42", at, map[string]any{"k": "v"}), bson.E{Key: "_id", Value: int64(-42)}},
	}
	for _, tc := range tests {
		s := newStore(t, &mongodao.Options{Layout: tc.layout})
		fixture.Store(t, s, tc.evt)
		got, err := s.FindEventByID(t.Context(), tc.evt.AccountID, tc.evt.ID)
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if d := cmp.Diff(tc.evt, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
		if n, _ := s.Collection().CountDocuments(t.Context(), bson.D{tc.stored}); n != 1 {
			t.Errorf("%s: no document with %v", tc.reason, tc.stored)
		}
		page, err := s.ListEvents(t.Context(), tc.evt.AccountID, eventstore.ListOptions{Start: tc.evt.Time, End: tc.evt.Time.Add(time.Millisecond)})
		if err != nil || len(page.Events) != 1 {
			t.Errorf("%s: ListEvents over [Time, Time+1ms) = %d events, %v; want 1", tc.reason, len(page.Events), err)
		}
	}
	// Other offsets and integral numbers are read too.
	coll := testutil.FreshCollection(t)
	_, err := coll.InsertMany(t.Context(), []any{
		bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: "r1"}, {Key: "t", Value: "k"}, {Key: "s", Value: "2024-03-01T13:00:00+01:00"}},
		bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: "r2"}, {Key: "t", Value: "k"}, {Key: "s", Value: "2024-03-01T12:00:00.0000001Z"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := mongodao.New(coll, &mongodao.Options{Layout: mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d", TimeFormat: mongodao.TimeRFC3339}})
	if got, err := s.FindEventByID(t.Context(), "acct", "r1"); err != nil || !got.Time.Equal(fixture.Base) {
		t.Errorf("an RFC 3339 time with an offset: %v, %v; want %v", got.Time, err, fixture.Base)
	}
	if _, err := s.FindEventByID(t.Context(), "acct", "r2"); !errors.Is(err, eventstore.ErrUnreadable) || !strings.Contains(err.Error(), "finer than a millisecond") {
		t.Errorf("a time finer than a millisecond: %v, want unreadable", err)
	}
}

func TestCheckIndexesNamesWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		reason string
		layout mongodao.Layout
		want   []string
	}{
		{"ObjectID _id: list and account-scan indexes", appLayout,
			[]string{`{"accountId": 1, "createdAt": 1, "_id": 1}`, `{"accountId": 1, "_id": 1}`}},
		{"an ID of its own: the unique key index first", payloadLayout,
			[]string{`{"acct": 1, "eventId": 1}, {unique: true}`, `{"acct": 1, "ts": 1, "eventId": 1}`}},
	} {
		coll := testutil.FreshCollection(t)
		if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "x", Value: 1}}); err != nil {
			t.Fatal(err)
		}
		s, err := mongodao.New(coll, &mongodao.Options{Layout: tc.layout})
		if err != nil {
			t.Fatal(err)
		}
		warnings, err := s.CheckIndexes(t.Context())
		if err != nil || len(warnings) != len(tc.want) {
			t.Fatalf("%s: CheckIndexes = %q, %v; want %d warnings", tc.reason, warnings, err, len(tc.want))
		}
		for i, w := range warnings {
			if !strings.Contains(w, "createIndex("+tc.want[i]+")") {
				t.Errorf("%s: warning %q does not give createIndex(%s)", tc.reason, w, tc.want[i])
			}
		}
		if err := s.EnsureIndexes(t.Context()); err != nil {
			t.Fatal(err)
		}
		if warnings, err := s.CheckIndexes(t.Context()); err != nil || len(warnings) != 0 {
			t.Errorf("%s: after EnsureIndexes, CheckIndexes = %q, %v", tc.reason, warnings, err)
		}
	}
}

func TestLayoutValidation(t *testing.T) {
	coll := testutil.FreshCollection(t)
	for _, tc := range []struct {
		reason string
		layout mongodao.Layout
	}{
		{"a field left out", mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s"}},
		{"two Event fields in one field", mongodao.Layout{Account: "a", ID: "a", Type: "t", Time: "s", Data: "*"}},
		{"only the ID may be _id", mongodao.Layout{Account: "_id", ID: "i", Type: "t", Time: "s", Data: "*"}},
		{"a dotted field", mongodao.Layout{Account: "a.b", ID: "i", Type: "t", Time: "s", Data: "*"}},
		{"an unknown time format", mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "*", TimeFormat: 9}},
	} {
		if _, err := mongodao.New(coll, &mongodao.Options{Layout: tc.layout}); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Errorf("%s: New = %v, want ErrInvalidArgument", tc.reason, err)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		reason string
		raw    string
		want   *mongodao.URL // nil: refused
		errHas string
	}{
		{"the default layout", "mongodb://h:1/app?collection=ev&w=majority",
			&mongodao.URL{ClientURI: "mongodb://h:1/app?w=majority", Database: "app", Collection: "ev"}, ""},
		{"collection defaults to events", "mongodb://h/app", &mongodao.URL{ClientURI: "mongodb://h/app", Database: "app", Collection: "events"}, ""},
		{"the issue's layout", "mongodb://h/app?collection=c&account=accountId&id=_id&type=kind&time=createdAt&data=payload&idformat=objectid&retryWrites=false",
			&mongodao.URL{ClientURI: "mongodb://h/app?retryWrites=false", Database: "app", Collection: "c",
				Layout: mongodao.Layout{Account: "accountId", ID: "_id", Type: "kind", Time: "createdAt", Data: "payload", IDFormat: mongodao.IDObjectID}}, ""},
		{"every unmapped field, epoch milliseconds, wrapped lists", "mongodb://h/app?account=a&id=i&type=t&time=ts&data=*&timeformat=unixms&nestedlists=wrap",
			&mongodao.URL{ClientURI: "mongodb://h/app", Database: "app", Collection: "events",
				Layout: mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "ts", Data: "*", TimeFormat: mongodao.TimeUnixMilli, WrapNestedLists: true}}, ""},
		{"a misspelt layout parameter is refused with the list", "mongodb://h/app?acount=a", nil, "unknown parameter acount: neither a layout parameter (collection, account, id"},
		{"a layout must be complete", "mongodb://h/app?account=a&id=i", nil, "missing: type, time, data"},
		{"formats need a layout", "mongodb://h/app?idformat=objectid", nil, "need a layout"},
		{"an unknown ID format", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&idformat=guid", nil, "idformat=guid"},
		{"an unknown time format", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&timeformat=iso", nil, "timeformat=iso"},
		{"a layout parameter twice", "mongodb://h/app?collection=a&collection=b", nil, "given 2 times"},
		{"no database", "mongodb://h/?collection=a", nil, "want mongodb://HOST/DATABASE"},
		{"an invalid layout", "mongodb://h/app?account=a&id=a&type=t&time=s&data=d", nil, "both name field"},
		{"the password never shows", "mongodb://user:s3cret@h/app?acount=a", nil, "user:xxxxx@h"},
		{"time precision, offset, soft deletes, constants, types and UUIDs",
			"mongodb://h/app?account=tenant&id=_id&type=evt&time=ts&data=attrs&timeformat=rfc3339&timeprecision=truncate&timeoffset=-05:00" +
				"&deleted=state:string:gone&deletedat=deletedAt&const=_class:string:com.acme:Event&const=schemaVersion:int32:2" +
				"&numtype=attrs.count:int32&numtype=attrs.ratio:double&uuid=attrs.ref&idformat=uuid&uuidrep=csharplegacy",
			&mongodao.URL{ClientURI: "mongodb://h/app", Database: "app", Collection: "events",
				Layout: mongodao.Layout{Account: "tenant", ID: "_id", Type: "evt", Time: "ts", Data: "attrs",
					IDFormat: mongodao.IDUUID, TimeFormat: mongodao.TimeRFC3339, TimePrecision: mongodao.TimeTruncate, TimeOffset: "-05:00",
					SoftDelete: mongodao.SoftDelete{Field: "state", Value: "gone", At: "deletedAt"},
					Constants:  []mongodao.Constant{{Field: "_class", Value: "com.acme:Event"}, {Field: "schemaVersion", Value: int32(2)}},
					Types:      []mongodao.FieldType{{Path: "attrs.count", Type: mongodao.BSONInt32}, {Path: "attrs.ratio", Type: mongodao.BSONDouble}},
					UUIDs:      []string{"attrs.ref"}, UUIDRepresentation: mongodao.UUIDCSharpLegacy}}, ""},
		{"a soft-delete marker without a value is true", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&deleted=deleted",
			&mongodao.URL{ClientURI: "mongodb://h/app", Database: "app", Collection: "events",
				Layout: mongodao.Layout{Account: "a", ID: "i", Type: "t", Time: "s", Data: "d", SoftDelete: mongodao.SoftDelete{Field: "deleted"}}}, ""},
		{"settings need a layout", "mongodb://h/app?deleted=deleted", nil, "need a layout"},
		{"an unknown time precision", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&timeformat=rfc3339&timeprecision=round", nil, "timeprecision=round: want exact or truncate"},
		{"truncation of dates", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&timeprecision=truncate", nil, "RFC 3339 strings only"},
		{"an offset that is none", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&timeformat=rfc3339&timeoffset=CET", nil, `TimeOffset "CET"`},
		{"a marker value of no type", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&deleted=deleted:yes", nil, "deleted=deleted:yes"},
		{"a marker value that is not its type", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&deleted=deleted:bool:yes", nil, "want bool:true or bool:false"},
		{"a constant without a type", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&const=_class", nil, "const=_class: want const=FIELD:TYPE:VALUE"},
		{"a constant of an unknown type", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&const=_class:text:x", nil, `unknown type "text"`},
		{"an int32 constant out of range", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&const=v:int32:3000000000", nil, "not an int32"},
		{"a number type without a type", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&numtype=d.n", nil, "numtype=d.n: want numtype=PATH:TYPE"},
		{"a number type outside the data", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&numtype=n:int32", nil, "not inside the data field d"},
		{"an empty UUID path", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&uuid=", nil, "parameter uuid is empty"},
		{"an unknown UUID representation", "mongodb://h/app?account=a&id=i&type=t&time=s&data=d&idformat=uuid&uuidrep=java", nil, "uuidrep=java: want standard"},
	}
	for _, tc := range tests {
		got, err := mongodao.ParseURL(tc.raw)
		if tc.want == nil {
			if !errors.Is(err, eventstore.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.errHas) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: ParseURL(%q) = %v, want ErrInvalidArgument containing %q", tc.reason, tc.raw, err, tc.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.reason, err)
			continue
		}
		if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(mongodao.URL{}), cmpopts.IgnoreFields(mongodao.URL{}, "redacted")); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.reason, d)
		}
	}
}

func TestLayoutStringIsItsURL(t *testing.T) {
	for _, l := range []mongodao.Layout{appLayout, payloadLayout, nodeLayout, mixedLayout, uuidLayout} {
		u, err := mongodao.ParseURL("mongodb://h/app?" + l.String())
		if err != nil {
			t.Errorf("ParseURL(String() of %v): %v", l, err)
			continue
		}
		if d := cmp.Diff(l, u.Layout, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("ParseURL(String()) (-layout +parsed):\n%s", d)
		}
	}
}
