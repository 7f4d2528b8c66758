package flagmigrate_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
)

// ownTimeStore records how long its last FindEventByID took: the
// incumbent's own time within a call through a MigratingStore.
type ownTimeStore struct {
	flagmigrate.EventStore
	last atomic.Int64
}

func (s *ownTimeStore) FindEventByID(ctx context.Context, accountID, id string) (flagmigrate.Event, error) {
	start := time.Now()
	e, err := s.EventStore.FindEventByID(ctx, accountID, id)
	s.last.Store(int64(time.Since(start)))
	return e, err
}

// latencies runs the contenders' reads in rounds, taking turns, and returns
// each one's sorted latencies; after is called after every read with the
// contender's index and the read's latency, and may return another figure
// to collect instead (ok false keeps the latency).
func latencies(n int, reads []func(), flush func(), after func(i int, d time.Duration) (time.Duration, bool)) [][]time.Duration {
	const rounds = 20
	per := max(1, n/rounds)
	lat := make([][]time.Duration, len(reads))
	for range rounds {
		for i, read := range reads {
			for range per {
				start := time.Now()
				read()
				d := time.Since(start)
				if after != nil {
					if v, ok := after(i, d); ok {
						d = v
					}
				}
				lat[i] = append(lat[i], d)
			}
			flush()
		}
	}
	for _, l := range lat {
		slices.Sort(l)
	}
	return lat
}

func pct(l []time.Duration, p int) float64 { return float64(l[len(l)*p/100].Microseconds()) }

// BenchmarkDualReadLatency: a dual read that waits for both stores (not
// shadow) against each store alone, with a 1 ms incumbent (a busy wait, as
// a CPU-bound call) and a 1 ms candidate (a sleep, as a store waiting on
// I/O), and against LaunchDarkly's Migrator at stage shadow with
// concurrent reads. The two reads overlap when the dual read's p50 is that
// of the slower store alone (target dual/slower-p50 <= 1.1).
func BenchmarkDualReadLatency(b *testing.B) {
	client := benchClient(b, true, ldmigration.Shadow)
	oldMem, newMem := memstore.New(), memstore.New()
	evt := fixture.WithValue("acct-1", "e1", 1)
	for _, s := range []*memstore.Store{oldMem, newMem} {
		if err := s.StoreEvent(context.Background(), evt); err != nil {
			b.Fatal(err)
		}
	}
	old := testutil.NewFaultStore("old", oldMem, nil).Set("", testutil.Fault{Delay: time.Millisecond, Spin: true})
	// The candidate notes when its read starts, for the delay from the
	// dual read's start.
	var candStart atomic.Int64
	new := testutil.NewFaultStore("new", newMem, nil).Set("", testutil.Fault{Delay: time.Millisecond,
		Before: func(context.Context) error { candStart.Store(time.Now().UnixNano()); return nil }})
	dual, _ := flagmigrate.NewMigratingStore(old, new, ldflags.New(client), flagmigrate.WithObserver(migration.Observer{}))
	defer dual.Close()
	migrator := benchMigrator(b, client, old, new, ldmigration.Concurrent)
	ctx := context.Background()
	key := benchKey{"acct-1", "e1"}
	names := []string{"old", "new", "dual", "ldmigrator"}
	reads := []func(){
		func() { _, _ = old.FindEventByID(ctx, "acct-1", "e1") },
		func() { _, _ = new.FindEventByID(ctx, "acct-1", "e1") },
		func() { _, _ = dual.FindEventByID(ctx, "acct-1", "e1") },
		func() { migrator.Read(benchStageKey, ldflags.AccountContext(key.account), ldmigration.Shadow, key) },
	}
	var starts []time.Duration
	var callStart time.Time
	reads[2] = func() {
		callStart = time.Now()
		_, _ = dual.FindEventByID(ctx, "acct-1", "e1")
		starts = append(starts, time.Duration(candStart.Load()-callStart.UnixNano()))
	}
	b.ResetTimer()
	lat := latencies(b.N, reads, func() {}, nil)
	slices.Sort(starts)
	b.ReportMetric(float64(starts[len(starts)/2].Nanoseconds())/1e3, "dual-candidate-start-p50-µs")
	b.ReportMetric(float64(starts[len(starts)*9/10].Nanoseconds())/1e3, "dual-candidate-start-p90-µs")
	p50 := map[string]float64{}
	for i, n := range names {
		p50[n] = pct(lat[i], 50)
		b.ReportMetric(p50[n], n+"-p50-µs")
		b.ReportMetric(pct(lat[i], 99), n+"-p99-µs")
	}
	slower := max(p50["old"], p50["new"])
	b.ReportMetric(p50["dual"]/slower, "dual/slower-p50")
	b.ReportMetric(p50["ldmigrator"]/slower, "ldmigrator/slower-p50")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkShadowAdded: what shadow mode adds to a caller's read, measured
// in each call as the caller's latency minus the incumbent's own time in
// that call, with a 1 ms incumbent (busy wait) and a 10 ms candidate
// (sleep). Reported as percentiles in µs and as added-p99 over the
// incumbent's p50 (target < 0.05).
func BenchmarkShadowAdded(b *testing.B) {
	client := benchClient(b, true, ldmigration.Shadow)
	oldMem, newMem := memstore.New(), memstore.New()
	evt := fixture.WithValue("acct-1", "e1", 1)
	for _, s := range []*memstore.Store{oldMem, newMem} {
		if err := s.StoreEvent(context.Background(), evt); err != nil {
			b.Fatal(err)
		}
	}
	old := &ownTimeStore{EventStore: testutil.NewFaultStore("old", oldMem, nil).Set("", testutil.Fault{Delay: time.Millisecond, Spin: true})}
	new := testutil.NewFaultStore("new", newMem, nil).Set("", testutil.Fault{Delay: 10 * time.Millisecond})
	shadow, _ := flagmigrate.NewMigratingStore(old, new, ldflags.New(client), flagmigrate.WithObserver(migration.Observer{}),
		flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{Timeout: time.Second, MaxInFlight: 256}))
	defer shadow.Close()
	ctx := context.Background()
	reads := []func(){
		func() { _, _ = old.FindEventByID(ctx, "acct-1", "e1") },
		func() { _, _ = shadow.FindEventByID(ctx, "acct-1", "e1") },
	}
	b.ResetTimer()
	lat := latencies(b.N, reads, func() { _ = shadow.Flush(ctx) }, func(i int, d time.Duration) (time.Duration, bool) {
		if i == 1 {
			return d - time.Duration(old.last.Load()), true
		}
		return 0, false
	})
	inc := pct(lat[0], 50)
	b.ReportMetric(inc, "incumbent-p50-µs")
	b.ReportMetric(float64(lat[1][len(lat[1])/2].Nanoseconds())/1e3, "added-p50-µs")
	b.ReportMetric(float64(lat[1][len(lat[1])*99/100].Nanoseconds())/1e3, "added-p99-µs")
	b.ReportMetric(float64(lat[1][len(lat[1])*99/100].Nanoseconds())/1e3/inc, "added-p99/incumbent-p50")
	b.ReportMetric(0, "ns/op")
}
