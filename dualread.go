package flagmigrate

import (
	"context"
	"fmt"
	"runtime"

	"github.com/flagmigrate/flagmigrate/internal/inflight"
	"github.com/flagmigrate/flagmigrate/migration"
)

// dualRead reads both stores concurrently, waits for both and compares.
//
// The caller yields once after starting the candidate's goroutine, so that
// the candidate read starts at once on the caller's processor (until it
// blocks on its store) rather than when the caller's own read blocks or
// another thread, which on a loaded machine may wait for a CPU, steals it:
// then the two reads overlap and a dual read takes about as long as the
// slower store (BenchmarkDualReadLatency).
func dualRead[S, T any](ctx context.Context, m *Migration[S], call Call, rt route, mark inflight.Mark, read func(context.Context, S) (T, error)) (T, error) {
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
	if ctx.Err() != nil {
		// The caller gave up: its read's result is its error, and nothing
		// is compared; say so rather than leave no trace.
		if f := m.cfg.observer.ShadowDropped; f != nil {
			f(ctx, call.Op, migration.DropCanceled)
		}
		return v, err
	}
	compareSettled(ctx, m, call, &rt, read, mark, result[T]{v, err}, c, false)
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
		verdict, paths := judge(m, &rt, result[T]{v, err}, result[T]{err: skip})
		compare(ctx, m, call, &rt, result[T]{v, err}, result[T]{err: skip}, verdict, paths, false, false)
	}
	return v, err
}
