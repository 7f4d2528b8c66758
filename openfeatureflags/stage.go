package openfeatureflags

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldmigration"
	"github.com/launchdarkly/go-sdk-common/v3/ldreason"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	"github.com/launchdarkly/go-server-sdk-evaluation/v3/ldmodel"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/interfaces"
	"github.com/open-feature/go-sdk/openfeature"
)

// ErrUnknownStage is returned, with the default stage, when a stage flag's
// string names no stage.
var ErrUnknownStage = errors.New("openfeatureflags: unknown migration stage")

// MetadataCheckRatio is the flag metadata key of a stage flag's check
// ratio: an integer n makes consistency measured in 1 of n operations (0:
// never). Without it, consistency is always measured.
const MetadataCheckRatio = "checkRatio"

// Tracking event names, sent by [Client.TrackMigrationOp]. Every event has
// the attributes "flag" (the stage flag's key), "op" ("read" or "write")
// and "stage" (the stage evaluated); latency and error events also have
// "origin" ("old" or "new").
const (
	// EventLatency: one per invoked store, valued at its latency in whole
	// milliseconds (the resolution of LaunchDarkly's tracker, which
	// measures the operation: a faster call is 0).
	EventLatency = "flagmigrate.migration.latency"
	// EventError: one per store that failed, valued 1.
	EventError = "flagmigrate.migration.error"
	// EventConsistency: one per comparison of the two stores' reads,
	// valued 1 when they agreed and 0 when not, with the attribute
	// "samplingRatio" (consistency is measured in 1 of that many
	// operations).
	EventConsistency = "flagmigrate.migration.consistency"
)

// MigrationVariationCtx implements [flagmigrate.StageFlagClient] as
// LaunchDarkly's client does: it evaluates the string flag key for the
// account of evalContext and returns the stage it names. It returns
// defaultStage without an error when OpenFeature cannot evaluate the flag
// (it is missing, not a string, or the provider fails), and defaultStage
// with an error wrapping [ErrUnknownStage] when the string names no stage.
// The tracker carries the evaluation's outcome (an error reason in each of
// those cases) and the check ratio of the flag's [MetadataCheckRatio].
func (c *Client) MigrationVariationCtx(ctx context.Context, key string, evalContext ldcontext.Context, defaultStage ldmigration.Stage) (ldmigration.Stage, interfaces.LDMigrationOpTracker, error) {
	ec := EvaluationContext(evalContext)
	def := ldvalue.String(string(defaultStage))
	d, err := c.of.StringValueDetails(ctx, key, string(defaultStage), ec)
	stage := defaultStage
	var detail ldreason.EvaluationDetail
	var stageErr error
	if err != nil {
		detail = ldreason.NewEvaluationDetailForError(errorKind(d.ErrorCode), def)
	} else if s, perr := ldmigration.ParseStage(d.Value); perr != nil {
		stageErr = fmt.Errorf("%w: flag %q holds %q (%v); returning default stage %s", ErrUnknownStage, key, d.Value, perr, defaultStage)
		detail = ldreason.NewEvaluationDetailForError(ldreason.EvalErrorWrongType, def)
	} else {
		stage = s
		detail = ldreason.EvaluationDetail{Value: ldvalue.String(d.Value), Reason: reason(d.Reason)}
	}
	var model *ldmodel.FeatureFlag
	if ratio, merr := d.FlagMetadata.GetInt(MetadataCheckRatio); merr == nil {
		model = &ldmodel.FeatureFlag{Key: key, Migration: &ldmodel.MigrationFlagParameters{CheckRatio: ldvalue.NewOptionalInt(int(ratio))}}
	}
	t := &opTracker{
		MigrationOpTracker: ldclient.NewMigrationOpTracker(key, model, evalContext, detail, defaultStage),
		client:             c,
		evalCtx:            ec,
	}
	return stage, t, stageErr
}

