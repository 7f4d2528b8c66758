package flagmigrate

import (
	"context"
	"errors"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
	"github.com/google/go-cmp/cmp"
)

// Option configures a [Migration] or a [MigratingStore].
type Option func(*config)

type config struct {
	// flags.go
	keys       FlagKeys
	stageKey   string
	checkEvery time.Duration
	// observer.go, compare.go
	observer    Observer // filled by validate
	observerSet bool
	// callsObserved: the observer has a StoreCalled of its own (the
	// hottest report, skipped when nobody listens)
	callsObserved bool
	cmpOpts       cmp.Options
	customCmp     bool
	notFound      func(error) bool
	sampling      sampling
	// repairlog.go
	repair             RepairLog
	defaultRepairLimit int // the default repair log's capacity
	// migrate.go
	secondaryTimeout time.Duration
	concurrentWrites bool
	breaker          BreakerOptions // breaker.go
	brake            *BrakeOptions  // brake.go
	shadow           *ShadowOptions

	errs []error
}

// Defaults.
const (
	// defaultSecondaryTimeout bounds the write to the non-authoritative store.
	defaultSecondaryTimeout = 5 * time.Second
	// defaultShadowTimeout bounds a background candidate read.
	defaultShadowTimeout = 2 * time.Second
	// defaultShadowMaxInFlight bounds the background candidate reads in flight.
	defaultShadowMaxInFlight = 64
	// defaultRoutingCheckInterval is how often each account's four flags are
	// checked for a dangerous combination.
	defaultRoutingCheckInterval = time.Minute
)

func defaultConfig() config {
	return config{
		keys:               DefaultFlagKeys(),
		checkEvery:         defaultRoutingCheckInterval,
		cmpOpts:            defaultCompareOptions(),
		notFound:           func(err error) bool { return errors.Is(err, ErrNotFound) },
		sampling:           sampling{rate: 1},
		secondaryTimeout:   defaultSecondaryTimeout,
		defaultRepairLimit: defaultRepairLimit,
	}
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, argError(format, args...))
}

// validate reports the options' errors and fills in the defaults that
// depend on other options.
func (c *config) validate() error {
	if !c.observerSet {
		c.observer = SlogObserver(SlogOptions{})
	}
	c.callsObserved = c.observer.StoreCalled != nil
	c.observer = migration.MultiObserver(c.observer) // each hook guarded
	if c.repair == nil {
		obs := c.observer
		c.repair = repairlog.NewRing(c.defaultRepairLimit, func(e RepairEntry) {
			if obs.RepairDropped != nil {
				obs.RepairDropped(context.Background(), e)
			}
		})
	}
	return errors.Join(c.errs...)
}

// flagFailed reports a flag failure to the observer, if it listens.
func (c *config) flagFailed(ctx context.Context, key, accountID string, err error) {
	if f := c.observer.FlagFailed; f != nil {
		f(ctx, key, accountID, err)
	}
}

// WithObserver sets the observer, in place of the default: [SlogObserver]
// over [log/slog.Default], without values. The zero Observer makes the migration
// silent. Combine several with [MultiObserver] (with SlogObserver among
// them to keep the logs).
func WithObserver(o Observer) Option {
	return func(c *config) { c.observer, c.observerSet = o, true }
}

// WithRepairLog sets where failed secondary writes are recorded. A log of
// your own is trusted to say when it cannot keep an entry: Write then
// returns [ErrUnrepaired] (for example a repairlog.Memory at its limit, or
// a durable log on a full disk), so the caller can retry.
//
// Without this option the default is an in-memory ring of
// 100,000 entries that never refuses an entry: when full it
// drops the oldest one and reports it ([Observer].RepairDropped), so that no
// default configuration ever turns a write that landed on the authoritative
// store into a caller error. Its entries are read back through
// [Migration.RepairLog] (a [RepairReader]) for the backfill's repair; they do
// not survive a restart, so production services should use a durable log
// such as package repairlog's.
func WithRepairLog(l RepairLog) Option {
	return func(c *config) {
		if l == nil {
			c.fail("WithRepairLog: nil log")
			return
		}
		c.repair = l
	}
}

