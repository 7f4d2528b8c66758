package flagmigrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"time"
)

// Observer receives what a [Migration] does, for metrics and logs: every
// store call with its latency and outcome, every comparison's verdict,
// dropped shadow reads, dangerous flag combinations, repair records and flag
// failures. Methods are called synchronously on the calling (or shadow)
// goroutine, so they must be fast and safe for concurrent use. Embed
// [NopObserver] to implement only some of them.
type Observer interface {
	// StoreCalled reports one call of one store.
	StoreCalled(ctx context.Context, c StoreCall)
	// Compared reports the verdict of one dual read.
	Compared(ctx context.Context, c Comparison)
	// ShadowDropped reports a dual read whose candidate read was not run,
	// or not compared because the authoritative read outlasted the shadow
	// timeout (DropTimeout).
	ShadowDropped(ctx context.Context, op string, reason DropReason)
	// DangerousRouting reports a legal but dangerous flag combination.
	DangerousRouting(ctx context.Context, d DangerReport)
	// RepairRecorded reports a write that reached one store only, and
	// whether recording it in the repair log failed (err).
	RepairRecorded(ctx context.Context, e RepairEntry, err error)
	// RepairDropped reports an entry the default, bounded repair log
	// dropped to make room ([NewRingRepairLog]): the stores stay apart for
	// its key until a backfill or verify finds it.
	RepairDropped(ctx context.Context, e RepairEntry)
	// FlagFailed reports a flag that could not be evaluated (the call went
	// to the old store only) or a stage measurement that could not be sent.
	FlagFailed(ctx context.Context, e FlagError)
	// StoreStateChanged reports a secondary store taken as down (its
	// writes now go straight to the repair log) or found back by a probe
	// ([WithStoreBreaker]).
	StoreStateChanged(ctx context.Context, s StoreState)
}

// WithObserver sets the observer (default [SlogObserver] with the logger of
// [WithLogger]). Combine several with [MultiObserver].
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o == nil {
			c.fail("WithObserver: nil observer")
			return
		}
		c.observer = o
	}
}

// WithLogger sets the logger of the default observer and mismatch handler
// (default [slog.Default]).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// Role is a store call's part in an operation.
type Role uint8

// Roles.
const (
	// RoleAuthoritative: the store written first, or whose read is served.
	RoleAuthoritative Role = iota + 1
	// RoleSecondary: the other store's write.
	RoleSecondary
	// RoleCandidate: the other store's read, compared with the served one.
	RoleCandidate
	// RoleRecheck: a background re-read of the authoritative store, made
	// to confirm a shadow comparison that did not match; no caller waits
	// for it.
	RoleRecheck
	// RoleProbe: a background write to a store taken as down, to learn
	// whether it is back ([WithStoreBreaker]); no caller waits for it.
	RoleProbe
)

