package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRolloutMetricsEndpoint runs the in-memory rollout with -metrics-addr
// on a free loopback port and scrapes /metrics at the end of the run:
// the duration histogram and the comparison counter, with the data bug's
// mismatches, are there in Prometheus' format.
func TestRolloutMetricsEndpoint(t *testing.T) {
	var scraped string
	var scrapeErr error
	cfg := config{accounts: 14, ops: 200, history: 4, metricsAddr: "127.0.0.1:0",
		metricsDone: func(ctx context.Context, url string) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				scrapeErr = err
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				scrapeErr = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			scraped, scrapeErr = string(b), err
		}}
	var out bytes.Buffer
	v, err := run(t.Context(), &out, cfg)
	if err != nil || !v.pass {
		t.Fatalf("run: %v, verdict %+v\n%s", err, v, out.String())
	}
	if scrapeErr != nil {
		t.Fatalf("scrape: %v", scrapeErr)
	}
	if !strings.Contains(out.String(), "metrics: http://127.0.0.1:") {
		t.Errorf("output does not name the endpoint:\n%s", out.String())
	}
	for _, want := range []struct{ line, reason string }{
		{"# TYPE db_client_operation_duration_seconds histogram", "the semantic conventions' histogram, in seconds"},
		{`db_operation_name="FindEventByID"`, "reads are labelled with their operation"},
		{`flagmigrate_role="candidate"`, "shadow reads of the candidate store are recorded"},
		{"# TYPE flagmigrate_comparisons_total counter", "comparisons are a counter"},
		{`flagmigrate_verdict="different"`, "the data bug's mismatches are counted"},
		{"# TYPE flagmigrate_repair_recorded_total counter", "the lossy network's writes went to the repair log"},
	} {
		if !strings.Contains(scraped, want.line) {
			t.Errorf("/metrics lacks %q (%s)", want.line, want.reason)
		}
	}
	if strings.Contains(scraped, "acct-") {
		t.Error("/metrics names an account: account IDs must not be attributes by default")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", scraped)
	}
}
