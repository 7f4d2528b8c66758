package flagmigrate_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/ldflags"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/testhelpers/ldtestdata"
)

// The benchmarks run every contender side by side in one benchmark, on the
// same stores and the same LaunchDarkly client (ldtestdata, no events, no
// network), and report each one's figures and the ratios between them:
//
//	go test -run '^$' -bench 'OldOnlyOverhead|ShadowLatency|DualReadLatency|ShadowAdded' -benchtime 2000x .

const benchStageKey = "events-migration"

type benchKey struct{ account, id string }

// benchClient returns a client routing every account to the old store: the
// four flags (old on, new off) and a migration flag at stage.
func benchClient(b *testing.B, readBoth bool, stage ldmigration.Stage) *ldclient.LDClient {
	k := flagmigrate.DefaultFlagKeys()
	td := ldtestdata.DataSource()
	td.Update(td.Flag(k.OldWrite).VariationForAll(true))
	td.Update(td.Flag(k.NewWrite).VariationForAll(false))
	td.Update(td.Flag(k.OldRead).VariationForAll(true))
	td.Update(td.Flag(k.NewRead).VariationForAll(readBoth))
	td.Update(td.Flag(benchStageKey).ValueForAll(ldvalue.String(string(stage))))
	return testutil.NewLDClient(b, td)
}

