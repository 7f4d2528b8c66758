package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/records"
	"github.com/flagmigrate/flagmigrate/recordstore"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

type config struct {
	workers, ops int
	fail         float64
}

// result is what the run found at the end.
type result struct {
	report      backfill.RecordReport
	lostUpdates int64 // acknowledged increments missing from a store
	resurrected int   // deleted records found again
}

func (r result) ok() bool { return r.report.Clean() && r.lostUpdates == 0 && r.resurrected == 0 }

const (
	flagKey  = "settings-migration"
	account  = "acct-1"
	hotCount = 4
)

// flaky fails a share of a store's put-if-newer writes: the writes it
// receives as the secondary store.
type flaky struct {
	*memstore.RecordStore
	mu     sync.Mutex
	r      *rand.Rand
	rate   float64
	failed atomic.Int64
}

func (f *flaky) fails() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r.Float64() < f.rate {
		f.failed.Add(1)
		return true
	}
	return false
}

var errInjected = errors.New("injected failure")

func (f *flaky) PutIfNewer(ctx context.Context, rec recordstore.Record) (recordstore.PutOutcome, error) {
	if f.fails() {
		return "", errInjected
	}
	return f.RecordStore.PutIfNewer(ctx, rec)
}

func (f *flaky) DeleteIfNewer(ctx context.Context, accountID, id string, version int64) (recordstore.PutOutcome, error) {
	if f.fails() {
		return "", errInjected
	}
	return f.RecordStore.DeleteIfNewer(ctx, accountID, id, version)
}

func run(ctx context.Context, out io.Writer, cfg config) (result, error) {
	oldMem, newMem := memstore.NewRecordStore(), memstore.NewRecordStore()
	old := &flaky{RecordStore: oldMem, r: rand.New(rand.NewPCG(1, 1)), rate: cfg.fail}
	nu := &flaky{RecordStore: newMem, r: rand.New(rand.NewPCG(2, 2)), rate: cfg.fail}
	flags := flagtest.New()
	log := repairlog.NewMemory(0)
	var behind, different atomic.Int64
	obs := migration.Observer{Compared: func(_ context.Context, c migration.Comparison) {
		switch c.Verdict {
		case migration.VerdictBehind:
			behind.Add(1)
		case migration.VerdictDifferent:
			different.Add(1)
		}
	}}
	store, err := records.NewMigratingStore(old, nu, flags, flagmigrate.WithStageFlag(flagKey),
		flagmigrate.WithRepairLog(log), flagmigrate.WithObserver(obs),
		flagmigrate.WithStoreBreaker(flagmigrate.BreakerOptions{Failures: -1}))
	if err != nil {
		return result{}, err
	}
	defer store.Close()

	var acked [hotCount]atomic.Int64
	var mu sync.Mutex
	deleted := map[string]bool{}
	var next atomic.Int64
	stages := []migration.Stage{migration.StageOff, migration.StageDualWrite, migration.StageShadow, migration.StageLive, migration.StageRampDown}
	for _, stage := range stages {
		flags.SetStage(flagKey, stage)
		copied := make(chan error, 1)
		if stage == migration.StageDualWrite { // history, while dual writes run
			go func() {
				_, err := backfill.CopyRecords(ctx, oldMem, newMem, nil, nil)
				copied <- err
			}()
		} else {
			copied <- nil
		}
		var wg sync.WaitGroup
		errs := make(chan error, cfg.workers)
		for w := range cfg.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), uint64(len(stage))))
				for range cfg.ops {
					if r.IntN(5) > 0 {
						h := r.IntN(hotCount)
						_, err := store.Update(ctx, account, fmt.Sprintf("hot-%d", h), func(cur recordstore.Record, _ bool) (map[string]any, error) {
							n, _ := cur.Data["n"].(int64)
							return map[string]any{"n": n + 1}, nil
						})
						switch {
						case err == nil:
							acked[h].Add(1)
						case !errors.Is(err, recordstore.ErrVersionConflict):
							errs <- err
							return
						}
						continue
					}
					id := fmt.Sprintf("tmp-%d", next.Add(1))
					rec, err := store.CompareAndSet(ctx, account, id, 0, map[string]any{"theme": "dark"})
					if err == nil {
						_, err = store.CompareAndDelete(ctx, account, id, rec.Version)
					}
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					deleted[id] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return result{}, fmt.Errorf("%s: %w", stage, err)
		}
		if err := <-copied; err != nil {
			return result{}, fmt.Errorf("%s: backfill: %w", stage, err)
		}
		st, err := backfill.RepairRecords(ctx, log.RepairEntries(ctx), oldMem, newMem, nil)
		if err != nil {
			return result{}, fmt.Errorf("%s: repair: %w", stage, err)
		}
		printf(out, "%-9s secondary failures %3d, repair applied %3d; dual reads: %d behind, %d different",
			stage, old.failed.Load()+nu.failed.Load(), st.Applied, behind.Load(), different.Load())
	}

	var res result
	res.report, err = backfill.VerifyRecords(ctx, oldMem, newMem, backfill.RecordVerifyOptions{})
	if err != nil {
		return result{}, err
	}
	var total int64
	for h := range hotCount {
		total += acked[h].Load()
		for _, s := range []*memstore.RecordStore{oldMem, newMem} {
			rec, err := s.Get(ctx, account, fmt.Sprintf("hot-%d", h))
			n, _ := rec.Data["n"].(int64)
			if err != nil || n < acked[h].Load() {
				res.lostUpdates += acked[h].Load() - n
			}
		}
	}
	for id := range deleted {
		for _, s := range []*memstore.RecordStore{oldMem, newMem} {
			if _, err := s.Get(ctx, account, id); !errors.Is(err, recordstore.ErrNotFound) {
				res.resurrected++
			}
		}
	}
	printf(out, "verify: %s", res.report)
	verdict := "PASS"
	if !res.ok() {
		verdict = "FAIL"
	}
	printf(out, "%s: %d increments acknowledged, %d lost; %d records created and deleted, %d back",
		verdict, total, res.lostUpdates, len(deleted), res.resurrected)
	return res, nil
}
