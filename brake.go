package flagmigrate

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [BrakeOptions].
const (
	// defaultBrakeWindow is how many recent samples of each kind an
	// account's brake keeps.
	defaultBrakeWindow = 100
	// defaultBrakeMinSamples is how many samples of a kind an account needs
	// in its window before its rate of that kind can trip the brake.
	defaultBrakeMinSamples = 50
	// defaultBrakeMaxErrorRate is the new store's error rate over the
	// window above which the brake trips.
	defaultBrakeMaxErrorRate = 0.2
	// defaultBrakeMaxMismatchRate is the dual reads' mismatch rate over
	// the window above which the brake trips.
	defaultBrakeMaxMismatchRate = 0.1
	// defaultBrakeCooldown is how long a brake holds when the account's
	// flags do not change.
	defaultBrakeCooldown = 10 * time.Minute
	// defaultBrakeMaxAccounts bounds the accounts whose samples are kept.
	defaultBrakeMaxAccounts = 10000
)

// BrakeOptions configure the safety brake ([WithBrake]). Zero fields take
// the defaults.
type BrakeOptions struct {
	// Window is how many of an account's latest samples of each kind
	// (new-store calls; comparisons) are kept. Default 100.
	Window int
	// MinSamples is how many samples of a kind the window must hold before
	// that kind's rate is judged (at most Window). Default
	// 50 (at most Window).
	MinSamples int
	// MaxErrorRate: the brake trips when more than this share of the new
	// store's calls in the window failed (an error or a timeout; not
	// finding a record, a conflict or a refused input is an answer; a
	// write skipped because the store is down counts as failed). In (0, 1];
	// default 0.2.
	MaxErrorRate float64
	// MaxMismatchRate: the brake trips when more than this share of the
	// account's dual reads in the window did not match (different, missing
	// in new, missing in old; a failed read is counted as an error, not
	// here). In (0, 1]; default 0.1.
	MaxMismatchRate float64
	// Cooldown is how long a brake holds if the account's flags do not
	// change; a negative Cooldown holds until they do. Default
	// 10 minutes.
	Cooldown time.Duration
	// MaxAccounts bounds the accounts tracked (about 150 bytes each with
	// the default window). When full, an account that is not braked makes
	// room; braked accounts are never forgotten. Default
	// 10,000.
	MaxAccounts int
}

// WithBrake turns on the safety brake: per account, when the new store's
// error rate or the dual reads' mismatch rate over the account's latest
// samples passes its threshold, the account's calls fall back to a safe
// route until its flags change or the cooldown ends:
//
//	flags route                 braked route
//	reads both (compared)       the old store only, not compared
//	reads the new store only    the old store only, if the account's writes
//	                            are known to reach it; else unchanged
//	writes both                 both, the old store first (authoritative)
//	writes the old store only   unchanged
//	writes the new store only   unchanged: nothing safe to fall back to
//
// A braked route always reads from, is served by, and writes the old
// store; the brake never stops writing the old store, and never starts
// serving a store that is not written. When the flags route the account
// to the new store only (old writes off), no route is safe: the brake
// reports that it cannot help ([BrakeState].CannotHelp) and leaves the
// route as it is, for a person to decide.
//
// Each change (tripped, cannot help, released by a flag change or the
// cooldown) goes to [Observer].BrakeChanged (the default observer logs
// it, flagtest.Stats counts it), with its reason and figures;
// [Migration.Brakes] lists the accounts braked now. A flag change is a
// change of the route the flags give for a kind of call (read or write)
// against the one they gave when the brake tripped. A release forgets the
// account's samples.
//
// # Why the defaults do not brake a healthy store
//
// The brake judges a rate only once MinSamples samples are in: three
// unlucky calls out of five never trip it. If a store's true rate of
// failures is p0, the chance that n samples show more than a share t of
// failures is a binomial tail, P(Bin(n, p0) > t·n). For the defaults
// (n from 50 to 100):
//
//   - errors, t = 0.2: with p0 = 1% the tail is below 6.5e-12 at every n,
//     so a million judged calls trip the brake falsely with a probability
//     below 6.5e-6 (a union bound over the calls); with p0 = 2%, below
//     0.009.
//   - mismatches, t = 0.1: with p0 = 0.1% the tail is below 4.4e-11, below
//     4.4e-5 over a million comparisons.
//
// A store failing at twice the threshold trips it at its 50th sample with
// a probability above 0.95 (0.997 for errors), and a store failing every
// call trips it exactly at the 50th. (TestBrakeStatistics recomputes these
// figures.) Lower MinSamples or the thresholds only for stores whose
// healthy rates are far below them.
func WithBrake(o BrakeOptions) Option {
	return func(c *config) {
		if o.Window == 0 {
			o.Window = defaultBrakeWindow
		}
		if o.MinSamples == 0 {
			o.MinSamples = min(defaultBrakeMinSamples, o.Window)
		}
		if o.MaxErrorRate == 0 {
			o.MaxErrorRate = defaultBrakeMaxErrorRate
		}
		if o.MaxMismatchRate == 0 {
			o.MaxMismatchRate = defaultBrakeMaxMismatchRate
		}
		if o.Cooldown == 0 {
			o.Cooldown = defaultBrakeCooldown
		}
		if o.MaxAccounts == 0 {
			o.MaxAccounts = defaultBrakeMaxAccounts
		}
		switch {
		case o.Window < 1 || o.MinSamples < 1 || o.MinSamples > o.Window:
			c.fail("WithBrake: Window %d and MinSamples %d must be positive, MinSamples at most Window", o.Window, o.MinSamples)
		case !(o.MaxErrorRate > 0 && o.MaxErrorRate <= 1) || !(o.MaxMismatchRate > 0 && o.MaxMismatchRate <= 1):
			c.fail("WithBrake: MaxErrorRate %v and MaxMismatchRate %v must be in (0, 1]", o.MaxErrorRate, o.MaxMismatchRate)
		case o.MaxAccounts < 1:
			c.fail("WithBrake: MaxAccounts %d is not positive", o.MaxAccounts)
		default:
			c.brake = &o
		}
	}
}

