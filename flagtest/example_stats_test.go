package flagtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
)

// Stats counts what the store does, for tests and small services.
func ExampleStats() {
	stats := &flagtest.Stats{}
	store, _ := flagmigrate.NewMigratingStore(memstore.New(), memstore.New(), flagtest.New(), flagmigrate.WithObserver(stats.Observer()))
	_ = store.StoreEvent(context.Background(), statsEvent)
	_, _ = store.FindEventByID(context.Background(), "acct-1", "evt-1")
	s := stats.Snapshot()
	fmt.Println(s.FlagFailures, "flag failures (no flags set: old store only)")
	for k, v := range s.Calls {
		fmt.Println(k.Op, k.Side, k.Role, k.Outcome, v.Count)
	}
	// Unordered output:
	// 4 flag failures (no flags set: old store only)
	// StoreEvent old authoritative ok 1
	// FindEventByID old authoritative ok 1
}

var statsEvent = flagmigrate.Event{AccountID: "acct-1", ID: "evt-1", Type: "signup", Time: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}
