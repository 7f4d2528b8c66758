package migration

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"slices"
)

// Observer receives what a flagmigrate.Migration does, for metrics and logs: every
// store call with its latency and outcome, every comparison of a dual read
// (with, for one that did not match, where and how the stores differ),
// dropped shadow reads, dangerous flag combinations, repair records, flag
// failures, stores taken as down and back, and brakes.
//
// It is a set of optional functions, as [net/http/httptrace.ClientTrace]
// is: set those you need, a nil one is not called, and the zero Observer
// ignores everything. They are called synchronously on the calling (or
// shadow) goroutine, so they must be fast and safe for concurrent use.
// [ObserverOf] builds one from a value's methods; [MultiObserver] combines
// several. The default (flagmigrate.SlogObserver) logs; package otelmetrics
// records OpenTelemetry metrics; flagtest.Stats counts in memory;
// flagtest.FailOnMismatch fails a test.
type Observer struct {
	// StoreCalled reports one call of one store.
	StoreCalled func(ctx context.Context, c StoreCall)
	// Compared reports the verdict of one dual read. It is the one place
	// mismatches are reported: Comparison carries the paths that differ,
	// the errors and, for a verdict other than a match, both results. A
	// panic in it is recovered.
	Compared func(ctx context.Context, c Comparison)
	// ShadowDropped reports a dual read whose candidate read was not run,
	// or not compared: because the authoritative read outlasted the shadow
	// timeout (DropTimeout), or because the caller's context ended a read
	// that waits for both stores (DropCanceled).
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
	// (flagmigrate.WithStoreBreaker).
	StoreStateChanged func(ctx context.Context, s StoreState)
	// BrakeChanged reports a brake tripped, unable to help, or released
	// (flagmigrate.WithBrake).
	BrakeChanged func(ctx context.Context, s BrakeState)
}

// ObserverOf returns the Observer whose functions are v's methods of the
// same names and signatures (StoreCalled(ctx, StoreCall), Compared(ctx,
// Comparison), ...); a hook v has no method for stays nil. An observer of
// your own is then a type with the methods it needs:
//
//	type mismatches struct{ n atomic.Int64 }
//
//	func (m *mismatches) Compared(_ context.Context, c migration.Comparison) {
//		if c.Verdict != migration.VerdictMatch {
//			m.n.Add(1)
//		}
//	}
//
//	obs := migration.ObserverOf(&mismatches{})
func ObserverOf(v any) Observer {
	var o Observer
	if x, ok := v.(interface {
		StoreCalled(context.Context, StoreCall)
	}); ok {
		o.StoreCalled = x.StoreCalled
	}
	if x, ok := v.(interface {
		Compared(context.Context, Comparison)
	}); ok {
		o.Compared = x.Compared
	}
	if x, ok := v.(interface {
		ShadowDropped(context.Context, string, DropReason)
	}); ok {
		o.ShadowDropped = x.ShadowDropped
	}
	if x, ok := v.(interface {
		DangerousRouting(context.Context, string, FlagState)
	}); ok {
		o.DangerousRouting = x.DangerousRouting
	}
	if x, ok := v.(interface {
		RepairRecorded(context.Context, RepairEntry, error)
	}); ok {
		o.RepairRecorded = x.RepairRecorded
	}
	if x, ok := v.(interface {
		RepairDropped(context.Context, RepairEntry)
	}); ok {
		o.RepairDropped = x.RepairDropped
	}
	if x, ok := v.(interface {
		FlagFailed(context.Context, string, string, error)
	}); ok {
		o.FlagFailed = x.FlagFailed
	}
	if x, ok := v.(interface {
		StoreStateChanged(context.Context, StoreState)
	}); ok {
		o.StoreStateChanged = x.StoreStateChanged
	}
	if x, ok := v.(interface {
		BrakeChanged(context.Context, BrakeState)
	}); ok {
		o.BrakeChanged = x.BrakeChanged
	}
	return o
}

// MultiObserver returns an Observer that passes everything to each of obs
// in turn, skipping their nil functions; a hook that none of them sets
// stays nil (so that the engine skips building its report).
//
// The observers are kept apart: a panic in one is recovered and logged
// (through [log/slog.Default], at Error, with its value and stack), and
// the next one is still called; each gets its own copy of a
// [Comparison]'s Paths. A MigratingStore passes the observer it is given
// through MultiObserver, so that no observer's panic reaches a caller.
func MultiObserver(obs ...Observer) Observer {
	m := multi(slices.Clone(obs))
	out := ObserverOf(m)
	ov := reflect.ValueOf(&out).Elem()
	for i := range ov.NumField() {
		set := false
		for _, o := range obs {
			if !reflect.ValueOf(o).Field(i).IsNil() {
				set = true
				break
			}
		}
		if !set {
			ov.Field(i).SetZero()
		}
	}
	return out
}

// multi is the Observer of MultiObserver, as methods for ObserverOf.
type multi []Observer

// guard runs one observer's hook, recovering and logging its panic.
func guard(ctx context.Context, hook string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			slog.Default().LogAttrs(ctx, slog.LevelError, "flagmigrate: observer panicked", slog.String("hook", hook),
				slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
		}
	}()
	f()
}

func (m multi) StoreCalled(ctx context.Context, c StoreCall) {
	for _, o := range m {
		if o.StoreCalled != nil {
			guard(ctx, "StoreCalled", func() { o.StoreCalled(ctx, c) })
		}
	}
}

func (m multi) Compared(ctx context.Context, c Comparison) {
	paths := c.Paths
	for _, o := range m {
		if o.Compared != nil {
			c.Paths = slices.Clone(paths)
			guard(ctx, "Compared", func() { o.Compared(ctx, c) })
		}
	}
}

func (m multi) ShadowDropped(ctx context.Context, op string, reason DropReason) {
	for _, o := range m {
		if o.ShadowDropped != nil {
			guard(ctx, "ShadowDropped", func() { o.ShadowDropped(ctx, op, reason) })
		}
	}
}

func (m multi) DangerousRouting(ctx context.Context, accountID string, flags FlagState) {
	for _, o := range m {
		if o.DangerousRouting != nil {
			guard(ctx, "DangerousRouting", func() { o.DangerousRouting(ctx, accountID, flags) })
		}
	}
}

func (m multi) RepairRecorded(ctx context.Context, e RepairEntry, err error) {
	for _, o := range m {
		if o.RepairRecorded != nil {
			guard(ctx, "RepairRecorded", func() { o.RepairRecorded(ctx, e, err) })
		}
	}
}

func (m multi) RepairDropped(ctx context.Context, e RepairEntry) {
	for _, o := range m {
		if o.RepairDropped != nil {
			guard(ctx, "RepairDropped", func() { o.RepairDropped(ctx, e) })
		}
	}
}

func (m multi) FlagFailed(ctx context.Context, key, accountID string, err error) {
	for _, o := range m {
		if o.FlagFailed != nil {
			guard(ctx, "FlagFailed", func() { o.FlagFailed(ctx, key, accountID, err) })
		}
	}
}

func (m multi) StoreStateChanged(ctx context.Context, s StoreState) {
	for _, o := range m {
		if o.StoreStateChanged != nil {
			guard(ctx, "StoreStateChanged", func() { o.StoreStateChanged(ctx, s) })
		}
	}
}

func (m multi) BrakeChanged(ctx context.Context, s BrakeState) {
	for _, o := range m {
		if o.BrakeChanged != nil {
			guard(ctx, "BrakeChanged", func() { o.BrakeChanged(ctx, s) })
		}
	}
}
