package flagmigrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flagmigrate/flagmigrate/migration"
)

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
	return writeBoth(ctx, m, call, write, write, false)
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
	err := writeBoth(ctx, m, call, auth, other, false)
	return v, err
}

// WriteThen is [Write] for a write whose second store's write depends on
// the first's result, as a versioned record's does: write runs on the
// authoritative store, and then, when the flags route the call to both,
// then runs on the other store with write's value (the version the
// authoritative store assigned, say), with everything Write does for the
// second write (a detached context, its timeout, the breaker, the repair
// log). It returns write's value and error. The two writes are always one
// after the other, even with [WithConcurrentWrites]. For a call of Kind
// [KindDelete] whose authoritative write finds nothing, then runs with the
// zero T, as the other store may still hold a copy.
func WriteThen[S, T any](ctx context.Context, m *Migration[S], call Call, write func(ctx context.Context, store S) (T, error), then func(ctx context.Context, store S, v T) error) (T, error) {
	var v T
	if m == nil || write == nil || then == nil {
		return v, argError("WriteThen: nil migration or write function")
	}
	auth := func(ctx context.Context, s S) error {
		var err error
		v, err = write(ctx, s)
		return err
	}
	other := func(ctx context.Context, s S) error { return then(ctx, s, v) }
	err := writeBoth(ctx, m, call, auth, other, true)
	return v, err
}

// writeBoth is Write with the authoritative store's write (auth) apart from
// the other's (other), so that WriteValue can keep the first one's value;
// sequential writes one after the other even with WithConcurrentWrites.
func writeBoth[S any](ctx context.Context, m *Migration[S], call Call, auth, other func(ctx context.Context, store S) error, sequential bool) error {
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
	rt := m.writeRoute(ctx, call.AccountID)
	defer rt.finish(ctx, &m.cfg.observer)
	if call.Kind != KindWrite {
		rt.both = true // a delete reaches both stores: either may hold a copy
	}
	if rt.both {
		// Dual reads of the account that overlap it know to look again.
		defer m.writes.Begin(call.AccountID).End()
	}
	first, second := rt.first, otherSide(rt.first)
	if rt.both && m.cfg.concurrentWrites && !sequential && !m.breaker(second).Down() {
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
	m.feedBreaker(ctx, side, err, role == RoleProbe)
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
		return fmt.Errorf("%w: %s %s/%s: %w, and the repair log refused the entry: %w",
			ErrUnrepaired, call.Op, call.AccountID, call.Key, &migration.SecondaryError{Side: e.Target, Err: cause}, err)
	}
	return nil
}
