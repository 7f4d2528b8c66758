package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// TestRolloutMetricsEndpoint runs the in-memory rollout with -metrics-addr
// on a free loopback port and scrapes /metrics at the end of the run:
// the duration histogram and the comparison counter, with the data bug's
// mismatches, are there in Prometheus' format, without db.system.name
// (in-memory stores are no database system).
func TestRolloutMetricsEndpoint(t *testing.T) {
	scraped := scrapeRollout(t, config{accounts: 14, ops: 200, history: 4})
	if strings.Contains(scraped, "db_system_name=") {
		t.Error("in-memory stores are labelled with a db.system.name")
	}
}

// TestRolloutMetricsOnRealServers is the same run on FerretDB and DynamoDB
// Local: store calls carry db.system.name "mongodb" and "aws.dynamodb".
func TestRolloutMetricsOnRealServers(t *testing.T) {
	scraped := scrapeRollout(t, config{mongoURI: testutil.MongoURI(t), dynamoEndpoint: testutil.DynamoEndpoint(t), accounts: 14, ops: 120, history: 4})
	for _, want := range []string{`db_system_name="mongodb"`, `db_system_name="aws.dynamodb"`} {
		if !strings.Contains(scraped, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// scrapeRollout runs cfg with -metrics-addr on a free loopback port,
// scrapes /metrics at the end of the run, checks what every run must show
// and returns the page.
func scrapeRollout(t *testing.T, cfg config) string {
	t.Helper()
	var scraped string
	var scrapeErr error
	cfg.metricsAddr = "127.0.0.1:0"
	cfg.metricsDone = func(ctx context.Context, url string) {
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
	}
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
	return scraped
}

// TestRolloutBadMetricsAddr checks that an address the command cannot
// listen on is a one-line error, exit 1, before any store is opened: the
// MongoDB URI given points at a closed loopback port, which opening the
// stores would report instead.
func TestRolloutBadMetricsAddr(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := realMain(t.Context(), []string{"-metrics-addr", "127.0.0.1:not-a-port", "-mongo", "mongodb://127.0.0.1:1/", "-html", ""}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "rollout: -metrics-addr: ") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 1 and one line about -metrics-addr", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}
