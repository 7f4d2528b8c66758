package flagmigrate

import (
	"context"
	"errors"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Observer receives what a [Migration] does, for metrics and logs: every
// store call with its latency and outcome, every comparison of a dual read
// (with, for one that did not match, where and how the stores differ),
// dropped shadow reads, dangerous flag combinations, repair records, flag
// failures, stores taken as down and back, and brakes.
//
// It is a set of optional functions, as [net/http/httptrace.ClientTrace]
// is: set those you need, a nil one is not called, and the zero Observer
// ignores everything. They are called synchronously on the calling (or
// shadow) goroutine, so they must be fast and safe for concurrent use.
// Combine several with [MultiObserver]. The default ([SlogObserver]) logs;
// package otelmetrics records OpenTelemetry metrics; flagtest.Stats counts in
// memory; flagtest.FailOnMismatch fails a test.
type Observer struct {
	// StoreCalled reports one call of one store.
	StoreCalled func(ctx context.Context, c StoreCall)
	// Compared reports the verdict of one dual read. It is the one place
	// mismatches are reported: Comparison carries the paths that differ,
	// the errors and, for a verdict other than a match, both results. A
	// panic in it is recovered.
	Compared func(ctx context.Context, c Comparison)
	// ShadowDropped reports a dual read whose candidate read was not run,
	// or not compared because the authoritative read outlasted the shadow
	// timeout (DropTimeout).
	ShadowDropped func(ctx context.Context, op string, reason DropReason)
	// DangerousRouting reports a legal but dangerous flag combination
	// (flags.Danger() says which) seen for an account.
	DangerousRouting func(ctx context.Context, accountID string, flags FlagState)
	// RepairRecorded reports a write that reached one store only, and
	// whether recording it in the repair log failed (err).
	RepairRecorded func(ctx context.Context, e RepairEntry, err error)
	// RepairDropped reports an entry the default, bounded repair log
	// dropped to make room: the stores stay apart for its key until a
	// backfill or verify finds it.
	RepairDropped func(ctx context.Context, e RepairEntry)
	// FlagFailed reports a flag that could not be evaluated for an account
	// (the call went to the old store only), or a stage flag's
	// measurements that could not be sent (accountID empty).
	FlagFailed func(ctx context.Context, key, accountID string, err error)
	// StoreStateChanged reports a secondary store taken as down (its
	// writes now go straight to the repair log) or found back by a probe
	// ([WithStoreBreaker]).
	StoreStateChanged func(ctx context.Context, s StoreState)
	// BrakeChanged reports a brake tripped, unable to help, or released
	// ([WithBrake]).
	BrakeChanged func(ctx context.Context, s BrakeState)
}

// filled returns o with every nil function replaced by one that does
// nothing, so that the engine calls each without a check.
func (o Observer) filled() Observer {
	if o.StoreCalled == nil {
		o.StoreCalled = func(context.Context, StoreCall) {}
	}
	if o.Compared == nil {
		o.Compared = func(context.Context, Comparison) {}
	}
	if o.ShadowDropped == nil {
		o.ShadowDropped = func(context.Context, string, DropReason) {}
	}
	if o.DangerousRouting == nil {
		o.DangerousRouting = func(context.Context, string, FlagState) {}
	}
	if o.RepairRecorded == nil {
		o.RepairRecorded = func(context.Context, RepairEntry, error) {}
	}
	if o.RepairDropped == nil {
		o.RepairDropped = func(context.Context, RepairEntry) {}
	}
	if o.FlagFailed == nil {
		o.FlagFailed = func(context.Context, string, string, error) {}
	}
	if o.StoreStateChanged == nil {
		o.StoreStateChanged = func(context.Context, StoreState) {}
	}
	if o.BrakeChanged == nil {
		o.BrakeChanged = func(context.Context, BrakeState) {}
	}
	return o
}

// MultiObserver returns an Observer that passes everything to each of obs
// in turn (skipping their nil functions).
func MultiObserver(obs ...Observer) Observer {
	var m Observer
	for _, o := range obs {
		m.StoreCalled = chain(m.StoreCalled, o.StoreCalled, func(a, b func(context.Context, StoreCall)) func(context.Context, StoreCall) {
			return func(ctx context.Context, c StoreCall) { a(ctx, c); b(ctx, c) }
		})
		m.Compared = chain(m.Compared, o.Compared, func(a, b func(context.Context, Comparison)) func(context.Context, Comparison) {
			return func(ctx context.Context, c Comparison) { a(ctx, c); b(ctx, c) }
		})
		m.ShadowDropped = chain(m.ShadowDropped, o.ShadowDropped, func(a, b func(context.Context, string, DropReason)) func(context.Context, string, DropReason) {
			return func(ctx context.Context, op string, r DropReason) { a(ctx, op, r); b(ctx, op, r) }
		})
		m.DangerousRouting = chain(m.DangerousRouting, o.DangerousRouting, func(a, b func(context.Context, string, FlagState)) func(context.Context, string, FlagState) {
			return func(ctx context.Context, id string, f FlagState) { a(ctx, id, f); b(ctx, id, f) }
		})
		m.RepairRecorded = chain(m.RepairRecorded, o.RepairRecorded, func(a, b func(context.Context, RepairEntry, error)) func(context.Context, RepairEntry, error) {
			return func(ctx context.Context, e RepairEntry, err error) { a(ctx, e, err); b(ctx, e, err) }
		})
		m.RepairDropped = chain(m.RepairDropped, o.RepairDropped, func(a, b func(context.Context, RepairEntry)) func(context.Context, RepairEntry) {
			return func(ctx context.Context, e RepairEntry) { a(ctx, e); b(ctx, e) }
		})
		m.FlagFailed = chain(m.FlagFailed, o.FlagFailed, func(a, b func(context.Context, string, string, error)) func(context.Context, string, string, error) {
			return func(ctx context.Context, key, id string, err error) { a(ctx, key, id, err); b(ctx, key, id, err) }
		})
		m.StoreStateChanged = chain(m.StoreStateChanged, o.StoreStateChanged, func(a, b func(context.Context, StoreState)) func(context.Context, StoreState) {
			return func(ctx context.Context, s StoreState) { a(ctx, s); b(ctx, s) }
		})
		m.BrakeChanged = chain(m.BrakeChanged, o.BrakeChanged, func(a, b func(context.Context, BrakeState)) func(context.Context, BrakeState) {
			return func(ctx context.Context, s BrakeState) { a(ctx, s); b(ctx, s) }
		})
	}
	return m
}

// chain returns a then b as one function (made by join), or whichever is
// not nil. It runs once per MultiObserver, not per call.
func chain[F any](a, b F, join func(a, b F) F) F {
	switch {
	case isNil(b):
		return a
	case isNil(a):
		return b
	}
	return join(a, b)
}

// WithObserver sets the observer, in place of the default: [SlogObserver]
// over [log/slog.Default], without values. The zero Observer makes the migration
// silent. Combine several with [MultiObserver] (with SlogObserver among
// them to keep the logs).
func WithObserver(o Observer) Option {
	return func(c *config) { c.observer, c.observerSet = o, true }
}

// Role is a store call's part in an operation.
type Role string

// Roles.
const (
	// RoleAuthoritative: the store written first, or whose read is served.
	RoleAuthoritative Role = "authoritative"
	// RoleSecondary: the other store's write.
	RoleSecondary Role = "secondary"
	// RoleCandidate: the other store's read, compared with the served one.
	RoleCandidate Role = "candidate"
	// RoleRecheck: a background re-read of the authoritative store, made
	// to confirm a shadow comparison that did not match; no caller waits
	// for it.
	RoleRecheck Role = "recheck"
	// RoleProbe: a background write to a store taken as down, to learn
	// whether it is back ([WithStoreBreaker]); no caller waits for it.
	RoleProbe Role = "probe"
)

// Outcome classifies a store call's error. Its value is its name in log
// records and metric labels.
type Outcome string

// Outcomes.
const (
	OutcomeOK       Outcome = "ok"        // no error
	OutcomeNotFound Outcome = "not_found" // ErrNotFound (or WithNotFound's)
	OutcomeConflict Outcome = "conflict"  // ErrConflict
	OutcomeInvalid  Outcome = "invalid"   // ErrInvalidEvent, ErrInvalidArgument or eventstore.ErrInvalidCursor
	OutcomeCanceled Outcome = "canceled"  // context.Canceled
	OutcomeTimeout  Outcome = "timeout"   // context.DeadlineExceeded
	OutcomeError    Outcome = "error"     // any other error
)

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

// StoreCall is one call of one store.
type StoreCall struct {
	Call    // the operation it is part of
	Side    Side
	Role    Role
	Outcome Outcome
	Latency time.Duration
	Err     error
}

// Comparison is the verdict of one dual read.
type Comparison struct {
	Call    // the read compared (Key is the event's ID, when it has one)
	Verdict Verdict
	// Paths lists where the results differ, as field paths such as
	// `Data["plan"]` or `Events[3].Time` (VerdictDifferent only).
	Paths []string
	// Served is the store whose result the caller received.
	Served Side
	// OldErr and NewErr are the stores' errors.
	OldErr, NewErr error
	// Old and New are the stores' results when the verdict is not a match
	// and the store did not fail (else nil). They may hold personal data:
	// log them only if you mean to.
	Old, New any
	Shadow   bool // compared in the background
	// Rechecked is set when a shadow comparison did not match at first and
	// both stores were read again to confirm it; Verdict is the second one.
	Rechecked bool
}

// DropReason says why a shadow read was not run.
type DropReason string

// Drop reasons.
const (
	// DropFull: MaxInFlight shadow reads were already running.
	DropFull DropReason = "full"
	// DropClosed: the migration was closed.
	DropClosed DropReason = "closed"
	// DropTimeout: the candidate was read, but the caller's authoritative
	// read had not finished within the shadow timeout; nothing was
	// compared.
	DropTimeout DropReason = "timeout"
)
