package otelmetrics_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/memstore"
	"github.com/flagmigrate/flagmigrate/otelmetrics"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// A migration reports to OpenTelemetry through the observer. Here a
// manual reader stands for the exporter (Prometheus, OTLP) a service
// would configure; the new store holds a different copy of the event, and
// the dual read (all four flags on) counts it as a mismatch.
func ExampleNew() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	obs, err := otelmetrics.New(provider, otelmetrics.WithSystems(otelmetrics.SystemMongoDB, otelmetrics.SystemDynamoDB))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	oldStore, newStore := memstore.New(), memstore.New() // MongoDB and DynamoDB in production
	evt := flagmigrate.Event{AccountID: "acct-1", ID: "evt-1", Type: "signup",
		Time: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC), Data: map[string]any{"plan": "pro"}}
	_ = oldStore.StoreEvent(ctx, evt)
	evt.Data = map[string]any{"plan": "free"}
	_ = newStore.StoreEvent(ctx, evt)

	keys := flagmigrate.DefaultFlagKeys()
	flags := flagtest.New().Set(keys.OldWrite, true).Set(keys.NewWrite, true).Set(keys.OldRead, true).Set(keys.NewRead, true)
	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, flags, flagmigrate.WithObserver(obs))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = store.FindEventByID(ctx, "acct-1", "evt-1")
	_ = store.Close()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Histogram[float64]:
			for _, dp := range d.DataPoints {
				sys, _ := dp.Attributes.Value(otelmetrics.AttrSystemName)
				fmt.Printf("%s (%s) %s: %d\n", m.Name, m.Unit, sys.AsString(), dp.Count)
			}
		case metricdata.Sum[int64]:
			for _, dp := range d.DataPoints {
				verdict, _ := dp.Attributes.Value(otelmetrics.AttrVerdict)
				fmt.Printf("%s %s: %d\n", m.Name, verdict.AsString(), dp.Value)
			}
		}
	}
	// Unordered output:
	// db.client.operation.duration (s) mongodb: 1
	// db.client.operation.duration (s) aws.dynamodb: 1
	// flagmigrate.comparisons different: 1
}
