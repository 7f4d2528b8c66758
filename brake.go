package flagmigrate

import (
	"context"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/brake"
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
	return m.brake.List()
}

// braked returns the route of a call (a write, or a read) for accountID
// as the brake ([WithBrake]) has it, given the one the flags give.
func (m *Migration[S]) braked(ctx context.Context, accountID string, write bool, rt route) route {
	if m.brake == nil {
		return rt
	}
	r := m.brake.Route(ctx, accountID, write, brake.Route{First: rt.first, Both: rt.both})
	rt.first, rt.both = r.First, r.Both
	return rt
}
