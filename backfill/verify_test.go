package backfill_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/memstore"
)

// TestVerifySampleKeepsEveryKind: 50 events missing in the destination
// come first in the scan, then one different and one missing in the
// source. With MaxReported 10 the sample still lists the two rarer kinds;
// the counts stay exact, per account too.
func TestVerifySampleKeepsEveryKind(t *testing.T) {
	src, dst := memstore.New(), memstore.New()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(acct, id, typ string) flagmigrate.Event {
		return flagmigrate.Event{AccountID: acct, ID: id, Type: typ, Time: at, Data: map[string]any{"referrer": "x"}}
	}
	for i := range 50 {
		if err := src.StoreEvent(t.Context(), ev("acct-a", fmt.Sprintf("e-%03d", i), "t")); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []flagmigrate.Event{ev("acct-b", "same", "t"), ev("acct-b", "changed", "t")} {
		if err := src.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	changed := ev("acct-b", "changed", "t")
	changed.Data = map[string]any{"referrer": "y"}
	for _, e := range []flagmigrate.Event{ev("acct-b", "same", "t"), changed, ev("acct-c", "extra", "t")} {
		if err := dst.StoreEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		reason string
		opts   backfill.VerifyOptions
	}{
		{"a whole-store run looks each side up in the other", backfill.VerifyOptions{MaxReported: 10}},
		{"an accounts run merges the two scans", backfill.VerifyOptions{MaxReported: 10, Accounts: []string{"acct-a", "acct-b", "acct-c"}}},
	} {
		r, err := backfill.Verify(t.Context(), src, dst, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[backfill.DiffKind]int{}
		for _, d := range r.Differences {
			kinds[d.Kind]++
		}
		if len(r.Differences) != 10 || !r.Truncated || kinds[backfill.MissingInSource] != 1 || kinds[backfill.Different] != 1 || kinds[backfill.MissingInDestination] != 8 {
			t.Errorf("%s: %d listed %v, truncated %v; want 10 with 1 missing_in_source and 1 different", tc.reason, len(r.Differences), kinds, r.Truncated)
		}
		if r.Differences[0].Kind != backfill.MissingInDestination || r.Differences[9].Kind != backfill.Different {
			t.Errorf("%s: the sample is not ordered by kind: %+v", tc.reason, r.Differences)
		}
		for _, d := range r.Differences {
			if d.Kind == backfill.Different && (len(d.Fields) != 1 || d.Fields[0] != `Data["referrer"]`) {
				t.Errorf("%s: different at %v, want the read comparison's path syntax Data[\"referrer\"]", tc.reason, d.Fields)
			}
		}
		want := map[string]backfill.AccountCounts{
			"acct-a": {SourceEvents: 50, MissingInDestination: 50},
			"acct-b": {SourceEvents: 2, DestinationEvents: 2, Matching: 1, Different: 1},
			"acct-c": {DestinationEvents: 1, MissingInSource: 1},
		}
		if len(r.Accounts) != len(want) {
			t.Errorf("%s: %d accounts counted, want %d", tc.reason, len(r.Accounts), len(want))
		}
		for id, w := range want {
			if got := r.Accounts[id]; got == nil || *got != w {
				t.Errorf("%s: account %s counts %+v, want %+v", tc.reason, id, got, w)
			}
		}
	}
}
