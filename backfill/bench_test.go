package backfill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/dynamodao"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/internal/realstores"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"github.com/flagmigrate/flagmigrate/mongodao"
)

// BenchmarkMongoToDynamo copies the same MongoDB collection into a fresh
// DynamoDB table per iteration, with the backfill and with the naive loop
// (scan the source, one StoreEvent per event), side by side. Compare the
// events/s metrics:
//
//	scripts/servers run -- go test -run '^$' -bench MongoToDynamo -benchtime 3x ./backfill
func BenchmarkMongoToDynamo(b *testing.B) {
	const n = 2000
	src, _ := realstores.Mongo(b)
	var events []flagmigrate.Event
	for i := range n {
		events = append(events, fixture.Nth(fmt.Sprintf("acct-%02d", i%20), fmt.Sprintf("e-%05d", i), i))
	}
	if _, err := src.StoreEvents(context.Background(), events); err != nil {
		b.Fatal(err)
	}
	for _, rtt := range []time.Duration{0, 2 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%v", rtt), func(b *testing.B) { benchCopy(b, src, n, rtt) })
	}
}

func benchCopy(b *testing.B, src *mongodao.Store, n int, rtt time.Duration) {
	client := testutil.DynamoClient(b)
	if rtt > 0 {
		client = testutil.WithRoundTrip(b, client, rtt)
	}
	fresh := func(b *testing.B) *dynamodao.Store {
		b.StopTimer()
		defer b.StartTimer()
		d, _ := realstores.Dynamo(b, client)
		return d
	}
	b.Run("backfill", func(b *testing.B) {
		for b.Loop() {
			dst := fresh(b)
			st, err := backfill.Run(context.Background(), src, dst, backfill.Options{})
			if err != nil || st.Copied != int64(n) {
				b.Fatal(st, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("naive", func(b *testing.B) {
		for b.Loop() {
			dst := fresh(b)
			copied := 0
			for e, err := range src.ScanEvents(context.Background(), eventstore.ScanOptions{}) {
				if err != nil {
					b.Fatal(err)
				}
				if err := dst.StoreEvent(context.Background(), e); err != nil {
					b.Fatal(err)
				}
				copied++
			}
			if copied != n {
				b.Fatal(copied)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// generated is a source that makes its events on the fly, so that the
// backfill's own memory can be measured apart from any store's.
type generated struct{ n int }

func (g generated) ScanEvents(ctx context.Context, opts eventstore.ScanOptions) iter.Seq2[flagmigrate.Event, error] {
	return func(yield func(flagmigrate.Event, error) bool) {
		for i := range g.n {
			if !yield(fixture.Nth(fmt.Sprintf("acct-%03d", i%100), fmt.Sprintf("e-%08d", i), i), nil) {
				return
			}
		}
	}
}

// sink is a destination that keeps nothing.
type sink struct{ stored atomic.Int64 }

func (s *sink) StoreEvent(context.Context, flagmigrate.Event) error { s.stored.Add(1); return nil }
func (s *sink) FindEventByID(context.Context, string, string) (flagmigrate.Event, error) {
	return flagmigrate.Event{}, flagmigrate.ErrNotFound
}
func (s *sink) ListEvents(context.Context, string, flagmigrate.ListOptions) (flagmigrate.Page, error) {
	return flagmigrate.Page{}, nil
}

// BenchmarkPeakMemory reports how much the live heap grows during a copy of
// 10,000, 100,000 and 1,000,000 events, at its maximum and at its 95th
// percentile over the run (sampled every millisecond): memory must not grow
// with the number of events. The maximum is the largest of many noisy GC
// cycles, so it creeps up with a longer run even without a leak; a leak
// would show as growth in proportion to the events.
func BenchmarkPeakMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			var peak, p95 uint64
			for b.Loop() {
				runtime.GC()
				sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
				metrics.Read(sample)
				base := sample[0].Value.Uint64()
				stop := make(chan struct{})
				var wg sync.WaitGroup
				var seen []uint64
				wg.Go(func() {
					// The live heap as of the last GC: what the copy holds,
					// not the garbage it has not collected yet.
					sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
					for {
						metrics.Read(sample)
						seen = append(seen, sample[0].Value.Uint64()-min(base, sample[0].Value.Uint64()))
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
					}
				})
				dst := &sink{}
				if _, err := backfill.Run(context.Background(), generated{n}, dst, backfill.Options{}); err != nil {
					b.Fatal(err)
				}
				close(stop)
				wg.Wait()
				if dst.stored.Load() != int64(n) {
					b.Fatal(dst.stored.Load())
				}
				slices.Sort(seen)
				peak = max(peak, seen[len(seen)-1])
				p95 = max(p95, seen[len(seen)*95/100])
			}
			b.ReportMetric(float64(peak)/(1<<20), "max-live-growth-MiB")
			b.ReportMetric(float64(p95)/(1<<20), "p95-live-growth-MiB")
		})
	}
}

// peakChildEnv, set to a number of events, makes the test binary a child
// process of BenchmarkPeakRSS that copies that many events and reports its
// memory (see TestMain).
const peakChildEnv = "FLAGMIGRATE_PEAK_RSS_EVENTS"

// rssReport is what a peak-memory child prints: its resident set just
// before the copy and its high-water mark at the end, in KiB.
type rssReport struct {
	BeforeKiB, PeakKiB int64
	Copied             int64
}

// peakChild copies n generated events into a sink and prints an rssReport
// as JSON; it returns the process's exit status.
func peakChild(n string) int {
	if err := copyAndReport(n); err != nil {
		fmt.Fprintln(os.Stderr, "peak-memory child:", err)
		return 1
	}
	return 0
}

func copyAndReport(n string) error {
	events, err := strconv.Atoi(n)
	if err != nil {
		return err
	}
	before, err := procStatusKiB("VmRSS")
	if err != nil {
		return err
	}
	dst := &sink{}
	if _, err := backfill.Run(context.Background(), generated{events}, dst, backfill.Options{}); err != nil {
		return err
	}
	peak, err := procStatusKiB("VmHWM")
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(rssReport{BeforeKiB: before, PeakKiB: peak, Copied: dst.stored.Load()})
}

// procStatusKiB reads one "Name: N kB" line of /proc/self/status.
func procStatusKiB(name string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", name)
}

// BenchmarkPeakRSS measures what an operator sees: the peak resident memory
// of a fresh process (this test binary, re-run as a child) that copies
// 10,000, 100,000 and 1,000,000 events, and the ratios between the peaks
// (the target: 10x more events, less than 1.5x the peak). It also reports
// each child's growth above its resident set before the copy, so that the
// baseline of the binary does not hide what the copy itself costs.
func BenchmarkPeakRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Fatalf("BenchmarkPeakRSS reads /proc/self/status: linux only, not %s", runtime.GOOS)
	}
	sizes := []int{10_000, 100_000, 1_000_000}
	peak := make([]int64, len(sizes))
	growth := make([]int64, len(sizes))
	for b.Loop() {
		for i, n := range sizes {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", peakChildEnv, n))
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("child copying %d events: %v", n, err)
			}
			var r rssReport
			if err := json.Unmarshal(out, &r); err != nil || r.Copied != int64(n) {
				b.Fatalf("child copying %d events: %q, %v", n, out, err)
			}
			peak[i] = max(peak[i], r.PeakKiB)
			growth[i] = max(growth[i], r.PeakKiB-r.BeforeKiB)
		}
	}
	for i, n := range sizes {
		b.ReportMetric(float64(peak[i])/1024, fmt.Sprintf("peak-MiB-%dk", n/1000))
		b.ReportMetric(float64(growth[i])/1024, fmt.Sprintf("growth-MiB-%dk", n/1000))
	}
	b.ReportMetric(float64(peak[1])/float64(peak[0]), "peak-100k/10k")
	b.ReportMetric(float64(peak[2])/float64(peak[1]), "peak-1M/100k")
	b.ReportMetric(0, "ns/op")
}
