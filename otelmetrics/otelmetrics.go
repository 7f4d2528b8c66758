// Package otelmetrics records a flagmigrate migration's [migration.Observer]
// events as OpenTelemetry metrics.
//
// Store calls go to the semantic conventions' database client histogram,
// db.client.operation.duration (seconds), with db.operation.name (the
// store operation, such as "FindEventByID"), db.system.name (when set with
// [WithSystems]: "mongodb", "aws.dynamodb") and error.type (when the call
// did not succeed: the call's [migration.Outcome], such as "not_found" or
// "timeout"), plus the migration's own flagmigrate.side ("old", "new") and
// flagmigrate.role ("authoritative", "candidate", ...).
//
// The migration's own events are counters:
//
//	flagmigrate.comparisons          {comparison}  db.operation.name, flagmigrate.verdict, flagmigrate.shadow, flagmigrate.rechecked
//	flagmigrate.shadow.dropped       {read}        db.operation.name, flagmigrate.drop.reason
//	flagmigrate.routing.dangerous    {report}      flagmigrate.danger
//	flagmigrate.repair.recorded      {entry}       db.operation.name, flagmigrate.repair.target, flagmigrate.repair.orphan, flagmigrate.repair.failed
//	flagmigrate.repair.dropped       {entry}       db.operation.name, flagmigrate.repair.target
//	flagmigrate.flag.failures        {failure}     flagmigrate.flag.key
//	flagmigrate.store.state_changes  {change}      flagmigrate.side, flagmigrate.store.state ("down", "up")
//	flagmigrate.brake.changes        {change}      flagmigrate.brake.reason, flagmigrate.brake.change, flagmigrate.brake.release_cause
//
// Every attribute takes few values, so the number of series stays small
// however many accounts migrate. No attribute names the account by
// default: account IDs are unbounded, and a series per account would grow
// a metrics backend's memory and bill with the customer base. A service
// with a handful of accounts, or one that debugs a single account for a
// short while, can add flagmigrate.account.id with [WithAccountAttribute];
// most should rather find an account in the logs ([flagmigrate.SlogObserver]
// logs it) and combine the two observers with [migration.MultiObserver].
//
// Any OpenTelemetry exporter reads the metrics; examples/rollout serves them
// for Prometheus with -metrics-addr, through OpenTelemetry's Prometheus
// exporter (which names the histogram db_client_operation_duration_seconds
// and the counters flagmigrate_comparisons_total and so on).
package otelmetrics

