package flagmigrate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/brake"
	"github.com/flagmigrate/flagmigrate/internal/breaker"
	"github.com/flagmigrate/flagmigrate/internal/shadow"
)

// Migration is the generic dual-read/dual-write core: it routes calls on a
// pair of implementations of the same interface S (an old and a new DAO) by
// per-account flags, writes the authoritative store first, records failed
// secondary writes in a [RepairLog], and compares dual reads. Use it through
// [Write] and [Read]; [MigratingStore] is a thin typed use of it for events.
//
// A Migration is safe for concurrent use. Call [Migration.Close] when done
// if shadow reads are enabled (see [WithShadowReads]).
type Migration[S any] struct {
	old, new S
	cfg      config
	route    router
	shadow   *shadow.Pool
	breakers [2]*breaker.Breaker // old, new
	probes   breaker.Probes
	brake    *brake.Brake // nil without WithBrake
}

// NewMigration returns a Migration between old and new, routed by flags.
// With [WithStageFlag], flags must also implement [StageFlagClient]. Errors
// (missing parts, invalid options) match [ErrInvalidArgument].
func NewMigration[S any](old, new S, flags FlagClient, opts ...Option) (*Migration[S], error) {
	if isNil(old) {
		return nil, argError("NewMigration: the old store is nil")
	}
	if isNil(new) {
		return nil, argError("NewMigration: the new store is nil")
	}
	if isNil(flags) {
		return nil, argError("NewMigration: the flag client is nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m := &Migration[S]{old: old, new: new, cfg: cfg}
	bo := breaker.Options{Failures: cfg.breaker.Failures, Backoff: cfg.breaker.Backoff, MaxBackoff: cfg.breaker.MaxBackoff}
	if bo.Failures == 0 {
		bo.Failures = defaultBreakerFailures
	}
	if bo.Backoff == 0 {
		bo.Backoff = defaultBreakerBackoff
	}
	if bo.MaxBackoff == 0 {
		bo.MaxBackoff = defaultBreakerMaxBackoff
	}
	down := func(err error) bool {
		o := outcomeOf(err, cfg.notFound)
		return o == OutcomeError || o == OutcomeTimeout
	}
	m.breakers = [2]*breaker.Breaker{breaker.New(SideOld, bo, down), breaker.New(SideNew, bo, down)}
	if cfg.stageKey != "" {
		sc, ok := flags.(StageFlagClient)
		if !ok {
			return nil, argError("NewMigration: WithStageFlag needs a flag client with StageFlag (%T has not)", flags)
		}
		m.route = &stageRouter{client: sc, key: cfg.stageKey, cfg: &m.cfg}
	} else {
		m.route = newFlagRouter(flags, &m.cfg)
	}
	if cfg.shadow != nil {
		m.shadow = shadow.New(cfg.shadow.MaxInFlight)
	}
	if cfg.brake != nil {
		o := cfg.brake
		m.brake = brake.New(brake.Options{
			Window: o.Window, MinSamples: o.MinSamples, MaxErrorRate: o.MaxErrorRate, MaxMismatchRate: o.MaxMismatchRate,
			Cooldown: o.Cooldown, MaxAccounts: o.MaxAccounts,
		}, func(ctx context.Context, s BrakeState) {
			if f := cfg.observer.BrakeChanged; f != nil {
				f(ctx, s)
			}
		})
	}
	return m, nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// RepairLog returns the repair log in use: the one given with
// [WithRepairLog], or the default in-memory one (a [RepairReader]), whose
// entries the backfill's repair can replay.
func (m *Migration[S]) RepairLog() RepairLog { return m.cfg.repair }

// Flush waits until the shadow reads in flight when it was called have
// finished, or ctx is done (returning its error). New shadow reads may start
// meanwhile.
func (m *Migration[S]) Flush(ctx context.Context) error {
	if m == nil || m.shadow == nil {
		return nil
	}
	return m.shadow.Flush(ctx)
}

// Close stops starting shadow reads (later dual reads serve the
// authoritative store only, counting the candidate as dropped), waits for
// those in flight (each ends within its [ShadowOptions].Timeout) and stops
// the background workers; it also waits for a background probe of a store
// that is down (bounded by the secondary timeout; later probes run on
// their caller), so that no goroutine of the Migration survives.
// Calls keep working after Close; the stores themselves are not closed.
// Close is idempotent and returns nil. (Without Close, idle workers exit
// after ten seconds.)
func (m *Migration[S]) Close() error {
	if m == nil {
		return nil
	}
	if m.shadow != nil {
		m.shadow.Close()
	}
	m.probes.Close()
	return nil
}

func (m *Migration[S]) breaker(s Side) *breaker.Breaker {
	if s == SideNew {
		return m.breakers[1]
	}
	return m.breakers[0]
}

func (m *Migration[S]) store(s Side) S {
	if s == SideNew {
		return m.new
	}
	return m.old
}

// Write runs write on the store(s) that call's flags select. The
// authoritative store (the one reads are served from) is written first; if it
// fails, Write returns its error and the other store is not written. The
// other store's write runs on a context detached from ctx's cancellation,
// with its own timeout ([WithSecondaryTimeout]); its failure does not fail
// the call: it is reported to the observer and recorded in the [RepairLog].
// A panic of that second write counts as its failure (recovered, reported
// and recorded), since the caller's write has already landed.
// Only if that record fails too does Write return an error, matching
// [ErrUnrepaired]: retrying an idempotent write then heals the stores.
//
// With [WithConcurrentWrites] both stores are written at once. A secondary
// store known to be down is not written (see [WithStoreBreaker]): the
// write goes straight to the repair log.
func Write[S any](ctx context.Context, m *Migration[S], call Call, write func(ctx context.Context, store S) error) error {
	if m == nil || write == nil {
		return argError("Write: nil migration or write function")
	}
	return writeBoth(ctx, m, call, write, write)
}

// WriteValue is [Write] for a write that returns a value (as LaunchDarkly's
// MigrationWriteResult carries the authoritative result): it returns the
// authoritative store's value and error; the other store's value is
// dropped. A secondary write refused with [ErrDeleted] (a delete of the
// record ran between the two writes) is a success: neither store keeps it.
// For a call of Kind [KindDelete] or [KindErase] (see [Call]),
// the other store is written whatever the flags say (see [WriteKind]), and
// its not-found answer (the [WithNotFound] predicate) counts as success,
// not as a repair entry.
func WriteValue[S, T any](ctx context.Context, m *Migration[S], call Call, write func(ctx context.Context, store S) (T, error)) (T, error) {
	var v T
	if m == nil || write == nil {
		return v, argError("Write: nil migration or write function")
	}
	auth := func(ctx context.Context, s S) error {
		var err error
		v, err = write(ctx, s)
		return err
	}
	other := func(ctx context.Context, s S) error {
		_, err := write(ctx, s)
		return err
	}
	err := writeBoth(ctx, m, call, auth, other)
	return v, err
}

// writeBoth is Write with the authoritative store's write (auth) apart from
// the other's (other), so that WriteValue can keep the first one's value.
func writeBoth[S any](ctx context.Context, m *Migration[S], call Call, auth, other func(ctx context.Context, store S) error) error {
	switch call.Kind {
	case "":
		call.Kind = KindWrite
	case KindWrite, KindDelete, KindErase:
	default:
		return argError("%s: write kind %q is none of write, delete, erase", call.Op, call.Kind)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rt := m.route.write(ctx, call.AccountID)
	rt = m.braked(ctx, call.AccountID, true, rt)
	defer rt.finish(ctx, &m.cfg.observer)
	if call.Kind != KindWrite {
		rt.both = true // a delete reaches both stores: either may hold a copy
	}
	first, second := rt.first, otherSide(rt.first)
	if rt.both && m.cfg.concurrentWrites && !m.breaker(second).Down() {
		return writeConcurrently(ctx, m, call, rt, auth, other)
	}
	start := time.Now()
	err := auth(ctx, m.store(first))
	m.observe(ctx, call, &rt, first, RoleAuthoritative, start, err)
	if call.Kind != KindWrite && err != nil && m.cfg.notFound(err) {
		// Not in the authoritative store: the caller hears so, and the
		// other store, which may hold a copy, is still cleared.
		if serr := writeSecondaryOrRecord(ctx, m, call, &rt, first, other); serr != nil {
			return serr
		}
		return err
	}
	if err != nil || !rt.both {
		return err
	}
	return writeSecondaryOrRecord(ctx, m, call, &rt, first, other)
}

// writeSecondaryOrRecord writes the store other than first, through its
// breaker, and records a repair entry when that fails or is skipped.
func writeSecondaryOrRecord[S any](ctx context.Context, m *Migration[S], call Call, rt *route, first Side, write func(context.Context, S) error) error {
	second := otherSide(first)
	ok, probe, skipErr := m.breaker(second).Admit(ErrStoreDown)
	if !ok {
		if m.brake != nil && second == SideNew {
			m.brake.Sample(ctx, call.AccountID, BrakeErrors, true) // the new store is down
		}
		err := m.recordRepair(ctx, call, RepairEntry{Target: second, Source: first}, skipErr)
		if probe {
			m.probes.Start(func() {
				prt := route{first: first} // not the caller's: its stage event is sent
				_ = writeSecondary(ctx, m, call, &prt, second, RoleProbe, write)
			})
		}
		return err
	}
	if err := writeSecondary(ctx, m, call, rt, second, RoleSecondary, write); err != nil {
		return m.recordRepair(ctx, call, RepairEntry{Target: second, Source: first}, err)
	}
	return nil
}

// writeSecondary writes the non-authoritative store on a context detached
// from ctx's cancellation, bounded by the secondary timeout, reports the
// call, and feeds the store's breaker. A panic of the write becomes its
// error: the authoritative write has landed, so the failure is the
// secondary's, to be recorded for repair like any other, never the
// caller's.
func writeSecondary[S any](ctx context.Context, m *Migration[S], call Call, rt *route, side Side, role Role, write func(context.Context, S) error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.secondaryTimeout)
	defer cancel()
	start := time.Now()
	err := safely(func() error { return write(sctx, m.store(side)) })
	switch {
	case call.Kind != KindWrite && err != nil && m.cfg.notFound(err):
		err = nil // already gone: what a delete wants
	case errors.Is(err, ErrDeleted):
		err = nil // deleted meanwhile: both stores agree it is gone
	}
	m.observe(sctx, call, rt, side, role, start, err)
	if change := m.breaker(side).Done(err, role == RoleProbe); change != nil {
		if f := m.cfg.observer.StoreStateChanged; f != nil {
			f(ctx, *change)
		}
	}
	return err
}

// writeConcurrently writes both stores at once and waits for both. When the
// authoritative write fails and the other succeeds, the other store holds a
// write the caller was told failed: it is recorded as an orphan.
func writeConcurrently[S any](ctx context.Context, m *Migration[S], call Call, rt route, auth, other func(context.Context, S) error) error {
	first, second := rt.first, otherSide(rt.first)
	done := make(chan error, 1)
	go func() { done <- writeSecondary(ctx, m, call, &rt, second, RoleSecondary, other) }()
	start := time.Now()
	errA := auth(ctx, m.store(first))
	m.observe(ctx, call, &rt, first, RoleAuthoritative, start, errA)
	errB := <-done
	switch {
	case call.Kind != KindWrite && errA != nil && m.cfg.notFound(errA):
		// A delete of what the authoritative store does not hold.
		if errB != nil {
			if err := m.recordRepair(ctx, call, RepairEntry{Target: second, Source: first}, errB); err != nil {
				return err
			}
		}
		return errA
	case errors.Is(errA, ErrDeleted):
		// Deleted: the delete that refused it clears the other store too.
		return errA
	case errA != nil && errB == nil:
		// The caller sees errA; the repair log keeps the orphan visible.
		_ = m.recordRepair(ctx, call, RepairEntry{Target: first, Source: second, Orphan: true}, errA)
		return errA
	case errA != nil:
		return errA
	case errB != nil:
		return m.recordRepair(ctx, call, RepairEntry{Target: second, Source: first}, errB)
	}
	return nil
}

// recordRepair completes e, records it with a detached context, reports it,
// and returns nil unless the record failed.
func (m *Migration[S]) recordRepair(ctx context.Context, call Call, e RepairEntry, cause error) error {
	e.Time = time.Now().UTC()
	e.Call, e.Error = call, cause.Error()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.secondaryTimeout)
	defer cancel()
	err := safely(func() error { return m.cfg.repair.Record(rctx, e) })
	if f := m.cfg.observer.RepairRecorded; f != nil {
		f(ctx, e, err)
	}
	if err != nil && !e.Orphan {
		return fmt.Errorf("%w: %s %s/%s: the %s store's write failed (%v) and the repair log refused the entry: %w",
			ErrUnrepaired, call.Op, call.AccountID, call.Key, e.Target, cause, err)
	}
	return nil
}

// Read runs read on the store(s) that call's flags select and returns the
// authoritative store's result and error (the old store's, unless reads are
// served from the new store alone or the migration stage is live or later).
// When both stores are read, their results are compared with go-cmp
// ([WithCompareOptions]), classified ([Verdict]) and reported to
// [Observer].Compared with what differs. By default both reads run
// concurrently and Read waits for both; with [WithShadowReads] the
// authoritative result returns at once and the comparison finishes in the
// background.
//
// In shadow mode the result returned to the caller is compared after Read
// returns: if T holds maps or slices the caller may change, give T a
// Clone() T method (as [Event] has), which Read uses to keep a private copy.
func Read[S, T any](ctx context.Context, m *Migration[S], call Call, read func(ctx context.Context, store S) (T, error)) (T, error) {
	var zero T
	if m == nil || read == nil {
		return zero, argError("Read: nil migration or read function")
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	rt := m.route.read(ctx, call.AccountID)
	rt = m.braked(ctx, call.AccountID, false, rt)
	if !rt.both || !m.cfg.sampling.sample(call.AccountID) {
		defer rt.finish(ctx, &m.cfg.observer)
		return timedRead(ctx, m, call, &rt, rt.first, RoleAuthoritative, read)
	}
	if m.breaker(otherSide(rt.first)).Down() {
		return readCandidateDown(ctx, m, call, rt, read)
	}
	if m.shadow != nil {
		return shadowRead(ctx, m, call, rt, read)
	}
	return dualRead(ctx, m, call, rt, read)
}

// dualRead reads both stores concurrently, waits for both and compares.
//
// The caller yields once after starting the candidate's goroutine, so that
// the candidate read starts at once on the caller's processor (until it
// blocks on its store) rather than when the caller's own read blocks or
// another thread, which on a loaded machine may wait for a CPU, steals it:
// then the two reads overlap and a dual read takes about as long as the
// slower store (BenchmarkDualReadLatency).
func dualRead[S, T any](ctx context.Context, m *Migration[S], call Call, rt route, read func(context.Context, S) (T, error)) (T, error) {
	defer rt.finish(ctx, &m.cfg.observer)
	done := make(chan result[T], 1)
	go func() {
		// The caller waits for the candidate: bound it, so that a hung
		// new store costs the caller the secondary timeout at most.
		cctx, cancel := context.WithTimeout(ctx, m.cfg.secondaryTimeout)
		defer cancel()
		done <- candidateRead(cctx, m, call, &rt, read)
	}()
	runtime.Gosched()
	v, err := timedRead(ctx, m, call, &rt, rt.first, RoleAuthoritative, read)
	c := <-done
	if ctx.Err() == nil {
		compare(ctx, m, call, &rt, result[T]{v, err}, c, false, false)
	}
	return v, err
}

// readCandidateDown is a dual read whose candidate store the breaker takes
// as down ([WithStoreBreaker]): the candidate is not read, as it would not
// be written, so no caller waits for a dead store; the authoritative
// result is served and compared as the candidate's failure, an error
// matching [ErrStoreDown], which the brake counts as the new store's.
func readCandidateDown[S, T any](ctx context.Context, m *Migration[S], call Call, rt route, read func(context.Context, S) (T, error)) (T, error) {
	defer rt.finish(ctx, &m.cfg.observer)
	cand := otherSide(rt.first)
	if m.brake != nil && cand == SideNew {
		m.brake.Sample(ctx, call.AccountID, BrakeErrors, true)
	}
	v, err := timedRead(ctx, m, call, &rt, rt.first, RoleAuthoritative, read)
	if ctx.Err() == nil {
		skip := fmt.Errorf("%w: the %v store is down: not read", ErrStoreDown, cand)
		compare(ctx, m, call, &rt, result[T]{v, err}, result[T]{err: skip}, false, false)
	}
	return v, err
}

type result[T any] struct {
	v   T
	err error
}

// shadowRead hands the candidate read to a bounded background worker, then
// serves the authoritative read and returns its result at once; the worker
// compares the two when both are in. The worker waits for the
// authoritative result no longer than the shadow timeout (counting the
// read as dropped, DropTimeout, if it comes later), so that each shadow
// read, and thus Close, ends within the timeout.
//
// The candidate read starts before the authoritative one, not after it, so
// the two see the stores at nearly the same moment (fewer mismatches from
// writes landing in between). The hand-off itself, waking a worker, is the
// one cost shadow mode adds to the caller: a few microseconds, tens at the
// tail on a virtual machine (see BenchmarkShadowLatency). The
// authoritative result reaches the worker through a buffered channel,
// which never blocks the caller and, in the usual case of a slower
// candidate, wakes nobody. A caller who gives up still leaves the candidate
// read to finish, bounded by the shadow timeout, uncompared.
func shadowRead[S, T any](ctx context.Context, m *Migration[S], call Call, rtv route, read func(context.Context, S) (T, error)) (T, error) {
	rt := &rtv
	ep, reason := m.shadow.Acquire()
	if ep == nil {
		if f := m.cfg.observer.ShadowDropped; f != nil {
			f(ctx, call.Op, reason)
		}
		defer rt.finish(ctx, &m.cfg.observer)
		return timedRead(ctx, m, call, rt, rt.first, RoleAuthoritative, read)
	}
	auth := make(chan shadowAuth[T], 1)
	m.shadow.Run(func() {
		defer m.shadow.Release(ep)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.shadow.Timeout)
		defer cancel()
		defer rt.finish(sctx, &m.cfg.observer)
		c := candidateRead(sctx, m, call, rt, read)
		var got shadowAuth[T]
		select {
		case got = <-auth:
		case <-sctx.Done():
			select {
			case got = <-auth: // in already (the candidate timed out)
			default:
				// The authoritative read outlasts the shadow timeout:
				// give up on it rather than hold Close (and a worker).
				if f := m.cfg.observer.ShadowDropped; f != nil {
					f(sctx, call.Op, DropTimeout)
				}
				return
			}
		}
		if got.gaveUp {
			return // the caller gave up: nothing to compare
		}
		a, rechecked := got.result, false
		switch v, _ := judge(m, rt, a, c); v {
		case VerdictDifferent, VerdictMissingInNew, VerdictMissingInOld:
			// A write landing between the two reads may be the
			// difference: read both again to confirm it.
			// A recheck that fails proves nothing: the original reads,
			// which both succeeded, are compared and measured.
			if a2, c2 := rereadBoth(sctx, m, call, rt, read); !m.failed(a2.err) && !m.failed(c2.err) {
				a, c, rechecked = a2, c2, true
			}
		}
		compare(sctx, m, call, rt, a, c, true, rechecked)
	})
	// The worker always gets an answer, even if the read panics.
	sent := shadowAuth[T]{gaveUp: true}
	defer func() { auth <- sent }()
	v, err := timedRead(ctx, m, call, rt, rt.first, RoleAuthoritative, read)
	sent = shadowAuth[T]{result: result[T]{cloneOf(v), err}, gaveUp: isContextErr(err) && ctx.Err() != nil}
	return v, err
}

// shadowAuth is the authoritative side of a shadow read, as the caller got
// it; gaveUp means the caller's context ended it (or it panicked) and there
// is nothing to compare.
type shadowAuth[T any] struct {
	result result[T]
	gaveUp bool
}

// candidateRead reads the non-authoritative store, turning a panic into an
// error: it runs on a goroutine of its own.
func candidateRead[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, read func(context.Context, S) (T, error)) (c result[T]) {
	c.err = safely(func() error {
		var err error
		c.v, err = timedRead(ctx, m, call, rt, otherSide(rt.first), RoleCandidate, read)
		return err
	})
	return c
}

// cloneOf returns a private copy of v when T has a Clone() T method.
func cloneOf[T any](v T) T {
	if c, ok := any(v).(interface{ Clone() T }); ok {
		return c.Clone()
	}
	return v
}

// timedRead reads one store and reports the call. A read that panics is
// reported too, as failed (the stage tracker measures it as LaunchDarkly's
// Migrator measures an error), before the panic goes on.
func timedRead[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, side Side, role Role, read func(context.Context, S) (T, error)) (T, error) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			m.observe(ctx, call, rt, side, role, start, fmt.Errorf("flagmigrate: recovered panic: %v", r))
			panic(r)
		}
	}()
	v, err := read(ctx, m.store(side))
	m.observe(ctx, call, rt, side, role, start, err)
	return v, err
}

