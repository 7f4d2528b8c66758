package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
)

// A delete reaches both stores, even one whose write flag is off (it may
// hold a backfilled copy), and its tombstone refuses a copy made before it.
func ExampleMigratingStore_DeleteEvent() {
	ctx := context.Background()
	old, nu := memstore.New(), memstore.New()
	evt := flagmigrate.Event{AccountID: "acct-1", ID: "evt-1", Type: "signup", Time: time.UnixMilli(0)}
	_ = old.StoreEvent(ctx, evt)
	_ = nu.StoreEvent(ctx, evt) // copied by a backfill
	k := flagmigrate.DefaultFlagKeys()
	s, err := flagmigrate.NewMigratingStore(old, nu, flagtest.New().Set(k.OldWrite, true))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.DeleteEvent(ctx, "acct-1", "evt-1"); err != nil {
		fmt.Println(err)
	}
	_, errOld := old.FindEventByID(ctx, "acct-1", "evt-1")
	_, errNew := nu.FindEventByID(ctx, "acct-1", "evt-1")
	fmt.Println(errors.Is(errOld, flagmigrate.ErrNotFound), errors.Is(errNew, flagmigrate.ErrNotFound))
	// A backfill that read the event before the delete writes it now:
	fmt.Println(errors.Is(nu.StoreEvent(ctx, evt), flagmigrate.ErrDeleted))
	// Output:
	// true true
	// true
}

// Erasing an account removes its events from both stores and returns the
// IDs either held.
func ExampleMigratingStore_EraseAccount() {
	ctx := context.Background()
	old, nu := memstore.New(), memstore.New()
	for _, id := range []string{"a", "b"} {
		_ = old.StoreEvent(ctx, flagmigrate.Event{AccountID: "leaving", ID: id, Type: "t", Time: time.UnixMilli(0)})
	}
	_ = nu.StoreEvent(ctx, flagmigrate.Event{AccountID: "leaving", ID: "c", Type: "t", Time: time.UnixMilli(0)})
	k := flagmigrate.DefaultFlagKeys()
	s, err := flagmigrate.NewMigratingStore(old, nu, flagtest.New().Set(k.OldWrite, true).Set(k.NewWrite, true))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ids, err := s.EraseAccount(ctx, "leaving")
	fmt.Println(ids, err, old.Len(), nu.Len())
	// Output:
	// [a b c] <nil> 0 0
}
