package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/internal/backoff"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// Defaults of [Options].
const (
	DefaultBatchSize       = 100
	DefaultWorkers         = 4
	DefaultMaxRetries      = 5
	DefaultProgressEvery   = time.Second
	DefaultCheckpointEvery = 250 * time.Millisecond
)

// Options tune a [Run]. The zero value copies the whole store with the
// defaults above and no checkpoint.
type Options struct {
	// Accounts, when set, copies only these accounts, one after another.
	Accounts []string
	// Segment and Segments select one of Segments disjoint parts of a
	// whole-store copy (see eventstore.ScanOptions), so that many processes
	// can share a large copy, each with its own checkpoint. Segments is at
	// most [MaxSegments].
	Segment, Segments int
	// BatchSize is how many events one worker looks up and writes at once:
	// 0 for DefaultBatchSize, at most [MaxBatchSize].
	BatchSize int
	// Workers is how many batches are in flight at once: 0 for
	// DefaultWorkers, at most [MaxWorkers].
	Workers int
	// Rate limits the copy to this many events per second: 0 is unlimited,
	// else a finite number up to [MaxRate].
	Rate float64
	// MaxRetries is how often a failing batch is retried, with exponential
	// backoff and jitter, before the run stops with its error: 0 for
	// DefaultMaxRetries, at most [MaxRetriesLimit].
	MaxRetries int
	// Checkpoint, when set, is loaded to resume and saved as the run goes.
	Checkpoint CheckpointStore
	// CheckpointEvery is the least time between two checkpoint saves.
	CheckpointEvery time.Duration
	// DryRun looks everything up but writes nothing; Copied counts what
	// would have been copied.
	DryRun bool
	// Progress, when set, is called every ProgressEvery and once at the end.
	Progress func(Progress)
	// ProgressEvery is the interval of Progress calls.
	ProgressEvery time.Duration
	// OnConflict, when set, is called for each event stored differently in
	// the destination; the destination is never overwritten.
	OnConflict func(Conflict)
	// OnError, when set, is called for each event that could not be copied
	// for a reason retrying cannot fix (such as an invalid source event).
	OnError func(eventstore.EventKey, error)
	// OnUnreadable, when set, is called for each source record that the
	// source's scan could not read as an event (a document of the wrong
	// shape, two documents with one key): it is counted in
	// Stats.Unreadable, not copied, and the run goes on. It is called from
	// the scanning goroutine, one call at a time.
	OnUnreadable func(*eventstore.UnreadableError)
}

// Stats count what a run did. Events found again after a resume are counted
// again (as skipped), so Scanned may exceed the source's size.
type Stats struct {
	Scanned   int64 `json:"scanned"`   // events read from the source
	Copied    int64 `json:"copied"`    // events written to the destination
	Skipped   int64 `json:"skipped"`   // already in the destination, identical
	Conflicts int64 `json:"conflicts"` // in the destination with other content
	Errors    int64 `json:"errors"`    // could not be copied
	// Unreadable counts source records that are not readable events
	// (see Options.OnUnreadable); they are not in Scanned.
	Unreadable int64 `json:"unreadable,omitempty"`
	// Deleted counts source events the destination refused because they
	// were deleted there (eventstore.ErrDeleted): deleted while the run
	// read them, so not copied, and not a failure.
	Deleted int64 `json:"deleted,omitempty"`
}

// Outcome is how a run ended, for a caller (or a command's exit status) to
// tell a clean copy from one that left unreadable source records behind.
type Outcome int

