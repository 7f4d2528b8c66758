package recordstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// Two stores converge whatever order the writes reach them in: each key
// keeps its highest version, and a delete is a version too.
func Example() {
	ctx := context.Background()
	authoritative, other := memstore.NewRecordStore(), memstore.NewRecordStore()

	// The service writes the authoritative store by compare-and-set...
	v1, _ := authoritative.CompareAndSet(ctx, "acct", "profile", 0, map[string]any{"name": "Ada"})
	v2, _ := authoritative.CompareAndSet(ctx, "acct", "profile", v1.Version, map[string]any{"name": "Ada L."})
	gone, _ := authoritative.CompareAndDelete(ctx, "acct", "profile", v2.Version)

	// ...and the other store receives the same versions in another order.
	fmt.Println(other.DeleteIfNewer(ctx, "acct", "profile", gone))
	fmt.Println(other.PutIfNewer(ctx, v2))
	fmt.Println(other.PutIfNewer(ctx, v1))
	_, err := other.Get(ctx, "acct", "profile")
	fmt.Println(errors.Is(err, recordstore.ErrNotFound))
	// Output:
	// applied <nil>
	// stale <nil>
	// stale <nil>
	// true
}

// A compare-and-set that expected another version changes nothing and
// says which version to retry with.
func ExampleConflictError() {
	ctx := context.Background()
	s := memstore.NewRecordStore()
	r, _ := s.CompareAndSet(ctx, "acct", "cart", 0, map[string]any{"items": 1})
	_, err := s.CompareAndSet(ctx, "acct", "cart", 0, map[string]any{"items": 5})
	var ce *recordstore.ConflictError
	if errors.As(err, &ce) {
		fmt.Println("conflict; current version", ce.Current)
		r, err = s.CompareAndSet(ctx, "acct", "cart", ce.Current, map[string]any{"items": 5})
	}
	fmt.Println(r.Version, r.Data["items"], err)
	// Output:
	// conflict; current version 1
	// 2 5 <nil>
}

// Validation names the field and never quotes the value.
func ExampleRecord_Canonical() {
	_, err := recordstore.Record{AccountID: "acct", ID: "r", Version: 1,
		Data: map[string]any{"prefs": map[string]any{"$theme": "dark"}}}.Canonical()
	fmt.Println(errors.Is(err, recordstore.ErrInvalidRecord))
	fmt.Println(err)
	// Output:
	// true
	// flagmigrate: invalid record: Data.prefs["$theme"]: key starts with "$"
}