// benchMigrator is LaunchDarkly's Migrator over the same pair of stores.
func benchMigrator(b *testing.B, client *ldclient.LDClient, old, new flagmigrate.EventStore, order ldmigration.ExecutionOrder) ldclient.Migrator {
	read := func(s flagmigrate.EventStore) ldclient.MigrationImplFn {
		return func(p any) (any, error) {
			k := p.(benchKey)
			return s.FindEventByID(context.Background(), k.account, k.id)
		}
	}
	write := func(s flagmigrate.EventStore) ldclient.MigrationImplFn {
		return func(p any) (any, error) { return nil, s.StoreEvent(context.Background(), p.(flagmigrate.Event)) }
	}
	equal := ldclient.MigrationComparisonFn(func(a, b any) bool { return cmp.Equal(a, b) })
	m, err := ldclient.Migration(client).ReadExecutionOrder(order).
		Read(read(old), read(new), &equal).Write(write(old), write(new)).Build()
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// interleave runs each op n times in rounds, the ops taking turns so that
// drift (GC, frequency, neighbours) weighs on all alike, and returns each
// one's mean time and allocations per call.
func interleave(n int, ops []func()) (nsPerOp, allocsPerOp []float64) {
	const rounds = 20
	per := max(1, n/rounds)
	total := make([]time.Duration, len(ops))
	mallocs := make([]uint64, len(ops))
	var before, after runtime.MemStats
	for range rounds {
		for i, op := range ops {
			runtime.ReadMemStats(&before)
			start := time.Now()
			for range per {
				op()
			}
			total[i] += time.Since(start)
			runtime.ReadMemStats(&after)
			mallocs[i] += after.Mallocs - before.Mallocs
		}
	}
	for i := range ops {
		nsPerOp = append(nsPerOp, float64(total[i].Nanoseconds())/float64(per*rounds))
		allocsPerOp = append(allocsPerOp, float64(mallocs[i])/float64(per*rounds))
	}
	return nsPerOp, allocsPerOp
}

// BenchmarkOldOnlyOverhead: the cost of routing a call to the old store
// only, against calling the store directly and against LaunchDarkly's
// Migrator at stage off. Reported per contender in ns/op and allocs/op, and
// as the ratio of our overhead to the Migrator's (target < 1).
func BenchmarkOldOnlyOverhead(b *testing.B) {
	client := benchClient(b, false, ldmigration.Off)
	old, new := memstore.New(), memstore.New()
	evt := fixture.WithValue("acct-1", "e1", 1)
	if err := old.StoreEvent(context.Background(), evt); err != nil {
		b.Fatal(err)
	}
	quiet := []flagmigrate.Option{flagmigrate.WithObserver(migration.Observer{})}
	flags4, _ := flagmigrate.NewMigratingStore(old, new, ldflags.New(client), quiet...)
	stage, _ := flagmigrate.NewMigratingStore(old, new, ldflags.New(client), append(quiet, flagmigrate.WithStageFlag(benchStageKey))...)
	defaults, _ := flagmigrate.NewMigratingStore(old, new, ldflags.New(client)) // slog observer, routing check
	migrator := benchMigrator(b, client, old, new, ldmigration.Concurrent)
	ctx := context.Background()
	key := benchKey{"acct-1", "e1"}
	// A hand-written router doing the same work as ours: build the
	// account's context and evaluate the two flags of the operation.
	k := flagmigrate.DefaultFlagKeys()
	handRoute := func(acct, oldKey, newKey string) bool {
		lc := ldflags.AccountContext(acct)
		o, _ := client.BoolVariationCtx(ctx, oldKey, lc, false)
		n, _ := client.BoolVariationCtx(ctx, newKey, lc, false)
		return n && !o
	}

	type contender struct {
		name        string
		read, write func()
	}
	contenders := []contender{
		{"direct", func() { _, _ = old.FindEventByID(ctx, "acct-1", "e1") }, func() { _ = old.StoreEvent(ctx, evt) }},
		{"handwritten", func() {
			if handRoute("acct-1", k.OldRead, k.NewRead) {
				_, _ = new.FindEventByID(ctx, "acct-1", "e1")
			} else {
				_, _ = old.FindEventByID(ctx, "acct-1", "e1")
			}
		}, func() {
			if handRoute(evt.AccountID, k.OldWrite, k.NewWrite) {
				_ = new.StoreEvent(ctx, evt)
			} else {
				_ = old.StoreEvent(ctx, evt)
			}
		}},
		{"flags", func() { _, _ = flags4.FindEventByID(ctx, "acct-1", "e1") }, func() { _ = flags4.StoreEvent(ctx, evt) }},
		{"flags-defaults", func() { _, _ = defaults.FindEventByID(ctx, "acct-1", "e1") }, func() { _ = defaults.StoreEvent(ctx, evt) }},
		{"stage", func() { _, _ = stage.FindEventByID(ctx, "acct-1", "e1") }, func() { _ = stage.StoreEvent(ctx, evt) }},
		// The Migrator builds the account's context per call, as a caller must.
		{"ldmigrator", func() { migrator.Read(benchStageKey, ldflags.AccountContext(key.account), ldmigration.Off, key) },
			func() { migrator.Write(benchStageKey, ldflags.AccountContext(evt.AccountID), ldmigration.Off, evt) }},
	}
	b.ResetTimer()
	for _, op := range []string{"read", "write"} {
		var fns []func()
		for _, c := range contenders {
			fn := c.read
			if op == "write" {
				fn = c.write
			}
			fn() // warm up
			fns = append(fns, fn)
		}
		nsPerOp, allocs := interleave(b.N, fns)
		ns := map[string]float64{}
		for i, c := range contenders {
			ns[c.name] = nsPerOp[i]
			b.ReportMetric(nsPerOp[i], op+"-"+c.name+"-ns/op")
			b.ReportMetric(allocs[i], op+"-"+c.name+"-allocs/op")
		}
		direct, mig := ns["direct"], ns["ldmigrator"]-ns["direct"]
		b.ReportMetric((ns["flags"]-direct)/mig, op+"-flags/ldmigrator-overhead")
		b.ReportMetric(ns["flags"]-ns["handwritten"], op+"-flags-minus-handwritten-ns")
		b.ReportMetric((ns["flags"]-direct)/(ns["handwritten"]-direct), op+"-flags/handwritten-overhead")
		b.ReportMetric((ns["flags-defaults"]-direct)/mig, op+"-flags-defaults/ldmigrator-overhead")
		b.ReportMetric((ns["stage"]-direct)/mig, op+"-stage/ldmigrator-overhead")
	}
	b.ReportMetric(0, "ns/op") // the per-contender figures above are the result
}

// BenchmarkShadowLatency: the read latency seen by callers when the
// candidate store is 10x slower than the incumbent (injected), for the
// incumbent alone, our shadow mode, and LaunchDarkly's Migrator at stage
// shadow with concurrent reads. Reports p50/p99 in µs and the ratios
// shadow/incumbent (target p99 <= 1.1) and shadow/Migrator. Two incumbents:
// 200µs (an in-memory or same-host store) and 1ms (a database read over a
// network); shadow mode adds about the same absolute time to both, mostly
// the wake-up of the worker thread that takes the candidate read.
func BenchmarkShadowLatency(b *testing.B) {
	for _, d := range []time.Duration{200 * time.Microsecond, time.Millisecond} {
		b.Run("incumbent="+d.String(), func(b *testing.B) { benchShadowLatency(b, d, 10*d) })
	}
}

func benchShadowLatency(b *testing.B, incumbentDelay, candidateDelay time.Duration) {
	client := benchClient(b, true, ldmigration.Shadow)
	oldMem, newMem := memstore.New(), memstore.New()
	evt := fixture.WithValue("acct-1", "e1", 1)
	for _, s := range []*memstore.Store{oldMem, newMem} {
		if err := s.StoreEvent(context.Background(), evt); err != nil {
			b.Fatal(err)
		}
	}
	// The incumbent's delay is a busy wait: timers on a loaded machine can
	// be a millisecond late. The candidate sleeps, as a store waiting on I/O.
	old := testutil.NewFaultStore("old", oldMem, nil).Set("", testutil.Fault{Delay: incumbentDelay, Spin: true})
	new := testutil.NewFaultStore("new", newMem, nil).Set("", testutil.Fault{Delay: candidateDelay})
	stats := &flagtest.Stats{}
	shadow, _ := flagmigrate.NewMigratingStore(old, new, ldflags.New(client), flagmigrate.WithObserver(stats.Observer()),
		flagmigrate.WithShadowReads(flagmigrate.ShadowOptions{Timeout: time.Second, MaxInFlight: 256}))
	defer shadow.Close()
	migrator := benchMigrator(b, client, old, new, ldmigration.Concurrent)
	ctx := context.Background()
	key := benchKey{"acct-1", "e1"}

	contenders := []struct {
		name string
		read func()
	}{
		{"incumbent", func() { _, _ = old.FindEventByID(ctx, "acct-1", "e1") }},
		{"shadow", func() { _, _ = shadow.FindEventByID(ctx, "acct-1", "e1") }},
		{"ldmigrator", func() { migrator.Read(benchStageKey, ldflags.AccountContext(key.account), ldmigration.Shadow, key) }},
	}
	// Blocks of reads, the contenders taking turns so that the machine's
	// noise weighs on all alike; shadow work is flushed after each block so
	// that it never overlaps another contender's block. Besides the
	// percentiles of all reads, p99-med is the median over the rounds of each
	// round's p99: it discounts bursts of noise from other processes, which
	// hit one round of one contender.
	const rounds = 20
	per := max(1, b.N/rounds)
	lat := make([][]time.Duration, len(contenders))
	roundP99 := make([][]time.Duration, len(contenders))
	b.ResetTimer()
	for range rounds {
		for i, c := range contenders {
			block := make([]time.Duration, 0, per)
			for range per {
				start := time.Now()
				c.read()
				block = append(block, time.Since(start))
			}
			_ = shadow.Flush(ctx)
			lat[i] = append(lat[i], block...)
			slices.Sort(block)
			roundP99[i] = append(roundP99[i], block[len(block)*99/100])
		}
	}
	p50, p99, p99med := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for i, c := range contenders {
		l := lat[i]
		slices.Sort(l)
		slices.Sort(roundP99[i])
		p50[c.name] = float64(l[len(l)/2].Microseconds())
		p99[c.name] = float64(l[len(l)*99/100].Microseconds())
		p99med[c.name] = float64(roundP99[i][rounds/2].Microseconds())
		b.ReportMetric(p50[c.name], c.name+"-p50-µs")
		b.ReportMetric(float64(l[len(l)*90/100].Microseconds()), c.name+"-p90-µs")
		b.ReportMetric(p99[c.name], c.name+"-p99-µs")
		b.ReportMetric(p99med[c.name], c.name+"-p99med-µs")
	}
	b.ReportMetric(p99med["shadow"]/p99med["incumbent"], "shadow/incumbent-p99med")
	b.ReportMetric(p50["shadow"]/p50["incumbent"], "shadow/incumbent-p50")
	b.ReportMetric(p99["shadow"]/p99["incumbent"], "shadow/incumbent-p99")
	b.ReportMetric(p99["shadow"]/p99["ldmigrator"], "shadow/ldmigrator-p99")
	s := stats.Snapshot()
	var compared int64
	for _, n := range s.Verdicts {
		compared += n
	}
	b.ReportMetric(float64(compared), "shadow-compared")
	b.ReportMetric(float64(s.Dropped[migration.DropFull]), "shadow-dropped")
	b.ReportMetric(0, "ns/op")
}
