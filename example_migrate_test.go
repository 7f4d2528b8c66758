package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// exampleEvent is the event the examples store.
var exampleEvent = flagmigrate.Event{
	AccountID: "acct-1", ID: "evt-1", Type: "signup",
	Time: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC), Data: map[string]any{"plan": "pro"},
}

// A service wraps its current store at construction, then moves accounts
// by turning flags (in production a LaunchDarkly client through package
// ldflags, see its example; here package flagtest's fake): acct-1 writes
// both stores, reads both and compares.
func ExampleNewMigratingStore() {
	keys := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New().Set(keys.OldWrite, true).Set(keys.OldRead, true).
		Set(keys.NewWrite, false).SetFor(keys.NewWrite, "acct-1", true).
		Set(keys.NewRead, false).SetFor(keys.NewRead, "acct-1", true)
	oldStore, newStore := memstore.New(), memstore.New() // MongoDB and DynamoDB in production
	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	ctx := context.Background()
	if err := store.StoreEvent(ctx, exampleEvent); err != nil {
		fmt.Println(err)
		return
	}
	evt, err := store.FindEventByID(ctx, "acct-1", "evt-1")
	fmt.Println(evt.Data["plan"], err)
	fmt.Println("old store:", oldStore.Len(), "new store:", newStore.Len())
	// Output:
	// pro <nil>
	// old store: 1 new store: 1
}

// Stage mode routes by one migration flag, as LaunchDarkly's Migrator does,
// and reports each operation's measurements to the flag client's tracker
// (with package ldflags, back to LaunchDarkly with TrackMigrationOp).
func ExampleWithStageFlag() {
	flags := flagtest.New().SetStage("events-migration", migration.StageLive)
	oldStore, newStore := memstore.New(), memstore.New()
	store, _ := flagmigrate.NewMigratingStore(oldStore, newStore, flags, flagmigrate.WithStageFlag("events-migration"))
	defer store.Close()

	_ = store.StoreEvent(context.Background(), exampleEvent)
	_, err := store.FindEventByID(context.Background(), "acct-1", "evt-1")
	fmt.Println("read:", err)
	for _, op := range flags.MigrationOps() {
		kind := "read"
		if op.Write {
			kind = "write"
		}
		consistent := op.Consistent != nil && *op.Consistent
		fmt.Printf("%s: invoked %v, consistent %v\n", kind, op.Invoked, consistent)
	}
	// Output:
	// read: <nil>
	// write: invoked [old new], consistent false
	// read: invoked [old new], consistent true
}

// profiles is a DAO of a service's own, migrated with the generic core.
type profiles interface {
	Get(ctx context.Context, id string) (string, error)
	Put(ctx context.Context, id, name string) error
}

