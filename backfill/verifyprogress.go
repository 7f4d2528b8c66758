package backfill

import (
	"context"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"golang.org/x/time/rate"
)

// VerifyProgress is a snapshot of a running [Verify].
type VerifyProgress struct {
	// Read counts the events (and unreadable records) read so far, from
	// both stores.
	Read int64
	// Total is about how many Read will reach (both stores' estimates,
	// see [eventstore.EventCounter]), or -1 when a store cannot count.
	Total int64
	// Matching, MissingInDestination, MissingInSource, Different and
	// Unreadable are the report's counts so far.
	Matching, MissingInDestination, MissingInSource, Different, Unreadable int64
	// Elapsed is the time since the run started; Rate is Read per second.
	Elapsed time.Duration
	Rate    float64
	// Remaining is the estimated time left, or -1 when unknown.
	Remaining time.Duration
	// Done is true in the last call of a run that finished; Final in the
	// last call of any run, also one that stopped early.
	Done, Final bool
}

// verifyPace counts what a verify reads, limits its rate and calls
// VerifyOptions.Progress.
type verifyPace struct {
	opts    VerifyOptions
	start   time.Time
	last    time.Time
	read    int64
	total   int64
	limiter *rate.Limiter
}

func newVerifyPace(ctx context.Context, opts VerifyOptions, src, dst eventstore.EventStore) *verifyPace {
	p := &verifyPace{opts: opts, start: time.Now(), total: -1}
	p.last = p.start
	if opts.Rate > 0 {
		p.limiter = rate.NewLimiter(rate.Limit(opts.Rate), max(1, int(opts.Rate/10)))
	}
	if opts.Progress != nil {
		p.total = countBoth(ctx, opts.Accounts, src, dst)
	}
	return p
}

// countBoth is the sum of both stores' counts of the accounts (all when
// none), or -1.
func countBoth(ctx context.Context, accounts []string, stores ...eventstore.EventStore) int64 {
	if len(accounts) == 0 {
		accounts = []string{""}
	}
	var total int64
	for _, s := range stores {
		c, ok := s.(eventstore.EventCounter)
		if !ok {
			return -1
		}
		for _, a := range accounts {
			n, err := c.CountEvents(ctx, a)
			if err != nil {
				return -1
			}
			total += n
		}
	}
	return total
}

// tick counts one record read, waits for the rate limit and reports
// progress when due.
func (p *verifyPace) tick(ctx context.Context, r *Report) error {
	p.read++
	if p.limiter != nil {
		if err := p.limiter.Wait(ctx); err != nil {
			return ctx.Err()
		}
	}
	if p.opts.Progress != nil {
		if now := time.Now(); now.Sub(p.last) >= p.opts.ProgressEvery {
			p.last = now
			p.opts.Progress(p.snapshot(r, now))
		}
	}
	return nil
}

// finish makes the last Progress call.
func (p *verifyPace) finish(r *Report, err error) {
	if p.opts.Progress == nil {
		return
	}
	s := p.snapshot(r, time.Now())
	s.Final, s.Done = true, err == nil
	if s.Done {
		s.Remaining = 0
	}
	p.opts.Progress(s)
}

func (p *verifyPace) snapshot(r *Report, now time.Time) VerifyProgress {
	s := VerifyProgress{
		Read: p.read, Total: p.total, Elapsed: now.Sub(p.start), Remaining: -1,
		Matching: r.Matching, MissingInDestination: r.MissingInDestination, MissingInSource: r.MissingInSource,
		Different: r.Different, Unreadable: r.Unreadable,
	}
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.Rate = float64(s.Read) / secs
	}
	if s.Total >= 0 && s.Rate > 0 {
		s.Remaining = time.Duration(float64(max(s.Total-s.Read, 0)) / s.Rate * float64(time.Second))
	}
	return s
}
