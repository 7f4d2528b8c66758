package records_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/records"
	"github.com/flagmigrate/flagmigrate/recordstore"
	"github.com/flagmigrate/flagmigrate/repairlog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errFlaky = errors.New("secondary write failed")

// flaky is a record store whose put-if-newer writes (the secondary's, in
// a MigratingStore) fail at a rate, drawn from its own seeded source.
type flaky struct {
	*memstore.RecordStore
	mu   sync.Mutex
	r    *rand.Rand
	rate float64
}

func (f *flaky) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r.Float64() < f.rate
}

func (f *flaky) PutIfNewer(ctx context.Context, rec recordstore.Record) (recordstore.PutOutcome, error) {
	if f.fail() {
		return "", errFlaky
	}
	return f.RecordStore.PutIfNewer(ctx, rec)
}

func (f *flaky) DeleteIfNewer(ctx context.Context, accountID, id string, version int64) (recordstore.PutOutcome, error) {
	if f.fail() {
		return "", errFlaky
	}
	return f.RecordStore.DeleteIfNewer(ctx, accountID, id, version)
}

// stages are the migration's stages in the order a rollout walks them.
var stages = []migration.Stage{
	migration.StageOff, migration.StageDualWrite, migration.StageShadow, migration.StageLive, migration.StageRampDown,
}

// TestConcurrentUpdatesConverge: 8 goroutines do read-modify-write
// increments of four hot records, and create and delete others, through a
// records MigratingStore at every stage from off to rampdown, while a
// backfill copies the old store into the new one during dual writes and 5%
// of the secondary's writes fail. Between stages (before authority moves,
// as an operator does) the repair log is replayed. Then the stores verify
// clean (no key missing, behind or different), each hot record's counter
// in both stores equals the increments acknowledged, and no deleted
// record is back.
func TestConcurrentUpdatesConverge(t *testing.T) {
	t.Parallel()
	const workers, opsPerStage, hot = 8, 60, 4
	oldMem, newMem := memstore.NewRecordStore(), memstore.NewRecordStore()
	old := &flaky{RecordStore: oldMem, r: rand.New(rand.NewPCG(1, 2)), rate: 0.05}
	nu := &flaky{RecordStore: newMem, r: rand.New(rand.NewPCG(3, 4)), rate: 0.05}
	flags := flagtest.New()
	log := repairlog.NewMemory(0)
	store, err := records.NewMigratingStore(old, nu, flags, flagmigrate.WithStageFlag("records-migration"),
		flagmigrate.WithRepairLog(log), flagmigrate.WithObserver(migration.Observer{}),
		flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: -1}))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := t.Context()

	var acked [hot]atomic.Int64 // increments acknowledged per hot record
	var delMu sync.Mutex
	deleted := map[string]bool{} // deletes acknowledged
	var created atomic.Int64

	for _, stage := range stages {
		flags.SetStage("records-migration", stage)
		var wg sync.WaitGroup
		backfilled := make(chan error, 1)
		if stage == migration.StageDualWrite {
			go func() {
				_, err := backfill.CopyRecords(ctx, oldMem, newMem, nil, nil)
				backfilled <- err
			}()
		} else {
			backfilled <- nil
		}
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), uint64(len(stage))))
				for range opsPerStage {
					if r.IntN(5) > 0 { // an increment of a hot record
						h := r.IntN(hot)
						_, err := store.Update(ctx, "acct", fmt.Sprintf("hot-%d", h), func(cur recordstore.Record, _ bool) (map[string]any, error) {
							n, _ := cur.Data["n"].(int64)
							return map[string]any{"n": n + 1}, nil
						})
						if err == nil {
							acked[h].Add(1)
						} else if !errors.Is(err, recordstore.ErrVersionConflict) {
							t.Errorf("%s: update: %v", stage, err)
						}
						continue
					}
					// A record created and deleted.
					id := fmt.Sprintf("tmp-%d", created.Add(1))
					rec, err := store.CompareAndSet(ctx, "acct", id, 0, map[string]any{"by": int64(w)})
					if err != nil {
						t.Errorf("%s: create %s: %v", stage, id, err)
						continue
					}
					if _, err := store.CompareAndDelete(ctx, "acct", id, rec.Version); err != nil {
						t.Errorf("%s: delete %s: %v", stage, id, err)
						continue
					}
					delMu.Lock()
					deleted[id] = true
					delMu.Unlock()
				}
			}()
		}
		wg.Wait()
		if err := <-backfilled; err != nil {
			t.Fatalf("%s: backfill: %v", stage, err)
		}
		// Before authority moves (and at the end), the repair log is
		// replayed, as the rollout guide says.
		if _, err := backfill.RepairRecords(ctx, log.RepairEntries(ctx), oldMem, newMem, nil); err != nil {
			t.Fatalf("%s: repair: %v", stage, err)
		}
	}

	report, err := backfill.VerifyRecords(ctx, oldMem, newMem, backfill.RecordVerifyOptions{Settle: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !report.Clean() {
		t.Errorf("verify: %s %v", report, report.Keys)
	}
	for h := range hot {
		id := fmt.Sprintf("hot-%d", h)
		for name, s := range map[string]*memstore.RecordStore{"old": oldMem, "new": newMem} {
			rec, err := s.Get(ctx, "acct", id)
			if n, _ := rec.Data["n"].(int64); err != nil || n != acked[h].Load() {
				t.Errorf("%s store: %s counts %d (%v), want the %d increments acknowledged", name, id, n, err, acked[h].Load())
			}
		}
	}
	for id := range deleted {
		for name, s := range map[string]*memstore.RecordStore{"old": oldMem, "new": newMem} {
			if _, err := s.Get(ctx, "acct", id); !errors.Is(err, recordstore.ErrNotFound) {
				t.Errorf("%s store: deleted %s is back: %v", name, id, err)
			}
		}
	}
	if log.Len() == 0 {
		t.Error("no secondary write failed: the test did not test repair")
	}
	t.Logf("%d increments, %d records created and deleted, %d repair entries; verify: %s",
		acked[0].Load()+acked[1].Load()+acked[2].Load()+acked[3].Load(), len(deleted), log.Len(), report)
}
