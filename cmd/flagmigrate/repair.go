package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

func runRepair(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("repair", "repair --log FILE --old URL --new URL\n\nReplays a MigratingStore's repair log: each write that reached one store only is\ncopied from the store that has it to the one that lacks it. Safe to run twice.\n"+
		"A line of the log that holds no readable entry (corrupt, or cut short by a crash) is\nreported by its number and skipped; every other entry is still replayed.\n\n"+
		"Exit status: 0 when every entry was replayed or already there; 3 when the run\ncompleted but some lines of the log, or their events, were unreadable (run verify);\n"+
		"4 when entries conflict (never overwritten); 1 when the run failed or entries could\nnot be replayed; 2 for a usage error; 130 when interrupted.")
	var (
		logPath = fs.String("log", "", "the repair log file (package repairlog's JSON lines)")
		oldURL  = fs.String("old", "", "URL of the migration's old (incumbent) store (default $"+envOld+")")
		newURL  = fs.String("new", "", "URL of the migration's new store (default $"+envNew+")")
		timeout = fs.Duration("timeout", 10*time.Second, "how long to wait for a server to answer when connecting")
	)
	var pf progressFlags
	pf.register(fs)
	if code := parseFlags(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	ck := check{cmd: "repair", stderr: stderr}
	pf.check(&ck)
	if code := ck.code(); code >= 0 {
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
	entries := repairlog.ReadFile(ctx, *logPath)
	var pace *repairPace
	if show := pf.printer(stderr); show != nil {
		pace = &repairPace{show: show, every: pf.every, total: countLines(*logPath)}
		entries = pace.wrap(entries)
	}
	st, err := backfill.Repair(ctx, entries, old.EventStore, nu.EventStore, func(e migration.RepairEntry, err error) {
		if errors.Is(err, eventstore.ErrUnreadable) {
			fmt.Fprintf(stdout, "  unreadable, skipped: %v\n", message(err))
			return
		}
		fmt.Fprintf(stdout, "  not repaired: account %q event %q (%v store): %v\n", e.AccountID, e.Key, e.Target, message(err))
	})
	pace.finish(st, err == nil && ctx.Err() == nil)
	if ctx.Err() != nil || err != nil {
		fmt.Fprintln(stdout, "repair: partial report (the run did not finish):")
	}
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
		fmt.Fprintf(stderr, "flagmigrate repair: %v\n", message(err))
		return exitFailed
	case st.Errors > 0:
		fmt.Fprintf(stderr, "flagmigrate repair: %d entries could not be replayed (listed above)\n", st.Errors)
		return exitFailed
	case st.Conflicts > 0:
		fmt.Fprintf(stderr, "flagmigrate repair: %d entries conflict (listed above, not overwritten)\n", st.Conflicts)
		return exitDifferences
	case st.Unreadable > 0:
		fmt.Fprintf(stderr, "flagmigrate repair: completed, but %d records were unreadable and skipped (lines of the log, or their events; listed above); run verify\n", st.Unreadable)
		return exitUnreadable
	}
	return exitOK
}

// repairPace reports a repair's progress: the entries read from the log,
// of its lines.
type repairPace struct {
	show  func(meter)
	every time.Duration
	total int64
	read  int64
	start time.Time
	last  time.Time
}

// wrap counts the entries (and unreadable lines) as Repair reads them.
func (p *repairPace) wrap(entries iter.Seq2[migration.RepairEntry, error]) iter.Seq2[migration.RepairEntry, error] {
	p.start = time.Now()
	p.last = p.start
	return func(yield func(migration.RepairEntry, error) bool) {
		for e, err := range entries {
			if !yield(e, err) {
				return
			}
			p.read++
			if now := time.Now(); now.Sub(p.last) >= p.every {
				p.last = now
				p.show(p.meter(now, false))
			}
		}
	}
}

func (p *repairPace) meter(now time.Time, finished bool) meter {
	m := meter{done: p.read, total: p.total, unit: "entries", elapsed: now.Sub(p.start), remaining: -1, finished: finished}
	if secs := m.elapsed.Seconds(); secs > 0 {
		m.rate = float64(p.read) / secs
	}
	if m.total >= 0 && m.rate > 0 {
		m.remaining = time.Duration(float64(max(m.total-m.done, 0)) / m.rate * float64(time.Second))
	}
	return m
}

// finish makes the last report, with the repair's counts.
func (p *repairPace) finish(st backfill.RepairStats, finished bool) {
	if p == nil {
		return
	}
	m := p.meter(time.Now(), finished)
	m.final = true
	m.counts = fmt.Sprintf("copied %d  already there %d  conflicts %d  errors %d  unreadable %d", st.Copied, st.AlreadyThere, st.Conflicts, st.Errors, st.Unreadable)
	p.show(m)
}

// countLines counts the lines of the log (its entries, about), or -1.
func countLines(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 64<<10)
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		for _, b := range buf[:k] {
			if b == '\n' {
				n++
			}
		}
		if k > 0 {
			last = buf[k-1]
		}
		if err != nil {
			break
		}
	}
	if last != '\n' {
		n++ // a last line without its newline
	}
	return n
}
