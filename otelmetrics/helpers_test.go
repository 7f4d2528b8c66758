package otelmetrics_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/otelmetrics"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newObserver returns an Observer made with opts on a meter provider read
// by the returned manual reader.
func newObserver(t *testing.T, opts ...otelmetrics.Option) (migration.Observer, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	obs, err := otelmetrics.New(mp, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return obs, reader
}

// collected is one metric read back: its unit, kind, and points by
// attribute set (as attrString renders it) with their count (histograms)
// or value (counters).
type collected struct {
	unit   string
	kind   string // "histogram" or "sum"
	points map[string]int64
	sum    float64 // histograms: the sum of the recorded values
}

// collect reads every metric of the otelmetrics scope from reader, by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	out := map[string]collected{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelmetrics.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelmetrics.ScopeName)
			continue
		}
		for _, m := range sm.Metrics {
			c := collected{unit: m.Unit, points: map[string]int64{}}
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				c.kind = "histogram"
				for _, dp := range d.DataPoints {
					c.points[attrString(dp.Attributes)] += int64(dp.Count)
					c.sum += dp.Sum
				}
			case metricdata.Sum[int64]:
				c.kind = "sum"
				if !d.IsMonotonic {
					t.Errorf("%s: not monotonic", m.Name)
				}
				for _, dp := range d.DataPoints {
					c.points[attrString(dp.Attributes)] += dp.Value
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
			out[m.Name] = c
		}
	}
	return out
}

// attrString renders s as "k=v,k=v" sorted by key.
func attrString(s attribute.Set) string {
	parts := make([]string, 0, s.Len())
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// attrs renders key/value pairs as attrString does.
func attrs(kv ...string) string {
	parts := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+"="+kv[i+1])
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