import (
	"context"
	"fmt"
	"sync"

	"github.com/flagmigrate/flagmigrate/migration"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope (the meter's name) of the metrics.
const ScopeName = "github.com/flagmigrate/flagmigrate/otelmetrics"

// Values of db.system.name for the stores this module ships, as the
// semantic conventions spell them.
const (
	SystemMongoDB  = "mongodb"
	SystemDynamoDB = "aws.dynamodb"
)

// Metric names.
const (
	MetricOperationDuration = "db.client.operation.duration"
	MetricComparisons       = "flagmigrate.comparisons"
	MetricShadowDropped     = "flagmigrate.shadow.dropped"
	MetricDangerousRouting  = "flagmigrate.routing.dangerous"
	MetricRepairRecorded    = "flagmigrate.repair.recorded"
	MetricRepairDropped     = "flagmigrate.repair.dropped"
	MetricFlagFailures      = "flagmigrate.flag.failures"
	MetricStoreStateChanges = "flagmigrate.store.state_changes"
	MetricBrakeChanges      = "flagmigrate.brake.changes"
)

// Attribute keys.
const (
	AttrSystemName        = attribute.Key("db.system.name")
	AttrOperationName     = attribute.Key("db.operation.name")
	AttrErrorType         = attribute.Key("error.type")
	AttrSide              = attribute.Key("flagmigrate.side")
	AttrRole              = attribute.Key("flagmigrate.role")
	AttrVerdict           = attribute.Key("flagmigrate.verdict")
	AttrShadow            = attribute.Key("flagmigrate.shadow")
	AttrRechecked         = attribute.Key("flagmigrate.rechecked")
	AttrDropReason        = attribute.Key("flagmigrate.drop.reason")
	AttrDanger            = attribute.Key("flagmigrate.danger")
	AttrRepairTarget      = attribute.Key("flagmigrate.repair.target")
	AttrRepairOrphan      = attribute.Key("flagmigrate.repair.orphan")
	AttrRepairFailed      = attribute.Key("flagmigrate.repair.failed")
	AttrFlagKey           = attribute.Key("flagmigrate.flag.key")
	AttrStoreState        = attribute.Key("flagmigrate.store.state")
	AttrBrakeReason       = attribute.Key("flagmigrate.brake.reason")
	AttrBrakeChange       = attribute.Key("flagmigrate.brake.change")
	AttrBrakeReleaseCause = attribute.Key("flagmigrate.brake.release_cause")
	AttrAccountID         = attribute.Key("flagmigrate.account.id")
)

const (
	durationUnit           = "s"
	errInstrumentCreateFmt = "otelmetrics: creating %s: %w"
)

// DurationBuckets returns the histogram's bucket boundaries in seconds,
// the ones the semantic conventions advise for db.client.operation.duration.
func DurationBuckets() []float64 {
	return []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}
}

// Option configures [New]; a nil Option is ignored.
type Option func(*config)

type config struct {
	old, new string // db.system.name of each side; "" omits the attribute
	account  bool
}

// WithSystems sets db.system.name for the old store and the new store
// (for this module's stores, [SystemMongoDB] and [SystemDynamoDB]).
// Without it, or for a side given "", the attribute is omitted: the
// adapter cannot tell what database a store wraps.
func WithSystems(old, new string) Option {
	return func(c *config) { c.old, c.new = old, new }
}

// WithAccountAttribute adds flagmigrate.account.id, the account's ID, to
// every metric whose event names one. It is off by default, and dangerous:
// every account becomes its own set of series (a histogram's buckets
// times the operations, sides, roles and outcomes it saw), so a metrics
// backend's memory and cost grow with the number of accounts, without
// bound. Turn it on only for a few accounts' worth of traffic, such as a
// staging service or a short investigation.
func WithAccountAttribute() Option {
	return func(c *config) { c.account = true }
}

// recorder records a migration's events as OpenTelemetry metrics; New
// returns its methods as a migration.Observer.
type recorder struct {
	cfg config
	// calls caches StoreCalled's attribute sets by callKey (without the
	// account attribute only: with it the keys are unbounded). Operations,
	// sides, roles and outcomes are few, so the cache stays small.
	calls sync.Map // callKey -> metric.MeasurementOption

	duration   metric.Float64Histogram
	compared   metric.Int64Counter
	dropped    metric.Int64Counter
	dangerous  metric.Int64Counter
	repairs    metric.Int64Counter
	repairDrop metric.Int64Counter
	flagFails  metric.Int64Counter
	stateChg   metric.Int64Counter
	brakes     metric.Int64Counter
}

// New returns a [migration.Observer] that records a migration's events
// as OpenTelemetry metrics. Pass it to [flagmigrate.WithObserver], alone or
// in a [migration.MultiObserver] with [flagmigrate.SlogObserver] to keep
// the logs. It is safe for concurrent use. Its instruments come from
// provider's meter
// [ScopeName] (nil means the global provider, [otel.GetMeterProvider]).
// It fails with the SDK's error when an instrument cannot be created.
func New(provider metric.MeterProvider, opts ...Option) (migration.Observer, error) {
	o := &recorder{}
	for _, opt := range opts {
		if opt != nil {
			opt(&o.cfg)
		}
	}
	if provider == nil {
		provider = otel.GetMeterProvider()
	}
	m := provider.Meter(ScopeName)
	var err error
	if o.duration, err = m.Float64Histogram(MetricOperationDuration, metric.WithUnit(durationUnit),
		metric.WithDescription("Duration of database client operations."),
		metric.WithExplicitBucketBoundaries(DurationBuckets()...)); err != nil {
		return migration.Observer{}, fmt.Errorf(errInstrumentCreateFmt, MetricOperationDuration, err)
	}
	counters := []struct {
		dst               *metric.Int64Counter
		name, unit, descr string
	}{
		{&o.compared, MetricComparisons, "{comparison}", "Dual reads compared, by verdict."},
		{&o.dropped, MetricShadowDropped, "{read}", "Shadow reads not run or not compared, by reason."},
		{&o.dangerous, MetricDangerousRouting, "{report}", "Legal but dangerous flag combinations seen."},
		{&o.repairs, MetricRepairRecorded, "{entry}", "Writes that reached one store only, sent to the repair log."},
		{&o.repairDrop, MetricRepairDropped, "{entry}", "Repair entries the bounded repair log dropped."},
		{&o.flagFails, MetricFlagFailures, "{failure}", "Flags that could not be evaluated, or stage measurements not sent."},
		{&o.stateChg, MetricStoreStateChanges, "{change}", "Secondary stores taken as down or found back."},
		{&o.brakes, MetricBrakeChanges, "{change}", "Brakes tripped, unable to help, or released."},
	}
	for _, c := range counters {
		if *c.dst, err = m.Int64Counter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.descr)); err != nil {
			return migration.Observer{}, fmt.Errorf(errInstrumentCreateFmt, c.name, err)
		}
	}
	return migration.ObserverOf(o), nil
}

// withAccount appends the account attribute when [WithAccountAttribute]
// is on and the event names an account.
func (o *recorder) withAccount(attrs []attribute.KeyValue, accountID string) []attribute.KeyValue {
	if o.cfg.account && accountID != "" {
		attrs = append(attrs, AttrAccountID.String(accountID))
	}
	return attrs
}

func (o *recorder) system(s migration.Side) string {
	switch s {
	case migration.SideOld:
		return o.cfg.old
	case migration.SideNew:
		return o.cfg.new
	}
	return ""
}

// callKey is what StoreCalled's attributes are made of, but the account.
type callKey struct {
	op      string
	side    migration.Side
	role    migration.Role
	outcome migration.Outcome
}