// Any DAO can be migrated: Write and Read route one call each.
func ExampleNewMigration() {
	oldDAO, newDAO := newMemProfiles(), newMemProfiles()
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", true).
		Set("events-mongo-read", true).Set("events-dynamo-read", true)
	m, err := flagmigrate.NewMigration[profiles](oldDAO, newDAO, flags,
		flagmigrate.WithNotFound(func(err error) bool { return errors.Is(err, errNoProfile) }),
		flagmigrate.WithObserver(migration.Observer{Compared: func(_ context.Context, c migration.Comparison) {
			if c.Verdict != migration.VerdictMatch {
				fmt.Println("mismatch:", c.Op, c.Key, c.Verdict)
			}
		}}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	put := func(id, name string) error {
		return flagmigrate.Write(ctx, m, flagmigrate.Call{Op: "Put", AccountID: "acct-1", Key: id},
			func(ctx context.Context, dao profiles) error { return dao.Put(ctx, id, name) })
	}
	get := func(id string) (string, error) {
		return flagmigrate.Read(ctx, m, flagmigrate.Call{Op: "Get", AccountID: "acct-1", Key: id},
			func(ctx context.Context, dao profiles) (string, error) { return dao.Get(ctx, id) })
	}
	_ = put("p1", "Ada")
	_ = oldDAO.Put(ctx, "p2", "Grace") // written before the migration began
	fmt.Println(get("p1"))
	fmt.Println(get("p2"))
	// Output:
	// Ada <nil>
	// mismatch: Get p2 missing_in_new
	// Grace <nil>
}

// Write and Read are the two entry points of the generic core.
func ExampleWrite() {
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", false)
	m, _ := flagmigrate.NewMigration[flagmigrate.EventStore](memstore.New(), memstore.New(), flags)
	err := flagmigrate.Write(context.Background(), m, flagmigrate.Call{Op: "StoreEvent", AccountID: "acct-1", Key: "evt-1"},
		func(ctx context.Context, s flagmigrate.EventStore) error { return s.StoreEvent(ctx, exampleEvent) })
	fmt.Println(err)
	// Output: <nil>
}

// Read returns the authoritative store's result; with both read flags on it
// compares the other store's.
func ExampleRead() {
	old := memstore.New()
	_ = old.StoreEvent(context.Background(), exampleEvent)
	flags := flagtest.New().Set("events-mongo-read", true).Set("events-dynamo-read", false)
	m, _ := flagmigrate.NewMigration[flagmigrate.EventStore](old, memstore.New(), flags)
	evt, err := flagmigrate.Read(context.Background(), m, flagmigrate.Call{Op: "FindEventByID", AccountID: "acct-1", Key: "evt-1"},
		func(ctx context.Context, s flagmigrate.EventStore) (flagmigrate.Event, error) {
			return s.FindEventByID(ctx, "acct-1", "evt-1")
		})
	fmt.Println(evt.Type, err)
	// Output: signup <nil>
}

// In shadow mode the incumbent's answer returns at once; the candidate is
// read and compared in the background. Close waits for what is in flight.
func ExampleWithShadowReads() {
	stats := &flagtest.Stats{}
	flags := flagtest.New().Set("events-mongo-read", true).Set("events-dynamo-read", true)
	old := memstore.New()
	_ = old.StoreEvent(context.Background(), exampleEvent)
	store, _ := flagmigrate.NewMigratingStore(old, memstore.New(), flags,
		flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{Timeout: time.Second, MaxInFlight: 100}),
		flagmigrate.WithObserver(stats.Observer()))

	evt, err := store.FindEventByID(context.Background(), "acct-1", "evt-1")
	fmt.Println(evt.ID, err)
	_ = store.Close()
	fmt.Println(stats.Snapshot().Verdicts)
	// Output:
	// evt-1 <nil>
	// map[{FindEventByID missing_in_new}:1]
}

// The default observer logs which fields differ, not their values.
func ExampleSlogObserver() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	o := flagmigrate.SlogObserver(flagmigrate.SlogOptions{Logger: logger})
	o.Compared(context.Background(), migration.Comparison{
		Call: flagmigrate.Call{Op: "FindEventByID", AccountID: "acct-1", Key: "evt-1"}, Verdict: migration.VerdictDifferent,
		Paths: []string{`Data["email"]`}, Served: migration.SideOld,
		Old: "alice@example.com", New: "bob@example.com",
	})
	// Output:
	// level=WARN msg="flagmigrate: old and new stores differ" op=FindEventByID account=acct-1 key=evt-1 verdict=different served=old shadow=false paths="[Data[\"email\"]]"
}

// A FlagState tells whether four flag values are safe together.
func ExampleFlagState_Danger() {
	fmt.Printf("%q\n", migration.FlagState{OldWrite: true, NewWrite: true, OldRead: true}.Danger())
	fmt.Println(migration.FlagState{OldWrite: true, NewRead: true}.Danger())
	// Output:
	// ""
	// new_read_not_written
}

// Writes that reach the authoritative store only are kept for repair.
func ExampleWithRepairLog() {
	repairs := repairlog.NewMemory(1000)
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", true)
	store, _ := flagmigrate.NewMigratingStore(memstore.New(), brokenStore{}, flags,
		flagmigrate.WithRepairLog(repairs), flagmigrate.WithObserver(migration.Observer{}))
	fmt.Println(store.StoreEvent(context.Background(), exampleEvent))
	for _, e := range repairs.Entries() {
		fmt.Printf("%s %s/%s: copy from %s to %s (%s)\n", e.Op, e.AccountID, e.Key, e.Source, e.Target, e.Error)
	}
	// Output:
	// <nil>
	// StoreEvent acct-1/evt-1: copy from old to new (dynamodb unavailable)
}

type brokenStore struct{ flagmigrate.EventStore }

func (brokenStore) StoreEvent(context.Context, flagmigrate.Event) error {
	return errors.New("dynamodb unavailable")
}

// Concurrent writes take the time of the slower store instead of the sum.
func ExampleWithConcurrentWrites() {
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", true).
		Set("events-mongo-read", true).Set("events-dynamo-read", false)
	oldStore, newStore := memstore.New(), memstore.New()
	store, _ := flagmigrate.NewMigratingStore(oldStore, newStore, flags, flagmigrate.WithConcurrentWrites())
	fmt.Println(store.StoreEvent(context.Background(), exampleEvent), oldStore.Len(), newStore.Len())
	// Output: <nil> 1 1
}
