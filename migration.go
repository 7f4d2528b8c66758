package flagmigrate

import (
	"context"
	"reflect"

	"github.com/flagmigrate/flagmigrate/internal/brake"
	"github.com/flagmigrate/flagmigrate/internal/breaker"
	"github.com/flagmigrate/flagmigrate/internal/inflight"
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
	writes   inflight.Writes
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

// Brakes returns the accounts braked now, by account ID ([WithBrake]); nil
// without a brake.
func (m *Migration[S]) Brakes() []BrakeState {
	if m == nil || m.brake == nil {
		return nil
	}
	return m.brake.List()
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

// otherSide returns the side other than s.
func otherSide(s Side) Side {
	if s == SideNew {
		return SideOld
	}
	return SideNew
}
