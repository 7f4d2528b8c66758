package flagmigrate

import (
	"context"
	"fmt"
	"runtime"
)

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
