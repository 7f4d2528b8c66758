package openfeatureflags

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/open-feature/go-sdk/openfeature"
)

// ErrUnknownStage is returned, with [migration.StageOff], when a stage
// flag's string names no stage.
var ErrUnknownStage = errors.New("openfeatureflags: unknown migration stage")

// MetadataCheckRatio is the flag metadata key of a stage flag's check
// ratio: an integer n makes consistency measured in 1 of n operations, at
// random (0: never). Without it, consistency is always measured.
const MetadataCheckRatio = "checkRatio"

// Tracking event names, sent when an operation routed by a stage flag
// finishes. Every event has the attributes "flag" (the stage flag's key),
// "op" ("read" or "write") and "stage" (the stage evaluated); latency and
// error events also have "origin" ("old" or "new").
const (
	// EventLatency: one per invoked store, valued at its latency in whole
	// milliseconds (as LaunchDarkly measures it: a faster call is 0).
	EventLatency = "flagmigrate.migration.latency"
	// EventError: one per store that failed, valued 1.
	EventError = "flagmigrate.migration.error"
	// EventConsistency: one per comparison of the two stores' reads,
	// valued 1 when they agreed and 0 when not, with the attribute
	// "samplingRatio" (consistency is measured in 1 of that many
	// operations).
	EventConsistency = "flagmigrate.migration.consistency"
)

// StageFlag implements [flagmigrate.StageFlagClient] as LaunchDarkly's
// client does: it evaluates the string flag key for the account and returns
// the stage it names. It returns [migration.StageOff] without an error
// when OpenFeature cannot evaluate the flag (it is missing, not a string,
// or the provider fails), and StageOff with an error wrapping
// [ErrUnknownStage] when the string names no stage. The tracker sends the
// operation's measurements with OpenFeature's tracking API (see
// [EventLatency], [EventError] and [EventConsistency]) for the same
// evaluation context, consistency sampled by the flag's
// [MetadataCheckRatio].
func (c *Flags) StageFlag(ctx context.Context, key, accountID string, write bool) (migration.Stage, flagmigrate.StageTracker, error) {
	ec := c.evalContext(ctx, accountID)
	d, err := evaluate(ctx, c.timeout, key, func(ctx context.Context) (openfeature.StringEvaluationDetails, error) {
		return c.of.StringValueDetails(ctx, key, string(migration.StageOff), ec)
	})
	stage := migration.StageOff
	var stageErr error
	if err != nil && d.ErrorCode != openfeature.FlagNotFoundCode && d.ErrorCode != openfeature.TypeMismatchCode {
		// A flag that is not there, or holds no string, routes as off
		// without an error, as a LaunchDarkly migration flag does; any
		// other failure (the provider's, a timeout, a panic) is reported.
		stageErr = newEvalError(key, d.ErrorCode, err)
	}
	if err == nil {
		if s, ok := parseStage(d.Value); ok {
			stage = s
		} else {
			stageErr = fmt.Errorf("%w: flag %q holds %q; routing as %s", ErrUnknownStage, key, d.Value, migration.StageOff)
		}
	}
	ratio := 1
	if r, merr := d.FlagMetadata.GetInt(MetadataCheckRatio); merr == nil {
		ratio = int(max(r, 0))
	}
	op := "read"
	if write {
		op = "write"
	}
	t := &tracker{of: c.of, evalCtx: ec, key: key, op: op, stage: stage, ratio: ratio}
	return stage, t, stageErr
}

func parseStage(s string) (migration.Stage, bool) {
	switch st := migration.Stage(s); st {
	case migration.StageOff, migration.StageDualWrite, migration.StageShadow,
		migration.StageLive, migration.StageRampDown, migration.StageComplete:
		return st, true
	}
	return "", false
}

// tracker is the [flagmigrate.StageTracker].
type tracker struct {
	of      Evaluator
	evalCtx openfeature.EvaluationContext
	key     string
	op      string
	stage   migration.Stage
	ratio   int // check ratio

	mu         sync.Mutex
	sides      [2]side // old, new
	consistent *bool
}

type side struct {
	invoked, failed bool
	latency         time.Duration
}

// Measure implements [flagmigrate.StageTracker].
func (t *tracker) Measure(s migration.Side, latency time.Duration, failed bool) {
	if s != migration.SideOld && s != migration.SideNew {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	m := &t.sides[0]
	if s == migration.SideNew {
		m = &t.sides[1]
	}
	m.invoked, m.latency = true, latency
	m.failed = m.failed || failed
}

// Consistency implements [flagmigrate.StageTracker], sampled by the
// flag's check ratio.
func (t *tracker) Consistency(consistent func() bool) {
	if t.ratio <= 0 || t.ratio > 1 && rand.N(t.ratio) != 0 {
		return
	}
	ok := consistent()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.consistent = &ok
}

// Finish implements [flagmigrate.StageTracker]: it sends the tracking
// events. It never fails.
func (t *tracker) Finish(ctx context.Context) error {
	t.mu.Lock()
	sides, consistent := t.sides, t.consistent
	t.mu.Unlock()
	base := func(v float64) openfeature.TrackingEventDetails {
		return openfeature.NewTrackingEventDetails(v).
			Add("flag", t.key).
			Add("op", t.op).
			Add("stage", string(t.stage))
	}
	for i, side := range [2]migration.Side{migration.SideOld, migration.SideNew} {
		s := sides[i]
		if !s.invoked {
			continue
		}
		origin := string(side)
		t.of.Track(ctx, EventLatency, t.evalCtx, base(float64(s.latency.Milliseconds())).Add("origin", origin))
		if s.failed {
			t.of.Track(ctx, EventError, t.evalCtx, base(1).Add("origin", origin))
		}
	}
	if consistent != nil {
		v := 0.0
		if *consistent {
			v = 1
		}
		t.of.Track(ctx, EventConsistency, t.evalCtx, base(v).Add("samplingRatio", t.ratio))
	}
	return nil
}
