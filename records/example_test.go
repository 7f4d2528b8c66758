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
