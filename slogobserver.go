package flagmigrate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/flagmigrate/flagmigrate/internal/loglimit"
	"github.com/flagmigrate/flagmigrate/migration"
)

// SlogObserver returns an Observer that logs through o.Logger: store calls, matching
// comparisons and dropped shadow reads at Debug; comparisons the options
// could not complete (not compared) at Info; comparisons that did not
// match, dangerous combinations, repair records and flag failures at Warn
// (a repair that could not be recorded, or that the default repair log
// dropped, at Error). It logs keys, outcomes and the paths where two
// results differ, never event contents, unless o.ShowValues is set: then
// a mismatch's line also holds both values, as a diff (events can hold
// personal data). With the zero SlogOptions it is the default observer.
//
// Failures that repeat on every call are logged once a minute per kind,
// with the number held back since the last line ("suppressed"): flag
// failures once per flag key (a wrapper deployed before its flags exist,
// or a flag service outage, would otherwise log a line per call), and
// dropped repair entries once in all. Every one still reaches the other
// observers (metrics count them all).
func SlogObserver(o SlogOptions) Observer {
	return newSlogObserver(o.Logger, o.ShowValues).observer()
}

// SlogOptions configure [SlogObserver]. The zero SlogOptions is the
// default observer's: slog.Default, no values.
type SlogOptions struct {
	// Logger is where the lines go; nil means [slog.Default] at the time of
	// each line.
	Logger *slog.Logger
	// ShowValues adds both values of a mismatch to its line, as a diff:
	// off by default, since events can hold personal data.
	ShowValues bool
}

// logRepeatEvery is how often the default observer logs the same kind of
// repeated failure (a flag that cannot be evaluated, a dropped repair
// entry).
const logRepeatEvery = time.Minute

func newSlogObserver(logger *slog.Logger, showValues bool) *slogObserver {
	return &slogObserver{logger: logger, showValues: showValues, limit: loglimit.New(logRepeatEvery, nil)}
}

type slogObserver struct {
	logger     *slog.Logger
	showValues bool
	limit      *loglimit.Limiter
}

func (o *slogObserver) observer() Observer { return migration.ObserverOf(o) }

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
		slog.String("store", string(c.Side)), slog.String("role", string(c.Role)),
		slog.String("outcome", string(c.Outcome)), slog.Duration("latency", c.Latency))
}

func (o *slogObserver) Compared(ctx context.Context, c Comparison) {
	if c.Verdict == migration.VerdictNotCompared {
		o.log(ctx, slog.LevelInfo, "flagmigrate: not compared: the comparison options could not be applied within budget",
			slog.String("op", c.Op), slog.String("account", c.AccountID), slog.String("key", c.Key), slog.Any("paths", c.Paths))
		return
	}
	if c.Verdict == VerdictMatch || c.Verdict == migration.VerdictBehind {
		o.log(ctx, slog.LevelDebug, "flagmigrate: compared", slog.String("op", c.Op), slog.String("account", c.AccountID),
			slog.String("verdict", string(c.Verdict)), slog.Bool("shadow", c.Shadow))
		return
	}
	attrs := []slog.Attr{
		slog.String("op", c.Op), slog.String("account", c.AccountID), slog.String("key", c.Key),
		slog.String("verdict", string(c.Verdict)), slog.String("served", string(c.Served)), slog.Bool("shadow", c.Shadow),
	}
	if len(c.Paths) > 0 {
		attrs = append(attrs, slog.Any("paths", c.Paths))
	}
	if c.OldErr != nil {
		attrs = append(attrs, slog.String("old_error", c.OldErr.Error()))
	}
	if c.NewErr != nil {
		attrs = append(attrs, slog.String("new_error", c.NewErr.Error()))
	}
	if o.showValues && c.Old != nil && c.New != nil {
		attrs = append(attrs, slog.String("diff", diffValues(c.Old, c.New)))
	}
	o.log(ctx, slog.LevelWarn, "flagmigrate: old and new stores differ", attrs...)
}

