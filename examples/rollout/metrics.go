package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/otelmetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// metricsServer serves the migration's OpenTelemetry metrics
// ([otelmetrics]) in Prometheus' text format at /metrics (-metrics-addr).
type metricsServer struct {
	obs      migration.Observer
	provider *sdkmetric.MeterProvider
	srv      *http.Server
	url      string
	served   chan error
}

// startMetrics listens on addr and serves the metrics an observer records;
// oldSystem and newSystem are the stores' db.system.name ("" when in
// memory: the attribute is then left out).
func startMetrics(addr, oldSystem, newSystem string) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("metrics exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	obs, err := otelmetrics.New(provider, otelmetrics.WithSystems(oldSystem, newSystem))
	if err != nil {
		_ = provider.Shutdown(context.Background())
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = provider.Shutdown(context.Background())
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m := &metricsServer{obs: obs, provider: provider, url: "http://" + ln.Addr().String() + "/metrics",
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, served: make(chan error, 1)}
	go func() { m.served <- m.srv.Serve(ln) }()
	return m, nil
}

// close stops the server and the meter provider.
func (m *metricsServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	if serr := <-m.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, m.provider.Shutdown(ctx))
}
