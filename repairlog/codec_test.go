package repairlog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// TestLineFormat: an entry round-trips through a line, with its sides and
// kind by name; a write has no kind field, as in lines written before
// deletes existed, which read back as writes; unknown names are refused.
func TestLineFormat(t *testing.T) {
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		reason string
		e      migration.RepairEntry
		want   []string // substrings of the line
		absent string
	}{
		{"a write names its sides and has no kind field",
			migration.RepairEntry{Call: migration.Call{Op: "StoreEvent", AccountID: "a", Key: "k", Kind: migration.KindWrite}, Time: at, Target: migration.SideNew, Source: migration.SideOld, Error: "x"},
			[]string{`"target":"new"`, `"source":"old"`}, `"kind"`},
		{"a delete says so",
			migration.RepairEntry{Call: migration.Call{Op: "DeleteEvent", AccountID: "a", Key: "k", Kind: migration.KindDelete}, Target: migration.SideOld, Source: migration.SideNew},
			[]string{`"kind":"delete"`, `"target":"old"`}, ""},
		{"an erasure says so, and an orphan is marked",
			migration.RepairEntry{Call: migration.Call{Op: "EraseAccount", AccountID: "a", Kind: migration.KindErase}, Target: migration.SideNew, Source: migration.SideOld, Orphan: true},
			[]string{`"kind":"erase"`, `"orphan":true`}, ""},
	} {
		b, err := marshal(tc.e)
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: no %s in %s", tc.reason, w, b)
			}
		}
		if tc.absent != "" && strings.Contains(string(b), tc.absent) {
			t.Errorf("%s: %s in %s", tc.reason, tc.absent, b)
		}
		if back, err := unmarshal(b); err != nil || back != tc.e {
			t.Errorf("%s: round trip %+v, %v; want %+v", tc.reason, back, err, tc.e)
		}
	}
	for _, tc := range []struct{ reason, line string }{
		{"an unknown kind", `{"target":"new","source":"old","kind":"purge"}`},
		{"an unknown side", `{"target":"middle","source":"old"}`},
		{"a missing side", `{"target":"new"}`},
	} {
		if _, err := unmarshal([]byte(tc.line)); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", tc.reason, err)
		}
	}
}
