package main

import (
	"context"
	"errors"
	"flag"
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
		"1 when the run failed, or entries conflict or could not be replayed; 2 for a usage\nerror; 130 when interrupted.")
	var (
		logPath = fs.String("log", "", "the repair log file (package repairlog's JSON lines)")
		oldURL  = fs.String("old", "", "URL of the migration's old (incumbent) store (default $"+envOld+")")
		newURL  = fs.String("new", "", "URL of the migration's new store (default $"+envNew+")")
		timeout = fs.Duration("timeout", 10*time.Second, "how long to wait for a server to answer when connecting")
	)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fromEnv(oldURL, envOld)
	fromEnv(newURL, envNew)
	if *logPath == "" || *oldURL == "" || *newURL == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "flagmigrate repair: --log, --old and --new (or "+envOld+" and "+envNew+") are required (run 'flagmigrate help repair')")
		return exitUsage
	}
	if _, err := os.Stat(*logPath); err != nil {
		fmt.Fprintf(stderr, "flagmigrate repair: repair log: %v\n", firstLine(err))
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
			fmt.Fprintf(stdout, "  unreadable, skipped: %v\n", err)
			return
		}
		fmt.Fprintf(stdout, "  not repaired: account %q event %q (%v store): %v\n", e.AccountID, e.Key, e.Target, err)
	})
	fmt.Fprintf(stdout, "repair summary: %d entries, %d copied, %d already there, %d missing in their source, %d conflicts, %d errors, %d unreadable lines\n",
		st.Entries, st.Copied, st.AlreadyThere, st.MissingInSource, st.Conflicts, st.Errors, st.Unreadable)
	if st.Deleted > 0 || st.DeletedSince > 0 {
		fmt.Fprintf(stdout, "repair deletes: %d deletes and erasures replayed, %d writes of events deleted since (not copied)\n", st.Deleted, st.DeletedSince)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "flagmigrate repair: interrupted; run it again (it is idempotent)")
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "flagmigrate repair: %v\n", firstLine(err))
		return exitFailed
	case st.Conflicts > 0 || st.Errors > 0:
		return exitFailed
	case st.Unreadable > 0:
		fmt.Fprintf(stderr, "flagmigrate repair: completed, but %d lines of the log were unreadable and skipped; run verify\n", st.Unreadable)
		return exitUnreadable
	}
	return exitOK
}