// Brakes returns the accounts braked now, by account ID ([WithBrake]); nil
// without a brake.
func (m *Migration[S]) Brakes() []BrakeState {
	if m == nil || m.brake == nil {
		return nil
	}
	return m.brake.list()
}

// window is a sliding window of the latest n outcomes, as bits.
type window struct {
	bits     []uint64
	pos, n   int
	size, on int
}

func (w *window) push(bad bool) {
	i, mask := w.pos/64, uint64(1)<<(w.pos%64)
	if w.n == w.size {
		if w.bits[i]&mask != 0 {
			w.on--
		}
	} else {
		w.n++
	}
	if bad {
		w.bits[i] |= mask
		w.on++
	} else {
		w.bits[i] &^= mask
	}
	w.pos = (w.pos + 1) % w.size
}

func (w *window) reset() {
	clear(w.bits)
	w.pos, w.n, w.on = 0, 0, 0
}

// brakeAccount is one account's samples and brake.
type brakeAccount struct {
	errs, mism window
	braked     bool
	state      BrakeState
	flagRoute  [2]uint8 // the flags' route when braked, by kind (0: not seen)
	lastWrite  uint8    // the flags' last write route
	helpless   bool     // CannotHelp reported
}

const (
	kindRead = iota
	kindWrite
)

// routeSig encodes a route as 2 (old first) or 4 (new first), plus 1 when
// both stores are written or read; 0 is no route.
func routeSig(r route) uint8 {
	s := uint8(2)
	if r.first == SideNew {
		s = 4
	}
	if r.both {
		s |= 1
	}
	return s
}

func writesOld(sig uint8) bool { return sig != 0 && (sig>>1 == 1 || sig&1 != 0) }

// brake holds the accounts' samples and brakes of one Migration.
type brake struct {
	o      BrakeOptions
	obs    Observer
	now    func() time.Time
	braked atomic.Int64 // accounts braked now: lets old-only calls skip the lock

	mu       sync.Mutex
	accounts map[string]*brakeAccount
}

func newBrake(o BrakeOptions, obs Observer) *brake {
	return &brake{o: o, obs: obs, now: time.Now, accounts: map[string]*brakeAccount{}}
}

