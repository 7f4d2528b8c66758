package flagmigrate

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/brake"
	"github.com/flagmigrate/flagmigrate/migration"
)

// route is the routing of one call.
type route struct {
	first Side // authoritative: written first, its read result returned
	both  bool // the other store is written too, or read and compared
	// candidateDown: a read of both whose candidate store the breaker
	// takes as down ([WithStoreBreaker]); it is compared as failed, not read.
	candidateDown bool
	stage         *stageRouter
	op            StageTracker // stage mode only
}

// readRoute routes a read of accountID: the route the flags give, as the
// brake has it ([WithBrake]), reading one store when the comparison is not
// sampled ([WithCompareSampling]), and marking a candidate taken as down.
func (m *Migration[S]) readRoute(ctx context.Context, accountID string) route {
	rt := m.braked(ctx, accountID, false, m.route.read(ctx, accountID))
	if rt.both && !m.cfg.sampling.sample(accountID) {
		rt.both = false
	}
	rt.candidateDown = rt.both && m.breaker(otherSide(rt.first)).Down()
	return rt
}

// writeRoute routes a write of accountID: the route the flags give, as
// the brake has it.
func (m *Migration[S]) writeRoute(ctx context.Context, accountID string) route {
	return m.braked(ctx, accountID, true, m.route.write(ctx, accountID))
}

func (r *route) track(side Side, d time.Duration, failed bool) {
	if r.op != nil {
		defer r.contain("Measure")
		r.op.Measure(side, d, failed)
	}
}

// contain recovers a panic of the stage tracker's method: a flag client's
// fault, reported as a flag failure (a *migration.PanicError), never the
// caller's. It is deferred.
func (r *route) contain(method string) {
	if p := recover(); p != nil {
		err := fmt.Errorf("flagmigrate: the stage tracker's %s: %w", method, &migration.PanicError{Value: p, Stack: debug.Stack()})
		r.stage.cfg.flagFailed(context.Background(), r.stage.key, "", err)
	}
}

// consistency records a comparison in the stage tracker when both reads
// succeeded (not finding a record counts as success).
func (r *route) consistency(oldErr, newErr error, v Verdict, notFound func(error) bool) {
	if r.op == nil || v == migration.VerdictNotCompared || v == migration.VerdictBehind || (oldErr != nil && !notFound(oldErr)) || (newErr != nil && !notFound(newErr)) {
		return
	}
	defer r.contain("Consistency")
	r.op.Consistency(func() bool { return v == VerdictMatch })
}

// finish sends the stage tracker's measurements.
func (r *route) finish(ctx context.Context, obs *Observer) {
	if r.op == nil {
		return
	}
	defer r.contain("Finish")
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
	v1, err1 := r.boolFlag(ctx, k1, accountID)
	v2, err2 := r.boolFlag(ctx, k2, accountID)
	if err1 != nil {
		r.cfg.flagFailed(ctx, k1, accountID, err1)
	}
	if err2 != nil {
		r.cfg.flagFailed(ctx, k2, accountID, err2)
	}
	return v1, v2, err1 == nil && err2 == nil
}

// boolFlag evaluates one flag, off unless it evaluates to true; a flag
// client that panics fails the evaluation (a *migration.PanicError), so
// that the call goes to the old store and the caller never sees the panic.
func (r *flagRouter) boolFlag(ctx context.Context, key, accountID string) (v bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = false, &migration.PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return r.client.BoolFlag(ctx, key, accountID, false)
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
	stage, tracker, err := r.stageFlag(ctx, accountID, write)
	if err != nil {
		r.cfg.flagFailed(ctx, r.key, accountID, err)
		stage = StageOff
	}
	return stage, route{first: SideOld, stage: r, op: tracker}
}

// stageFlag evaluates the migration flag; a flag client that panics fails
// the evaluation (a *migration.PanicError), which routes the call as off.
func (r *stageRouter) stageFlag(ctx context.Context, accountID string, write bool) (stage Stage, tracker StageTracker, err error) {
	defer func() {
		if p := recover(); p != nil {
			stage, tracker, err = StageOff, nil, &migration.PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return r.client.StageFlag(ctx, r.key, accountID, write)
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

type sampling struct {
	rate      float64
	byAccount bool
}

func (s sampling) sample(accountID string) bool {
	switch {
	case s.rate >= 1:
		return true
	case s.rate <= 0:
		return false
	case s.byAccount:
		h := fnv.New64a()
		h.Write([]byte(accountID))
		return float64(mix64(h.Sum64())) < s.rate*math.MaxUint64
	}
	return rand.Float64() < s.rate
}

// mix64 is MurmurHash3's finaliser: FNV alone leaves the high bits of
// similar short strings alike.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
