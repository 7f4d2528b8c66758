package mongodao_test

import (
	"errors"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/mongodao"
	"github.com/flagmigrate/flagmigrate/recordstore"
	"github.com/flagmigrate/flagmigrate/storetest"
)

func newRecordStore(t testing.TB) *mongodao.RecordStore {
	t.Helper()
	return newRecordStoreWith(t, nil)
}

func newRecordStoreWith(t testing.TB, opts *mongodao.RecordOptions) *mongodao.RecordStore {
	t.Helper()
	s, err := mongodao.NewRecordStore(testutil.FreshCollection(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecordConformance(t *testing.T) {
	var opts storetest.RecordOptions
	if isFerretDB(t) {
		opts.NonAtomic = "FerretDB v1 runs an update (a replace, an upsert) as a query, then a write by _id, " +
			"so a filter on the version is not checked atomically with the write; MongoDB applies a " +
			"single-document update atomically"
	}
	storetest.RunRecordsWith(t, func(t *testing.T) recordstore.Store { return newRecordStore(t) }, opts)
}

// TestInsertOnlyRecordConformance: the insert-only layout needs no
// atomic update, so it passes the whole suite, concurrent subtests
// included, on FerretDB too.
func TestInsertOnlyRecordConformance(t *testing.T) {
	storetest.RunRecords(t, func(t *testing.T) recordstore.Store {
		return newRecordStoreWith(t, &mongodao.RecordOptions{InsertOnly: true})
	})
}

// isFerretDB reports whether the test server is FerretDB (its buildInfo
// says so).
func isFerretDB(t *testing.T) bool {
	t.Helper()
	var info bson.M
	if err := testutil.MongoClient(t).Database("admin").RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatalf("buildInfo: %v", err)
	}
	_, ok := info["ferretdbVersion"]
	return ok
}

func TestNewRecordStoreRefusesBadArguments(t *testing.T) {
	if _, err := mongodao.NewRecordStore(nil, nil); !errors.Is(err, recordstore.ErrInvalidArgument) {
		t.Errorf("NewRecordStore(nil) = %v, want ErrInvalidArgument", err)
	}
}

// TestUnreadableRecordDocuments: documents that hold no valid record read
// as an UnreadableError naming the _id and the field; a scan yields each
// and goes on.
func TestUnreadableRecordDocuments(t *testing.T) {
	s := newRecordStore(t)
	ctx := t.Context()
	for _, id := range []string{"a", "z"} {
		if _, err := s.PutIfNewer(ctx, recordstore.Record{AccountID: "acct", ID: id, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	key := func(id string) bson.D { return bson.D{{Key: "a", Value: "acct"}, {Key: "i", Value: id}} }
	for _, tc := range []struct {
		reason, id, field string
		doc               bson.D
	}{
		{"no version", "b-nov", "v", bson.D{}},
		{"a version that is a string", "c-vstr", "v", bson.D{{Key: "v", Value: "3"}}},
		{"a version that is a double", "d-vdbl", "v", bson.D{{Key: "v", Value: 2.0}}},
		{"version 0", "e-v0", "v", bson.D{{Key: "v", Value: int64(0)}}},
		{"data that is not a document", "f-data", "data", bson.D{{Key: "v", Value: int64(1)}, {Key: "data", Value: "x"}}},
		{"a regular expression in the data", "g-regex", "data.x", bson.D{{Key: "v", Value: int64(1)}, {Key: "data", Value: bson.D{{Key: "x", Value: bson.Regex{Pattern: "a"}}}}}},
		{"a tombstone with data", "h-tomb", "data", bson.D{{Key: "v", Value: int64(2)}, {Key: "del", Value: true}, {Key: "data", Value: bson.D{}}}},
	} {
		doc := append(bson.D{{Key: "_id", Value: key(tc.id)}}, tc.doc...)
		if _, err := s.Collection().InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(ctx, "acct", tc.id)
		var ue *recordstore.UnreadableError
		if !errors.As(err, &ue) || !errors.Is(err, recordstore.ErrUnreadable) || ue.Field != tc.field {
			t.Errorf("%s: Get = %v, want an UnreadableError on %q", tc.reason, err, tc.field)
		}
	}
	var good []string
	bad := 0
	for r, err := range s.Scan(ctx, recordstore.ScanOptions{AccountID: "acct", Tombstones: true}) {
		switch {
		case errors.Is(err, recordstore.ErrUnreadable):
			bad++
		case err != nil:
			t.Fatal(err)
		default:
			good = append(good, r.ID)
		}
	}
	if bad != 7 || !slices.Equal(good, []string{"a", "z"}) {
		t.Errorf("scan: %d unreadable and %v; want 7 and [a z]", bad, good)
	}
}
