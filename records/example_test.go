package records_test

import (
	"context"
	"fmt"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/records"
	"github.com/flagmigrate/flagmigrate/recordstore"
)

// A settings service's records, dual-written and dual-read: an update is a
// read-modify-write that the authoritative store versions, and the other
// store receives that version. A read of both compares versions too: a
// store behind (a write it has not received yet) is told apart from one
// that holds other data under the same version.
func ExampleMigratingStore() {
	ctx := context.Background()
	flags := flagtest.New().SetStage("settings-migration", migration.StageShadow)
	oldStore, newStore := memstore.NewRecordStore(), memstore.NewRecordStore()
	verdicts := migration.Observer{Compared: func(_ context.Context, c migration.Comparison) {
		fmt.Println("compared:", c.Verdict, c.Paths)
	}}
	store, err := records.NewMigratingStore(oldStore, newStore, flags,
		flagmigrate.WithStageFlag("settings-migration"), flagmigrate.WithObserver(verdicts))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	theme := func(to string) func(recordstore.Record, bool) (map[string]any, error) {
		return func(recordstore.Record, bool) (map[string]any, error) { return map[string]any{"theme": to}, nil }
	}
	rec, _ := store.Update(ctx, "acct-1", "settings", theme("dark"))
	fmt.Println("stored version", rec.Version)

	// A write the new store missed (its secondary write failed, say):
	_, _ = oldStore.CompareAndSet(ctx, "acct-1", "settings", rec.Version, map[string]any{"theme": "light"})
	got, _ := store.Get(ctx, "acct-1", "settings")
	fmt.Println("served", got.Data["theme"], "version", got.Version)
	// Output:
	// compared: match []
	// stored version 1
	// compared: behind [Version]
	// served light version 2
}

// countLogin is the README's snippet: a service's read-modify-write.
func countLogin(ctx context.Context, oldRecords, newRecords recordstore.Store, flags *flagtest.Client) error {
	store, err := records.NewMigratingStore(oldRecords, newRecords, flags, flagmigrate.WithStageFlag("settings-migration"))
	if err != nil {
		return err
	}
	defer store.Close()
	// A read-modify-write: retried on a version conflict, versioned by the authoritative store.
	_, err = store.Update(ctx, "acct-1", "settings", func(cur recordstore.Record, exists bool) (map[string]any, error) {
		n, _ := cur.Data["logins"].(int64)
		return map[string]any{"logins": n + 1}, nil
	})
	return err
}

// Update is a read-modify-write that retries when another write wins:
// here three logins counted at the dual-write stage, in both stores.
func ExampleMigratingStore_Update() {
	ctx := context.Background()
	flags := flagtest.New().SetStage("settings-migration", migration.StageDualWrite)
	oldStore, newStore := memstore.NewRecordStore(), memstore.NewRecordStore()
	for range 3 {
		if err := countLogin(ctx, oldStore, newStore, flags); err != nil {
			fmt.Println(err)
		}
	}
	o, _ := oldStore.Get(ctx, "acct-1", "settings")
	n, _ := newStore.Get(ctx, "acct-1", "settings")
	fmt.Println(o.Data["logins"], o.Version, n.Data["logins"], n.Version)
	// Output: 3 3 3 3
}
