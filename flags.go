package flagmigrate

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// FlagClient evaluates the boolean flags that route an account's calls:
// the four-flag mode's one need. Package ldflags adapts a LaunchDarkly
// client to it, package openfeatureflags an OpenFeature client, and package
// flagtest has a fake for unit tests.
type FlagClient interface {
	// BoolFlag returns the flag's value for the account, or defaultValue
	// and an error when the flag cannot be evaluated (the call is then
	// routed to the old store only and the error reported).
	BoolFlag(ctx context.Context, key, accountID string, defaultValue bool) (bool, error)
}

// StageFlagClient evaluates a migration flag holding a [Stage] and takes
// back the measurements of each operation: what stage mode
// ([WithStageFlag]) needs on top of [FlagClient].
type StageFlagClient interface {
	// StageFlag returns the flag's stage for the account and a tracker
	// for the measurements of the operation, a write when write is true,
	// else a read. On an error the call is routed as [StageOff] and the
	// error reported; a nil tracker measures nothing.
	StageFlag(ctx context.Context, key, accountID string, write bool) (Stage, StageTracker, error)
}

// StageTracker takes the measurements of one operation routed by a
// migration flag. The engine calls Measure for every store it invokes,
// Consistency when both stores were read successfully (not finding a
// record counts as success), then Finish once, after the others. Measure
// may be called concurrently (the two stores are read at once).
type StageTracker interface {
	// Measure records a call to one store: its latency and whether it
	// failed.
	Measure(side Side, latency time.Duration, failed bool)
	// Consistency records whether the two stores' reads agreed. The
	// tracker samples, as the flag's check ratio says: consistent is
	// called only when the comparison is measured.
	Consistency(consistent func() bool)
	// Finish sends the operation's measurements. An error is reported
	// to [Observer].FlagFailed.
	Finish(ctx context.Context) error
}

// FlagKeys names the four boolean flags that route an account's calls.
type FlagKeys struct {
	OldWrite string // write the old store
	NewWrite string // write the new store
	OldRead  string // read the old store
	NewRead  string // read the new store
}

// DefaultFlagKeys returns the keys from LaunchDarkly's migration guide:
// events-mongo-write, events-dynamo-write, events-mongo-read and
// events-dynamo-read.
func DefaultFlagKeys() FlagKeys {
	return FlagKeys{
		OldWrite: "events-mongo-write",
		NewWrite: "events-dynamo-write",
		OldRead:  "events-mongo-read",
		NewRead:  "events-dynamo-read",
	}
}

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
// a dangerous combination (see [Danger]): an operation that is due evaluates
// the two flags it does not otherwise need and reports a dangerous
// combination to the observer. Default one minute per
// account; 0 checks on every operation; a negative interval never checks.
// Stage mode has no dangerous combinations.
func WithRoutingCheck(every time.Duration) Option {
	return func(c *config) { c.checkEvery = every }
}

// route is the routing of one call.
type route struct {
	first Side // authoritative: written first, its read result returned
	both  bool // the other store is written too, or read and compared
	stage *stageRouter
	op    StageTracker // stage mode only
}

func (r *route) track(side Side, d time.Duration, failed bool) {
	if r.op != nil {
		r.op.Measure(side, d, failed)
	}
}

// consistency records a comparison in the stage tracker when both reads
// succeeded (not finding a record counts as success).
func (r *route) consistency(oldErr, newErr error, v Verdict, notFound func(error) bool) {
	if r.op == nil || (oldErr != nil && !notFound(oldErr)) || (newErr != nil && !notFound(newErr)) {
		return
	}
	r.op.Consistency(func() bool { return v == VerdictMatch })
}

// finish sends the stage tracker's measurements.
func (r *route) finish(ctx context.Context, obs *Observer) {
	if r.op == nil {
		return
	}
	if err := r.op.Finish(ctx); err != nil && obs.FlagFailed != nil {
		obs.FlagFailed(ctx, r.stage.key, "", err)
	}
}

type router interface {
	write(ctx context.Context, accountID string) route
	read(ctx context.Context, accountID string) route
}

// flagRouter routes by four boolean flags.
type flagRouter struct {
	client FlagClient
	cfg    *config
	check  checkSchedule
}

func newFlagRouter(client FlagClient, cfg *config) *flagRouter {
	return &flagRouter{client: client, cfg: cfg, check: checkSchedule{every: cfg.checkEvery}}
}

