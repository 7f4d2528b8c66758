package flagmigrate

import (
	"context"
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
	rt := m.readRoute(ctx, call.AccountID)
	switch {
	case !rt.both:
		defer rt.finish(ctx, &m.cfg.observer)
		return timedRead(ctx, m, call, &rt, rt.first, RoleAuthoritative, read)
	case rt.candidateDown:
		return readCandidateDown(ctx, m, call, rt, read)
	case m.shadow != nil:
		return shadowRead(ctx, m, call, rt, m.writes.Mark(call.AccountID), read)
	}
	return dualRead(ctx, m, call, rt, m.writes.Mark(call.AccountID), read)
}

type result[T any] struct {
	v   T
	err error
}

// candidateRead reads the non-authoritative store, turning a panic into an
// error: it runs on a goroutine of its own.
func candidateRead[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, read func(context.Context, S) (T, error)) (c result[T]) {
	side := otherSide(rt.first)
	c.err = safely(func() error {
		var err error
		c.v, err = timedRead(ctx, m, call, rt, side, RoleCandidate, read)
		return err
	})
	// A store that fails its reads is as down as one that fails its
	// writes: read-heavy traffic takes it down as soon.
	m.feedBreaker(ctx, side, c.err, false)
	return c
}

// cloneOf returns a private copy of v when T has a Clone() T method.
func cloneOf[T any](v T) T {
	if c, ok := any(v).(interface{ Clone() T }); ok {
		return c.Clone()
	}
	return v
}
