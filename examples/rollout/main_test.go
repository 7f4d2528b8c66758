package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/migration"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func check(t *testing.T, cfg config) {
	t.Helper()
	var out bytes.Buffer
	v, err := run(t.Context(), &out, cfg)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !v.pass || v.wrongAnswers != 0 || v.errors != 0 {
		t.Fatalf("verdict %+v\n%s", v, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"stage  1 · MongoDB only",
		"repair: replayed",
		"backfill: scanned",
		"acct-07: ",             // the conflict the backfill reports
		"acct-07 (held back): ", // and verify
		"at Data[\"referrer\"]", // which field the bug drops
		"3 accounts rolled back to MongoDB: CLEAN",
		"\nPASS: ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if v.mismatches[migration.VerdictMissingInOld] != 0 || v.mismatches[migration.VerdictMissingInNew] != 0 {
		t.Errorf("mismatches other than the data bug: %v", v.mismatches)
	}
	if v.bugAccountDifferences == 0 {
		t.Error("the data bug was not found by verify")
	}
}

func TestRolloutInMemory(t *testing.T) {
	check(t, config{accounts: 20, ops: 600, history: 10})
}

func TestRolloutOnRealServers(t *testing.T) {
	check(t, config{mongoURI: testutil.MongoURI(t), dynamoEndpoint: testutil.DynamoEndpoint(t), accounts: 14, ops: 160, history: 4})
}
