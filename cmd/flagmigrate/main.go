// Command flagmigrate is the operators' tool of a migration: it copies
// history between stores (backfill), proves that they agree (verify),
// replays the writes that failed on the secondary store (repair), erases an
// account from both stores and the files the library wrote (erase), removes
// old tombstones (purge) and shows the route each account is on (status).
//
//	flagmigrate backfill --from mongodb://127.0.0.1:27017/app?collection=events \
//	    --to 'dynamodb://events?endpoint=http://127.0.0.1:8000&creds=local' --checkpoint cp.json
//	flagmigrate verify --from ... --to ... --json report.json
//	flagmigrate repair --log repair.jsonl --old ... --new ...
//	flagmigrate erase --account acct-1 --old ... --new ... --repair-log repair.jsonl
//	flagmigrate purge --store ... --older-than 720h
//	flagmigrate status --accounts acct-1,acct-2 --flags-file flags.json
//
// Run "flagmigrate help" for every flag, "flagmigrate --version" for the
// build. Exit status:
//
//	0    clean: everything was copied, compared or replayed, and agrees
//	1    the run failed (a store could not be reached, an error stopped it)
//	2    usage error (refused before any store is opened; the message names the flag)
//	3    completed, but some records could not be read (source documents in
//	     backfill and verify, lines of the log or their events in repair): each
//	     is listed, and
//	     everything else was copied, compared or replayed
//	4    completed, and differences were found: verify found missing or
//	     differing events, backfill or repair found conflicting ones (never
//	     overwritten)
//	130  interrupted (the partial report is printed; backfill's checkpoint is
//	     saved: run the same command to resume)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Logs of the libraries too go to standard error redacted.
	_, stderr := redacted(os.Args[1:], io.Discard, os.Stderr)
	log.SetOutput(stderr)
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `flagmigrate: copy, verify and repair events between two stores, and show accounts' routes.

Usage:
  flagmigrate backfill --from URL --to URL [flags]   copy events idempotently
  flagmigrate verify   --from URL --to URL [flags]   report missing and differing events
  flagmigrate repair   --log FILE --old URL --new URL  replay failed secondary writes
  flagmigrate erase    --account ID --old URL --new URL [--repair-log FILE ...]  erase an account everywhere
  flagmigrate purge    --store URL --older-than DURATION      remove old tombstones of deletes
  flagmigrate status   --accounts IDS [--flags-file FILE]  the route each account is on
  flagmigrate help [COMMAND]                         this text, or a command's flags
  flagmigrate --version

Examples:
  # Copy the whole MongoDB collection into DynamoDB, resumable:
  flagmigrate backfill --from 'mongodb://127.0.0.1:27017/app?collection=events' \
      --to 'dynamodb://events?endpoint=http://127.0.0.1:8000&creds=local' --checkpoint cp.json

  # The same as 4 processes, each one segment with its own checkpoint:
  flagmigrate backfill --from ... --to ... --segment 0/4 --checkpoint cp-0.json

  # Two accounts first, then prove they agree:
  flagmigrate backfill --from ... --to ... --accounts acct-1,acct-2
  flagmigrate verify --from ... --to ... --accounts acct-1,acct-2 --json report.json

  # Roll back: copy DynamoDB's events back into MongoDB.
  flagmigrate backfill --from 'dynamodb://events?endpoint=...' --to 'mongodb://.../app'

  # Passwords stay out of the process list and the shell history:
  FLAGMIGRATE_FROM='mongodb://user:pass@db.internal/app' flagmigrate verify --to ...

` + storeURLHelp + `

` + envHelp + `

Exit status:
  0    clean: everything copied, compared or replayed agrees
  1    the run failed (a store unreachable, an error that stopped it)
  2    usage error: refused before any store is opened, the flag named
  3    completed, some records unreadable: every readable event was copied
       (or compared, or replayed); the unreadable source documents are listed
       with their _id and reason, the unreadable repair-log lines by number
  4    completed, differences found: verify found missing or differing events,
       backfill or repair conflicting ones (never overwritten)
  130  interrupted: the partial report is printed (backfill's checkpoint is
       saved: run the same command to resume)
`

// exit codes
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitUnreadable  = 3
	exitDifferences = 4
	exitInterrupted = 130
)

// run runs the command args on stdout and stderr, which it wraps so that
// no password is ever printed (see package internal/redact).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stdout, stderr = redacted(args, stdout, stderr)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"backfill": runBackfill,
		"verify":   runVerify,
		"repair":   runRepair,
		"erase":    runErase,
		"purge":    runPurge,
		"status":   runStatus,
	}
	switch name := args[0]; name {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && cmds[args[1]] != nil {
			return cmds[args[1]](ctx, []string{"-h"}, stdout, stdout)
		}
		if len(args) > 1 {
			fmt.Fprintf(stderr, "flagmigrate help: unknown command %q (run 'flagmigrate help')\n", args[1])
			return exitUsage
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "--version", "-version":
		return printVersion(stdout)
	default:
		cmd, ok := cmds[name]
		if !ok {
			fmt.Fprintf(stderr, "flagmigrate: unknown command %q (run 'flagmigrate help')\n", name)
			return exitUsage
		}
		return cmd(ctx, args[1:], stdout, stderr)
	}
}

