package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

func runRepair(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("repair", "repair --log FILE --old URL --new URL\n\nReplays a MigratingStore's repair log: each write that reached one store only is\ncopied from the store that has it to the one that lacks it. Safe to run twice.\n"+
		"A line of the log that holds no readable entry (corrupt, or cut short by a crash) is\nreported by its number and skipped; every other entry is still replayed.\n\n"+
		"Exit status: 0 when every entry was replayed or already there; 3 when the run\ncompleted but some lines of the log were unreadable (run verify for what they held);\n"+
		"4 when entries conflict (never overwritten); 1 when the run failed or entries could\nnot be replayed; 2 for a usage error; 130 when interrupted.")
	var (
		logPath = fs.String("log", "", "the repair log file (package repairlog's JSON lines)")
		oldURL  = fs.String("old", "", "URL of the migration's old (incumbent) store (default $"+envOld+")")
		newURL  = fs.String("new", "", "URL of the migration's new store (default $"+envNew+")")
		timeout = fs.Duration("timeout", 10*time.Second, "how long to wait for a server to answer when connecting")
	)
	if code := parseFlags(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	fromEnv(oldURL, envOld)
	fromEnv(newURL, envNew)
	switch {
	case *logPath == "" || *oldURL == "" || *newURL == "":
		return usageError(stderr, "repair", "--log, --old and --new (or %s and %s) are required", envOld, envNew)
	case *oldURL == *newURL:
		return usageError(stderr, "repair", "--old and --new name the same store")
	case *timeout <= 0:
		return usageError(stderr, "repair", "--timeout %v: want a positive duration such as 10s", *timeout)
	}
	if _, err := os.Stat(*logPath); err != nil {
		fmt.Fprintf(stderr, "flagmigrate repair: repair log: %v\n", message(err))
		return exitFailed
	}
	old, err := openStore(ctx, *oldURL, asDestination, dynamoSettings{}, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "flagmigrate repair: old store: %v\n", err)
		return exitFailed
	}
	defer old.close()
	nu, err := openStore(ctx, *newURL, asDestination, dynamoSettings{}, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "flagmigrate repair: new store: %v\n", err)
		return exitFailed
	}
	defer nu.close()
	fmt.Fprintf(stdout, "repair: %s between %s (old) and %s (new)\n", *logPath, old.name, nu.name)
	st, err := backfill.Repair(ctx, repairlog.ReadFile(ctx, *logPath), old.EventStore, nu.EventStore, func(e flagmigrate.RepairEntry, err error) {
		if errors.Is(err, flagmigrate.ErrUnreadableEntry) {
			fmt.Fprintf(stdout, "  unreadable, skipped: %v\n", message(err))
			return
		}
		fmt.Fprintf(stdout, "  not repaired: account %q event %q (%v store): %v\n", e.AccountID, e.Key, e.Target, message(err))
	})
	fmt.Fprintf(stdout, "repair summary: %d entries, %d copied, %d already there, %d missing in their source, %d conflicts, %d errors, %d unreadable lines\n",
		st.Entries, st.Copied, st.AlreadyThere, st.MissingInSource, st.Conflicts, st.Errors, st.Unreadable)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "flagmigrate repair: interrupted; run it again (it is idempotent)")
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "flagmigrate repair: %v\n", message(err))
		return exitFailed
	case st.Errors > 0:
		fmt.Fprintf(stderr, "flagmigrate repair: %d entries could not be replayed (listed above)\n", st.Errors)
		return exitFailed
	case st.Conflicts > 0:
		fmt.Fprintf(stderr, "flagmigrate repair: %d entries conflict (listed above, not overwritten)\n", st.Conflicts)
		return exitDifferences
	case st.Unreadable > 0:
		fmt.Fprintf(stderr, "flagmigrate repair: completed, but %d lines of the log were unreadable and skipped; run verify\n", st.Unreadable)
		return exitUnreadable
	}
	return exitOK
}
