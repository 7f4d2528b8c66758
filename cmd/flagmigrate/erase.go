package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// fileList is a repeatable flag of file paths.
type fileList []string

func (l *fileList) String() string { return strings.Join(*l, ",") }

func (l *fileList) Set(v string) error {
	if v == "" {
		return errors.New("empty path")
	}
	*l = append(*l, v)
	return nil
}

func runErase(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("erase", "erase --account ID --old URL --new URL [--repair-log FILE] [--checkpoint FILE] [--report FILE]\n\n"+
		"Erases every event of one account from both stores of a migration (an erasure request):\n"+
		"each store deletes the account's events and keeps a tombstone per key, and every ID that\n"+
		"either store held is tombstoned in both, so that no backfill, repair or rollback copy\n"+
		"brings one back. Then the files the library wrote lose what they held of the account:\n"+
		"the repair log's entries (rewritten under its lock), a backfill checkpoint's position,\n"+
		"a verify report's differences. Safe to run again.\n\n"+
		"Exit status: 0 when the account is erased everywhere; 1 when a store or a file failed\n"+
		"(run it again); 2 for a usage error, such as a file that does not exist or is not of its\n"+
		"kind (nothing is erased then); 130 when interrupted.")
	var (
		account     = fs.String("account", "", "the account ID to erase")
		oldURL      = fs.String("old", "", "URL of the migration's old (incumbent) store (default $"+envOld+")")
		newURL      = fs.String("new", "", "URL of the migration's new store (default $"+envNew+")")
		timeout     = fs.Duration("timeout", 10*time.Second, "how long to wait for a server to answer when connecting")
		logs        fileList
		checkpoints fileList
		reports     fileList
	)
	fs.Var(&logs, "repair-log", "a repair log file to remove the account's entries from (repeatable; it must exist)")
	fs.Var(&checkpoints, "checkpoint", "a backfill checkpoint file to clear of the account (repeatable; it must exist)")
	fs.Var(&reports, "report", "a verify JSON report to remove the account's differences from (repeatable; it must exist)")
	if code := parseFlags(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	fromEnv(oldURL, envOld)
	fromEnv(newURL, envNew)
	switch {
	case *account == "" || *oldURL == "" || *newURL == "":
		return usageError(stderr, "erase", "--account, --old and --new (or %s and %s) are required", envOld, envNew)
	case *oldURL == *newURL:
		return usageError(stderr, "erase", "--old and --new name the same store")
	case *timeout <= 0:
		return usageError(stderr, "erase", "--timeout %v: want a positive duration such as 10s", *timeout)
	}
	if err := eventstore.ValidateAccountID(*account); err != nil {
		return usageError(stderr, "erase", "--account: %v", message(err))
	}
	// Every file is checked before anything is erased: a mistyped path
	// must not leave the account in a file after it left the stores.
	for _, f := range []struct {
		flag    string
		paths   []string
		problem func(string) string
	}{
		{"repair-log", logs, repairLogProblem},
		{"checkpoint", checkpoints, func(p string) string { return checkpointProblem(ctx, p, true, nil) }},
		{"report", reports, reportProblem},
	} {
		for _, p := range f.paths {
			if problem := f.problem(p); problem != "" {
				return usageError(stderr, "erase", "--%s %s: %s", f.flag, p, problem)
			}
		}
	}
	old, err := openStore(ctx, *oldURL, asDestination, dynamoSettings{}, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "flagmigrate erase: old store: %v\n", err)
		return exitFailed
	}
	defer old.close()
	nu, err := openStore(ctx, *newURL, asDestination, dynamoSettings{}, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "flagmigrate erase: new store: %v\n", err)
		return exitFailed
	}
	defer nu.close()
	stores := []*store{old, nu}
	names := []string{"old", "new"}
	var deleters []eventstore.EventDeleter
	for i, s := range stores {
		d, ok := s.EventStore.(eventstore.EventDeleter)
		if !ok {
			fmt.Fprintf(stderr, "flagmigrate erase: the %s store %s cannot delete\n", names[i], s.name)
			return exitFailed
		}
		deleters = append(deleters, d)
	}
	fmt.Fprintf(stdout, "erase: account %q from %s (old) and %s (new)\n", *account, old.name, nu.name)
	failed := false
	fail := func(format string, args ...any) {
		failed = true
		fmt.Fprintf(stderr, "flagmigrate erase: "+format+"\n", args...)
	}
	var all []string
	for i, d := range deleters {
		ids, err := d.EraseAccount(ctx, *account)
		if err != nil {
			fail("%s store: %v", names[i], firstLine(err))
			continue
		}
		fmt.Fprintf(stdout, "  %s store: %d events erased\n", names[i], len(ids))
		all = append(all, ids...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	// Each ID either store held is tombstoned in both (see
	// flagmigrate.MigratingStore.EraseAccount).
	for i, d := range deleters {
		for _, id := range all {
			if err := d.DeleteEvent(ctx, *account, id); err != nil {
				fail("%s store: tombstoning %q: %v", names[i], id, firstLine(err))
				break
			}
		}
	}
	for _, p := range logs {
		n, err := repairlog.EraseAccount(ctx, p, *account)
		if err != nil {
			fail("repair log %s: %v", p, firstLine(err))
			continue
		}
		fmt.Fprintf(stdout, "  repair log %s: %d entries removed\n", p, n)
	}
	for _, p := range checkpoints {
		changed, err := backfill.EraseFromCheckpoint(ctx, p, *account)
		if err != nil {
			fail("checkpoint %s: %v", p, firstLine(err))
			continue
		}
		fmt.Fprintf(stdout, "  checkpoint %s: %s\n", p, changedWord(changed, "position cleared"))
	}
	for _, p := range reports {
		changed, err := backfill.EraseFromReport(ctx, p, *account)
		if err != nil {
			fail("report %s: %v", p, firstLine(err))
			continue
		}
		fmt.Fprintf(stdout, "  report %s: %s\n", p, changedWord(changed, "differences removed"))
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "flagmigrate erase: interrupted; run it again (it is idempotent)")
		return exitInterrupted
	case failed:
		fmt.Fprintln(stdout, "erase summary: INCOMPLETE; run it again")
		return exitFailed
	}
	fmt.Fprintf(stdout, "erase summary: account erased, %d distinct events\n", len(all))
	return exitOK
}

func changedWord(changed bool, what string) string {
	if changed {
		return what
	}
	return "held nothing of the account"
}
