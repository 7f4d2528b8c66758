package otelmetrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/otelmetrics"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// BenchmarkStoreCalled measures the hot path, one store call recorded,
// side by side: this package's observer on the SDK (with a manual reader,
// as an exporter would hold), and flagtest.Stats for scale.
func BenchmarkStoreCalled(b *testing.B) {
	call := migration.StoreCall{Call: migration.Call{Op: eventstore.OpFindEventByID, AccountID: "acct-1"}, Side: migration.SideNew,
		Role: migration.RoleCandidate, Outcome: migration.OutcomeOK, Latency: 3 * time.Millisecond}
	ctx := context.Background()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(ctx) }()
	obs, err := otelmetrics.New(mp, otelmetrics.WithSystems(otelmetrics.SystemMongoDB, otelmetrics.SystemDynamoDB))
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		o    migration.Observer
	}{{"otelmetrics", obs}, {"stats", (&flagtest.Stats{}).Observer()}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bb.o.StoreCalled(ctx, call)
				}
			})
		})
	}
}