// defaultRepairLimit is the capacity of the default repair log.
const defaultRepairLimit = 100_000

// WithFlagKeys sets the four flag keys (default [DefaultFlagKeys]).
func WithFlagKeys(keys FlagKeys) Option {
	return func(c *config) {
		if keys.OldWrite == "" || keys.NewWrite == "" || keys.OldRead == "" || keys.NewRead == "" {
			c.fail("WithFlagKeys: every key must be set")
			return
		}
		c.keys = keys
	}
}

// WithStageFlag routes by one migration flag holding a [Stage] instead of
// four boolean flags, exactly as LaunchDarkly's Migrator does for each
// stage:
//
//	stage      reads                          writes
//	off        old                            old
//	dualwrite  old                            old, then new
//	shadow     old and new, old's result      old, then new
//	live       new and old, new's result      new, then old
//	rampdown   new                            new, then old
//	complete   new                            new
//
// An evaluation error means off. Each operation's measurements go to the
// client's [StageTracker]: the invoked stores, their latencies, their errors
// and, when both were read, whether they agreed (sampled by the flag's check
// ratio). A FindEventByID that finds nothing is a result, not an error. The
// flag client must implement [StageFlagClient].
func WithStageFlag(key string) Option {
	return func(c *config) {
		if key == "" {
			c.fail("WithStageFlag: empty key")
			return
		}
		c.stageKey = key
	}
}

// WithRoutingCheck sets how often each account's four flags are checked for
// a dangerous combination (see [migration.Danger]): an operation that is
// due evaluates the two flags it does not otherwise need and reports a
// dangerous combination to the observer. 0 means the default, once a
// minute per account; a negative interval never checks. Stage mode has no
// dangerous combinations.
func WithRoutingCheck(every time.Duration) Option {
	return func(c *config) {
		if every != 0 {
			c.checkEvery = every
		}
	}
}

// WithCompareOptions sets the go-cmp options dual reads are compared with,
// replacing the default, [cmpopts.EquateEmpty] (a nil and an empty slice or
// map are equal; include it again if you want it). Times compare with their
// Equal method. Without this option a linear walk of this package's types
// does the comparison, with the same result.
func WithCompareOptions(opts ...cmp.Option) Option {
	return func(c *config) { c.cmpOpts, c.customCmp = cmp.Options(opts), true }
}

// WithNotFound sets how an error meaning "no such record" is recognised
// (default: errors.Is(err, ErrNotFound)), for a [Migration] over DAOs with
// their own sentinel. Such errors are results, not failures: they classify
// as missing, and count as success in stage-mode measurements.
func WithNotFound(isNotFound func(error) bool) Option {
	return func(c *config) {
		if isNotFound == nil {
			c.fail("WithNotFound: nil function")
			return
		}
		c.notFound = isNotFound
	}
}

// WithCompareSampling compares only a fraction rate (0 to 1; 0 compares
// none) of the reads that the flags send to both stores, each drawn at
// random; the others read the authoritative store alone. Default: every
// read (rate 1). In stage mode an unsampled read invokes the authoritative
// store only, and is reported so; LaunchDarkly's check ratio, by contrast,
// still reads both stores and only skips the consistency measurement.
func WithCompareSampling(rate float64) Option {
	return sampleOption("WithCompareSampling", rate, false)
}

// WithAccountSampling is [WithCompareSampling] with the choice made per
// account, by a hash of its ID: the fraction rate of the accounts have
// every dual read compared, the others none.
func WithAccountSampling(rate float64) Option {
	return sampleOption("WithAccountSampling", rate, true)
}

func sampleOption(name string, rate float64, byAccount bool) Option {
	return func(c *config) {
		if !(rate >= 0 && rate <= 1) {
			c.fail("%s: rate %v is outside [0, 1]", name, rate)
			return
		}
		c.sampling = sampling{rate: rate, byAccount: byAccount}
	}
}

