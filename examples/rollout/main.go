// Command rollout is the whole story of the guide, run in one command: a
// service with many accounts moves its events from MongoDB to DynamoDB
// behind per-account LaunchDarkly flags while it keeps writing and reading.
//
//	go run ./examples/rollout                      # in-memory stores, no server
//	go run ./examples/rollout -mongo URI -dynamo URL   # real servers
//
// (MONGODB_URI and DYNAMODB_ENDPOINT are used when set, as the flags.)
//
// Writes are turned on for the new store account by account, a network
// hiccup fills the repair log and repair replays it, history is backfilled,
// dual reads are compared (a deliberate data bug in the new store's DAO is
// caught and that account rolled back, while every user keeps getting the
// right answer), reads move to DynamoDB, MongoDB is retired, and a rollback
// drill moves three accounts back. After each stage a table shows routing,
// calls per store, comparisons by verdict, the repair log and latency; the
// run ends with a verify and a one-line verdict.
//
// The LaunchDarkly client runs on ldtestdata: flags are set in code, no
// network is used, no analytics events are sent.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.mongoURI, "mongo", os.Getenv("MONGODB_URI"), "MongoDB URI for the old store (default: in memory)")
	flag.StringVar(&cfg.dynamoEndpoint, "dynamo", os.Getenv("DYNAMODB_ENDPOINT"), "DynamoDB endpoint for the new store (default: in memory)")
	flag.IntVar(&cfg.accounts, "accounts", 40, "number of accounts")
	flag.IntVar(&cfg.ops, "ops", 1200, "service operations per stage")
	flag.IntVar(&cfg.history, "history", 25, "events per account written before the migration starts")
	flag.BoolVar(&cfg.verbose, "v", false, "log every mismatch (field names only)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	v, err := run(ctx, os.Stdout, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rollout:", err)
		os.Exit(1)
	}
	if !v.pass {
		os.Exit(1)
	}
}

// config is what a run is made of.
type config struct {
	mongoURI, dynamoEndpoint string
	accounts, ops, history   int
	verbose                  bool
	// logger receives mismatch logs with -v (default: discarded).
	logger *slog.Logger
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
			c.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
	}
}

// workers is how many goroutines make the service's calls.
const workers = 4

// stageTimeout bounds one stage's traffic on slow servers.
const stageTimeout = 2 * time.Minute
