package flagmigrate

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [BreakerOptions].
const (
	// defaultBreakerFailures is how many consecutive failed writes take a
	// store as down.
	defaultBreakerFailures = 5
	// defaultBreakerBackoff is the wait before the first probe of a store
	// taken as down.
	defaultBreakerBackoff = time.Second
	// defaultBreakerMaxBackoff bounds the wait between probes.
	defaultBreakerMaxBackoff = 30 * time.Second
)

// BreakerOptions configure how a Migration skips a secondary store that is
// known to be down ([WithStoreBreaker]).
type BreakerOptions struct {
	// Failures is how many consecutive secondary writes must fail (an
	// error or a timeout; a conflict or an invalid write shows the store
	// answering) before the store is taken as down. 0 means
	// 5; a negative value disables the breaker, so
	// that every write waits for the store as long as its timeout.
	Failures int
	// Backoff is the wait, once the store is down, before it is probed;
	// it doubles after each failed probe, up to MaxBackoff. 0 means
	// 1 second.
	Backoff time.Duration
	// MaxBackoff bounds Backoff's doubling. 0 means
	// 30 seconds.
	MaxBackoff time.Duration
}

// WithStoreBreaker sets how a dead secondary store is detected and skipped
// (by default it is, with the defaults of [BreakerOptions]).
//
// Without a breaker a dead secondary makes every dual write slow: each one
// waits the whole secondary timeout ([WithSecondaryTimeout], 5 s by
// default; a MongoDB driver with no server to select waits that long),
// so a service whose callers see no error is nevertheless down. With it,
// each store has a circuit breaker: after Failures consecutive failed
// writes the store is taken as down, and writes that would go to it are
// not sent; they go straight to the repair log (their entry's error
// matches [ErrStoreDown]), so a write while the store is down costs the
// authoritative write and a repair record. One write per Backoff (doubling
// up to MaxBackoff while probes fail) is also sent to the store as a probe,
// in the background, one at a time: no caller waits for it. A probe that
// lands brings the store back. Each change is reported to the observer
// ([Observer].StoreStateChanged; the default one logs it), with, on
// recovery, how many writes were skipped: replay the repair log then (the
// backfill's repair, or flagmigrate repair).
//
// A store taken as down is not read as a dual read's candidate either: the
// read serves the authoritative store alone and is compared as failed in
// the down store (its error matches [ErrStoreDown]), so no caller waits
// for a dead store on a read either. Only writes (the probes) bring it
// back.
//
// The probe runs the write function of the call that triggered it after
// that call returned, as shadow reads run the read function: it must not
// depend on anything the caller changes afterwards. After [Migration.Close]
// probes run on the caller instead.
func WithStoreBreaker(o BreakerOptions) Option {
	return func(c *config) {
		if o.Backoff < 0 || o.MaxBackoff < 0 {
			c.fail("WithStoreBreaker: negative Backoff (%v) or MaxBackoff (%v)", o.Backoff, o.MaxBackoff)
			return
		}
		c.breaker = o
	}
}

// breaker is one store's circuit breaker: closed (writes go to the store)
// until failures consecutive failures, then open (writes skip it) with one
// probe at a time, each after a doubling backoff, until one succeeds.
type breaker struct {
	side Side
	opts BreakerOptions
	now  func() time.Time

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

func newBreaker(side Side, o BreakerOptions) *breaker {
	if o.Failures == 0 {
		o.Failures = defaultBreakerFailures
	}
	if o.Backoff == 0 {
		o.Backoff = defaultBreakerBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = defaultBreakerMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
	return &breaker{side: side, opts: o, now: time.Now}
}

// isDown reports whether the store is taken as down. It takes no lock:
// every dual read asks.
func (b *breaker) isDown() bool { return b.isDownNow.Load() }

// admit says how to treat a write to the store: send it (write), or skip
// it and, if probe, also send it in the background as the one probe. A
// skipped write's error, for the repair log, is skipErr.
func (b *breaker) admit() (write, probe bool, skipErr error) {
	if b.opts.Failures < 0 {
		return true, false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.down {
		return true, false, nil
	}
	b.skipped++
	skipErr = fmt.Errorf("%w: the %v store is down (last failure: %v): not written", ErrStoreDown, b.side, b.lastErr)
	if !b.probing && !b.now().Before(b.nextProbe) {
		b.probing = true
		return false, true, skipErr
	}
	return false, false, skipErr
}

// failed reports whether err shows the store not answering.
func failed(err error, notFound func(error) bool) bool {
	switch outcomeOf(err, notFound) {
	case OutcomeError, OutcomeTimeout:
		return true
	}
	return false
}

// done takes the result of a write (probe: the background probe admit
// asked for) and returns the change of state to report, if any.
func (b *breaker) done(err error, probe bool, notFound func(error) bool) (change *StoreState) {
	if b.opts.Failures < 0 {
		return nil
	}
	bad := failed(err, notFound)
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
			change = &StoreState{Side: b.side, Down: true, Failures: b.failures, Err: err}
			b.failures = 0
		}
	case probe && !bad:
		change = &StoreState{Side: b.side, Failures: b.failures, Skipped: b.skipped}
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

// probes runs the background probes of a Migration's stores and lets
// Close wait for them.
type probes struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// start runs fn in the background, or on the caller after close.
func (p *probes) start(fn func()) {
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

// close makes later probes run on their caller and waits for those running.
func (p *probes) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}