// common are the flags every subcommand has.
type common struct {
	from, to string
	timeout  time.Duration
	accounts string
	verbose  bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.from, "from", "", "source store URL (default $"+envFrom+")")
	fs.StringVar(&c.to, "to", "", "destination store URL (default $"+envTo+")")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for a server to answer when connecting")
	fs.StringVar(&c.accounts, "accounts", "", "comma-separated account IDs (default: every account)")
	fs.BoolVar(&c.verbose, "verbose", false, "also log the AWS SDK's warnings and retries (to standard error)")
}

func (c *common) accountList() []string {
	if c.accounts == "" {
		return nil
	}
	var out []string
	for _, a := range strings.Split(c.accounts, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// parse parses args; it returns a non-negative exit code when the command
// must stop (help shown on stdout, or a usage error).
func parse(fs *flag.FlagSet, args []string, c *common, stdout, stderr io.Writer) int {
	if code := parseFlags(fs, args, stdout, stderr); code >= 0 {
		return code
	}
	fromEnv(&c.from, envFrom)
	fromEnv(&c.to, envTo)
	if c.from == "" || c.to == "" {
		return usageError(stderr, fs.Name(), "--from and --to are required, or %s and %s", envFrom, envTo)
	}
	if c.from == c.to {
		return usageError(stderr, fs.Name(), "--from and --to name the same store")
	}
	ck := check{cmd: fs.Name(), stderr: stderr}
	ck.positiveDuration("timeout", c.timeout)
	for _, a := range strings.Split(c.accounts, ",") {
		if c.accounts != "" && strings.TrimSpace(a) == "" {
			ck.fail("--accounts %q: an empty account ID", c.accounts)
		}
	}
	if p := accountsProblem(c.accountList()); p != "" {
		ck.fail("--accounts: %s", p)
	}
	return ck.code()
}

// open opens both stores, printing a one-line error on failure. ds is for a
// DynamoDB destination.
func (c *common) open(ctx context.Context, cmd string, ds dynamoSettings, stderr io.Writer) (src, dst *store, code int) {
	var logger *slog.Logger
	if c.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ds.logger = logger
	src, err := openStore(ctx, c.from, asSource, dynamoSettings{logger: logger}, c.timeout)
	if err != nil {
		fmt.Fprintf(stderr, "flagmigrate %s: source: %v\n", cmd, err)
		return nil, nil, exitFailed
	}
	dst, err = openStore(ctx, c.to, asDestination, ds, c.timeout)
	if err != nil {
		src.close()
		fmt.Fprintf(stderr, "flagmigrate %s: destination: %v\n", cmd, err)
		return nil, nil, exitFailed
	}
	for _, w := range src.warnings {
		fmt.Fprintf(stderr, "flagmigrate %s: warning: source: %s\n", cmd, w)
	}
	return src, dst, -1
}

func newFlagSet(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: flagmigrate %s\n\n", summary)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\n%s\n\n%s\n", storeURLHelp, envHelp)
	}
	return fs
}

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("backfill", "backfill --from URL --to URL [flags]\n\nCopies every event (or --accounts', or one --segment's) that the destination lacks.\nIdentical events are skipped, conflicting ones reported and never overwritten.")
	var c common
	c.register(fs)
	var (
		segment     = fs.String("segment", "", fmt.Sprintf("I/N: copy only segment I of N (0-based, N up to %d), for N processes sharing one copy", backfill.MaxSegments))
		batch       = fs.Int("batch", backfill.DefaultBatchSize, fmt.Sprintf("events per batch, 1 to %d", backfill.MaxBatchSize))
		workers     = fs.Int("workers", backfill.DefaultWorkers, fmt.Sprintf("batches in flight, 1 to %d (memory holds up to about 2 x workers x batch events)", backfill.MaxWorkers))
		rate        = fs.Float64("rate", 0, fmt.Sprintf("at most this many events per second, up to %d (0: unlimited)", backfill.MaxRate))
		checkpoint  = fs.String("checkpoint", "", "checkpoint file: resume from it, save to it (recommended); its directory must exist, and a file there must be this command's checkpoint")
		dryRun      = fs.Bool("dry-run", false, "look everything up, write nothing")
		createTable = fs.Bool("create-table", false, "create a missing DynamoDB destination table")
		createWait  = fs.Duration("create-timeout", 5*time.Minute, "with --create-table: how long CreateTable and its wait for the table to be ACTIVE may take (a table with an index can take minutes on AWS)")
	)
	var pf progressFlags
	pf.register(fs)
	if code := parse(fs, args, &c, stdout, stderr); code >= 0 {
		return code
	}
	ck := check{cmd: "backfill", stderr: stderr}
	ck.between("batch", *batch, 1, backfill.MaxBatchSize)
	ck.between("workers", *workers, 1, backfill.MaxWorkers)
	ck.rate("rate", *rate)
	pf.check(&ck)
	ck.positiveDuration("create-timeout", *createWait)
	ck.exclusive("segment", *segment != "", "accounts", c.accounts != "")
	ck.exclusive("dry-run", *dryRun, "create-table", *createTable)
	if code := ck.code(); code >= 0 {
		return code
	}
	opts := backfill.Options{Accounts: c.accountList(), BatchSize: *batch, Workers: *workers, Rate: *rate, DryRun: *dryRun, ProgressEvery: pf.every}
	if *segment != "" {
		i, n, err := parseSegment(*segment)
		if err != nil {
			return usageError(stderr, "backfill", "--segment %v", err)
		}
		opts.Segment, opts.Segments = i, n
	}
	// The last progress report gives this run's rate (not the cumulative
	// count over this run's time after a resume), also with --progress none.
	var last backfill.Progress
	show := pf.printer(stderr)
	opts.Progress = func(p backfill.Progress) {
		last = p
		if show != nil {
			show(backfillMeter(p))
		}
	}
	if *checkpoint != "" {
		opts.Checkpoint = backfill.NewFileCheckpoint(*checkpoint)
		// Checked before any store is opened: one line, no partial report
		// of a run that cannot start.
		if p := checkpointProblem(ctx, *checkpoint, false, &opts); p != "" {
			return usageError(stderr, "backfill", "--checkpoint %s: %s", *checkpoint, p)
		}
	}
	var conflicts []backfill.Conflict
	opts.OnConflict = func(cf backfill.Conflict) {
		if len(conflicts) < 20 {
			conflicts = append(conflicts, cf)
		}
	}
	opts.OnError = func(k eventstore.EventKey, err error) {
		fmt.Fprintf(stderr, "flagmigrate backfill: account %q event %q: %v\n", k.AccountID, k.ID, err)
	}
	var unreadable []backfill.Unreadable
	opts.OnUnreadable = func(u *eventstore.UnreadableError) {
		if len(unreadable) < maxUnreadableListed {
			unreadable = append(unreadable, backfill.UnreadableOf("source", u))
		}
	}
	src, dst, code := c.open(ctx, "backfill", dynamoSettings{createTable: *createTable, createTimeout: *createWait}, stderr)
	if code >= 0 {
		return code
	}
	defer src.close()
	defer dst.close()
	scanner, ok := src.EventStore.(eventstore.EventScanner)
	if !ok {
		fmt.Fprintf(stderr, "flagmigrate backfill: source %s cannot be scanned\n", src.name)
		return exitFailed
	}
	fmt.Fprintf(stdout, "backfill: %s -> %s%s\n", src.name, dst.name, map[bool]string{true: " (dry run)"}[*dryRun])
	start := time.Now()
	st, err := backfill.Run(ctx, scanner, dst.EventStore, opts)
	if ctx.Err() != nil || err != nil {
		fmt.Fprintln(stdout, "backfill: partial report (the run did not finish):")
	}
	printStats(stdout, "backfill summary", st, time.Since(start), last.Rate)
	fmt.Fprintf(stdout, "backfill result: scanned=%d copied=%d skipped=%d conflicts=%d errors=%d\n", st.Scanned, st.Copied, st.Skipped, st.Conflicts, st.Errors)
	if st.Deleted > 0 {
		fmt.Fprintf(stdout, "backfill deleted: %d source events deleted in the destination meanwhile, not copied\n", st.Deleted)
	}
	for _, cf := range conflicts {
		fmt.Fprintf(stdout, "  conflict: account %q event %q differs in the destination (not overwritten)\n", cf.Source.AccountID, cf.Source.ID)
	}
	if st.Unreadable > 0 {
		fmt.Fprintf(stdout, "backfill unreadable: %d source documents are not readable events (not copied)\n", st.Unreadable)
		for _, u := range unreadable {
			fmt.Fprintf(stdout, "  unreadable %s\n", u)
		}
		if st.Unreadable > int64(len(unreadable)) {
			fmt.Fprintf(stdout, "  (%d more not listed, or seen before a resume)\n", st.Unreadable-int64(len(unreadable)))
		}
	}
	switch {
	case ctx.Err() != nil:
		msg := "no checkpoint file: the next run starts over (and skips what is copied)"
		if *checkpoint != "" {
			msg = "checkpoint saved to " + *checkpoint + ": run the same command to resume"
		}
		fmt.Fprintf(stderr, "flagmigrate backfill: interrupted; %s\n", msg)
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "flagmigrate backfill: %v\n", message(err))
		return exitFailed
	case st.Errors > 0:
		fmt.Fprintf(stderr, "flagmigrate backfill: finished with %d conflicts and %d errors\n", st.Conflicts, st.Errors)
		return exitFailed
	case st.Conflicts > 0:
		fmt.Fprintf(stderr, "flagmigrate backfill: finished with %d conflicts (listed above, not overwritten)\n", st.Conflicts)
		return exitDifferences
	case st.Outcome(err) == backfill.CompletedUnreadable:
		fmt.Fprintf(stderr, "flagmigrate backfill: %s: %d documents not copied (listed above)\n", backfill.CompletedUnreadable, st.Unreadable)
		return exitUnreadable
	}
	return exitOK
}

