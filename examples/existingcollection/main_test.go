package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestExistingCollectionOnRealServers(t *testing.T) {
	var out bytes.Buffer
	res, err := run(t.Context(), &out, config{mongoURI: testutil.MongoURI(t), dynamoEndpoint: testutil.DynamoEndpoint(t), documents: 300})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !res.ok() {
		t.Fatalf("the run did not go as the story says: %+v\n%s", res.stats, out.String())
	}
	text := out.String()
	for oid, field := range res.seeded.Unreadable {
		if !strings.Contains(text, oid.Hex()+`"}: `+field+": ") {
			t.Errorf("unreadable document %s (%s) is not in the report:\n%s", oid.Hex(), field, text)
		}
	}
	for _, oid := range res.seeded.Duplicate {
		if !strings.Contains(text, oid.Hex()+`"}: duplicate key: account "acct-00" event "evt-00000"`) {
			t.Errorf("duplicate %s is not in the report:\n%s", oid.Hex(), text)
		}
	}
	for _, want := range []string{"completed, some documents unreadable", "CLEAN: ", "lacks the index", "\nPASS\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}
