package flagmigrate

import (
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
