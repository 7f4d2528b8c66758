package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/recordstore"
	"github.com/flagmigrate/flagmigrate/storetest"
)

func TestRecordConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRecords(t, func(*testing.T) recordstore.Store { return memstore.NewRecordStore() })
}

func TestReturnedRecordsAreCopies(t *testing.T) {
	t.Parallel()
	s := memstore.NewRecordStore()
	ctx := t.Context()
	data := map[string]any{"l": []any{"x"}}
	if _, err := s.PutIfNewer(ctx, recordstore.Record{AccountID: "a", ID: "r", Version: 1, Data: data}); err != nil {
		t.Fatal(err)
	}
	data["l"].([]any)[0] = "changed by the caller after PutIfNewer"
	got, err := s.Get(ctx, "a", "r")
	if err != nil {
		t.Fatal(err)
	}
	got.Data["l"].([]any)[0] = "changed by the caller after Get"
	again, _ := s.Get(ctx, "a", "r")
	if v := again.Data["l"].([]any)[0]; v != "x" {
		t.Errorf("stored data changed through a caller's copy: %v", v)
	}
}

// ExampleRecordStore shows a service's read-modify-write: read, change,
// compare-and-set, and on a version conflict read again and retry.
func ExampleRecordStore() {
	ctx := context.Background()
	s := memstore.NewRecordStore()
	increment := func() (recordstore.Record, error) {
		for {
			var expected, n int64
			r, err := s.Get(ctx, "acct-1", "visits")
			switch {
			case errors.Is(err, recordstore.ErrNotFound): // create it
			case err != nil:
				return recordstore.Record{}, err
			default:
				expected, n = r.Version, r.Data["n"].(int64)
			}
			r, err = s.CompareAndSet(ctx, "acct-1", "visits", expected, map[string]any{"n": n + 1})
			if errors.Is(err, recordstore.ErrVersionConflict) {
				continue // someone else updated it first: read again
			}
			return r, err
		}
	}
	for range 3 {
		if _, err := increment(); err != nil {
			fmt.Println(err)
		}
	}
	r, _ := s.Get(ctx, "acct-1", "visits")
	fmt.Println("version", r.Version, "n", r.Data["n"])

	// The other store gets the authoritative version as it is: an older
	// copy arriving late changes nothing and says so.
	other := memstore.NewRecordStore()
	fmt.Println(other.PutIfNewer(ctx, r))
	fmt.Println(other.PutIfNewer(ctx, recordstore.Record{AccountID: "acct-1", ID: "visits", Version: 2, Data: map[string]any{"n": 2}}))
	// Output:
	// version 3 n 3
	// applied <nil>
	// stale <nil>
}