// StoreCalled records the call's latency in db.client.operation.duration.
func (o *recorder) StoreCalled(ctx context.Context, c migration.StoreCall) {
	if o.cfg.account {
		o.duration.Record(ctx, c.Latency.Seconds(), metric.WithAttributes(o.callAttrs(c)...))
		return
	}
	k := callKey{op: c.Op, side: c.Side, role: c.Role, outcome: c.Outcome}
	opt, ok := o.calls.Load(k)
	if !ok {
		opt, _ = o.calls.LoadOrStore(k, metric.WithAttributeSet(attribute.NewSet(o.callAttrs(c)...)))
	}
	o.duration.Record(ctx, c.Latency.Seconds(), opt.(metric.MeasurementOption))
}

// callAttrs returns the attributes of a store call's measurement.
func (o *recorder) callAttrs(c migration.StoreCall) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, AttrOperationName.String(c.Op), AttrSide.String(string(c.Side)), AttrRole.String(string(c.Role)))
	if sys := o.system(c.Side); sys != "" {
		attrs = append(attrs, AttrSystemName.String(sys))
	}
	if c.Outcome != migration.OutcomeOK {
		attrs = append(attrs, AttrErrorType.String(string(c.Outcome)))
	}
	return o.withAccount(attrs, c.AccountID)
}

// Compared counts the comparison in flagmigrate.comparisons.
func (o *recorder) Compared(ctx context.Context, c migration.Comparison) {
	attrs := o.withAccount([]attribute.KeyValue{AttrOperationName.String(c.Op), AttrVerdict.String(string(c.Verdict)),
		AttrShadow.Bool(c.Shadow), AttrRechecked.Bool(c.Rechecked)}, c.AccountID)
	o.compared.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// ShadowDropped counts the dropped read in flagmigrate.shadow.dropped.
func (o *recorder) ShadowDropped(ctx context.Context, op string, reason migration.DropReason) {
	o.dropped.Add(ctx, 1, metric.WithAttributes(AttrOperationName.String(op), AttrDropReason.String(string(reason))))
}

// DangerousRouting counts the report in flagmigrate.routing.dangerous.
func (o *recorder) DangerousRouting(ctx context.Context, accountID string, f migration.FlagState) {
	attrs := o.withAccount([]attribute.KeyValue{AttrDanger.String(string(f.Danger()))}, accountID)
	o.dangerous.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// RepairRecorded counts the entry in flagmigrate.repair.recorded, with
// flagmigrate.repair.failed true when the repair log could not record it.
func (o *recorder) RepairRecorded(ctx context.Context, e migration.RepairEntry, err error) {
	attrs := o.withAccount([]attribute.KeyValue{AttrOperationName.String(e.Op), AttrRepairTarget.String(string(e.Target)),
		AttrRepairOrphan.Bool(e.Orphan), AttrRepairFailed.Bool(err != nil)}, e.AccountID)
	o.repairs.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// RepairDropped counts the entry in flagmigrate.repair.dropped.
func (o *recorder) RepairDropped(ctx context.Context, e migration.RepairEntry) {
	attrs := o.withAccount([]attribute.KeyValue{AttrOperationName.String(e.Op), AttrRepairTarget.String(string(e.Target))}, e.AccountID)
	o.repairDrop.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// FlagFailed counts the failure in flagmigrate.flag.failures, by flag key
// (a migration has a few flags, so the key is a bounded attribute).
func (o *recorder) FlagFailed(ctx context.Context, key, accountID string, _ error) {
	attrs := o.withAccount([]attribute.KeyValue{AttrFlagKey.String(key)}, accountID)
	o.flagFails.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// StoreStateChanged counts the change in flagmigrate.store.state_changes,
// with flagmigrate.store.state "down" or "up".
func (o *recorder) StoreStateChanged(ctx context.Context, s migration.StoreState) {
	state := "up"
	if s.Down {
		state = "down"
	}
	attrs := []attribute.KeyValue{AttrSide.String(string(s.Side)), AttrStoreState.String(state)}
	if sys := o.system(s.Side); sys != "" {
		attrs = append(attrs, AttrSystemName.String(sys))
	}
	o.stateChg.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// BrakeChanged counts the change in flagmigrate.brake.changes, with
// flagmigrate.brake.change "tripped", "cannot_help" or "released" (and
// then flagmigrate.brake.release_cause).
func (o *recorder) BrakeChanged(ctx context.Context, c migration.BrakeState) {
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, AttrBrakeReason.String(string(c.Reason)))
	switch {
	case c.Released != "":
		attrs = append(attrs, AttrBrakeChange.String("released"), AttrBrakeReleaseCause.String(string(c.Released)))
	case c.CannotHelp:
		attrs = append(attrs, AttrBrakeChange.String("cannot_help"))
	default:
		attrs = append(attrs, AttrBrakeChange.String("tripped"))
	}
	attrs = o.withAccount(attrs, c.AccountID)
	o.brakes.Add(ctx, 1, metric.WithAttributes(attrs...))
}
