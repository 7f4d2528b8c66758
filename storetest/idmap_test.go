package storetest_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/flagmigrate/flagmigrate/storetest"
)

func TestIDMapsKeepOrderAndDistinctness(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, tc := range []struct {
		reason   string
		a1, id1  string
		a2, id2  string
		wantLess bool // f(a1, id1) < f(a2, id2)
	}{
		{"IDs of one account keep their order", "acct", "a-001", "acct", "a-002", true},
		{"a shorter ID sorts first, as bytewise", "acct", "a", "acct", "a-0", true},
		{"the same ID in two accounts maps apart", "acct-1", "x", "acct-2", "x", storetest.HexIDs("acct-1", "x") < storetest.HexIDs("acct-2", "x")},
	} {
		for _, m := range []struct {
			name string
			f    func(string, string) string
		}{{"HexIDs", storetest.HexIDs}, {"UUIDIDs", storetest.UUIDIDs}} {
			x, y := m.f(tc.a1, tc.id1), m.f(tc.a2, tc.id2)
			if x == y || (x < y) != tc.wantLess {
				t.Errorf("%s: %s: %q and %q, want distinct with less = %v", m.name, tc.reason, x, y, tc.wantLess)
			}
		}
		if u := storetest.UUIDIDs(tc.a1, tc.id1); !uuid.MatchString(u) {
			t.Errorf("UUIDIDs = %q, not a UUID in canonical form", u)
		}
	}
}

// A store whose IDs are UUIDs runs the suite through UUIDIDs, which gives
// each of the suite's keys a UUID in the same order.
func ExampleUUIDIDs() {
	fmt.Println(storetest.UUIDIDs("acct", "a-001"))
	fmt.Println(storetest.UUIDIDs("acct", "a-002"))
	// Output:
	// 492008aa-612d-3030-3100-000000000000
	// 492008aa-612d-3030-3200-000000000000
}