func (o *slogObserver) ShadowDropped(ctx context.Context, op string, reason DropReason) {
	o.log(ctx, slog.LevelDebug, "flagmigrate: shadow read dropped", slog.String("op", op), slog.String("reason", string(reason)))
}

func (o *slogObserver) DangerousRouting(ctx context.Context, accountID string, f FlagState) {
	o.log(ctx, slog.LevelWarn, "flagmigrate: dangerous flag combination", slog.String("account", accountID),
		slog.String("danger", string(f.Danger())),
		slog.Bool("old_write", f.OldWrite), slog.Bool("new_write", f.NewWrite),
		slog.Bool("old_read", f.OldRead), slog.Bool("new_read", f.NewRead))
}

func (o *slogObserver) RepairRecorded(ctx context.Context, e RepairEntry, err error) {
	attrs := []slog.Attr{slog.String("op", e.Op), slog.String("account", e.AccountID), slog.String("key", e.Key),
		slog.String("target", string(e.Target)), slog.Bool("orphan", e.Orphan), slog.String("cause", e.Error)}
	if err != nil {
		o.log(ctx, slog.LevelError, "flagmigrate: stores apart and the repair log failed", append(attrs, slog.String("error", err.Error()))...)
		return
	}
	ok, suppressed := o.limit.Allow("repair recorded " + string(e.Target))
	if !ok {
		return
	}
	o.log(ctx, slog.LevelWarn, "flagmigrate: write recorded for repair", append(attrs, slog.Int64("suppressed", suppressed))...)
}

func (o *slogObserver) StoreStateChanged(ctx context.Context, s StoreState) {
	if s.Down {
		o.log(ctx, slog.LevelWarn, "flagmigrate: store down: its writes go straight to the repair log until a probe lands",
			slog.String("store", string(s.Side)), slog.Int("failures", s.Failures), slog.String("error", fmt.Sprint(s.Err)))
		return
	}
	o.log(ctx, slog.LevelWarn, "flagmigrate: store back: replay the repair log", slog.String("store", string(s.Side)),
		slog.Int64("skipped_writes", s.Skipped), slog.Int("failed_probes", s.Failures))
}

// BrakeChanged logs a brake tripped at Error (a brake that cannot help
// too), and a release at Warn, with the figures.
func (o *slogObserver) BrakeChanged(ctx context.Context, c BrakeState) {
	attrs := []slog.Attr{slog.String("account", c.AccountID), slog.String("reason", string(c.Reason)),
		slog.Int("bad", c.Bad), slog.Int("samples", c.Samples), slog.Float64("rate", float64(c.Bad)/float64(max(c.Samples, 1))),
		slog.Float64("threshold", c.Threshold), slog.Time("since", c.Since)}
	switch {
	case c.Released != "":
		o.log(ctx, slog.LevelWarn, "flagmigrate: brake released", append(attrs, slog.String("cause", string(c.Released)))...)
	case c.CannotHelp:
		o.log(ctx, slog.LevelError, "flagmigrate: brake cannot help: the account's flags route it to the new store only; turn its old-store flags back on", attrs...)
	default:
		o.log(ctx, slog.LevelError, "flagmigrate: brake tripped: the account reads and is served by the old store, which it still writes, until its flags change or the cooldown ends", attrs...)
	}
}

func (o *slogObserver) RepairDropped(ctx context.Context, e RepairEntry) {
	ok, suppressed := o.limit.Allow("repair dropped")
	if !ok {
		return
	}
	o.log(ctx, slog.LevelError, "flagmigrate: repair log full, oldest entry dropped: run a backfill or verify",
		slog.String("op", e.Op), slog.String("account", e.AccountID), slog.String("key", e.Key),
		slog.String("target", string(e.Target)), slog.Int64("suppressed", suppressed))
}

func (o *slogObserver) FlagFailed(ctx context.Context, key, accountID string, err error) {
	ok, suppressed := o.limit.Allow("flag " + key)
	if !ok {
		return
	}
	o.log(ctx, slog.LevelWarn, "flagmigrate: flag failed", slog.String("flag", key), slog.String("account", accountID),
		slog.String("error", fmt.Sprint(err)), slog.Int64("suppressed", suppressed))
}