// String returns "authoritative", "secondary", "candidate", "recheck" or
// "probe".
func (r Role) String() string {
	switch r {
	case RoleAuthoritative:
		return "authoritative"
	case RoleSecondary:
		return "secondary"
	case RoleCandidate:
		return "candidate"
	case RoleRecheck:
		return "recheck"
	case RoleProbe:
		return "probe"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Outcome classifies a store call's error.
type Outcome uint8

// Outcomes.
const (
	OutcomeOK       Outcome = iota // no error
	OutcomeNotFound                // ErrNotFound (or WithNotFound's)
	OutcomeConflict                // ErrConflict
	OutcomeInvalid                 // ErrInvalidEvent, ErrInvalidArgument or ErrInvalidCursor
	OutcomeCanceled                // context.Canceled
	OutcomeTimeout                 // context.DeadlineExceeded
	OutcomeError                   // any other error
)

var outcomeNames = [...]string{"ok", "not_found", "conflict", "invalid", "canceled", "timeout", "error"}

// String returns the outcome's name in snake case.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

func outcomeOf(err error, notFound func(error) bool) Outcome {
	switch {
	case err == nil:
		return OutcomeOK
	case notFound(err):
		return OutcomeNotFound
	case errors.Is(err, ErrConflict):
		return OutcomeConflict
	case errors.Is(err, ErrInvalidEvent), errors.Is(err, ErrInvalidArgument), errors.Is(err, ErrInvalidCursor):
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
	Op        string
	AccountID string
	Side      Side
	Role      Role
	Outcome   Outcome
	Latency   time.Duration
	Err       error
}

// Comparison is the verdict of one dual read.
type Comparison struct {
	Op        string
	AccountID string
	Verdict   Verdict
	Shadow    bool // compared in the background
	// Rechecked is set when a shadow comparison did not match at first and
	// both stores were read again to confirm it; Verdict is the second one.
	Rechecked bool
}

// DangerReport is a legal but dangerous flag combination seen for an account.
type DangerReport struct {
	AccountID string
	Flags     FlagState
	Danger    Danger
}

// NopObserver ignores everything. Embed it in an observer that implements
// only some methods.
type NopObserver struct{}

// StoreCalled does nothing.
func (NopObserver) StoreCalled(context.Context, StoreCall) {}

// Compared does nothing.
func (NopObserver) Compared(context.Context, Comparison) {}

// ShadowDropped does nothing.
func (NopObserver) ShadowDropped(context.Context, string, DropReason) {}

// DangerousRouting does nothing.
func (NopObserver) DangerousRouting(context.Context, DangerReport) {}

// RepairRecorded does nothing.
func (NopObserver) RepairRecorded(context.Context, RepairEntry, error) {}

// RepairDropped does nothing.
func (NopObserver) RepairDropped(context.Context, RepairEntry) {}

// FlagFailed does nothing.
func (NopObserver) FlagFailed(context.Context, FlagError) {}

// StoreStateChanged does nothing.
func (NopObserver) StoreStateChanged(context.Context, StoreState) {}

// BrakeChanged does nothing.
func (NopObserver) BrakeChanged(context.Context, BrakeChange) {}

// SlogObserver returns an Observer that logs through logger (nil means
// [slog.Default] at the time of the call): store calls, comparisons and
// dropped shadow reads at Debug; dangerous combinations, repair records and
// flag failures at Warn (a repair that could not be recorded, or that the
// default repair log dropped, at Error). It logs keys and outcomes, never
// event contents.
//
// Failures that repeat on every call are logged once a minute per kind,
// with the number held back since the last line ("suppressed"): flag
// failures once per flag key (a wrapper deployed before its flags exist,
// or a flag service outage, would otherwise log a line per call), and
// dropped repair entries once in all. Every one still reaches the other
// observers (metrics count them all).
func SlogObserver(logger *slog.Logger) Observer {
	return &slogObserver{logger: logger, limit: newLogLimiter(logRepeatEvery)}
}

type slogObserver struct {
	logger *slog.Logger
	limit  *logLimiter
}

func (o *slogObserver) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	l := o.logger
	if l == nil {
		l = slog.Default()
	}
	if l.Enabled(ctx, level) {
		l.LogAttrs(ctx, level, msg, attrs...)
	}
}

func (o *slogObserver) StoreCalled(ctx context.Context, c StoreCall) {
	level := slog.LevelDebug
	if c.Outcome == OutcomeError || c.Outcome == OutcomeTimeout {
		level = slog.LevelInfo
	}
	o.log(ctx, level, "flagmigrate: store call", slog.String("op", c.Op), slog.String("account", c.AccountID),
		slog.String("store", c.Side.String()), slog.String("role", c.Role.String()),
		slog.String("outcome", c.Outcome.String()), slog.Duration("latency", c.Latency))
}

func (o *slogObserver) Compared(ctx context.Context, c Comparison) {
	o.log(ctx, slog.LevelDebug, "flagmigrate: compared", slog.String("op", c.Op), slog.String("account", c.AccountID),
		slog.String("verdict", c.Verdict.String()), slog.Bool("shadow", c.Shadow))
}

func (o *slogObserver) ShadowDropped(ctx context.Context, op string, reason DropReason) {
	o.log(ctx, slog.LevelDebug, "flagmigrate: shadow read dropped", slog.String("op", op), slog.String("reason", reason.String()))
}

func (o *slogObserver) DangerousRouting(ctx context.Context, d DangerReport) {
	o.log(ctx, slog.LevelWarn, "flagmigrate: dangerous flag combination", slog.String("account", d.AccountID),
		slog.String("danger", d.Danger.String()),
		slog.Bool("old_write", d.Flags.OldWrite), slog.Bool("new_write", d.Flags.NewWrite),
		slog.Bool("old_read", d.Flags.OldRead), slog.Bool("new_read", d.Flags.NewRead))
}

func (o *slogObserver) RepairRecorded(ctx context.Context, e RepairEntry, err error) {
	attrs := []slog.Attr{slog.String("op", e.Op), slog.String("account", e.AccountID), slog.String("key", e.Key),
		slog.String("target", e.Target.String()), slog.Bool("orphan", e.Orphan), slog.String("cause", e.Error)}
	if err != nil {
		o.log(ctx, slog.LevelError, "flagmigrate: stores apart and the repair log failed", append(attrs, slog.String("error", err.Error()))...)
		return
	}
	ok, suppressed := o.limit.allow("repair recorded " + e.Target.String())
	if !ok {
		return
	}
	o.log(ctx, slog.LevelWarn, "flagmigrate: write recorded for repair", append(attrs, slog.Int64("suppressed", suppressed))...)
}

func (o *slogObserver) StoreStateChanged(ctx context.Context, s StoreState) {
	if s.Down {
		o.log(ctx, slog.LevelWarn, "flagmigrate: store down: its writes go straight to the repair log until a probe lands",
			slog.String("store", s.Side.String()), slog.Int("failures", s.Failures), slog.String("error", fmt.Sprint(s.Err)))
		return
	}
	o.log(ctx, slog.LevelWarn, "flagmigrate: store back: replay the repair log", slog.String("store", s.Side.String()),
		slog.Int64("skipped_writes", s.Skipped), slog.Int("failed_probes", s.Failures))
}

// BrakeChanged logs a brake tripped at Error (a brake that cannot help
// too), and a release at Warn, with the figures.
func (o *slogObserver) BrakeChanged(ctx context.Context, c BrakeChange) {
	attrs := []slog.Attr{slog.String("account", c.AccountID), slog.String("reason", c.Reason.String()),
		slog.Int("bad", c.Bad), slog.Int("samples", c.Samples), slog.Float64("rate", c.Rate),
		slog.Float64("threshold", c.Threshold), slog.Time("since", c.Since)}
	switch {
	case c.Released:
		o.log(ctx, slog.LevelWarn, "flagmigrate: brake released", append(attrs, slog.String("cause", c.Cause.String()))...)
	case c.CannotHelp:
		o.log(ctx, slog.LevelError, "flagmigrate: brake cannot help: the account's flags route it to the new store only; turn its old-store flags back on", attrs...)
	default:
		o.log(ctx, slog.LevelError, "flagmigrate: brake tripped: the account reads and is served by the old store, which it still writes, until its flags change or the cooldown ends", attrs...)
	}
}

func (o *slogObserver) RepairDropped(ctx context.Context, e RepairEntry) {
	ok, suppressed := o.limit.allow("repair dropped")
	if !ok {
		return
	}
	o.log(ctx, slog.LevelError, "flagmigrate: repair log full, oldest entry dropped: run a backfill or verify",
		slog.String("op", e.Op), slog.String("account", e.AccountID), slog.String("key", e.Key),
		slog.String("target", e.Target.String()), slog.Int64("suppressed", suppressed))
}

func (o *slogObserver) FlagFailed(ctx context.Context, e FlagError) {
	ok, suppressed := o.limit.allow("flag " + e.Key)
	if !ok {
		return
	}
	o.log(ctx, slog.LevelWarn, "flagmigrate: flag failed", slog.String("flag", e.Key), slog.String("account", e.AccountID),
		slog.String("error", e.Err.Error()), slog.Int64("suppressed", suppressed))
}

// MultiObserver returns an Observer that passes everything to each of obs
// in turn.
func MultiObserver(obs ...Observer) Observer { return multiObserver(obs) }

type multiObserver []Observer

func (m multiObserver) StoreCalled(ctx context.Context, c StoreCall) {
	for _, o := range m {
		o.StoreCalled(ctx, c)
	}
}

func (m multiObserver) Compared(ctx context.Context, c Comparison) {
	for _, o := range m {
		o.Compared(ctx, c)
	}
}

func (m multiObserver) ShadowDropped(ctx context.Context, op string, r DropReason) {
	for _, o := range m {
		o.ShadowDropped(ctx, op, r)
	}
}

func (m multiObserver) DangerousRouting(ctx context.Context, d DangerReport) {
	for _, o := range m {
		o.DangerousRouting(ctx, d)
	}
}

func (m multiObserver) RepairRecorded(ctx context.Context, e RepairEntry, err error) {
	for _, o := range m {
		o.RepairRecorded(ctx, e, err)
	}
}

func (m multiObserver) RepairDropped(ctx context.Context, e RepairEntry) {
	for _, o := range m {
		o.RepairDropped(ctx, e)
	}
}

func (m multiObserver) FlagFailed(ctx context.Context, e FlagError) {
	for _, o := range m {
		o.FlagFailed(ctx, e)
	}
}

func (m multiObserver) StoreStateChanged(ctx context.Context, s StoreState) {
	for _, o := range m {
		o.StoreStateChanged(ctx, s)
	}
}

// BrakeChanged passes c to each observer that is a [BrakeObserver].
func (m multiObserver) BrakeChanged(ctx context.Context, c BrakeChange) {
	for _, o := range m {
		if b, ok := o.(BrakeObserver); ok {
			b.BrakeChanged(ctx, c)
		}
	}
}

// Stats is an Observer that counts, in memory: store calls with their
// latencies by operation, store, role and outcome; verdicts by operation;
// dropped shadow reads by reason; dangerous combinations, repair records,
// dropped repair entries, flag failures, stores going down and back, and
// brakes ([WithBrake]). It suits tests and small services; for production
// metrics, adapt [Observer] to your metrics library. The zero value is
// ready to use.
type Stats struct {
	mu sync.Mutex
	s  StatsSnapshot
}

// CallKey groups store calls in [StatsSnapshot].
type CallKey struct {
	Op      string
	Side    Side
	Role    Role
	Outcome Outcome
}

// CallStats counts store calls and sums their latencies.
type CallStats struct {
	Count      int64
	Total, Max time.Duration
}

// VerdictKey groups comparisons in [StatsSnapshot].
type VerdictKey struct {
	Op      string
	Verdict Verdict
}

// StatsSnapshot is a copy of a [Stats]' counters.
type StatsSnapshot struct {
	Calls          map[CallKey]CallStats
	Verdicts       map[VerdictKey]int64
	Dropped        map[DropReason]int64
	Dangerous      int64 // dangerous combinations reported
	Repairs        int64 // writes recorded for repair
	RepairFailures int64 // repair records that failed
	RepairDrops    int64 // entries the default repair log dropped
	FlagFailures   int64
	StoreDowns     int64 // stores taken as down
	StoreRecovered int64 // stores found back
	Brakes         int64 // brakes tripped (WithBrake)
	BrakeHelpless  int64 // brakes that could not help
	BrakeReleases  int64 // brakes released
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.s
	out.Calls, out.Verdicts, out.Dropped = maps.Clone(s.s.Calls), maps.Clone(s.s.Verdicts), maps.Clone(s.s.Dropped)
	return out
}

// StoreCalled counts c.
func (s *Stats) StoreCalled(_ context.Context, c StoreCall) {
	k := CallKey{Op: c.Op, Side: c.Side, Role: c.Role, Outcome: c.Outcome}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.Calls == nil {
		s.s.Calls = make(map[CallKey]CallStats)
	}
	cs := s.s.Calls[k]
	cs.Count++
	cs.Total += c.Latency
	cs.Max = max(cs.Max, c.Latency)
	s.s.Calls[k] = cs
}

// Compared counts c's verdict.
func (s *Stats) Compared(_ context.Context, c Comparison) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.Verdicts == nil {
		s.s.Verdicts = make(map[VerdictKey]int64)
	}
	s.s.Verdicts[VerdictKey{Op: c.Op, Verdict: c.Verdict}]++
}

// ShadowDropped counts a dropped shadow read.
func (s *Stats) ShadowDropped(_ context.Context, _ string, r DropReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s.Dropped == nil {
		s.s.Dropped = make(map[DropReason]int64)
	}
	s.s.Dropped[r]++
}

// DangerousRouting counts a dangerous combination.
func (s *Stats) DangerousRouting(context.Context, DangerReport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Dangerous++
}

// RepairRecorded counts a repair record, and its failure.
func (s *Stats) RepairRecorded(_ context.Context, _ RepairEntry, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Repairs++
	if err != nil {
		s.s.RepairFailures++
	}
}

// RepairDropped counts an entry dropped by the default repair log.
func (s *Stats) RepairDropped(context.Context, RepairEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.RepairDrops++
}

// FlagFailed counts a flag failure.
func (s *Stats) FlagFailed(context.Context, FlagError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.FlagFailures++
}

// StoreStateChanged counts stores going down and coming back.
func (s *Stats) StoreStateChanged(_ context.Context, st StoreState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Down {
		s.s.StoreDowns++
	} else {
		s.s.StoreRecovered++
	}
}

// BrakeChanged counts brakes tripped, unable to help, and released.
func (s *Stats) BrakeChanged(_ context.Context, c BrakeChange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c.Released:
		s.s.BrakeReleases++
	case c.CannotHelp:
		s.s.BrakeHelpless++
	default:
		s.s.Brakes++
	}
}

var (
	_ BrakeObserver = NopObserver{}
	_ BrakeObserver = (*Stats)(nil)
	_ BrakeObserver = multiObserver(nil)
	_ BrakeObserver = (*slogObserver)(nil)
	_ Observer      = NopObserver{}
	_ Observer      = (*Stats)(nil)
	_ Observer      = multiObserver(nil)
	_ Observer      = (*slogObserver)(nil)
)

// DropReason says why a shadow read was not run.
type DropReason uint8

// Drop reasons.
const (
	// DropFull: MaxInFlight shadow reads were already running.
	DropFull DropReason = iota + 1
	// DropClosed: the migration was closed.
	DropClosed
	// DropTimeout: the candidate was read, but the caller's authoritative
	// read had not finished within the shadow timeout; nothing was
	// compared.
	DropTimeout
)

// String returns "full", "closed" or "timeout".
func (r DropReason) String() string {
	switch r {
	case DropFull:
		return "full"
	case DropClosed:
		return "closed"
	case DropTimeout:
		return "timeout"
	}
	return "DropReason(" + strconv.Itoa(int(r)) + ")"
}