// pair evaluates two flags; ok is false (and the failure reported) when
// either cannot be evaluated.
func (r *flagRouter) pair(ctx context.Context, accountID, k1, k2 string) (v1, v2, ok bool) {
	v1, err1 := r.client.BoolFlag(ctx, k1, accountID, false)
	v2, err2 := r.client.BoolFlag(ctx, k2, accountID, false)
	if err1 != nil {
		r.cfg.flagFailed(ctx, k1, accountID, err1)
	}
	if err2 != nil {
		r.cfg.flagFailed(ctx, k2, accountID, err2)
	}
	return v1, v2, err1 == nil && err2 == nil
}

func (r *flagRouter) write(ctx context.Context, accountID string) route {
	k := r.cfg.keys
	var f FlagState
	var ok bool
	if f.OldWrite, f.NewWrite, ok = r.pair(ctx, accountID, k.OldWrite, k.NewWrite); !ok {
		return route{first: SideOld}
	}
	wo, wn := f.Writes()
	if wo && wn || r.check.due(accountID) {
		// Dual writes need the read flags: the store reads are served from
		// is written first. A failed read flag means reads from old.
		if f.OldRead, f.NewRead, ok = r.pair(ctx, accountID, k.OldRead, k.NewRead); !ok {
			f.OldRead, f.NewRead = false, false
		} else {
			r.report(ctx, accountID, f)
		}
	}
	switch {
	case wo && wn:
		return route{first: f.Authoritative(), both: true}
	case wn:
		return route{first: SideNew}
	}
	return route{first: SideOld}
}

func (r *flagRouter) read(ctx context.Context, accountID string) route {
	k := r.cfg.keys
	var f FlagState
	var ok bool
	if f.OldRead, f.NewRead, ok = r.pair(ctx, accountID, k.OldRead, k.NewRead); !ok {
		return route{first: SideOld}
	}
	if r.check.due(accountID) {
		if f.OldWrite, f.NewWrite, ok = r.pair(ctx, accountID, k.OldWrite, k.NewWrite); ok {
			r.report(ctx, accountID, f)
		}
	}
	switch ro, rn := f.Reads(); {
	case ro && rn:
		return route{first: SideOld, both: true}
	case rn:
		return route{first: SideNew}
	}
	return route{first: SideOld}
}

func (r *flagRouter) report(ctx context.Context, accountID string, f FlagState) {
	if f.Danger() != "" {
		if h := r.cfg.observer.DangerousRouting; h != nil {
			h(ctx, accountID, f)
		}
	}
}

// checkSchedule decides when an account's flag combination is due for a
// check: at most once per interval per account, remembering a bounded
// number of accounts.
type checkSchedule struct {
	every time.Duration
	next  sync.Map // account ID -> *atomic.Int64, Unix nanoseconds
	n     atomic.Int64
}

const maxScheduledAccounts = 1 << 16

func (c *checkSchedule) due(accountID string) bool {
	switch {
	case c.every < 0:
		return false
	case c.every == 0:
		return true
	}
	v, ok := c.next.Load(accountID)
	if !ok {
		if c.n.Add(1) > maxScheduledAccounts {
			c.next.Clear()
			c.n.Store(1)
		}
		v, _ = c.next.LoadOrStore(accountID, new(atomic.Int64))
	}
	p := v.(*atomic.Int64)
	now := time.Now().UnixNano()
	next := p.Load()
	return now >= next && p.CompareAndSwap(next, now+int64(c.every))
}

// stageRouter routes by one migration flag, as LaunchDarkly's Migrator does.
type stageRouter struct {
	client StageFlagClient
	key    string
	cfg    *config
}

func (r *stageRouter) route(ctx context.Context, accountID string, write bool) (Stage, route) {
	stage, tracker, err := r.client.StageFlag(ctx, r.key, accountID, write)
	if err != nil {
		r.cfg.flagFailed(ctx, r.key, accountID, err)
		stage = StageOff
	}
	return stage, route{first: SideOld, stage: r, op: tracker}
}

func (r *stageRouter) write(ctx context.Context, accountID string) route {
	stage, rt := r.route(ctx, accountID, true)
	switch stage {
	case StageDualWrite, StageShadow:
		rt.both = true
	case StageLive, StageRampDown:
		rt.first, rt.both = SideNew, true
	case StageComplete:
		rt.first = SideNew
	}
	return rt
}

func (r *stageRouter) read(ctx context.Context, accountID string) route {
	stage, rt := r.route(ctx, accountID, false)
	switch stage {
	case StageShadow:
		rt.both = true
	case StageLive:
		rt.first, rt.both = SideNew, true
	case StageRampDown, StageComplete:
		rt.first = SideNew
	}
	return rt
}
