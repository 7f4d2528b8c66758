package repairlog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "repairlog")
	defer os.RemoveAll(dir)
	log, err := repairlog.Open(filepath.Join(dir, "repair.jsonl"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()

	// A MigratingStore records here (flagmigrate.WithRepairLog(log)) each
	// write that reached one store only.
	_ = log.Record(context.Background(), migration.RepairEntry{
		Call:   migration.Call{Op: eventstore.OpStoreEvent, AccountID: "acct-1", Key: "evt-1"},
		Time:   time.Now(),
		Target: migration.SideNew, Source: migration.SideOld, Error: "dynamodb: throttled",
	})

	// The repair replays them: copy each event from Source to Target.
	for e, err := range log.RepairEntries(context.Background()) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("copy %s/%s from %s to %s\n", e.AccountID, e.Key, e.Source, e.Target)
	}
	// Output: copy acct-1/evt-1 from old to new
}

// An erasure request: the account's entries leave the log file, the
// others stay.
func ExampleEraseAccount() {
	dir, _ := os.MkdirTemp("", "repairlog")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "repair.jsonl")
	log, err := repairlog.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer log.Close()
	for _, account := range []string{"leaving", "staying"} {
		_ = log.Record(context.Background(), migration.RepairEntry{Call: migration.Call{Op: eventstore.OpStoreEvent, AccountID: account, Key: "e1"},
			Target: migration.SideNew, Source: migration.SideOld, Error: "timeout"})
	}
	n, err := repairlog.EraseAccount(context.Background(), path, "leaving")
	fmt.Println(n, err)
	for e := range repairlog.ReadFile(context.Background(), path) {
		fmt.Println(e.AccountID)
	}
	// Output:
	// 1 <nil>
	// staying
}
