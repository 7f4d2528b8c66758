package flagmigrate

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
)

// FlagClient evaluates boolean flags: the part of a LaunchDarkly client the
// four-flag routing needs. [*ldclient.LDClient] satisfies it as it is;
// package flagtest has a fake for unit tests.
type FlagClient interface {
	// BoolVariationCtx returns the flag's value for evalContext, or
	// defaultVal and an error when the flag cannot be evaluated.
	BoolVariationCtx(ctx context.Context, key string, evalContext ldcontext.Context, defaultVal bool) (bool, error)
}

// StageFlagClient evaluates a LaunchDarkly migration flag and takes back the
// measurements of each operation: what stage mode ([WithStageFlag]) needs on
// top of [FlagClient]. [*ldclient.LDClient] satisfies it as it is.
type StageFlagClient interface {
	// MigrationVariationCtx returns the flag's stage for evalContext (or
	// defaultStage) and a tracker for the operation's measurements.
	MigrationVariationCtx(ctx context.Context, key string, evalContext ldcontext.Context, defaultStage ldmigration.Stage) (ldmigration.Stage, interfaces.LDMigrationOpTracker, error)
	// TrackMigrationOp reports one operation's measurements.
	TrackMigrationOp(event ldevents.MigrationOpEventData) error
}

var (
	_ FlagClient      = (*ldclient.LDClient)(nil)
	_ StageFlagClient = (*ldclient.LDClient)(nil)
)

// AccountContextKind is the LaunchDarkly context kind flags are evaluated
// for: one context per account, keyed by its AccountID.
const AccountContextKind ldcontext.Kind = "account"

