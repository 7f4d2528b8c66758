// Command rollout is the whole story of the guide, run in one command: a
// service with many accounts moves its events from MongoDB to DynamoDB
// behind per-account LaunchDarkly flags while it keeps writing and reading.
//
//	go run ./examples/rollout                      # in-memory stores, no server
//	go run ./examples/rollout -mongo URI -dynamo URL   # real servers
//
// (MONGODB_URI and DYNAMODB_ENDPOINT are used when set, as the flags; the
// environment keeps a password out of the process list. No password is
// ever printed.)
//
// Writes are turned on for the new store account by account, a network
// hiccup fills the repair log and repair replays it, history is backfilled,
// dual reads are compared (a deliberate data bug in the new store's DAO is
// caught and that account rolled back, while every user keeps getting the
// right answer), reads move to DynamoDB, MongoDB is retired, and a rollback
// drill moves three accounts back. Each stage prints one line (routes,
// comparisons and mismatches, repair-log entries, latency, wrong answers);
// the run ends with a verify and a one-line verdict, and writes an HTML
// report (-html, default rollout.html): a swimlane of the accounts through
// the stages, coloured by route, the held-back account marked. The page is
// self-contained: no script, no network.
//
// With -metrics-addr 127.0.0.1:9464 the migration's events are also
// recorded as OpenTelemetry metrics (package otelmetrics) and served for
// Prometheus at http://127.0.0.1:9464/metrics, through OpenTelemetry's
// Prometheus exporter; after the verdict the command keeps serving them
// until interrupted.
//
// The LaunchDarkly client runs on ldtestdata: flags are set in code, no
// network is used, no analytics events are sent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/redact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// realMain runs the command line args. Everything it prints goes through
// redact.Writer: the store URLs' passwords (flags or MONGODB_URI) are never
// shown, not in -h, the banner or an error.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	secrets := redact.Secrets(append([]string{os.Getenv("MONGODB_URI"), os.Getenv("DYNAMODB_ENDPOINT")}, args...)...)
	stdout, stderr = redact.Writer(stdout, secrets...), redact.Writer(stderr, secrets...)
	var cfg config
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The defaults come from the environment after parsing, not as flag
	// defaults, which -h would print.
	fs.StringVar(&cfg.mongoURI, "mongo", "", "MongoDB URI for the old store (default $MONGODB_URI, else in memory)")
	fs.StringVar(&cfg.dynamoEndpoint, "dynamo", "", "DynamoDB endpoint for the new store (default $DYNAMODB_ENDPOINT, else in memory)")
	fs.IntVar(&cfg.accounts, "accounts", 40, "number of accounts")
	fs.IntVar(&cfg.ops, "ops", 1200, "service operations per stage")
	fs.IntVar(&cfg.history, "history", 25, "events per account written before the migration starts")
	fs.BoolVar(&cfg.verbose, "v", false, "log every mismatch (field names only)")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "serve the migration's OpenTelemetry metrics for Prometheus at http://ADDR/metrics (for example 127.0.0.1:9464), until interrupted after the run")
	fs.StringVar(&cfg.html, "html", "rollout.html", "write the HTML report (accounts by stages, coloured by route) to this file; empty for none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfg.mongoURI == "" {
		cfg.mongoURI = os.Getenv("MONGODB_URI")
	}
	if cfg.dynamoEndpoint == "" {
		cfg.dynamoEndpoint = os.Getenv("DYNAMODB_ENDPOINT")
	}
	cfg.stderr = stderr
	cfg.metricsDone = func(ctx context.Context, url string) {
		fmt.Fprintf(stdout, "serving %s until interrupted (Ctrl-C)\n", url)
		<-ctx.Done()
	}
	v, err := run(ctx, stdout, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "rollout:", err)
		return 1
	}
	if !v.pass {
		return 1
	}
	return 0
}

// config is what a run is made of.
type config struct {
	mongoURI, dynamoEndpoint string
	accounts, ops, history   int
	verbose                  bool
	html                     string // the HTML report's file, or ""
	// metricsAddr, when set, serves the OpenTelemetry metrics there for
	// Prometheus (-metrics-addr); metricsDone, when set, is called at the
	// end of the run while they are still served (the command waits for
	// an interrupt there, tests scrape).
	metricsAddr string
	metricsDone func(ctx context.Context, url string)
	// logger receives mismatch logs with -v (default: discarded, or
	// stderr with -v).
	logger *slog.Logger
	// stderr is where -v logs go (default os.Stderr).
	stderr io.Writer
}

func (c *config) defaults() {
	if c.accounts < 14 {
		c.accounts = 14 // pilot (10), the drill (3) and one more are needed
	}
	if c.ops <= 0 {
		c.ops = 1200
	}
	if c.history < 0 {
		c.history = 0
	}
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if c.verbose {
			if c.stderr == nil {
				c.stderr = os.Stderr
			}
			c.logger = slog.New(slog.NewTextHandler(c.stderr, nil))
		}
	}
}

// workers is how many goroutines make the service's calls.
const workers = 4

// stageTimeout bounds one stage's traffic on slow servers.
const stageTimeout = 2 * time.Minute
