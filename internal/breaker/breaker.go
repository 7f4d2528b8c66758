// Package breaker is a Migration's circuit breaker per store
// (flagmigrate.WithStoreBreaker): closed (writes go to the store) until a
// number of consecutive failures, then open (writes skip it) with one
// background probe at a time, each after a doubling backoff, until one
// lands.
package breaker

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
)

// Options are the breaker's settings, every one set (the engine applies
// the defaults of flagmigrate.BreakerOptions).
type Options struct {
	Failures            int // negative: no breaker
	Backoff, MaxBackoff time.Duration
}

// Breaker is one store's circuit breaker: closed (writes go to the store)
// until failures consecutive failures, then open (writes skip it) with one
// probe at a time, each after a doubling backoff, until one succeeds.
type Breaker struct {
	side   migration.Side
	opts   Options
	failed func(error) bool
	now    func() time.Time

	isDownNow atomic.Bool // down, for readers that take no lock

	mu        sync.Mutex
	failures  int // consecutive, while closed; failed probes, while open
	down      bool
	probing   bool
	nextProbe time.Time
	backoff   time.Duration
	skipped   int64
	lastErr   error
}

// New returns the breaker of the store on side, with the options o
// (every field set; Failures negative disables it). failed reports whether
// an error shows the store not answering.
func New(side migration.Side, o Options, failed func(error) bool) *Breaker {
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
	return &Breaker{side: side, opts: o, failed: failed, now: time.Now}
}

// Down reports whether the store is taken as down. It takes no lock:
// every dual read asks.
func (b *Breaker) Down() bool { return b.isDownNow.Load() }

// Admit says how to treat a write to the store: send it (write), or skip
// it and, if probe, also send it in the background as the one probe. A
// skipped write's error, for the repair log, is skipErr, which wraps
// errDown.
func (b *Breaker) Admit(errDown error) (write, probe bool, skipErr error) {
	if b.opts.Failures < 0 {
		return true, false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.down {
		return true, false, nil
	}
	b.skipped++
	skipErr = fmt.Errorf("%w: the %v store is down (last failure: %w): not written", errDown, b.side, b.lastErr)
	if !b.probing && !b.now().Before(b.nextProbe) {
		b.probing = true
		return false, true, skipErr
	}
	return false, false, skipErr
}

// Done takes the result of a write (probe: the background probe Admit
// asked for) and returns the change of state to report, if any.
func (b *Breaker) Done(err error, probe bool) (change *migration.StoreState) {
	if b.opts.Failures < 0 {
		return nil
	}
	bad := err != nil && b.failed(err)
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch {
	case !b.down && !bad:
		b.failures = 0
	case !b.down:
		b.failures++
		b.lastErr = err
		if b.failures >= b.opts.Failures {
			b.down, b.backoff, b.skipped = true, b.opts.Backoff, 0
			b.isDownNow.Store(true)
			b.nextProbe = b.now().Add(b.backoff)
			change = &migration.StoreState{Side: b.side, Down: true, Failures: b.failures, Err: err}
			b.failures = 0
		}
	case probe && !bad:
		change = &migration.StoreState{Side: b.side, Failures: b.failures, Skipped: b.skipped}
		b.down, b.failures, b.skipped, b.lastErr = false, 0, 0, nil
		b.isDownNow.Store(false)
	case probe:
		b.failures++
		b.lastErr = err
		b.backoff = min(2*b.backoff, b.opts.MaxBackoff)
		b.nextProbe = b.now().Add(b.backoff)
	}
	// A write admitted before the store went down, ending after, changes
	// nothing.
	return change
}

// Probes runs the background probes of a Migration's stores and lets
// Close wait for them. The zero Probes is ready to use.
type Probes struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Start runs fn in the background, or on the caller after Close.
func (p *Probes) Start(fn func()) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		fn()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		fn()
	}()
}

// Close makes later probes run on their caller and waits for those running.
func (p *Probes) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}