// maxUnreadableListed bounds the unreadable documents a backfill lists (the
// count stays exact).
const maxUnreadableListed = 1000

func parseSegment(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > backfill.MaxSegments || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("%q: want I/N with 0 <= I < N <= %d", s, backfill.MaxSegments)
	}
	return i, n, nil
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", "verify --from URL --to URL [flags]\n\nStreams both stores and reports events missing on either side and events that differ.\nExit status 4 when they differ, 3 when they agree but some records are unreadable.")
	var c common
	c.register(fs)
	var (
		jsonOut     = fs.String("json", "", "also write the report as JSON to this file; - for standard output, which then holds the JSON only (the human summary goes to standard error)")
		htmlOut     = fs.String("html", "", "also write the report as a self-contained HTML page to this file: a row per account, those that differ marked")
		showValues  = fs.Bool("show-values", false, "show the differing values (events may hold personal data)")
		maxReported = fs.Int("max-reported", 100, fmt.Sprintf("list at most this many differences, some of each kind (counts stay exact), 1 to %d", backfill.MaxReportedLimit))
		rate        = fs.Float64("rate", 0, fmt.Sprintf("read at most this many events per second from both stores together, up to %d (0: unlimited)", backfill.MaxRate))
	)
	var pf progressFlags
	pf.register(fs)
	if code := parse(fs, args, &c, stdout, stderr); code >= 0 {
		return code
	}
	ck := check{cmd: "verify", stderr: stderr}
	ck.between("max-reported", *maxReported, 1, backfill.MaxReportedLimit)
	ck.rate("rate", *rate)
	pf.check(&ck)
	if code := ck.code(); code >= 0 {
		return code
	}
	src, dst, code := c.open(ctx, "verify", dynamoSettings{}, stderr)
	if code >= 0 {
		return code
	}
	defer src.close()
	defer dst.close()
	human := stdout // the human summary; the JSON has standard output to itself with --json -
	if *jsonOut == "-" {
		human = stderr
	}
	fmt.Fprintf(human, "verify: %s against %s\n", src.name, dst.name)
	vopts := backfill.VerifyOptions{Accounts: c.accountList(), ShowValues: *showValues, MaxReported: *maxReported, Rate: *rate, ProgressEvery: pf.every}
	if show := pf.printer(stderr); show != nil {
		vopts.Progress = func(p backfill.VerifyProgress) { show(verifyMeter(p)) }
	}
	r, err := backfill.Verify(ctx, src.EventStore, dst.EventStore, vopts)
	// Also after an error or Ctrl-C: the partial report of what was compared.
	partial := err != nil
	if partial {
		fmt.Fprintln(human, "verify: partial report (the run did not finish):")
	}
	printReport(human, r)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(r, "", "  ")
		b = append(b, '\n')
		if *jsonOut == "-" {
			stdout.Write(b)
		} else if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintf(stderr, "flagmigrate verify: writing %s: %v\n", *jsonOut, message(err))
			return exitFailed
		}
	}
	if *htmlOut != "" {
		if err := verifyHTML(r, src.name, dst.name).WriteFile(*htmlOut); err != nil {
			fmt.Fprintf(stderr, "flagmigrate verify: writing %s: %v\n", *htmlOut, message(err))
			return exitFailed
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "flagmigrate verify: interrupted; the report above is partial")
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "flagmigrate verify: %v\n", message(err))
		return exitFailed
	case !r.Clean():
		return exitDifferences
	case r.Unreadable > 0:
		fmt.Fprintf(stderr, "flagmigrate verify: %s: %d records not compared (listed above)\n", backfill.CompletedUnreadable, r.Unreadable)
		return exitUnreadable
	}
	return exitOK
}
