// Package brake is a Migration's safety brake (flagmigrate.WithBrake): per
// account, a sliding window of the new store's call outcomes and of the
// dual reads' verdicts, which trips when a rate passes its threshold and
// sends the account's calls on a safe route until its flags change or the
// cooldown ends.
package brake

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
)

// Options are the brake's settings, every one set (the engine applies the
// defaults of flagmigrate.BrakeOptions).
type Options struct {
	Window, MinSamples            int
	MaxErrorRate, MaxMismatchRate float64
	Cooldown                      time.Duration // negative: until the flags change
	MaxAccounts                   int
}

const (
	kindRead = iota
	kindWrite
)

// SetClock sets the brake's clock, for a test of the cooldown.
func (b *Brake) SetClock(now func() time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = now
}

// Tracked returns how many accounts the brake tracks.
func (b *Brake) Tracked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.accounts)
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
	state      migration.BrakeState
	flagRoute  [2]uint8 // the flags' route when braked, by kind (0: not seen)
	lastWrite  uint8    // the flags' last write route
	helpless   bool     // CannotHelp reported
}

// Route is where a call goes: the store served (read) or written first,
// and whether the other store is also read (and compared) or written.
type Route struct {
	First migration.Side
	Both  bool
}

// routeSig encodes a route as 2 (old first) or 4 (new first), plus 1 when
// both stores are written or read; 0 is no route.
func routeSig(r Route) uint8 {
	s := uint8(2)
	if r.First == migration.SideNew {
		s = 4
	}
	if r.Both {
		s |= 1
	}
	return s
}

func writesOld(sig uint8) bool { return sig != 0 && (sig>>1 == 1 || sig&1 != 0) }

// Brake holds the accounts' samples and brakes of one Migration.
type Brake struct {
	o      Options
	report func(context.Context, migration.BrakeState)
	now    func() time.Time
	braked atomic.Int64 // accounts braked now: lets old-only calls skip the lock

	mu       sync.Mutex
	accounts map[string]*brakeAccount
}

// New returns a brake with the options o, with every field set, that
// reports each change to report.
func New(o Options, report func(context.Context, migration.BrakeState)) *Brake {
	return &Brake{o: o, report: report, now: time.Now, accounts: map[string]*brakeAccount{}}
}

// account returns accountID's state, making room for it if need be; nil
// when every tracked account is braked. b.mu is held.
func (b *Brake) account(accountID string) *brakeAccount {
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

// Route returns the route of a call (a write, or a read) for accountID,
// given the one the flags give.
func (b *Brake) Route(ctx context.Context, accountID string, write bool, rt Route) Route {
	kind := kindRead
	if write {
		kind = kindWrite
	}
	sig := routeSig(rt)
	oldOnly := rt.First == migration.SideOld && !rt.Both
	if oldOnly && kind == kindRead && b.braked.Load() == 0 {
		// Nothing to brake, nothing braked. (Writes always pass: a braked
		// read needs to know where the account's writes go.)
		return rt
	}
	var change *migration.BrakeState
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
		change = b.release(a, migration.ReleaseFlagChange)
		return rt
	case !a.state.Until.IsZero() && !now.Before(a.state.Until):
		change = b.release(a, migration.ReleaseCooldown)
		return rt
	case seen == 0:
		a.flagRoute[kind] = sig
	}
	safe := Route{First: migration.SideOld}
	switch {
	case oldOnly:
		return rt
	case kind == kindWrite && rt.Both:
		safe.Both = true
		return safe
	case kind == kindRead && (rt.First == migration.SideOld || rt.Both || writesOld(a.lastWrite)):
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
func (b *Brake) release(a *brakeAccount, cause migration.BrakeRelease) *migration.BrakeState {
	c := a.state
	c.Released = cause
	a.braked, a.helpless, a.state, a.flagRoute = false, false, migration.BrakeState{}, [2]uint8{}
	a.errs.reset()
	a.mism.reset()
	b.braked.Add(-1)
	return &c
}

// Sample adds one outcome of the reason's kind to accountID's window and
// trips its brake if the rate passes the threshold.
func (b *Brake) Sample(ctx context.Context, accountID string, reason migration.BrakeReason, bad bool) {
	var change *migration.BrakeState
	b.mu.Lock()
	if a := b.account(accountID); a != nil && !a.braked {
		w, t := &a.errs, b.o.MaxErrorRate
		if reason == migration.BrakeMismatches {
			w, t = &a.mism, b.o.MaxMismatchRate
		}
		w.push(bad)
		if rate := float64(w.on) / float64(w.n); w.n >= b.o.MinSamples && rate > t {
			now := b.now()
			a.braked = true
			a.state = migration.BrakeState{AccountID: accountID, Reason: reason, Samples: w.n, Bad: w.on, Threshold: t, Since: now}
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

// List returns the braked accounts, by account ID, releasing those whose
// cooldown ended.
func (b *Brake) List() []migration.BrakeState {
	var out []migration.BrakeState
	var released []migration.BrakeState
	b.mu.Lock()
	now := b.now()
	for _, a := range b.accounts {
		switch {
		case !a.braked:
		case !a.state.Until.IsZero() && !now.Before(a.state.Until):
			released = append(released, *b.release(a, migration.ReleaseCooldown))
		default:
			out = append(out, a.state)
		}
	}
	b.mu.Unlock()
	for _, c := range released {
		b.report(context.Background(), c)
	}
	slices.SortFunc(out, func(x, y migration.BrakeState) int { return strings.Compare(x.AccountID, y.AccountID) })
	return out
}