func errorKind(code openfeature.ErrorCode) ldreason.EvalErrorKind {
	switch code {
	case openfeature.FlagNotFoundCode:
		return ldreason.EvalErrorFlagNotFound
	case openfeature.TypeMismatchCode:
		return ldreason.EvalErrorWrongType
	case openfeature.ProviderNotReadyCode:
		return ldreason.EvalErrorClientNotReady
	case openfeature.ParseErrorCode:
		return ldreason.EvalErrorMalformedFlag
	}
	return ldreason.EvalErrorException
}

func reason(r openfeature.Reason) ldreason.EvaluationReason {
	switch r {
	case openfeature.TargetingMatchReason:
		return ldreason.NewEvalReasonTargetMatch()
	case openfeature.DisabledReason:
		return ldreason.NewEvalReasonOff()
	}
	return ldreason.NewEvalReasonFallthrough()
}

// opTracker is LaunchDarkly's tracker, remembering the evaluation context
// of the operation so that TrackMigrationOp sends its events for the same
// account.
type opTracker struct {
	*ldclient.MigrationOpTracker
	client  *Client
	evalCtx openfeature.EvaluationContext
}

var _ interfaces.LDMigrationOpTracker = (*opTracker)(nil)

// Build implements [interfaces.LDMigrationOpTracker].
func (t *opTracker) Build() (*ldevents.MigrationOpEventData, error) {
	ev, err := t.MigrationOpTracker.Build()
	if err == nil {
		t.client.pending.put(ev.Invoked, t.evalCtx)
	}
	return ev, err
}

// TrackMigrationOp implements [flagmigrate.StageFlagClient]: it sends the
// operation's measurements as OpenFeature tracking events (see
// [EventLatency], [EventError] and [EventConsistency]) for the account the
// stage was evaluated for. An event built by another tracker is sent
// without a targeting key. It never fails. The events are sent with a
// background context: the [flagmigrate.StageFlagClient] method has none.
func (c *Client) TrackMigrationOp(event ldevents.MigrationOpEventData) error {
	ctx := context.Background()
	ec, ok := c.pending.take(event.Invoked)
	if !ok {
		ec = openfeature.NewTargetlessEvaluationContext(nil)
	}
	base := func(v float64) openfeature.TrackingEventDetails {
		return openfeature.NewTrackingEventDetails(v).
			Add("flag", event.FlagKey).
			Add("op", string(event.Op)).
			Add("stage", event.Evaluation.Value.StringValue())
	}
	for _, o := range []ldmigration.Origin{ldmigration.Old, ldmigration.New} {
		if _, invoked := event.Invoked[o]; !invoked {
			continue
		}
		if ms, has := event.Latency[o]; has {
			c.of.Track(ctx, EventLatency, ec, base(float64(ms)).Add("origin", string(o)))
		}
		if _, failed := event.Error[o]; failed {
			c.of.Track(ctx, EventError, ec, base(1).Add("origin", string(o)))
		}
	}
	if cc := event.ConsistencyCheck; cc != nil {
		v := 0.0
		if cc.Consistent() {
			v = 1
		}
		c.of.Track(ctx, EventConsistency, ec, base(v).Add("samplingRatio", cc.SamplingRatio()))
	}
	return nil
}

// maxPending bounds the evaluation contexts kept for operations built and
// not yet tracked.
const maxPending = 1 << 14

// pendingOps maps a built event (by the identity of its Invoked map, which
// copies of the event share) to its evaluation context.
type pendingOps struct {
	mu sync.Mutex
	m  map[unsafe.Pointer]openfeature.EvaluationContext
}

func mapID(m map[ldmigration.Origin]struct{}) unsafe.Pointer {
	return reflect.ValueOf(m).UnsafePointer()
}

func (p *pendingOps) put(invoked map[ldmigration.Origin]struct{}, ec openfeature.EvaluationContext) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxPending {
		p.m = map[unsafe.Pointer]openfeature.EvaluationContext{}
	}
	p.m[mapID(invoked)] = ec
}

func (p *pendingOps) take(invoked map[ldmigration.Origin]struct{}) (openfeature.EvaluationContext, bool) {
	if invoked == nil {
		return openfeature.EvaluationContext{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id := mapID(invoked)
	ec, ok := p.m[id]
	delete(p.m, id)
	return ec, ok
}
