package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/internal/localdynamo"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// A collection as a Node.js service leaves it (issue 24): RFC 3339 times in
// its offset, some finer than a millisecond, soft-deleted documents and
// framework fields. With the layout's settings, the CLI copies every live
// document, none of the soft-deleted ones, and verify is clean.
func TestBackfillANodeCollection(t *testing.T) {
	coll := testutil.FreshCollection(t)
	const n, every = 60, 10
	var docs []any
	for i := range n {
		ts := fmt.Sprintf("2024-03-01T07:00:%02d.%03d-05:00", i%60, i)
		if i%7 == 0 {
			ts = fmt.Sprintf("2024-03-01T07:00:%02d.%03d005-05:00", i%60, i) // microseconds
		}
		d := bson.D{{Key: "_id", Value: fmt.Sprintf("e-%03d", i)}, {Key: "tenant", Value: fmt.Sprintf("t%d", i%3)}, {Key: "evt", Value: "k"},
			{Key: "ts", Value: ts}, {Key: "attrs", Value: bson.D{{Key: "n", Value: int32(i)}}}, {Key: "_class", Value: "Event"}}
		if i%every == 0 {
			d = append(d, bson.E{Key: "deleted", Value: true}, bson.E{Key: "deletedAt", Value: ts})
		}
		docs = append(docs, d)
	}
	if _, err := coll.InsertMany(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	live := int64(n - n/every)
	_, table := realstores.Dynamo(t, nil)
	mu, _ := url.Parse(testutil.MongoURI(t))
	mu.Path = "/" + coll.Database().Name()
	mu.RawQuery = "collection=" + coll.Name() + "&account=tenant&id=_id&type=evt&time=ts&data=attrs&timeformat=rfc3339&timeoffset=-05:00" +
		"&deleted=deleted&deletedat=deletedAt&const=_class:string:Event&numtype=attrs.n:int32"
	to := localdynamo.URL(testutil.DynamoEndpoint(t), table) + "&region=us-east-1"

	// (The destination is empty: verify also reports every event missing.)
	exact := cli(t, "verify", "--from", mu.String(), "--to", to)
	if exact.code == exitOK || !strings.Contains(exact.stdout+exact.stderr, "finer than a millisecond") || !strings.Contains(exact.stdout+exact.stderr, "timeprecision=truncate") {
		t.Errorf("without timeprecision: exit %d, want the unreadable times naming timeprecision=truncate:\n%s\n%s", exact.code, exact.stdout, exact.stderr)
	}

	mu.RawQuery += "&timeprecision=truncate"
	r := cli(t, "backfill", "--from", mu.String(), "--to", to, "--progress", "none")
	if st := stats(t, r); r.code != exitOK || st.Copied != live || st.Scanned != live {
		t.Errorf("backfill: exit %d %+v, want %d scanned and copied:\n%s\n%s", r.code, st, live, r.stdout, r.stderr)
	}
	v := cli(t, "verify", "--from", mu.String(), "--to", to, "--json", "-")
	var report backfill.Report
	if err := json.Unmarshal([]byte(v.stdout), &report); err != nil {
		t.Fatalf("verify exit %d, no JSON report (%v):\n%s\n%s", v.code, err, v.stdout, v.stderr)
	}
	if v.code != exitOK || report.Matching != live || report.Unreadable != 0 {
		t.Errorf("verify exit %d: %s", v.code, report)
	}
}

func TestStoreURLAdoptionParameters(t *testing.T) {
	_, coll := realstores.Mongo(t)
	mu, _ := url.Parse(testutil.MongoURI(t))
	mu.Path = "/" + coll.Database().Name()
	mu.User = url.UserPassword("user", "s3cret")
	_, table := realstores.Dynamo(t, nil)
	to := localdynamo.URL(testutil.DynamoEndpoint(t), table) + "&region=us-east-1"
	layout := "collection=" + coll.Name() + "&account=a&id=_id&type=k&time=t&data=*"
	for _, tc := range []struct {
		reason, query, want string
	}{
		{"an unknown time precision", layout + "&timeformat=rfc3339&timeprecision=round", "timeprecision=round: want exact or truncate"},
		{"a marker value of an unknown type", layout + "&deleted=deleted:yes:1", `unknown type "yes"`},
		{"a constant without its type", layout + "&const=_class", "want const=FIELD:TYPE:VALUE"},
		{"a number type that is none", layout + "&numtype=n:string", `type "string": want int32, int64 or double`},
		{"an unknown UUID representation", layout + "&idformat=uuid&uuidrep=java", "uuidrep=java"},
	} {
		mu.RawQuery = tc.query
		r := cli(t, "verify", "--from", mu.String(), "--to", to)
		if r.code != exitFailed || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr+r.stdout, "s3cret") {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 with %q and no password", tc.reason, r.code, r.stderr, tc.want)
		}
	}
}
