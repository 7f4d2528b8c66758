package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

func runPurge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("purge", "purge --store URL --older-than DURATION\n\n"+
		"Removes the tombstones that deletes and erasures left in one store, those of deletes made\n"+
		"more than DURATION ago. A tombstone is what stops a copy made from before its delete (a\n"+
		"backfill, a repair, a rollback) from bringing the event back: purge only those older than\n"+
		"the longest such copy that can still run, with a margin (30 days, 720h, is a safe choice\n"+
		"for most migrations). A key whose tombstone is purged can be stored again. Safe to run\n"+
		"again. In DynamoDB it reads the whole table (a filtered Scan): run it off-peak.\n\n"+
		"Exit status: 0 when the old tombstones are gone; 1 when the store failed (run it again);\n"+
		"2 for a usage error; 130 when interrupted.")
	var (
		storeURL  = fs.String("store", "", "URL of the store to purge")
		olderThan = fs.Duration("older-than", 0, "purge the tombstones of deletes made more than this long ago, such as 720h (required)")
		timeout   = fs.Duration("timeout", 10*time.Second, "how long to wait for a server to answer when connecting")
	)
	if code := parseFlags(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case *storeURL == "":
		return usageError(stderr, "purge", "--store is required")
	case *olderThan <= 0:
		return usageError(stderr, "purge", "--older-than %v: want a positive duration such as 720h (tombstones younger than every copy that may still run must stay)", *olderThan)
	case *timeout <= 0:
		return usageError(stderr, "purge", "--timeout %v: want a positive duration such as 10s", *timeout)
	}
	s, err := openStore(ctx, *storeURL, asDestination, dynamoSettings{}, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "flagmigrate purge: %v\n", err)
		return exitFailed
	}
	defer s.close()
	p, ok := s.EventStore.(eventstore.TombstonePurger)
	if !ok {
		fmt.Fprintf(stderr, "flagmigrate purge: the store %s keeps no tombstones it can purge\n", s.name)
		return exitFailed
	}
	before := time.Now().Add(-*olderThan)
	n, err := p.PurgeTombstones(ctx, before)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "flagmigrate purge: interrupted; run it again (it is idempotent)")
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "flagmigrate purge: %s: %v; run it again\n", s.name, firstLine(err))
		return exitFailed
	}
	fmt.Fprintf(stdout, "purge: %d tombstones of deletes before %s removed from %s\n", n, before.UTC().Format(time.RFC3339), s.name)
	return exitOK
}
