package flagmigrate

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

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

// rereadBoth reads both stores again, concurrently, without measuring the
// reads for the stage tracker.
func rereadBoth[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, read func(context.Context, S) (T, error)) (auth, cand result[T]) {
	quiet := route{first: rt.first}
	done := make(chan result[T], 1)
	go func() { done <- candidateRead(ctx, m, call, &quiet, read) }()
	auth.err = safely(func() error {
		var err error
		auth.v, err = timedRead(ctx, m, call, &quiet, rt.first, RoleRecheck, read)
		return err
	})
	return auth, <-done
}

// compare classifies an authoritative and a candidate result and reports
// the verdict, with what differs, to the observer.
func compare[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, auth, cand result[T], shadow, rechecked bool) {
	old, new := auth, cand
	if rt.first == SideNew {
		old, new = cand, auth
	}
	verdict, paths := judge(m, rt, auth, cand)
	rt.consistency(old.err, new.err, verdict, m.cfg.notFound)
	c := Comparison{
		Call: call, Verdict: verdict, Paths: paths,
		Served: rt.first, OldErr: old.err, NewErr: new.err, Shadow: shadow, Rechecked: rechecked,
	}
	if verdict != VerdictMatch {
		if old.err == nil {
			c.Old = old.v
		}
		if new.err == nil {
			c.New = new.v
		}
	}
	if f := m.cfg.observer.Compared; f != nil {
		f(ctx, c)
	}
	if m.brake != nil {
		switch verdict {
		case VerdictMatch:
			m.brake.Sample(ctx, call.AccountID, BrakeMismatches, false)
		case VerdictDifferent, VerdictMissingInNew, VerdictMissingInOld:
			m.brake.Sample(ctx, call.AccountID, BrakeMismatches, true)
		}
	}
}

// judge classifies an authoritative and a candidate result.
func judge[S, T any](m *Migration[S], rt *route, auth, cand result[T]) (Verdict, []string) {
	old, new := auth, cand
	if rt.first == SideNew {
		old, new = cand, auth
	}
	return classify(old.v, old.err, new.v, new.err, m.cfg.cmpOpts, !m.cfg.customCmp, m.cfg.notFound)
}