// account returns accountID's state, making room for it if need be; nil
// when every tracked account is braked. b.mu is held.
func (b *brake) account(accountID string) *brakeAccount {
	if a := b.accounts[accountID]; a != nil {
		return a
	}
	if len(b.accounts) >= b.o.MaxAccounts {
		evicted := false
		for id, a := range b.accounts {
			if !a.braked {
				delete(b.accounts, id)
				evicted = true
				break
			}
		}
		if !evicted {
			return nil
		}
	}
	words := (b.o.Window + 63) / 64
	a := &brakeAccount{
		errs: window{bits: make([]uint64, words), size: b.o.Window},
		mism: window{bits: make([]uint64, words), size: b.o.Window},
	}
	b.accounts[accountID] = a
	return a
}

func (b *brake) report(ctx context.Context, c BrakeState) {
	if f := b.obs.BrakeChanged; f != nil {
		f(ctx, c)
	}
}

// route returns the route of a call of kind for accountID, given the one
// the flags give.
func (b *brake) route(ctx context.Context, accountID string, kind int, rt route) route {
	sig := routeSig(rt)
	oldOnly := rt.first == SideOld && !rt.both
	if oldOnly && kind == kindRead && b.braked.Load() == 0 {
		// Nothing to brake, nothing braked. (Writes always pass: a braked
		// read needs to know where the account's writes go.)
		return rt
	}
	var change *BrakeState
	defer func() {
		if change != nil {
			b.report(ctx, *change)
		}
	}()
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.account(accountID)
	if a == nil {
		return rt
	}
	if kind == kindWrite {
		defer func() { a.lastWrite = sig }()
	}
	if !a.braked {
		return rt
	}
	now := b.now()
	switch seen := a.flagRoute[kind]; {
	case seen != 0 && seen != sig:
		change = b.release(a, ReleaseFlagChange)
		return rt
	case !a.state.Until.IsZero() && !now.Before(a.state.Until):
		change = b.release(a, ReleaseCooldown)
		return rt
	case seen == 0:
		a.flagRoute[kind] = sig
	}
	safe := rt
	safe.first, safe.both = SideOld, false
	switch {
	case oldOnly:
		return rt
	case kind == kindWrite && rt.both:
		safe.both = true
		return safe
	case kind == kindRead && (rt.first == SideOld || rt.both || writesOld(a.lastWrite)):
		return safe
	}
	// New store only: no safe route.
	if !a.helpless {
		a.helpless, a.state.CannotHelp = true, true
		s := a.state
		change = &s
	}
	return rt
}

// release releases a's brake and forgets its samples. b.mu is held.
func (b *brake) release(a *brakeAccount, cause BrakeRelease) *BrakeState {
	c := a.state
	c.Released = cause
	a.braked, a.helpless, a.state, a.flagRoute = false, false, BrakeState{}, [2]uint8{}
	a.errs.reset()
	a.mism.reset()
	b.braked.Add(-1)
	return &c
}

// sample adds one outcome of the reason's kind to accountID's window and
// trips its brake if the rate passes the threshold.
func (b *brake) sample(ctx context.Context, accountID string, reason BrakeReason, bad bool) {
	var change *BrakeState
	b.mu.Lock()
	if a := b.account(accountID); a != nil && !a.braked {
		w, t := &a.errs, b.o.MaxErrorRate
		if reason == BrakeMismatches {
			w, t = &a.mism, b.o.MaxMismatchRate
		}
		w.push(bad)
		if rate := float64(w.on) / float64(w.n); w.n >= b.o.MinSamples && rate > t {
			now := b.now()
			a.braked = true
			a.state = BrakeState{AccountID: accountID, Reason: reason, Samples: w.n, Bad: w.on, Threshold: t, Since: now}
			if b.o.Cooldown > 0 {
				a.state.Until = now.Add(b.o.Cooldown)
			}
			b.braked.Add(1)
			s := a.state
			change = &s
		}
	}
	b.mu.Unlock()
	if change != nil {
		b.report(ctx, *change)
	}
}

// list returns the braked accounts, releasing those whose cooldown ended.
func (b *brake) list() []BrakeState {
	var out []BrakeState
	var released []BrakeState
	b.mu.Lock()
	now := b.now()
	for _, a := range b.accounts {
		switch {
		case !a.braked:
		case !a.state.Until.IsZero() && !now.Before(a.state.Until):
			released = append(released, *b.release(a, ReleaseCooldown))
		default:
			out = append(out, a.state)
		}
	}
	b.mu.Unlock()
	for _, c := range released {
		b.report(context.Background(), c)
	}
	slices.SortFunc(out, func(x, y BrakeState) int { return strings.Compare(x.AccountID, y.AccountID) })
	return out
}