// observe reports one store call, begun at start, to the observer and to
// the stage tracker.
func (m *Migration[S]) observe(ctx context.Context, call Call, rt *route, side Side, role Role, start time.Time, err error) {
	d := time.Since(start)
	rt.track(side, d, err != nil && !m.cfg.notFound(err))
	if !m.cfg.callsObserved && m.brake == nil {
		return // nothing wants the call: skip classifying it
	}
	outcome := outcomeOf(err, m.cfg.notFound)
	if m.cfg.callsObserved {
		m.cfg.observer.StoreCalled(ctx, StoreCall{
			Call: call, Side: side, Role: role, Outcome: outcome, Latency: d, Err: err,
		})
	}
	if m.brake != nil && side == SideNew && role != RoleProbe && outcome != OutcomeCanceled {
		m.brake.Sample(ctx, call.AccountID, BrakeErrors, outcome == OutcomeError || outcome == OutcomeTimeout)
	}
}

// safely runs fn, turning a panic into an error.
func safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("flagmigrate: recovered panic: %v", r)
		}
	}()
	return fn()
}

// failed reports whether err is a failure, not a result: not finding a
// record is a result.
func (m *Migration[S]) failed(err error) bool { return err != nil && !m.cfg.notFound(err) }

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// otherSide returns the side other than s.
func otherSide(s Side) Side {
	if s == SideNew {
		return SideOld
	}
	return SideNew
}
