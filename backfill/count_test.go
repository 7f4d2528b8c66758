package backfill_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
)

// TestStoresCount: MongoDB and DynamoDB give the totals of a backfill's and
// a verify's progress, for the whole store and for one account, on the real
// servers.
func TestStoresCount(t *testing.T) {
	ms, _ := realstores.Mongo(t)
	ds, _ := realstores.Dynamo(t, nil)
	stores := map[string]backfill.Counter{"mongodao": ms, "dynamodao": ds}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range stores {
		s := c.(flagmigrate.EventStore)
		for a, n := range map[string]int{"acct-a": 7, "acct-b": 3} {
			for i := range n {
				if err := s.StoreEvent(t.Context(), flagmigrate.Event{AccountID: a, ID: fmt.Sprintf("e-%d", i), Type: "t", Time: at}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, tc := range []struct {
			reason  string
			account string
			want    int64
		}{
			{"the whole store", "", 10},
			{"one account", "acct-a", 7},
			{"another account", "acct-b", 3},
			{"an account without events", "acct-none", 0},
		} {
			if n, err := c.CountEvents(t.Context(), tc.account); err != nil || n != tc.want {
				t.Errorf("%s: %s: CountEvents(%q) = %d, %v; want %d", name, tc.reason, tc.account, n, err, tc.want)
			}
		}
	}
}
