package backfill_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// history returns a store holding 3 events of each of 2 accounts.
func history() *memstore.Store {
	s := memstore.New()
	for _, a := range []string{"acct-1", "acct-2"} {
		for i := range 3 {
			_ = s.StoreEvent(context.Background(), flagmigrate.Event{AccountID: a, ID: fmt.Sprint("evt-", i), Type: "login",
				Time: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC)})
		}
	}
	return s
}

// Run copies what the destination lacks; run again, it writes nothing.
func ExampleRun() {
	ctx := context.Background()
	old, new := history(), memstore.New()
	st, _ := backfill.Run(ctx, old, new, backfill.Options{})
	fmt.Printf("first run:  copied %d, skipped %d\n", st.Copied, st.Skipped)
	st, _ = backfill.Run(ctx, old, new, backfill.Options{})
	fmt.Printf("second run: copied %d, skipped %d\n", st.Copied, st.Skipped)
	// Output:
	// first run:  copied 6, skipped 0
	// second run: copied 0, skipped 6
}

// A checkpoint file makes a run resumable after a crash or Ctrl-C; one
// account at a time can be copied before its reads move.
func ExampleRun_accounts() {
	ctx := context.Background()
	old, new := history(), memstore.New()
	st, err := backfill.Run(ctx, old, new, backfill.Options{Accounts: []string{"acct-2"}, Checkpoint: &backfill.MemCheckpoint{}})
	fmt.Println(st.Copied, err, new.Len())
	// Output: 3 <nil> 3
}

// Verify reports what differs, by field path, without values by default.
func ExampleVerify() {
	ctx := context.Background()
	old, new := history(), history()
	_ = new.StoreEvent(ctx, flagmigrate.Event{AccountID: "acct-1", ID: "only-new", Type: "login", Time: time.UnixMilli(1)})
	r, _ := backfill.Verify(ctx, old, new, backfill.VerifyOptions{})
	fmt.Println(r)
	for _, d := range r.Differences {
		fmt.Println(d.Kind, d.Key.AccountID, d.Key.ID)
	}
	// Output:
	// DIFFERENCES: source 6, destination 7, matching 6, missing in destination 0, missing in source 1, different 0
	// missing_in_source acct-1 only-new
}

// Repair replays a MigratingStore's repair log.
func ExampleRepair() {
	ctx := context.Background()
	old, new := history(), memstore.New()
	log := repairlog.NewMemory(0)
	_ = log.Record(ctx, migration.RepairEntry{Call: migration.Call{Op: "StoreEvent", AccountID: "acct-1", Key: "evt-2"},
		Source: migration.SideOld, Target: migration.SideNew, Error: "timeout"})
	st, err := backfill.Repair(ctx, log.RepairEntries(ctx), old, new, nil)
	fmt.Println(st.Copied, err)
	// Output: 1 <nil>
}