// AccountContext returns the default evaluation context of an account: kind
// "account", keyed by accountID. See [WithLDContext] to add attributes.
func AccountContext(accountID string) ldcontext.Context {
	return ldcontext.NewWithKind(AccountContextKind, accountID)
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

// WithStageFlag routes by one LaunchDarkly migration flag instead of four
// boolean flags, exactly as LaunchDarkly's Migrator does for each stage:
//
//	stage      reads                          writes
//	off        old                            old
//	dualwrite  old                            old, then new
//	shadow     old and new, old's result      old, then new
//	live       new and old, new's result      new, then old
//	rampdown   new                            new, then old
//	complete   new                            new
//
// A missing flag or an evaluation error means off. Each operation is
// reported back with TrackMigrationOp: the invoked stores, their latencies,
// their errors and, when both were read, whether they agreed (sampled by the
// flag's check ratio). A FindEventByID that finds nothing is a result, not
// an error. The flag client must implement [StageFlagClient].
func WithStageFlag(key string) Option {
	return func(c *config) {
		if key == "" {
			c.fail("WithStageFlag: empty key")
			return
		}
		c.stageKey = key
	}
}

// WithLDContext sets how an account's evaluation context is built, for
// example to add attributes that targeting rules match (default
// [AccountContext]). ctx is the call's context.
func WithLDContext(build func(ctx context.Context, accountID string) ldcontext.Context) Option {
	return func(c *config) {
		if build == nil {
			c.fail("WithLDContext: nil function")
			return
		}
		c.ldContext = build
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

// FlagState is the four flags' values for one account.
type FlagState struct {
	OldWrite, NewWrite, OldRead, NewRead bool
}

// Writes returns the stores a write goes to: the old store when neither
// write flag is on.
func (f FlagState) Writes() (old, new bool) {
	if !f.OldWrite && !f.NewWrite {
		return true, false
	}
	return f.OldWrite, f.NewWrite
}

// Reads returns the stores a read goes to: the old store when neither read
// flag is on.
func (f FlagState) Reads() (old, new bool) {
	if !f.OldRead && !f.NewRead {
		return true, false
	}
	return f.OldRead, f.NewRead
}

// Authoritative returns the store reads are served from, which writes go to
// first: the new store when only it is read, else the old store.
func (f FlagState) Authoritative() Side {
	if o, n := f.Reads(); n && !o {
		return SideNew
	}
	return SideOld
}

// Danger reports whether the combination is legal but dangerous: whether a
// store is read (served or compared) that is not written.
func (f FlagState) Danger() Danger {
	wo, wn := f.Writes()
	ro, rn := f.Reads()
	switch {
	case rn && !wn:
		return DangerNewReadNotWritten
	case ro && !wo:
		return DangerOldReadNotWritten
	}
	return DangerNone
}

// Danger is a legal but dangerous flag combination.
type Danger uint8

// Dangers.
const (
	DangerNone Danger = iota
	// DangerNewReadNotWritten: the new store is read while it is not
	// written, so it misses the account's latest events.
	DangerNewReadNotWritten
	// DangerOldReadNotWritten: old writes are off while the old store is
	// still read, so it misses the account's latest events.
	DangerOldReadNotWritten
)

// String describes the danger.
func (d Danger) String() string {
	switch d {
	case DangerNone:
		return "none"
	case DangerNewReadNotWritten:
		return "the new store is read but not written"
	case DangerOldReadNotWritten:
		return "old writes are off while the old store is read"
	}
	return "unknown danger"
}

// route is the routing of one call.
type route struct {
	first Side // authoritative: written first, its read result returned
	both  bool // the other store is written too, or read and compared
	stage *stageRouter
	op    interfaces.LDMigrationOpTracker // stage mode only
}

func (r *route) track(side Side, d time.Duration, failed bool) {
	if r.op == nil {
		return
	}
	o := origin(side)
	r.op.TrackInvoked(o)
	r.op.TrackLatency(o, d)
	if failed {
		r.op.TrackError(o)
	}
}

// consistency records a comparison in the stage tracker when both reads
// succeeded (not finding a record counts as success).
func (r *route) consistency(oldErr, newErr error, v Verdict, notFound func(error) bool) {
	if r.op == nil || (oldErr != nil && !notFound(oldErr)) || (newErr != nil && !notFound(newErr)) {
		return
	}
	r.op.TrackConsistency(func() bool { return v == VerdictMatch })
}

// finish sends the stage tracker's event.
func (r *route) finish(ctx context.Context, obs Observer) {
	if r.op == nil {
		return
	}
	ev, err := r.op.Build()
	if err == nil {
		err = r.stage.client.TrackMigrationOp(*ev)
	}
	if err != nil {
		obs.FlagFailed(ctx, FlagError{Key: r.stage.key, Err: err})
	}
}

func origin(s Side) ldmigration.Origin {
	if s == SideNew {
		return ldmigration.New
	}
	return ldmigration.Old
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
func (r *flagRouter) pair(ctx context.Context, lc ldcontext.Context, accountID, k1, k2 string) (v1, v2, ok bool) {
	v1, err1 := r.client.BoolVariationCtx(ctx, k1, lc, false)
	v2, err2 := r.client.BoolVariationCtx(ctx, k2, lc, false)
	if err1 != nil {
		r.cfg.observer.FlagFailed(ctx, FlagError{Key: k1, AccountID: accountID, Err: err1})
	}
	if err2 != nil {
		r.cfg.observer.FlagFailed(ctx, FlagError{Key: k2, AccountID: accountID, Err: err2})
	}
	return v1, v2, err1 == nil && err2 == nil
}

func (r *flagRouter) write(ctx context.Context, accountID string) route {
	lc := r.cfg.ldContext(ctx, accountID)
	k := r.cfg.keys
	var f FlagState
	var ok bool
	if f.OldWrite, f.NewWrite, ok = r.pair(ctx, lc, accountID, k.OldWrite, k.NewWrite); !ok {
		return route{first: SideOld}
	}
	wo, wn := f.Writes()
	if wo && wn || r.check.due(accountID) {
		// Dual writes need the read flags: the store reads are served from
		// is written first. A failed read flag means reads from old.
		if f.OldRead, f.NewRead, ok = r.pair(ctx, lc, accountID, k.OldRead, k.NewRead); !ok {
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
	lc := r.cfg.ldContext(ctx, accountID)
	k := r.cfg.keys
	var f FlagState
	var ok bool
	if f.OldRead, f.NewRead, ok = r.pair(ctx, lc, accountID, k.OldRead, k.NewRead); !ok {
		return route{first: SideOld}
	}
	if r.check.due(accountID) {
		if f.OldWrite, f.NewWrite, ok = r.pair(ctx, lc, accountID, k.OldWrite, k.NewWrite); ok {
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
	if d := f.Danger(); d != DangerNone {
		r.cfg.observer.DangerousRouting(ctx, DangerReport{AccountID: accountID, Flags: f, Danger: d})
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

func (r *stageRouter) route(ctx context.Context, accountID string, op ldmigration.Operation) (ldmigration.Stage, route) {
	lc := r.cfg.ldContext(ctx, accountID)
	stage, tracker, err := r.client.MigrationVariationCtx(ctx, r.key, lc, ldmigration.Off)
	if err != nil {
		r.cfg.observer.FlagFailed(ctx, FlagError{Key: r.key, AccountID: accountID, Err: err})
		stage = ldmigration.Off
	}
	rt := route{first: SideOld, stage: r}
	if tracker != nil {
		tracker.Operation(op)
		rt.op = tracker
	}
	return stage, rt
}

func (r *stageRouter) write(ctx context.Context, accountID string) route {
	stage, rt := r.route(ctx, accountID, ldmigration.Write)
	switch stage {
	case ldmigration.DualWrite, ldmigration.Shadow:
		rt.both = true
	case ldmigration.Live, ldmigration.RampDown:
		rt.first, rt.both = SideNew, true
	case ldmigration.Complete:
		rt.first = SideNew
	}
	return rt
}

func (r *stageRouter) read(ctx context.Context, accountID string) route {
	stage, rt := r.route(ctx, accountID, ldmigration.Read)
	switch stage {
	case ldmigration.Shadow:
		rt.both = true
	case ldmigration.Live:
		rt.first, rt.both = SideNew, true
	case ldmigration.RampDown, ldmigration.Complete:
		rt.first = SideNew
	}
	return rt
}

// FlagError reports a flag that could not be evaluated (the call was routed
// to the old store only) or a migration measurement that could not be sent.
type FlagError struct {
	Key       string // the flag
	AccountID string // the account, when evaluating
	Err       error
}

// Error implements error.
func (e FlagError) Error() string {
	return "flagmigrate: flag " + e.Key + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e FlagError) Unwrap() error { return e.Err }

var _ error = FlagError{}