// Outcomes of [Stats.Outcome].
const (
	// Succeeded: every source event is in the destination.
	Succeeded Outcome = iota
	// CompletedUnreadable: the run completed, every readable source event is
	// in the destination, but some source records could not be read
	// (Stats.Unreadable) and were not copied.
	CompletedUnreadable
	// Failed: the run stopped with an error, or some events conflict with or
	// could not be written to the destination.
	Failed
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case CompletedUnreadable:
		return "completed, some documents unreadable"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Outcome classifies a run from its stats and the error [Run] returned.
func (s Stats) Outcome(err error) Outcome {
	switch {
	case err != nil || s.Conflicts > 0 || s.Errors > 0:
		return Failed
	case s.Unreadable > 0:
		return CompletedUnreadable
	}
	return Succeeded
}

// Progress is a snapshot of a running copy.
type Progress struct {
	// Stats go on from a resumed checkpoint's.
	Stats
	// Elapsed is the time since this run started.
	Elapsed time.Duration
	// Rate is events scanned per second by this run: after a resume, the
	// events the checkpoint counted are not in it.
	Rate float64
	// Total is about how many events the run scans in all (the source's
	// estimate, see [eventstore.EventCounter]; writes may go on), or -1 when the source
	// cannot count them.
	Total int64
	// Remaining is the estimated time left, or -1 when unknown.
	Remaining time.Duration
	// Done is true in the final call of a run that finished.
	Done bool
	// Final is true in the last call, also of a run that stopped early (an
	// error, a cancellation): a progress bar ends its line there.
	Final bool
}

// Conflict is an event that the destination holds with other content.
type Conflict struct {
	Source, Destination eventstore.Event
}

// Counter is [eventstore.EventCounter], which [Run]'s and [Verify]'s
// progress use for their totals.
//
// Deprecated: use [eventstore.EventCounter].
type Counter = eventstore.EventCounter

// ErrJobMismatch reports a checkpoint saved by a run of another shape
// (other accounts or segment). [Run] returns it as a [*JobMismatchError].
var ErrJobMismatch = errors.New("backfill: checkpoint belongs to another job")

// JobMismatchError is a checkpoint saved by a run of another shape: it
// names the checkpoint (its String, such as a [FileCheckpoint]'s path) and
// both jobs. It matches [ErrJobMismatch] with [errors.Is].
type JobMismatchError struct {
	// Checkpoint names the checkpoint store, "" when it has no name.
	Checkpoint string
	// Saved is the job that saved the checkpoint, Run the job of this run
	// (see [Checkpoint].Job).
	Saved, Run string
}

// Error implements error.
func (e *JobMismatchError) Error() string {
	where := ""
	if e.Checkpoint != "" {
		where = " " + e.Checkpoint
	}
	return fmt.Sprintf("backfill: checkpoint%s belongs to another job: saved by %q, this run is %q", where, e.Saved, e.Run)
}

// Is makes errors.Is(err, ErrJobMismatch) true.
func (e *JobMismatchError) Is(target error) bool { return target == ErrJobMismatch }

// CheckCheckpoint reports, without reading either store, whether [Run]
// would start with opts: the options' bounds (see [MaxBatchSize]), and
// opts.Checkpoint (when set) loaded and of this run's job. It returns the
// error Run would return: [flagmigrate.ErrInvalidArgument], a
// [*JobMismatchError], or the checkpoint's load error. A command checks it
// before it connects to the stores.
func CheckCheckpoint(ctx context.Context, opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	if opts.Checkpoint == nil {
		return nil
	}
	_, err := loadCheckpoint(ctx, opts.Checkpoint, jobID(opts))
	return err
}

// loadCheckpoint returns the checkpoint a run of job resumes from.
func loadCheckpoint(ctx context.Context, cp CheckpointStore, job string) (Checkpoint, error) {
	resume := Checkpoint{Job: job}
	saved, ok, err := cp.Load(ctx)
	switch {
	case err != nil:
		return resume, fmt.Errorf("backfill: loading checkpoint: %w", err)
	case ok && saved.Job != job:
		name := ""
		if s, isStringer := cp.(fmt.Stringer); isStringer {
			name = s.String()
		}
		return resume, &JobMismatchError{Checkpoint: name, Saved: saved.Job, Run: job}
	case ok && !saved.Done: // a finished run's checkpoint starts a new pass
		return saved, nil
	}
	return resume, nil
}

// Run copies events from src to dst: idempotent (identical events are
// skipped, conflicting ones reported and never overwritten, a second run
// writes nothing), batched (dst's [eventstore.BatchStorer] and
// [eventstore.BatchFinder] when it has them), concurrent, rate-limited and
// resumable from a checkpoint. It returns the run's stats, cumulative over
// resumes. On cancellation it saves the checkpoint and returns the context's
// error. Source records the scan cannot read ([eventstore.ErrUnreadable])
// are counted, reported to Options.OnUnreadable and skipped past: the run
// then ends without error and [Stats.Outcome] says CompletedUnreadable.
//
// Events written to dst concurrently (by a MigratingStore's dual writes) are
// safe: the same immutable event is found identical, or stored idempotently.
func Run(ctx context.Context, src eventstore.EventScanner, dst eventstore.EventStore, opts Options) (Stats, error) {
	r, err := newRunner(src, dst, opts)
	if err != nil {
		return Stats{}, err
	}
	return r.run(ctx)
}

type runner struct {
	src   eventstore.EventScanner
	dst   eventstore.EventStore
	opts  Options
	job   string
	stats struct{ scanned, copied, skipped, conflicts, errors, unreadable, deleted atomic.Int64 }
	start time.Time
	total int64
	// resumed is the scanned count of the checkpoint resumed from: the rate
	// is this run's, not the cumulative count over this run's time.
	resumed int64
}

func newRunner(src eventstore.EventScanner, dst eventstore.EventStore, opts Options) (*runner, error) {
	if src == nil || dst == nil {
		return nil, fmt.Errorf("backfill: %w: source and destination are required", eventstore.ErrInvalidArgument)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Workers == 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	if opts.ProgressEvery == 0 {
		opts.ProgressEvery = DefaultProgressEvery
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	switch {
	case len(opts.Accounts) > 0 && opts.Segments > 1:
		return nil, fmt.Errorf("backfill: %w: accounts and segments exclude each other", eventstore.ErrInvalidArgument)
	}
	if err := (eventstore.ScanOptions{Segment: opts.Segment, Segments: opts.Segments}).Validate(); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	return &runner{src: src, dst: dst, opts: opts, job: jobID(opts)}, nil
}

// jobID names a run's shape, so a checkpoint is never applied to another scan.
func jobID(o Options) string {
	if len(o.Accounts) == 0 {
		return fmt.Sprintf("segment %d/%d", o.Segment, max(o.Segments, 1))
	}
	h := sha256.Sum256([]byte(strings.Join(o.Accounts, "\x00")))
	return fmt.Sprintf("accounts %d %s", len(o.Accounts), hex.EncodeToString(h[:8]))
}

// A job is one batch of one account's (or the whole store's) scan. Batches
// are numbered in scan order; the checkpoint follows the highest number up to
// which every batch is done.
type job struct {
	seq     int
	account int                  // index in Options.Accounts (0 for a whole-store run)
	events  []eventstore.Event   // empty for the marker that starts an account
	last    *eventstore.EventKey // the checkpoint once this batch and all before it are done
}

func (r *runner) snapshot() Stats {
	return Stats{
		Scanned: r.stats.scanned.Load(), Copied: r.stats.copied.Load(), Skipped: r.stats.skipped.Load(),
		Conflicts: r.stats.conflicts.Load(), Errors: r.stats.errors.Load(), Unreadable: r.stats.unreadable.Load(),
		Deleted: r.stats.deleted.Load(),
	}
}

func (r *runner) add(s Stats) {
	r.stats.scanned.Add(s.Scanned)
	r.stats.copied.Add(s.Copied)
	r.stats.skipped.Add(s.Skipped)
	r.stats.conflicts.Add(s.Conflicts)
	r.stats.errors.Add(s.Errors)
	r.stats.unreadable.Add(s.Unreadable)
	r.stats.deleted.Add(s.Deleted)
}

func (r *runner) run(ctx context.Context) (Stats, error) {
	r.start = time.Now()
	resume := Checkpoint{Job: r.job}
	if cp := r.opts.Checkpoint; cp != nil {
		var err error
		if resume, err = loadCheckpoint(ctx, cp, r.job); err != nil {
			return Stats{}, err
		}
	}
	r.add(resume.Stats)
	r.resumed = resume.Stats.Scanned
	r.total = r.count(ctx)

	stopProgress := r.reportProgress()
	var wg sync.WaitGroup
	jobs := make(chan job, r.opts.Workers)
	results := make(chan job, r.opts.Workers)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { defer close(jobs); return r.produce(gctx, resume, jobs) })
	for range r.opts.Workers {
		wg.Add(1)
		g.Go(func() error { defer wg.Done(); return r.work(gctx, jobs, results) })
	}
	go func() { wg.Wait(); close(results) }()

	last, saveErr := r.track(ctx, resume, results)
	err := g.Wait()
	if err == nil && saveErr == nil {
		last.Done = true
	}
	last.Stats = r.snapshot()
	if cp := r.opts.Checkpoint; cp != nil && !r.opts.DryRun {
		// Saved even when ctx is cancelled: that is what Ctrl-C relies on.
		if e := cp.Save(context.WithoutCancel(ctx), last); e != nil && saveErr == nil {
			saveErr = fmt.Errorf("backfill: saving checkpoint: %w", e)
		}
	}
	stopProgress(last.Done)
	if err == nil {
		err = saveErr
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return last.Stats, err
}

// track follows finished batches and saves the checkpoint of the contiguous
// prefix, at most every CheckpointEvery. It returns the final checkpoint.
func (r *runner) track(ctx context.Context, cp Checkpoint, results <-chan job) (Checkpoint, error) {
	next := 0
	done := make(map[int]job)
	var lastSave time.Time
	var saveErr error
	for j := range results {
		done[j.seq] = j
		advanced := false
		for {
			d, ok := done[next]
			if !ok {
				break
			}
			delete(done, next)
			next++
			cp.AccountIndex, cp.After, advanced = d.account, d.last, true
		}
		if advanced && r.opts.Checkpoint != nil && !r.opts.DryRun && time.Since(lastSave) >= r.opts.CheckpointEvery {
			cp.Stats = r.snapshot()
			if err := r.opts.Checkpoint.Save(ctx, cp); err != nil && ctx.Err() == nil && saveErr == nil {
				saveErr = fmt.Errorf("backfill: saving checkpoint: %w", err)
			}
			lastSave = time.Now()
		}
	}
	return cp, saveErr
}

// produce scans the source in batches.
func (r *runner) produce(ctx context.Context, cp Checkpoint, jobs chan<- job) error {
	var limiter *rate.Limiter
	if r.opts.Rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(r.opts.Rate), r.opts.BatchSize)
	}
	seq := 0
	send := func(j job) error {
		if limiter != nil && len(j.events) > 0 {
			if err := limiter.WaitN(ctx, len(j.events)); err != nil {
				return err
			}
		}
		j.seq = seq
		seq++
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	scans := []eventstore.ScanOptions{{Segment: r.opts.Segment, Segments: r.opts.Segments}}
	if len(r.opts.Accounts) > 0 {
		scans = scans[:0]
		for _, a := range r.opts.Accounts {
			scans = append(scans, eventstore.ScanOptions{AccountID: a})
		}
	}
	for i := cp.AccountIndex; i < len(scans); i++ {
		so := scans[i]
		so.BatchSize = r.opts.BatchSize
		if i == cp.AccountIndex {
			so.After = cp.After
		} else if err := send(job{account: i}); err != nil { // marks the account's start
			return err
		}
		batch := make([]eventstore.Event, 0, r.opts.BatchSize)
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			k := batch[len(batch)-1].Key()
			err := send(job{account: i, events: batch, last: &k})
			batch = make([]eventstore.Event, 0, r.opts.BatchSize)
			return err
		}
		for e, err := range r.src.ScanEvents(ctx, so) {
			var u *eventstore.UnreadableError
			if errors.As(err, &u) {
				r.stats.unreadable.Add(1)
				if r.opts.OnUnreadable != nil {
					r.opts.OnUnreadable(u)
				}
				continue // the scanner goes on past it
			}
			if err != nil {
				return fmt.Errorf("backfill: scanning source: %w", err)
			}
			batch = append(batch, e)
			if len(batch) == r.opts.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

// work copies batches, retrying a failing one with backoff.
func (r *runner) work(ctx context.Context, jobs <-chan job, results chan<- job) error {
	for j := range jobs {
		var err error
		for attempt := 0; ; attempt++ {
			var s Stats
			s, err = r.copyBatch(ctx, j.events)
			if err == nil {
				r.add(s)
				break
			}
			if ctx.Err() != nil || attempt >= r.opts.MaxRetries {
				return err
			}
			if err := backoff.Sleep(ctx, backoff.FullJitter(attempt, 50*time.Millisecond, 5*time.Second)); err != nil {
				return err
			}
		}
		// Always delivered, even after cancellation: track reads until the
		// channel closes, and a written batch must reach the checkpoint.
		results <- j
	}
	return nil
}

// copyBatch looks the batch up in the destination and writes what is
// missing. A non-nil error means the batch must be retried; per-event
// problems that retrying cannot fix are counted and reported.
func (r *runner) copyBatch(ctx context.Context, events []eventstore.Event) (Stats, error) {
	s := Stats{Scanned: int64(len(events))}
	if len(events) == 0 {
		return s, nil
	}
	existing, err := findAll(ctx, r.dst, events)
	if err != nil {
		return Stats{}, fmt.Errorf("backfill: reading destination: %w", err)
	}
	missing := make([]eventstore.Event, 0, len(events))
	for _, e := range events {
		d, ok := existing[e.Key()]
		switch {
		case !ok:
			missing = append(missing, e)
		case eventstore.EqualEvents(d, e):
			s.Skipped++
		default:
			s.Conflicts++
			r.conflict(e, d)
		}
	}
	if r.opts.DryRun || len(missing) == 0 {
		s.Copied += int64(len(missing))
		return s, nil
	}
	errs, err := storeAll(ctx, r.dst, missing)
	if err != nil {
		return Stats{}, fmt.Errorf("backfill: writing destination: %w", err)
	}
	for i, err := range errs {
		switch {
		case err == nil:
			s.Copied++
		case errors.Is(err, eventstore.ErrDeleted):
			s.Deleted++ // deleted in the destination meanwhile: never brought back
		case errors.Is(err, eventstore.ErrConflict):
			// Written concurrently with other content between lookup and write.
			s.Conflicts++
			d, _ := r.dst.FindEventByID(ctx, missing[i].AccountID, missing[i].ID)
			r.conflict(missing[i], d)
		case errors.Is(err, eventstore.ErrInvalidEvent):
			s.Errors++
			if r.opts.OnError != nil {
				r.opts.OnError(missing[i].Key(), err)
			}
		default:
			return Stats{}, fmt.Errorf("backfill: writing %v: %w", missing[i].Key(), err)
		}
	}
	return s, nil
}

func (r *runner) conflict(src, dst eventstore.Event) {
	if r.opts.OnConflict != nil {
		r.opts.OnConflict(Conflict{Source: src, Destination: dst})
	}
}

// findAll returns the destination's events for the batch's keys.
func findAll(ctx context.Context, dst eventstore.EventStore, events []eventstore.Event) (map[eventstore.EventKey]eventstore.Event, error) {
	out := make(map[eventstore.EventKey]eventstore.Event, len(events))
	if bf, ok := dst.(eventstore.BatchFinder); ok {
		keys := make([]eventstore.EventKey, len(events))
		for i, e := range events {
			keys[i] = e.Key()
		}
		found, err := bf.FindEvents(ctx, keys)
		if err != nil {
			return nil, err
		}
		for _, e := range found {
			out[e.Key()] = e
		}
		return out, nil
	}
	for _, e := range events {
		d, err := dst.FindEventByID(ctx, e.AccountID, e.ID)
		switch {
		case err == nil:
			out[e.Key()] = d
		case !errors.Is(err, eventstore.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// storeAll writes events, one error per event, or an error for the batch.
func storeAll(ctx context.Context, dst eventstore.EventStore, events []eventstore.Event) ([]error, error) {
	if bs, ok := dst.(eventstore.BatchStorer); ok {
		return bs.StoreEvents(ctx, events)
	}
	errs := make([]error, len(events))
	for i, e := range events {
		errs[i] = dst.StoreEvent(ctx, e)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return errs, nil
}

// count asks the source how many events the run will scan, or -1.
func (r *runner) count(ctx context.Context) int64 {
	c, ok := r.src.(eventstore.EventCounter)
	if !ok || r.opts.Progress == nil {
		return -1
	}
	accounts := r.opts.Accounts
	if len(accounts) == 0 {
		accounts = []string{""}
	}
	var total int64
	for _, a := range accounts {
		n, err := c.CountEvents(ctx, a)
		if err != nil {
			return -1
		}
		total += n
	}
	if r.opts.Segments > 1 {
		total /= int64(r.opts.Segments) // an estimate: segments are about equal
	}
	return total
}

// reportProgress calls Options.Progress periodically until the returned
// function is called, which makes the final call.
func (r *runner) reportProgress() func(done bool) {
	if r.opts.Progress == nil {
		return func(bool) {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.opts.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.opts.Progress(r.progress(false))
			case <-stop:
				return
			}
		}
	}()
	return func(done bool) {
		close(stop)
		<-finished
		p := r.progress(done)
		p.Final = true
		r.opts.Progress(p)
	}
}

func (r *runner) progress(done bool) Progress {
	p := Progress{Stats: r.snapshot(), Elapsed: time.Since(r.start), Total: r.total, Remaining: -1, Done: done}
	if secs := p.Elapsed.Seconds(); secs > 0 {
		p.Rate = float64(p.Scanned-r.resumed) / secs
	}
	if p.Total >= 0 && p.Rate > 0 {
		p.Remaining = time.Duration(float64(max(p.Total-p.Scanned, 0)) / p.Rate * float64(time.Second))
	}
	if done {
		p.Remaining = 0
	}
	return p
}