// WithSecondaryTimeout bounds the write to the non-authoritative store, which
// runs on a context detached from the caller's cancellation (default
// 5 seconds). It also bounds recording a repair entry, and the candidate
// read of a dual read that the caller waits for (one that is not a shadow
// read, whose candidate has [ShadowOptions].Timeout instead): a candidate
// store that hangs then costs each such read this long, and the read is
// compared as failed in the new store (or the old, when the new store
// serves). 0 means the default; a negative duration is an error.
func WithSecondaryTimeout(d time.Duration) Option {
	return func(c *config) {
		switch {
		case d < 0:
			c.fail("WithSecondaryTimeout: %v is negative", d)
		case d > 0:
			c.secondaryTimeout = d
		}
	}
}

// WithConcurrentWrites writes both stores at once instead of one after the
// other, so a dual write takes as long as the slower store rather than the
// sum of both. The cost: when the authoritative write fails, the other store
// may already hold the write the caller is told failed. Such an orphan is
// reported and recorded in the repair log (RepairEntry.Orphan) with the
// authoritative store as its target; an idempotent retry by the caller, or a
// repair run, brings the stores back together.
func WithConcurrentWrites() Option {
	return func(c *config) { c.concurrentWrites = true }
}

// ShadowOptions configure background comparison reads ([WithShadowReads]).
type ShadowOptions struct {
	// Timeout bounds each background candidate read; 0 means
	// 2 seconds.
	Timeout time.Duration
	// MaxInFlight bounds the background reads running at once; a dual read
	// beyond it serves the authoritative store only and is counted as
	// dropped. 0 means 64.
	MaxInFlight int
}

// WithShadowReads makes dual reads return the authoritative result as soon
// as it is read, while the candidate read and the comparison run in the
// background: the candidate's latency and failures never reach the caller.
// The candidate read is handed to a background worker just before the
// authoritative read starts, so both reads see the stores at nearly the same
// moment; waking that worker is all the caller pays.
// Background reads are bounded (excess dropped and counted via
// [Observer].ShadowDropped), each has its own timeout, and [Migration.Close]
// waits for them.
//
// Because the two reads are not atomic, a write landing between them could
// look like a mismatch: a shadow comparison whose results differ or miss a
// record is confirmed by reading both stores again (concurrently) before it
// is reported ([Comparison].Rechecked).
func WithShadowReads(o ShadowOptions) Option {
	return func(c *config) {
		if o.Timeout < 0 || o.MaxInFlight < 0 {
			c.fail("WithShadowReads: negative Timeout (%v) or MaxInFlight (%d)", o.Timeout, o.MaxInFlight)
			return
		}
		if o.Timeout == 0 {
			o.Timeout = defaultShadowTimeout
		}
		if o.MaxInFlight == 0 {
			o.MaxInFlight = defaultShadowMaxInFlight
		}
		c.shadow = &o
	}
}

// BreakerOptions configure how a Migration skips a secondary store that is
// known to be down ([WithStoreBreaker]).
type BreakerOptions struct {
	// Failures is how many consecutive calls of the store as the
	// secondary (writes, and candidate reads of dual reads) must fail (an
	// error or a timeout; a conflict, an invalid write or a record not
	// found shows the store answering) before the store is taken as down. 0 means
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

// Defaults of [BreakerOptions].
const (
	// defaultBreakerFailures is how many consecutive failed secondary calls
	// take a store as down.
	defaultBreakerFailures = 5
	// defaultBreakerBackoff is the wait before the first probe of a store
	// taken as down.
	defaultBreakerBackoff = time.Second
	// defaultBreakerMaxBackoff bounds the wait between probes.
	defaultBreakerMaxBackoff = 30 * time.Second
)

// WithStoreBreaker sets how a dead secondary store is detected and skipped
// (by default it is, with the defaults of [BreakerOptions]).
//
// Without a breaker a dead secondary makes every dual write slow: each one
// waits the whole secondary timeout ([WithSecondaryTimeout], 5 s by
// default; a MongoDB driver with no server to select waits that long),
// so a service whose callers see no error is nevertheless down. With it,
// each store has a circuit breaker: after Failures consecutive failed
// secondary writes or candidate reads the store is taken as down, and writes that would go to it are
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
