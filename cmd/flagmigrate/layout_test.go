package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/internal/localdynamo"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// The acceptance run of issue 11: a collection of 5,000 documents in the
// layout its application wrote, with unreadable documents, copied into
// DynamoDB through the store URL's layout parameters, then verified.
func TestBackfillAndVerifyAnExistingCollection(t *testing.T) {
	coll := testutil.FreshCollection(t)
	app, err := realstores.SeedOldApp(t.Context(), coll, 5000, 5)
	if err != nil {
		t.Fatal(err)
	}
	_, table := realstores.Dynamo(t, nil)
	mu, _ := url.Parse(testutil.MongoURI(t))
	mu.Path = "/" + coll.Database().Name()
	mu.RawQuery = "collection=" + coll.Name() + "&account=accountId&id=_id&type=kind&time=createdAt&data=payload&idformat=objectid"
	from := mu.String()
	to := localdynamo.URL(testutil.DynamoEndpoint(t), table) + "&region=us-east-1"
	readable := int64(app.Good + 1) // the retried duplicate has its own ObjectID: its own event

	r := cli(t, "backfill", "--from", from, "--to", to, "--progress", "none")
	if r.code != exitUnreadable {
		t.Fatalf("backfill exit %d, want %d (completed, some documents unreadable):\n%s\n%s", r.code, exitUnreadable, r.stdout, r.stderr)
	}
	if st := stats(t, r); st.Copied != readable || st.Conflicts != 0 || st.Errors != 0 {
		t.Errorf("backfill: %+v, want %d copied", st, readable)
	}
	for oid, field := range app.Unreadable {
		if !strings.Contains(r.stdout, `unreadable source _id {"$oid":"`+oid.Hex()+`"}: `+field+": ") {
			t.Errorf("unreadable document %s (%s) is not listed:\n%s", oid.Hex(), field, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "backfill unreadable: 3 source documents") || !strings.Contains(r.stderr, "completed, some documents unreadable") {
		t.Errorf("no unreadable summary:\n%s\n%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, `warning: source: collection `+coll.Name()+` lacks the index {"accountId": 1, "createdAt": 1, "_id": 1}`) {
		t.Errorf("no warning about the missing index:\n%s", r.stderr)
	}

	v := cli(t, "verify", "--from", from, "--to", to, "--json", "-")
	var report backfill.Report
	if json.Unmarshal([]byte(v.stdout), &report) != nil { // --json -: stdout holds the JSON only
		t.Fatalf("verify exit %d, no JSON report:\n%s\n%s", v.code, v.stdout, v.stderr)
	}
	if v.code != exitUnreadable || report.MissingInDestination != 0 || report.MissingInSource != 0 || report.Different != 0 ||
		report.Matching != readable || report.Unreadable != 3 || len(report.UnreadableRecords) != 3 {
		t.Errorf("verify exit %d: %s, %d listed", v.code, report, len(report.UnreadableRecords))
	}

	r = cli(t, "backfill", "--from", from, "--to", to, "--progress", "none")
	if st := stats(t, r); r.code != exitUnreadable || st.Copied != 0 || st.Skipped != readable {
		t.Errorf("second backfill: exit %d %+v, want 0 copied", r.code, st)
	}
}

func TestStoreURLLayoutParameters(t *testing.T) {
	ms, coll := realstores.Mongo(t)
	_ = ms
	mu, _ := url.Parse(testutil.MongoURI(t))
	mu.Path = "/" + coll.Database().Name()
	_, table := realstores.Dynamo(t, nil)
	to := localdynamo.URL(testutil.DynamoEndpoint(t), table) + "&region=us-east-1"
	for _, tc := range []struct {
		reason, query, want string
	}{
		{"a misspelt layout parameter", "collection=" + coll.Name() + "&acount=accountId",
			"unknown parameter acount: neither a layout parameter (collection, account, id, type, time, data, idformat, timeformat, nestedlists, timeprecision, timeoffset, deleted, deletedat, const, numtype, uuid, uuidrep)"},
		{"half a layout", "collection=" + coll.Name() + "&account=accountId&id=_id", "missing: type, time, data"},
		{"an unknown time format", "collection=" + coll.Name() + "&account=a&id=_id&type=k&time=t&data=*&timeformat=iso", "timeformat=iso"},
	} {
		mu.RawQuery = tc.query
		r := cli(t, "verify", "--from", mu.String(), "--to", to)
		if r.code != exitFailed || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 with %q", tc.reason, r.code, r.stderr, tc.want)
		}
	}
}
