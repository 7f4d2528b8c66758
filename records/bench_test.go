package records_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/fixture"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/records"
)

// BenchmarkOldOnlyOverhead: what routing a call to the old store alone
// costs a records MigratingStore against an events MigratingStore, each
// over its direct store call, in one interleaved run: a write (a
// compare-and-set; a store of an event) and a read. The ratio
// records/events of the overheads is the figure (1 when alike).
//
//	go test -run '^$' -bench OldOnlyOverhead ./records
func BenchmarkOldOnlyOverhead(b *testing.B) {
	ctx := context.Background()
	flags := flagtest.New().Set("events-mongo-write", true).Set("events-dynamo-write", false).
		Set("events-mongo-read", true).Set("events-dynamo-read", false)
	quiet := []flagmigrate.Option{flagmigrate.WithObserver(migration.Observer{}), flagmigrate.WithRoutingCheck(-1)}
	oldEvents := memstore.New()
	events, _ := flagmigrate.NewMigratingStore(oldEvents, memstore.New(), flags, quiet...)
	defer events.Close()
	oldRecords := memstore.NewRecordStore()
	recs, _ := records.NewMigratingStore(oldRecords, memstore.NewRecordStore(), flags, quiet...)
	defer recs.Close()
	evt := fixture.WithValue("acct-1", "e1", 1)
	data := map[string]any{"v": int64(1)}
	_ = oldEvents.StoreEvent(ctx, evt)
	rec, _ := oldRecords.CompareAndSet(ctx, "acct-1", "r1", 0, data)
	version := rec.Version
	ops := []struct {
		name string
		fn   func()
	}{
		{"event-write-direct", func() { _ = oldEvents.StoreEvent(ctx, evt) }},
		{"event-write-migrating", func() { _ = events.StoreEvent(ctx, evt) }},
		{"record-write-direct", func() {
			r, _ := oldRecords.CompareAndSet(ctx, "acct-1", "r1", version, data)
			version = r.Version
		}},
		{"record-write-migrating", func() {
			r, _ := recs.CompareAndSet(ctx, "acct-1", "r1", version, data)
			version = r.Version
		}},
		{"event-read-direct", func() { _, _ = oldEvents.FindEventByID(ctx, "acct-1", "e1") }},
		{"event-read-migrating", func() { _, _ = events.FindEventByID(ctx, "acct-1", "e1") }},
		{"record-read-direct", func() { _, _ = oldRecords.Get(ctx, "acct-1", "r1") }},
		{"record-read-migrating", func() { _, _ = recs.Get(ctx, "acct-1", "r1") }},
	}
	ns := make([]time.Duration, len(ops))
	const rounds = 10
	per := max(b.N/rounds, 1)
	runtime.GC()
	b.ResetTimer()
	for range rounds {
		for i, op := range ops {
			start := time.Now()
			for range per {
				op.fn()
			}
			ns[i] += time.Since(start)
		}
	}
	perOp := func(i int) float64 { return float64(ns[i].Nanoseconds()) / float64(per*rounds) }
	for i, op := range ops {
		b.ReportMetric(perOp(i), op.name+"-ns/op")
	}
	b.ReportMetric((perOp(3)-perOp(2))/(perOp(1)-perOp(0)), "write-records/events-overhead")
	b.ReportMetric((perOp(7)-perOp(6))/(perOp(5)-perOp(4)), "read-records/events-overhead")
	b.ReportMetric(0, "ns/op")
}
