package flagmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// downStore is a store whose server is gone.
type downStore struct{ flagmigrate.EventStore }

func (downStore) StoreEvent(context.Context, flagmigrate.Event) error {
	return errors.New("connection refused")
}

// A secondary store that is down is taken as such after two failed writes
// here (five by default): later writes go straight to the repair log
// without waiting for it, and no caller sees an error.
func ExampleWithStoreBreaker() {
	k := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New().Set(k.OldWrite, true).Set(k.NewWrite, true)
	repairs := repairlog.NewMemory(0)
	s, err := flagmigrate.NewMigratingStore(memstore.New(), downStore{memstore.New()}, flags,
		flagmigrate.WithRepairLog(repairs), flagmigrate.WithObserver(migration.Observer{
			// Print the breaker's reports.
			StoreStateChanged: func(_ context.Context, s migration.StoreState) {
				fmt.Printf("the %v store: down=%v after %d failures\n", s.Side, s.Down, s.Failures)
			},
		}),
		flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: 2, Backoff: time.Hour}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for _, id := range []string{"e1", "e2", "e3", "e4"} {
		e := exampleEvent
		e.ID = id
		if err := s.StoreEvent(context.Background(), e); err != nil {
			fmt.Println(err)
		}
	}
	for _, e := range repairs.Entries() {
		fmt.Printf("%s: skipped=%v\n", e.Key, strings.HasPrefix(e.Error, flagmigrate.ErrStoreDown.Error()))
	}
	// Output:
	// the new store: down=true after 2 failures
	// e1: skipped=false
	// e2: skipped=false
	// e3: skipped=true
	// e4: skipped=true
}
