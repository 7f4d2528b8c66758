package flagmigrate

import (
	"context"

	"github.com/flagmigrate/flagmigrate/internal/inflight"
)

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
func shadowRead[S, T any](ctx context.Context, m *Migration[S], call Call, rtv route, mark inflight.Mark, read func(context.Context, S) (T, error)) (T, error) {
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
		compareSettled(sctx, m, call, rt, read, mark, got.result, c, true)
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
