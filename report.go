package flagmigrate

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

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

// feedBreaker gives the side's breaker ([WithStoreBreaker]) the answer of
// a secondary write, a probe or a candidate read, and reports a change of
// the store's state. A call its caller canceled says nothing of the store.
func (m *Migration[S]) feedBreaker(ctx context.Context, side Side, err error, probe bool) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if change := m.breaker(side).Done(err, probe); change != nil {
		if f := m.cfg.observer.StoreStateChanged; f != nil {
			f(ctx, *change)
		}
	}
}

func outcomeOf(err error, notFound func(error) bool) Outcome {
	switch {
	case err == nil:
		return OutcomeOK
	case notFound(err):
		return OutcomeNotFound
	case errors.Is(err, ErrConflict):
		return OutcomeConflict
	case errors.Is(err, ErrInvalidEvent), errors.Is(err, ErrInvalidArgument), errors.Is(err, eventstore.ErrInvalidCursor):
		return OutcomeInvalid
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	}
	return OutcomeError
}

// safely runs fn, turning a panic into an error.
func safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &migration.PanicError{Value: r, Stack: debug.Stack()}
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

// timedRead reads one store and reports the call. A read that panics is
// reported too, as failed (the stage tracker measures it as LaunchDarkly's
// Migrator measures an error), before the panic goes on.
func timedRead[S, T any](ctx context.Context, m *Migration[S], call Call, rt *route, side Side, role Role, read func(context.Context, S) (T, error)) (T, error) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			m.observe(ctx, call, rt, side, role, start, &migration.PanicError{Value: r, Stack: debug.Stack()})
			panic(r)
		}
	}()
	v, err := read(ctx, m.store(side))
	m.observe(ctx, call, rt, side, role, start, err)
	return v, err
}
