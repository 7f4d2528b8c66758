package backfill_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/migration"
)

// A MigratingStore dual-writes new events, and writes old ones again, while
// the backfill copies MongoDB into DynamoDB: no errors, no false conflicts,
// and the stores agree at the end.
func TestBackfillDuringDualWritesOnRealServers(t *testing.T) {
	old, _ := realstores.Mongo(t)
	nu, _ := realstores.Dynamo(t, nil)
	var history []flagmigrate.Event
	for i := range 600 {
		history = append(history, fixture.Nth(fmt.Sprintf("acct-%d", i%6), fmt.Sprintf("h-%04d", i), i))
	}
	if _, err := old.StoreEvents(t.Context(), history); err != nil {
		t.Fatal(err)
	}
	keys := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New().Set(keys.OldWrite, true).Set(keys.NewWrite, true).Set(keys.OldRead, true)
	ms, err := flagmigrate.NewMigratingStore(old, nu, flags, flagmigrate.WithObserver(migration.Observer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var writes, writeErrs atomic.Int64
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				e := history[(i*37+w*11)%len(history)] // an old event, written again
				if i%2 == 0 {
					e = fixture.Nth(fmt.Sprintf("acct-%d", i%6), fmt.Sprintf("new-%d-%05d", w, i), i)
				}
				if err := ms.StoreEvent(t.Context(), e); err != nil {
					writeErrs.Add(1)
					t.Errorf("dual write: %v", err)
				}
				writes.Add(1)
			}
		})
	}
	st, err := backfill.Run(t.Context(), old, nu, backfill.Options{BatchSize: 25})
	stop()
	wg.Wait()
	if err != nil || st.Conflicts != 0 || st.Errors != 0 || writeErrs.Load() != 0 {
		t.Fatalf("backfill during dual writes: %+v, err %v, %d of %d dual writes failed", st, err, writeErrs.Load(), writes.Load())
	}
	if writes.Load() == 0 {
		t.Fatal("no dual write ran during the backfill")
	}
	r, err := backfill.Verify(t.Context(), old, nu, backfill.VerifyOptions{})
	if err != nil || !r.Clean() {
		t.Fatalf("verify: %s, %v", r, err)
	}
	t.Logf("backfill %+v alongside %d dual writes; verify %s", st, writes.Load(), r)
}
